/*
 * store/tree_mark.h - what a tree change's audit record says it did to
 * the entries, so `audit verify` can hold the tree to the log
 * (store/tree_mark.c). Internal to store/.
 */
#ifndef POOL_STORE_TREE_MARK_H
#define POOL_STORE_TREE_MARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "store/audit.h"
#include "store/inode_rec.h"
#include "store/internal.h"

/* Adds to t: the entry parent/name now leads to ino (present) or ended (it led to ino). */
void tree_mark_entry(struct strbuf *t, bool present, uint64_t parent, const char *name,
		     uint64_t ino);

/*
 * Adds to t: inode r now has r's mode, uid, gid, type and, a symlink,
 * target ("=INO:MODE:UID:GID:T[:MARK]", mode in octal, T one of f d l,
 * MARK a mark of the target). Times are not held (docs/audit.md).
 * -errno when the audit key cannot be read.
 */
int tree_mark_attr(struct store *s, struct strbuf *t, const struct inode_rec *r);

/* Ends t with the mark of its entries; -errno when the audit key cannot be read. */
int tree_mark_seal(struct store *s, struct strbuf *t);

/* What the log says the tree's entries are, gathered record by record. */
struct tree_log {
	struct tree_want *v;
	size_t n, alloc;
	struct attr_want *a;		/* what the log says each inode's mode and owner are */
	size_t na, aalloc;
	uint64_t max_ino;		/* the highest inode a word names */
};

/*
 * Takes record r's "tree" member (r successful, seq r->seq): its mark
 * checked, its entries kept. 0; -EBADMSG with one line in msg when the
 * member is not one the pool wrote.
 */
int tree_log_add(struct store *s, struct tree_log *l, const struct audit_rec *r, char *msg,
		 size_t len);

/*
 * The tree as read with ro against the last record of each entry and
 * of each inode's attributes l holds. 0 when they agree; -EBADMSG with *seq the record of the first
 * disagreement (by seq) and one line in msg; another negative errno
 * when the tree cannot be read.
 */
int tree_log_check(struct store *s, rocksdb_readoptions_t *ro, struct tree_log *l,
		   uint64_t *seq, char *msg, size_t len);

/*
 * Records from..to were in a write that failed (a store.write_failed
 * record names them): their changes may or may not have landed, so an
 * entry whose last word is one of them is not held to the tree.
 */
void tree_log_unsure(struct tree_log *l, uint64_t from, uint64_t to);

void tree_log_release(struct tree_log *l);

#endif
