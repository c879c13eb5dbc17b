/*
 * store/backup.c - backups on RocksDB's BackupEngine: create, prune. The
 * destination and the list are store/backup_dest.c's.
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
	ret = backup_write_file(path.buf, text, strlen(text), e);
	if (ret)
		goto out;
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/anchor", dir);
	strbuf_addch(&line, '\n');
	ret = backup_write_file(path.buf, line.buf, line.len, e);
	if (ret)
		goto out;
	strbuf_reset(&path);
	strbuf_reset(&line);
	strbuf_addf(&path, "%s/" BACKUP_SEAL_FILE, dir);
	backup_seal_format(seal, &line);
	strbuf_addch(&line, '\n');
	ret = backup_write_file(path.buf, line.buf, line.len, e);
out:
	free(text);
	json_decref(doc);
	strbuf_release(&line);
	strbuf_release(&path);
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
		ret = perr_set(e, backup_rocks_errno(err), "%s: cannot make a checkpoint: %s", cpdir, err);
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
	ret = backup_make_dir(pend.buf, e);
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
		ret = perr_set(e, backup_rocks_errno(err), "%s: cannot open the checkpoint: %s", cpdir, err);
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
		ret = perr_set(e, backup_rocks_errno(err), "%s: backup failed: %s", d->dir, err);
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
		ret = backup_private_dir(cpdir.buf, true, e);
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
		ret = perr_set(e, backup_rocks_errno(err), "%s: prune failed: %s", dest, err);
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
