/*
 * store/convert.c - encrypting an unencrypted pool, offline (`poolctl
 * encrypt`, docs/encryption.md); re-sealing under a new data key is
 * store/reencrypt.c.
 *
 * Encrypting changes every chunk id (plain SHA-256 to the keyed HMAC),
 * hence every page that lists one, the page boundaries (they depend on
 * the ids) and every content id. So the new database is built beside the
 * old one and swapped in whole, never edited in place:
 *
 *   STORE/convert/db/        the new database, sealed from the first byte
 *   STORE/convert/keys/      hash.key and sign.key (the pool's old secrets,
 *                            so masks and audit signatures stay the same)
 *                            wrapped with the new master key
 *   STORE/convert/READY      written once the new database is complete
 *
 *   meta  "convert_pos"          the last version record converted (resume)
 *   meta  "cmap" HMAC(old id)    the new id of a converted chunk (keyed,
 *                                so it names no plain hash; dropped at the end)
 *   meta  "encrypted_at"         be64: the last audit record of the plain
 *                                pool; kept, it says where the log changed
 *
 * The tree's rows are copied tagged (store/tree_tag.c); a conversion
 * begun by a release before tags copies them untagged, and the pool's
 * first open tags them.
 *
 * Versions are converted one batch each (chunks first, in earlier
 * batches, then pages, references, the record and "convert_pos"), so a
 * run killed at any point goes on at the next version. Refs are counted
 * from scratch by the code that writes them for commits; views are
 * dropped (rebuilt on demand: their keys are content ids). Tree, policy,
 * audit and meta rows are copied (sealed where store_sealed() says) at
 * the end of every run, so they are those of the pool as it is. Until
 * READY exists the old pool is untouched and mounts as before; a run
 * that finds it changed since (a later last audit record) starts over.
 * After READY, store_convert_recover() (store/convert_recover.c) renames
 * the new database and keys into place; it is idempotent and
 * store_open() runs it, so a crash during the swap leaves a pool that the
 * next open completes.
 */
#include "store/convert.h"
#include "store/convert_int.h"

#include "common/alloc.h"
#include "store/audit_int.h"
#include "store/content.h"
#include "store/crypt_store.h"
#include "store/holes.h"
#include "store/internal.h"
#include "store/pack.h"
#include "store/tree_tag.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/codec.h"
#include "common/log.h"

#define META_POS	"convert_pos"
#define MAP_PREFIX	"cmap"

/* ---- the new database ---- */

/*
 * True for the record of an admin command (op "admin.*": status, stats,
 * a refused command): one that changes the pool writes its own record.
 */
static bool changes_nothing(struct store *s, const char *v, size_t vlen, struct strbuf *tmp)
{
	struct audit_rec r;
	json_t *o;
	bool admin;

	if (audit_value_open(s, 0, v, vlen, tmp, &v, &vlen) || audit_decode(v, vlen, &o, &r, NULL))
		return false;
	admin = r.op && !strncmp(r.op, "admin.", 6);
	json_decref(o);
	return admin;
}

/*
 * The seq of the last audit record that may stand for a change to the
 * pool (0: none): an admin's checks between two runs write records too.
 */
static int last_audit_seq(struct store *s, uint64_t *seq)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropt, s->cf[CF_AUDIT]);
	struct strbuf tmp = STRBUF_INIT;
	size_t klen, vlen;
	const char *k, *v;

	*seq = 0;
	for (rocksdb_iter_seek_to_last(it); rocksdb_iter_valid(it); rocksdb_iter_prev(it)) {
		k = rocksdb_iter_key(it, &klen);
		v = rocksdb_iter_value(it, &vlen);
		if (klen == 8 && changes_nothing(s, v, vlen, &tmp))
			continue;
		if (klen == 8)
			*seq = get_be64((const uint8_t *)k);
		break;
	}
	strbuf_release(&tmp);
	return store_iter_end(s, it, "audit log", 0);
}

static int open_new(const char *cdir, bool create, struct store **out)
{
	struct strbuf path = STRBUF_INIT;
	struct store *s = store_alloc(cdir, 0);
	char *err = NULL;
	int ret;

	strbuf_addf(&path, "%s/db", cdir);
	ret = open_db(s, path.buf, create, &err);
	if (ret) {
		log_err("%s: %s", path.buf, err ? err : "cannot open");
		store_free(s);
		s = NULL;
	}
	free(err);
	strbuf_release(&path);
	*out = s;
	return ret;
}

/*
 * Whether cdir/db is an encrypted pool's database that the key opens:
 * READY and the database are files whoever holds the disk can put there,
 * and the swap puts it in place of the pool and deletes the pool's. A
 * meta "format" and a "crypt" row are only its look: its key record and
 * secrets must open with the key the open after the swap will use,
 * before anything is swapped.
 */
int conv_ready_encrypted(const char *dir, const char *cdir, struct perr *e)
{
	struct strbuf v = STRBUF_INIT;
	struct perr le = PERR_INIT;
	struct store *s = NULL;
	int ret = 0;
	bool ok;

	if (open_new(cdir, false, &s))
		return perr_set(e, EIO, "%s: convert/READY is there but convert/db does not open; "
				"nothing swapped", dir);
	ok = !store_get(s, CF_META, "format", 6, &v) && v.len == 4 &&
	     get_be32((const uint8_t *)v.buf) == STORE_FORMAT_CRYPT &&
	     !store_get(s, CF_META, "crypt", 5, &v);
	if (!ok)
		ret = perr_set(e, EKEYREJECTED, "%s: refused: convert/READY is there but convert/db "
			       "is not an encrypted pool's database (put there by hand?); nothing "
			       "swapped", dir);
	else if (crypt_store_load(s, &le))
		ret = perr_set(e, EKEYREJECTED, "%s: refused: convert/READY is there but the key "
			       "does not open convert/db (%s); nothing swapped", dir, le.msg);
	store_free(s);
	strbuf_release(&v);
	return ret;
}

/* keys/NAME.key of old, sealed with c's master key, into cdir/keys/NAME.key. */
static int wrap_secret(struct store *old, const struct store_crypt *c, const char *cdir,
		       const char *name, uint8_t out[32], struct perr *e)
{
	struct strbuf path = STRBUF_INIT, val = STRBUF_INIT;
	char label[128];
	ssize_t n;
	int fd = -1, ret;

	n = store_secret(old, name, out, 32);
	if (n != 32) {
		ret = perr_set(e, EINVAL, "%s: keys/%s.key is not a 32-byte key", old->dir, name);
		goto out;
	}
	crypt_secret_label(c, name, label, sizeof(label));
	ret = crypt_wrap_secret(crypt_cipher_of(c->k), c->master, label, out, 32, &val);
	if (ret) {
		ret = perr_set(e, -ret, "cannot seal keys/%s.key", name);
		goto out;
	}
	strbuf_addf(&path, "%s/keys/%s.key", cdir, name);
	errno = 0;
	fd = open(path.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, val.buf, val.len) != (ssize_t)val.len || fsync(fd))
		ret = perr_set(e, errno ? errno : EIO, "%s: %s", path.buf,
			       strerror(errno ? errno : EIO));
out:
	if (fd >= 0)
		close(fd);
	OPENSSL_cleanse(val.buf, val.alloc);
	strbuf_release(&val);
	strbuf_release(&path);
	return ret;
}

/* A new dir/convert for old: keys, the new database with its key record. */
static int start_fresh(struct store *old, const char *cdir, const struct store_crypt_opts *o,
		       struct audit_rec *start, struct store **out, struct perr *e)
{
	rocksdb_writebatch_t *b = NULL;
	struct strbuf path = STRBUF_INIT, meta = STRBUF_INIT;
	struct store_crypt *c = NULL;
	struct store *s = NULL;
	uint64_t seq;
	uint8_t v[8];
	int ret;

	*out = NULL;
	ret = conv_rm_rf(cdir);
	if (ret) {
		ret = perr_set(e, -ret, "%s: cannot remove an earlier attempt", cdir);
		goto out;
	}
	if (start) {
		ret = audit_append(old, start);
		if (!ret)
			ret = audit_drain(old);
		if (ret) {
			ret = perr_set(e, -ret, "%s: cannot write the audit record", old->dir);
			goto out;
		}
	}
	ret = last_audit_seq(old, &seq);
	if (ret) {
		ret = perr_set(e, -ret, "%s: cannot read the audit log", old->dir);
		goto out;
	}
	ret = crypt_prepare(o, &c, e);
	if (ret)
		goto out;
	/* the tree is copied tagged, as a new pool's is made (store/tree_tag.c) */
	c->tree_tag = true;
	strbuf_addf(&path, "%s/keys", cdir);
	if (mkdir(cdir, 0700) || mkdir(path.buf, 0700)) {
		ret = perr_set(e, errno, "%s: %s", cdir, strerror(errno));
		goto out;
	}
	ret = wrap_secret(old, c, cdir, "hash", c->hash_key, e);
	if (!ret)
		ret = wrap_secret(old, c, cdir, "sign", c->sign_key, e);
	if (ret)
		goto out;
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/db", cdir);
	if (mkdir(path.buf, 0700)) {
		ret = perr_set(e, errno, "%s: %s", path.buf, strerror(errno));
		goto out;
	}
	ret = open_new(cdir, true, &s);
	if (ret) {
		ret = perr_set(e, EIO, "%s: cannot create the new database", cdir);
		goto out;
	}
	ret = crypt_store_meta(c, &meta);
	if (ret) {
		ret = perr_set(e, -ret, "cannot wrap the new keyset");
		goto out;
	}
	b = rocksdb_writebatch_create();
	rocksdb_writebatch_put_cf(b, s->cf[CF_META], "crypt", 5, meta.buf, meta.len);
	put_be64(v, seq);
	rocksdb_writebatch_put_cf(b, s->cf[CF_META], META_SRC, strlen(META_SRC),
				  (const char *)v, 8);
	ret = store_write(s, b, true);
	if (ret) {
		ret = perr_set(e, -ret, "%s: cannot write the new database", cdir);
		goto out;
	}
	s->crypt = c;
	s->tree_tag = true;
	c = NULL;
	*out = s;
	s = NULL;
out:
	if (b)
		rocksdb_writebatch_destroy(b);
	crypt_store_free(c);
	store_free(s);
	strbuf_release(&meta);
	strbuf_release(&path);
	return ret;
}

/*
 * The conversion dir/convert holds, when it is one to go on with: made
 * from old as it is now, to o's cipher. *out NULL: start afresh.
 */
static int try_resume(struct store *old, const char *cdir, const struct store_crypt_opts *o,
		      struct store **out, struct perr *e)
{
	struct strbuf v = STRBUF_INIT;
	struct perr le = PERR_INIT;
	struct store *s = NULL;
	uint64_t seq;
	int ret;

	*out = NULL;
	if (!conv_exists(cdir) || open_new(cdir, false, &s))
		return 0;
	ret = crypt_store_load(s, &le);
	if (ret == -EKEYREJECTED || ret == -ENOKEY) {
		ret = perr_set(e, -ret, "%s (a conversion begun with another key: give that one, "
			       "or remove %s to start over)", le.msg, cdir);
		goto out;
	}
	ret = 0;
	if (!s->crypt || store_get(s, CF_META, META_SRC, strlen(META_SRC), &v) || v.len != 8 ||
	    last_audit_seq(old, &seq) || get_be64((const uint8_t *)v.buf) != seq)
		goto out;		/* half made, or the pool changed since: start over */
	if (crypt_cipher_of(s->crypt->k) != o->cipher) {
		ret = perr_set(e, EINVAL, "%s: a conversion to %s is under way; run it with "
			       "--cipher %s, or remove %s to start over", old->dir,
			       crypt_cipher_name(crypt_cipher_of(s->crypt->k)),
			       crypt_cipher_name(crypt_cipher_of(s->crypt->k)), cdir);
		goto out;
	}
	*out = s;
	s = NULL;
out:
	store_free(s);
	strbuf_release(&v);
	return ret;
}

/* ---- versions ---- */

void conv_progress(struct conv *cv, const char *phase, uint64_t done, uint64_t total,
		     bool force)
{
	time_t now = time(NULL);

	if (!cv->fn || (!force && now == cv->shown))
		return;
	cv->shown = now;
	cv->fn(cv->arg, phase, done, total);
}

static void map_key(struct conv *cv, const uint8_t old[32], uint8_t key[36])
{
	memcpy(key, MAP_PREFIX, 4);
	/* a keyed name: the map never shows which plain hash a pool held */
	if (crypt_chunk_id(cv->s->crypt->k, old, 32, key + 4)) {
		fprintf(stderr, "poolfs: HMAC failed\n");
		abort();
	}
}

int conv_flush_batch(struct conv *cv, bool sync)
{
	int ret = store_write(cv->s, cv->b, sync);

	rocksdb_writebatch_clear(cv->b);
	cv->pending = 0;
	return ret;
}

/* The new id of the chunk old id sha (len bytes), converting it when it is not yet. */
static int chunk_convert(struct conv *cv, const uint8_t sha[32], uint64_t len, uint8_t id[32])
{
	uint8_t mkey[36], key[33];
	int ret;

	map_key(cv, sha, mkey);
	ret = store_get(cv->s, CF_META, mkey, sizeof(mkey), &cv->val);
	if (!ret && cv->val.len == 32) {
		memcpy(id, cv->val.buf, 32);
		return 0;
	}
	if (ret && ret != -ENOENT)
		return ret;
	key[0] = 'c';
	memcpy(key + 1, sha, 32);
	ret = pack_chunk_get(cv->old, key, (size_t)len, &cv->val);
	if (ret || cv->val.len != len) {
		log_err("%s: a chunk of %llu bytes is %s: run poolctl scrub", cv->old->dir,
			(unsigned long long)len, ret ? "missing" : "of another length");
		return -EIO;
	}
	ret = crypt_chunk_id(cv->s->crypt->k, cv->val.buf, cv->val.len, id);
	if (ret)
		return ret;
	memcpy(key + 1, id, 32);
	strbuf_reset(&cv->sealed);
	strbuf_grow(&cv->sealed, cv->val.len + CRYPT_OVERHEAD);
	ret = store_seal_to(cv->s, CF_CHUNKS, key, sizeof(key), cv->val.buf, cv->val.len,
			    (uint8_t *)cv->sealed.buf);
	if (ret)
		return ret;
	/* chunks before their map entries: an entry proves its chunk is stored */
	rocksdb_writebatch_put_cf(cv->b, cv->s->cf[CF_CHUNKS], (const char *)key, sizeof(key),
				  cv->sealed.buf, cv->val.len + CRYPT_OVERHEAD);
	rocksdb_writebatch_put_cf(cv->b, cv->s->cf[CF_META], (const char *)mkey, sizeof(mkey),
				  (const char *)id, 32);
	cv->c->chunks++;
	cv->c->bytes += len;
	cv->pending += cv->val.len;
	if (cv->pending >= CONV_BATCH_BYTES)
		return conv_flush_batch(cv, false);
	return 0;
}

static int version_convert(struct conv *cv, const uint8_t *k, const uint8_t *v, size_t vlen)
{
	struct chunk_list lo = CHUNK_LIST_INIT, ln = CHUNK_LIST_INIT;
	struct version_rec vr;
	uint8_t id[32];
	int ret;

	ret = version_decode(v, vlen, &vr);
	if (!ret)
		ret = pages_load(cv->old, vr.pages, vr.npages, vr.size, &lo);
	for (size_t i = 0; !ret && i < lo.n; i++) {
		if (lo.v[i].hole) {
			chunk_list_add(&ln, hole_sha, lo.v[i].len);
			continue;
		}
		ret = chunk_convert(cv, lo.v[i].sha, lo.v[i].len, id);
		if (!ret)
			chunk_list_add(&ln, id, lo.v[i].len);
	}
	/* the chunks first: version_put_copy() reads refs rows the batch would hold */
	if (!ret && cv->pending)
		ret = conv_flush_batch(cv, false);
	if (!ret)
		ret = version_put_copy(cv->s, cv->b, get_be64(k), get_be64(k + 8), &vr, &ln);
	if (!ret) {
		rocksdb_writebatch_put_cf(cv->b, cv->s->cf[CF_META], META_POS, strlen(META_POS),
					  (const char *)k, 16);
		ret = conv_flush_batch(cv, false);
	}
	if (ret)
		log_err("%s: inode %llu version %llu cannot be converted", cv->old->dir,
			(unsigned long long)get_be64(k), (unsigned long long)get_be64(k + 8));
	chunk_list_release(&lo);
	chunk_list_release(&ln);
	return ret;
}

static int versions_convert(struct conv *cv)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(cv->old->db, cv->old->ropt,
							   cv->old->cf[CF_VERSIONS]);
	struct strbuf pos = STRBUF_INIT, key = STRBUF_INIT, val = STRBUF_INIT;
	uint64_t total = 0, done = 0;
	int ret = 0;

	if (!store_get(cv->s, CF_META, META_POS, strlen(META_POS), &pos) && pos.len == 16)
		cv->c->resumed = 1;
	else
		strbuf_reset(&pos);
	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen;
		const char *k = rocksdb_iter_key(it, &klen);

		total++;
		if (pos.len && (klen != 16 || memcmp(k, pos.buf, 16) <= 0))
			done++;
	}
	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it) && !ret;
	     rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);
		const char *v = rocksdb_iter_value(it, &vlen);

		if (klen != 16) {
			log_err("%s: a versions row with a %zu-byte key", cv->old->dir, klen);
			ret = -EIO;
			break;
		}
		if (pos.len && memcmp(k, pos.buf, 16) <= 0)
			continue;
		strbuf_reset(&key);
		strbuf_add(&key, k, klen);
		strbuf_reset(&val);
		strbuf_add(&val, v, vlen);
		ret = version_convert(cv, (const uint8_t *)key.buf, (const uint8_t *)val.buf,
				      val.len);
		if (++cv->c->versions == 2)
			conv_test_kill("versions");
		conv_progress(cv, "versions", ++done, total, false);
	}
	ret = store_iter_end(cv->old, it, "versions", ret);
	if (!ret)
		conv_progress(cv, "versions", done, total, true);
	strbuf_release(&pos);
	strbuf_release(&key);
	strbuf_release(&val);
	return ret;
}

/* ---- the other families ---- */

static bool meta_skipped(const char *k, size_t klen)
{
	static const char *const names[] = { "format", "crypt", META_POS, META_SRC };

	if (klen >= 4 && !memcmp(k, MAP_PREFIX, 4))
		return true;
	/* packs' live bytes: the new pool holds every chunk inline and no pack */
	if (klen == 8 && !memcmp(k, "pack", 4))
		return true;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (klen == strlen(names[i]) && !memcmp(k, names[i], klen))
			return true;
	return false;
}

/* One row of cf, as the new pool keeps it. */
static int row_copy(struct conv *cv, enum store_cf cf, const char *k, size_t klen,
		    const char *v, size_t vlen)
{
	char *sealed;
	size_t len;
	int ret;

	switch (cf) {
	case CF_META:
		if (meta_skipped(k, klen))
			return 0;
		break;
	case CF_VIEWS:
		/* views are dropped (keyed by content ids, which change); the budget stays */
		if (klen != 1 || k[0] != 'b')
			return 0;
		break;
	case CF_TREE:
		tree_put(cv->s, cv->b, k, klen, v, vlen);
		cv->pending += klen + vlen + CRYPT_OVERHEAD;
		return 0;
	case CF_POLICY:
		store_put_value(cv->s, cv->b, cf, k, klen, v, vlen);
		cv->pending += vlen;
		return 0;
	case CF_AUDIT:
		if (klen != 8) {
			log_err("%s: an audit row with a %zu-byte key", cv->old->dir, klen);
			return -EIO;
		}
		len = vlen;
		sealed = xmalloc(vlen ? vlen : 1);
		memcpy(sealed, v, vlen);
		ret = audit_value_seal(cv->s, get_be64((const uint8_t *)k), &sealed, &len);
		if (!ret)
			rocksdb_writebatch_put_cf(cv->b, cv->s->cf[cf], k, klen, sealed, len);
		free(sealed);
		cv->pending += len;
		cv->c->records++;
		return ret;
	default:
		break;
	}
	rocksdb_writebatch_put_cf(cv->b, cv->s->cf[cf], k, klen, v, vlen);
	cv->pending += klen + vlen;
	return 0;
}

static int family_copy(struct conv *cv, enum store_cf cf)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(cv->old->db, cv->old->ropt,
							   cv->old->cf[cf]);
	int ret = 0;

	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it) && !ret;
	     rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);
		const char *v = rocksdb_iter_value(it, &vlen);

		ret = row_copy(cv, cf, k, klen, v, vlen);
		if (!ret && cv->pending >= CONV_BATCH_BYTES)
			ret = conv_flush_batch(cv, false);
	}
	return store_iter_end(cv->old, it, store_cf_names[cf], ret);
}

int store_compact_all(struct store *s, bool all_blobs)
{
	const char *key[] = { "blob_garbage_collection_age_cutoff" };
	const char *one[] = { "1.0" }, *usual[] = { "0.25" };
	char *err = NULL;
	int ret = 0;

	if (all_blobs) {
		rocksdb_set_options_cf(s->db, s->cf[CF_CHUNKS], 1, key, one, &err);
		if (err) {
			log_err("%s: cannot widen blob GC: %s", s->dir, err);
			rocksdb_free(err);
			return -EIO;
		}
	}
	for (int cf = 0; !ret && cf < CF_COUNT; cf++) {
		ret = store_flush(s, (enum store_cf)cf);
		if (!ret)
			rocksdb_compact_range_cf(s->db, s->cf[cf], NULL, 0, NULL, 0);
	}
	if (all_blobs) {
		rocksdb_set_options_cf(s->db, s->cf[CF_CHUNKS], 1, key, usual, &err);
		rocksdb_free(err);
	}
	return ret;
}

static int finish_db(struct conv *cv)
{
	static const enum store_cf copied[] = { CF_DEFAULT, CF_TREE, CF_POLICY, CF_AUDIT,
						CF_VIEWS, CF_META };
	uint8_t v[4];
	int ret = 0;

	for (size_t i = 0; !ret && i < sizeof(copied) / sizeof(copied[0]); i++) {
		conv_progress(cv, "tree, policy, audit", i, sizeof(copied) / sizeof(copied[0]), true);
		ret = family_copy(cv, copied[i]);
	}
	if (ret)
		return ret;
	view_totals_put(cv->s, cv->b, 0, 0);
	rocksdb_writebatch_delete_range_cf(cv->b, cv->s->cf[CF_META], MAP_PREFIX, 4,
					   MAP_PREFIX "\xff", 5);
	rocksdb_writebatch_delete_cf(cv->b, cv->s->cf[CF_META], META_POS, strlen(META_POS));
	/* last: until it is there the new database is no pool */
	put_be32(v, STORE_FORMAT_CRYPT);
	rocksdb_writebatch_put_cf(cv->b, cv->s->cf[CF_META], "format", 6, (const char *)v, 4);
	ret = conv_flush_batch(cv, true);
	conv_test_kill("rest");
	conv_progress(cv, "compacting", 0, 1, true);
	if (!ret)
		ret = store_compact_all(cv->s, false);
	conv_progress(cv, "compacting", 1, 1, true);
	return ret;
}

/* ---- encrypting a pool ---- */

/* Holds db/LOCK as RocksDB does, so no poolfs opens the pool while it is swapped. */
static int lock_db(const char *dir)
{
	struct strbuf path = STRBUF_INIT;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd;

	strbuf_addf(&path, "%s/db/LOCK", dir);
	fd = open(path.buf, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && fcntl(fd, F_SETLK, &fl)) {
		close(fd);
		fd = -EBUSY;
	} else if (fd < 0) {
		fd = -errno;
	}
	strbuf_release(&path);
	return fd;
}

static int journal_empty(const char *dir)
{
	struct strbuf path = STRBUF_INIT;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	strbuf_addf(&path, "%s/journal", dir);
	d = opendir(path.buf);
	if (!d) {
		ret = errno == ENOENT ? 0 : -errno;
		goto out;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			ret = -EBUSY;
	closedir(d);
out:
	strbuf_release(&path);
	return ret;
}

static int write_ready(const char *cdir)
{
	struct strbuf path = STRBUF_INIT;
	int fd, ret = 0;

	strbuf_addf(&path, "%s/READY", cdir);
	fd = open(path.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || fsync(fd))
		ret = -errno;
	if (fd >= 0)
		close(fd);
	if (!ret)
		ret = store_fsync_path(cdir);
	strbuf_release(&path);
	return ret;
}

int store_encrypt(const char *dir, const struct store_crypt_opts *o, struct audit_rec *start,
		  store_progress_fn fn, void *arg, struct store_convert_counts *c,
		  struct perr *e)
{
	struct conv cv = { .fn = fn, .arg = arg, .c = c, .val = STRBUF_INIT,
			   .sealed = STRBUF_INIT };
	struct strbuf cdir = STRBUF_INIT;
	int lock = -1, ret;

	memset(c, 0, sizeof(*c));
	if (!o || o->cipher == CRYPT_PLAIN)
		return perr_set(e, EINVAL, "encrypt: needs a cipher");
	/* a run killed during its swap: finishing that is the whole job */
	ret = store_convert_recover(dir, e);
	if (ret) {
		c->resumed = ret > 0;
		return ret < 0 ? ret : 0;
	}
	ret = store_open(dir, 0, &cv.old, e);
	if (ret)
		goto out;
	if (cv.old->crypt) {
		ret = perr_set(e, EEXIST, "%s: the pool is encrypted already", dir);
		goto out;
	}
	strbuf_addf(&cdir, "%s/convert", dir);
	ret = try_resume(cv.old, cdir.buf, o, &cv.s, e);
	if (!ret && !cv.s)
		ret = start_fresh(cv.old, cdir.buf, o, start, &cv.s, e);
	if (ret)
		goto out;
	cv.b = rocksdb_writebatch_create();
	ret = versions_convert(&cv);
	if (!ret)
		ret = finish_db(&cv);
	if (ret) {
		ret = perr_set(e, -ret, "%s: the conversion stopped (%s); the pool is unchanged, "
			       "and a new run goes on from here", dir, strerror(-ret));
		goto out;
	}
	store_free(cv.s);
	cv.s = NULL;
	/* a clean close moves every audit record into RocksDB and empties the journal */
	store_close(cv.old);
	cv.old = NULL;
	lock = lock_db(dir);
	if (lock < 0) {
		ret = perr_set(e, -lock, "%s: the pool was opened during the conversion; run "
			       "it again", dir);
		goto out;
	}
	ret = journal_empty(dir);
	if (!ret)
		ret = write_ready(cdir.buf);
	if (ret) {
		ret = perr_set(e, -ret, "%s: cannot complete the conversion: %s", dir,
			       strerror(-ret));
		goto out;
	}
	conv_test_kill("ready");
	ret = store_convert_recover(dir, e);
	if (ret > 0)
		ret = 0;
out:
	if (lock >= 0)
		close(lock);
	if (cv.b)
		rocksdb_writebatch_destroy(cv.b);
	store_free(cv.s);
	store_close(cv.old);
	strbuf_release(&cv.val);
	strbuf_release(&cv.sealed);
	strbuf_release(&cdir);
	return ret;
}
