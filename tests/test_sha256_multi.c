/*
 * tests/test_sha256_multi.c - sha256_multi() (store/sha256_multi.c)
 * gives SHA256()'s digest for every buffer, on each kernel the CPU has
 * and on the fallback: random sets of buffers of random lengths, lengths
 * at the padding's edges (55/56, 63/64, 119/120 bytes past whole
 * blocks), empty buffers, sets of 1 to 17 (a kernel's lanes end and
 * refill at different blocks) and a batch of chunks as the pipe hashes.
 * hmac_sha256_multi() the same against HMAC(), with keys of 0 to 64
 * bytes (a key block's edge).
 *
 * Prints the throughput of each kernel; it is never asserted.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "store/chunker.h"
#include "store/sha256_multi.h"
#include "tests/desens_util.h"
#include "tests/fill_util.h"
#include "tests/unit_main.h"

#define POOL_LEN	(600u << 10)
#define MAX_N		17
#define SETS		1500

static uint64_t rng_state;

static uint64_t rng(void)
{
	return splitmix64(&rng_state);
}

static uint8_t *pool;

static int suite_init(void)
{
	pool = malloc(POOL_LEN);
	if (!pool)
		return 1;
	fill(pool, POOL_LEN, 42);
	return 0;
}

static int suite_clean(void)
{
	free(pool);
	sha256_multi_cap(SHA256_MULTI_AVX512);
	return 0;
}

/* A length up to 300 KiB, a third of them a few blocks plus an edge of the padding. */
static size_t rand_len(void)
{
	static const size_t edge[] = { 0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 121, 127, 128 };

	switch (rng() % 3) {
	case 0:
		return 64 * (rng() % 8) + edge[rng() % (sizeof(edge) / sizeof(edge[0]))];
	case 1:
		return 64 * (rng() % 4800) + edge[rng() % (sizeof(edge) / sizeof(edge[0]))];
	default:
		return rng() % (300u << 10);
	}
}

/* The same buffers with a key of 0 to 64 bytes: every MAC is HMAC()'s. */
static unsigned check_hmac(size_t n, const uint8_t *const data[], const size_t len[])
{
	static const size_t key_lens[] = { 0, 1, 31, 32, 33, 63, 64 };
	size_t klen = key_lens[rng() % (sizeof(key_lens) / sizeof(key_lens[0]))];
	const uint8_t *key = pool + rng() % (POOL_LEN - 64);
	struct hmac_sha256_multi k;
	uint8_t got[MAX_N][32], want[32];
	unsigned bad = 0;

	CU_ASSERT_EQUAL_FATAL(hmac_sha256_multi_key(&k, key, klen), 0);
	memset(got, 0, sizeof(got));
	hmac_sha256_multi(&k, n, data, len, got);
	for (size_t i = 0; i < n; i++) {
		HMAC(EVP_sha256(), key, (int)klen, len[i] ? data[i] : (const uint8_t *)"", len[i],
		     want, NULL);
		if (memcmp(got[i], want, 32)) {
			if (!bad)
				fprintf(stderr, "\n  HMAC mismatch: n %zu, buffer %zu of %zu bytes, "
					"key of %zu\n", n, i, len[i], klen);
			bad++;
		}
	}
	return bad;
}

/*
 * n buffers at random places of pool (odd addresses too): every digest
 * is SHA256()'s, and every MAC HMAC()'s.
 */
static unsigned check_set(size_t n, const size_t *len)
{
	const uint8_t *data[MAX_N] = { NULL };
	uint8_t got[MAX_N][32], want[32];
	unsigned bad = 0;

	for (size_t i = 0; i < n; i++)
		data[i] = len[i] ? pool + rng() % (POOL_LEN - len[i] + 1) : NULL;
	memset(got, 0, sizeof(got));
	sha256_multi(n, data, len, got);
	for (size_t i = 0; i < n; i++) {
		SHA256(len[i] ? data[i] : (const uint8_t *)"", len[i], want);
		if (memcmp(got[i], want, 32)) {
			if (!bad)
				fprintf(stderr, "\n  mismatch: n %zu, buffer %zu of %zu bytes\n",
					n, i, len[i]);
			bad++;
		}
	}
	return bad + check_hmac(n, data, len);
}

static void check_kind(enum sha256_multi_kind kind)
{
	size_t len[MAX_N];
	unsigned bad = 0;

	if (sha256_multi_cap(kind) != kind) {
		printf("\n  (this CPU has no kernel %d: checked as the one below)", kind);
		sha256_multi_cap(SHA256_MULTI_AVX512);
		return;
	}
	rng_state = 1000 + kind;
	for (int s = 0; s < SETS; s++) {
		size_t n = 1 + s % MAX_N;

		for (size_t i = 0; i < n; i++)
			len[i] = rand_len();
		bad += check_set(n, len);
	}
	/* every lane the same length, then every edge in one set */
	for (size_t e = 0; e < 130; e++) {
		for (size_t i = 0; i < MAX_N; i++)
			len[i] = 64 * 3 + e;
		bad += check_set(MAX_N, len);
		for (size_t i = 0; i < MAX_N; i++)
			len[i] = (e + 7 * i) % 130;
		bad += check_set(MAX_N, len);
	}
	CU_ASSERT_EQUAL(bad, 0);
	sha256_multi_cap(SHA256_MULTI_AVX512);
}

static void test_openssl(void)
{
	check_kind(SHA256_MULTI_OPENSSL);
}

static void test_ni(void)
{
	check_kind(SHA256_MULTI_NI);
}

static void test_avx512(void)
{
	check_kind(SHA256_MULTI_AVX512);
}

static void test_none(void)
{
	uint8_t out[1][32] = { { 7 } }, key[65] = { 0 };
	struct hmac_sha256_multi k;

	/* nothing to hash writes nothing */
	sha256_multi(0, NULL, NULL, out);
	CU_ASSERT_EQUAL(out[0][0], 7);
	CU_ASSERT_EQUAL(hmac_sha256_multi_key(&k, key, 64), 0);
	hmac_sha256_multi(&k, 0, NULL, NULL, out);
	CU_ASSERT_EQUAL(out[0][0], 7);
	/* a longer key would be hashed first; no pool key is */
	CU_ASSERT_EQUAL(hmac_sha256_multi_key(&k, key, 65), -EINVAL);
}

static double cpu_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/*
 * The pipe's batches (store/chunk_pipe.c: 32 chunks or past 1 MiB) of
 * the chunks of 32 MiB of random bytes, hashed by each kernel.
 */
static void test_throughput(void)
{
	const size_t total = 32u << 20, most = total / CHUNK_MIN + 1;
	uint8_t *buf = malloc(total), (*out)[32] = malloc(most * 32);
	const uint8_t **data = malloc(most * sizeof(*data));
	size_t *len = malloc(most * sizeof(*len)), n = 0, i, k, bytes;
	struct hmac_sha256_multi hk;
	double t;

	CU_ASSERT_FATAL(buf && out && data && len);
	fill(buf, total, 7);
	CU_ASSERT_EQUAL_FATAL(hmac_sha256_multi_key(&hk, buf, 32), 0);
	for (size_t off = 0; off < total; off += len[n++]) {
		data[n] = buf + off;
		len[n] = chunker_next(buf + off, total - off, true);
	}
	for (int kind = SHA256_MULTI_OPENSSL; kind <= SHA256_MULTI_AVX512; kind++) {
		if (sha256_multi_cap((enum sha256_multi_kind)kind) != (enum sha256_multi_kind)kind)
			continue;
		t = cpu_now();
		for (i = 0; i < n; i += k) {
			for (k = 0, bytes = 0; k < 32 && bytes < (1024u << 10) && i + k < n; k++)
				bytes += len[i + k];
			sha256_multi(k, data + i, len + i, out + i);
		}
		t = cpu_now() - t;
		printf("\n  kernel %d: %.2f GB/s", kind, (double)total / t / 1e9);
		t = cpu_now();
		for (i = 0; i < n; i += k) {
			for (k = 0, bytes = 0; k < 32 && bytes < (1024u << 10) && i + k < n; k++)
				bytes += len[i + k];
			hmac_sha256_multi(&hk, k, data + i, len + i, out + i);
		}
		t = cpu_now() - t;
		printf(", HMAC %.2f GB/s", (double)total / t / 1e9);
	}
	sha256_multi_cap(SHA256_MULTI_AVX512);
	free(len);
	free(data);
	free(out);
	free(buf);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "no buffers", test_none },
		{ "fallback: SHA256() per buffer", test_openssl },
		{ "SHA-NI streams match SHA256()", test_ni },
		{ "AVX-512 lanes match SHA256()", test_avx512 },
		{ "throughput", test_throughput },
	};

	return unit_tests_run("sha256_multi", suite_init, suite_clean, tests, UNIT_COUNT(tests));
}
