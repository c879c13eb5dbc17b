/*
 * store/pack_abandon.h - giving back the pack bytes of a write that was
 * abandoned (ENOSPC, EIO, a writer gone): its records' blocks are freed
 * with a hole, so a failed large write costs no disk until pack GC. The
 * pack keeps its size and no offset is reused, so packs stay append-only
 * for readers and for backups (docs/storage.md "Packs").
 */
#ifndef POOL_STORE_PACK_ABANDON_H
#define POOL_STORE_PACK_ABANDON_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* The records one chunk writer appended, adjacent ones merged. */
struct pack_extents {
	struct pack_extent { uint32_t pack; uint64_t off, len; } *v;
	size_t n, alloc;
};

void pack_extent_add(struct pack_extents *x, uint32_t pack, uint64_t off, uint64_t len);
/*
 * Punches a hole over every extent: a run of zeros where a record header
 * would start, which a scan of the pack skips (store/pack_gc.c). Only for records no locator that
 * counts names and nobody else may name: the caller has checked every
 * chunk it put there is pinned by it alone and has no refs row, and has
 * deleted their locators. Best effort: a hole not made is garbage.
 */
void pack_extents_punch(struct store *s, const struct pack_extents *x);
void pack_extents_release(struct pack_extents *x);

#endif
