/*
 * store/audit_open.c - the audit log at open and close: finding the end
 * of the chain, checking it against the signed head, choosing the hash.
 */
#include "store/audit_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/log.h"

/* The last record's seq, claimed hash and time; zeros for an empty log. */
static int last_record(struct audit_log *L, uint64_t *seq, uint8_t hash[32], int64_t *time)
{
	rocksdb_iterator_t *it;
	struct audit_rec r;
	uint8_t zero[32] = { 0 }, computed[32];
	const char *k, *v;
	size_t klen, vlen;
	json_t *o = NULL;
	char *err = NULL;
	int ret = 0;

	*seq = 0;
	*time = 0;
	memset(hash, 0, 32);
	it = rocksdb_create_iterator_cf(L->s->db, L->s->ropt, L->s->cf[CF_AUDIT]);
	rocksdb_iter_seek_to_last(it);
	if (!rocksdb_iter_valid(it)) {
		rocksdb_iter_get_error(it, &err);
		ret = err ? -EIO : 0;
		goto out;
	}
	k = rocksdb_iter_key(it, &klen);
	v = rocksdb_iter_value(it, &vlen);
	if (klen != 8 || audit_hash_value(v, vlen, zero, L->md, computed, hash) ||
	    audit_decode(v, vlen, &o, &r, NULL)) {
		ret = -EBADMSG;
		goto out;
	}
	*seq = get_be64((const uint8_t *)k);
	*time = r.time_ns;
out:
	if (ret)
		log_err("%s: audit log: cannot read the last record: %s", L->s->dir,
			err ? err : "not a record");
	json_decref(o);
	rocksdb_free(err);
	rocksdb_iter_destroy(it);
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

/* 0 when the signed head names the last record; else 1 and why. */
static int check_head(struct audit_log *L, struct strbuf *why)
{
	struct strbuf v = STRBUF_INIT;
	struct audit_seal c;
	char have[65], want[65];
	int ret;

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
	    audit_seal_check(L->key, L->algo, AUDIT_SEAL_HEAD, &c)) {
		strbuf_addstr(why, "the signed head is damaged or its signature is wrong");
		goto out;
	}
	if (c.seq == L->seq && !memcmp(c.hash, L->hash, 32)) {
		ret = 0;
		goto out;
	}
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
	EVP_PKEY_free(L->key);
	pthread_cond_destroy(&L->cond);
	pthread_mutex_destroy(&L->mu);
	free(L);
}

int audit_load(struct store *s)
{
	struct strbuf why = STRBUF_INIT;
	struct audit_log *L = calloc(1, sizeof(*L));
	bool rw = !(s->flags & STORE_OPEN_RDONLY);
	int ret = -ENOMEM;

	if (!L)
		goto out;
	L->s = s;
	pthread_mutex_init(&L->mu, NULL);
	pthread_cond_init(&L->cond, NULL);
	ret = audit_algo_load(s, NULL, L->algo);
	if (ret)
		goto out;
	L->md = audit_md(L->algo);
	/* a read-only store only reads: a damaged tail is for verify to report */
	ret = last_record(L, &L->seq, L->hash, &L->time);
	if (ret && rw)
		goto out;
	ret = 0;
	L->dseq = L->seq;
	memcpy(L->dhash, L->hash, 32);
	L->dtime = L->time;
	last_cp(L);
	if (rw) {
		ret = audit_key_load(s, &L->key);
		if (ret)
			goto out;
		ret = check_head(L, &why);
		if (ret < 0)
			goto out;
	}
#ifdef POOL_BENCH_AUDIT_SWITCH
	{
		const char *env = getenv("POOLFS_BENCH_AUDIT");

		L->off = env && !strcmp(env, "off");
		if (L->off)
			log_warn("%s: audit log switched off (bench build)", s->dir);
	}
#endif
	s->audit_seq = L->seq;
	memcpy(s->audit_prev, L->hash, 32);
	audit_log_register(L);
	if (ret == 1) {
		struct audit_rec r = { .pid = (uint32_t)getpid(), .comm = "poolfs",
				       .op = "audit_break", .path = "/",
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
	if (L)
		log_free(L);
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
