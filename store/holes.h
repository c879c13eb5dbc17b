/*
 * store/holes.h - holes in a version's chunk list: runs of zeros that
 * cost one list entry and no stored chunk (format in store/chunk_list.c).
 * Internal to store/.
 */
#ifndef POOL_STORE_HOLES_H
#define POOL_STORE_HOLES_H

#include "store/content.h"

/*
 * A commit makes a hole of a run of unwritten bytes (past a truncate's
 * old end, between writes, or a hole of the base) at least this long;
 * shorter runs are chunked as zeros like written bytes, so a small gap
 * costs no forced cut and content written with small gaps keeps the
 * chunks (and content id) it always had.
 */
#define HOLE_MIN	(1u << 20)

extern const uint8_t hole_sha[32];

static inline void chunk_list_add_hole(struct chunk_list *l, uint64_t len)
{
	chunk_list_add(l, hole_sha, len);
}

#endif
