/*
 * store/policy_check.h - the policy history held to the audit log at
 * start (docs/audit.md "The policy in force").
 */
#ifndef POOL_STORE_POLICY_CHECK_H
#define POOL_STORE_POLICY_CHECK_H

#include <stdint.h>

#include "common/error.h"

struct store;

/* The highest policy version stored, 0 when none; -EIO on a read error. */
int store_policy_last(struct store *s, uint64_t *version);

/*
 * 0 when the newest policy version stored is the one the audit log's
 * tail says is in force (every record names it). Else -EBADMSG, one
 * line in e, and a "policy.check" record with the reason: the history
 * was rolled back or added to outside poolctl, or a break at open left
 * the version in force unknown. A log older than the "policy" member
 * vouches for nothing and passes. poolfs refuses to serve on an error;
 * `poolctl policy apply` makes the history and the log agree again.
 */
int store_policy_check(struct store *s, struct perr *e);

/*
 * Holds policy version's stored value raw[0..rawlen) (as read: sealed in
 * an encrypted pool) to mark, the "content" of the policy.apply record
 * that made it (for audit verify): 0 when they agree, -EBADMSG when not
 * or the value does not open, another -errno when the key cannot be read.
 */
int policy_mark_check(struct store *s, uint64_t version, const void *raw, size_t rawlen,
		      const char *mark);

#endif
