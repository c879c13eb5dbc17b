/*
 * store/chunker.h - content-defined chunking (FastCDC with normalized
 * chunking) of file content into the pieces the store hashes and keeps.
 *
 * Sizes: min 16 KiB, average about 64 KiB, max 256 KiB. The average keeps
 * a 1 GiB file at about 16k chunks (16k refs of 36 bytes, ~600 KiB of
 * chunk list, split into pages by store/content.c) while a one-row change
 * in a CSV rewrites one or two chunks, well under 256 KiB of new stored
 * bytes. The minimum bounds the per-chunk overhead (a RocksDB key, a
 * refcount, a ref in a page); the maximum bounds the bytes a change can
 * drag in when the content has no natural cut (runs of zeros).
 *
 * A cut depends only on the bytes of the chunk it ends, so chunking that
 * restarts at any earlier cut finds the same cuts again: that is what lets
 * a commit reuse the untouched chunks of the previous version.
 */
#ifndef POOL_CHUNKER_H
#define POOL_CHUNKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHUNK_MIN	(16u * 1024)
#define CHUNK_AVG	(64u * 1024)
#define CHUNK_MAX	(256u * 1024)

/*
 * Returns the length of the chunk starting at buf[0]. final says that buf
 * holds everything up to the end of the data. When final is false and
 * len < CHUNK_MAX no cut may exist yet: 0 is returned and the caller must
 * come back with more bytes. Never returns more than min(len, CHUNK_MAX).
 * Thread-safe; the gear table is a constant.
 */
size_t chunker_next(const uint8_t *buf, size_t len, bool final);

#ifdef POOL_TEST
/*
 * Test builds only: bytes in the chunks chunker_next returned in this
 * process so far, so a test can check that a commit re-chunks only
 * around changed bytes.
 */
uint64_t chunker_scanned(void);
/*
 * Test builds only: the scan chunker_next() runs, under any mask, from
 * *i with fp *fp up to end: true with *i just past the first position
 * whose fp has no bit of mask, else false with *i = end and *fp the fp
 * there. A mask of few bits puts many cuts in one of its windows.
 */
bool chunker_scan_test(const uint8_t *buf, size_t *i, size_t end, uint64_t *fp, uint64_t mask);
#endif

/* The gear table, exposed so a test can check it is the documented one. */
extern const uint64_t chunker_gear[256];

#endif
