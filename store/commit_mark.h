/*
 * store/commit_mark.h - what a commit's audit record says of the version
 * it made, so `audit verify` can hold the version rows to the log
 * (store/commit_mark.c). Internal to store/.
 */
#ifndef POOL_STORE_COMMIT_MARK_H
#define POOL_STORE_COMMIT_MARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/audit.h"
#include "store/internal.h"

#define COMMIT_MARK_HEX	32	/* hex digits of a mark */

/*
 * HMAC-SHA256 of msg (which starts with a label of its use) under a key
 * derived from keys/sign.key, its first 16 bytes in hex: the marks the
 * log carries of what an operation did (commits; store/tree_mark.c).
 */
int store_mark(struct store *s, const void *msg, size_t len, char hex[COMMIT_MARK_HEX + 1]);

/*
 * The mark of version of ino with content id cid into hex (NUL-ended):
 * a MAC under the pool's audit key, so the log, which auditors read,
 * does not name the content id (equal content, equal id) of a plain pool.
 */
int commit_mark(struct store *s, uint64_t ino, uint64_t version, const uint8_t cid[32],
		char hex[COMMIT_MARK_HEX + 1]);

/*
 * Sets a's "ino" and "content" for the version r now names (content id
 * cid), with mark as the text's room; a record that names another
 * version is left as it is. -errno when the audit key cannot be read.
 */
int commit_audit_mark(struct store *s, struct audit_rec *a, const struct inode_rec *r,
		      const uint8_t cid[32], char mark[COMMIT_MARK_HEX + 1]);

/*
 * Holds the version row a commit record r (seq) names to it: present, and
 * with its mark unless check_mark is false (a record from before the pool
 * was encrypted: the conversion changed every content id). 0 when it
 * holds or r names none; -EBADMSG with one line in msg, and *unlanded
 * true when a commit that never landed explains it (the version missing,
 * or holding another commit's content); another negative errno when the
 * row cannot be read.
 */
int commit_mark_check(struct store *s, const struct audit_rec *r, bool check_mark, char *msg,
		      size_t len, bool *unlanded);

/* The last audit record of the plain pool an encrypted one was made from; 0: none. */
uint64_t commit_mark_plain_until(struct store *s);

#endif
