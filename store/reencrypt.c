/*
 * store/reencrypt.c - re-sealing an encrypted pool's values under its
 * current data key, offline (`poolctl key reencrypt`, docs/encryption.md).
 *
 * Every sealed value whose key id is not the current one is opened and
 * sealed again in place, in batches, optionally at a given rate; a run
 * stopped anywhere goes on where the next finds values of old keys.
 * Then every family is compacted with blob GC over every blob file, so
 * the old ciphertexts leave RocksDB's files too.
 */
#include "store/convert.h"
#include "store/convert_int.h"

#include "common/alloc.h"
#include "store/crypt_store.h"
#include "store/internal.h"
#include "store/pack.h"
#include "store/pack_gc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/codec.h"
#include "common/log.h"

struct reseal {
	struct conv cv;
	uint32_t cur;
	uint64_t rate;
	struct timespec t0;
};

static void throttle(struct reseal *r)
{
	struct timespec now, ts;
	double want, have;

	if (!r->rate)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	want = (double)r->cv.c->bytes / (double)r->rate;
	have = (double)(now.tv_sec - r->t0.tv_sec) + (now.tv_nsec - r->t0.tv_nsec) / 1e9;
	if (want <= have)
		return;
	want -= have;
	ts.tv_sec = (time_t)want;
	ts.tv_nsec = (long)((want - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

static int reseal_row(struct reseal *r, enum store_cf cf, const char *k, size_t klen,
		      const char *v, size_t vlen)
{
	struct store *s = r->cv.s;
	const char *p;
	char *val;
	size_t len;
	int ret;

	if (cf == CF_AUDIT) {
		if (klen != 8 || vlen < 8 || crypt_key_of((const uint8_t *)v + 8, vlen - 8) == r->cur)
			return 0;
		ret = audit_value_open(s, get_be64((const uint8_t *)k), v, vlen, &r->cv.val, &p,
				       &len);
		if (ret)
			return -EIO;
		val = xmalloc(len ? len : 1);
		memcpy(val, p, len);
		ret = audit_value_seal(s, get_be64((const uint8_t *)k), &val, &len);
		if (!ret)
			rocksdb_writebatch_put_cf(r->cv.b, s->cf[cf], k, klen, val, len);
		free(val);
	} else {
		if (!store_sealed(s, cf, k, klen) || crypt_key_of((const uint8_t *)v, vlen) == r->cur)
			return 0;
		/* a pack locator (never as short as a sealed value): its record moved above */
		if (cf == CF_CHUNKS && vlen == PACK_LOC_LEN && ((uint8_t)v[0] == PACK_LOC_V1 || (uint8_t)v[0] == PACK_LOC_SEALED))
			return 0;
		ret = store_open_value(s, cf, k, klen, v, vlen, &r->cv.val);
		if (ret)
			return ret;
		store_put_value(s, r->cv.b, cf, k, klen, r->cv.val.buf, r->cv.val.len);
		len = r->cv.val.len;
	}
	if (ret)
		return ret;
	r->cv.c->records++;
	r->cv.c->bytes += len;
	r->cv.pending += len;
	if (r->cv.pending >= (r->rate && r->rate < CONV_BATCH_BYTES ? 1u << 20 : CONV_BATCH_BYTES)) {
		ret = conv_flush_batch(&r->cv, false);
		throttle(r);
	}
	return ret;
}

static int reseal_family(struct reseal *r, enum store_cf cf, uint64_t *done, uint64_t total)
{
	struct store *s = r->cv.s;
	rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
	rocksdb_iterator_t *it;
	int ret = 0;

	/* a snapshot: the iterator never meets the values this pass rewrites */
	rocksdb_readoptions_set_fill_cache(ro, 0);
	it = rocksdb_create_iterator_cf(s->db, ro, s->cf[cf]);
	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it) && !ret;
	     rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);
		const char *v = rocksdb_iter_value(it, &vlen);

		ret = reseal_row(r, cf, k, klen, v, vlen);
		conv_progress(&r->cv, "values", ++*done, total, false);
	}
	ret = store_iter_end(s, it, store_cf_names[cf], ret);
	rocksdb_readoptions_destroy(ro);
	return ret;
}

static uint64_t family_rows(struct store *s, enum store_cf cf)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropt, s->cf[cf]);
	uint64_t n = 0;

	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it))
		n++;
	rocksdb_iter_destroy(it);
	return n;
}

int store_reencrypt(struct store *s, uint64_t rate, store_progress_fn fn, void *arg,
		    struct store_convert_counts *c, struct perr *e)
{
	static const enum store_cf sealed[] = { CF_CHUNKS, CF_VERSIONS, CF_POLICY, CF_VIEWS,
						CF_AUDIT };
	struct reseal r = { .cv = { .s = s, .fn = fn, .arg = arg, .c = c, .val = STRBUF_INIT,
				    .sealed = STRBUF_INIT }, .rate = rate };
	uint64_t total = 0, done = 0;
	int ret = 0;

	memset(c, 0, sizeof(*c));
	if (!s->crypt)
		return perr_set(e, EINVAL, "%s: the pool is not encrypted", s->dir);
	if (s->flags & STORE_OPEN_RDONLY)
		return perr_set(e, EROFS, "%s: opened read-only", s->dir);
	r.cur = crypt_current(s->crypt->k);
	/*
	 * Pack records first: rewritten sealed under the current key into new
	 * packs, their locators swapped, the old packs deleted (store/pack_gc.c).
	 * The pass below then leaves locators alone.
	 */
	if (pack_any(s)) {
		struct pack_gc_stats pst;

		conv_progress(&r.cv, "packs", 0, 1, true);
		ret = store_pack_gc(s, true, &pst);
		if (!ret && pst.kept)
			return perr_set(e, EIO, "%s: %u pack files still hold records it cannot "
					"re-seal (damaged, or their chunk is being written): run "
					"poolctl scrub, then this again", s->dir, pst.kept);
		if (ret)
			return perr_set(e, -ret, "%s: re-sealing pack records stopped (%s); a new "
					"run goes on", s->dir, strerror(-ret));
		c->records += pst.moved;
		c->bytes += pst.moved_bytes;
		conv_progress(&r.cv, "packs", 1, 1, true);
	}
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	ret = audit_drain(s);
	for (size_t i = 0; !ret && i < sizeof(sealed) / sizeof(sealed[0]); i++)
		total += family_rows(s, sealed[i]);
	r.cv.b = rocksdb_writebatch_create();
	/* s->lock: nothing else in this process writes meanwhile (audit appends take it too) */
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; !ret && i < sizeof(sealed) / sizeof(sealed[0]); i++)
		ret = reseal_family(&r, sealed[i], &done, total);
	if (!ret)
		ret = conv_flush_batch(&r.cv, true);
	pthread_mutex_unlock(&s->lock);
	conv_progress(&r.cv, "values", done, total, true);
	/*
	 * The old ciphertexts stay in older tables and blob files until
	 * compacted; blob GC normally rewrites only the oldest quarter of the
	 * blob files, so for this compaction it takes them all.
	 */
	if (!ret)
		ret = store_compact_all(s, true);
	if (ret)
		ret = perr_set(e, -ret, "%s: re-encryption stopped (%s); a new run goes on",
			       s->dir, strerror(-ret));
	rocksdb_writebatch_destroy(r.cv.b);
	strbuf_release(&r.cv.val);
	strbuf_release(&r.cv.sealed);
	return ret;
}
