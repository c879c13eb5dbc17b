/*
 * store/chunk_list.c - the ordered list of chunks that makes one version,
 * and its cutting into chunk-list pages (format drawn in store/content.c).
 */
#include "common/alloc.h"
#include "store/content.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "common/codec.h"
#include "common/strbuf.h"

#define PAGE_FORMAT	1
#define REF_BYTES	36
#define PAGE_MAX_REFS	256
#define PAGE_END_MASK	63

/* ---- chunk lists ---- */

void chunk_list_add(struct chunk_list *l, const uint8_t sha[32], uint32_t len)
{
	struct chunk_ref *r;

	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	r = &l->v[l->n++];
	r->off = l->size;
	r->len = len;
	memcpy(r->sha, sha, 32);
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
	size_t np = 0, nrefs = 0;
	uint8_t ent[REF_BYTES], sha[32];

	for (size_t i = 0; i < l->n; i++) {
		if (!nrefs) {
			off[np] = vals->len;
			strbuf_addch(vals, PAGE_FORMAT);
		}
		memcpy(ent, l->v[i].sha, 32);
		put_be32(ent + 32, l->v[i].len);
		strbuf_add(vals, ent, sizeof(ent));
		if (page_ends(&l->v[i], ++nrefs) || i + 1 == l->n) {
			SHA256((const uint8_t *)vals->buf + off[np], vals->len - off[np], sha);
			strbuf_add(hashes, sha, 32);
			np++;
			nrefs = 0;
		}
	}
	off[np] = vals->len;
	return np;
}

int page_decode(const uint8_t *p, size_t len, struct chunk_list *l)
{
	if (len < 1 + REF_BYTES || p[0] != PAGE_FORMAT || (len - 1) % REF_BYTES)
		return -EIO;
	for (p++, len--; len; p += REF_BYTES, len -= REF_BYTES)
		chunk_list_add(l, p, get_be32(p + 32));
	return 0;
}
