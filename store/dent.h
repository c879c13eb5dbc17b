/*
 * store/dent.h - directory-entry rows ('d' live, 'h' ended) and prefix
 * scans of the tree column family. Internal to store/.
 */
#ifndef POOL_STORE_DENT_H
#define POOL_STORE_DENT_H

#include "store/internal.h"

#define DENT_LEN	17
#define KEY_MAX		(1 + 8 + STORE_NAME_MAX + 8)
/* a loop guard: every path within STORE_PATH_MAX, even moved below another, fits */
#define DEPTH_MAX	STORE_PATH_MAX

/* What a 'd' or 'h' row holds. */
struct dent {
	uint64_t child;
	uint32_t type;
	int64_t born;
};

struct tree_scan {
	rocksdb_readoptions_t *ro;
	rocksdb_iterator_t *it;
	uint8_t hi[KEY_MAX];		/* RocksDB keeps a pointer to the bound */
};

int dent_check_name(const char *name);
struct timespec ns_to_timespec(int64_t ns);
int64_t timespec_to_ns(const struct timespec *t);
size_t dent_prefix(uint8_t *k, char tag, uint64_t parent);
size_t dent_key(uint8_t *k, uint64_t parent, const char *name);
size_t dent_hist_key(uint8_t *k, uint64_t parent, const char *name, int64_t died);
void dent_encode(uint8_t v[DENT_LEN], const struct dent *d);
/*
 * 0 when r, the inode record entry d of parent/name leads to, says it is
 * that entry (live, that parent, that name, that type); else -EIO,
 * logged: an entry pointed at another inode, or a number used again.
 */
int dent_child_check(struct store *s, uint64_t parent, const char *name, const struct dent *d,
		     const struct inode_rec *r);
/*
 * The live entry parent/name and the inode record it leads to, checked
 * as dent_child_check() does. -ENOENT when there is no such entry.
 */
int dent_resolve(struct store *s, uint64_t parent, const char *name, struct dent *d,
		 struct inode_rec *r);
/* A row read under key: its tag checked (store/tree_tag.c), then decoded. */
int dent_decode(struct store *s, const void *key, size_t klen, const char *v, size_t len,
		struct dent *d);
int dent_get(struct store *s, uint64_t parent, const char *name, struct dent *d);
void dent_add(struct store *s, rocksdb_writebatch_t *b, uint64_t parent, const char *name, const struct dent *d);
void dent_end(struct store *s, rocksdb_writebatch_t *b, uint64_t parent, const char *name, const struct dent *d, int64_t died);
void tree_scan_start(struct store *s, struct tree_scan *sc, const uint8_t *prefix, size_t len);
int tree_scan_end(struct store *s, struct tree_scan *sc);
int dent_dir_empty(struct store *s, uint64_t dir);

#endif
