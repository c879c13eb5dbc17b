/*
 * tests/tree_util.h - what tests/test_tree.c and tests/test_pool.c
 * share: a fresh pool per test (tests/pool_util.h) and the audit chain
 * recomputed from its first record. Define POOL_TEST_NAME before
 * including.
 */
#ifndef POOL_TEST_TREE_UTIL_H
#define POOL_TEST_TREE_UTIL_H

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <string.h>

#include "common/codec.h"
#include "store/audit_int.h"
#include "store/internal.h"

#include "tests/pool_util.h"

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
