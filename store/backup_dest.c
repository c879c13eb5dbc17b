/*
 * store/backup_dest.c - a backup destination: BackupEngine opened under
 * its lock, the directories kept private, the files poolfs writes there,
 * and the list of backups with poolfs's info. store/backup.c creates and
 * prunes, store/backup_restore.c restores and verifies, both through
 * these (store/backup_int.h).
 */
#include "common/alloc.h"
#include "store/audit_int.h"
#include "store/backup_int.h"
#include "store/newdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int backup_rocks_errno(const char *err)
{
	if (strstr(err, "No space") || strstr(err, "ENOSPC"))
		return ENOSPC;
	if (strstr(err, "ermission denied"))
		return EACCES;
	return EIO;
}

/* ---- the destination ---- */

int backup_make_dir(const char *path, struct perr *e)
{
	if (mkdir(path, 0700) && errno != EEXIST)
		return perr_set(e, errno, "%s: %s", path, strerror(errno));
	return 0;
}

int backup_private_dir(const char *path, bool make, struct perr *e)
{
	struct stat st;
	int fd, ret = 0;

	if (make && !mkdir(path, 0700))
		return 0;
	if (make && errno != EEXIST)
		return perr_set(e, errno, "%s: %s", path, strerror(errno));
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT && !make ? -ENOENT :
		       perr_set(e, errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st))
		ret = perr_set(e, errno, "%s: %s", path, strerror(errno));
	else if (st.st_uid != geteuid())
		ret = perr_set(e, EACCES, "%s: owned by uid %u, not by this user: what is below it would be open to that user",
			       path, (unsigned)st.st_uid);
	else if ((st.st_mode & 077) && fchmod(fd, 0700))
		ret = perr_set(e, errno, "%s: cannot make it private: %s", path, strerror(errno));
	close(fd);
	return ret;
}

/*
 * BackupEngine makes its directories 0755 and its files 0644 (the
 * process umask), and DEST may be a directory others can search: the
 * database's tables and blobs (a plain pool's content, every pool's
 * names) would be readable by every local user. Its directories are
 * made 0700 before it runs, and ones an older create left open are
 * closed, so nothing below them is reachable but by their owner.
 */
static int engine_dirs_private(const char *dest, bool fresh, struct perr *e)
{
	static const char *const names[] = { "meta", "private", "shared_checksum", "shared" };
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	int ret = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !ret; i++) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", dest, names[i]);
		/* a directory that is no backup's is not ours to close, nor to fill */
		if (fresh && !lstat(path.buf, &st)) {
			ret = perr_set(e, EEXIST, "%s: exists, and %s holds no poolfs backups",
				       path.buf, dest);
			break;
		}
		/* "shared" is made only by engines that do not name by checksum */
		ret = backup_private_dir(path.buf, strcmp(names[i], "shared") != 0, e);
		if (ret == -ENOENT)
			ret = 0;
	}
	strbuf_release(&path);
	return ret;
}

static int take_lock(struct backup_dest *d, bool exclusive, struct perr *e)
{
	struct strbuf path = STRBUF_INIT;
	int ret = 0;

	strbuf_addf(&path, "%s/" BACKUP_META_DIR "/lock", d->dir);
	d->lockfd = open(path.buf, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	/* a reader may not own the directory: a shared lock needs no write */
	if (d->lockfd < 0 && !exclusive)
		d->lockfd = open(path.buf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (d->lockfd < 0) {
		ret = perr_set(e, errno, "%s: %s", path.buf, strerror(errno));
		goto out;
	}
	if (flock(d->lockfd, exclusive ? LOCK_EX | LOCK_NB : LOCK_SH)) {
		if (errno == EWOULDBLOCK)
			ret = perr_set(e, EBUSY, "%s: another backup or prune is running on it",
				       d->dir);
		else
			ret = perr_set(e, errno, "%s: %s", path.buf, strerror(errno));
	}
out:
	strbuf_release(&path);
	return ret;
}

int backup_dest_open(struct backup_dest *d, const char *dest, bool exclusive,
		     struct store *create, uint64_t rate_limit, struct perr *e)
{
	struct strbuf meta = STRBUF_INIT;
	struct stat st;
	char *err = NULL;
	bool fresh;
	int ret;

	memset(d, 0, sizeof(*d));
	d->lockfd = -1;
	d->dir = xstrdup(dest);
	strbuf_addf(&meta, "%s/" BACKUP_META_DIR, dest);
	if (create) {
		fresh = lstat(meta.buf, &st) != 0;
		ret = backup_make_dir(dest, e);
		/* the directories below are checked private: none may be swapped after */
		if (!ret)
			ret = store_newdir_check(dest, "the backup directory", e);
		if (!ret)
			ret = backup_private_dir(meta.buf, true, e);
		if (!ret)
			ret = engine_dirs_private(dest, fresh, e);
		if (ret)
			goto out;
	} else if (stat(dest, &st)) {
		ret = perr_set(e, errno, "%s: %s", dest, strerror(errno));
		goto out;
	} else if (stat(meta.buf, &st) || !S_ISDIR(st.st_mode)) {
		ret = perr_set(e, ENOENT, "%s: not a poolfs backup directory (no %s/)", dest,
			       BACKUP_META_DIR);
		goto out;
	}
	ret = take_lock(d, exclusive, e);
	if (!ret && create)
		ret = backup_dest_claim(dest, create, e);
	if (ret)
		goto out;
	d->env = rocksdb_create_default_env();
	d->opts = rocksdb_backup_engine_options_create(dest);
	rocksdb_backup_engine_options_set_share_table_files(d->opts, 1);
	rocksdb_backup_engine_options_set_sync(d->opts, 1);
	if (rate_limit)
		rocksdb_backup_engine_options_set_backup_rate_limit(d->opts, rate_limit);
	d->be = rocksdb_backup_engine_open_opts(d->opts, d->env, &err);
	if (err) {
		ret = perr_set(e, backup_rocks_errno(err), "%s: cannot open the backups: %s", dest, err);
		goto out;
	}
out:
	free(err);
	strbuf_release(&meta);
	if (ret)
		backup_dest_close(d);
	return ret;
}

void backup_dest_close(struct backup_dest *d)
{
	if (d->be)
		rocksdb_backup_engine_close(d->be);
	if (d->opts)
		rocksdb_backup_engine_options_destroy(d->opts);
	if (d->env)
		rocksdb_env_destroy(d->env);
	if (d->lockfd >= 0)
		close(d->lockfd);
	free(d->dir);
	memset(d, 0, sizeof(*d));
	d->lockfd = -1;
}

/* ---- files ---- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) && errno != ENOENT)
		return -errno;
	return 0;
}

int backup_rmtree(const char *path)
{
	struct stat st;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int backup_write_file(const char *path, const void *buf, size_t len, struct perr *e)
{
	int fd, ret;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return perr_set(e, errno, "%s: %s", path, strerror(errno));
	ret = store_pwrite_full(fd, buf, len, 0);
	if (!ret && fsync(fd))
		ret = -errno;
	if (ret)
		ret = perr_set(e, -ret, "%s: %s", path, strerror(-ret));
	if (close(fd) && !ret)
		ret = perr_set(e, errno, "%s: %s", path, strerror(errno));
	return ret;
}

int backup_read_small(const char *path, struct strbuf *out)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), ret = 0;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		strbuf_add(out, buf, (size_t)n);
	if (n < 0)
		ret = -errno;
	close(fd);
	/* key files pass through here: no copy stays behind */
	OPENSSL_cleanse(buf, sizeof(buf));
	return ret;
}

int backup_copy_keys(const char *from, const char *to, struct perr *e)
{
	struct strbuf src = STRBUF_INIT, dst = STRBUF_INIT, data = STRBUF_INIT;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int ret;

	ret = backup_make_dir(to, e);
	if (ret)
		return ret;
	d = opendir(from);
	if (!d)
		return perr_set(e, errno, "%s: %s", from, strerror(errno));
	/* room for any key file, so no reallocation leaves a copy of one behind */
	strbuf_grow(&data, 16384);
	while (!ret && (de = readdir(d))) {
		strbuf_reset(&src);
		strbuf_addf(&src, "%s/%s", from, de->d_name);
		/* regular files only: a symlink must not carry a file from elsewhere */
		if (de->d_name[0] == '.' || lstat(src.buf, &st) || !S_ISREG(st.st_mode))
			continue;
		/* a shorter key after a longer one would leave the longer one's tail */
		OPENSSL_cleanse(data.buf, data.alloc);
		strbuf_reset(&data);
		ret = backup_read_small(src.buf, &data);
		if (ret) {
			ret = perr_set(e, -ret, "%s: %s", src.buf, strerror(-ret));
			break;
		}
		strbuf_reset(&dst);
		strbuf_addf(&dst, "%s/%s", to, de->d_name);
		ret = backup_write_file(dst.buf, data.buf, data.len, e);
	}
	closedir(d);
	if (!ret && store_fsync_path(to))
		ret = perr_set(e, errno, "%s: %s", to, strerror(errno));
	OPENSSL_cleanse(data.buf, data.alloc);
	strbuf_release(&data);
	strbuf_release(&src);
	strbuf_release(&dst);
	return ret;
}

/* Reads dest/poolfs/<id>/info.json into bi; false when it is not all there. */
static bool read_info(const char *dest, struct backup_info *bi)
{
	struct strbuf path = STRBUF_INIT;
	json_t *doc = NULL, *t, *src, *anchor, *pv;
	struct stat st;
	bool ok = false;

	strbuf_addf(&path, "%s/" BACKUP_META_DIR "/%" PRIu32 "/keys", dest, bi->id);
	if (stat(path.buf, &st) || !S_ISDIR(st.st_mode))
		goto out;
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/" BACKUP_META_DIR "/%" PRIu32 "/info.json", dest, bi->id);
	doc = json_load_file(path.buf, 0, NULL);
	t = json_object_get(doc, "time_ns");
	src = json_object_get(doc, "source");
	anchor = json_object_get(doc, "anchor");
	pv = json_object_get(doc, "policy_version");
	if (!json_is_integer(t) || !json_is_string(src) || !json_is_string(anchor) ||
	    !json_is_integer(pv))
		goto out;
	if (audit_anchor_parse(json_string_value(anchor), json_string_length(anchor),
			       &bi->anchor, NULL))
		goto out;
	bi->encrypted = json_is_true(json_object_get(doc, "encrypted"));
	bi->passphrase = json_is_true(json_object_get(doc, "passphrase"));
	if (json_is_string(json_object_get(doc, "key_file")))
		snprintf(bi->key_file, sizeof(bi->key_file), "%s",
			 json_string_value(json_object_get(doc, "key_file")));
	bi->time_ns = json_integer_value(t);
	bi->policy_version = (uint64_t)json_integer_value(pv);
	snprintf(bi->source, sizeof(bi->source), "%s", json_string_value(src));
	ok = true;
out:
	json_decref(doc);
	strbuf_release(&path);
	return ok;
}

int backup_dest_list(struct backup_dest *d, struct backup_info **out, size_t *n,
		     struct perr *e)
{
	const rocksdb_backup_engine_info_t *info;
	struct backup_info *v = NULL;
	int count;

	*out = NULL;
	*n = 0;
	info = rocksdb_backup_engine_get_backup_info(d->be);
	count = rocksdb_backup_engine_info_count(info);
	if (count > 0)
		v = xcalloc((size_t)count, sizeof(*v));
	for (int i = 0; i < count; i++) {
		struct backup_info *bi = &v[i];

		bi->id = rocksdb_backup_engine_info_backup_id(info, i);
		bi->time_ns = rocksdb_backup_engine_info_timestamp(info, i) * 1000000000;
		bi->size = rocksdb_backup_engine_info_size(info, i);
		bi->files = rocksdb_backup_engine_info_number_files(info, i);
		bi->complete = read_info(d->dir, bi);
	}
	rocksdb_backup_engine_info_destroy(info);
	/* BackupEngine lists in id order, which is the order they were taken */
	*out = v;
	*n = (size_t)count;
	return 0;
}

int backup_list(const char *dest, struct backup_info **out, size_t *n, struct perr *e)
{
	struct backup_dest d;
	int ret;

	ret = backup_dest_open(&d, dest, false, NULL, 0, e);
	if (ret)
		return ret;
	ret = backup_dest_list(&d, out, n, e);
	backup_dest_close(&d);
	return ret;
}

int backup_dest_find(struct backup_dest *d, uint32_t id, struct backup_info *out,
		     struct perr *e)
{
	struct backup_info *v;
	size_t n;
	int ret;

	ret = backup_dest_list(d, &v, &n, e);
	if (ret)
		return ret;
	ret = -ENOENT;
	for (size_t i = 0; i < n; i++) {
		if (v[i].id == id) {
			*out = v[i];
			ret = 0;
		}
	}
	if (ret)
		perr_set(e, ENOENT, "%s: no backup %" PRIu32 " (see poolctl backup list)", d->dir, id);
	free(v);
	return ret;
}

int backup_get(const char *dest, uint32_t id, struct backup_info *out, struct perr *e)
{
	struct backup_dest d;
	int ret;

	ret = backup_dest_open(&d, dest, false, NULL, 0, e);
	if (ret)
		return ret;
	ret = backup_dest_find(&d, id, out, e);
	backup_dest_close(&d);
	return ret;
}
