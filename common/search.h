/*
 * common/search.h - binary search over sorted arrays of structs keyed by
 * a uint64_t field, written once for every such table (a stage's dirty
 * extents, a scratch file's tag pages).
 */
#ifndef POOL_COMMON_SEARCH_H
#define POOL_COMMON_SEARCH_H

#include <stddef.h>
#include <stdint.h>

/*
 * The index of the first of the n elements at base (size bytes each,
 * sorted by the uint64_t at byte off of each) whose key is at least key;
 * n when there is none. Inline: it sits in loops over the extents.
 */
static inline size_t search_u64_first(const void *base, size_t n, size_t size, size_t off,
				      uint64_t key)
{
	const char *p = base;
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (*(const uint64_t *)(const void *)(p + mid * size + off) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

#endif
