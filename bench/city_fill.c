/*
 * bench/city_fill.c - fills a pool store-side for bench/city.sh: the pool
 * a daemon would hold after a writer made the same tree in an allow_all
 * mount. Per directory a node and its "mkdir" record; per file a node
 * and its "create" record, version 1 of its bytes committed with its
 * "write" record, and the "release" record of the handle that wrote it:
 * the store calls and records fs/ops_dir.c, fs/stage.c and
 * fs/ops_file.c make.
 *
 * Through the mount a million files took 21 minutes of FUSE round trips
 * (bench/RESULTS.md "City"). Here each file costs its store writes; run
 * it with fsync stubbed (LD_PRELOAD, as city.sh does) and sync after:
 * the fill is set-up, not a figure, and one sync at its end makes the
 * whole pool durable. The release records go in groups of RELEASE_GROUP
 * (one journal write each; audit_append_many), after the commits they
 * follow, as the daemon's journal groups records that arrive together.
 *
 *   city_gen.py fill NATIVE DIRS FILES 0 1 tee | city_fill STORE
 *
 * reads the tree from stdin as `city_gen.py fill ... tee` writes it while
 * it fills the native tree (so both are written once, at the same time,
 * and the native files are never read back): "d MODE 0 PATH\n" makes
 * directory PATH and its missing parents, "f MODE LEN PATH\n" and LEN
 * bytes the file PATH in a directory made before; MODE is octal, PATH
 * absolute in the pool, owner the caller's. STORE is made by poolctl
 * init beforehand. Prints the counts and rate to stderr; exits 1 on any
 * error, naming the record.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/strbuf.h"
#include "store/audit.h"
#include "store/store.h"

#define RELEASE_GROUP	256
#define FILE_MAX	(1u << 20)	/* the city's files are ~300 bytes */

static const char COMM[] = "city_fill";
static const char REASON[] = "allow-all policy";

struct fill {
	struct store *s;
	char *buf;
	uint64_t dirs, files, bytes;
	double t0;
	/* release records waiting for their group; paths owned */
	struct audit_rec rel[RELEASE_GROUP];
	char *relpath[RELEASE_GROUP];
	size_t nrel;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The record an allow_all mount writes for op on path by the writer of st. */
static void rec(struct audit_rec *r, const char *op, const char *path, const struct stat *st)
{
	memset(r, 0, sizeof(*r));
	r->uid = st->st_uid;
	r->gid = st->st_gid;
	r->pid = (uint32_t)getpid();
	r->comm = COMM;
	r->op = op;
	r->path = path;
	r->view = "raw";
	r->reason = REASON;
}

static int flush_releases(struct fill *f)
{
	size_t done = 0;
	int ret = f->nrel ? audit_append_many(f->s, f->rel, f->nrel, &done) : 0;

	for (size_t i = 0; i < f->nrel; i++)
		free(f->relpath[i]);
	f->nrel = 0;
	return ret;
}

static int copy_file(struct fill *f, uint64_t parent, const char *name, size_t len,
		     const char *path, const struct stat *st)
{
	struct store_writer w = { st->st_uid, st->st_gid, (uint32_t)getpid(), NULL, NULL };
	struct store_stage *stage = NULL;
	struct store_attr a;
	struct audit_rec r;
	uint64_t version;
	int ret;

	rec(&r, "create", path, st);
	ret = store_mknode(f->s, parent, name, STORE_REG, st->st_mode & 07777, st->st_uid,
			   st->st_gid, NULL, &a, &r);
	if (ret < 0)
		return ret;
	if (len) {
		ret = store_stage_open(f->s, a.ino, &stage);
		if (!ret)
			ret = store_stage_write(stage, f->buf, len, 0);
		rec(&r, "write", path, st);
		r.version = 1;
		r.bytes = len;
		if (!ret)
			ret = store_stage_commit(stage, &w, &r, &version);
		if (stage)
			store_stage_close(stage);
		if (ret < 0)
			return ret;
	}
	rec(&f->rel[f->nrel], "release", NULL, st);
	f->relpath[f->nrel] = xstrdup(path);
	f->rel[f->nrel].path = f->relpath[f->nrel];
	f->rel[f->nrel].version = len ? 1 : 0;
	f->rel[f->nrel].bytes = len;
	f->nrel++;
	f->files++;
	f->bytes += len;
	if (f->files % 100000 == 0)
		fprintf(stderr, "city_fill: %" PRIu64 " files, %.0f/s\n", f->files,
			(double)f->files / (now() - f->t0));
	return f->nrel == RELEASE_GROUP ? flush_releases(f) : 0;
}

/*
 * The inode of directory path, made with its missing parents (mode) when
 * make; directories recently used are remembered (a few fill processes
 * write one directory each at a time).
 */
#define DIR_CACHE	8
struct dir_cache {
	char *path[DIR_CACHE];
	uint64_t ino[DIR_CACHE];
	unsigned next;
};

static int dir_ino(struct fill *f, struct dir_cache *c, const char *path, bool make,
		   uint32_t mode, uint64_t *ino)
{
	struct stat st = { .st_uid = getuid(), .st_gid = getgid() };
	struct strbuf sofar = STRBUF_INIT;
	const char *p = path;
	uint64_t cur = STORE_ROOT_INO;
	int ret = 0;

	for (unsigned i = 0; i < DIR_CACHE; i++) {
		if (c->path[i] && !strcmp(c->path[i], path)) {
			*ino = c->ino[i];
			return 0;
		}
	}
	if (path[0] != '/')
		return -EINVAL;
	while (!ret && *p) {
		const char *end;
		struct store_attr a;
		struct audit_rec r;

		while (*p == '/')
			p++;
		end = strchrnul(p, '/');
		if (end == p)
			break;
		strbuf_addch(&sofar, '/');
		strbuf_add(&sofar, p, (size_t)(end - p));
		ret = store_lookup(f->s, cur, sofar.buf + sofar.len - (size_t)(end - p), &a);
		if (ret == -ENOENT && make) {
			rec(&r, "mkdir", sofar.buf, &st);
			ret = store_mknode(f->s, cur, sofar.buf + sofar.len - (size_t)(end - p),
					   STORE_DIR, mode & 07777, st.st_uid, st.st_gid, NULL, &a,
					   &r);
			if (!ret)
				f->dirs++;
		}
		if (!ret && a.type != STORE_DIR)
			ret = -ENOTDIR;
		if (!ret)
			cur = a.ino;
		p = end;
	}
	strbuf_release(&sofar);
	if (ret < 0)
		return ret;
	free(c->path[c->next]);
	c->path[c->next] = xstrdup(path);
	c->ino[c->next] = cur;
	c->next = (c->next + 1) % DIR_CACHE;
	*ino = cur;
	return 0;
}

/* One record of the stream: 1 done, 0 at its end, or -errno. */
static int one_record(struct fill *f, struct dir_cache *c, FILE *in, char **line,
		      size_t *cap)
{
	struct stat st = { .st_uid = getuid(), .st_gid = getgid() };
	ssize_t n = getline(line, cap, in);
	char kind, *path, *slash;
	unsigned mode;
	size_t len;
	uint64_t dir;
	int at = 0, ret;

	if (n < 0)
		return feof(in) ? 0 : -EIO;
	if (n == 0 || (*line)[n - 1] != '\n')
		return -EINVAL;
	(*line)[n - 1] = 0;
	if (sscanf(*line, "%c %o %zu %n", &kind, &mode, &len, &at) != 3 || !at ||
	    (*line)[at] != '/' || mode > 07777 || len > FILE_MAX)
		return -EINVAL;
	path = *line + at;
	if (kind == 'd') {
		ret = len ? -EINVAL : dir_ino(f, c, path, true, mode, &dir);
		return ret < 0 ? ret : 1;
	}
	if (kind != 'f')
		return -EINVAL;
	if (fread(f->buf, 1, len, in) != len)
		return -EIO;
	slash = strrchr(path, '/');
	*slash = 0;
	ret = dir_ino(f, c, slash == path ? "/" : path, false, 0, &dir);
	*slash = '/';
	st.st_mode = mode;
	if (!ret)
		ret = copy_file(f, dir, slash + 1, len, path, &st);
	return ret < 0 ? ret : 1;
}

int main(int argc, char **argv)
{
	struct perr e = PERR_INIT;
	struct dir_cache c;
	struct fill f;
	char *line = NULL;
	size_t cap = 0;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: city_fill STORE < stream (bench/city_gen.py fill ... tee)\n");
		return 2;
	}
	memset(&f, 0, sizeof(f));
	memset(&c, 0, sizeof(c));
	ret = store_open(argv[1], 0, &f.s, &e);
	if (ret) {
		fprintf(stderr, "city_fill: %s\n", perr_msg(&e, -ret));
		return 1;
	}
	f.buf = xmalloc(FILE_MAX);
	f.t0 = now();
	while ((ret = one_record(&f, &c, stdin, &line, &cap)) > 0)
		;
	if (ret < 0)
		fprintf(stderr, "city_fill: record \"%s\": %s\n", line ? line : "",
			strerror(-ret));
	if (!ret)
		ret = flush_releases(&f);
	else
		flush_releases(&f);
	if (ret)
		fprintf(stderr, "city_fill: %s\n", strerror(-ret));
	else
		fprintf(stderr, "city_fill: %" PRIu64 " directories, %" PRIu64 " files, %" PRIu64
			" bytes in %.1f s\n", f.dirs, f.files, f.bytes, now() - f.t0);
	for (unsigned i = 0; i < DIR_CACHE; i++)
		free(c.path[i]);
	free(line);
	free(f.buf);
	store_close(f.s);
	return ret ? 1 : 0;
}
