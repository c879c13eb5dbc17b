/*
 * store/audit.c - the audit chain: sequence numbers, group commit, the
 * signed head, and recovery at open.
 *
 * On disk (integers big-endian):
 *
 *   CF     key                      value
 *   -----  -----------------------  ----------------------------------------
 *   audit  be64(seq)                record JSON (store/audit_rec.c), seq >= 1
 *   meta   "audit_hash"             "sha256" or "sm3"; absent means sha256
 *   meta   "audit_head"             seal of the last record (store/audit_seal.c)
 *   meta   "audit_cp" be64(seq)     seal of record seq, kept for ever
 *
 * The audit family holds records only, so a walk over it is a walk over
 * the chain. Time is not indexed: a record's time is never below the one
 * before it (the wall clock stepping back is clamped to previous + 1 ns),
 * so seq order is time order and a time range is found by binary search
 * over seq (store/audit_query.c) - no second key to keep in step.
 *
 * Group commit. audit_append() assigns the next seq and hash under
 * s->lock, queues the encoded record and waits. The first waiter that
 * finds no write in flight becomes the leader: it takes every queued
 * record, adds a freshly sealed head (and a checkpoint when one is due)
 * and appends them as one synced frame to the journal (audit_journal.c)
 * while others queue up behind it. The ingester thread then writes
 * journaled groups into RocksDB without the WAL; whatever reads the
 * audit family first waits for it (audit_drain()).
 * Commits that carry their record in a data batch (audit_add() under
 * s->lock) first wait for a leader in flight and for the ingester (else
 * it could write an older head over theirs), then put the queued records
 * into their own batch ahead of theirs, so records land in seq order and
 * one write makes a whole run durable. A queued record so carried is
 * durable once its key is in the database; its waiter takes s->lock,
 * which the commit holds until its write is over, and looks.
 *
 * A failed write loses every record after the last durable one: their
 * callers get the error and the chain resumes from the durable head, so
 * a failure never leaves a gap or a dangling link. The database stays the
 * truth: before trusting a batch to have failed or landed, look for its
 * last key.
 *
 * At open, the journal is replayed first (audit_journal.c). Then the
 * last record must match the signed head; batches always carry both, so
 * only an edit of the database can part them. Then a
 * record with op "audit_break" saying what was found becomes the next
 * link: the store stays usable and the gap stays visible to verify for
 * good (a new head over the damaged tail would otherwise hide it).
 *
 * Lock order: s->lock, then log->mu. A leader writes holding neither,
 * and so does the ingester.
 * Nothing switches recording off, except audit_bench_switch() in builds
 * made with -DPOOL_BENCH_AUDIT_SWITCH, which the daemon's build never is.
 */
#include "common/alloc.h"
#include "store/audit_int.h"
#include "store/crypt_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/log.h"
#include "common/metrics.h"
#include "store/status.h"

#define CP_NS ((int64_t)AUDIT_CP_SECONDS * 1000000000)

struct audit_log *audit_log_of(struct store *s)
{
	return s->audit;
}

uint64_t audit_last_seq(struct store *s)
{
	struct audit_log *L = audit_log_of(s);
	uint64_t seq;

	if (!L)
		return 0;
	pthread_mutex_lock(&L->mu);
	seq = L->seq;
	pthread_mutex_unlock(&L->mu);
	return seq;
}

/* ---- state changes; caller holds mu ---- */

void audit_pend_clear(struct audit_log *L)
{
	for (size_t i = 0; i < L->npend; i++)
		free(L->pend[i].value);
	L->npend = 0;
}

void audit_carry_clear(struct audit_log *L)
{
	for (size_t i = 0; i < L->ncarry; i++)
		free(L->carry[i].value);
	L->ncarry = 0;
}

/* Keeps a copy of a record an audit_add() batch carries; takes value. */
static void carry_push(struct audit_log *L, uint64_t seq, char *value, size_t len)
{
	ALLOC_GROW(L->carry, L->ncarry + 1, L->acarry);
	L->carry[L->ncarry++] = (struct audit_pending){ seq, value, len };
}

static void wake(struct audit_log *L, uint64_t lo, uint64_t hi, int err)
{
	struct audit_waiter **pp = &L->waiters, *w;

	while ((w = *pp)) {
		if (w->seq >= lo && w->seq <= hi) {
			w->done = true;
			w->err = err;
			*pp = w->next;
		} else {
			pp = &w->next;
		}
	}
	pthread_cond_broadcast(&L->cond);
}

static void durable(struct audit_log *L, uint64_t seq, const uint8_t hash[32], int64_t time)
{
	wake(L, L->dseq + 1, seq, 0);
	L->records += seq - L->dseq;
	L->groups++;
	L->dseq = seq;
	memcpy(L->dhash, hash, 32);
	L->dtime = time;
}

/* Everything after the durable head is lost; the chain resumes from it. */
static void lost(struct audit_log *L, int err)
{
	wake(L, L->dseq + 1, UINT64_MAX, err);
	audit_pend_clear(L);
	audit_carry_clear(L);
	L->open_hi = 0;
	L->open_cp = 0;
	L->seq = L->dseq;
	memcpy(L->hash, L->dhash, 32);
	/* a policy.apply is assigned only under s->lock, after the one before settled */
	if (L->pol_seq > L->dseq) {
		L->pol = L->pol_prev;
		L->pol_seq = 0;
	}
	/* L->time stays: times keep rising even across a lost record */
}

/*
 * Whether record seq is in the database. When the read itself fails the
 * answer is yes: a seq wrongly thought free would be written again over
 * a durable record, while one wrongly thought written costs at worst a
 * gap that verify reports.
 */
static bool key_landed(struct audit_log *L, uint64_t seq)
{
	uint8_t key[8];
	char *err = NULL, *v;
	size_t vlen;
	bool found;

	put_be64(key, seq);
	v = rocksdb_get_cf(L->s->db, L->s->ropt, L->s->cf[CF_AUDIT], (const char *)key,
			   sizeof(key), &vlen, &err);
	found = v || err;
	if (err)
		log_err("%s: audit log: cannot read record %llu: %s", L->s->dir,
			(unsigned long long)seq, err);
	rocksdb_free(err);
	rocksdb_free(v);
	return found;
}

static int seal_make(struct audit_log *L, const char *algo, uint64_t seq,
		     const uint8_t hash[32], int64_t time, bool cp, struct audit_seals *sl);
static int assign(struct audit_log *L, struct audit_rec *r, char **value, size_t *len,
		  uint8_t hash[32]);
static void advance(struct audit_log *L, const struct audit_rec *r, const uint8_t hash[32]);

/*
 * The batch carrying records dseq+1..open_hi failed, yet its bytes may be
 * in RocksDB's WAL and come back at the next open: a chain resumed below
 * them would fork there. So the same records are journaled and the chain
 * goes on from them whichever way the batch went. The log then names
 * commits whose callers got an error, so one more record in the same
 * frame says so: op "store.write_failed", version = the first seq of the
 * batch, covering it up to the record before; audit verify excuses a
 * version such a commit names from being missing (it may never have
 * landed), and only those (docs/audit.md "A failed write").
 * When even that fails nothing more is appended until the store is
 * reopened. Caller holds s->lock and mu; no leader writes meanwhile, as
 * assigning a record needs s->lock.
 */
static void rejournal(struct audit_log *L)
{
	uint64_t first = L->dseq + 1;
	char reason[96];
	struct audit_rec r = { .pid = (uint32_t)getpid(), .comm = "poolfs",
			       .op = "store.write_failed", .path = "",
			       .version = first, .result = -EIO, .reason = reason };
	struct audit_seals sl;
	uint8_t hash[32];
	char *value = NULL;
	size_t len;
	int ret = -EIO;

	snprintf(reason, sizeof(reason), "the write carrying records %llu..%llu failed: "
		 "their commits may not have landed", (unsigned long long)first,
		 (unsigned long long)L->open_hi);
	/*
	 * A policy.apply in it may or may not have landed: which policy is in
	 * force is unknown from here, as after a break at open (the next
	 * start asks for the policy to be applied again, audit_open.c).
	 */
	if (L->pol_seq >= first && L->pol_seq <= L->open_hi)
		L->pol = AUDIT_POLICY_UNKNOWN;
	/* the checkpoint, if the batch had one, is left for a later group */
	if (L->ncarry && L->carry[0].seq == first && L->carry[L->ncarry - 1].seq == L->open_hi &&
	    L->seq == L->open_hi)
		ret = assign(L, &r, &value, &len, hash);
	if (!ret) {
		carry_push(L, r.seq, value, len);
		advance(L, &r, hash);
		ret = seal_make(L, L->algo, r.seq, L->hash, L->time, false, &sl);
	}
	if (!ret)
		ret = audit_journal_append(L, L->carry, L->ncarry, &sl);
	if (ret) {
		log_err("%s: audit log: records %llu..%llu of a failed write cannot be journaled "
			"(%s): no more records until the store is reopened", L->s->dir,
			(unsigned long long)first, (unsigned long long)L->open_hi, strerror(-ret));
		lost(L, ret);
		L->halted = -EIO;
		return;
	}
	log_warn("%s: audit log: records %llu..%llu of a failed write journaled", L->s->dir,
		 (unsigned long long)first, (unsigned long long)L->open_hi);
	audit_ingest_push(L, L->carry, L->ncarry, &sl);
	L->ncarry = 0;
	durable(L, L->seq, L->hash, L->time);
	L->open_hi = 0;
	L->open_cp = 0;
}

/*
 * Settles the batch an audit_add() caller was writing. over: the caller
 * is known to be done with it (we hold s->lock and are not that caller),
 * so a batch that did not land failed or was abandoned.
 */
void audit_resolve_open(struct audit_log *L, bool over)
{
	if (!L->open_hi)
		return;
	if (key_landed(L, L->open_hi)) {
		audit_carry_clear(L);
		/* nothing is assigned past an unsettled batch: the head is its last record */
		if (L->open_cp) {
			L->cp_seq = L->open_cp;
			L->cp_time = L->open_cp_time;
		}
		durable(L, L->open_hi, L->hash, L->time);
		L->open_hi = 0;
		L->open_cp = 0;
	} else if (over) {
		/* a batch that never reached RocksDB cannot come back */
		if (__atomic_exchange_n(&L->s->write_unknown, false, __ATOMIC_SEQ_CST))
			rejournal(L);
		else
			lost(L, -EIO);
	}
}

static bool cp_due(const struct audit_log *L, uint64_t seq, int64_t time)
{
	return seq >= L->cp_seq + AUDIT_CP_RECORDS || time - L->cp_time >= CP_NS;
}

/* Encodes r as the record after the assigned head; advance() makes it so. */
static int assign(struct audit_log *L, struct audit_rec *r, char **value, size_t *len,
		  uint8_t hash[32])
{
	int64_t now = store_now_ns();

	int ret;

	r->seq = L->seq + 1;
	r->time_ns = now > L->time ? now : L->time + 1;
	/* as audit verify counts it: the version the last successful policy.apply made */
	r->policy = r->op && !strcmp(r->op, "policy.apply") && !r->result && r->version ?
		    r->version : L->pol;
	ret = audit_encode(r, L->hash, L->md, value, len, hash);
	/* sealed here, so the journal and the audit family hold the same bytes */
	if (!ret) {
		ret = audit_value_seal(L->s, r->seq, value, len);
		if (ret) {
			free(*value);
			*value = NULL;
		}
	}
	return ret;
}

static void advance(struct audit_log *L, const struct audit_rec *r, const uint8_t hash[32])
{
	L->seq = r->seq;
	memcpy(L->hash, hash, 32);
	L->time = r->time_ns;
	if (r->policy != L->pol) {
		L->pol_prev = L->pol;
		L->pol_seq = r->seq;
		L->pol = r->policy;
	}
}

static void pend_push(struct audit_log *L, uint64_t seq, char *value, size_t len)
{
	ALLOC_GROW(L->pend, L->npend + 1, L->apend);
	L->pend[L->npend++] = (struct audit_pending){ seq, value, len };
}

/* Signs the head (and a checkpoint when cp) for record seq. */
static int seal_make(struct audit_log *L, const char *algo, uint64_t seq,
		     const uint8_t hash[32], int64_t time, bool cp, struct audit_seals *sl)
{
	struct audit_seal c = { .seq = seq, .time_ns = time };
	int ret;

	memcpy(c.hash, hash, 32);
	sl->seq = seq;
	sl->has_cp = cp;
	ret = audit_seal_sign(&L->keys, algo, AUDIT_SEAL_HEAD, &c);
	if (ret)
		return ret;
	audit_seal_encode(&c, sl->head);
	if (!cp)
		return 0;
	ret = audit_seal_sign(&L->keys, algo, AUDIT_SEAL_CP, &c);
	if (ret)
		return ret;
	audit_seal_encode(&c, sl->cp);
	return 0;
}

/*
 * Journals every queued record as one synced frame. Called with mu held,
 * no write in flight and records queued; returns with mu held.
 */
static void lead(struct audit_log *L)
{
	struct audit_pending *p = L->pend;
	size_t n = L->npend;
	uint64_t seq = L->seq;
	uint8_t hash[32];
	int64_t time = L->time;
	bool cp = cp_due(L, seq, time);
	char algo[AUDIT_ALGO_MAX];
	struct audit_seals sl;
	int ret;

	memcpy(hash, L->hash, 32);
	memcpy(algo, L->algo, sizeof(algo));
	L->pend = NULL;
	L->npend = L->apend = 0;
	L->writing = true;
	pthread_mutex_unlock(&L->mu);

	ret = seal_make(L, algo, seq, hash, time, cp, &sl);
	if (!ret)
		ret = audit_journal_append(L, p, n, &sl);

	pthread_mutex_lock(&L->mu);
	L->writing = false;
	if (ret) {
		log_err("%s: audit log: %zu record(s) lost: %s", L->s->dir, n, strerror(-ret));
		for (size_t i = 0; i < n; i++)
			free(p[i].value);
		free(p);
		lost(L, ret);
		return;
	}
	audit_ingest_push(L, p, n, &sl);
	free(p);
	if (cp) {
		L->cp_seq = seq;
		L->cp_time = time;
	}
	durable(L, seq, hash, time);
}

/* A waiter whose record a commit carries: once the commit is over, look. */
static void settle_open(struct audit_log *L)
{
	pthread_mutex_unlock(&L->mu);
	pthread_mutex_lock(&L->s->lock);
	pthread_mutex_lock(&L->mu);
	audit_resolve_open(L, true);
	pthread_mutex_unlock(&L->s->lock);
}

int audit_append(struct store *s, struct audit_rec *r)
{
	size_t done;

	return audit_append_many(s, r, 1, &done);
}

static int append_many(struct store *s, struct audit_rec *r, size_t n, size_t *done);

/* Counted for monitoring: records written and how long the caller waited. */
int audit_append_many(struct store *s, struct audit_rec *r, size_t n, size_t *done)
{
	uint64_t t0 = audit_mono_ns();
	int ret = append_many(s, r, n, done);

	if (*done && r[0].seq) {
		metric_add(METRIC_AUDIT_RECORDS, *done);
		metric_audit_latency(audit_mono_ns() - t0);
	}
	return ret;
}

static int append_many(struct store *s, struct audit_rec *r, size_t n, size_t *done)
{
	struct audit_log *L = audit_log_of(s);
	struct audit_waiter w = { 0 };
	uint8_t hash[32];
	char *value = NULL;
	size_t len, i;
	int ret = 0;

	*done = 0;
	if (!L)
		return -EIO;
	if (s->flags & STORE_OPEN_RDONLY)
		return -EROFS;
	if (audit_off(L)) {
		for (i = 0; i < n; i++) {
			r[i].seq = 0;
			r[i].time_ns = store_now_ns();
		}
		*done = n;
		return 0;
	}
	pthread_mutex_lock(&s->lock);
	pthread_mutex_lock(&L->mu);
	audit_resolve_open(L, true);
	for (i = 0; i < n && !ret; i++) {
		/* a broken ingester leaves records in the journal: appends go on */
		ret = L->halted ? L->halted : assign(L, &r[i], &value, &len, hash);
		if (ret) {
			free(value);
			break;
		}
		pend_push(L, r[i].seq, value, len);
		advance(L, &r[i], hash);
		/* one group is durable as a whole: waiting for its last record suffices */
		w.seq = r[i].seq;
	}
	if (w.seq) {
		w.next = L->waiters;
		L->waiters = &w;
	}
	pthread_mutex_unlock(&s->lock);
	while (w.seq && !w.done) {
		if (L->open_hi >= w.seq)
			settle_open(L);
		else if (!L->writing && L->npend)
			lead(L);
		else
			pthread_cond_wait(&L->cond, &L->mu);
	}
	if (w.seq && w.err) {
		ret = w.err;
		i = 0;
	}
	pthread_mutex_unlock(&L->mu);
	*done = i;
	return ret;
}

int audit_add(struct store *s, rocksdb_writebatch_t *b, struct audit_rec *r)
{
	struct audit_log *L = audit_log_of(s);
	struct audit_seals sl;
	uint8_t hash[32];
	char *value = NULL;
	size_t len;
	bool cp;
	int ret;

	if (!L)
		return -EIO;
	if (audit_off(L)) {
		r->seq = 0;
		r->time_ns = store_now_ns();
		return 0;
	}
	pthread_mutex_lock(&L->mu);
	if (L->halted) {
		ret = L->halted;
		goto out;
	}
	/* journaled records go first, or the ingester would move the head back */
	do {
		while (L->writing)
			pthread_cond_wait(&L->cond, &L->mu);
		ret = audit_drained(L);
		if (ret)
			goto out;
	} while (L->writing);
	audit_resolve_open(L, false);
	ret = assign(L, r, &value, &len, hash);
	if (ret)
		goto out;
	/* one checkpoint per batch; a second audit_add() only moves the head */
	cp = !L->open_cp && cp_due(L, r->seq, r->time_ns);
	if (!L->keys.sign) {
		ret = -EROFS;
		goto out;
	}
	ret = seal_make(L, L->algo, r->seq, hash, r->time_ns, cp, &sl);
	if (ret)
		goto out;
	audit_put_head(L, b, &sl);
	if (cp)
		audit_put_cp(L, b, &sl);
	/* copies to journal should the batch fail (rejournal) */
	ALLOC_GROW(L->carry, L->ncarry + L->npend + 1, L->acarry);
	/* nothing fails from here: queued records ride ahead of this one */
	for (size_t i = 0; i < L->npend; i++) {
		audit_put_record(L, b, L->pend[i].seq, L->pend[i].value, L->pend[i].len);
		carry_push(L, L->pend[i].seq, L->pend[i].value, L->pend[i].len);
	}
	L->npend = 0;
	audit_put_record(L, b, r->seq, value, len);
	carry_push(L, r->seq, value, len);
	value = NULL;
	advance(L, r, hash);
	L->open_hi = r->seq;
	if (cp) {
		L->open_cp = r->seq;
		L->open_cp_time = r->time_ns;
	}
	pthread_cond_broadcast(&L->cond);
	/* written with the caller's batch; a rolled-back batch is rare enough */
	metric_add(METRIC_AUDIT_RECORDS, 1);
out:
	pthread_mutex_unlock(&L->mu);
	free(value);
	return ret;
}

void audit_rollback(struct store *s)
{
	struct audit_log *L = audit_log_of(s);

	if (!L || audit_off(L))
		return;
	pthread_mutex_lock(&L->mu);
	/* the database is the truth: a batch whose last key is there landed */
	if (L->open_hi)
		audit_resolve_open(L, true);
	pthread_mutex_unlock(&L->mu);
}

void audit_log_register(struct audit_log *L)
{
	L->s->audit = L;
}

struct audit_log *audit_log_unregister(struct store *s)
{
	struct audit_log *L = s->audit;

	s->audit = NULL;
	return L;
}

int store_audit_head(struct store *s, struct store_audit_head *h)
{
	struct audit_log *L = audit_log_of(s);

	memset(h, 0, sizeof(*h));
	if (!L)
		return -EIO;
	pthread_mutex_lock(&L->mu);
	h->seq = L->dseq;
	memcpy(h->hash, L->dhash, sizeof(h->hash));
	h->time_ns = L->dtime;
	snprintf(h->algo, sizeof(h->algo), "%s", L->algo);
	pthread_mutex_unlock(&L->mu);
	return 0;
}
