/*
 * tests/tree_util.h - the fixture of tests/test_tree.c and
 * tests/test_pool.c: a temp directory per run, a fresh pool in it for
 * each test that wants one (S, at pool_dir), reopened or closed; and
 * the audit chain recomputed from its first record.
 */
#ifndef POOL_TEST_TREE_UTIL_H
#define POOL_TEST_TREE_UTIL_H

#include <CUnit/Basic.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <string.h>

#include "common/codec.h"
#include "store/audit_int.h"
#include "store/internal.h"

static char tmp_root[] = "/tmp/test_tree.XXXXXX";
static int pool_no;
static char pool_dir[256];
static struct store *S;

static inline int tree_rm_entry(const char *path, const struct stat *st, int flag,
				struct FTW *ftw)
{
	return remove(path);
}

static inline int tree_suite_init(void)
{
	return mkdtemp(tmp_root) ? 0 : -1;
}

static inline int tree_suite_clean(void)
{
	return nftw(tmp_root, tree_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh pool for each test that wants one. */
static inline void pool_new(void)
{
	struct perr e = PERR_INIT;

	snprintf(pool_dir, sizeof(pool_dir), "%s/pool%d", tmp_root, ++pool_no);
	CU_ASSERT_EQUAL_FATAL(store_create(pool_dir, &e), 0);
	CU_ASSERT_EQUAL_FATAL(store_open(pool_dir, 0, &S, &e), 0);
}

static inline void pool_reopen(void)
{
	struct perr e = PERR_INIT;

	store_close(S);
	S = NULL;
	CU_ASSERT_EQUAL_FATAL(store_open(pool_dir, 0, &S, &e), 0);
}

static inline void pool_done(void)
{
	store_close(S);
	S = NULL;
}

/* Recomputes the chain from record 1; returns the last seq or 0 on a break. */
static inline uint64_t verify_chain(void)
{
	rocksdb_iterator_t *it;

	CU_ASSERT_EQUAL_FATAL(audit_drain(S), 0);
	it = rocksdb_create_iterator_cf(S->db, S->ropt, S->cf[CF_AUDIT]);
	uint8_t prev[32] = { 0 }, hash[32], want[32];
	uint64_t seq = 0;

	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);
		const char *v = rocksdb_iter_value(it, &vlen);
		json_t *o = json_loadb(v, vlen, 0, NULL);
		char prevhex[65], *body;
		int ok;

		hex_encode(prev, 32, prevhex);
		ok = o && klen == 8 && get_be64((const uint8_t *)k) == seq + 1 &&
		     json_integer_value(json_object_get(o, "seq")) == (json_int_t)seq + 1 &&
		     !strcmp(json_string_value(json_object_get(o, "prev")), prevhex) &&
		     !hex_decode(json_string_value(json_object_get(o, "hash")), want, 32);
		if (ok) {
			json_object_del(o, "hash");
			body = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
			EVP_MD_CTX *c = EVP_MD_CTX_new();
			EVP_DigestInit_ex(c, EVP_sha256(), NULL);
			EVP_DigestUpdate(c, prev, 32);
			EVP_DigestUpdate(c, body, strlen(body));
			EVP_DigestFinal_ex(c, hash, NULL);
			EVP_MD_CTX_free(c);
			free(body);
			ok = !memcmp(hash, want, 32);
		}
		json_decref(o);
		if (!ok) {
			seq = 0;
			break;
		}
		memcpy(prev, hash, 32);
		seq++;
	}
	rocksdb_iter_destroy(it);
	return seq;
}

#endif
