/*
 * tests/test_audit.c - the audit log: the chain, its seals, group commit
 * under threads and under kill -9, tampering of every kind, queries.
 *
 * White-box: tampering is done the way an intruder with the database but
 * not the keys would do it, by editing RocksDB directly, so it includes
 * store/internal.h and store/audit_int.h.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/codec.h"
#include "store/audit_int.h"

static char tmp_root[] = "/tmp/test_audit.XXXXXX";
static int pool_no;
static char pool_dir[256];
static struct store *S;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int suite_init(void)
{
	return mkdtemp(tmp_root) ? 0 : -1;
}

static int suite_clean(void)
{
	return nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void pool_new(void)
{
	struct perr e = PERR_INIT;

	snprintf(pool_dir, sizeof(pool_dir), "%s/pool%d", tmp_root, ++pool_no);
	CU_ASSERT_EQUAL_FATAL(store_create(pool_dir, &e), 0);
	CU_ASSERT_EQUAL_FATAL(store_open(pool_dir, 0, &S, &e), 0);
}

/* Opens pool_dir again, closing S first if it is open. */
static void pool_reopen(void)
{
	struct perr e = PERR_INIT;

	store_close(S);
	S = NULL;
	CU_ASSERT_EQUAL_FATAL(store_open(pool_dir, 0, &S, &e), 0);
}

static void pool_done(void)
{
	store_close(S);
	S = NULL;
}

static const char *const depts[] = { "gongan", "renshe", "weijian", "" };
static const char *const ops[] = { "open", "release", "create", "readdir", "unlink" };

/* Record i of a test log: every field varies with i. */
static void rec_fill(struct audit_rec *r, unsigned i, char *path, size_t plen,
		     char *reason, size_t rlen)
{
	snprintf(path, plen, i % 7 == 0 ? "/a/%u" : i % 7 == 1 ? "/ab/%u" :
		 i % 7 == 2 ? "/基础库/人口/%u.csv" : i % 7 == 3 ? "/bad\xff\xfe/%u" : "/z/%u", i);
	snprintf(reason, rlen, "r%u", i);
	*r = (struct audit_rec){
		.uid = 1000 + i % 5, .gid = 2000 + i % 3, .pid = i, .comm = i % 11 ? "cat" : NULL,
		.dept = depts[i % 4], .user = i % 2 ? "张三" : NULL, .op = ops[i % 5],
		.path = path, .code = "341800-GA-0001", .version = i % 9, .bytes = i * 100ull,
		.result = i % 6 == 0 ? -EACCES : i % 13 == 0 ? -EIO : 0,
		.grant = i % 4 == 1 ? "g1" : NULL, .view = "raw", .reason = reason,
	};
}

/* Appends n records numbered from first; returns how many failed. */
static int fill(unsigned first, unsigned n)
{
	char path[64], reason[32];
	struct audit_rec r;
	int bad = 0;

	for (unsigned i = first; i < first + n; i++) {
		rec_fill(&r, i, path, sizeof(path), reason, sizeof(reason));
		bad += audit_append(S, &r) != 0;
	}
	return bad;
}

/* ---- raw access, as an intruder would have it ---- */

static int raw_get(uint64_t seq, struct strbuf *v)
{
	uint8_t key[8];

	put_be64(key, seq);
	return store_get(S, CF_AUDIT, key, sizeof(key), v);
}

static void raw_put(enum store_cf cf, const void *key, size_t klen, const void *v, size_t vlen)
{
	char *err = NULL;

	rocksdb_put_cf(S->db, S->wopt_sync, S->cf[cf], key, klen, v, vlen, &err);
	CU_ASSERT_PTR_NULL(err);
	rocksdb_free(err);
}

static void raw_put_rec(uint64_t seq, const char *v, size_t vlen)
{
	uint8_t key[8];

	put_be64(key, seq);
	raw_put(CF_AUDIT, key, sizeof(key), v, vlen);
}

static void raw_del(enum store_cf cf, const void *key, size_t klen)
{
	char *err = NULL;

	rocksdb_delete_cf(S->db, S->wopt_sync, S->cf[cf], key, klen, &err);
	CU_ASSERT_PTR_NULL(err);
	rocksdb_free(err);
}

static void raw_del_rec(uint64_t seq)
{
	uint8_t key[8];

	put_be64(key, seq);
	raw_del(CF_AUDIT, key, sizeof(key));
}

/* The hash record seq claims. */
static void claimed_hash(uint64_t seq, uint8_t hash[32])
{
	struct strbuf v = STRBUF_INIT;
	uint8_t zero[32] = { 0 }, computed[32];

	memset(hash, 0, 32);
	if (seq && !raw_get(seq, &v))
		CU_ASSERT_EQUAL(audit_hash_value(v.buf, v.len, zero, EVP_sha256(), computed, hash), 0);
	strbuf_release(&v);
}

static int64_t time_of(uint64_t seq)
{
	struct strbuf v = STRBUF_INIT;
	struct audit_rec r;
	json_t *o = NULL;
	int64_t t = 0;

	if (!raw_get(seq, &v) && !audit_decode(v.buf, v.len, &o, &r, NULL))
		t = r.time_ns;
	json_decref(o);
	strbuf_release(&v);
	return t;
}

/*
 * Rewrites records from..last as a forger with the database but not the
 * key would: record from gets src's content (src 0: keeps its own, with
 * a new bytes value) and every later one is re-linked, so the chain
 * itself is consistent again. Returns the new last seq.
 */
static uint64_t forge_from(uint64_t from, uint64_t last, uint64_t shift)
{
	struct strbuf v = STRBUF_INIT;
	uint8_t prev[32], hash[32];
	struct audit_rec r;
	json_t *o;
	char *value;
	size_t len;

	claimed_hash(from - 1, prev);
	/* shift > 0 renumbers from.. upwards, walking down so nothing is overwritten */
	for (uint64_t k = last; shift && k >= from; k--) {
		CU_ASSERT_EQUAL_FATAL(raw_get(k, &v), 0);
		raw_put_rec(k + shift, v.buf, v.len);
	}
	last += shift;
	for (uint64_t k = from; k <= last; k++) {
		CU_ASSERT_EQUAL_FATAL(raw_get(k, &v), 0);
		CU_ASSERT_EQUAL_FATAL(audit_decode(v.buf, v.len, &o, &r, NULL), 0);
		r.seq = k;
		if (k == from) {
			r.bytes = 999999;
			/* a careful forger keeps times rising */
			if (shift)
				r.time_ns = time_of(from - 1) + 1;
		}
		CU_ASSERT_EQUAL_FATAL(audit_encode(&r, prev, EVP_sha256(), &value, &len, hash), 0);
		raw_put_rec(k, value, len);
		memcpy(prev, hash, 32);
		free(value);
		json_decref(o);
	}
	strbuf_release(&v);
	return last;
}

/* The highest checkpoint seq below seq, 0 when none. */
static uint64_t cp_below(uint64_t seq)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(S->db, S->ropt, S->cf[CF_META]);
	uint8_t key[AUDIT_CP_KEY_LEN];
	uint64_t got = 0;
	size_t klen;
	const char *k;

	audit_cp_key(key, seq - 1);
	rocksdb_iter_seek_for_prev(it, (const char *)key, sizeof(key));
	if (rocksdb_iter_valid(it)) {
		k = rocksdb_iter_key(it, &klen);
		if (klen == AUDIT_CP_KEY_LEN && !memcmp(k, AUDIT_META_CP, AUDIT_CP_PREFIX_LEN))
			got = get_be64((const uint8_t *)k + AUDIT_CP_PREFIX_LEN);
	}
	rocksdb_iter_destroy(it);
	return got;
}

static uint64_t count_cps(void)
{
	uint64_t n = 0;

	for (uint64_t seq = S->audit_seq + 1; (seq = cp_below(seq)); n++)
		;
	return n;
}

/* audit_verify's answer: 0 when intact, else the bad seq (and e has why). */
static uint64_t verify_bad(struct perr *e)
{
	uint64_t bad = 12345678;
	int ret = audit_verify(S, &bad, e);

	if (!ret) {
		CU_ASSERT_EQUAL(bad, 0);
		return 0;
	}
	CU_ASSERT_EQUAL(ret, -EBADMSG);
	return bad;
}

static uint64_t verify_quiet(void)
{
	struct perr e = PERR_INIT;

	return verify_bad(&e);
}

/* ---- the chain ---- */

/* Mixed traffic: appends with policy puts (records carried in data batches). */
static void test_chain(void)
{
	struct store_writer w = { .uid = 0, .dept = "admin", .user = "root" };
	struct audit_rec pr = { .op = "policy_apply", .path = "/" };
	char doc[64];
	uint64_t v, records, groups;

	pool_new();
	CU_ASSERT_EQUAL(verify_quiet(), 0);		/* an empty log is intact */
	for (unsigned i = 0; i < 3000; i += 100) {
		CU_ASSERT_EQUAL(fill(i, 100), 0);
		snprintf(doc, sizeof(doc), "{\"version\":1,\"n\":%u}", i);
		CU_ASSERT_EQUAL(store_policy_put(S, doc, strlen(doc), &w, &pr, &v), 0);
	}
	CU_ASSERT_EQUAL(S->audit_seq, 3030);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	CU_ASSERT(count_cps() >= 3);
	audit_counters(S, &records, &groups);
	CU_ASSERT(records >= 3000);
	pool_reopen();
	CU_ASSERT_EQUAL(S->audit_seq, 3030);
	CU_ASSERT_EQUAL(fill(5000, 10), 0);
	CU_ASSERT_EQUAL(S->audit_seq, 3040);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	pool_done();
}

/* An audit_add() whose batch is never written leaves no gap and no trace. */
static void test_rollback(void)
{
	struct audit_rec r = { .op = "write", .path = "/x" };
	rocksdb_writebatch_t *b = rocksdb_writebatch_create();
	struct strbuf v = STRBUF_INIT;

	pool_new();
	CU_ASSERT_EQUAL(fill(0, 5), 0);
	pthread_mutex_lock(&S->lock);
	CU_ASSERT_EQUAL(audit_add(S, b, &r), 0);
	CU_ASSERT_EQUAL(r.seq, 6);
	CU_ASSERT_EQUAL(audit_add(S, b, &r), 0);	/* two in one batch */
	CU_ASSERT_EQUAL(r.seq, 7);
	audit_rollback(S);
	CU_ASSERT_EQUAL(S->audit_seq, 5);
	pthread_mutex_unlock(&S->lock);
	CU_ASSERT_EQUAL(fill(10, 1), 0);
	CU_ASSERT_EQUAL(S->audit_seq, 6);
	CU_ASSERT_EQUAL(verify_quiet(), 0);

	/* and one that is written counts, two records in one batch */
	rocksdb_writebatch_clear(b);
	pthread_mutex_lock(&S->lock);
	CU_ASSERT_EQUAL(audit_add(S, b, &r), 0);
	CU_ASSERT_EQUAL(audit_add(S, b, &r), 0);
	CU_ASSERT_EQUAL(store_write(S, b, true), 0);
	pthread_mutex_unlock(&S->lock);
	CU_ASSERT_EQUAL(fill(20, 1), 0);
	CU_ASSERT_EQUAL(S->audit_seq, 9);
	CU_ASSERT_EQUAL(raw_get(8, &v), 0);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	pool_reopen();
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	strbuf_release(&v);
	rocksdb_writebatch_destroy(b);
	pool_done();
}

static void test_sm3(void)
{
	struct strbuf v = STRBUF_INIT;
	uint8_t zero[32] = { 0 }, h256[32], hsm3[32], stored[32];

	pool_new();
	CU_ASSERT_EQUAL(audit_init_store(S, "md5"), -EINVAL);
	CU_ASSERT_EQUAL(audit_init_store(S, "sm3"), 0);
	CU_ASSERT_EQUAL(audit_init_store(S, "sm3"), 0);
	CU_ASSERT_EQUAL(fill(0, 20), 0);
	CU_ASSERT_EQUAL(audit_init_store(S, "sha256"), -EEXIST);
	CU_ASSERT_EQUAL(store_get(S, CF_META, "audit_hash", 10, &v), 0);
	CU_ASSERT(v.len == 3 && !memcmp(v.buf, "sm3", 3));
	CU_ASSERT_EQUAL(raw_get(1, &v), 0);
	CU_ASSERT_EQUAL(audit_hash_value(v.buf, v.len, zero, EVP_sm3(), hsm3, stored), 0);
	CU_ASSERT_EQUAL(memcmp(hsm3, stored, 32), 0);
	CU_ASSERT_EQUAL(audit_hash_value(v.buf, v.len, zero, EVP_sha256(), h256, stored), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(h256, stored, 32), 0);
	pool_reopen();
	CU_ASSERT_EQUAL(fill(20, 20), 0);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	/* flipping the algorithm back is tampering too */
	raw_put(CF_META, "audit_hash", 10, "sha256", 6);
	CU_ASSERT_EQUAL(verify_quiet(), 1);
	strbuf_release(&v);
	pool_done();
}

/* A read-only store reads and verifies but never writes. */
static void test_rdonly(void)
{
	struct perr e = PERR_INIT;
	struct audit_rec r = { .op = "open" };

	pool_new();
	CU_ASSERT_EQUAL(fill(0, 10), 0);
	pool_done();
	CU_ASSERT_EQUAL_FATAL(store_open(pool_dir, STORE_OPEN_RDONLY, &S, &e), 0);
	CU_ASSERT_EQUAL(S->audit_seq, 10);
	CU_ASSERT_EQUAL(audit_append(S, &r), -EROFS);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	pool_done();
}

/* ---- tampering ---- */

#define TAMPER_N 2500

static void tamper_pool(void)
{
	pool_new();
	CU_ASSERT_EQUAL_FATAL(fill(0, TAMPER_N), 0);
	CU_ASSERT_EQUAL_FATAL(verify_quiet(), 0);
}

/* Replaces the first occurrence of from in record seq by to, hash untouched. */
static void edit_record(uint64_t seq, const char *from, const char *to)
{
	struct strbuf v = STRBUF_INIT, n = STRBUF_INIT;
	char *at;

	CU_ASSERT_EQUAL_FATAL(raw_get(seq, &v), 0);
	at = strstr(v.buf, from);
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	strbuf_add(&n, v.buf, (size_t)(at - v.buf));
	strbuf_addstr(&n, to);
	strbuf_addstr(&n, at + strlen(from));
	raw_put_rec(seq, n.buf, n.len);
	strbuf_release(&v);
	strbuf_release(&n);
}

static void test_tamper_change(void)
{
	struct perr e = PERR_INIT;
	struct strbuf v = STRBUF_INIT;

	tamper_pool();
	edit_record(1234, "\"uid\":1003", "\"uid\":0");
	CU_ASSERT_EQUAL(verify_bad(&e), 1234);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "broken at seq 1234: record 1234 does not match its hash (changed)"));
	CU_ASSERT_EQUAL(audit_record(S, 1234, &v), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(v.buf, "\"uid\":0,"));
	CU_ASSERT_EQUAL(audit_record(S, TAMPER_N + 1, &v), -ENOENT);
	strbuf_release(&v);
	pool_done();
}

static void test_tamper_delete(void)
{
	struct perr e = PERR_INIT;

	tamper_pool();
	raw_del_rec(777);
	CU_ASSERT_EQUAL(verify_bad(&e), 777);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "missing"));
	pool_done();
}

static void test_tamper_insert(void)
{
	struct strbuf v = STRBUF_INIT;
	uint64_t last;

	/* in the middle, everything after renumbered and re-linked */
	tamper_pool();
	last = forge_from(1500, TAMPER_N, 1);
	CU_ASSERT_EQUAL(last, TAMPER_N + 1);
	CU_ASSERT_EQUAL(verify_quiet(), cp_below(1500) + 1);
	pool_done();

	/* at the end, a well-linked record after the signed head */
	tamper_pool();
	CU_ASSERT_EQUAL(raw_get(TAMPER_N, &v), 0);
	raw_put_rec(TAMPER_N + 1, v.buf, v.len);
	forge_from(TAMPER_N + 1, TAMPER_N + 1, 0);
	CU_ASSERT_EQUAL(verify_quiet(), TAMPER_N + 1);
	strbuf_release(&v);
	pool_done();

	/* a record rewritten and the rest re-linked, no count changed */
	tamper_pool();
	forge_from(50, TAMPER_N, 0);
	CU_ASSERT_EQUAL(verify_quiet(), cp_below(50) + 1);
	pool_done();
}

static void test_tamper_swap(void)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	tamper_pool();
	CU_ASSERT_EQUAL(raw_get(100, &a), 0);
	CU_ASSERT_EQUAL(raw_get(200, &b), 0);
	raw_put_rec(100, b.buf, b.len);
	raw_put_rec(200, a.buf, a.len);
	CU_ASSERT_EQUAL(verify_quiet(), 100);
	strbuf_release(&a);
	strbuf_release(&b);
	pool_done();
}

static void test_tamper_cut(void)
{
	struct perr e = PERR_INIT;
	uint64_t cp;

	/* the tail after the last checkpoint: only the head knows */
	tamper_pool();
	cp = cp_below(TAMPER_N + 1);
	CU_ASSERT(cp < TAMPER_N - 5);
	for (uint64_t k = TAMPER_N - 4; k <= TAMPER_N; k++)
		raw_del_rec(k);
	CU_ASSERT_EQUAL(verify_bad(&e), TAMPER_N - 4);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "cut off"));

	/* reopening does not launder it: an audit_break record keeps it visible */
	pool_reopen();
	CU_ASSERT_EQUAL(S->audit_seq, TAMPER_N - 4);
	CU_ASSERT_EQUAL(fill(9000, 10), 0);
	memset(&e, 0, sizeof(e));
	CU_ASSERT_EQUAL(verify_bad(&e), TAMPER_N - 4);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "damage found when the store was opened"));
	pool_done();

	/* past a checkpoint, the head rolled back with it */
	tamper_pool();
	cp = cp_below(TAMPER_N + 1);
	{
		struct strbuf head = STRBUF_INIT;

		CU_ASSERT_EQUAL(store_get(S, CF_META, AUDIT_META_HEAD, strlen(AUDIT_META_HEAD),
					  &head), 0);
		CU_ASSERT_EQUAL(fill(9000, 1), 0);
		for (uint64_t k = cp; k <= TAMPER_N + 1; k++)
			raw_del_rec(k);
		raw_put(CF_META, AUDIT_META_HEAD, strlen(AUDIT_META_HEAD), head.buf, head.len);
		strbuf_release(&head);
	}
	CU_ASSERT_EQUAL(verify_quiet(), cp);
	pool_done();
}

/* Opening a damaged log keeps the damage visible and the store usable. */
static void test_tamper_reopen(void)
{
	struct strbuf v = STRBUF_INIT;
	uint64_t cp;

	/* a well-linked record added after the head */
	tamper_pool();
	CU_ASSERT_EQUAL(raw_get(TAMPER_N, &v), 0);
	raw_put_rec(TAMPER_N + 1, v.buf, v.len);
	forge_from(TAMPER_N + 1, TAMPER_N + 1, 0);
	pool_reopen();
	CU_ASSERT_EQUAL(S->audit_seq, TAMPER_N + 2);
	CU_ASSERT_EQUAL(fill(0, 3), 0);
	CU_ASSERT_EQUAL(verify_quiet(), TAMPER_N + 1);
	pool_done();

	/* the tail rewritten and re-linked, count unchanged: from the last checkpoint */
	tamper_pool();
	cp = cp_below(TAMPER_N + 1);
	forge_from(TAMPER_N - 50, TAMPER_N, 0);
	pool_reopen();
	CU_ASSERT_EQUAL(verify_quiet(), cp + 1);
	pool_done();

	/* a last record that is not a record at all */
	tamper_pool();
	raw_put_rec(TAMPER_N, "garbage", 7);
	pool_reopen();
	CU_ASSERT_EQUAL(S->audit_seq, TAMPER_N + 1);
	CU_ASSERT_EQUAL(fill(0, 3), 0);
	CU_ASSERT_EQUAL(verify_quiet(), TAMPER_N);
	strbuf_release(&v);
	pool_done();
}

static void test_tamper_seals(void)
{
	struct strbuf v = STRBUF_INIT;
	uint8_t key[AUDIT_CP_KEY_LEN];
	uint64_t cp;

	/* a checkpoint with a changed hash */
	tamper_pool();
	cp = cp_below(TAMPER_N);
	CU_ASSERT(cp > 0);
	audit_cp_key(key, cp);
	CU_ASSERT_EQUAL(store_get(S, CF_META, key, sizeof(key), &v), 0);
	v.buf[20] ^= 1;
	raw_put(CF_META, key, sizeof(key), v.buf, v.len);
	CU_ASSERT_EQUAL(verify_quiet(), cp);
	/* a forged checkpoint where there was none */
	v.buf[20] ^= 1;
	raw_put(CF_META, key, sizeof(key), v.buf, v.len);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	audit_cp_key(key, 10);
	put_be64((uint8_t *)v.buf + 1, 10);
	raw_put(CF_META, key, sizeof(key), v.buf, v.len);
	CU_ASSERT_EQUAL(verify_quiet(), 10);
	raw_del(CF_META, key, sizeof(key));
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	/* a forged head */
	CU_ASSERT_EQUAL(store_get(S, CF_META, AUDIT_META_HEAD, strlen(AUDIT_META_HEAD), &v), 0);
	v.buf[60] ^= 1;
	raw_put(CF_META, AUDIT_META_HEAD, strlen(AUDIT_META_HEAD), v.buf, v.len);
	CU_ASSERT_EQUAL(verify_quiet(), cp_below(TAMPER_N + 1) + 1);
	/* no head at all */
	raw_del(CF_META, AUDIT_META_HEAD, strlen(AUDIT_META_HEAD));
	CU_ASSERT_EQUAL(verify_quiet(), cp_below(TAMPER_N + 1) + 1);
	/* a stray key among the records */
	raw_put(CF_AUDIT, "\0\0\0\0\0\0\0\0x", 9, "{}", 2);
	CU_ASSERT_EQUAL(verify_quiet(), 1);
	strbuf_release(&v);
	pool_done();
}

/* ---- group commit ---- */

#define THREADS		8
#define PER_THREAD	300
#define COMMITS		30

struct appender {
	unsigned id;
	uint64_t seqs[PER_THREAD];
	int bad;
};

static void *appender_main(void *arg)
{
	struct appender *a = arg;
	char path[64], reason[32];
	struct audit_rec r;

	for (unsigned i = 0; i < PER_THREAD; i++) {
		rec_fill(&r, a->id * 1000 + i, path, sizeof(path), reason, sizeof(reason));
		snprintf(reason, sizeof(reason), "t%u-%u", a->id, i);
		if (audit_append(S, &r))
			a->bad++;
		else
			a->seqs[i] = r.seq;
	}
	return NULL;
}

static void *committer_main(void *arg)
{
	struct store_writer w = { .uid = 0, .dept = "admin" };
	struct audit_rec r = { .op = "policy_apply", .path = "/", .reason = "commit" };
	int *bad = arg;
	uint64_t v;

	for (int i = 0; i < COMMITS; i++)
		*bad += store_policy_put(S, "{\"version\":1}", 13, &w, &r, &v) != 0;
	return NULL;
}

static void test_threads(void)
{
	static struct appender a[THREADS];
	uint64_t total = THREADS * PER_THREAD + COMMITS, records, groups;
	struct strbuf v = STRBUF_INIT;
	pthread_t th[THREADS + 1];
	char want[48];
	uint8_t *seen = calloc(total + 1, 1);
	int cbad = 0, dup = 0, wrong = 0;

	pool_new();
	for (unsigned i = 0; i < THREADS; i++) {
		a[i] = (struct appender){ .id = i };
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, appender_main, &a[i]), 0);
	}
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th[THREADS], NULL, committer_main, &cbad), 0);
	for (unsigned i = 0; i <= THREADS; i++)
		pthread_join(th[i], NULL);
	CU_ASSERT_EQUAL(cbad, 0);
	for (unsigned i = 0; i < THREADS; i++) {
		CU_ASSERT_EQUAL(a[i].bad, 0);
		for (unsigned k = 0; k < PER_THREAD; k++) {
			uint64_t seq = a[i].seqs[k];

			CU_ASSERT_FATAL(seq >= 1 && seq <= total);
			dup += seen[seq]++;
			wrong += k && seq <= a[i].seqs[k - 1];
			snprintf(want, sizeof(want), "\"reason\":\"t%u-%u\"", i, k);
			CU_ASSERT_EQUAL(raw_get(seq, &v), 0);
			wrong += !strstr(v.buf, want);
		}
	}
	CU_ASSERT_EQUAL(dup, 0);
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(S->audit_seq, total);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	audit_counters(S, &records, &groups);
	CU_ASSERT_EQUAL(records, total);
	CU_ASSERT(groups < records);		/* some writes carried several records */
	printf("\n    %llu records in %llu synced writes ", (unsigned long long)records,
	       (unsigned long long)groups);
	pool_reopen();
	CU_ASSERT_EQUAL(fill(0, 3), 0);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	strbuf_release(&v);
	free(seen);
	pool_done();
}

static int count_cb(void *arg, const char *json, const struct audit_rec *r)
{
	return 0;
}

/* Collects the stored JSON of every record it sees. */
static int reason_cb(void *arg, const char *json, const struct audit_rec *r)
{
	strbuf_addstr(arg, json);
	return 0;
}

/* ---- kill -9 ---- */

struct report {
	uint64_t seq;
	uint32_t thread, i;
};

static int report_fd;

static void *crash_appender(void *arg)
{
	struct report rep = { .thread = (uint32_t)(uintptr_t)arg };
	struct store_writer w = { .uid = 0, .dept = "admin" };
	char reason[32];
	struct audit_rec r;
	uint64_t v;

	for (;; rep.i++) {
		snprintf(reason, sizeof(reason), "k%u-%u", rep.thread, rep.i);
		r = (struct audit_rec){ .uid = rep.thread, .path = "/k", .reason = reason,
					.op = rep.thread ? "open" : "policy_apply" };
		/* thread 0 commits data batches, the others append */
		if (rep.thread == 0 ? store_policy_put(S, "{}", 2, &w, &r, &v) : audit_append(S, &r))
			_exit(3);
		rep.seq = rep.thread ? r.seq : 0;	/* a commit's record: found by its reason */
		if (write(report_fd, &rep, sizeof(rep)) != sizeof(rep))
			_exit(4);
	}
	return NULL;
}

/*
 * The child is this binary run again (--crash-child DIR FD), not a bare
 * fork: RocksDB's background threads live in a process-wide pool that a
 * forked child would not have.
 */
static int crash_child(const char *dir, int fd)
{
	struct perr e = PERR_INIT;
	pthread_t th;

	report_fd = fd;
	if (store_open(dir, 0, &S, &e))
		_exit(2);
	for (uintptr_t i = 0; i < 5; i++)
		if (pthread_create(&th, NULL, crash_appender, (void *)i))
			_exit(2);
	for (;;)
		pause();
}

/* Reads reports until want arrived (then kills the child) and the pipe ends. */
static size_t crash_collect(int fd, pid_t pid, struct report *reps, size_t max, size_t want)
{
	size_t have = 0;
	bool killed = false;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	time_t deadline = time(NULL) + 20;
	ssize_t n;

	for (;;) {
		if (!killed && (have / sizeof(*reps) >= want || time(NULL) > deadline)) {
			kill(pid, SIGKILL);
			killed = true;
		}
		if (poll(&p, 1, 100) < 0)
			break;
		if (!(p.revents & (POLLIN | POLLHUP)))
			continue;
		n = read(fd, (char *)reps + have, max * sizeof(*reps) - have);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	return have / sizeof(*reps);
}

static void test_kill9(void)
{
	size_t max = 200000, n;
	struct report *reps = malloc(max * sizeof(*reps));
	struct strbuf v = STRBUF_INIT, commits = STRBUF_INIT;
	struct audit_filter f = AUDIT_FILTER_INIT;
	char want[48], fdarg[16];
	int fds[2], status, missing, ncommits;
	pid_t pid;

	pool_new();
	pool_done();
	for (int round = 0; round < 3; round++) {
		CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
		snprintf(fdarg, sizeof(fdarg), "%d", fds[1]);
		pid = fork();
		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			execl("/proc/self/exe", "test_audit", "--crash-child", pool_dir, fdarg,
			      (char *)NULL);
			_exit(5);
		}
		close(fds[1]);
		n = crash_collect(fds[0], pid, reps, max, 300 + 500 * (size_t)round);
		close(fds[0]);
		CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
		CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		CU_ASSERT(n >= 300);
		pool_reopen();
		CU_ASSERT_EQUAL(verify_quiet(), 0);
		missing = ncommits = 0;
		strbuf_reset(&commits);
		f.op = "policy_apply";
		CU_ASSERT(audit_query(S, &f, reason_cb, &commits) >= 0);
		for (size_t i = 0; i < n; i++) {
			snprintf(want, sizeof(want), "\"reason\":\"k%u-%u\"", reps[i].thread, reps[i].i);
			if (!reps[i].seq && ++ncommits)
				missing += !strstr(commits.buf, want);
			else
				missing += raw_get(reps[i].seq, &v) || !strstr(v.buf, want);
		}
		CU_ASSERT_EQUAL(missing, 0);
		CU_ASSERT(ncommits > 0);
		f.op = "audit_break";
		CU_ASSERT_EQUAL(audit_query(S, &f, count_cb, NULL), 0);
		printf("\n    round %d: %zu acknowledged (%d commits), log at %llu ", round, n,
		       ncommits, (unsigned long long)S->audit_seq);
		pool_done();
	}
	strbuf_release(&commits);
	strbuf_release(&v);
	free(reps);
}

/* ---- queries ---- */

#define QUERY_N 5000


struct seen {
	uint64_t first, last, n;
	int bad, stop;
};

static int seen_cb(void *arg, const char *json, const struct audit_rec *r)
{
	struct seen *s = arg;
	char want[40];

	snprintf(want, sizeof(want), "{\"bytes\":%llu,", (unsigned long long)r->bytes);
	s->bad += strncmp(json, want, strlen(want)) != 0 || (s->n && r->seq <= s->last);
	if (!s->n++)
		s->first = r->seq;
	s->last = r->seq;
	return s->stop;
}

/* Matches of f, checking order and that json and r agree; scanned gets the reads. */
static uint64_t q(const struct audit_filter *f, uint64_t *scanned)
{
	struct seen s = { 0 };
	uint64_t dummy;
	int ret = audit_query_scan(S, f, seen_cb, &s, scanned ? scanned : &dummy);

	CU_ASSERT_EQUAL(ret, (int)s.n);
	CU_ASSERT_EQUAL(s.bad, 0);
	return s.n;
}

static void test_query(void)
{
	struct audit_filter f = AUDIT_FILTER_INIT;
	struct strbuf out = STRBUF_INIT, v = STRBUF_INIT;
	struct seen s = { .stop = 7 };
	uint64_t scanned;
	struct audit_rec r;
	json_t *o;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;

	pool_new();
	CU_ASSERT_EQUAL(q(&f, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(fill(0, QUERY_N), 0);
	CU_ASSERT_EQUAL(q(NULL, NULL), QUERY_N);

	/* a narrow time window is a binary search and the window, not a scan */
	f.since_ns = time_of(2000);
	f.until_ns = time_of(2010);
	CU_ASSERT_EQUAL(q(&f, &scanned), 11);
	CU_ASSERT(scanned < 40);
	f.since_ns = time_of(2000) + 1;
	CU_ASSERT_EQUAL(q(&f, NULL), 10);
	f.until_ns = 0;
	f.since_ns = time_of(QUERY_N - 9);
	CU_ASSERT_EQUAL(q(&f, &scanned), 10);
	CU_ASSERT(scanned < 30);
	f.since_ns = 0;
	f.until_ns = time_of(10);
	CU_ASSERT_EQUAL(q(&f, NULL), 10);
	f.until_ns = 0;
	f.since_ns = time_of(QUERY_N) + 1;
	CU_ASSERT_EQUAL(q(&f, NULL), 0);
	f.since_ns = 1;
	CU_ASSERT_EQUAL(q(&f, NULL), QUERY_N);

	f = (struct audit_filter)AUDIT_FILTER_INIT;
	f.dept = "renshe";
	CU_ASSERT_EQUAL(q(&f, NULL), QUERY_N / 4);
	f.dept = NULL;
	f.uid = 1002;
	CU_ASSERT_EQUAL(q(&f, NULL), QUERY_N / 5);
	f.uid = -1;
	f.op = "unlink";
	CU_ASSERT_EQUAL(q(&f, NULL), QUERY_N / 5);
	f.op = NULL;
	f.path = "/a";
	CU_ASSERT_EQUAL(q(&f, NULL), 715);		/* not "/ab/..." */
	f.path = "/a/";
	CU_ASSERT_EQUAL(q(&f, NULL), 715);
	f.path = "/a/7";
	CU_ASSERT_EQUAL(q(&f, NULL), 1);
	f.path = "/";
	CU_ASSERT_EQUAL(q(&f, NULL), QUERY_N);
	f.path = "/bad\\xff\\xfe";			/* bad bytes as recorded */
	CU_ASSERT_EQUAL(q(&f, NULL), 714);
	f.path = NULL;
	f.denied = true;
	CU_ASSERT_EQUAL(q(&f, NULL), 834);		/* -EACCES only, not -EIO */
	f.dept = "gongan";
	CU_ASSERT_EQUAL(q(&f, NULL), 417);
	f.limit = 10;
	CU_ASSERT_EQUAL(q(&f, NULL), 10);
	CU_ASSERT_EQUAL(audit_query(S, NULL, seen_cb, &s), 7);
	CU_ASSERT_EQUAL(s.n, 1);

	CU_ASSERT_EQUAL(raw_get(4, &v), 0);
	CU_ASSERT_EQUAL_FATAL(audit_decode(v.buf, v.len, &o, &r, NULL), 0);
	CU_ASSERT_STRING_EQUAL(r.path, "/bad\\xff\\xfe/3");
	CU_ASSERT_STRING_EQUAL(r.user, "张三");
	CU_ASSERT_EQUAL(audit_format("xml", v.buf, &r, &out), -EINVAL);
	CU_ASSERT_EQUAL(audit_format("syslog", v.buf, &r, &out), 0);
	CU_ASSERT(!strncmp(out.buf, "<110>1 ", 7));
	CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, " path=\"/bad\\\\xff\\\\xfe/3\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, " hash=\""));
	strbuf_reset(&out);
	CU_ASSERT_EQUAL(audit_format("text", v.buf, &r, &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, " #4 uid=1003 "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, " user=张三 "));
	json_decref(o);

	mem = open_memstream(&buf, &len);
	CU_ASSERT_FATAL(mem != NULL);
	CU_ASSERT_EQUAL(audit_export(S, "yaml", NULL, mem), -EINVAL);
	CU_ASSERT_EQUAL(audit_export(S, "jsonl", NULL, mem), 0);
	fclose(mem);
	{
		size_t lines = 0, good = 0;
		char *line = buf, *nl;

		for (; (nl = strchr(line, '\n')); line = nl + 1, lines++) {
			json_t *j = json_loadb(line, (size_t)(nl - line), 0, NULL);

			good += json_is_object(j) && json_object_size(j) == 19;
			json_decref(j);
		}
		CU_ASSERT_EQUAL(lines, QUERY_N);
		CU_ASSERT_EQUAL(good, QUERY_N);
	}
	free(buf);
	mem = open_memstream(&buf, &len);
	f = (struct audit_filter)AUDIT_FILTER_INIT;
	f.denied = true;
	f.limit = 1;
	CU_ASSERT_EQUAL(audit_export(S, "syslog", &f, mem), 0);
	fclose(mem);
	CU_ASSERT(!strncmp(buf, "<108>1 ", 7));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "] open /a/0 denied\n"));
	free(buf);
	strbuf_release(&out);
	strbuf_release(&v);
	pool_done();
}

static void test_public_key(void)
{
	char hex[65] = "";

	pool_new();
	CU_ASSERT_EQUAL(audit_public_key(S, hex), 0);
	CU_ASSERT_EQUAL(strlen(hex), 64);
	pool_done();
}

int main(int argc, char **argv)
{
	static const struct { const char *name; void (*fn)(void); } tests[] = {
		{ "chain with mixed records", test_chain },
		{ "rollback leaves no gap", test_rollback },
		{ "sm3", test_sm3 },
		{ "read-only store", test_rdonly },
		{ "tamper: change a field", test_tamper_change },
		{ "tamper: delete a record", test_tamper_delete },
		{ "tamper: insert records", test_tamper_insert },
		{ "tamper: swap two records", test_tamper_swap },
		{ "tamper: cut the tail", test_tamper_cut },
		{ "tamper: forge seals", test_tamper_seals },
		{ "tamper, then reopen", test_tamper_reopen },
		{ "group commit from threads", test_threads },
		{ "kill -9 while appending", test_kill9 },
		{ "query and export", test_query },
		{ "public key", test_public_key },
	};
	CU_pSuite suite;
	unsigned failed;

	if (argc == 4 && !strcmp(argv[1], "--crash-child"))
		return crash_child(argv[2], atoi(argv[3]));
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	suite = CU_add_suite("audit", suite_init, suite_clean);
	for (size_t i = 0; suite && i < sizeof(tests) / sizeof(tests[0]); i++)
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			suite = NULL;
	if (!suite) {
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
