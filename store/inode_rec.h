/*
 * store/inode_rec.h - inode records as stored (store/inode_rec.c).
 * Internal to store/.
 */
#ifndef POOL_STORE_INODE_REC_H
#define POOL_STORE_INODE_REC_H

#include <rocksdb/c.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "store/store.h"

/* An inode as stored: the public attributes plus where it hangs. */
struct inode_rec {
	struct store_attr attr;
	uint64_t parent;		/* 0 for the root */
	bool dead;			/* unlinked or replaced; kept for history */
	struct strbuf name;		/* name in parent */
	struct strbuf target;		/* symlink target */
};

void inode_rec_init(struct inode_rec *r);
void inode_rec_release(struct inode_rec *r);
/* -ENOENT when ino has no record. */
int inode_load(struct store *s, uint64_t ino, struct inode_rec *r);
/*
 * Reads inode ino's record as ro sees it, bypassing the cache (audit
 * verify reads one snapshot): -ENOENT when absent, -EBADMSG when it
 * fails its tag or does not decode, -EIO when unread.
 */
int inode_read_at(struct store *s, rocksdb_readoptions_t *ro, uint64_t ino,
		  struct inode_rec *r);
void inode_put(struct store *s, rocksdb_writebatch_t *b, const struct inode_rec *r);

#endif
