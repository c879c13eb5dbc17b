/*
 * store/audit_int.h - what the files of the audit log share: record
 * encoding and hashing (audit_rec.c), seals (audit_seal.c), the chain and
 * group commit (audit.c), the ingester (audit_ingest.c), verification
 * (audit_verify.c) and queries (audit_query.c). Never included outside store/ and white-box tests.
 */
#ifndef POOL_AUDIT_INT_H
#define POOL_AUDIT_INT_H

#include <jansson.h>
#include <openssl/evp.h>

#include "store/internal.h"

/* meta column family keys (the table is in store/audit.c) */
#define AUDIT_META_HASH		"audit_hash"
#define AUDIT_META_SIGN		"audit_sign"	/* "sm2"; absent: ed25519 */
#define AUDIT_META_HEAD		"audit_head"
#define AUDIT_META_CP		"audit_cp"
#define AUDIT_CP_PREFIX_LEN	8
#define AUDIT_CP_KEY_LEN	(AUDIT_CP_PREFIX_LEN + 8)

#define AUDIT_ALGO_MAX		16
#define AUDIT_SEAL_LEN		113
#define AUDIT_HASH_SUFFIX_LEN	75	/* ,"hash":"<64 hex>"} */

/* ---- records (audit_rec.c) ---- */

/* The digest named algo ("sha256", "sm3"), or NULL. */
const EVP_MD *audit_md(const char *algo);

/*
 * Reads the chain algorithm from meta through ro (NULL: the store's
 * default read options) into algo; "sha256" when the key is absent.
 * -EINVAL (logged) for a name this build does not know.
 */
int audit_algo_load(struct store *s, const rocksdb_readoptions_t *ro,
		    char algo[AUDIT_ALGO_MAX]);

/*
 * Encodes r (seq and time_ns set) as the record following a record whose
 * hash is prev: *value (malloc'd, caller frees) gets the stored JSON and
 * hash its chain hash. -EIO when the digest fails.
 */
int audit_encode(const struct audit_rec *r, const uint8_t prev[32], const EVP_MD *md,
		 char **value, size_t *len, uint8_t hash[32]);

/*
 * The chain hash of a stored value: md(prev || value without its hash
 * member). -EBADMSG when the value does not end in a hash member.
 * stored gets the hash the value claims.
 */
int audit_hash_value(const char *value, size_t len, const uint8_t prev[32],
		     const EVP_MD *md, uint8_t hash[32], uint8_t stored[32]);

/*
 * Parses a stored value into *o (caller json_decref()s) and r, whose
 * strings point into *o. -EBADMSG when it is not a record.
 */
int audit_decode(const char *value, size_t len, json_t **o, struct audit_rec *r,
		 char prev_hex[65]);

/* ---- seals: the signed head and checkpoints (audit_seal.c) ---- */

struct audit_seal {
	uint64_t seq;			/* last record covered */
	int64_t time_ns;		/* that record's time */
	uint8_t hash[32];		/* that record's chain hash */
	uint8_t sig[64];
};

/*
 * HEAD and ANCHOR are HMAC-SHA512, CP Ed25519; BACKUP (store/backup_seal.c)
 * is Ed25519 too, so a backup is checked with the public key alone
 */
enum audit_seal_kind { AUDIT_SEAL_HEAD, AUDIT_SEAL_CP, AUDIT_SEAL_ANCHOR, AUDIT_SEAL_BACKUP };

struct audit_keys {
	EVP_PKEY *sign;			/* Ed25519 (or SM2), for checkpoints */
	EVP_MAC_CTX *mac;		/* HMAC-SHA512 (or HMAC-SM3) keyed for the head */
	bool sm2;			/* the 国密 profile: SM2 and HMAC-SM3 */
};

/* Derives both keys from keys/sign.key; audit_keys_release() frees them. */
int audit_keys_load(struct store *s, struct audit_keys *k);
/*
 * Keys that only check signatures (CP, BACKUP): from the raw public key,
 * Ed25519 (32 bytes) or SM2 (the 65-byte point). -EINVAL when it is not one.
 */
int audit_keys_public(bool sm2, const uint8_t *pub, size_t len, struct audit_keys *k);
/* The raw public key of k into pub, its length into *len. */
int audit_keys_pub_raw(const struct audit_keys *k, uint8_t pub[65], size_t *len);
void audit_keys_release(struct audit_keys *k);
/*
 * Seals c with k. The head MAC context in k is reused, so seals with the
 * same keys must not run at once: the chain seals only as the leader of a
 * write or under mu with no write in flight (audit.c).
 */
int audit_seal_sign(const struct audit_keys *k, const char *algo, enum audit_seal_kind kind,
		    struct audit_seal *c);
/* 0 when the seal holds, -EBADMSG when not; one at a time, as above. */
int audit_seal_check(const struct audit_keys *k, const char *algo, enum audit_seal_kind kind,
		     const struct audit_seal *c);
void audit_seal_encode(const struct audit_seal *c, uint8_t out[AUDIT_SEAL_LEN]);
/* -EBADMSG when v is not a seal. */
int audit_seal_decode(const void *v, size_t len, struct audit_seal *c);
void audit_cp_key(uint8_t key[AUDIT_CP_KEY_LEN], uint64_t seq);

/* ---- the chain (audit.c) ---- */

struct audit_waiter {
	uint64_t seq;
	int err;
	bool done;
	struct audit_waiter *next;
};

struct audit_pending {
	uint64_t seq;
	char *value;
	size_t len;
};

/* A group's seals: the head, and a checkpoint when one is due. */
struct audit_seals {
	uint64_t seq;				/* the last record they cover */
	uint8_t head[AUDIT_SEAL_LEN];
	uint8_t cp[AUDIT_SEAL_LEN];
	bool has_cp;
};

/* A journal file that may go once its records are in RocksDB's tables. */
struct audit_retired {
	uint64_t num;
	uint64_t last;				/* its last durable record */
};

/* The journal (audit_journal.c); fd and size belong to the leader. */
struct audit_journal {
	int dirfd;				/* DIR/journal, -1 when none */
	int fd;					/* the file being appended, -1 when none */
	uint64_t num;				/* its number */
	uint64_t size;				/* its bytes */
	uint64_t last;				/* its last durable record */
	struct audit_retired *retired;		/* mu */
	size_t nretired, aretired;
};

/* One per open store; the protocol is described in store/audit.c. */
struct audit_log {
	struct store *s;
	char algo[AUDIT_ALGO_MAX];		/* protected by mu */
	const EVP_MD *md;			/* protected by mu */
	struct audit_keys keys;			/* unset (NULL sign) on a read-only store */

	pthread_mutex_t mu;
	pthread_cond_t cond;

	/* the chain as assigned; protected by mu, extended only under s->lock too */
	uint64_t seq;
	uint8_t hash[32];
	int64_t time;
	/*
	 * the policy version in force at seq (struct audit_rec policy), and
	 * what it was before the record pol_seq changed it, for lost(); mu
	 */
	uint64_t pol, pol_prev, pol_seq;
	bool pol_known;				/* the chain's tail named it at open */
	/* the last record known durable; protected by mu */
	uint64_t dseq;
	uint8_t dhash[32];
	int64_t dtime;
	uint64_t cp_seq;			/* last durable checkpoint; mu */
	int64_t cp_time;
	/* records dseq+1..open_hi are in a batch an audit_add() caller writes; mu */
	uint64_t open_hi;
	uint64_t open_cp;			/* checkpoint in that batch, 0 = none */
	int64_t open_cp_time;
	/* copies of that batch's records, journaled if it fails; mu */
	struct audit_pending *carry;
	size_t ncarry, acarry;
	/* assigned, not yet in any write; mu */
	struct audit_pending *pend;
	size_t npend, apend;
	bool writing;				/* a leader's write is in flight; mu */
	/* journaled, not yet in RocksDB: records, checkpoints, the newest head; mu */
	struct audit_pending *jrec;
	size_t njrec, ajrec;
	struct audit_seals *jcp;
	size_t njcp, ajcp;
	struct audit_seals jhead;		/* valid while njrec > 0 */
	uint64_t jsince;			/* monotonic ns the oldest of them came; mu */
	unsigned drainers;			/* waiting for the ingester to catch up; mu */
	bool ingesting;				/* the ingester's write is in flight; mu */
	uint64_t ingested;			/* the last seq a batch wrote; mu */
	bool stopping;				/* the ingester is to finish and end; mu */
	int broken;				/* a durable record cannot reach RocksDB; mu */
	int halted;				/* the next link is unknown: no appends; mu */
	pthread_cond_t icond;			/* wakes the ingester */
	pthread_t ingester;
	bool has_ingester;
	rocksdb_writeoptions_t *nowal;
	struct audit_journal j;
	struct audit_waiter *waiters;		/* mu */
	uint64_t records, groups;		/* mu */
#ifdef POOL_BENCH_AUDIT_SWITCH
	bool off;
#endif
};

#ifdef POOL_BENCH_AUDIT_SWITCH
#define audit_off(L)	((L)->off)
#else
#define audit_off(L)	false
#endif

/* The log of s, or NULL before audit_load(). */
struct audit_log *audit_log_of(struct store *s);
/* The sequence number of the last record assigned (0: none, or no log). */
uint64_t audit_last_seq(struct store *s);
void audit_log_register(struct audit_log *L);
/* Removes and returns the log of s (NULL when none). */
struct audit_log *audit_log_unregister(struct store *s);
/* Settles the batch an audit_add() caller was writing; caller holds mu. */
void audit_resolve_open(struct audit_log *L, bool over);
/* Frees the queued records; caller holds mu. */
void audit_pend_clear(struct audit_log *L);
void audit_carry_clear(struct audit_log *L);

/*
 * The ingester (audit_ingest.c). Starts the thread that moves journaled
 * records into RocksDB; stops it once everything journaled is in
 * (audit_ingest_stop()).
 */
int audit_ingest_start(struct audit_log *L);
void audit_ingest_stop(struct audit_log *L);
/*
 * The ingester writes a batch once AUDIT_INGEST_BATCH records wait, once
 * the oldest has waited AUDIT_INGEST_NS, or at once while anyone waits
 * for it: audit_drain() writes what is due itself; a caller that waits
 * otherwise counts itself in drainers and calls audit_ingest_kick()
 * (caller holds mu).
 */
#define AUDIT_INGEST_BATCH	256
#define AUDIT_INGEST_NS		(10 * 1000000)
void audit_ingest_kick(struct audit_log *L);
/* Hands a journaled group to the ingester (it takes p's values); caller holds mu. */
void audit_ingest_push(struct audit_log *L, struct audit_pending *p, size_t n,
		       const struct audit_seals *sl);
/*
 * Caller holds mu: writes what is journaled and not yet in RocksDB (or
 * waits for the ingester's write in flight). -EIO once a write failed.
 */
int audit_drained(struct audit_log *L);
/* Puts a record, the checkpoint of sl, or sl's head into b, as stored. */
void audit_put_record(struct audit_log *L, rocksdb_writebatch_t *b, uint64_t seq,
		      const char *value, size_t len);
void audit_put_cp(struct audit_log *L, rocksdb_writebatch_t *b, const struct audit_seals *sl);
void audit_put_head(struct audit_log *L, rocksdb_writebatch_t *b, const struct audit_seals *sl);
/* CLOCK_MONOTONIC in ns. */
uint64_t audit_mono_ns(void);

/* ---- the journal (audit_journal.c) ---- */

#ifdef POOL_TEST
/* Test builds only: bytes after which a journal file is set aside (8 MiB). */
extern uint64_t audit_journal_max;
#endif

/* Opens DIR/journal, creating it; no file is made before the first append. */
int audit_journal_open(struct audit_log *L);
/*
 * Appends one group (n records and its seals) as a frame and syncs it.
 * Caller is the leader (no other append runs). On failure the file is set
 * aside, so the frame's remains end a file and the next group starts a
 * new one.
 */
int audit_journal_append(struct audit_log *L, const struct audit_pending *p, size_t n,
			 const struct audit_seals *sl);
/*
 * Deletes the retired files whose records are all at or below ingested, after
 * flushing the audit and meta families to tables. Called by the ingester.
 */
void audit_journal_retire(struct audit_log *L, uint64_t ingested);
/* Whether a retired file holds records at or below ingested only; caller holds mu. */
bool audit_journal_retirable(const struct audit_log *L, uint64_t ingested);
/* At close, everything ingested: flush, delete every file, close. */
void audit_journal_close(struct audit_log *L, bool ingested);
/*
 * At open, before the chain is read: puts the records, checkpoints and
 * head of every authentic frame left by a daemon that did not close into
 * RocksDB, then deletes the files. 1 and why when a complete frame fails
 * its check (tampering, wherever it sits): that frame and all after it
 * are refused. Only an incomplete frame (cut short, or failing in a
 * zero-filled tail) is dropped as a torn write.
 */
int audit_journal_replay(struct audit_log *L, struct strbuf *why);

/* Counters for benches and tests: records and synced group writes so far. */
void audit_counters(struct store *s, uint64_t *records, uint64_t *groups);

/* ---- queries (audit_query.c) ---- */

/* audit_query() that also counts the records it read (*scanned). */
int audit_query_scan(struct store *s, const struct audit_filter *f,
		     int (*cb)(void *arg, const char *json, const struct audit_rec *r),
		     void *arg, uint64_t *scanned);

/* audit_query_newest() that also counts the records it parsed (*decoded). */
int audit_query_newest_scan(struct store *s, const struct audit_filter *f,
			    int (*cb)(void *arg, const char *json, const struct audit_rec *r),
			    void *arg, uint64_t *decoded);

#endif
