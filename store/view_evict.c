/*
 * store/view_evict.c - evicting least recently used views: the one place
 * the store counts references down and deletes pages and chunks.
 *
 * File versions never drop a reference, so a chunk a version lists keeps
 * a count of at least 1 and survives the eviction of every view sharing
 * it. What a view alone held goes in the same batch that removes the view
 * record, so a crash leaves the view whole or gone. Two things stay even
 * at a count of 0: views a reader holds open, which are skipped, and the
 * bytes of chunks a writer in flight has pinned, whose refs row goes but
 * whose bytes stay for that writer's commit (store/view_pin.c).
 *
 * Eviction scans the 'a' rows, one per view, and sorts them by last use.
 * That is a pass over all cached views each time a commit goes over the
 * budget, fine for the thousands a 1 GiB budget holds.
 * NEEDSWORK: an index by last use if budgets grow to millions of views.
 */
#include "common/alloc.h"
#include "store/content.h"
#include "store/crypt_store.h"
#include "store/internal.h"
#include "store/pack.h"
#include "store/pack_gc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/log.h"

struct victim {
	uint8_t key[65];		/* 'a' row key */
	int64_t used;
	uint64_t size;
};

struct victims {
	struct victim *v;
	size_t n, alloc;
};

/* A count to take off a refs row; key is 'p' or 'c' then the hash. */
struct drop {
	uint8_t key[33];
	uint64_t n;
};

struct drops {
	struct drop *v;
	size_t n, alloc;
};

static void drop_add(struct drops *d, char kind, const uint8_t sha[32])
{
	ALLOC_GROW(d->v, d->n + 1, d->alloc);
	d->v[d->n].key[0] = (uint8_t)kind;
	memcpy(d->v[d->n].key + 1, sha, 32);
	d->v[d->n++].n = 1;
}

static int cmp_drop(const void *a, const void *b)
{
	return memcmp(((const struct drop *)a)->key, ((const struct drop *)b)->key, 33);
}

/* Sorts d and sums the counts of equal keys into one entry each. */
static void drops_merge(struct drops *d)
{
	size_t m = 0;

	if (d->n)
		qsort(d->v, d->n, sizeof(*d->v), cmp_drop);
	for (size_t i = 0; i < d->n; i++) {
		if (m && !memcmp(d->v[m - 1].key, d->v[i].key, 33))
			d->v[m - 1].n += d->v[i].n;
		else
			d->v[m++] = d->v[i];
	}
	d->n = m;
}

static int cmp_victim(const void *a, const void *b)
{
	const struct victim *x = a, *y = b;

	if (x->used != y->used)
		return x->used < y->used ? -1 : 1;
	return memcmp(x->key, y->key, sizeof(x->key));
}

static int victims_load(struct store *s, struct victims *vs)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropt, s->cf[CF_VIEWS]);
	int ret = 0;

	for (rocksdb_iter_seek(it, "a", 1); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);
		const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it, &vlen);
		struct victim *x;

		if (klen != 65 || k[0] != 'a')
			break;
		if (vlen != 16) {
			ret = -EIO;
			break;
		}
		ALLOC_GROW(vs->v, vs->n + 1, vs->alloc);
		x = &vs->v[vs->n++];
		memcpy(x->key, k, 65);
		x->used = (int64_t)get_be64(v);
		x->size = get_be64(v + 8);
	}
	ret = store_iter_end(s, it, "scanning views failed", ret);
	if (!ret && vs->n)
		qsort(vs->v, vs->n, sizeof(*vs->v), cmp_victim);
	return ret;
}

/* Deletes the view of 'a' key akey from b and counts down its pages. */
static int view_drop(struct store *s, rocksdb_writebatch_t *b, const uint8_t akey[65],
		     struct drops *pages)
{
	struct strbuf raw = STRBUF_INIT;
	struct view_rec vr;
	uint8_t vkey[65];
	int ret;

	memcpy(vkey, akey, sizeof(vkey));
	vkey[0] = 'v';
	ret = store_get_value(s, CF_VIEWS, vkey, sizeof(vkey), &raw);
	if (!ret)
		ret = view_decode((const uint8_t *)raw.buf, raw.len, &vr);
	if (ret == -ENOENT) {
		/* a segment map's 'a' row (store/view_map.c), or one whose view is gone */
		vkey[0] = 'm';
		if (store_get(s, CF_VIEWS, vkey, sizeof(vkey), &raw) == -ENOENT)
			log_warn("%s: view use record without a view", s->dir);
		vkey[0] = 'v';
		vr.npages = 0;
		ret = 0;
	}
	if (ret)
		goto out;
	for (uint32_t i = 0; i < vr.npages; i++)
		drop_add(pages, 'p', vr.pages + 32 * i);
	rocksdb_writebatch_delete_cf(b, s->cf[CF_VIEWS], (const char *)vkey, sizeof(vkey));
	vkey[0] = 'm';
	rocksdb_writebatch_delete_cf(b, s->cf[CF_VIEWS], (const char *)vkey, sizeof(vkey));
	rocksdb_writebatch_delete_cf(b, s->cf[CF_VIEWS], (const char *)akey, 65);
out:
	strbuf_release(&raw);
	return ret;
}

/*
 * Takes d's counts off the refs rows. A row reaching 0 goes, and so does
 * what it names: a page (whose chunks then go into *chunks), or a chunk
 * unless a writer has it pinned. Caller holds s->lock and pins_lock().
 */
static int drops_apply(struct store *s, rocksdb_writebatch_t *b, struct drops *d,
		       struct drops *chunks)
{
	struct chunk_list l = CHUNK_LIST_INIT;
	struct pack_tally t = { 0 };
	struct strbuf v = STRBUF_INIT;
	bool packs = pack_any(s);
	uint8_t val[12];
	int ret = 0;

	drops_merge(d);
	for (size_t i = 0; i < d->n && !ret; i++) {
		const uint8_t *key = d->v[i].key;
		bool page = key[0] == 'p';
		uint64_t count;

		ret = store_get(s, CF_REFS, key, 33, &v);
		if (!ret && v.len < (page ? 8u : 12u))
			ret = -EIO;
		if (ret)
			break;
		count = get_be64((const uint8_t *)v.buf);
		if (count > d->v[i].n) {
			memcpy(val, v.buf, v.len < sizeof(val) ? v.len : sizeof(val));
			put_be64(val, count - d->v[i].n);
			rocksdb_writebatch_put_cf(b, s->cf[CF_REFS], (const char *)key, 33,
						  (const char *)val, page ? 8 : 12);
			continue;
		}
		if (count < d->v[i].n)
			log_err("%s: refcount below the views that hold it; deleting anyway",
				s->dir);
		rocksdb_writebatch_delete_cf(b, s->cf[CF_REFS], (const char *)key, 33);
		if (!page && packs) {
			/* dead even if a writer has it pinned: it will store it anew */
			ret = pack_dead(s, key, get_be32((const uint8_t *)v.buf + 8), &t, &v);
			if (ret)
				break;
		}
		if (!page) {
			if (!chunk_pins_locked(key + 1))
				rocksdb_writebatch_delete_cf(b, s->cf[CF_CHUNKS], (const char *)key, 33);
			continue;
		}
		ret = store_get_value(s, CF_CHUNKS, key, 33, &v);
		if (!ret) {
			chunk_list_release(&l);
			ret = page_decode((const uint8_t *)v.buf, v.len, &l);
		}
		for (size_t k = 0; !ret && k < l.n; k++)
			if (!l.v[k].hole)
				drop_add(chunks, 'c', l.v[k].sha);
		rocksdb_writebatch_delete_cf(b, s->cf[CF_CHUNKS], (const char *)key, 33);
	}
	if (!ret)
		ret = pack_tally_apply(s, b, &t);
	if (ret == -ENOENT)
		ret = -EIO;
	pack_tally_release(&t);
	chunk_list_release(&l);
	strbuf_release(&v);
	return ret;
}

int view_evict_locked(struct store *s, uint64_t budget)
{
	rocksdb_writebatch_t *b = NULL;
	struct victims vs = { 0 };
	struct drops pages = { 0 }, chunks = { 0 }, none = { 0 };
	uint64_t views, bytes, evicted = 0;
	bool locked = false;
	int ret;

	ret = view_totals(s, &views, &bytes);
	if (ret || bytes <= budget)
		goto out;
	ret = victims_load(s, &vs);
	if (ret)
		goto out;
	b = rocksdb_writebatch_create();
	pins_lock();
	locked = true;
	for (size_t i = 0; i < vs.n && bytes > budget && !ret; i++) {
		if (view_pinned_locked(vs.v[i].key + 1))
			continue;
		ret = view_drop(s, b, vs.v[i].key, &pages);
		bytes -= vs.v[i].size < bytes ? vs.v[i].size : bytes;
		views -= views ? 1 : 0;
		evicted++;
	}
	if (!ret)
		ret = drops_apply(s, b, &pages, &chunks);
	if (!ret)
		ret = drops_apply(s, b, &chunks, &none);
	if (ret || !evicted)
		goto out;
	view_totals_put(s, b, views, bytes);
	ret = store_write(s, b, false);
	/* what eviction made dead in packs is reclaimed in the background */
	if (!ret)
		pack_gc_kick(s);
out:
	if (locked)
		pins_unlock();
	if (ret)
		log_err("%s: evicting views failed: %s", s->dir, strerror(-ret));
	if (b)
		rocksdb_writebatch_destroy(b);
	free(vs.v);
	free(pages.v);
	free(chunks.v);
	free(none.v);
	return ret;
}
