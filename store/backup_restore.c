/*
 * store/backup_restore.c - restoring a backup as a new pool, and
 * verifying one by restoring it where nobody mounts it.
 *
 * BackupEngine's restore re-reads every file and compares it with the
 * checksum taken when it was backed up, so a flipped byte in any table,
 * blob or manifest of the backup fails the restore naming that file.
 * Verify then opens the restored pool read-only and asks what only poolfs
 * knows: the audit chain holds and ends at the backup's anchor, and every
 * version of every file reads back whole.
 */
#include "common/alloc.h"
#include "store/backup_int.h"

#include "store/internal.h"
#include "store/newdir.h"
#include "store/pack.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/codec.h"
#include "store/crypt.h"

#define READ_BUF	(1u << 20)

static int check_log(struct store *s, const struct backup_info *bi, struct perr *e);

/* dir must be missing (made here, *made set) or an empty directory. */
static int new_dir(const char *dir, mode_t mode, bool *made, struct perr *e)
{
	struct dirent *de;
	DIR *d;
	int ret = 0;

	*made = false;
	if (!mkdir(dir, mode))
		*made = true;
	else if (errno != EEXIST)
		return perr_set(e, errno, "%s: %s", dir, strerror(errno));
	ret = store_newdir_check(dir, "the new pool's directory", e);
	if (ret && *made) {
		rmdir(dir);
		*made = false;
	}
	if (ret || *made)
		return ret;
	d = opendir(dir);
	if (!d)
		return perr_set(e, errno, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			ret = perr_set(e, ENOTEMPTY, "%s: exists and is not empty; restore never overwrites",
				       dir);
			break;
		}
	}
	closedir(d);
	return ret;
}

/* ---- naming a damaged file ---- */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;	/* Castagnoli */
		crc_table[i] = c;
	}
}

/* CRC-32C of a whole file, as BackupEngine records it. */
static int file_crc32c(const char *path, uint32_t *out)
{
	uint8_t buf[1 << 16];
	uint32_t c = 0xffffffffu;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	pthread_once(&crc_once, crc_init);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			c = crc_table[(c ^ buf[i]) & 0xff] ^ (c >> 8);
	if (n < 0)
		ret = -errno;
	close(fd);
	*out = ~c;
	return ret;
}

/*
 * BackupEngine's restore says a checksum failed but not of which file.
 * Its meta/ID lists each file with the CRC-32C it had when backed up
 * ("<path> crc32 <decimal>"); the first one that differs now is named
 * in e (-EBADMSG). 0 when none differs (the caller reports as it can).
 */
static int name_damage(struct backup_dest *d, uint32_t id, struct perr *e)
{
	struct strbuf path = STRBUF_INIT;
	char line[4096];
	FILE *f;
	int ret = 0;

	strbuf_addf(&path, "%s/meta/%" PRIu32, d->dir, id);
	f = fopen(path.buf, "re");
	if (!f)
		goto out;
	while (!ret && fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' '), *crc = strstr(line, " crc32 "), *end;
		unsigned long want;
		uint32_t got;
		int rc;

		if (!sp || !crc)
			continue;
		*sp = '\0';
		errno = 0;
		want = strtoul(crc + 7, &end, 10);
		if (errno || end == crc + 7)
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", d->dir, line);
		rc = file_crc32c(path.buf, &got);
		if (rc)
			ret = perr_set(e, EBADMSG, "backup %" PRIu32 ": %s: cannot read it: %s", id,
				       path.buf, strerror(-rc));
		else if (got != (uint32_t)want)
			ret = perr_set(e, EBADMSG, "backup %" PRIu32 ": %s: damaged (CRC-32C %08x, recorded %08lx)",
				       id, path.buf, got, want);
	}
	fclose(f);
out:
	strbuf_release(&path);
	return ret;
}

/*
 * Lays backup bi of d out as a pool in dir (empty): db/ from BackupEngine
 * (every file checked against its checksum), keys/, packs/ (each checked
 * against the backup's MANIFEST) and staging/.
 */
static int lay_out(struct backup_dest *d, const struct backup_info *bi, const char *dir,
		   struct perr *e)
{
	struct strbuf db = STRBUF_INIT, keys = STRBUF_INIT, from = STRBUF_INIT;
	rocksdb_restore_options_t *ro = rocksdb_restore_options_create();
	char *err = NULL;
	int ret = 0;

	strbuf_addf(&db, "%s/db", dir);
	strbuf_addf(&keys, "%s/keys", dir);
	strbuf_addf(&from, "%s/" BACKUP_META_DIR "/%" PRIu32 "/keys", d->dir, bi->id);
	if (mkdir(db.buf, 0700)) {
		ret = perr_set(e, errno, "%s: %s", db.buf, strerror(errno));
		goto out;
	}
	rocksdb_backup_engine_restore_db_from_backup(d->be, db.buf, db.buf, ro, bi->id, &err);
	if (err) {
		ret = name_damage(d, bi->id, e);
		if (!ret)
			ret = perr_set(e, EBADMSG, "backup %" PRIu32 ": %s", bi->id, err);
		goto out;
	}
	ret = backup_copy_keys(from.buf, keys.buf, e);
	if (ret)
		goto out;
	strbuf_reset(&from);
	strbuf_addf(&from, "%s/" BACKUP_META_DIR, d->dir);
	ret = backup_packs_restore(from.buf, bi->id, dir, e);
	if (ret)
		goto out;
	strbuf_reset(&from);
	strbuf_addf(&from, "%s/staging", dir);
	if (mkdir(from.buf, 0700))
		ret = perr_set(e, errno, "%s: %s", from.buf, strerror(errno));
out:
	free(err);
	rocksdb_restore_options_destroy(ro);
	strbuf_release(&db);
	strbuf_release(&keys);
	strbuf_release(&from);
	return ret;
}

static int find(struct backup_dest *d, uint32_t id, struct backup_info *out, struct perr *e)
{
	int ret = backup_dest_find(d, id, out, e);

	if (ret == 0 && !out->complete)
		ret = perr_set(e, EBADMSG, "backup %" PRIu32 ": incomplete, its info and keys are missing from %s/" BACKUP_META_DIR "/%" PRIu32,
			       id, d->dir, id);
	return ret;
}

/*
 * Restore needs the master key of an encrypted backup: refused before a
 * byte is copied when none was given and the recorded key file cannot
 * be read. Whether the key is the right one store_open() tells after.
 */
static int key_at_hand(const struct backup_info *bi, struct perr *e)
{
	if (!bi->encrypted || store_key_given())
		return 0;
	if (bi->passphrase)
		return perr_set(e, ENOKEY, "backup %" PRIu32 " is encrypted with a passphrase; restore needs it: give --passphrase-file",
				bi->id);
	if (access(bi->key_file, R_OK))
		return perr_set(e, ENOKEY, "backup %" PRIu32 " is encrypted and its master key file \"%s\" cannot be read (%s); restore needs the key: give --key-file",
				bi->id, bi->key_file, strerror(errno));
	return 0;
}

int backup_restore(const char *dest, uint32_t id, const char *newstore, const char *pin,
		   struct audit_rec *rec, struct perr *e)
{
	struct backup_keyless k;
	struct backup_dest d;
	struct backup_info bi;
	struct store *s = NULL;
	bool made = false;
	int ret;

	ret = backup_dest_open(&d, dest, false, NULL, 0, e);
	if (ret)
		return ret;
	ret = find(&d, id, &bi, e);
	if (!ret)
		ret = key_at_hand(&bi, e);
	if (ret)
		goto out;
	ret = new_dir(newstore, 0711, &made, e);
	if (ret)
		goto out;
	ret = lay_out(&d, &bi, newstore, e);
	/*
	 * BackupEngine's checksums say each file is as backed up, not that
	 * the files, info, anchor and seal are one backup's: whoever holds
	 * DEST can name an older database as a newer backup. What verify
	 * checks of the log is checked before the pool is handed over.
	 */
	if (!ret)
		ret = backup_keyless_check(d.dir, newstore, &bi, pin, &k, e);
	if (!ret)
		ret = store_open(newstore, 0, &s, e);
	if (!ret)
		ret = check_log(s, &bi, e);
	if (!ret) {
		ret = audit_append(s, rec);
		if (ret)
			ret = perr_set(e, -ret, "%s: cannot record the restore in the audit log",
				       newstore);
	}
	store_close(s);
	/* a failed restore returns while BackupEngine's threads still copy: closing it waits */
	backup_dest_close(&d);
	if (ret) {
		/* leave nothing that looks like a pool */
		struct strbuf sub = STRBUF_INIT;
		static const char *const parts[] = { "db", "keys", "staging", "journal", "packs" };

		if (made) {
			backup_rmtree(newstore);
		} else {
			for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
				strbuf_reset(&sub);
				strbuf_addf(&sub, "%s/%s", newstore, parts[i]);
				backup_rmtree(sub.buf);
			}
		}
		strbuf_release(&sub);
	}
out:
	backup_dest_close(&d);
	return ret;
}

/* ---- verify ---- */

static int read_version(struct store *s, uint64_t ino, uint64_t version, uint8_t *buf,
			uint64_t *size)
{
	struct store_content *c;
	uint64_t off = 0;
	ssize_t n;
	int ret;

	ret = store_content_open(s, ino, version, &c);
	if (ret)
		return ret;
	*size = store_content_size(c);
	while ((n = store_content_read(c, buf, READ_BUF, off)) > 0)
		off += (uint64_t)n;
	ret = n < 0 ? (int)n : off != *size ? -EIO : 0;
	store_content_close(c);
	return ret;
}

/* Every version of every file, dead ones too, read back whole. */
static int read_versions(struct store *s, uint32_t id, uint64_t *count, struct perr *e)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropt, s->cf[CF_VERSIONS]);
	struct strbuf path = STRBUF_INIT;
	uint8_t *buf = xmalloc(READ_BUF);
	char *err = NULL;
	int ret = 0;

	*count = 0;
	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it) && !ret;
	     rocksdb_iter_next(it)) {
		size_t klen;
		const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it, &klen);
		uint64_t ino, version, size = 0;

		if (klen != 16) {
			ret = perr_set(e, EBADMSG, "backup %" PRIu32 ": a version key of %zu bytes",
				       id, klen);
			break;
		}
		ino = get_be64(k);
		version = get_be64(k + 8);
		ret = read_version(s, ino, version, buf, &size);
		if (ret) {
			strbuf_reset(&path);
			if (store_path(s, ino, &path))
				strbuf_addf(&path, "inode %" PRIu64, ino);
			ret = perr_set(e, EBADMSG, "backup %" PRIu32 ": \"%s\" version %" PRIu64
				       " does not read back whole (%s)", id, path.buf, version,
				       strerror(-ret));
		}
		(*count)++;
	}
	rocksdb_iter_get_error(it, &err);
	if (err && !ret)
		ret = perr_set(e, EBADMSG, "backup %" PRIu32 ": versions: %s", id, err);
	free(err);
	free(buf);

	rocksdb_iter_destroy(it);
	strbuf_release(&path);
	return ret;
}

/* With the key: the audit chain holds up to the anchor and ends there. */
static int check_log(struct store *s, const struct backup_info *bi, struct perr *e)
{
	struct strbuf rec = STRBUF_INIT;
	uint64_t bad = 0;
	int ret;

	ret = audit_verify_anchor(s, &bi->anchor, &bad, e);
	if (ret == -EBADMSG) {
		/* e holds verify's message; say whose it is */
		struct perr inner = *e;

		e->code = 0;
		ret = perr_set(e, EBADMSG, "backup %" PRIu32 ": audit record %" PRIu64 ": %s",
			       bi->id, bad, inner.msg);
		goto out;
	}
	if (ret)
		goto out;
	if (audit_record(s, bi->anchor.seq + 1, &rec) != -ENOENT)
		ret = perr_set(e, EBADMSG, "backup %" PRIu32 ": the audit log goes on past the anchored record %" PRIu64
			       " (the info belongs to another backup)", bi->id, bi->anchor.seq);
out:
	strbuf_release(&rec);
	return ret;
}

/* A store_open() error that means only that no key was at hand. */
static bool no_key(int err)
{
	return err == -ENOENT || err == -EACCES || err == -ENOKEY;
}

static void say_keyless(struct strbuf *out, const struct backup_info *bi,
			const struct backup_keyless *k)
{
	strbuf_addf(out, "backup %" PRIu32 ": ok without the master key: checked every file's checksum and every block, ",
		    bi->id);
	if (k->sealed)
		strbuf_addf(out, "%" PRIu64 " audit records as stored against the signed seal (public key %.16s...), ",
			    k->records, k->pubkey);
	strbuf_addf(out, "%" PRIu64 " checkpoint signatures, %" PRIu64 " versions of %" PRIu64
		    " files and %" PRIu64 " chunks present; skipped: ", k->checkpoints, k->versions,
		    k->files, k->chunks);
	if (!k->sealed)
		strbuf_addstr(out, "the seal (the backup has none), ");
	strbuf_addstr(out, "the records' contents and the chain over them, the head and anchor MACs, "
		      "reading back each version (give --key-file or --passphrase-file)\n");
}

/* tmp: where it lays bi out, removed again, and once more by the caller after d is closed */
static int verify_one(struct backup_dest *d, const struct backup_info *bi, const char *pin,
		      struct strbuf *tmp, struct strbuf *report, struct perr *e)
{
	struct perr oe = PERR_INIT;
	struct backup_keyless k;
	struct store *s = NULL;
	uint64_t versions = 0;
	char *err = NULL;
	int ret;

	if (!bi->complete)
		return perr_set(e, EBADMSG, "backup %" PRIu32 ": incomplete, its info and keys are missing from %s/" BACKUP_META_DIR "/%" PRIu32,
				bi->id, d->dir, bi->id);
	rocksdb_backup_engine_verify_backup(d->be, bi->id, &err);
	if (err) {
		ret = perr_set(e, EBADMSG, "backup %" PRIu32 ": %s", bi->id, err);
		free(err);
		return ret;
	}
	/* on the backup's disk, which has room for one; never in the pool's */
	strbuf_reset(tmp);
	strbuf_addf(tmp, "%s/" BACKUP_META_DIR "/verify.XXXXXX", d->dir);
	if (!mkdtemp(tmp->buf)) {
		ret = perr_set(e, errno, "%s: %s", tmp->buf, strerror(errno));
		strbuf_reset(tmp);
		goto out;
	}
	ret = lay_out(d, bi, tmp->buf, e);
	if (!ret)
		ret = backup_keyless_check(d->dir, tmp->buf, bi, pin, &k, e);
	if (ret)
		goto rm;
	ret = store_open(tmp->buf, STORE_OPEN_RDONLY, &s, &oe);
	if (ret && k.encrypted && no_key(ret) && !store_key_given()) {
		say_keyless(report, bi, &k);
		ret = 0;
	} else if (ret && k.encrypted && (store_key_given() || no_key(ret) ||
					  ret == -EKEYREJECTED)) {
		/* its blocks read back above: what fails is the key */
		ret = perr_set(e, -ret, "backup %" PRIu32 ": %s", bi->id, perr_msg(&oe, -ret));
	} else if (ret) {
		ret = perr_set(e, EBADMSG, "backup %" PRIu32 ": the restored pool does not open: %s",
			       bi->id, perr_msg(&oe, -ret));
	} else {
		ret = check_log(s, bi, e);
		if (!ret)
			ret = read_versions(s, bi->id, &versions, e);
		if (!ret)
			strbuf_addf(report, "backup %" PRIu32 ": ok (%" PRIu64 " audit records, %" PRIu64
				    " versions read back)\n", bi->id, k.records, versions);
	}
	store_close(s);
rm:
	backup_rmtree(tmp->buf);
out:
	return ret;
}

int backup_verify(const char *dest, uint32_t id, const char *pin, struct strbuf *report,
		  struct perr *e)
{
	struct strbuf tmp = STRBUF_INIT;
	struct backup_info *v = NULL;
	struct backup_dest d;
	bool found = false;
	size_t n;
	int ret;

	ret = backup_dest_open(&d, dest, false, NULL, 0, e);
	if (ret)
		return ret;
	ret = backup_dest_list(&d, &v, &n, e);
	if (ret)
		goto out;
	if (!n) {
		ret = perr_set(e, ENOENT, "%s: holds no backups", dest);
		goto out;
	}
	for (size_t i = 0; i < n && !ret; i++) {
		if (id && v[i].id != id)
			continue;
		found = true;
		ret = verify_one(&d, &v[i], pin, &tmp, report, e);
	}
	if (!ret && !found)
		ret = perr_set(e, ENOENT, "%s: no backup %" PRIu32 " (see poolctl backup list)", dest, id);
out:
	free(v);
	backup_dest_close(&d);
	/* what BackupEngine's threads wrote after a failed restore returned */
	if (ret && tmp.len)
		backup_rmtree(tmp.buf);
	strbuf_release(&tmp);
	return ret;
}
