/*
 * store/backup_pack.c - pack files in backups (docs/storage.md "Packs").
 *
 * BackupEngine copies the database only, so a backup copies the pool's
 * packs itself, in pieces shared between backups like BackupEngine's
 * tables: DEST/poolfs/packs/NNNNNNNN.OFF.LEN.CRC.piece holds bytes
 * [OFF, OFF+LEN) of pack N (CRC-32C in hex). A backup's part lists what
 * it needs in DEST/poolfs/ID/packs/MANIFEST, a line
 * "NNNNNNNN.pack OFF LEN CRC32C" per piece, each pack's pieces in order
 * from offset 0. Lines "NNNNNNNN.pack SIZE CRC32C" (three fields) name
 * a whole copy NNNNNNNN.SIZE.CRC.pack, as backups made before pieces
 * did: read the same way, a piece at offset 0.
 *
 * A pack is only ever appended to, so bytes once copied never change:
 * a pack that an earlier backup (any MANIFEST in DEST) covers up to
 * SIZE bytes reuses those pieces and copies only [SIZE, now) as a new
 * piece; nothing before SIZE is read but two 4 KiB samples, which catch
 * a pack that is not the one copied (another pool's, a number reused).
 * Damage in DEST is verify's to find: restore and verify check every
 * piece against its CRC and name the one that differs. Prune deletes
 * the pieces no MANIFEST lists.
 *
 * Packs are copied after the checkpoint: every byte a locator in the
 * checkpoint names was appended (and synced) before the commit that made
 * it count, so a file as it is later holds all of them; what it holds
 * beyond is garbage nothing in the backup names.
 */
#include "common/alloc.h"
#include "common/error.h"
#include "store/internal.h"
#include "store/pack.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

#define COPY_BUF	(1u << 20)
#define SAMPLE		4096u
#define MANIFEST_MAX	(16 << 20)

struct piece {
	uint32_t n;			/* pack number */
	uint64_t off, len;
	uint32_t crc;
	bool whole;			/* a three-field line: NNNNNNNN.LEN.CRC.pack */
};

struct pieces {
	struct piece *v;
	size_t n, alloc;
};

static void pieces_add(struct pieces *p, const struct piece *x)
{
	ALLOC_GROW(p->v, p->n + 1, p->alloc);
	p->v[p->n++] = *x;
}

static void pieces_release(struct pieces *p)
{
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* The shared copy's path (meta being DEST/poolfs) or, with meta NULL, its name. */
static void piece_name(struct strbuf *out, const char *meta, const struct piece *x)
{
	strbuf_reset(out);
	if (meta)
		strbuf_addf(out, "%s/packs/", meta);
	if (x->whole)
		strbuf_addf(out, "%08" PRIu32 ".%" PRIu64 ".%08" PRIx32 ".pack", x->n, x->len,
			    x->crc);
	else
		strbuf_addf(out, "%08" PRIu32 ".%" PRIu64 ".%" PRIu64 ".%08" PRIx32 ".piece", x->n,
			    x->off, x->len, x->crc);
}

/*
 * Copies len bytes at off of fd in into the new file dst (synced), with
 * their CRC-32C in *crc. -errno; -EIO when in is shorter.
 */
static int copy_range(int in, uint64_t off, uint64_t len, const char *dst, uint32_t *crc)
{
	uint8_t *buf = xmalloc(COPY_BUF);
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), ret = 0;
	uint64_t done = 0;

	*crc = 0;
	if (out < 0) {
		ret = -errno;
		goto out;
	}
	while (!ret && done < len) {
		size_t n = len - done < COPY_BUF ? (size_t)(len - done) : COPY_BUF;

		ret = store_pread_full(in, buf, n, off + done);
		if (!ret)
			ret = store_pwrite_full(out, buf, n, done);
		if (!ret)
			*crc = pack_crc32c(buf, n, *crc);
		done += n;
	}
	if (!ret && fsync(out))
		ret = -errno;
out:
	if (out >= 0 && close(out) && !ret)
		ret = -errno;
	free(buf);
	return ret;
}

static int write_manifest(const char *dir, const struct strbuf *m)
{
	struct strbuf path = STRBUF_INIT;
	int fd, ret;

	strbuf_addf(&path, "%s/MANIFEST", dir);
	fd = open(path.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = store_pwrite_full(fd, (const uint8_t *)m->buf, m->len, 0);
	if (!ret && fsync(fd))
		ret = -errno;
	close(fd);
out:
	strbuf_release(&path);
	return ret;
}

static int read_manifest(const char *path, struct strbuf *out)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		ret = -errno;
	else if (st.st_size > MANIFEST_MAX)
		ret = -EFBIG;
	if (!ret) {
		strbuf_grow(out, (size_t)st.st_size);
		ret = store_pread_full(fd, (uint8_t *)out->buf, (size_t)st.st_size, 0);
		if (!ret)
			strbuf_setlen(out, (size_t)st.st_size);
	}
	close(fd);
	return ret;
}

/* A decimal number ending at sep at *p; advances *p past sep. */
static bool parse_num(const char **p, char sep, uint64_t *v)
{
	char *end;

	if (**p < '0' || **p > '9')
		return false;
	errno = 0;
	*v = strtoull(*p, &end, 10);
	if (errno || *end != sep)
		return false;
	*p = end + 1;
	return true;
}

/*
 * One line at *p: "NAME OFF LEN CRC" (a piece) or "NAME SIZE CRC" (a
 * whole copy); advances *p. false when malformed.
 */
static bool parse_line(const char **p, const char *end, struct piece *x)
{
	const char *q = *p, *nl = memchr(q, '\n', (size_t)(end - q));
	uint64_t a, b, c;
	char name[14];

	if (!nl || nl - q < 15 || q[13] != ' ')
		return false;
	memcpy(name, q, 13);
	name[13] = '\0';
	x->n = pack_file_number(name);
	if (!x->n)
		return false;
	q += 14;
	if (!parse_num(&q, ' ', &a))
		return false;
	memset(&c, 0, sizeof(c));
	if (memchr(q, ' ', (size_t)(nl - q))) {
		if (!parse_num(&q, ' ', &b) || !parse_num(&q, '\n', &c))
			return false;
		x->whole = false;
		x->off = a;
		x->len = b;
	} else {
		if (!parse_num(&q, '\n', &c))
			return false;
		x->whole = true;
		x->off = 0;
		x->len = a;
	}
	if (c > UINT32_MAX || x->off + x->len < x->off)
		return false;
	x->crc = (uint32_t)c;
	*p = q;
	return true;
}

/*
 * The pieces a MANIFEST lists, checked to be each pack's bytes in order
 * from 0 (packs in ascending order): -EBADMSG when not.
 */
static int parse_manifest(const struct strbuf *m, struct pieces *out)
{
	const char *p = m->buf, *end = m->buf + m->len;
	struct piece x, *last;

	while (p < end) {
		if (!parse_line(&p, end, &x))
			return -EBADMSG;
		last = out->n ? &out->v[out->n - 1] : NULL;
		if (last && last->n == x.n ? x.off != last->off + last->len :
		    x.off != 0 || (last && x.n < last->n))
			return -EBADMSG;
		pieces_add(out, &x);
	}
	return 0;
}

/* Reads path (dir/packs/MANIFEST) into out; 0 with nothing when it does not exist. */
static int manifest_pieces(const char *dir, struct pieces *out, struct strbuf *path)
{
	struct strbuf m = STRBUF_INIT;
	int ret;

	strbuf_reset(path);
	strbuf_addf(path, "%s/packs/MANIFEST", dir);
	ret = read_manifest(path->buf, &m);
	if (ret == -ENOENT || ret == -ENOTDIR)
		ret = 0;
	else if (!ret)
		ret = parse_manifest(&m, out);
	strbuf_release(&m);
	return ret;
}

/* ---- create ---- */

struct cur_pack {
	uint32_t n;
	uint64_t size;
};

static int cur_cmp(const void *a, const void *b)
{
	const struct cur_pack *x = a, *y = b;

	return x->n < y->n ? -1 : x->n > y->n;
}

/* Every pack of dir "packs" with its size now, by number. */
static int list_packs(const char *packs, struct cur_pack **out, size_t *cnt, struct perr *e)
{
	struct strbuf path = STRBUF_INIT;
	struct cur_pack *v = NULL;
	size_t n = 0, alloc = 0;
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(packs);
	int ret = 0;

	*out = NULL;
	*cnt = 0;
	if (!d)
		return errno == ENOENT ? 0 : perr_set(e, errno, "%s: %s", packs, strerror(errno));
	while ((de = readdir(d))) {
		uint32_t num = pack_file_number(de->d_name);

		if (!num)
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", packs, de->d_name);
		/* the size now covers every byte the checkpoint names (see above) */
		if (stat(path.buf, &st)) {
			ret = perr_set(e, errno, "%s: %s", path.buf, strerror(errno));
			break;
		}
		ALLOC_GROW(v, n + 1, alloc);
		v[n].n = num;
		v[n].size = (uint64_t)st.st_size;
		n++;
	}
	closedir(d);
	strbuf_release(&path);
	if (ret) {
		free(v);
		return ret;
	}
	if (n)
		qsort(v, n, sizeof(*v), cur_cmp);
	*out = v;
	*cnt = n;
	return 0;
}

/* Every backup's pieces (and a pending one's: a later create may still name them). */
static int earlier_pieces(const char *meta, struct pieces *all)
{
	struct strbuf path = STRBUF_INIT, mpath = STRBUF_INIT;
	struct dirent *de;
	DIR *d = opendir(meta);
	int ret = 0;

	if (!d)
		return -errno;
	while (!ret && (de = readdir(d))) {
		struct pieces one = { 0 };

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "packs"))
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", meta, de->d_name);
		/* a damaged list is only not reused: verify and restore report it */
		if (!manifest_pieces(path.buf, &one, &mpath))
			for (size_t i = 0; i < one.n; i++)
				pieces_add(all, &one.v[i]);
		pieces_release(&one);
	}
	closedir(d);
	strbuf_release(&path);
	strbuf_release(&mpath);
	return ret;
}

/*
 * The longest run of shared pieces covering pack n from 0 up to at most
 * size, each there with its length: its first and count into *first,
 * *cnt, the bytes covered returned (0: none).
 */
static uint64_t best_run(const char *meta, const struct pieces *all, uint32_t n, uint64_t size,
			 size_t *first, size_t *cnt)
{
	struct strbuf path = STRBUF_INIT;
	uint64_t best = 0;
	struct stat st;

	*cnt = 0;
	for (size_t i = 0; i < all->n; i++) {
		const struct piece *x = &all->v[i];
		uint64_t end = 0;
		size_t j;

		/* runs start at offset 0; parse_manifest keeps them contiguous */
		if (x->n != n || x->off != 0)
			continue;
		for (j = i; j < all->n && all->v[j].n == n && (j == i || all->v[j].off); j++) {
			if (all->v[j].off + all->v[j].len > size)
				break;
			piece_name(&path, meta, &all->v[j]);
			if (stat(path.buf, &st) || (uint64_t)st.st_size != all->v[j].len)
				break;
			end = all->v[j].off + all->v[j].len;
			if (end > best) {
				best = end;
				*first = i;
				*cnt = j - i + 1;
			}
		}
	}
	strbuf_release(&path);
	return best;
}

/* Whether len bytes at off of the pack (fd) equal those at poff of the piece file path. */
static bool same_bytes(int fd, uint64_t off, const char *path, uint64_t poff, size_t len)
{
	uint8_t a[SAMPLE], b[SAMPLE];
	int pfd = open(path, O_RDONLY | O_CLOEXEC);
	bool same;

	if (pfd < 0)
		return false;
	same = !store_pread_full(fd, a, len, off) && !store_pread_full(pfd, b, len, poff) &&
	       !memcmp(a, b, len);
	close(pfd);
	return same;
}

/*
 * Whether the run's bytes are still what pack fd begins with: its first
 * and its last SAMPLE bytes compared (a reused number or another pool's
 * pack under the same name differs there, records holding keyed ids).
 */
static bool run_matches(const char *meta, const struct piece *run, size_t cnt, int fd)
{
	struct strbuf path = STRBUF_INIT;
	const struct piece *f = &run[0], *l = &run[cnt - 1];
	size_t a = f->len < SAMPLE ? (size_t)f->len : SAMPLE;
	size_t z = l->len < SAMPLE ? (size_t)l->len : SAMPLE;
	bool ok;

	piece_name(&path, meta, f);
	ok = same_bytes(fd, 0, path.buf, 0, a);
	piece_name(&path, meta, l);
	ok = ok && same_bytes(fd, l->off + l->len - z, path.buf, l->len - z, z);
	strbuf_release(&path);
	return ok;
}

/* Bytes [off, off+len) of pack fd as a new shared piece (unless one of its name is there). */
static int new_piece(const char *meta, int fd, uint32_t n, uint64_t off, uint64_t len,
		     struct piece *x, uint64_t *copied)
{
	struct strbuf tmp = STRBUF_INIT, dst = STRBUF_INIT;
	struct stat st;
	int ret;

	strbuf_addf(&tmp, "%s/packs/%08" PRIu32 ".tmp", meta, n);
	unlink(tmp.buf);
	*x = (struct piece){ .n = n, .off = off, .len = len };
	ret = copy_range(fd, off, len, tmp.buf, &x->crc);
	if (ret)
		goto out;
	*copied += len;
	piece_name(&dst, meta, x);
	/* the same bytes from an attempt cut short: keep the one there */
	if (!stat(dst.buf, &st) && (uint64_t)st.st_size == len)
		unlink(tmp.buf);
	else if (rename(tmp.buf, dst.buf))
		ret = -errno;
out:
	if (ret)
		unlink(tmp.buf);
	strbuf_release(&tmp);
	strbuf_release(&dst);
	return ret;
}

static void manifest_line(struct strbuf *m, const struct piece *x)
{
	if (x->whole)
		strbuf_addf(m, "%08" PRIu32 ".pack %" PRIu64 " %" PRIu32 "\n", x->n, x->len, x->crc);
	else
		strbuf_addf(m, "%08" PRIu32 ".pack %" PRIu64 " %" PRIu64 " %" PRIu32 "\n", x->n,
			    x->off, x->len, x->crc);
}

int backup_packs_copy(struct store *s, const char *meta, const char *to, struct perr *e)
{
	struct strbuf from = STRBUF_INIT, dir = STRBUF_INIT, shared = STRBUF_INIT,
		      src = STRBUF_INIT, m = STRBUF_INIT;
	struct pieces all = { 0 };
	struct cur_pack *cur = NULL;
	uint64_t copied = 0;
	size_t ncur = 0;
	int ret;

	strbuf_addf(&from, "%s/packs", s->dir);
	strbuf_addf(&dir, "%s/packs", to);
	strbuf_addf(&shared, "%s/packs", meta);
	ret = list_packs(from.buf, &cur, &ncur, e);
	if (ret || !ncur)
		goto out;
	if (mkdir(dir.buf, 0700) || (mkdir(shared.buf, 0700) && errno != EEXIST)) {
		ret = perr_set(e, errno, "%s: %s", dir.buf, strerror(errno));
		goto out;
	}
	ret = earlier_pieces(meta, &all);
	if (ret) {
		ret = perr_set(e, -ret, "%s: %s", meta, strerror(-ret));
		goto out;
	}
	for (size_t i = 0; !ret && i < ncur; i++) {
		size_t first = 0, cnt = 0;
		uint64_t have = best_run(meta, &all, cur[i].n, cur[i].size, &first, &cnt);
		struct piece x;
		int fd;

		strbuf_reset(&src);
		strbuf_addf(&src, "%s/%08" PRIu32 ".pack", from.buf, cur[i].n);
		fd = open(src.buf, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			ret = perr_set(e, errno, "%s: %s", src.buf, strerror(errno));
			break;
		}
		if (have && !run_matches(meta, &all.v[first], cnt, fd))
			have = 0;
		if (have) {
			for (size_t j = 0; j < cnt; j++)
				manifest_line(&m, &all.v[first + j]);
		}
		/* a new pack, or the tail it grew by */
		if (!have || have < cur[i].size) {
			ret = new_piece(meta, fd, cur[i].n, have, cur[i].size - have, &x, &copied);
			if (!ret)
				manifest_line(&m, &x);
			else
				ret = perr_set(e, -ret, "%s: cannot copy to %s: %s", src.buf,
					       shared.buf, strerror(-ret));
		}
		close(fd);
	}
	if (!ret) {
		ret = store_fsync_path(shared.buf);
		if (!ret)
			ret = write_manifest(dir.buf, &m);
		if (!ret)
			ret = store_fsync_path(dir.buf);
		if (!ret)
			ret = store_fsync_path(to);
		if (ret)
			ret = perr_set(e, -ret, "%s: %s", dir.buf, strerror(-ret));
	}
	if (!ret)
		log_info("%s: packs: %zu, %" PRIu64 " bytes copied", to, ncur, copied);
out:
	free(cur);
	pieces_release(&all);
	strbuf_release(&from);
	strbuf_release(&dir);
	strbuf_release(&shared);
	strbuf_release(&src);
	strbuf_release(&m);
	return ret;
}

/* ---- restore and verify ---- */

/* Appends piece x (shared copy path) to fd at its offset, checking length and CRC. */
static int lay_piece(int fd, const char *path, const struct piece *x, struct perr *e)
{
	uint8_t *buf = NULL;
	uint32_t crc = 0;
	uint64_t done = 0;
	struct stat st;
	int in = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (in < 0 || fstat(in, &st) || (uint64_t)st.st_size != x->len) {
		ret = perr_set(e, EBADMSG, "%s: missing or not of its %" PRIu64 " bytes", path,
			       x->len);
		goto out;
	}
	buf = xmalloc(COPY_BUF);
	while (!ret && done < x->len) {
		size_t n = x->len - done < COPY_BUF ? (size_t)(x->len - done) : COPY_BUF;

		ret = store_pread_full(in, buf, n, done);
		if (!ret)
			ret = store_pwrite_full(fd, buf, n, x->off + done);
		if (!ret)
			crc = pack_crc32c(buf, n, crc);
		done += n;
	}
	if (ret)
		ret = perr_set(e, -ret, "%s: cannot copy: %s", path, strerror(-ret));
	else if (crc != x->crc)
		ret = perr_set(e, EBADMSG, "%s: damaged (its CRC-32C differs from the backup's "
			       "record)", path);
out:
	if (in >= 0)
		close(in);
	free(buf);
	return ret;
}

/* Syncs and closes *fd (path) when open. */
static int finish_file(int *fd, const struct strbuf *path, struct perr *e)
{
	int ret = 0;

	if (*fd < 0)
		return 0;
	if (fsync(*fd))
		ret = -errno;
	if (close(*fd) && !ret)
		ret = -errno;
	*fd = -1;
	return ret ? perr_set(e, -ret, "%s: %s", path->buf, strerror(-ret)) : 0;
}

int backup_packs_restore(const char *meta, uint32_t id, const char *dir, struct perr *e)
{
	struct strbuf path = STRBUF_INIT, src = STRBUF_INIT, dst = STRBUF_INIT,
		      packs = STRBUF_INIT, part = STRBUF_INIT;
	struct pieces all = { 0 };
	struct stat st;
	int fd = -1, ret;

	strbuf_addf(&part, "%s/%" PRIu32, meta, id);
	ret = manifest_pieces(part.buf, &all, &path);
	if (ret) {
		ret = perr_set(e, EBADMSG, "%s: %s", path.buf,
			       ret == -EBADMSG ? "a line is malformed or out of order" :
						 strerror(-ret));
		goto out;
	}
	if (!all.n) {
		/* a backup of a pool without packs, or from before them */
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/packs", part.buf);
		if (!lstat(path.buf, &st)) {
			strbuf_addstr(&path, "/MANIFEST");
			if (lstat(path.buf, &st))
				ret = perr_set(e, EBADMSG, "%s: pack files without a MANIFEST",
					       path.buf);
		}
		goto out;
	}
	strbuf_addf(&packs, "%s/packs", dir);
	if (mkdir(packs.buf, 0700)) {
		ret = perr_set(e, errno, "%s: %s", packs.buf, strerror(errno));
		goto out;
	}
	for (size_t i = 0; !ret && i < all.n; i++) {
		const struct piece *x = &all.v[i];

		if (!i || all.v[i - 1].n != x->n) {
			ret = finish_file(&fd, &dst, e);
			if (ret)
				break;
			strbuf_reset(&dst);
			strbuf_addf(&dst, "%s/%08" PRIu32 ".pack", packs.buf, x->n);
			fd = open(dst.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
			if (fd < 0) {
				ret = perr_set(e, errno, "%s: %s", dst.buf, strerror(errno));
				break;
			}
		}
		piece_name(&src, meta, x);
		ret = lay_piece(fd, src.buf, x, e);
	}
	if (ret)
		finish_file(&fd, &dst, NULL);
	else
		ret = finish_file(&fd, &dst, e);
	if (!ret && (store_fsync_path(packs.buf) || store_fsync_path(dir)))
		ret = perr_set(e, EIO, "%s: cannot sync", packs.buf);
out:
	pieces_release(&all);
	strbuf_release(&path);
	strbuf_release(&src);
	strbuf_release(&dst);
	strbuf_release(&packs);
	strbuf_release(&part);
	return ret;
}

/* ---- prune ---- */

int backup_packs_sweep(const char *meta, struct perr *e)
{
	struct strbuf keep = STRBUF_INIT, path = STRBUF_INIT, want = STRBUF_INIT,
		      name = STRBUF_INIT;
	struct dirent *de;
	DIR *d = NULL;
	int ret = 0;

	/* every backup's part, and pending: what a later create may still name */
	d = opendir(meta);
	if (!d) {
		ret = perr_set(e, errno, "%s: %s", meta, strerror(errno));
		goto out;
	}
	strbuf_addstr(&keep, "/");
	while (!ret && (de = readdir(d))) {
		struct pieces one = { 0 };

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "packs"))
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", meta, de->d_name);
		/* a damaged list: keep everything rather than lose what it names */
		ret = manifest_pieces(path.buf, &one, &want);
		for (size_t i = 0; !ret && i < one.n; i++) {
			piece_name(&name, NULL, &one.v[i]);
			strbuf_addf(&keep, "%s/", name.buf);
		}
		pieces_release(&one);
	}
	closedir(d);
	d = NULL;
	if (ret) {
		ret = perr_set(e, -ret, "%s: a pack MANIFEST is unreadable; no pack copy removed",
			       meta);
		goto out;
	}
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/packs", meta);
	d = opendir(path.buf);
	if (!d)
		goto out;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		strbuf_reset(&want);
		strbuf_addf(&want, "/%s/", de->d_name);
		if (strstr(keep.buf, want.buf))
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/packs/%s", meta, de->d_name);
		if (unlink(path.buf) && errno != ENOENT) {
			ret = perr_set(e, errno, "%s: %s", path.buf, strerror(errno));
			break;
		}
	}
out:
	if (d)
		closedir(d);
	strbuf_release(&keep);
	strbuf_release(&path);
	strbuf_release(&want);
	strbuf_release(&name);
	return ret;
}
