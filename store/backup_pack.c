/*
 * store/backup_pack.c - pack files in backups (docs/storage.md "Packs").
 *
 * BackupEngine copies the database only, so a backup copies the pool's
 * packs itself. Copies are shared between backups like BackupEngine's
 * tables: DEST/poolfs/packs/NNNNNNNN.SIZE.CRC.pack holds the first
 * SIZE bytes of pack N (CRC-32C in hex), and a backup's part lists the
 * copies it needs in DEST/poolfs/ID/packs/MANIFEST, a line
 * "NNNNNNNN.pack SIZE CRC32C" each. A pack is only ever appended to, so its first SIZE bytes never
 * change: a pack that has not grown since an earlier backup is read (for
 * its CRC) but not copied again; one that grew is copied whole under
 * its new size. Prune deletes the copies no MANIFEST lists.
 *
 * Packs are copied after the checkpoint: every byte a locator in the
 * checkpoint names was appended (and synced) before the commit that made
 * it count, so a file as it is later holds all of them; what it holds
 * beyond is garbage nothing in the backup names. Restore and verify lay
 * the packs out beside the database and check each against its line.
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

#define COPY_BUF	(1u << 20)

/*
 * Copies len bytes of src into the new file dst (synced; NULL: only
 * reads), with their CRC-32C in *crc. -errno; -EIO when src is shorter.
 */
static int copy_file(const char *src, const char *dst, uint64_t len, uint32_t *crc)
{
	uint8_t *buf = xmalloc(COPY_BUF);
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, ret = 0;
	uint64_t off = 0;

	*crc = 0;
	if (in < 0) {
		ret = -errno;
		goto out;
	}
	out = dst ? open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
	if (dst && out < 0) {
		ret = -errno;
		goto out;
	}
	while (!ret && off < len) {
		size_t n = len - off < COPY_BUF ? (size_t)(len - off) : COPY_BUF;

		ret = store_pread_full(in, buf, n, off);
		if (!ret && dst)
			ret = store_pwrite_full(out, buf, n, off);
		if (!ret)
			*crc = pack_crc32c(buf, n, *crc);
		off += n;
	}
	if (!ret && dst && fsync(out))
		ret = -errno;
out:
	if (in >= 0)
		close(in);
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

static void shared_name(struct strbuf *out, const char *meta, uint32_t n, uint64_t size,
			uint32_t crc)
{
	strbuf_reset(out);
	strbuf_addf(out, "%s/packs/%08" PRIu32 ".%" PRIu64 ".%08" PRIx32 ".pack", meta, n, size,
		    crc);
}

/*
 * The first size bytes of pack n (src) as a shared copy, named into dst,
 * their CRC in *crc: read once for the CRC, copied only when no copy of
 * that name is there yet.
 */
static int share_one(const char *meta, uint32_t n, const char *src, uint64_t size,
		     struct strbuf *dst, uint32_t *crc)
{
	struct strbuf tmp = STRBUF_INIT;
	struct stat st;
	uint32_t again;
	int ret = copy_file(src, NULL, size, crc);

	if (ret)
		goto out;
	shared_name(dst, meta, n, size, *crc);
	if (!stat(dst->buf, &st) && (uint64_t)st.st_size == size)
		goto out;
	strbuf_addf(&tmp, "%s.tmp", dst->buf);
	unlink(tmp.buf);
	ret = copy_file(src, tmp.buf, size, &again);
	/* a pack's first bytes never change: a difference is damage under us */
	if (!ret && again != *crc)
		ret = -EIO;
	if (!ret && rename(tmp.buf, dst->buf))
		ret = -errno;
	if (ret)
		unlink(tmp.buf);
out:
	strbuf_release(&tmp);
	return ret;
}

int backup_packs_copy(struct store *s, const char *meta, const char *to, struct perr *e)
{
	struct strbuf from = STRBUF_INIT, dir = STRBUF_INIT, shared = STRBUF_INIT,
		      src = STRBUF_INIT, dst = STRBUF_INIT, m = STRBUF_INIT;
	struct dirent *de;
	struct stat st;
	DIR *d = NULL;
	uint32_t crc, n;
	int ret = 0;

	strbuf_addf(&from, "%s/packs", s->dir);
	strbuf_addf(&dir, "%s/packs", to);
	strbuf_addf(&shared, "%s/packs", meta);
	d = opendir(from.buf);
	if (!d) {
		if (errno != ENOENT)
			ret = perr_set(e, errno, "%s: %s", from.buf, strerror(errno));
		goto out;
	}
	if (mkdir(dir.buf, 0700) || (mkdir(shared.buf, 0700) && errno != EEXIST)) {
		ret = perr_set(e, errno, "%s: %s", dir.buf, strerror(errno));
		goto out;
	}
	while (!ret && (de = readdir(d))) {
		n = pack_file_number(de->d_name);
		if (!n)
			continue;
		strbuf_reset(&src);
		strbuf_addf(&src, "%s/%s", from.buf, de->d_name);
		/* the size now covers every byte the checkpoint names (see above) */
		if (stat(src.buf, &st)) {
			ret = perr_set(e, errno, "%s: %s", src.buf, strerror(errno));
			break;
		}
		ret = share_one(meta, n, src.buf, (uint64_t)st.st_size, &dst, &crc);
		if (ret) {
			ret = perr_set(e, -ret, "%s: cannot copy to %s/packs: %s", src.buf, meta,
				       strerror(-ret));
			break;
		}
		strbuf_addf(&m, "%s %" PRIu64 " %" PRIu32 "\n", de->d_name, (uint64_t)st.st_size,
			    crc);
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
out:
	if (d)
		closedir(d);
	strbuf_release(&from);
	strbuf_release(&dir);
	strbuf_release(&shared);
	strbuf_release(&src);
	strbuf_release(&dst);
	strbuf_release(&m);
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
	else if (st.st_size > (16 << 20))
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

/* One "NAME SIZE CRC" line at *p into name, size, crc; advances *p. false when malformed. */
static bool parse_line(const char **p, char name[16], uint64_t *size, uint32_t *crc)
{
	const char *q = *p, *sp = strchr(q, ' ');
	char *end;
	unsigned long long v;

	if (!sp || sp - q != 13)
		return false;
	memcpy(name, q, 13);
	name[13] = '\0';
	if (!pack_file_number(name))
		return false;
	errno = 0;
	*size = strtoull(sp + 1, &end, 10);
	if (errno || *end != ' ')
		return false;
	v = strtoull(end + 1, &end, 10);
	if (errno || *end != '\n' || v > UINT32_MAX)
		return false;
	*crc = (uint32_t)v;
	*p = end + 1;
	return true;
}

int backup_packs_restore(const char *meta, uint32_t id, const char *dir, struct perr *e)
{
	struct strbuf path = STRBUF_INIT, m = STRBUF_INIT, src = STRBUF_INIT,
		      dst = STRBUF_INIT, packs = STRBUF_INIT;
	const char *p;
	char name[16];
	uint64_t size;
	uint32_t want, crc;
	struct stat st;
	int ret;

	strbuf_addf(&path, "%s/%" PRIu32 "/packs/MANIFEST", meta, id);
	ret = read_manifest(path.buf, &m);
	if (ret == -ENOENT) {
		/* a backup of a pool without packs, or from before them */
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%" PRIu32 "/packs", meta, id);
		ret = lstat(path.buf, &st) ? 0 :
		      perr_set(e, EBADMSG, "%s: pack files without a MANIFEST", path.buf);
		goto out;
	}
	if (ret) {
		ret = perr_set(e, EBADMSG, "%s: %s", path.buf, strerror(-ret));
		goto out;
	}
	strbuf_addf(&packs, "%s/packs", dir);
	if (mkdir(packs.buf, 0700)) {
		ret = perr_set(e, errno, "%s: %s", packs.buf, strerror(errno));
		goto out;
	}
	for (p = m.buf; !ret && p < m.buf + m.len; ) {
		if (!parse_line(&p, name, &size, &want)) {
			ret = perr_set(e, EBADMSG, "%s: a line is malformed", path.buf);
			break;
		}
		strbuf_reset(&dst);
		shared_name(&src, meta, pack_file_number(name), size, want);
		strbuf_addf(&dst, "%s/%s", packs.buf, name);
		if (stat(src.buf, &st) || (uint64_t)st.st_size != size) {
			ret = perr_set(e, EBADMSG, "%s: missing or not of its %" PRIu64 " bytes",
				       src.buf, size);
			break;
		}
		ret = copy_file(src.buf, dst.buf, size, &crc);
		if (ret)
			ret = perr_set(e, -ret, "%s: cannot copy to %s: %s", src.buf, dst.buf,
				       strerror(-ret));
		else if (crc != want)
			ret = perr_set(e, EBADMSG, "%s: damaged (its CRC-32C differs from the backup's record)",
				       src.buf);
	}
	if (!ret && (store_fsync_path(packs.buf) || store_fsync_path(dir)))
		ret = perr_set(e, EIO, "%s: cannot sync", packs.buf);
out:
	strbuf_release(&path);
	strbuf_release(&m);
	strbuf_release(&src);
	strbuf_release(&dst);
	strbuf_release(&packs);
	return ret;
}

/* Adds the names of the shared copies dir/packs/MANIFEST lists to keep, each in slashes. */
static int keep_listed(const char *dir, struct strbuf *keep)
{
	struct strbuf path = STRBUF_INIT, m = STRBUF_INIT;
	const char *p;
	char name[16];
	uint64_t size;
	uint32_t crc;
	int ret;

	strbuf_addf(&path, "%s/packs/MANIFEST", dir);
	ret = read_manifest(path.buf, &m);
	if (ret == -ENOENT || ret == -ENOTDIR)
		ret = 0;
	for (p = m.buf; !ret && p < m.buf + m.len; ) {
		if (!parse_line(&p, name, &size, &crc)) {
			/* keep everything rather than lose what a damaged list names */
			ret = -EBADMSG;
			break;
		}
		strbuf_addf(keep, "/%08" PRIu32 ".%" PRIu64 ".%08" PRIx32 ".pack/",
			    pack_file_number(name), size, crc);
	}
	strbuf_release(&path);
	strbuf_release(&m);
	return ret;
}

int backup_packs_sweep(const char *meta, struct perr *e)
{
	struct strbuf keep = STRBUF_INIT, path = STRBUF_INIT, want = STRBUF_INIT;
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
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "packs"))
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", meta, de->d_name);
		ret = keep_listed(path.buf, &keep);
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
	return ret;
}
