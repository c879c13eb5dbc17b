/*
 * store/view.c - the view cache: desensitized content of a file version
 * for one set of rules, kept so a masked read costs what a plain one does.
 *
 * A view is stored as content: the same chunker, chunks and pages as a
 * file version, so identical views (and views that equal raw content)
 * share bytes, and a view reads through the same handle as a file. It
 * is keyed by the source version's content id and the rules' fingerprint,
 * both SHA-256, so a new version or a changed rule simply misses.
 *
 *   CF     key                       value (integers big-endian)
 *   -----  ------------------------  ---------------------------------------
 *   views  'v' content_id[32] fp[32] u8 format (1), be64 size, be64 created
 *                                    (ns), be32 P, P x 32 page hashes; or u8
 *                                    format (2), the same, then P x be64
 *                                    byte end of each page
 *   views  'a' content_id[32] fp[32] be64 last use (ns), be64 size
 *   views  'b'                       be64 budget in bytes
 *   views  't'                       be64 views, be64 bytes (sums of sizes)
 *   views  'm' content_id[32] fp[32] a segment map (store/view_map.c)
 *
 * A view's record, its pages' refcounts, its 'a' row and the totals
 * change in one batch, under s->lock like every refcount. The 'a' row is
 * rewritten unsynced on every open: losing the newest of them in a crash
 * only makes eviction's idea of "recently used" a little older.
 *
 * The budget counts the sizes of the cached views (what they would take
 * without dedupe). It defaults to STORE_VIEW_BUDGET_DEFAULT (1 GiB), a
 * fixed figure rather than a share of the pool so that it never moves
 * under an admin's feet; store_view_set_budget() keeps another. Before a
 * commit would take the total over it, least recently used views go
 * until the new one fits (store/view_evict.c).
 *
 * A format 2 record's page ends let a reader load only the pages its
 * reads reach, as for a file version (store/content.c); a format 1
 * record (written before) loads its whole list at open.
 */
#include "common/alloc.h"
#include "store/blob_gc.h"
#include "store/chunker.h"

#include "store/content.h"
#include "store/crypt_store.h"
#include "store/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "common/codec.h"
#include "common/log.h"

#define VIEW_FORMAT	1
#define VIEW_FORMAT_ENDS 2		/* with each page's end */
#define VREC_FIXED	21	/* format, size, created, page count */

struct store_view_writer {
	struct store *s;
	struct chunk_writer *cw;
	struct chunk_list done;		/* complete chunks, in order */
	struct chunk_pipe *pipe;
	int err;			/* first failure; later calls return it */
};

void view_key(uint8_t key[65], char kind, const uint8_t cid[32], const uint8_t fp[32])
{
	key[0] = (uint8_t)kind;
	memcpy(key + 1, cid, 32);
	memcpy(key + 33, fp, 32);
}

int view_decode(const uint8_t *p, size_t len, struct view_rec *vr)
{
	size_t per;

	if (len < VREC_FIXED || (p[0] != VIEW_FORMAT && p[0] != VIEW_FORMAT_ENDS))
		return -EIO;
	per = p[0] == VIEW_FORMAT_ENDS ? 40 : 32;
	vr->size = get_be64(p + 1);
	vr->created_ns = (int64_t)get_be64(p + 9);
	vr->npages = get_be32(p + 17);
	if (len - VREC_FIXED != (size_t)vr->npages * per)
		return -EIO;
	vr->pages = p + VREC_FIXED;
	vr->ends = per == 40 ? vr->pages + (size_t)vr->npages * 32 : NULL;
	return 0;
}

int view_totals(struct store *s, uint64_t *views, uint64_t *bytes)
{
	struct strbuf v = STRBUF_INIT;
	int ret = store_get(s, CF_VIEWS, "t", 1, &v);

	*views = *bytes = 0;
	if (ret == -ENOENT)
		ret = 0;
	else if (!ret && v.len != 16)
		ret = -EIO;
	else if (!ret) {
		*views = get_be64((const uint8_t *)v.buf);
		*bytes = get_be64((const uint8_t *)v.buf + 8);
	}
	strbuf_release(&v);
	return ret;
}

void view_totals_put(struct store *s, rocksdb_writebatch_t *b, uint64_t views, uint64_t bytes)
{
	uint8_t val[16];

	put_be64(val, views);
	put_be64(val + 8, bytes);
	rocksdb_writebatch_put_cf(b, s->cf[CF_VIEWS], "t", 1, (const char *)val, sizeof(val));
}

static void used_put(struct store *s, rocksdb_writebatch_t *b, const uint8_t key[65],
		     int64_t when, uint64_t size)
{
	uint8_t akey[65], val[16];

	memcpy(akey, key, sizeof(akey));
	akey[0] = 'a';
	put_be64(val, (uint64_t)when);
	put_be64(val + 8, size);
	rocksdb_writebatch_put_cf(b, s->cf[CF_VIEWS], (const char *)akey, sizeof(akey),
				  (const char *)val, sizeof(val));
}

int store_view_budget(struct store *s, uint64_t *bytes)
{
	return store_get_be64(s, CF_VIEWS, "b", 1, STORE_VIEW_BUDGET_DEFAULT, bytes);
}

/*
 * Eviction is what leaves garbage in blob files: reclaimed here, outside
 * the lock, once there is enough of it (store/blob_gc.h).
 */
static void blob_gc_after_evict(struct store *s)
{
	struct blob_gc_stats st;

	if (store_blob_gc(s, false, &st))
		log_warn("%s: blob GC failed; the space of evicted views waits for the next try",
			 s->dir);
}

int store_view_set_budget(struct store *s, uint64_t bytes)
{
	rocksdb_writebatch_t *b = rocksdb_writebatch_create();
	uint8_t val[8];
	int ret;

	put_be64(val, bytes);
	rocksdb_writebatch_put_cf(b, s->cf[CF_VIEWS], "b", 1, (const char *)val, sizeof(val));
	pthread_mutex_lock(&s->lock);
	/* evict first: the views never sum to more than the budget on disk */
	ret = view_evict_locked(s, bytes);
	if (!ret)
		ret = store_write(s, b, true);
	pthread_mutex_unlock(&s->lock);
	rocksdb_writebatch_destroy(b);
	if (!ret)
		blob_gc_after_evict(s);
	return ret;
}

/* ---- reading ---- */

/* The record of view key into *vr, which points into raw. */
static int view_rec_load(struct store *s, const uint8_t key[65], struct strbuf *raw,
			 struct view_rec *vr)
{
	int ret = store_get_value(s, CF_VIEWS, key, 65, raw);

	if (!ret)
		ret = view_decode((const uint8_t *)raw->buf, raw->len, vr);
	if (ret == -EIO)
		log_err("%s: corrupt view record", s->dir);
	return ret;
}

int store_view_open(struct store *s, const uint8_t content_id[32], const uint8_t fp[32],
		    struct store_content **out)
{
	struct chunk_list l = CHUNK_LIST_INIT;
	struct strbuf raw = STRBUF_INIT;
	rocksdb_writebatch_t *b = NULL;
	struct view_rec vr;
	uint8_t key[65], id[32];
	int ret;

	*out = NULL;
	view_key(key, 'v', content_id, fp);
	/* pinned before the record is read, so eviction leaves it be (view_pin.c) */
	view_pin(key + 1);
	ret = view_rec_load(s, key, &raw, &vr);
	if (ret)
		goto out;
	SHA256(vr.npages ? vr.pages : (const uint8_t *)"", 32 * (size_t)vr.npages, id);
	/* the pin keeps the pages stored while the handle loads them */
	if (vr.ends && vr.npages) {
		ret = content_from_pages(s, 0, 0, id, vr.size, vr.pages, vr.ends, vr.npages, out);
	} else {
		ret = pages_load(s, vr.pages, vr.npages, vr.size, &l);
		if (!ret)
			*out = content_from_list(s, 0, 0, &l, id);
	}
	if (ret)
		goto out;

	content_hold_view(*out, key + 1);
	if (!(s->flags & STORE_OPEN_RDONLY)) {
		/* best effort: a lost bump only makes the view look older */
		b = rocksdb_writebatch_create();
		used_put(s, b, key, store_now_ns(), vr.size);
		if (store_write_untree(s, b, false))
			log_warn("%s: could not mark a view used", s->dir);
	}
out:
	if (ret)
		view_unpin(key + 1);
	if (b)
		rocksdb_writebatch_destroy(b);
	chunk_list_release(&l);
	strbuf_release(&raw);
	return ret;
}

/* A stat needs no pages, no pin and no "used" mark: the record says the size. */
int store_view_size(struct store *s, const uint8_t content_id[32], const uint8_t fp[32],
		    uint64_t *size)
{
	struct strbuf raw = STRBUF_INIT;
	struct view_rec vr;
	uint8_t key[65];
	int ret;

	view_key(key, 'v', content_id, fp);
	ret = view_rec_load(s, key, &raw, &vr);
	if (!ret)
		*size = vr.size;
	strbuf_release(&raw);
	return ret;
}

/* ---- building ---- */

int store_view_begin(struct store *s, struct store_view_writer **out)
{
	struct store_view_writer *w;

	*out = NULL;
	if (s->flags & STORE_OPEN_RDONLY)
		return -EROFS;
	w = xcalloc(1, sizeof(*w));
	w->s = s;
	w->cw = chunk_writer_new(s);
	w->pipe = chunk_pipe_new(w->cw, &w->done);
	*out = w;
	return 0;
}

int store_view_write(struct store_view_writer *w, const void *buf, size_t len)
{
	if (!w->err && len)
		w->err = chunk_pipe_write(w->pipe, buf, len);
	return w->err;
}

static void writer_free(struct store_view_writer *w, bool committed)
{
	chunk_pipe_free(w->pipe);
	chunk_writer_free(w->cw, committed);
	chunk_list_release(&w->done);
	free(w);
}

void store_view_abort(struct store_view_writer *w)
{
	if (w)
		writer_free(w, false);
}

/*
 * Adds the view with chunks l unless it is there already, evicting first
 * what must go to make room, so a crash between the two batches leaves
 * the cache smaller, never over budget. Eviction may drop pages and
 * chunks l uses: the page rows are written again here, and the chunks'
 * bytes stay because this writer has them pinned. *added says whether
 * this commit's chunks are now referenced.
 */
static int view_link(struct store *s, const uint8_t key[65], const struct chunk_list *l,
		     bool *added)
{
	rocksdb_writebatch_t *b = rocksdb_writebatch_create();
	struct strbuf hashes = STRBUF_INIT, ends = STRBUF_INIT, v = STRBUF_INIT;
	uint64_t budget, views, bytes;
	uint8_t hdr[VREC_FIXED];
	int64_t now = store_now_ns();
	int ret;

	*added = false;
	pthread_mutex_lock(&s->lock);
	ret = store_get_value(s, CF_VIEWS, key, 65, &v);
	if (ret != -ENOENT)
		goto out;		/* there already (a concurrent builder won), or an error */
	ret = store_view_budget(s, &budget);
	if (!ret)
		ret = view_totals(s, &views, &bytes);
	if (!ret && l->size > budget)
		ret = -EFBIG;
	if (!ret && bytes + l->size > budget) {
		ret = view_evict_locked(s, budget - l->size);
		if (!ret)
			ret = view_totals(s, &views, &bytes);
	}
	if (!ret)
		ret = pages_put(s, b, l, &hashes, &ends);
	if (ret)
		goto out;
	hdr[0] = VIEW_FORMAT_ENDS;
	put_be64(hdr + 1, l->size);
	put_be64(hdr + 9, (uint64_t)now);
	put_be32(hdr + 17, (uint32_t)(hashes.len / 32));
	strbuf_reset(&v);
	strbuf_add(&v, hdr, sizeof(hdr));
	strbuf_add(&v, hashes.buf, hashes.len);
	strbuf_add(&v, ends.buf, ends.len);
	store_put_value(s, b, CF_VIEWS, key, 65, v.buf, v.len);
	used_put(s, b, key, now, l->size);
	view_totals_put(s, b, views + 1, bytes + l->size);
	/*
	 * Not synced: a view is a cache, rebuilt from its file version. The
	 * WAL keeps this batch after the chunks it points to and before any
	 * later synced write, so a crash loses at most whole views, never
	 * their consistency; syncing cost an fdatasync per file at the
	 * first listing of a masked tree (each stat needs the view's size).
	 */
	ret = store_write(s, b, false);
	*added = !ret;
out:
	pthread_mutex_unlock(&s->lock);
	strbuf_release(&ends);
	strbuf_release(&hashes);
	strbuf_release(&v);
	rocksdb_writebatch_destroy(b);
	return ret;
}

int store_view_commit(struct store_view_writer *w, const uint8_t content_id[32],
		      const uint8_t fp[32])
{
	struct chunk_list l = CHUNK_LIST_INIT;
	struct store *s = w->s;
	uint8_t key[65];
	bool added = false;
	int ret = w->err;

	if (!ret)
		ret = chunk_pipe_drain(w->pipe);
	if (!ret) {
		for (size_t i = 0; i < w->done.n; i++)
			chunk_list_add(&l, w->done.v[i].sha, w->done.v[i].len);
		ret = chunk_stream_finish(chunk_pipe_stream(w->pipe), &l);
	}
	if (!ret)
		ret = chunk_writer_finish(w->cw);
	if (!ret) {
		view_key(key, 'v', content_id, fp);
		ret = view_link(w->s, key, &l, &added);
	}
	writer_free(w, added);
	chunk_list_release(&l);
	if (added)
		blob_gc_after_evict(s);
	return ret;
}
