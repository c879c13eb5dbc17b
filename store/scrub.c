/*
 * store/scrub.c - reading back every value and checking it (contract in
 * store/scrub.h).
 *
 * Chunks are checked once however many versions share them (a table of
 * ids with their verdict), but a damaged one is reported for every
 * version that lists it: the admin restores files, not chunks. The walk
 * reads with RocksDB's block checksums on, unlike the read path.
 */
#include "store/scrub.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "common/alloc.h"
#include "common/codec.h"

#include "store/audit_int.h"
#include "store/chunker.h"
#include "store/content.h"
#include "store/crypt_store.h"
#include "store/pack.h"

enum { UNSEEN, GOOD, BAD };

struct scrub {
	struct store *s;
	void (*damage)(void *arg, const char *line);
	void (*progress)(void *arg, const struct store_scrub_counts *c);
	void *arg;
	struct store_scrub_counts *c;
	uint8_t (*seen)[33];		/* chunk id, verdict (0: slot free) */
	size_t nseen, cap;
	struct strbuf val, plain, line;
	uint8_t *buf;			/* an opened chunk */
	uint64_t path_ino;		/* whose path is in path */
	struct strbuf path;
};

static void report(struct scrub *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void report(struct scrub *sc, const char *fmt, ...)
{
	va_list ap;

	strbuf_reset(&sc->line);
	va_start(ap, fmt);
	strbuf_vaddf(&sc->line, fmt, ap);
	va_end(ap);
	sc->c->damaged++;
	sc->damage(sc->arg, sc->line.buf);
}

static size_t slot(const uint8_t id[32], size_t cap)
{
	uint64_t h;

	memcpy(&h, id, sizeof(h));
	return (size_t)(h & (cap - 1));
}

static uint8_t *seen_find(struct scrub *sc, const uint8_t id[32])
{
	size_t i;

	if (2 * (sc->nseen + 1) > sc->cap) {
		size_t cap = sc->cap ? 2 * sc->cap : 4096;
		uint8_t (*t)[33] = xcalloc(cap, sizeof(*t));

		for (size_t k = 0; k < sc->cap; k++) {
			if (!sc->seen[k][32])
				continue;
			for (i = slot(sc->seen[k], cap); t[i][32]; i = (i + 1) & (cap - 1))
				;
			memcpy(t[i], sc->seen[k], 33);
		}
		free(sc->seen);
		sc->seen = t;
		sc->cap = cap;
	}
	for (i = slot(id, sc->cap); sc->seen[i][32]; i = (i + 1) & (sc->cap - 1))
		if (!memcmp(sc->seen[i], id, 32))
			return sc->seen[i];
	memcpy(sc->seen[i], id, 32);
	sc->nseen++;
	return sc->seen[i];
}

/* GOOD or BAD for the chunk id of len bytes; -errno when it cannot tell. */
static int chunk_verdict(struct scrub *sc, const uint8_t id[32], uint32_t len)
{
	uint8_t key[33], sha[32], *e = seen_find(sc, id);
	size_t want;
	int ret;

	if (e[32])
		return e[32];
	key[0] = 'c';
	memcpy(key + 1, id, 32);
	want = sc->s->crypt ? (size_t)len + CRYPT_OVERHEAD : len;
	/* inline, or from its pack with the pack's CRC checked */
	ret = pack_chunk_get(sc->s, key, want, &sc->val);
	e[32] = BAD;
	if (ret && ret != -ENOENT && ret != -EIO)
		return ret;
	if (ret)
		return BAD;
	sc->c->chunks++;
	sc->c->bytes += len;
	if (sc->val.len != want)
		return BAD;
	if (sc->s->crypt) {
		if (store_check_to(sc->s, CF_CHUNKS, key, sizeof(key), sc->val.buf,
				   sc->val.len, sc->buf))
			return BAD;
	} else {
		SHA256((const uint8_t *)sc->val.buf, sc->val.len, sha);
		if (memcmp(sha, id, 32))
			return BAD;
	}
	e[32] = GOOD;
	return GOOD;
}

/* Opens the value of cf/key in sc->val into sc->plain; false when it does not. */
static bool open_value(struct scrub *sc, enum store_cf cf, const void *key, size_t klen)
{
	strbuf_reset(&sc->plain);
	if (!store_sealed(sc->s, cf, key, klen)) {
		strbuf_add(&sc->plain, sc->val.buf, sc->val.len);
		return true;
	}
	if (sc->val.len < CRYPT_OVERHEAD)
		return false;
	strbuf_grow(&sc->plain, sc->val.len);
	if (store_check_to(sc->s, cf, key, klen, sc->val.buf, sc->val.len,
			   (uint8_t *)sc->plain.buf))
		return false;
	strbuf_setlen(&sc->plain, sc->val.len - CRYPT_OVERHEAD);
	return true;
}

/*
 * Checks the content of np pages of size bytes; what names the owner
 * ("PATH version N", "view X") in reports. -errno only when the walk fails.
 */
static int content_check(struct scrub *sc, const char *what, const uint8_t *pages,
			 uint32_t np, uint64_t size)
{
	struct chunk_list l = CHUNK_LIST_INIT;
	uint8_t key[33];
	int ret = 0, v;

	for (uint32_t i = 0; i < np; i++) {
		key[0] = 'p';
		memcpy(key + 1, pages + 32 * (size_t)i, 32);
		ret = store_get(sc->s, CF_CHUNKS, key, sizeof(key), &sc->val);
		if (ret && ret != -ENOENT && ret != -EIO)
			goto out;
		ret = 0;
		if (!sc->val.len || !open_value(sc, CF_CHUNKS, key, sizeof(key)) ||
		    page_decode((const uint8_t *)sc->plain.buf, sc->plain.len, &l)) {
			report(sc, "%s: chunk-list page %u of %u is damaged or missing", what,
			       i + 1, np);
			goto out;
		}
	}
	if (l.size != size) {
		report(sc, "%s: its chunk lists hold %" PRIu64 " bytes, the record says %" PRIu64,
		       what, l.size, size);
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		/* a hole is no stored chunk (store/holes.h): nothing to read back */
		if (l.v[i].hole)
			continue;
		v = chunk_verdict(sc, l.v[i].sha, (uint32_t)l.v[i].len);
		if (v < 0) {
			ret = v;
			goto out;
		}
		if (v == BAD)
			report(sc, "%s: chunk at offset %" PRIu64 " (%" PRIu64 " bytes) is damaged or missing",
			       what, l.v[i].off, l.v[i].len);
	}
out:
	chunk_list_release(&l);
	return ret;
}

/* Walks rows of cf from the first, calling row(sc, key, klen) with the value in sc->val. */
static int walk(struct scrub *sc, enum store_cf cf,
		int (*row)(struct scrub *sc, const uint8_t *k, size_t klen))
{
	rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
	rocksdb_iterator_t *it;
	struct strbuf key = STRBUF_INIT;
	char *err = NULL;
	int ret = 0;

	rocksdb_readoptions_set_verify_checksums(ro, 1);
	rocksdb_readoptions_set_fill_cache(ro, 0);
	it = rocksdb_create_iterator_cf(sc->s->db, ro, sc->s->cf[cf]);
	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it) && !ret;
	     rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);
		const char *v = rocksdb_iter_value(it, &vlen);

		/* copied: row() reads other keys, which may move what the iterator pins */
		strbuf_reset(&key);
		strbuf_add(&key, k, klen);
		strbuf_reset(&sc->val);
		strbuf_add(&sc->val, v, vlen);
		ret = row(sc, (const uint8_t *)key.buf, key.len);
	}
	rocksdb_iter_get_error(it, &err);
	if (err) {
		/* a block that fails RocksDB's own checksum ends the walk: say where */
		report(sc, "%s: unreadable past this point: %s", store_cf_names[cf], err);
		rocksdb_free(err);
	}
	rocksdb_iter_destroy(it);
	rocksdb_readoptions_destroy(ro);
	strbuf_release(&key);
	return ret;
}

static int version_row(struct scrub *sc, const uint8_t *k, size_t klen)
{
	struct strbuf *path = &sc->path;
	struct strbuf what = STRBUF_INIT;
	struct version_rec vr;
	uint64_t ino, version;
	int ret = 0;

	if (klen != 16) {
		report(sc, "versions: a key of %zu bytes", klen);
		return 0;
	}
	ino = get_be64(k);
	version = get_be64(k + 8);
	if (ino != sc->path_ino || !path->len) {
		strbuf_reset(path);
		if (store_path(sc->s, ino, path)) {
			strbuf_reset(path);
			strbuf_addf(path, "inode %" PRIu64 " (deleted)", ino);
		}
		sc->path_ino = ino;
	}
	strbuf_addf(&what, "%s version %" PRIu64, path->buf, version);
	sc->c->versions++;
	if (!open_value(sc, CF_VERSIONS, k, klen) ||
	    version_decode((const uint8_t *)sc->plain.buf, sc->plain.len, &vr)) {
		report(sc, "%s: its version record is damaged", what.buf);
		goto out;
	}
	/* vr.pages points into plain, which content_check reuses: copy */
	{
		size_t n = (size_t)vr.npages * 32;
		uint8_t *pages = xmalloc(n);

		memcpy(pages, vr.pages, n);
		ret = content_check(sc, what.buf, pages, vr.npages, vr.size);
		free(pages);
	}
	if (sc->progress && !(sc->c->versions % 1024))
		sc->progress(sc->arg, sc->c);
out:
	strbuf_release(&what);
	return ret;
}

static int view_row(struct scrub *sc, const uint8_t *k, size_t klen)
{
	char what[64], hex[17];
	struct view_rec vr;
	uint8_t *pages;
	size_t n;
	int ret;

	if (klen != 65 || k[0] != 'v')
		return 0;
	hex_encode(k + 1, 8, hex);
	snprintf(what, sizeof(what), "view %s", hex);
	sc->c->views++;
	if (!open_value(sc, CF_VIEWS, k, klen) ||
	    view_decode((const uint8_t *)sc->plain.buf, sc->plain.len, &vr)) {
		report(sc, "%s: its view record is damaged", what);
		return 0;
	}
	n = (size_t)vr.npages * 32;
	pages = xmalloc(n);
	memcpy(pages, vr.pages, n);
	ret = content_check(sc, what, pages, vr.npages, vr.size);
	free(pages);
	return ret;
}

static int audit_row(struct scrub *sc, const uint8_t *k, size_t klen)
{
	struct audit_rec r;
	const char *p = sc->val.buf;
	size_t len = sc->val.len;
	json_t *o = NULL;
	uint64_t seq = klen == 8 ? get_be64(k) : 0;

	sc->c->audit++;
	if (sc->s->crypt) {
		/* seq || envelope (store/crypt_store.h) */
		strbuf_reset(&sc->plain);
		strbuf_grow(&sc->plain, len);
		if (len < 8 + CRYPT_OVERHEAD || get_be64((const uint8_t *)p) != seq ||
		    store_check_to(sc->s, CF_AUDIT, k, klen, p + 8, len - 8,
				   (uint8_t *)sc->plain.buf)) {
			report(sc, "audit record %" PRIu64 ": damaged, or moved from another seq",
			       seq);
			return 0;
		}
		p = sc->plain.buf;
		len -= 8 + CRYPT_OVERHEAD;
	}
	if (klen != 8 || audit_decode(p, len, &o, &r, NULL) || r.seq != seq)
		report(sc, "audit record %" PRIu64 ": not a valid record", seq);
	json_decref(o);
	return 0;
}

static int policy_row(struct scrub *sc, const uint8_t *k, size_t klen)
{
	sc->c->policies++;
	if (klen != 8 || !open_value(sc, CF_POLICY, k, klen))
		report(sc, "policy version %" PRIu64 ": damaged",
		       klen == 8 ? get_be64(k) : 0);
	return 0;
}

int store_scrub(struct store *s, void (*damage)(void *arg, const char *line),
		void (*progress)(void *arg, const struct store_scrub_counts *c), void *arg,
		struct store_scrub_counts *c)
{
	struct scrub sc = { .s = s, .damage = damage, .progress = progress, .arg = arg, .c = c,
			    .val = STRBUF_INIT, .plain = STRBUF_INIT, .line = STRBUF_INIT,
			    .path = STRBUF_INIT };
	int ret;

	memset(c, 0, sizeof(*c));
	sc.buf = xmalloc(CHUNK_MAX + CRYPT_OVERHEAD);
	/* journaled audit records first into the audit family, where the walk reads */
	ret = audit_drain(s);
	if (!ret)
		ret = walk(&sc, CF_VERSIONS, version_row);
	if (!ret)
		ret = walk(&sc, CF_VIEWS, view_row);
	if (!ret)
		ret = walk(&sc, CF_AUDIT, audit_row);
	if (!ret)
		ret = walk(&sc, CF_POLICY, policy_row);
	free(sc.buf);
	free(sc.seen);
	strbuf_release(&sc.val);
	strbuf_release(&sc.plain);
	strbuf_release(&sc.line);
	strbuf_release(&sc.path);
	return ret;
}
