/*
 * store/backup.c - backups on RocksDB's BackupEngine: create, list, prune.
 *
 * Consistency. A commit is one synced batch, but audit records of reads
 * travel through the journal and reach RocksDB without the WAL
 * (store/audit.c), so no copy of the live database taken while the pool
 * runs is sure to hold a whole chain. Under the store's mutation lock,
 * which every commit and every audit record takes, the log is settled
 * (every assigned record in RocksDB) and a checkpoint is made: a flush
 * and hard links, milliseconds. The backup is then taken from that
 * checkpoint, opened as a database of its own with compactions off, while
 * the pool goes on. Its audit log ends exactly at the anchor taken under
 * the same lock.
 *
 * Incremental: BackupEngine shares table and blob files between backups
 * by name, size and the table's session id (shared_checksum/), and a
 * checkpoint links the very files of the pool, so a backup after a small
 * change copies the few new files, not the pool.
 *
 * poolfs's part (info, anchor, keys) is written to DEST/poolfs/pending
 * before the copy and renamed to the new id after; a kill between the
 * two is mended by the next create, which gives pending to the newest
 * backup when that one has none (verify then checks they belong
 * together: the restored log must end at the anchor).
 */
#include "common/alloc.h"
#include "store/audit_int.h"
#include "store/backup_int.h"
#include "store/crypt_store.h"
#include "store/pack.h"


#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

/* where builds before STORE_BACKUP_DIR made it, open to every uid */
#define CHECKPOINT_OLD	"backup.checkpoint"

static int rocks_errno(const char *err)
{
	if (strstr(err, "No space") || strstr(err, "ENOSPC"))
		return ENOSPC;
	if (strstr(err, "ermission denied"))
		return EACCES;
	return EIO;
}

/* ---- the destination ---- */

static int make_dir(const char *path, struct perr *e)
{
	if (mkdir(path, 0700) && errno != EEXIST)
		return perr_set(e, errno, "%s: %s", path, strerror(errno));
	return 0;
}

/*
 * PATH a directory of this user that no one else may enter: made 0700
 * when missing (make), closed when it is open to others; a link, or
 * another user's directory, is refused. -ENOENT when !make and missing.
 */
static int private_dir(const char *path, bool make, struct perr *e)
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
		ret = private_dir(path.buf, strcmp(names[i], "shared") != 0, e);
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
		ret = make_dir(dest, e);
		if (!ret)
			ret = make_dir(meta.buf, e);
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
		ret = perr_set(e, rocks_errno(err), "%s: cannot open the backups: %s", dest, err);
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

static int write_file(const char *path, const void *buf, size_t len, struct perr *e)
{
	int fd, ret = 0;
	ssize_t n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return perr_set(e, errno, "%s: %s", path, strerror(errno));
	n = write(fd, buf, len);
	if (n != (ssize_t)len || fsync(fd))
		ret = perr_set(e, n < 0 || n == (ssize_t)len ? errno : EIO, "%s: %s", path,
			       strerror(n < 0 || n == (ssize_t)len ? errno : EIO));
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
	return ret;
}

int backup_copy_keys(const char *from, const char *to, struct perr *e)
{
	struct strbuf src = STRBUF_INIT, dst = STRBUF_INIT, data = STRBUF_INIT;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int ret;

	ret = make_dir(to, e);
	if (ret)
		return ret;
	d = opendir(from);
	if (!d)
		return perr_set(e, errno, "%s: %s", from, strerror(errno));
	while (!ret && (de = readdir(d))) {
		strbuf_reset(&src);
		strbuf_addf(&src, "%s/%s", from, de->d_name);
		/* regular files only: a symlink must not carry a file from elsewhere */
		if (de->d_name[0] == '.' || lstat(src.buf, &st) || !S_ISREG(st.st_mode))
			continue;
		strbuf_reset(&data);
		ret = backup_read_small(src.buf, &data);
		if (ret) {
			ret = perr_set(e, -ret, "%s: %s", src.buf, strerror(-ret));
			break;
		}
		strbuf_reset(&dst);
		strbuf_addf(&dst, "%s/%s", to, de->d_name);
		ret = write_file(dst.buf, data.buf, data.len, e);
	}
	closedir(d);
	if (!ret && store_fsync_path(to))
		ret = perr_set(e, errno, "%s: %s", to, strerror(errno));
	memset(data.buf, 0, data.len);
	strbuf_release(&data);
	strbuf_release(&src);
	strbuf_release(&dst);
	return ret;
}

/* ---- poolfs's part of a backup ---- */

static int write_info(struct store *s, const char *dir, const struct backup_info *bi,
		      const struct backup_seal *seal, struct perr *e)
{
	struct strbuf path = STRBUF_INIT, line = STRBUF_INIT;
	json_t *doc;
	char *text = NULL;
	int ret;

	audit_anchor_format(&bi->anchor, &line);
	/* what restore needs to refuse early, before it copies anything, without a key */
	doc = json_pack("{s:I, s:I, s:s, s:s, s:I, s:b, s:s, s:b}",
			"format", (json_int_t)1,
			"time_ns", (json_int_t)bi->time_ns,
			"source", bi->source,
			"anchor", line.buf,
			"policy_version", (json_int_t)bi->policy_version,
			"encrypted", s->crypt != NULL,
			"key_file", s->crypt ? s->crypt->key_file : "",
			"passphrase", s->crypt && s->crypt->has_kdf);
	text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	if (!text) {
		ret = perr_set(e, ENOMEM, "%s: cannot encode the backup's info", dir);
		goto out;
	}
	strbuf_addf(&path, "%s/info.json", dir);
	ret = write_file(path.buf, text, strlen(text), e);
	if (ret)
		goto out;
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/anchor", dir);
	strbuf_addch(&line, '\n');
	ret = write_file(path.buf, line.buf, line.len, e);
	if (ret)
		goto out;
	strbuf_reset(&path);
	strbuf_reset(&line);
	strbuf_addf(&path, "%s/" BACKUP_SEAL_FILE, dir);
	backup_seal_format(seal, &line);
	strbuf_addch(&line, '\n');
	ret = write_file(path.buf, line.buf, line.len, e);
out:
	free(text);
	json_decref(doc);
	strbuf_release(&line);
	strbuf_release(&path);
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

/*
 * A pending part left by a create that was killed belongs to the newest
 * backup when that one has none: the kill came after BackupEngine made
 * it. Otherwise the copy never finished and the part is dropped.
 */
static int settle_pending(struct backup_dest *d, struct perr *e)
{
	struct strbuf pend = STRBUF_INIT, dst = STRBUF_INIT;
	struct backup_info *v = NULL;
	struct stat st;
	size_t n;
	int ret;

	strbuf_addf(&pend, "%s/" BACKUP_META_DIR "/" BACKUP_PENDING, d->dir);
	if (lstat(pend.buf, &st)) {
		ret = 0;
		goto out;
	}
	ret = backup_dest_list(d, &v, &n, e);
	if (ret)
		goto out;
	if (n && !v[n - 1].complete) {
		strbuf_addf(&dst, "%s/" BACKUP_META_DIR "/%" PRIu32, d->dir, v[n - 1].id);
		backup_rmtree(dst.buf);
		if (rename(pend.buf, dst.buf))
			ret = perr_set(e, errno, "%s: %s", dst.buf, strerror(errno));
		else
			log_warn("%s: backup %" PRIu32 " was made by a create that did not finish; its info is now in place",
				 d->dir, v[n - 1].id);
	} else {
		ret = backup_rmtree(pend.buf);
		if (ret)
			ret = perr_set(e, -ret, "%s: %s", pend.buf, strerror(-ret));
	}
out:
	free(v);
	strbuf_release(&pend);
	strbuf_release(&dst);
	return ret;
}

/* ---- create ---- */

/*
 * Waits until every record assigned so far is in RocksDB: none queued,
 * none being journaled, none waiting for the ingester. Caller holds
 * s->lock, so no record is assigned meanwhile and no commit is in flight.
 */
static int settle_audit(struct store *s, struct audit_anchor *a)
{
	struct audit_log *L = audit_log_of(s);
	int ret = 0;

	if (!L)
		return -EIO;
	pthread_mutex_lock(&L->mu);
	L->drainers++;
	audit_ingest_kick(L);
	while (!L->broken && (L->writing || L->npend || L->njrec || L->ingesting))
		pthread_cond_wait(&L->cond, &L->mu);
	L->drainers--;
	if (L->broken) {
		ret = -EIO;
	} else {
		audit_resolve_open(L, true);
		memset(a, 0, sizeof(*a));
		a->seq = L->dseq;
		a->time_ns = L->dtime;
		memcpy(a->hash, L->dhash, 32);
		snprintf(a->algo, sizeof(a->algo), "%s", L->algo);
	}
	pthread_mutex_unlock(&L->mu);
	return ret;
}

static int sign_anchor(struct store *s, struct audit_anchor *a, struct perr *e)
{
	struct audit_keys k = { 0 };
	struct audit_seal c = { .seq = a->seq, .time_ns = a->time_ns };
	int ret;

	ret = audit_keys_load(s, &k);
	if (ret)
		return perr_set(e, -ret, "%s/keys/sign.key: cannot read the signing key", s->dir);
	memcpy(c.hash, a->hash, 32);
	ret = audit_seal_sign(&k, a->algo, AUDIT_SEAL_ANCHOR, &c);
	if (ret)
		ret = perr_set(e, -ret, "%s: cannot sign the backup's anchor", s->dir);
	else
		memcpy(a->mac, c.sig, 64);
	audit_keys_release(&k);
	return ret;
}

/* Under s->lock: a settled log, the anchor's head, and a checkpoint of it all. */
static int take_checkpoint(struct store *s, const char *cpdir, struct backup_info *bi,
			   struct perr *e)
{
	struct strbuf pol = STRBUF_INIT;
	rocksdb_checkpoint_t *cp = NULL;
	char *err = NULL;
	int ret;

	/* records the daemon coalesces come first; the hook takes s->lock itself */
	ret = audit_drain(s);
	if (ret)
		return perr_set(e, EIO, "%s: the audit log cannot reach the store", s->dir);
	pthread_mutex_lock(&s->lock);
	ret = settle_audit(s, &bi->anchor);
	if (ret) {
		ret = perr_set(e, EIO, "%s: the audit log cannot reach the store", s->dir);
		goto out;
	}
	bi->time_ns = store_now_ns();
	ret = store_policy_get(s, 0, &pol, &bi->policy_version);
	if (ret == -ENOENT) {
		bi->policy_version = 0;
		ret = 0;
	}
	if (ret) {
		ret = perr_set(e, -ret, "%s: cannot read the policy version", s->dir);
		goto out;
	}
	cp = rocksdb_checkpoint_object_create(s->db, &err);
	/* log_size_for_flush 0: every memtable, journaled audit records too, to tables */
	if (!err)
		rocksdb_checkpoint_create(cp, cpdir, 0, &err);
	if (err)
		ret = perr_set(e, rocks_errno(err), "%s: cannot make a checkpoint: %s", cpdir, err);
out:
	pthread_mutex_unlock(&s->lock);
	if (cp)
		rocksdb_checkpoint_object_destroy(cp);
	free(err);
	strbuf_release(&pol);
	return ret;
}

/*
 * Opens the checkpoint as a database of its own, with the pool's options
 * but no compactions, so the files BackupEngine lists stay the ones the
 * checkpoint linked.
 */
static rocksdb_t *open_checkpoint(struct store *s, const char *cpdir,
				  rocksdb_column_family_handle_t *cf[CF_COUNT], char **err)
{
	rocksdb_options_t *dbo = rocksdb_options_create_copy(s->db_opts), *o[CF_COUNT];
	const rocksdb_options_t *co[CF_COUNT];
	rocksdb_t *db;

	rocksdb_options_set_create_if_missing(dbo, 0);
	rocksdb_options_set_create_missing_column_families(dbo, 0);
	rocksdb_options_set_disable_auto_compactions(dbo, 1);
	for (int i = 0; i < CF_COUNT; i++) {
		o[i] = rocksdb_options_create_copy(s->cf_opts[i]);
		rocksdb_options_set_disable_auto_compactions(o[i], 1);
		co[i] = o[i];
	}
	db = rocksdb_open_column_families(dbo, cpdir, CF_COUNT, store_cf_names, co, cf, err);
	for (int i = 0; i < CF_COUNT; i++)
		rocksdb_options_destroy(o[i]);
	rocksdb_options_destroy(dbo);
	return db;
}

static int write_pending(struct store *s, struct backup_dest *d, const struct backup_info *bi,
			 const struct backup_seal *seal, struct perr *e)
{
	struct strbuf pend = STRBUF_INIT, keys = STRBUF_INIT, from = STRBUF_INIT;
	int ret;

	strbuf_addf(&pend, "%s/" BACKUP_META_DIR "/" BACKUP_PENDING, d->dir);
	strbuf_addf(&keys, "%s/keys", pend.buf);
	strbuf_addf(&from, "%s/keys", store_dir(s));
	ret = make_dir(pend.buf, e);
	if (!ret)
		ret = backup_copy_keys(from.buf, keys.buf, e);
	if (!ret)
		ret = write_info(s, pend.buf, bi, seal, e);
	if (!ret && store_fsync_path(pend.buf))
		ret = perr_set(e, errno, "%s: %s", pend.buf, strerror(errno));
	strbuf_release(&pend);
	strbuf_release(&keys);
	strbuf_release(&from);
	return ret;
}

/*
 * Seals the checkpoint's audit log (store/backup_seal.c), writes poolfs's
 * part to pending, and lets BackupEngine copy the checkpoint.
 */
static int copy_checkpoint(struct store *s, struct backup_dest *d, const char *cpdir,
			   const struct backup_info *bi, struct perr *e)
{
	rocksdb_column_family_handle_t *cf[CF_COUNT] = { 0 };
	struct backup_seal seal;
	uint8_t chain[32];
	uint64_t last = 0;
	rocksdb_t *db;
	char *err = NULL;
	int ret = 0;

	db = open_checkpoint(s, cpdir, cf, &err);
	if (err) {
		ret = perr_set(e, rocks_errno(err), "%s: cannot open the checkpoint: %s", cpdir, err);
		goto out;
	}
	ret = backup_stored_chain(db, cf[CF_AUDIT], bi->anchor.algo, &last, chain);
	if (!ret && last != bi->anchor.seq)
		ret = -EBADMSG;
	if (ret) {
		ret = perr_set(e, EIO, "%s: the checkpoint's audit log does not end at the anchored record %" PRIu64,
			       cpdir, bi->anchor.seq);
		goto out;
	}
	ret = backup_seal_make(s, &bi->anchor, chain, &seal, e);
	if (!ret)
		ret = write_pending(s, d, bi, &seal, e);
	if (ret)
		goto out;
	rocksdb_backup_engine_create_new_backup_flush(d->be, db, 0, &err);
	if (err)
		ret = perr_set(e, rocks_errno(err), "%s: backup failed: %s", d->dir, err);
out:
	for (int i = 0; i < CF_COUNT; i++)
		if (cf[i])
			rocksdb_column_family_handle_destroy(cf[i]);
	if (db)
		rocksdb_close(db);
	free(err);
	return ret;
}

/* Gives pending to the backup just made, the newest. */
static int name_pending(struct backup_dest *d, struct backup_info *bi, struct perr *e)
{
	struct strbuf pend = STRBUF_INIT, dst = STRBUF_INIT, meta = STRBUF_INIT;
	struct backup_info *v = NULL;
	size_t n;
	int ret;

	ret = backup_dest_list(d, &v, &n, e);
	if (ret)
		goto out;
	if (!n) {
		ret = perr_set(e, EIO, "%s: BackupEngine lists no backup after making one", d->dir);
		goto out;
	}
	strbuf_addf(&meta, "%s/" BACKUP_META_DIR, d->dir);
	strbuf_addf(&pend, "%s/" BACKUP_PENDING, meta.buf);
	strbuf_addf(&dst, "%s/%" PRIu32, meta.buf, v[n - 1].id);
	backup_rmtree(dst.buf);
	if (rename(pend.buf, dst.buf) || store_fsync_path(meta.buf)) {
		ret = perr_set(e, errno, "%s: %s", dst.buf, strerror(errno));
		goto out;
	}
	bi->id = v[n - 1].id;
	bi->size = v[n - 1].size;
	bi->files = v[n - 1].files;
	bi->complete = true;
out:
	free(v);
	strbuf_release(&pend);
	strbuf_release(&dst);
	strbuf_release(&meta);
	return ret;
}

int backup_create(struct store *s, const char *dest, uint64_t rate_limit,
		  struct backup_info *out, struct perr *e)
{
	struct strbuf cpdir = STRBUF_INIT, pend = STRBUF_INIT, pdir = STRBUF_INIT;
	struct backup_dest d;
	struct backup_info bi = { 0 };
	int ret;

	memset(out, 0, sizeof(*out));
	if (s->flags & STORE_OPEN_RDONLY)
		return perr_set(e, EROFS, "%s: opened read-only", s->dir);
	ret = backup_dest_open(&d, dest, true, s, rate_limit, e);
	if (ret)
		return ret;
	ret = settle_pending(&d, e);
	if (ret)
		goto out;
	snprintf(bi.source, sizeof(bi.source), "%s", s->dir);
	/* inside the store: on its file system, so the checkpoint is hard links */
	strbuf_addf(&cpdir, "%s/" CHECKPOINT_OLD, s->dir);
	ret = backup_rmtree(cpdir.buf);
	strbuf_reset(&cpdir);
	strbuf_addf(&cpdir, "%s/" STORE_BACKUP_DIR, s->dir);
	if (!ret)
		ret = private_dir(cpdir.buf, true, e);
	else
		ret = perr_set(e, -ret, "%s/" CHECKPOINT_OLD ": cannot remove a stale checkpoint",
			       s->dir);
	if (ret)
		goto out;
	strbuf_reset(&cpdir);
	strbuf_addf(&cpdir, "%s/" STORE_BACKUP_CHECKPOINT, s->dir);
	ret = backup_rmtree(cpdir.buf);
	if (ret) {
		ret = perr_set(e, -ret, "%s: cannot remove a stale checkpoint", cpdir.buf);
		goto out;
	}
	ret = take_checkpoint(s, cpdir.buf, &bi, e);
	if (!ret)
		ret = sign_anchor(s, &bi.anchor, e);
	if (!ret)
		ret = copy_checkpoint(s, &d, cpdir.buf, &bi, e);
	if (!ret) {
		/* BackupEngine copies the database only: the packs into pending too */
		strbuf_reset(&pend);
		strbuf_addf(&pend, "%s/" BACKUP_META_DIR, d.dir);
		strbuf_addf(&pdir, "%s/" BACKUP_PENDING, pend.buf);
		ret = backup_packs_copy(s, pend.buf, pdir.buf, e);
	}
	if (!ret)
		ret = name_pending(&d, &bi, e);
	if (!ret)
		*out = bi;
out:
	backup_rmtree(cpdir.buf);
	strbuf_release(&cpdir);
	strbuf_release(&pend);
	strbuf_release(&pdir);
	backup_dest_close(&d);
	return ret;
}

/* ---- prune ---- */

static bool listed(const struct backup_info *v, size_t n, const char *name)
{
	char *end;
	unsigned long id;

	errno = 0;
	id = strtoul(name, &end, 10);
	if (errno || *end || end == name)
		return true;	/* not a backup's part: leave it */
	for (size_t i = 0; i < n; i++)
		if (v[i].id == id)
			return true;
	return false;
}

int backup_prune(const char *dest, uint32_t keep, struct perr *e)
{
	struct strbuf meta = STRBUF_INIT, path = STRBUF_INIT;
	struct backup_info *v = NULL;
	struct backup_dest d;
	struct dirent *de;
	char *err = NULL;
	DIR *dir = NULL;
	size_t n;
	int ret;

	if (!keep)
		return perr_set(e, EINVAL, "--keep must be at least 1");
	ret = backup_dest_open(&d, dest, true, NULL, 0, e);
	if (ret)
		return ret;
	rocksdb_backup_engine_purge_old_backups(d.be, keep, &err);
	if (err) {
		ret = perr_set(e, rocks_errno(err), "%s: prune failed: %s", dest, err);
		goto out;
	}
	ret = backup_dest_list(&d, &v, &n, e);
	if (ret)
		goto out;
	strbuf_addf(&meta, "%s/" BACKUP_META_DIR, dest);
	dir = opendir(meta.buf);
	if (!dir) {
		ret = perr_set(e, errno, "%s: %s", meta.buf, strerror(errno));
		goto out;
	}
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' || listed(v, n, de->d_name))
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", meta.buf, de->d_name);
		ret = backup_rmtree(path.buf);
		if (ret) {
			ret = perr_set(e, -ret, "%s: %s", path.buf, strerror(-ret));
			break;
		}
	}
	/* then the pack copies only the pruned backups named */
	if (!ret)
		ret = backup_packs_sweep(meta.buf, e);
out:
	if (dir)
		closedir(dir);
	free(err);
	free(v);
	strbuf_release(&meta);
	strbuf_release(&path);
	backup_dest_close(&d);
	return ret;
}
