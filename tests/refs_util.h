/*
 * tests/refs_util.h - the refcount invariant, checked from scratch over
 * the suite's pool S: a chunk's count is the times stored pages list it
 * (a hole is no chunk and holds no reference), a page's the times version
 * records (and view records, where views count) list it, and no refs row
 * exists for anything else.
 *
 * White-box: it reads the column families (store/internal.h).
 */
#ifndef POOL_TEST_REFS_UTIL_H
#define POOL_TEST_REFS_UTIL_H

#include <CUnit/Basic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "store/content.h"
#include "store/internal.h"
#include "tests/store_util.h"

/* The counts the refs family must hold, sorted by key once built. */
struct ref_expect {
	struct ref_count {
		uint8_t key[33];
		uint64_t n;
	} *v;
	size_t n, alloc;
};

static inline void ref_expect_add(struct ref_expect *e, char kind, const uint8_t *sha)
{
	if (e->n == e->alloc) {
		e->alloc = e->alloc ? 2 * e->alloc : 1024;
		e->v = realloc(e->v, e->alloc * sizeof(*e->v));
		CU_ASSERT_FATAL(e->v != NULL);
	}
	e->v[e->n].key[0] = (uint8_t)kind;
	memcpy(e->v[e->n].key + 1, sha, 32);
	e->v[e->n++].n = 1;
}

static inline int ref_count_cmp(const void *a, const void *b)
{
	return memcmp(((const struct ref_count *)a)->key, ((const struct ref_count *)b)->key, 33);
}

/* The counts S's pages, version records and (views) view records make. */
static inline void ref_expect_build(struct ref_expect *e, bool views)
{
	rocksdb_iterator_t *it;
	struct version_rec vr;
	struct view_rec wr;
	size_t m = 0;

	it = rocksdb_create_iterator_cf(S->db, S->ropt, S->cf[CF_CHUNKS]);
	for (rocksdb_iter_seek(it, "p", 1); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it, &vlen);
		struct chunk_list l = CHUNK_LIST_INIT;

		if (rocksdb_iter_key(it, &klen)[0] != 'p')
			break;
		CU_ASSERT_FATAL(page_decode(v, vlen, &l) == 0);
		for (size_t k = 0; k < l.n; k++)
			if (!l.v[k].hole)
				ref_expect_add(e, 'c', l.v[k].sha);
		chunk_list_release(&l);
	}
	rocksdb_iter_destroy(it);
	it = rocksdb_create_iterator_cf(S->db, S->ropt, S->cf[CF_VERSIONS]);
	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t vlen;
		const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it, &vlen);

		CU_ASSERT_FATAL(version_decode(v, vlen, &vr) == 0);
		for (uint32_t p = 0; p < vr.npages; p++)
			ref_expect_add(e, 'p', vr.pages + 32 * p);
	}
	rocksdb_iter_destroy(it);
	it = rocksdb_create_iterator_cf(S->db, S->ropt, S->cf[CF_VIEWS]);
	for (rocksdb_iter_seek(it, "v", 1); views && rocksdb_iter_valid(it);
	     rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);
		const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it, &vlen);

		if (k[0] != 'v')
			break;
		CU_ASSERT_FATAL(view_decode(v, vlen, &wr) == 0);
		for (uint32_t p = 0; p < wr.npages; p++)
			ref_expect_add(e, 'p', wr.pages + 32 * p);
	}
	rocksdb_iter_destroy(it);

	if (e->n)
		qsort(e->v, e->n, sizeof(*e->v), ref_count_cmp);
	for (size_t k = 0; k < e->n; k++) {
		if (m && !memcmp(e->v[m - 1].key, e->v[k].key, 33))
			e->v[m - 1].n++;
		else
			e->v[m++] = e->v[k];
	}
	e->n = m;
}

static inline bool ref_stored(const uint8_t *key)
{
	struct strbuf v = STRBUF_INIT;
	int ret = store_get(S, CF_CHUNKS, key, 33, &v);

	strbuf_release(&v);
	return ret == 0;
}

/*
 * Whether the refs rows are exactly e's counts (freed here); stored: and
 * each row names bytes stored in the chunks family. *chunk_rows, when not
 * NULL, is the number of chunk rows.
 */
static inline bool ref_rows_match(struct ref_expect *e, bool stored, size_t *chunk_rows)
{
	rocksdb_iterator_t *it;
	size_t i = 0, crows = 0;
	bool ok = true;

	it = rocksdb_create_iterator_cf(S->db, S->ropt, S->cf[CF_REFS]);
	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it), i++) {
		size_t klen, vlen;
		const uint8_t *k = (const uint8_t *)rocksdb_iter_key(it, &klen);
		const uint8_t *v = (const uint8_t *)rocksdb_iter_value(it, &vlen);

		ok = ok && i < e->n && klen == 33 && !memcmp(k, e->v[i].key, 33) &&
		     vlen >= 8 && get_be64(v) == e->v[i].n && (!stored || ref_stored(k));
		crows += klen && k[0] == 'c';
	}
	rocksdb_iter_destroy(it);
	ok = ok && i == e->n;
	free(e->v);
	memset(e, 0, sizeof(*e));
	if (chunk_rows)
		*chunk_rows = crows;
	return ok;
}

#endif
