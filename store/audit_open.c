/*
 * store/audit_open.c - the audit log at open and close: finding the end
 * of the chain, checking it against the signed head, choosing the hash.
 */
#include "common/alloc.h"
#include "store/audit_int.h"
#include "store/crypt_store.h"
#include "store/policy_check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/log.h"

/*
 * The last record's seq, hash and time; zeros for an empty log. A damaged
 * last record still gives a hash to link to (the one it claims, else one
 * over its bytes): the head will not match it, so open records the damage
 * and goes on, and verify names the record. Only a read error fails.
 */
static int last_record(struct audit_log *L, uint64_t *seq, uint8_t hash[32], int64_t *time,
		       uint64_t *policy)
{
	rocksdb_iterator_t *it;
	struct audit_rec r;
	uint8_t zero[32] = { 0 }, computed[32], key[8];
	const char *k = NULL, *v;
	size_t klen = 0, vlen;
	struct strbuf plain = STRBUF_INIT;
	json_t *o = NULL;
	char *err = NULL;
	int ret = 0;

	*seq = 0;
	*time = 0;
	*policy = 0;
	memset(hash, 0, 32);
	it = rocksdb_create_iterator_cf(L->s->db, L->s->ropt, L->s->cf[CF_AUDIT]);
	put_be64(key, UINT64_MAX);
	/* stray keys of another length are no records: skip them */
	for (rocksdb_iter_seek_for_prev(it, (const char *)key, sizeof(key));
	     rocksdb_iter_valid(it); rocksdb_iter_prev(it)) {
		k = rocksdb_iter_key(it, &klen);
		if (klen == 8)
			break;
	}
	if (!rocksdb_iter_valid(it)) {
		rocksdb_iter_get_error(it, &err);
		if (err) {
			log_err("%s: audit log: cannot read the last record: %s", L->s->dir, err);
			ret = -EIO;
		}
		goto out;
	}
	v = rocksdb_iter_value(it, &vlen);
	*seq = get_be64((const uint8_t *)k);
	/* one that does not open hashes as it is: the head will not match it */
	if (audit_value_open(L->s, *seq, v, vlen, &plain, &v, &vlen))
		EVP_Digest(v, vlen, hash, NULL, L->md, NULL);
	else if (audit_hash_value(v, vlen, zero, L->md, computed, hash))
		EVP_Digest(v, vlen, hash, NULL, L->md, NULL);
	if (!audit_decode(v, vlen, &o, &r, NULL)) {
		*time = r.time_ns;
		*policy = r.policy;
	}
out:
	json_decref(o);
	rocksdb_free(err);
	rocksdb_iter_destroy(it);
	strbuf_release(&plain);
	return ret;
}

static void last_cp(struct audit_log *L)
{
	rocksdb_iterator_t *it;
	uint8_t key[AUDIT_CP_KEY_LEN];
	struct audit_seal c;
	const char *k, *v;
	size_t klen, vlen;

	it = rocksdb_create_iterator_cf(L->s->db, L->s->ropt, L->s->cf[CF_META]);
	audit_cp_key(key, UINT64_MAX);
	rocksdb_iter_seek_for_prev(it, (const char *)key, sizeof(key));
	if (rocksdb_iter_valid(it)) {
		k = rocksdb_iter_key(it, &klen);
		v = rocksdb_iter_value(it, &vlen);
		if (klen == AUDIT_CP_KEY_LEN && !memcmp(k, AUDIT_META_CP, AUDIT_CP_PREFIX_LEN) &&
		    !audit_seal_decode(v, vlen, &c)) {
			L->cp_seq = c.seq;
			L->cp_time = c.time_ns;
		}
	}
	rocksdb_iter_destroy(it);
}

/*
 * 0 when the signed head names the last record; else 1, why, and the
 * first seq that cannot be trusted: past a cut, the first missing one;
 * after an added tail, the first added; else (rewritten, or no valid
 * head) the first after the last checkpoint, the most a signature vouches.
 */
static int check_head(struct audit_log *L, struct strbuf *why, uint64_t *first_bad)
{
	struct strbuf v = STRBUF_INIT;
	struct audit_seal c;
	char have[65], want[65];
	int ret;

	*first_bad = (L->cp_seq <= L->seq ? L->cp_seq : 0) + 1;
	ret = store_get(L->s, CF_META, AUDIT_META_HEAD, strlen(AUDIT_META_HEAD), &v);
	if (ret == -ENOENT) {
		ret = L->seq ? 1 : 0;
		if (ret)
			strbuf_addf(why, "the log ends at seq %llu but has no signed head",
				    (unsigned long long)L->seq);
		goto out;
	}
	if (ret)
		goto out;
	ret = 1;
	if (audit_seal_decode(v.buf, v.len, &c) ||
	    audit_seal_check(&L->keys, L->algo, AUDIT_SEAL_HEAD, &c)) {
		strbuf_addstr(why, "the signed head is damaged or forged");
		goto out;
	}
	if (c.seq == L->seq && !memcmp(c.hash, L->hash, 32)) {
		ret = 0;
		goto out;
	}
	if (c.seq != L->seq)
		*first_bad = (c.seq < L->seq ? c.seq : L->seq) + 1;
	hex_encode(c.hash, 32, want);
	hex_encode(L->hash, 32, have);
	strbuf_addf(why, "the signed head names seq %llu hash %.16s but the log ends at seq %llu hash %.16s",
		    (unsigned long long)c.seq, want, (unsigned long long)L->seq, have);
out:
	strbuf_release(&v);
	return ret;
}

static void log_free(struct audit_log *L)
{
	audit_pend_clear(L);
	free(L->pend);
	audit_carry_clear(L);
	free(L->carry);
	for (size_t i = 0; i < L->njrec; i++)
		free(L->jrec[i].value);
	free(L->jrec);
	free(L->jcp);
	audit_keys_release(&L->keys);
	pthread_cond_destroy(&L->icond);
	pthread_cond_destroy(&L->cond);
	pthread_mutex_destroy(&L->mu);
	free(L);
}

/* The ingester's timer (audit.c) counts on the monotonic clock. */
static void icond_init(pthread_cond_t *c)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(c, &ca);
	pthread_condattr_destroy(&ca);
}

int audit_load(struct store *s)
{
	struct strbuf why = STRBUF_INIT;
	struct audit_log *L = xcalloc(1, sizeof(*L));
	uint64_t first_bad = 0;
	bool rw = !(s->flags & STORE_OPEN_RDONLY), journal_bad = false;
	int ret;

	L->s = s;

	L->j.dirfd = L->j.fd = -1;
	pthread_mutex_init(&L->mu, NULL);
	pthread_cond_init(&L->cond, NULL);
	icond_init(&L->icond);
	ret = audit_algo_load(s, NULL, L->algo);
	/* a read-only store only reads: verify reports a bad algorithm name */
	if (ret == -EINVAL && !rw)
		snprintf(L->algo, sizeof(L->algo), "sha256");
	else if (ret)
		goto out;
	L->md = audit_md(L->algo);
	if (rw) {
		/* what a daemon that did not close had journaled comes first */
		ret = audit_keys_load(s, &L->keys);
		if (!ret)
			ret = audit_journal_open(L);
		if (!ret)
			ret = audit_journal_replay(L, &why);
		if (ret < 0)
			goto out;
		journal_bad = ret == 1;
	}
	ret = last_record(L, &L->seq, L->hash, &L->time, &L->pol);
	if (ret)
		goto out;
	/*
	 * A log from before records named the policy in force vouches for
	 * none: the history is taken as it is, once (docs/audit.md).
	 */
	L->pol_known = L->pol != 0;
	if (!L->pol_known) {
		ret = store_policy_last(s, &L->pol);
		if (ret)
			goto out;
	}
	L->dseq = L->seq;
	memcpy(L->dhash, L->hash, 32);
	L->dtime = L->time;
	last_cp(L);
	if (rw) {
		size_t jlen = why.len;

		if (jlen)
			strbuf_addstr(&why, "; ");
		ret = check_head(L, &why, &first_bad);
		if (ret < 0)
			goto out;
		if (ret == 0 && journal_bad) {
			/* the refused frames' records are gone from the end */
			strbuf_setlen(&why, jlen);
			first_bad = L->seq + 1;
			ret = 1;
		}
		if (audit_ingest_start(L)) {
			ret = -EAGAIN;
			goto out;
		}
	}
#ifdef POOL_BENCH_AUDIT_SWITCH
	{
		const char *env = getenv("POOLFS_BENCH_AUDIT");

		L->off = env && !strcmp(env, "off");
		if (L->off)
			log_warn("%s: audit log switched off (bench build)", s->dir);
	}
#endif
	audit_log_register(L);
	if (ret == 1) {
		/*
		 * Past a break the tail that named the policy in force may be
		 * gone with the policy versions it applied: the daemon serves
		 * no policy until one is applied again (store_policy_check).
		 */
		L->pol = AUDIT_POLICY_UNKNOWN;
		L->pol_known = true;
		/* "version" carries the first seq that cannot be trusted, for verify */
		struct audit_rec r = { .pid = (uint32_t)getpid(), .comm = "poolfs",
				       .op = "audit_break", .path = "/", .version = first_bad,
				       .result = -EBADMSG, .reason = why.buf };

		log_err("%s: audit log: %s; recorded as an audit_break record", s->dir, why.buf);
		ret = audit_append(s, &r);
		if (ret) {
			audit_unload(s);
			L = NULL;
		}
	}
	L = NULL;
out:
	if (L) {
		audit_ingest_stop(L);
		audit_journal_close(L, false);
		log_free(L);
	}
	strbuf_release(&why);
	return ret;
}

void audit_unload(struct store *s)
{
	struct audit_log *L = audit_log_unregister(s);

	if (!L)
		return;
	pthread_mutex_lock(&L->mu);
	audit_resolve_open(L, true);
	if (L->waiters || L->npend || L->writing)
		log_err("%s: audit log: closed with records still being written", s->dir);
	pthread_mutex_unlock(&L->mu);
	/* the ingester ends once everything journaled is in RocksDB */
	audit_ingest_stop(L);
	audit_journal_close(L, !L->broken);
	log_free(L);
}

int audit_init_store(struct store *s, const char *algo)
{
	struct audit_log *L = audit_log_of(s);
	rocksdb_writebatch_t *b = NULL;
	rocksdb_iterator_t *it = NULL;
	char cur[AUDIT_ALGO_MAX];
	bool empty;
	int ret;

	if (!audit_md(algo))
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	ret = audit_algo_load(s, NULL, cur);
	if (ret || !strcmp(cur, algo))
		goto out;
	it = rocksdb_create_iterator_cf(s->db, s->ropt, s->cf[CF_AUDIT]);
	rocksdb_iter_seek_to_first(it);
	empty = !rocksdb_iter_valid(it);
	if (!empty || (L && L->seq)) {
		ret = -EEXIST;
		goto out;
	}
	b = rocksdb_writebatch_create();
	rocksdb_writebatch_put_cf(b, s->cf[CF_META], AUDIT_META_HASH, strlen(AUDIT_META_HASH),
				  algo, strlen(algo));
	ret = store_write(s, b, true);
	if (ret || !L)
		goto out;
	pthread_mutex_lock(&L->mu);
	snprintf(L->algo, sizeof(L->algo), "%s", algo);
	L->md = audit_md(algo);
	pthread_mutex_unlock(&L->mu);
out:
	pthread_mutex_unlock(&s->lock);
	if (it)
		rocksdb_iter_destroy(it);
	if (b)
		rocksdb_writebatch_destroy(b);
	return ret;
}

void audit_counters(struct store *s, uint64_t *records, uint64_t *groups)
{
	struct audit_log *L = audit_log_of(s);

	*records = *groups = 0;
	if (!L)
		return;
	pthread_mutex_lock(&L->mu);
	*records = L->records;
	*groups = L->groups;
	pthread_mutex_unlock(&L->mu);
}

#ifdef POOL_BENCH_AUDIT_SWITCH
void audit_bench_switch(struct store *s, bool on)
{
	struct audit_log *L = audit_log_of(s);

	if (L)
		L->off = !on;
}
#endif
