/*
 * store/chunk_list.c - the ordered list of chunks that makes one version,
 * and its cutting into chunk-list pages (format drawn in store/content.c).
 *
 * A page is format 1 (sha256[32] be32 len per chunk) unless it lists a
 * hole; then it is format 2, 40 bytes per entry: sha256[32] be64 len,
 * where an all-zero sha256 is a hole of len zero bytes. Lists without
 * holes keep format 1, so their pages, and content ids, are the ones
 * stores made before holes existed; a binary that predates format 2
 * refuses such a page (-EIO) rather than misread it.
 */
#include "common/alloc.h"
#include "store/content.h"
#include "store/holes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "common/codec.h"
#include "common/strbuf.h"

#define PAGE_FORMAT	1
#define PAGE_FORMAT_HOLES 2
#define REF_BYTES	36
#define REF_BYTES_HOLES	40
#define PAGE_MAX_REFS	256
#define PAGE_END_MASK	63

const uint8_t hole_sha[32];

/* ---- chunk lists ---- */

void chunk_list_add(struct chunk_list *l, const uint8_t sha[32], uint64_t len)
{
	bool hole = !memcmp(sha, hole_sha, 32);
	struct chunk_ref *r;

	if (hole && l->n && l->v[l->n - 1].hole) {
		l->v[l->n - 1].len += len;
		l->size += len;
		return;
	}
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	r = &l->v[l->n++];
	r->off = l->size;
	r->len = len;
	memcpy(r->sha, sha, 32);
	r->hole = hole;
	l->size += len;
}

size_t chunk_list_find(const struct chunk_list *l, uint64_t off)
{
	size_t lo = 0, hi = l->n;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->v[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

void chunk_list_release(struct chunk_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- pages ---- */

/*
 * A page ends after a ref whose hash ends in 6 zero bits, so a change
 * moves only the page boundaries next to it; PAGE_MAX_REFS bounds a page.
 */
static bool page_ends(const struct chunk_ref *ref, size_t nrefs)
{
	return (ref->sha[31] & PAGE_END_MASK) == 0 || nrefs == PAGE_MAX_REFS;
}

size_t pages_build(const struct chunk_list *l, struct strbuf *vals, struct strbuf *hashes,
		   size_t *off)
{
	size_t np = 0, i = 0, j, nrefs;
	uint8_t ent[REF_BYTES_HOLES], sha[32];
	bool holes;

	while (i < l->n) {
		holes = false;
		for (j = i, nrefs = 0; j < l->n; j++) {
			holes |= l->v[j].hole;
			if (page_ends(&l->v[j], ++nrefs))
				break;
		}
		if (j == l->n)
			j--;
		off[np] = vals->len;
		strbuf_addch(vals, holes ? PAGE_FORMAT_HOLES : PAGE_FORMAT);
		for (; i <= j; i++) {
			memcpy(ent, l->v[i].sha, 32);
			if (holes) {
				put_be64(ent + 32, l->v[i].len);
				strbuf_add(vals, ent, REF_BYTES_HOLES);
			} else {
				put_be32(ent + 32, (uint32_t)l->v[i].len);
				strbuf_add(vals, ent, REF_BYTES);
			}
		}
		SHA256((const uint8_t *)vals->buf + off[np], vals->len - off[np], sha);
		strbuf_add(hashes, sha, 32);
		np++;
	}
	off[np] = vals->len;
	return np;
}

size_t page_entries(const uint8_t *p, size_t len)
{
	return len ? (len - 1) / (p[0] == PAGE_FORMAT_HOLES ? REF_BYTES_HOLES : REF_BYTES) : 0;
}

/*
 * Fail closed: an empty hole, a chunk longer than a chunk can be,
 * a hole in a format 1 page, or a list past 2^63 bytes is a damaged page.
 */
int page_decode(const uint8_t *p, size_t len, struct chunk_list *l)
{
	size_t step = len && p[0] == PAGE_FORMAT_HOLES ? REF_BYTES_HOLES : REF_BYTES;
	uint64_t n;
	bool hole;

	if (len < 1 + step || (p[0] != PAGE_FORMAT && p[0] != PAGE_FORMAT_HOLES) ||
	    (len - 1) % step)
		return -EIO;
	for (p++, len--; len; p += step, len -= step) {
		hole = !memcmp(p, hole_sha, 32);
		n = step == REF_BYTES ? get_be32(p + 32) : get_be64(p + 32);
		if ((hole && (!n || step == REF_BYTES)) || (!hole && n > UINT32_MAX) ||
		    n > (uint64_t)INT64_MAX - l->size)
			return -EIO;
		chunk_list_add(l, p, n);
	}
	return 0;
}
