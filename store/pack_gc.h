/*
 * store/pack_gc.h - giving back the space of dead pack records: packs
 * whose live bytes fell below half their size are rewritten (their live
 * records appended to the current pack, their locators swapped) and
 * deleted; and re-sealing every pack record under the current data key
 * (poolctl key reencrypt). docs/storage.md "Packs" says how it is safe.
 */
#ifndef POOL_STORE_PACK_GC_H
#define POOL_STORE_PACK_GC_H

#include <stdbool.h>
#include <stdint.h>

struct store;

struct pack_gc_stats {
	uint32_t packs;			/* packs rewritten and deleted */
	uint32_t kept;			/* chosen but left (see pack_gc_pack) */
	uint64_t moved;			/* records appended anew */
	uint64_t moved_bytes;
	uint64_t dropped;		/* locators no refs row counted, deleted */
	uint64_t freed;			/* bytes of the packs deleted */
};

/*
 * One pass: every pack below the GC bound whose live bytes are below
 * half its size (all: every pack below the bound) is rewritten and
 * deleted. reseal: an encrypted pool's records are opened and sealed
 * anew under the current key as they move, and a pack is chosen when any
 * record in it is under another key. One pass at a time: a second
 * caller gets 0 and does nothing (with reseal, it waits its turn). 0 or
 * -errno; a pack left in place
 * (a backup running, a damaged record, a chunk a writer is storing
 * again) is counted in st->kept and is not an error.
 */
int store_pack_gc(struct store *s, bool reseal, struct pack_gc_stats *st);

/*
 * Starts a pass in a background thread unless one runs (it then makes
 * one more): after view eviction, which is what makes records dead.
 * pack_gc_stop() waits for it; store_free() calls it first.
 */
void pack_gc_kick(struct store *s);
void pack_gc_stop(struct store *s);

/* ---- store/pack.c's side ---- */

/*
 * A writer's claim before its first append: the returned pack and every
 * later one may hold records its unwritten batch names, so GC leaves
 * them. pack_unhold() once its locators are written (the writer's end).
 */
uint32_t pack_hold(struct store *s);
void pack_unhold(struct store *s, uint32_t n);
/* The lowest pack GC may not touch (current, or held); *max the highest. */
uint32_t pack_gc_bound(struct store *s, uint32_t *max);
/* Appends a moved record (not a writer's: nothing to claim); any pool with packs. */
struct pack_loc;
int pack_move_append(struct store *s, const uint8_t key[33], const uint8_t *data, uint32_t len,
		     struct pack_loc *l);
/*
 * Starts a new pack unless one numbered above n exists: a pack's number
 * is never used twice, even when GC deletes the highest one (the next
 * open numbers from the highest file in packs/).
 */
int pack_start_after(struct store *s, uint32_t n);
/* Closes the read descriptor of deleted pack n, once no read is using it. */
void pack_retire(struct store *s, uint32_t n);
const char *pack_dir(struct store *s);
struct pack_gc_bg;
struct pack_gc_bg **pack_gc_bg_of(struct store *s);

#endif
