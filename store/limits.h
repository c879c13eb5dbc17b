/*
 * store/limits.h - how large a file the store takes, and how a daemon
 * asks long store operations to give up when it is told to stop.
 */
#ifndef POOL_STORE_LIMITS_H
#define POOL_STORE_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The largest file size: 8 TiB. A version's chunk list could say far
 * more (a hole is one entry of up to 2^63 bytes), but a write at offset
 * x lands at x in the stage's spill file, and ext4 with 4 KiB blocks
 * (Debian's default under STORE) ends files at 16 TiB; the limit keeps
 * a write at any offset below it possible there. Truncates and writes
 * past it are -EFBIG.
 */
#define STORE_MAX_FILE_SIZE	((uint64_t)1 << 43)

/*
 * Long store operations (a commit's chunking, a view's build) give up
 * with -ECANCELED once a stop was asked for STORE_STOP_GRACE_NS ago: a
 * daemon told to stop finishes what little is staged, but no single
 * request keeps it from stopping. Process-wide; async-signal-safe.
 */
#define STORE_STOP_GRACE_NS	(1000000000LL)

void store_stop_request(void);
/* Whether a stop was asked for more than the grace period ago. */
bool store_stop_due(void);

#endif
