/*
 * store/inode_cache.h - inode records read lately, kept in memory.
 *
 * One lookup in a pool mount reads its node's record up to three times
 * (the entry's check, the attributes, the version for a view's size),
 * and the kernel of a pool mount looks every path component up again
 * (timeouts 0). Every record is written by store_write(), which calls
 * inode_cache_wrote() after each batch (written or failed): that drops
 * every kept record. A reader takes the generation before it reads, and
 * inode_cache_put() keeps its record only if nothing was written since,
 * so a record read across a write is never kept. Directory entries
 * (parent, name to child) are kept the same way: every component of a
 * path is looked up again at each stat. Version records (inode, version
 * to its info) are kept the same way: a view's size is found by the
 * version's content id, and a stat would read the version's row again on
 * every lookup and getattr. What is kept is the raw record, the same for
 * every reader; the size of a reader's view stays keyed by content id and
 * rules fingerprint in fs/view.c.
 */
#ifndef POOL_STORE_INODE_CACHE_H
#define POOL_STORE_INODE_CACHE_H

#include <stdbool.h>
#include <stdint.h>

struct inode_cache;
struct inode_rec;
struct dent;
struct store_version_info;

struct inode_cache *inode_cache_new(void);
void inode_cache_free(struct inode_cache *c);
/* The generation to pass to inode_cache_put(), taken before reading. */
uint64_t inode_cache_gen(struct inode_cache *c);
/* Fills r (initialized) with ino's kept record; false when none is kept. */
bool inode_cache_get(struct inode_cache *c, uint64_t ino, struct inode_rec *r);
void inode_cache_put(struct inode_cache *c, uint64_t gen, const struct inode_rec *r);
/* Fills d with the kept entry name of parent; false when none is kept. */
bool inode_cache_dent_get(struct inode_cache *c, uint64_t parent, const char *name,
			  struct dent *d);
void inode_cache_dent_put(struct inode_cache *c, uint64_t gen, uint64_t parent,
			  const char *name, const struct dent *d);
/* Fills v with the kept record of version of ino; false when none is kept. */
bool inode_cache_version_get(struct inode_cache *c, uint64_t ino, uint64_t version,
			     struct store_version_info *v);
void inode_cache_version_put(struct inode_cache *c, uint64_t gen, uint64_t ino,
			     const struct store_version_info *v);
/* A batch was written: any record may have changed. */
void inode_cache_wrote(struct inode_cache *c);

#endif
