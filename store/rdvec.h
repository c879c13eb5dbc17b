/*
 * store/rdvec.h - reading a file version's bytes where they already are
 * (store/content.c): a read that hands back pieces of RocksDB's own
 * buffers, for a caller that passes them on (fs/ replies with them)
 * instead of copying them into a buffer of its own.
 */
#ifndef POOL_STORE_RDVEC_H
#define POOL_STORE_RDVEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct store_content;

/*
 * The bytes of one read, in order: iov[0..n). The memory is the
 * rdvec's (pinned values, a buffer of its own, shared zeros): read-only,
 * valid until store_rdvec_release().
 */
struct store_rdvec {
	struct iovec *iov;
	size_t n, alloc;
	void **pins;			/* rocksdb_pinnableslice_t * each */
	size_t npins, apins;
	void *buf;			/* plain bytes of an encrypted pool */
};

#define STORE_RDVEC_INIT { NULL, 0, 0, NULL, 0, 0, NULL }

/*
 * As store_content_read(), into v (empty: STORE_RDVEC_INIT or
 * released): returns the count (0 at end) or -errno, and v holds those
 * bytes. Release v in either case.
 */
ssize_t store_content_readv(struct store_content *c, struct store_rdvec *v, size_t len,
			    uint64_t off);

/* Drops what v holds; v is empty again. */
void store_rdvec_release(struct store_rdvec *v);

#endif
