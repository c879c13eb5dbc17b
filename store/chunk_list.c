/*
 * store/chunk_list.c - the ordered list of chunks that makes one version.
 */
#include "store/content.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- chunk lists ---- */

void chunk_list_add(struct chunk_list *l, const uint8_t sha[32], uint32_t len)
{
	struct chunk_ref *r;

	if (l->n == l->alloc) {
		size_t na = l->alloc ? 2 * l->alloc : 64;

		r = realloc(l->v, na * sizeof(*r));
		if (!r) {
			fprintf(stderr, "poolfs: out of memory growing a chunk list\n");
			abort();
		}
		l->v = r;
		l->alloc = na;
	}
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
