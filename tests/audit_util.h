/*
 * tests/audit_util.h - what the audit tests share: a pool in a temporary
 * directory (one per binary, tests/pool_util.h), the test log's records,
 * raw reads and writes of the database, and audit_verify's answer.
 *
 * Header-only (static inline) because the Makefile links each
 * tests/test_*.c on its own against libpool.a. Define AUDIT_TEST_NAME
 * (the binary's name, used for its temporary directory) before including.
 *
 * White-box: it includes store/internal.h (by way of store/audit_int.h).
 */
#ifndef POOL_TEST_AUDIT_UTIL_H
#define POOL_TEST_AUDIT_UTIL_H

#ifndef AUDIT_TEST_NAME
#error "define AUDIT_TEST_NAME before including tests/audit_util.h"
#endif

#include <CUnit/Basic.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/codec.h"
#include "store/audit_int.h"
#include "tests/unit_main.h"

#define POOL_TEST_NAME AUDIT_TEST_NAME
#include "tests/pool_util.h"

/*
 * The pool's first record, as poolctl init writes it: the chain starts
 * there. A new pool (pool_new()) has an empty log: its first record must
 * be this one (or fill() from 0) for verify to find the log intact.
 */
static inline int append_init(void)
{
	struct audit_rec r = { .comm = "poolctl", .op = "init", .path = "", .view = "",
			       .reason = "pool created" };

	return audit_append(S, &r);
}

/*
 * Record i of a test log: every field varies with i. Record 0 is the
 * pool's init record (its operation "init"), so a log filled from 0
 * starts where a pool's log starts.
 */
static inline void rec_fill(struct audit_rec *r, unsigned i, char *path, size_t plen,
			    char *reason, size_t rlen)
{
	static const char *const depts[] = { "gongan", "renshe", "weijian", "" };
	static const char *const ops[] = { "open", "release", "create", "readdir", "unlink" };

	snprintf(path, plen, i % 7 == 0 ? "/a/%u" : i % 7 == 1 ? "/ab/%u" :
		 i % 7 == 2 ? "/基础库/人口/%u.csv" : i % 7 == 3 ? "/bad\xff\xfe/%u" : "/z/%u", i);
	snprintf(reason, rlen, "r%u", i);
	*r = (struct audit_rec){
		.uid = 1000 + i % 5, .gid = 2000 + i % 3, .pid = i, .comm = i % 11 ? "cat" : NULL,
		.dept = depts[i % 4], .user = i % 2 ? "张三" : NULL, .op = i ? ops[i % 5] : "init",
		.path = path, .code = "341800-GA-0001", .version = i % 9, .bytes = i * 100ull,
		.result = i % 6 == 0 ? -EACCES : i % 13 == 0 ? -EIO : 0,
		.grant = i % 4 == 1 ? "g1" : NULL, .view = "raw", .reason = reason,
	};
}

/* Appends n records numbered from first; returns how many failed. */
static inline int fill(unsigned first, unsigned n)
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

/* ---- raw access, as an intruder would have it (more in test_audit_tamper.c) ---- */

static inline int raw_get(uint64_t seq, struct strbuf *v)
{
	uint8_t key[8];

	put_be64(key, seq);
	CU_ASSERT_EQUAL_FATAL(audit_drain(S), 0);
	return store_get(S, CF_AUDIT, key, sizeof(key), v);
}

static inline void raw_put(enum store_cf cf, const void *key, size_t klen,
			   const void *v, size_t vlen)
{
	char *err = NULL;

	/* an intruder edits what is in the tables, not what is still journaled */
	CU_ASSERT_EQUAL_FATAL(audit_drain(S), 0);
	rocksdb_put_cf(S->db, S->wopt_sync, S->cf[cf], key, klen, v, vlen, &err);
	CU_ASSERT_PTR_NULL(err);
	rocksdb_free(err);
}

static inline int64_t time_of(uint64_t seq)
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

/* The highest checkpoint seq below seq, 0 when none. */
static inline uint64_t cp_below(uint64_t seq)
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

/* audit_verify's answer: 0 when intact, else the bad seq (and e has why). */
static inline uint64_t verify_bad(struct perr *e)
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

static inline uint64_t verify_quiet(void)
{
	struct perr e = PERR_INIT;

	return verify_bad(&e);
}

#endif /* POOL_TEST_AUDIT_UTIL_H */
