/*
 * tests/test_audit_tamper.c - tampering with the audit log of every kind:
 * a field changed, records deleted, inserted, swapped, the tail cut off,
 * seals (checkpoints and the head) forged, and a damaged log reopened.
 *
 * White-box: tampering is done the way an intruder with the database but
 * not the keys would do it, by editing RocksDB directly, so it includes
 * store/internal.h and store/audit_int.h (by way of tests/audit_util.h).
 */
#define AUDIT_TEST_NAME "test_audit_tamper"

#include <CUnit/Basic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/audit_util.h"

/* ---- raw access, as an intruder would have it ---- */

static void raw_put_rec(uint64_t seq, const char *v, size_t vlen)
{
	uint8_t key[8];

	put_be64(key, seq);
	raw_put(CF_AUDIT, key, sizeof(key), v, vlen);
}

static void raw_del(enum store_cf cf, const void *key, size_t klen)
{
	char *err = NULL;

	CU_ASSERT_EQUAL_FATAL(audit_drain(S), 0);
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
	CU_ASSERT_EQUAL(audit_last_seq(S), TAMPER_N - 4);
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

		CU_ASSERT_EQUAL_FATAL(audit_drain(S), 0);
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
	CU_ASSERT_EQUAL(audit_last_seq(S), TAMPER_N + 2);
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
	CU_ASSERT_EQUAL(audit_last_seq(S), TAMPER_N + 1);
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
	CU_ASSERT_EQUAL_FATAL(audit_drain(S), 0);
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

/* Deletes every record, the head and every checkpoint, as ldb would. */
static void wipe_log(void)
{
	uint8_t key[AUDIT_CP_KEY_LEN];
	uint64_t cp;

	for (uint64_t k = 1; k <= audit_last_seq(S); k++)
		raw_del_rec(k);
	raw_del(CF_META, AUDIT_META_HEAD, strlen(AUDIT_META_HEAD));
	while ((cp = cp_below(UINT64_MAX))) {
		audit_cp_key(key, cp);
		raw_del(CF_META, key, sizeof(key));
	}
}

static void test_tamper_wipe(void)
{
	struct perr e = PERR_INIT;

	/* with the store closed or open: nothing of the log left */
	tamper_pool();
	wipe_log();
	CU_ASSERT_EQUAL(verify_bad(&e), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "wiped"));
	/* and whatever is appended next does not make it intact again */
	pool_reopen();
	CU_ASSERT_EQUAL(fill(1, 5), 0);
	memset(&e, 0, sizeof(e));
	CU_ASSERT_EQUAL(verify_bad(&e), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "init record"));
	pool_done();
}

/*
 * Cuts the log back to record last as a holder of the store's keys
 * would: the later records and checkpoints deleted and a head sealed for
 * record last, so that the log verifies on its own.
 */
static void rollback_with_key(uint64_t last)
{
	struct strbuf v = STRBUF_INIT;
	uint8_t zero[32] = { 0 }, computed[32], enc[AUDIT_SEAL_LEN], key[AUDIT_CP_KEY_LEN];
	struct audit_keys k;
	struct audit_seal c = { .seq = last, .time_ns = time_of(last) };
	uint64_t cp, end = audit_last_seq(S);

	for (uint64_t q = last + 1; q <= end; q++)
		raw_del_rec(q);
	while ((cp = cp_below(UINT64_MAX)) > last) {
		audit_cp_key(key, cp);
		raw_del(CF_META, key, sizeof(key));
	}
	CU_ASSERT_EQUAL_FATAL(raw_get(last, &v), 0);
	CU_ASSERT_EQUAL(audit_hash_value(v.buf, v.len, zero, EVP_sha256(), computed, c.hash), 0);
	CU_ASSERT_EQUAL_FATAL(audit_keys_load(S, &k), 0);
	CU_ASSERT_EQUAL(audit_seal_sign(&k, "sha256", AUDIT_SEAL_HEAD, &c), 0);
	audit_keys_release(&k);
	audit_seal_encode(&c, enc);
	raw_put(CF_META, AUDIT_META_HEAD, strlen(AUDIT_META_HEAD), enc, sizeof(enc));
	strbuf_release(&v);
}

/* Seals every checkpoint again over the records as they now are, with the store's key. */
static void reseal_cps_with_key(void)
{
	struct strbuf v = STRBUF_INIT;
	uint8_t zero[32] = { 0 }, computed[32], enc[AUDIT_SEAL_LEN], key[AUDIT_CP_KEY_LEN];
	struct audit_keys k;
	uint64_t cp, seq = UINT64_MAX;

	CU_ASSERT_EQUAL_FATAL(audit_keys_load(S, &k), 0);
	while ((cp = cp_below(seq))) {
		struct audit_seal c = { .seq = cp, .time_ns = time_of(cp) };

		CU_ASSERT_EQUAL_FATAL(raw_get(cp, &v), 0);
		CU_ASSERT_EQUAL(audit_hash_value(v.buf, v.len, zero, EVP_sha256(), computed, c.hash), 0);
		CU_ASSERT_EQUAL(audit_seal_sign(&k, "sha256", AUDIT_SEAL_CP, &c), 0);
		audit_seal_encode(&c, enc);
		audit_cp_key(key, cp);
		raw_put(CF_META, key, sizeof(key), enc, sizeof(enc));
		seq = cp;
	}
	audit_keys_release(&k);
	strbuf_release(&v);
}

static uint64_t verify_anchor_bad(const struct audit_anchor *a, struct perr *e)
{
	uint64_t bad = 12345678;
	int ret = audit_verify_anchor(S, a, &bad, e);

	if (!ret)
		return 0;
	CU_ASSERT_EQUAL(ret, -EBADMSG);
	return bad;
}

static void test_anchor(void)
{
	struct perr e = PERR_INIT;
	struct audit_anchor a, b;
	struct strbuf line = STRBUF_INIT;
	uint64_t bad;

	/* an intact log and its anchor; the log grows past it */
	tamper_pool();
	CU_ASSERT_EQUAL_FATAL(audit_anchor_take(S, &a, &bad, &e), 0);
	CU_ASSERT_EQUAL(a.seq, TAMPER_N);
	CU_ASSERT_STRING_EQUAL(a.algo, "sha256");
	audit_anchor_format(&a, &line);
	CU_ASSERT_EQUAL_FATAL(audit_anchor_parse(line.buf, line.len, &b, &e), 0);
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
	CU_ASSERT_EQUAL(verify_anchor_bad(&b, &e), 0);
	CU_ASSERT_EQUAL(fill(9000, 20), 0);
	CU_ASSERT_EQUAL(verify_anchor_bad(&a, &e), 0);

	/* cut short by a key holder: verify alone passes, the anchor does not */
	rollback_with_key(TAMPER_N - 3);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	memset(&e, 0, sizeof(e));
	CU_ASSERT_EQUAL(verify_anchor_bad(&a, &e), TAMPER_N - 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "before the anchored seq"));
	pool_done();

	/* the log rebuilt by a key holder, checkpoints and head resealed */
	tamper_pool();
	CU_ASSERT_EQUAL_FATAL(audit_anchor_take(S, &a, &bad, &e), 0);
	forge_from(100, TAMPER_N, 0);
	rollback_with_key(TAMPER_N);
	reseal_cps_with_key();
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	memset(&e, 0, sizeof(e));
	CU_ASSERT_EQUAL(verify_anchor_bad(&a, &e), TAMPER_N);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "not the anchored record"));
	pool_done();

	/* wiped: nothing reaches the anchor */
	tamper_pool();
	CU_ASSERT_EQUAL_FATAL(audit_anchor_take(S, &a, &bad, &e), 0);
	wipe_log();
	memset(&e, 0, sizeof(e));
	CU_ASSERT_EQUAL(verify_anchor_bad(&a, &e), 1);

	/* an edited anchor, and one of another pool */
	pool_reopen();
	wipe_log();
	pool_done();
	tamper_pool();
	CU_ASSERT_EQUAL(verify_anchor_bad(&a, &e), a.seq);	/* another pool: hash differs */
	CU_ASSERT_EQUAL_FATAL(audit_anchor_take(S, &b, &bad, &e), 0);
	b.mac[3] ^= 1;
	memset(&e, 0, sizeof(e));
	CU_ASSERT_EQUAL(verify_anchor_bad(&b, &e), b.seq);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "MAC"));
	b.mac[3] ^= 1;
	b.hash[0] ^= 1;
	CU_ASSERT_EQUAL(verify_anchor_bad(&b, &e), b.seq);
	b.hash[0] ^= 1;
	b.seq--;
	CU_ASSERT_NOT_EQUAL(verify_anchor_bad(&b, &e), 0);
	b.seq++;
	CU_ASSERT_EQUAL(verify_anchor_bad(&b, &e), 0);

	/* a damaged log gives no anchor */
	raw_del_rec(17);
	CU_ASSERT_EQUAL(audit_anchor_take(S, &b, &bad, &e), -EBADMSG);
	CU_ASSERT_EQUAL(bad, 17);

	/* text that is no anchor */
	CU_ASSERT_EQUAL(audit_anchor_parse("hello", 5, &b, &e), -EINVAL);
	strbuf_reset(&line);
	audit_anchor_format(&a, &line);
	line.buf[line.len - 1] = 'x';
	CU_ASSERT_EQUAL(audit_anchor_parse(line.buf, line.len, &b, &e), -EINVAL);
	strbuf_release(&line);
	pool_done();
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "tamper: change a field", test_tamper_change },
		{ "tamper: delete a record", test_tamper_delete },
		{ "tamper: insert records", test_tamper_insert },
		{ "tamper: swap two records", test_tamper_swap },
		{ "tamper: cut the tail", test_tamper_cut },
		{ "tamper: forge seals", test_tamper_seals },
		{ "tamper, then reopen", test_tamper_reopen },
		{ "tamper: wipe the whole log and its seals", test_tamper_wipe },
		{ "anchor: kept outside, it catches rollbacks", test_anchor },
	};

	return unit_tests_run("audit tamper", suite_init, suite_clean, tests, UNIT_COUNT(tests));
}
