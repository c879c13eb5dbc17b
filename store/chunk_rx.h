/*
 * store/chunk_rx.h - receive buffers a chunk pipe can take over.
 *
 * A sequential write's bytes are read from /dev/fuse into a buffer and
 * then, without this, copied into a chunk pipe's block. A receive
 * buffer here is such a block with the request's header in front of its
 * data: the session loop (fs/loop.c) reads each request into one and
 * lends it to the pipes for the time the request is processed on that
 * thread. A pipe write of exactly the lent buffer's data and of a whole
 * block's length takes the buffer instead of copying it; the loop then
 * receives its next request into a fresh one (from the pipes' cache of
 * blocks, so no page of it faults in again).
 */
#ifndef POOL_CHUNK_RX_H
#define POOL_CHUNK_RX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct chunk_rx;		/* opaque: a pipe's block */

/* The payload bytes a receive buffer holds after its header room. */
#define CHUNK_RX_DATA	(1u << 20)

struct chunk_rx *chunk_rx_new(void);
void chunk_rx_free(struct chunk_rx *rx);
/*
 * Where to read a request whose payload follows head bytes of header
 * (at most 4096): a read of up to head + CHUNK_RX_DATA bytes fits.
 */
uint8_t *chunk_rx_area(struct chunk_rx *rx, size_t head);
/* Lends rx to the pipes written by this thread until chunk_rx_back(). */
void chunk_rx_lend(struct chunk_rx *rx);
/* Ends the loan: false when a pipe took rx, which is then no longer the caller's. */
bool chunk_rx_back(void);

#endif
