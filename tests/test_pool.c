/*
 * tests/test_pool.c - the pool directory (create, open, refuse what is
 * no pool or a newer format), policy versions and the audit chain, each
 * test on a private pool in a temp directory (tests/tree_util.h).
 *
 * White-box where the contract is about what lands on disk (the format
 * version, the audit chain), so it includes store/internal.h.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/codec.h"
#include "store/audit_int.h"
#include "store/internal.h"
#define POOL_TEST_NAME "test_pool"
#include "tests/tree_util.h"
#include "tests/unit_main.h"

/* ---- pool lifetime ---- */

static void test_create_open(void)
{
	struct perr e = PERR_INIT;
	struct store *s2 = NULL;
	struct stat st;
	char path[512];
	uint8_t key[64];

	pool_new();
	CU_ASSERT_EQUAL(store_create(pool_dir, &e), -EEXIST);
	e.code = 0;
	CU_ASSERT_EQUAL(store_open(pool_dir, 0, &s2, &e), -EBUSY);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "in use"));
	e.code = 0;
	CU_ASSERT_EQUAL(store_open(pool_dir, STORE_OPEN_RDONLY, &s2, &e), 0);
	if (s2) {
		CU_ASSERT_EQUAL(store_mknode(s2, STORE_ROOT_INO, "x", STORE_REG, 0644,
					     0, 0, NULL, NULL, NULL), -EROFS);
		store_close(s2);
	}

	snprintf(path, sizeof(path), "%s/keys/hash.key", pool_dir);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT_EQUAL(st.st_size, 32);
	snprintf(path, sizeof(path), "%s/keys", pool_dir);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0700);
	snprintf(path, sizeof(path), "%s/staging", pool_dir);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(store_secret(S, "sign", key, sizeof(key)), 32);
	CU_ASSERT_EQUAL(store_secret(S, "../keys/hash", key, sizeof(key)), -EINVAL);
	CU_ASSERT_EQUAL(store_secret(S, "nope", key, sizeof(key)), -ENOENT);
	CU_ASSERT_STRING_EQUAL(store_dir(S), pool_dir);
	pool_done();
}

static void test_refuse(void)
{
	struct perr e = PERR_INIT;
	struct store *s = NULL;
	char dir[512], file[600];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/plain", tmp_root);
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
	CU_ASSERT_EQUAL(store_open(dir, 0, &s, &e), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "not a poolfs store (no db/)"));

	snprintf(file, sizeof(file), "%s/db", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(file, 0700), 0);
	e.code = 0;
	CU_ASSERT_EQUAL(store_open(dir, 0, &s, &e), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "not a poolfs store"));
	CU_ASSERT_EQUAL(rmdir(file), 0);

	snprintf(file, sizeof(file), "%s/data.csv", dir);
	f = fopen(file, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fclose(f);
	e.code = 0;
	CU_ASSERT_EQUAL(store_create(dir, &e), -ENOTEMPTY);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "not empty"));
}

static void test_format(void)
{
	struct perr e = PERR_INIT;
	rocksdb_writebatch_t *b;
	uint8_t v[4];

	pool_new();
	b = rocksdb_writebatch_create();
	put_be32(v, 7);
	rocksdb_writebatch_put_cf(b, S->cf[CF_META], "format", 6, (const char *)v, 4);
	CU_ASSERT_EQUAL(store_write(S, b, true), 0);
	rocksdb_writebatch_destroy(b);
	pool_done();

	CU_ASSERT_EQUAL(store_open(pool_dir, 0, &S, &e), -EINVAL);
	CU_ASSERT_PTR_NULL(S);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "store format 7 is newer than this poolfs understands (2)"));
}

/* ---- policy and audit ---- */

static void test_policy(void)
{
	struct store_writer w = { .uid = 0, .dept = "admin", .user = "root" };
	struct audit_rec r = { .op = "policy.apply", .path = "/" };
	static const char doc2[] = "{\"version\": 2, \"名\": \"x\"}";
	struct strbuf sb = STRBUF_INIT;
	uint64_t v = 0, got = 0;

	pool_new();
	CU_ASSERT_EQUAL(store_policy_get(S, 0, &sb, &got), -ENOENT);
	CU_ASSERT_EQUAL(store_policy_put(S, "{\"version\":1}", 13, &w, &r, &v), 0);
	CU_ASSERT_EQUAL(v, 1);
	CU_ASSERT_EQUAL(audit_last_seq(S), 1);
	CU_ASSERT_EQUAL(store_policy_put(S, doc2, strlen(doc2), &w, NULL, &v), 0);
	CU_ASSERT_EQUAL(v, 2);
	CU_ASSERT_EQUAL(audit_last_seq(S), 1);
	CU_ASSERT_EQUAL(store_policy_put(S, "\xff\xfe", 2, &w, NULL, &v), -EINVAL);
	CU_ASSERT_EQUAL(store_policy_put(S, "{}\0", 3, &w, NULL, &v), -EINVAL);
	pool_reopen();
	CU_ASSERT_EQUAL(store_policy_get(S, 0, &sb, &got), 0);
	CU_ASSERT_EQUAL(got, 2);
	CU_ASSERT_STRING_EQUAL(sb.buf, doc2);
	CU_ASSERT_EQUAL(store_policy_get(S, 1, &sb, &got), 0);
	CU_ASSERT_EQUAL(got, 1);
	CU_ASSERT_STRING_EQUAL(sb.buf, "{\"version\":1}");
	CU_ASSERT_EQUAL(store_policy_get(S, 3, &sb, &got), -ENOENT);
	strbuf_release(&sb);
	pool_done();
}

static void test_audit_chain(void)
{
	struct audit_rec r = { .uid = 1001, .gid = 2001, .pid = 7, .comm = "cat",
			       .dept = "renshe", .op = "open",
			       .path = "/基础库/bad\xff\xfe名", .result = -EACCES,
			       .reason = "no grant" };

	pool_new();
	CU_ASSERT_EQUAL(audit_last_seq(S), 0);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(audit_append(S, &r), 0);
	CU_ASSERT_EQUAL(r.seq, 3);
	CU_ASSERT(r.time_ns > 0);
	pool_reopen();
	CU_ASSERT_EQUAL(audit_last_seq(S), 3);
	CU_ASSERT_EQUAL(audit_append(S, &r), 0);
	CU_ASSERT_EQUAL(r.seq, 4);
	CU_ASSERT_EQUAL(verify_chain(), 4);

	/* a rolled-back record leaves no gap */
	{
		rocksdb_writebatch_t *b = rocksdb_writebatch_create();

		pthread_mutex_lock(&S->lock);
		CU_ASSERT_EQUAL(audit_add(S, b, &r), 0);
		CU_ASSERT_EQUAL(r.seq, 5);
		audit_rollback(S);
		pthread_mutex_unlock(&S->lock);
		rocksdb_writebatch_destroy(b);
	}
	CU_ASSERT_EQUAL(audit_append(S, &r), 0);
	CU_ASSERT_EQUAL(r.seq, 5);
	CU_ASSERT_EQUAL(verify_chain(), 5);
	pool_done();
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "create and open", test_create_open },
		{ "refuse a non-pool", test_refuse },
		{ "refuse a newer format", test_format },
		{ "policy versions", test_policy },
		{ "audit chain", test_audit_chain },
	};

	return unit_tests_run("pool", suite_init, suite_clean, tests, UNIT_COUNT(tests));
}
