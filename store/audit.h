/*
 * store/audit.h - the tamper-evident audit log (操作留痕).
 *
 * A caller fills a struct audit_rec with what happened; the store assigns
 * the sequence number, time and chain hashes when the record is written.
 * store_stage_commit() and friends take an audit_rec so a change and its
 * record land in the same synced write batch; everything else (reads,
 * denials, listings, admin actions) goes through audit_append().
 *
 * The log is a hash chain (SHA-256, or SM3 chosen when the pool is made)
 * sealed with keys derived from STORE/keys/sign.key: a head naming the
 * last record (HMAC), rewritten with every write, and Ed25519-signed
 * checkpoints every AUDIT_CP_RECORDS records or AUDIT_CP_SECONDS seconds.
 * The on-disk layout is drawn in store/audit.c.
 */
#ifndef POOL_AUDIT_H
#define POOL_AUDIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"
#include "common/strbuf.h"

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
	uint64_t count;			/* operations the record stands for when
					 * repeats were coalesced; 0 or 1: one
					 * (and the record has no "count") */
	/*
	 * a commit's: the inode and the mark of the version it made
	 * (store/commit_mark.c); 0 and NULL elsewhere (no "ino", "content")
	 */
	uint64_t ino;
	const char *content;
	/*
	 * a tree change's: the entries it made or ended and their mark
	 * (store/tree_mark.c); NULL elsewhere (no "tree")
	 */
	const char *tree;
	/* filled by the store */
	uint64_t seq;
	int64_t time_ns;
	/*
	 * the policy version in force once this record is in the chain (the
	 * last successful policy.apply's); 0: none, and no "policy" member;
	 * AUDIT_POLICY_UNKNOWN after a break at open (store/audit_open.c)
	 */
	uint64_t policy;
	/*
	 * set when read back from a record with "esc": 1: its strings write
	 * a backslash as two and a byte that is not UTF-8 as \xNN; records
	 * without it hold neither, or are from before (docs/audit.md)
	 */
	bool esc;
};

/* s as a record with "esc" holds it: a backslash doubled, a byte not in UTF-8 as \xNN. */
void audit_text(const char *s, struct strbuf *out);

#define AUDIT_POLICY_UNKNOWN	UINT64_MAX

#define AUDIT_CP_RECORDS	1000	/* a signed checkpoint at least this often ... */
#define AUDIT_CP_SECONDS	60	/* ... or after this long with new records */

/*
 * Appends r as the next record of the chain and makes it durable before
 * returning (records arriving together share one synced write). Returns
 * 0 or a negative errno; on error the caller must fail the operation.
 * Takes the store's mutation lock briefly; never call it holding that lock.
 */
int audit_append(struct store *s, struct audit_rec *r);

/*
 * audit_append() for n records at once: consecutive, one synced write
 * for all (r[i].seq and time filled). On error *done says how many of
 * the first records are durable all the same; the rest are not written.
 */
int audit_append_many(struct store *s, struct audit_rec *r, size_t n, size_t *done);

/*
 * Registers fn, which every reader of the log (query, export, verify)
 * calls before it reads, holding no store lock: the daemon writes there
 * the records it coalesces (fs/coalesce.c), so a query sees every
 * operation done before it. NULL unregisters. Set and clear it while no
 * reader runs.
 */
void audit_set_flush_hook(struct store *s, void (*fn)(void *arg), void *arg);

/*
 * Chooses the chain hash of a new pool: "sha256" (the default when never
 * called) or "sm3". Kept in the meta column family as "audit_hash".
 * -EINVAL for another name, -EEXIST when the log already has records
 * under a different algorithm (the same one again is a no-op).
 */
int audit_init_store(struct store *s, const char *algo);

/*
 * Checks the whole log: it starts at the pool's "init" record (an empty
 * log is never intact), every record's hash and link, sequence numbers
 * without gaps, times in order, every checkpoint's and the head's
 * signature and that they match the records. Returns 0 when intact;
 * -EBADMSG with *bad_seq the first record that cannot be trusted and a
 * message in e saying why; another negative errno (with a message) when
 * the log could not be read, e.g. -EACCES without keys/sign.key. Reads a
 * snapshot, so it may run while records are being appended.
 */
int audit_verify(struct store *s, uint64_t *bad_seq, struct perr *e);

/*
 * The auditor's anchor: the head of an intact log (its last record's seq,
 * time and chain hash) with an HMAC-SHA512 under the pool's audit key.
 * Kept outside the store, it lets verify tell a log that no longer
 * reaches that record (wiped, cut short, rolled back, or the record
 * changed) even when the store's own keys were used to rebuild it: the
 * chain hash needs no key, so it is the hash the auditor compares. The
 * MAC only shows which pool made the anchor; whoever holds the store
 * holds the key too.
 */
struct audit_anchor {
	uint64_t seq;
	int64_t time_ns;
	char algo[16];			/* the chain hash: "sha256" or "sm3" */
	uint8_t hash[32];
	uint8_t mac[64];
};

/*
 * Verifies the whole log (as audit_verify()) and, when it is intact,
 * fills a with its head and the MAC. Returns as audit_verify().
 */
int audit_anchor_take(struct store *s, struct audit_anchor *a, uint64_t *bad_seq,
		      struct perr *e);

/*
 * audit_verify() that also requires the log to reach the anchored record
 * unchanged and the anchor to carry this pool's MAC. -EBADMSG with
 * *bad_seq and a one-line message naming the first problem.
 */
int audit_verify_anchor(struct store *s, const struct audit_anchor *a, uint64_t *bad_seq,
			struct perr *e);

/*
 * The anchor as one line of text (no newline): "poolfs-audit-anchor v1
 * seq=S time=2026-12-03T10:00:00.123456789Z algo=sha256 hash=HEX mac=HEX".
 */
void audit_anchor_format(const struct audit_anchor *a, struct strbuf *out);

/*
 * Finds and reads that line anywhere in text (a file holding it, or the
 * JSON "audit anchor --json" printed). -EINVAL with a message when none
 * is there or it is malformed.
 */
int audit_anchor_parse(const char *text, size_t len, struct audit_anchor *a,
		       struct perr *e);

/*
 * Appends record seq as stored (JSON) to out, e.g. to show the record
 * audit_verify() named. -ENOENT when there is none.
 */
int audit_record(struct store *s, uint64_t seq, struct strbuf *out);

/* What audit_query() returns. Zero fields match everything. */
struct audit_filter {
	int64_t since_ns;		/* records at or after this time; 0 = from the start */
	int64_t until_ns;		/* records at or before this time; 0 = to the end */
	const char *dept;		/* exact department id, NULL = any */
	int64_t uid;			/* -1 = any */
	const char *path;		/* path or any path below it ("/a" matches "/a/b", not "/ab") */
	const char *op;			/* exact operation, NULL = any */
	bool denied;			/* only denials: result -EACCES or -EPERM */
	uint64_t limit;			/* stop after this many matches; 0 = no limit */
};

#define AUDIT_FILTER_INIT { 0, 0, NULL, -1, NULL, NULL, false, 0 }

/*
 * Calls cb for each record matching f (NULL = all), oldest first, with
 * the record as stored (one line of JSON, "hash" last) and decoded; both
 * are valid during the call only. A time range costs a binary search
 * plus the records inside it, not a scan of the log. cb returning
 * non-zero stops the walk and that value is returned; else the number
 * of matches, or a negative errno.
 */
int audit_query(struct store *s, const struct audit_filter *f,
		int (*cb)(void *arg, const char *json, const struct audit_rec *r),
		void *arg);

/*
 * audit_query() newest first: the same matches in reverse order, for a
 * caller that wants the last match (limit 1) without reading the log up
 * to it. With op set, a record is parsed only when its stored bytes hold
 * that op, so a walk over many other records costs their reads only.
 */
int audit_query_newest(struct store *s, const struct audit_filter *f,
		       int (*cb)(void *arg, const char *json, const struct audit_rec *r),
		       void *arg);

/*
 * Appends one record to out in format: "jsonl" (the stored JSON and a
 * newline), "syslog" (an RFC 5424 line, facility log-audit, the fields as
 * structured data) or "text" (one line for people). -EINVAL for another
 * format.
 */
int audit_format(const char *format, const char *json, const struct audit_rec *r,
		 struct strbuf *out);

/*
 * The public key that checks the log's checkpoints, in hex, for pinning
 * elsewhere: Ed25519 (64 digits) or SM2 (the uncompressed point, 130
 * digits). hex has AUDIT_PUBKEY_HEX bytes; *algo gets "ed25519" or "sm2".
 */
#define AUDIT_PUBKEY_HEX	131
int audit_public_key(struct store *s, char *hex, const char **algo);

/*
 * The checkpoint signatures of a new pool: "ed25519" (the default) or
 * "sm2" (SM2 with SM3, and HMAC-SM3 for the head). Only while the log is
 * empty (-EEXIST after); -EINVAL for another name.
 */
int audit_sign_set(struct store *s, const char *sign);

#ifdef POOL_BENCH_AUDIT_SWITCH
/*
 * Bench builds only (-DPOOL_BENCH_AUDIT_SWITCH, never the daemon's normal
 * build): turns recording off so a bench can measure what audit costs.
 * Also set at open by POOLFS_BENCH_AUDIT=off in the environment.
 */
void audit_bench_switch(struct store *s, bool on);
#endif

#endif
