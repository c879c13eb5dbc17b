/*
 * store/audit.h - the tamper-evident audit log (操作留痕).
 *
 * A caller fills a struct audit_rec with what happened; the store assigns
 * the sequence number, time and chain hashes when the record is written.
 * store_stage_commit() and friends take an audit_rec so a change and its
 * record land in the same synced write batch; everything else (reads,
 * denials, listings, admin actions) goes through audit_append().
 */
#ifndef POOL_AUDIT_H
#define POOL_AUDIT_H

#include <stdint.h>

struct store;

struct audit_rec {
	/* filled by the caller; strings may be NULL (recorded as "") */
	uint32_t uid, gid, pid;
	const char *comm;		/* process name from /proc/PID/comm */
	const char *dept;
	const char *user;
	const char *op;			/* "open", "read", "write", "create", "unlink", ... */
	const char *path;
	const char *code;		/* catalog code of the entry, if any */
	uint64_t version;
	uint64_t bytes;
	int result;			/* 0 or a negative errno */
	const char *grant;		/* grant id behind the decision */
	const char *view;		/* view fingerprint (hex), "raw" or "" */
	const char *reason;		/* why it was denied, or a note */
	/* filled by the store */
	uint64_t seq;
	int64_t time_ns;
};

/*
 * Appends r as the next record of the chain and makes it durable before
 * returning (records arriving together share one synced write). Returns
 * 0 or a negative errno; on error the caller must fail the operation.
 */
int audit_append(struct store *s, struct audit_rec *r);

#endif
