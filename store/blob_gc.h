/*
 * store/blob_gc.h - giving back the space of deleted chunks in blob
 * files, only when there is enough of it to be worth a rewrite.
 *
 * RocksDB's blob GC relocates every live blob of the oldest blob files
 * in every compaction that meets them, garbage or not, and a backup
 * after such a compaction copies the rewritten files again (+43 MiB
 * after a one-row change in a 96 MiB pool). So automatic compactions
 * never relocate blobs (store/db.c), and this pass does it on purpose.
 */
#ifndef POOL_STORE_BLOB_GC_H
#define POOL_STORE_BLOB_GC_H

#include <stdbool.h>
#include <stdint.h>

struct store;

/* Reclaimed when garbage reaches 1/BLOB_GC_RATIO of the blob bytes and at least ... */
#define BLOB_GC_RATIO		4
#define BLOB_GC_MIN_BYTES	(64ull << 20)

struct blob_gc_stats {
	uint64_t blob_bytes;		/* the chunks family's live blob files */
	uint64_t garbage;		/* bytes in them no key points to */
	bool ran;			/* a pass was made */
};

/*
 * The chunks family's blob bytes and garbage into *st; with force, or
 * when the garbage is over the thresholds above, a manual compaction of
 * the family that relocates every live blob, so the files holding garbage
 * go. Runs in the caller's thread, holding no store lock (writers go
 * on); one pass at a time, a second caller returns at once. 0 or -EIO.
 */
int store_blob_gc(struct store *s, bool force, struct blob_gc_stats *st);

#endif
