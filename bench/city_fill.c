/*
 * bench/city_fill.c - fills a pool store-side with a copy of a native
 * tree, for bench/city.sh: the pool a daemon would hold after a writer
 * copied SRC into an allow_all mount. Per directory a node and its
 * "mkdir" record; per file a node and its "create" record, version 1 of
 * its bytes committed with its "write" record, and the "release" record
 * of the handle that wrote it: the store calls and records fs/ops_dir.c,
 * fs/stage.c and fs/ops_file.c make, in that order.
 *
 * Through the mount a million files took 21 minutes of FUSE round trips
 * (bench/RESULTS.md "City"). Here each file costs its store writes; run
 * it with fsync stubbed (LD_PRELOAD, as city.sh does) and sync after:
 * the fill is set-up, not a figure, and one sync at its end makes the
 * whole pool durable. The release records go in groups of RELEASE_GROUP
 * (one journal write each; audit_append_many), after the commits they
 * follow, as the daemon's journal groups records that arrive together.
 *
 *   city_fill STORE SRC
 *
 * STORE is made by poolctl init beforehand. Directories and files of
 * SRC are copied in name order with their mode, owner and bytes;
 * anything else (symlinks, devices) is refused. Prints the counts and
 * rate to stderr; exits 1 on any error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

static int read_all(const char *path, char *buf, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t off = 0;
	int ret = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, buf + off, max - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		off += (size_t)n;
		if (off == max) {
			ret = -EFBIG;
			break;
		}
	}
	close(fd);
	*len = off;
	return ret;
}

static int copy_file(struct fill *f, uint64_t parent, const char *name, const char *src,
		     const char *path, const struct stat *st)
{
	struct store_writer w = { st->st_uid, st->st_gid, (uint32_t)getpid(), NULL, NULL };
	struct store_stage *stage = NULL;
	struct store_attr a;
	struct audit_rec r;
	uint64_t version;
	size_t len = 0;
	int ret;

	ret = read_all(src, f->buf, FILE_MAX, &len);
	if (ret < 0)
		return ret;
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

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Copies the entries of directory src (pool path path, inode ino). */
static int copy_dir(struct fill *f, uint64_t ino, const char *src, const char *path)
{
	struct dirent **ents = NULL;
	int n = scandir(src, &ents, NULL, by_name), ret = 0;

	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		struct strbuf s = STRBUF_INIT, p = STRBUF_INIT;
		struct audit_rec r;
		struct store_attr a;
		struct stat st;

		if (ret < 0 || !strcmp(name, ".") || !strcmp(name, ".."))
			goto next;
		strbuf_addf(&s, "%s/%s", src, name);
		strbuf_addf(&p, "%s/%s", ino == STORE_ROOT_INO ? "" : path, name);
		if (lstat(s.buf, &st)) {
			ret = -errno;
		} else if (S_ISREG(st.st_mode)) {
			ret = copy_file(f, ino, name, s.buf, p.buf, &st);
		} else if (S_ISDIR(st.st_mode)) {
			rec(&r, "mkdir", p.buf, &st);
			ret = store_mknode(f->s, ino, name, STORE_DIR, st.st_mode & 07777,
					   st.st_uid, st.st_gid, NULL, &a, &r);
			if (!ret) {
				f->dirs++;
				ret = copy_dir(f, a.ino, s.buf, p.buf);
			}
		} else {
			ret = -EINVAL;
		}
		if (ret < 0)
			fprintf(stderr, "city_fill: %s: %s\n", s.buf, strerror(-ret));
		strbuf_release(&s);
		strbuf_release(&p);
next:
		free(ents[i]);
	}
	free(ents);
	return ret;
}

int main(int argc, char **argv)
{
	struct perr e = PERR_INIT;
	struct fill f;
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: city_fill STORE SRC\n");
		return 2;
	}
	memset(&f, 0, sizeof(f));
	ret = store_open(argv[1], 0, &f.s, &e);
	if (ret) {
		fprintf(stderr, "city_fill: %s\n", perr_msg(&e, -ret));
		return 1;
	}
	f.buf = xmalloc(FILE_MAX);
	f.t0 = now();
	ret = copy_dir(&f, STORE_ROOT_INO, argv[2], "/");
	if (!ret)
		ret = flush_releases(&f);
	else
		flush_releases(&f);
	if (ret)
		fprintf(stderr, "city_fill: %s\n", strerror(-ret));
	else
		fprintf(stderr, "city_fill: %" PRIu64 " directories, %" PRIu64 " files, %" PRIu64
			" bytes in %.1f s\n", f.dirs, f.files, f.bytes, now() - f.t0);
	free(f.buf);
	store_close(f.s);
	return ret ? 1 : 0;
}
