/*
 * store/content.c - chunks, chunk-list pages and version records: how a
 * file version is stored (reading one back: store/content_read.c).
 *
 * A version does not hold its chunk list: a 1 GiB file has ~16k chunks,
 * 36 bytes of ref each, and rewriting 600 KiB of list for a one-row
 * change would break the 256 KiB budget. The list is cut into pages at
 * content-defined points (after a ref whose hash's last byte is 0 mod
 * 64; at most 256 refs; see store/chunk_list.c), pages are stored by hash
 * like chunks, and a version holds page hashes only. A one-chunk change then stores one
 * chunk, one or two pages (~2.3 KiB each) and a version record of 32
 * bytes per page (~8 KiB for 1 GiB).
 *
 * A format 2 version record also holds where each page ends in the file,
 * so a read handle loads only the pages its reads reach: the first byte
 * of a 10 GiB file costs one page, not the ~2,500 of its whole list
 * (store_content_open, store/content_read.c). A format 1 record (written before) has no ends;
 * its handle loads the whole list at open, as it always did.
 *
 *   CF        key                      value (integers big-endian)
 *   --------  -----------------------  --------------------------------------
 *   chunks    'c' sha256(bytes)        the chunk's bytes
 *   chunks    'p' sha256(page)         page: u8 format (1),
 *                                        then per chunk: sha256[32] be32 len;
 *                                      or u8 format (2) when it lists a hole,
 *                                        then per entry: sha256[32] be64 len,
 *                                        a zero sha256 for a hole
 *   refs      'c' sha256               be64 refcount, be32 chunk length
 *   refs      'p' sha256               be64 refcount
 *   versions  be64 ino, be64 version   u8 format (1), be64 size,
 *                                      be64 commit time (ns), be32 uid,
 *                                      be32 gid, 32 content id, be16 W,
 *                                      W bytes writer ("dept/user"),
 *                                      be32 P, P x 32 page hashes;
 *                                      or u8 format (2), the same fields,
 *                                        then P x be64 byte end of each page
 *
 * A chunk's refcount counts the stored pages that list it, a page's the
 * versions and cached views (store/view.c) that list it, and a refs row
 * proves the key it names is stored. File versions never drop a
 * reference; only view eviction (store/view_evict.c) counts down, and it
 * deletes a row with the page or chunk it names once the count reaches
 * 0. The chunk length in the refs row lets store_stats() sum stored
 * bytes without reading chunks. content id = sha256(the page hashes in
 * order): equal content, equal id. A hole (store/holes.h) is a list entry
 * only: no chunk, no refs row, zeros when read; so the same bytes written
 * as zeros and left as a hole have different ids, which only costs
 * sharing.
 */
#include "common/alloc.h"
#include "store/chunker.h"
#include "store/commit_mark.h"
#include "store/content.h"
#include "store/convert_int.h"
#include "store/crypt_store.h"
#include "store/internal.h"
#include "store/pack.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "common/codec.h"
#include "common/log.h"

#define FORMAT			1
#define FORMAT_ENDS		2	/* with each page's end */
#define VREC_FIXED		59	/* up to and including the writer length */

struct ref_delta {
	uint8_t key[33];
	uint32_t len;			/* chunk length, for 'c' keys */
	uint64_t delta;
};

struct delta_vec {
	struct ref_delta *v;
	size_t n, alloc;
};

/* ---- refcounts ---- */

static void delta_add(struct delta_vec *d, char kind, const uint8_t sha[32], uint32_t len)
{
	struct ref_delta *r;

	ALLOC_GROW(d->v, d->n + 1, d->alloc);
	r = &d->v[d->n++];
	ref_key(r->key, kind, sha);
	r->len = len;
	r->delta = 1;
}

static int cmp_delta(const void *a, const void *b)
{
	return memcmp(((const struct ref_delta *)a)->key, ((const struct ref_delta *)b)->key, 33);
}

/*
 * Adds each delta to its refs row in b. Read-modify-write is safe because
 * every refcount change happens under s->lock; equal keys are summed
 * first since a batch cannot read its own earlier puts.
 */
static int refs_apply(struct store *s, rocksdb_writebatch_t *b, struct delta_vec *d)
{
	struct pack_tally t = { 0 };
	struct strbuf v = STRBUF_INIT;
	uint8_t val[12];
	int ret = 0;

	if (d->n)
		qsort(d->v, d->n, sizeof(*d->v), cmp_delta);
	for (size_t i = 0, j; i < d->n; i = j) {
		uint64_t count = 0;

		for (j = i; j < d->n && !memcmp(d->v[j].key, d->v[i].key, 33); j++)
			count += d->v[j].delta;
		ret = store_get(s, CF_REFS, d->v[i].key, 33, &v);
		if (ret == -ENOENT && d->v[i].key[0] == 'c')
			(void)pack_claim(s, d->v[i].key + 1, &t);	/* now live */
		if (ret == -ENOENT)
			ret = 0;
		else if (!ret && v.len < 8)
			ret = -EIO;
		else if (!ret)
			count += get_be64((const uint8_t *)v.buf);
		if (ret)
			goto out;
		put_be64(val, count);
		put_be32(val + 8, d->v[i].len);
		rocksdb_writebatch_put_cf(b, s->cf[CF_REFS], (const char *)d->v[i].key, 33,
					  (const char *)val, d->v[i].key[0] == 'c' ? 12 : 8);
	}
	ret = pack_tally_apply(s, b, &t);
out:
	pack_tally_release(&t);
	strbuf_release(&v);
	return ret;
}

/* 0 when kind/sha has a refs row (so is stored), -ENOENT when not. */
static int refs_has(struct store *s, char kind, const uint8_t sha[32])
{
	struct strbuf v = STRBUF_INIT;
	uint8_t key[33];
	int ret;

	ref_key(key, kind, sha);
	ret = store_get(s, CF_REFS, key, sizeof(key), &v);
	strbuf_release(&v);
	return ret;
}

/* ---- version records ---- */

static void version_key(uint8_t key[16], uint64_t ino, uint64_t version)
{
	put_be64(key, ino);
	put_be64(key + 8, version);
}

static void writer_name(const struct store_writer *w, char *out, size_t len)
{
	if (w->dept && w->user)
		snprintf(out, len, "%s/%s", w->dept, w->user);
	else if (w->dept)
		snprintf(out, len, "%s/uid:%u", w->dept, w->uid);
	else
		snprintf(out, len, "uid:%u", w->uid);
}

int version_decode(const uint8_t *p, size_t len, struct version_rec *vr)
{
	size_t wlen, per;

	if (len < VREC_FIXED || (p[0] != FORMAT && p[0] != FORMAT_ENDS))
		return -EIO;
	per = p[0] == FORMAT_ENDS ? 40 : 32;
	vr->size = get_be64(p + 1);
	vr->time_ns = (int64_t)get_be64(p + 9);
	vr->uid = get_be32(p + 17);
	vr->gid = get_be32(p + 21);
	memcpy(vr->id, p + 25, 32);
	wlen = (size_t)p[57] << 8 | p[58];
	if (len < VREC_FIXED + wlen + 4)
		return -EIO;
	snprintf(vr->writer, sizeof(vr->writer), "%.*s", (int)wlen, (const char *)p + VREC_FIXED);
	p += VREC_FIXED + wlen;
	len -= VREC_FIXED + wlen;
	vr->npages = get_be32(p);
	if (len - 4 != (size_t)vr->npages * per)
		return -EIO;
	vr->pages = p + 4;
	vr->ends = per == 40 ? p + 4 + (size_t)vr->npages * 32 : NULL;
	return 0;
}

int version_load(struct store *s, uint64_t ino, uint64_t version,
		 struct version_rec *vr, struct strbuf *raw)
{
	uint8_t key[16];
	int ret;

	version_key(key, ino, version);
	ret = store_get_value(s, CF_VERSIONS, key, sizeof(key), raw);
	if (ret)
		return ret;
	ret = version_decode((const uint8_t *)raw->buf, raw->len, vr);
	if (ret)
		log_err("%s: inode %llu version %llu: corrupt version record", s->dir,
			(unsigned long long)ino, (unsigned long long)version);
	return ret;
}

/*
 * The version record for np page hashes and their ends (np x be64; NULL
 * for a format 1 record, a copy of one) into v; cid gets the content id.
 */
static void version_encode(struct strbuf *v, uint64_t size, int64_t time_ns, uint32_t uid,
			   uint32_t gid, const char *writer, const uint8_t *pages,
			   const uint8_t *ends, size_t np, uint8_t cid[32])
{
	uint8_t hdr[VREC_FIXED], cnt[4];
	size_t wlen = strlen(writer);

	SHA256(np ? pages : (const uint8_t *)"", 32 * np, cid);
	hdr[0] = ends ? FORMAT_ENDS : FORMAT;
	put_be64(hdr + 1, size);
	put_be64(hdr + 9, (uint64_t)time_ns);
	put_be32(hdr + 17, uid);
	put_be32(hdr + 21, gid);
	memcpy(hdr + 25, cid, 32);
	hdr[57] = (uint8_t)(wlen >> 8);
	hdr[58] = (uint8_t)wlen;
	put_be32(cnt, (uint32_t)np);
	strbuf_reset(v);
	strbuf_add(v, hdr, sizeof(hdr));
	strbuf_add(v, writer, wlen);
	strbuf_add(v, cnt, sizeof(cnt));
	if (np)
		strbuf_add(v, pages, 32 * np);
	if (np && ends)
		strbuf_add(v, ends, 8 * np);
}

/* Counts a reference to each of np stored pages, once per listing. */
static int pages_ref(struct store *s, rocksdb_writebatch_t *b, const uint8_t *pages, size_t np)
{
	struct delta_vec d = { 0 };
	int ret;

	for (size_t i = 0; i < np; i++)
		delta_add(&d, 'p', pages + 32 * i, 0);
	ret = refs_apply(s, b, &d);
	free(d.v);
	return ret;
}

/*
 * Adds the version record for pages (np page hashes, all stored; ends
 * where each ends, or NULL) as the next version of r, counts a
 * reference to each page and puts r.
 */
static int version_link(struct store *s, rocksdb_writebatch_t *b, struct inode_rec *r,
			const uint8_t *pages, const uint8_t *ends, size_t np, uint64_t size,
			const struct store_writer *w, uint8_t id[32])
{
	static const struct store_writer nobody;
	struct strbuf v = STRBUF_INIT;
	uint8_t key[16], cid[32];
	char writer[128];
	int64_t now = store_now_ns();
	int ret;

	ret = pages_ref(s, b, pages, np);
	if (ret)
		goto out;

	if (!w)
		w = &nobody;
	writer_name(w, writer, sizeof(writer));
	version_encode(&v, size, now, w->uid, w->gid, writer, pages, ends, np, cid);

	r->attr.version++;
	r->attr.size = size;
	r->attr.mtime.tv_sec = now / 1000000000;
	r->attr.mtime.tv_nsec = now % 1000000000;
	r->attr.ctime = r->attr.mtime;
	version_key(key, r->attr.ino, r->attr.version);
	store_put_value(s, b, CF_VERSIONS, key, sizeof(key), v.buf, v.len);
	inode_put(s, b, r);
	if (id)
		memcpy(id, cid, 32);
out:
	strbuf_release(&v);
	return ret;
}

/* ---- pages ---- */

static int cmp_page(const void *a, const void *b, void *hashes)
{
	const uint8_t *h = hashes;

	return memcmp(h + 32 * *(const size_t *)a, h + 32 * *(const size_t *)b, 32);
}

/*
 * Stores the pages that are new, each with a reference to every chunk it
 * lists. A page twice in one file is stored once (its count goes up per
 * listing in version_link).
 */
static int pages_store(struct store *s, rocksdb_writebatch_t *b, const struct strbuf *vals,
		       const uint8_t *hashes, const size_t *off, size_t np)
{
	struct chunk_list page = CHUNK_LIST_INIT;
	struct delta_vec d = { 0 };
	size_t *order = xreallocarray(NULL, np, sizeof(*order));
	uint8_t key[33];
	int ret = 0;

	for (size_t i = 0; i < np; i++)
		order[i] = i;
	qsort_r(order, np, sizeof(*order), cmp_page, (void *)hashes);
	for (size_t k = 0; k < np; k++) {
		size_t i = order[k];
		const uint8_t *val = (const uint8_t *)vals->buf + off[i];

		if (k && !memcmp(hashes + 32 * order[k - 1], hashes + 32 * i, 32))
			continue;
		ret = refs_has(s, 'p', hashes + 32 * i);
		if (!ret)
			continue;
		if (ret != -ENOENT)
			goto out;
		ref_key(key, 'p', hashes + 32 * i);
		store_put_value(s, b, CF_CHUNKS, key, sizeof(key), val, off[i + 1] - off[i]);
		page.n = 0;
		page.size = 0;
		ret = page_decode(val, off[i + 1] - off[i], &page);
		if (ret)
			goto out;
		/* a hole is no stored chunk: nothing to count */
		for (size_t k2 = 0; k2 < page.n; k2++)
			if (!page.v[k2].hole)
				delta_add(&d, 'c', page.v[k2].sha, (uint32_t)page.v[k2].len);
	}
	ret = refs_apply(s, b, &d);
out:
	chunk_list_release(&page);
	free(order);
	free(d.v);
	return ret;
}

/*
 * The byte end of each of the np pages of l (page i is vals[off[i] ..
 * off[i + 1])) as be64s onto ends. A page lists one entry per ref of l,
 * in order: its end is where the ref after its last one starts.
 */
static void pages_ends(const struct chunk_list *l, const struct strbuf *vals,
		       const size_t *off, size_t np, struct strbuf *ends)
{
	uint8_t be[8];
	size_t k = 0;

	for (size_t i = 0; i < np; i++) {
		k += page_entries((const uint8_t *)vals->buf + off[i], off[i + 1] - off[i]);
		put_be64(be, k < l->n ? l->v[k].off : l->size);
		strbuf_add(ends, be, sizeof(be));
	}
}

/*
 * Stores l's new pages; counts a reference to each page of l when ref.
 * ends, when not NULL, gets where each page ends (pages_ends).
 */
static int pages_add(struct store *s, rocksdb_writebatch_t *b, const struct chunk_list *l,
		     struct strbuf *hashes, struct strbuf *ends, bool ref)
{
	struct strbuf vals = STRBUF_INIT;
	size_t *off = xcalloc(l->n + 2, sizeof(*off)), np;
	int ret;

	strbuf_reset(hashes);
	np = pages_build(l, &vals, hashes, off);
	if (ends) {
		strbuf_reset(ends);
		pages_ends(l, &vals, off, np, ends);
	}
	ret = pages_store(s, b, &vals, (const uint8_t *)hashes->buf, off, np);
	if (!ret && ref)
		ret = pages_ref(s, b, (const uint8_t *)hashes->buf, np);
	free(off);
	strbuf_release(&vals);
	return ret;
}

int pages_put(struct store *s, rocksdb_writebatch_t *b, const struct chunk_list *l,
	      struct strbuf *hashes, struct strbuf *ends)
{
	return pages_add(s, b, l, hashes, ends, true);
}

int version_add(struct store *s, rocksdb_writebatch_t *b, struct inode_rec *r,
		const struct chunk_list *l, const struct store_writer *w, uint8_t id[32])
{
	struct strbuf hashes = STRBUF_INIT, ends = STRBUF_INIT;
	int ret = pages_add(s, b, l, &hashes, &ends, false);

	if (!ret)
		ret = version_link(s, b, r, (const uint8_t *)hashes.buf, (const uint8_t *)ends.buf,
				   hashes.len / 32, l->size, w, id);
	strbuf_release(&ends);
	strbuf_release(&hashes);
	return ret;
}

int version_put_copy(struct store *s, rocksdb_writebatch_t *b, uint64_t ino, uint64_t version,
		     const struct version_rec *vr, const struct chunk_list *l)
{
	struct strbuf hashes = STRBUF_INIT, ends = STRBUF_INIT, v = STRBUF_INIT;
	uint8_t key[16], cid[32];
	int ret = pages_add(s, b, l, &hashes, &ends, true);

	if (!ret) {
		version_encode(&v, l->size, vr->time_ns, vr->uid, vr->gid, vr->writer,
			       (const uint8_t *)hashes.buf, (const uint8_t *)ends.buf,
			       hashes.len / 32, cid);
		version_key(key, ino, version);
		store_put_value(s, b, CF_VERSIONS, key, sizeof(key), v.buf, v.len);
	}
	strbuf_release(&v);
	strbuf_release(&ends);
	strbuf_release(&hashes);
	return ret;
}

int version_add_from(struct store *s, rocksdb_writebatch_t *b, struct inode_rec *dst,
		     uint64_t src_ino, const struct store_writer *w, uint8_t id[32])
{
	struct inode_rec src;
	struct version_rec vr = { 0 };
	struct strbuf raw = STRBUF_INIT;
	int ret;

	inode_rec_init(&src);
	ret = inode_load(s, src_ino, &src);
	if (ret)
		goto out;
	if (src.attr.version) {
		ret = version_load(s, src_ino, src.attr.version, &vr, &raw);
		if (ret)
			goto out;
	}
	ret = version_link(s, b, dst, vr.pages, vr.ends, vr.npages, vr.size, w, id);
out:
	strbuf_release(&raw);
	inode_rec_release(&src);
	return ret;
}

int store_restore(struct store *s, uint64_t ino, uint64_t version,
		  const struct store_writer *w, const struct audit_rec *audit,
		  uint64_t *new_version)
{
	rocksdb_writebatch_t *b = rocksdb_writebatch_create();
	struct inode_rec r;
	struct version_rec vr;
	struct strbuf raw = STRBUF_INIT;
	struct audit_rec a;
	char mark[COMMIT_MARK_HEX + 1], note[256];
	uint8_t cid[32];
	bool audited = false;
	int ret;

	inode_rec_init(&r);
	pthread_mutex_lock(&s->lock);
	ret = inode_load(s, ino, &r);
	if (ret)
		goto out;
	if (r.attr.type != STORE_REG) {
		ret = r.attr.type == STORE_DIR ? -EISDIR : -EINVAL;
		goto out;
	}
	ret = version ? version_load(s, ino, version, &vr, &raw) : -ENOENT;
	if (ret)
		goto out;
	ret = version_link(s, b, &r, vr.pages, vr.ends, vr.npages, vr.size, w, cid);
	if (ret)
		goto out;
	if (audit) {
		/*
		 * The record names the version it made, with its mark, as a
		 * write's does; the version restored goes into the note.
		 */
		a = *audit;
		a.version = r.attr.version;
		snprintf(note, sizeof(note), "%s%srestored from version %" PRIu64,
			 a.reason ? a.reason : "", a.reason && a.reason[0] ? ": " : "", version);
		a.reason = note;
		ret = commit_audit_mark(s, &a, &r, cid, mark);
		if (!ret)
			ret = audit_add(s, b, &a);
		if (ret)
			goto out;
		audited = true;
	}
	ret = store_write(s, b, true);
	if (ret && audited)
		audit_rollback(s);
	if (!ret && new_version)
		*new_version = r.attr.version;
out:
	pthread_mutex_unlock(&s->lock);
	strbuf_release(&raw);
	inode_rec_release(&r);
	rocksdb_writebatch_destroy(b);
	return ret;
}
