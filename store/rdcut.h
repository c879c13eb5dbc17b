/*
 * store/rdcut.h - where a version's chunks end, for a reader that reads a
 * long range in pieces (fs/vseg.c): a piece that ends inside a chunk
 * reads that chunk twice (and, packed, checks its CRC twice), once for
 * each piece, unless the handle's one-chunk cache still holds it.
 */
#ifndef POOL_STORE_RDCUT_H
#define POOL_STORE_RDCUT_H

#include <stdint.h>

struct store_content;

/*
 * The last chunk boundary b with from < b <= to, to itself when no
 * boundary is in there (or the chunk list cannot be read: the read
 * reports that). Needs from < to <= the version's size.
 */
uint64_t store_content_cut(struct store_content *c, uint64_t from, uint64_t to);

#endif
