/*
 * tests/test_crypt.c - store/crypt.c: sealed values round trip under both
 * ciphers; a flipped bit anywhere, another associated data or a foreign
 * key is refused; nonces do not repeat over 10^5 seals; rotation keeps
 * old values readable; the keyset opens only with its master key and
 * pool id; kept (reused) OpenSSL contexts give the bytes fresh ones
 * give, follow a rotation and never share a nonce across threads or a
 * fork; scratch encryption is position-exact; a passphrase derives
 * the same master key for the same salt and cost and a wrong one does
 * not open the keyset.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/strbuf.h"
#include "store/crypt.h"
#include "tests/unit_main.h"

static const enum crypt_cipher ciphers[] = { CRYPT_AES_GCM, CRYPT_SM4 };
#define NCIPHERS (sizeof(ciphers) / sizeof(ciphers[0]))

static uint8_t *pattern(size_t len, unsigned seed)
{
	uint8_t *p = malloc(len ? len : 1);

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + seed);
	return p;
}

static void test_round_trip(void)
{
	static const size_t lens[] = { 0, 1, 15, 16, 17, 4096, 65536 + 3 };

	for (size_t c = 0; c < NCIPHERS; c++) {
		struct crypt *k;

		CU_ASSERT_EQUAL_FATAL(crypt_new(ciphers[c], &k), 0);
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			size_t n = lens[i];
			uint8_t *p = pattern(n, (unsigned)i), *s = malloc(n + CRYPT_OVERHEAD);
			uint8_t *o = malloc(n + 1);

			CU_ASSERT_EQUAL(crypt_seal(k, "ad", 2, p, n, s), 0);
			CU_ASSERT_EQUAL(crypt_key_of(s, n + CRYPT_OVERHEAD), 1);
			/* ciphertext is not the plaintext */
			if (n >= 16)
				CU_ASSERT_NOT_EQUAL(memcmp(s + CRYPT_HDR_LEN, p, n), 0);
			CU_ASSERT_EQUAL(crypt_open(k, "ad", 2, s, n + CRYPT_OVERHEAD, o), 0);
			CU_ASSERT_EQUAL(memcmp(o, p, n), 0);
			free(p);
			free(s);
			free(o);
		}
		crypt_free(k);
	}
}

static void test_tamper(void)
{
	for (size_t c = 0; c < NCIPHERS; c++) {
		size_t n = 300, slen = n + CRYPT_OVERHEAD;
		uint8_t *p = pattern(n, 7), s[300 + CRYPT_OVERHEAD], o[300];
		struct crypt *k;
		int bad = 0;

		CU_ASSERT_EQUAL_FATAL(crypt_new(ciphers[c], &k), 0);
		CU_ASSERT_EQUAL_FATAL(crypt_seal(k, "chunks\0k1", 9, p, n, s), 0);
		/* every bit of the value: header, nonce, ciphertext, tag */
		for (size_t i = 0; i < slen; i++) {
			for (int b = 0; b < 8; b++) {
				s[i] ^= (uint8_t)(1u << b);
				if (!crypt_open(k, "chunks\0k1", 9, s, slen, o))
					bad++;
				s[i] ^= (uint8_t)(1u << b);
			}
		}
		CU_ASSERT_EQUAL(bad, 0);
		/* cut short, or grown */
		CU_ASSERT_NOT_EQUAL(crypt_open(k, "chunks\0k1", 9, s, slen - 1, o), 0);
		CU_ASSERT_NOT_EQUAL(crypt_open(k, "chunks\0k1", 9, s, CRYPT_OVERHEAD - 1, o), 0);
		CU_ASSERT_EQUAL(crypt_open(k, "chunks\0k1", 9, s, slen, o), 0);
		free(p);
		crypt_free(k);
	}
}

static void test_wrong_ad(void)
{
	for (size_t c = 0; c < NCIPHERS; c++) {
		uint8_t p[64] = "a value", s[64 + CRYPT_OVERHEAD], o[64];
		struct crypt *k, *other;

		CU_ASSERT_EQUAL_FATAL(crypt_new(ciphers[c], &k), 0);
		CU_ASSERT_EQUAL_FATAL(crypt_new(ciphers[c], &other), 0);
		CU_ASSERT_EQUAL_FATAL(crypt_seal(k, "chunks\0A", 8, p, sizeof(p), s), 0);
		CU_ASSERT_EQUAL(crypt_open(k, "chunks\0B", 8, s, sizeof(s), o), -EBADMSG);
		CU_ASSERT_EQUAL(crypt_open(k, "views\0A", 7, s, sizeof(s), o), -EBADMSG);
		CU_ASSERT_EQUAL(crypt_open(k, "chunks\0A\0", 9, s, sizeof(s), o), -EBADMSG);
		CU_ASSERT_EQUAL(crypt_open(k, NULL, 0, s, sizeof(s), o), -EBADMSG);
		/* another pool's key 1 */
		CU_ASSERT_EQUAL(crypt_open(other, "chunks\0A", 8, s, sizeof(s), o), -EBADMSG);
		CU_ASSERT_EQUAL(crypt_open(k, "chunks\0A", 8, s, sizeof(s), o), 0);
		crypt_free(k);
		crypt_free(other);
	}
}

static int cmp12(const void *a, const void *b)
{
	return memcmp(a, b, 12);
}

static void test_nonces(void)
{
	enum { N = 100000 };
	uint8_t *nonces = malloc((size_t)N * 12), s[8 + CRYPT_OVERHEAD];
	struct crypt *k;
	int dups = 0;

	CU_ASSERT_EQUAL_FATAL(crypt_new(CRYPT_AES_GCM, &k), 0);
	for (int i = 0; i < N; i++) {
		CU_ASSERT_EQUAL_FATAL(crypt_seal(k, "x", 1, "same val", 8, s), 0);
		memcpy(nonces + (size_t)i * 12, s + 5, 12);
	}
	qsort(nonces, N, 12, cmp12);
	for (int i = 1; i < N; i++)
		dups += !memcmp(nonces + (size_t)(i - 1) * 12, nonces + (size_t)i * 12, 12);
	CU_ASSERT_EQUAL(dups, 0);
	free(nonces);
	crypt_free(k);
}

/* A keyset with the same keys and none of k's kept contexts. */
static struct crypt *twin(struct crypt *k, enum crypt_cipher c)
{
	uint8_t m[CRYPT_KEY_LEN];
	struct strbuf w = STRBUF_INIT;
	struct crypt *back = NULL;

	memset(m, 0x33, sizeof(m));
	CU_ASSERT_EQUAL(crypt_wrap(k, m, "twin", &w), 0);
	CU_ASSERT_EQUAL(crypt_unwrap(c, (const uint8_t *)w.buf, w.len, m, "twin", &back), 0);
	strbuf_release(&w);
	return back;
}

/*
 * Values of odd lengths sealed one after another with k's kept contexts
 * open in another order with fresh ones (a CTR position or GCM state
 * left over from the last value would not); a failed open does not spoil
 * the context for the next; a kept HMAC gives the fresh one's ids.
 */
static void test_kept_contexts(void)
{
	enum { N = 24 };

	for (size_t c = 0; c < NCIPHERS; c++) {
		uint8_t *val[N], *sealed[N], out[4096], ida[32], idb[32], id2[32];
		struct crypt *k, *back;
		size_t len[N];

		CU_ASSERT_EQUAL_FATAL(crypt_new(ciphers[c], &k), 0);
		for (int i = 0; i < N; i++) {
			len[i] = (size_t)(i * 97 + 5) % 3000;
			val[i] = pattern(len[i], (unsigned)i);
			sealed[i] = malloc(len[i] + CRYPT_OVERHEAD);
			CU_ASSERT_EQUAL(crypt_seal(k, "ad", 2, val[i], len[i], sealed[i]), 0);
		}
		back = twin(k, ciphers[c]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(back);
		for (int i = N - 1; i >= 0; i--) {
			size_t sl = len[i] + CRYPT_OVERHEAD;

			CU_ASSERT_EQUAL(crypt_open(back, "ad", 2, sealed[i], sl, out), 0);
			CU_ASSERT_EQUAL(memcmp(out, val[i], len[i]), 0);
			/* a failed open in between */
			sealed[i][CRYPT_HDR_LEN] ^= 1;
			CU_ASSERT_EQUAL(crypt_open(k, "ad", 2, sealed[i], sl, out), -EBADMSG);
			sealed[i][CRYPT_HDR_LEN] ^= 1;
			CU_ASSERT_EQUAL(crypt_open(k, "ad", 2, sealed[i], sl, out), 0);
			CU_ASSERT_EQUAL(memcmp(out, val[i], len[i]), 0);
		}
		CU_ASSERT_EQUAL(crypt_chunk_id(k, val[5], len[5], ida), 0);
		CU_ASSERT_EQUAL(crypt_chunk_id(k, val[6], len[6], idb), 0);
		CU_ASSERT_EQUAL(crypt_chunk_id(k, val[5], len[5], id2), 0);
		CU_ASSERT_EQUAL(memcmp(ida, id2, 32), 0);
		CU_ASSERT_NOT_EQUAL(memcmp(ida, idb, 32), 0);
		CU_ASSERT_EQUAL(crypt_chunk_id(back, val[5], len[5], id2), 0);
		CU_ASSERT_EQUAL(memcmp(ida, id2, 32), 0);
		for (int i = 0; i < N; i++) {
			free(val[i]);
			free(sealed[i]);
		}
		crypt_free(back);
		crypt_free(k);
	}
}

enum { SEALER_N = 20000 };

struct sealer {
	struct crypt *k;
	int *gate;			/* rotation test: wait at GATE_AT until set */
	int n;				/* values sealed; atomic */
	uint8_t (*sealed)[16 + CRYPT_OVERHEAD];
	int fails;
};

#define GATE_AT	300

static void *sealer_run(void *arg)
{
	struct sealer *s = arg;
	uint8_t v[16];

	for (int n = 0; n < SEALER_N; n++) {
		while (s->gate && n == GATE_AT && !__atomic_load_n(s->gate, __ATOMIC_ACQUIRE))
			usleep(100);
		memset(v, n & 0xff, sizeof(v));
		if (crypt_seal(s->k, "ad", 2, v, sizeof(v), s->sealed[n]))
			s->fails++;
		__atomic_store_n(&s->n, n + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* Two threads sealing at once: no nonce twice among them. */
static void test_nonces_threads(void)
{
	struct sealer s[2];
	pthread_t t[2];
	uint8_t *nonces = malloc((size_t)2 * SEALER_N * 12);
	struct crypt *k;
	int dups = 0, n = 0;

	CU_ASSERT_EQUAL_FATAL(crypt_new(CRYPT_AES_GCM, &k), 0);
	for (int i = 0; i < 2; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		s[i].k = k;
		s[i].sealed = malloc(sizeof(*s[i].sealed) * SEALER_N);
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, sealer_run, &s[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT_EQUAL(s[i].fails, 0);
		for (int j = 0; j < s[i].n; j++)
			memcpy(nonces + (size_t)n++ * 12, s[i].sealed[j] + 5, 12);
		free(s[i].sealed);
	}
	qsort(nonces, (size_t)n, 12, cmp12);
	for (int i = 1; i < n; i++)
		dups += !memcmp(nonces + (size_t)(i - 1) * 12, nonces + (size_t)i * 12, 12);
	CU_ASSERT_EQUAL(n, 2 * SEALER_N);
	CU_ASSERT_EQUAL(dups, 0);
	free(nonces);
	crypt_free(k);
}

/* A forked child's next nonce is not its parent's next one. */
static void test_nonces_fork(void)
{
	uint8_t a[4 + CRYPT_OVERHEAD], b[4 + CRYPT_OVERHEAD];
	struct crypt *k;
	int fd[2], st = 0;
	pid_t pid;

	CU_ASSERT_EQUAL_FATAL(crypt_new(CRYPT_AES_GCM, &k), 0);
	/* the parent has nonces in stock when it forks */
	CU_ASSERT_EQUAL(crypt_seal(k, "x", 1, "prep", 4, a), 0);
	CU_ASSERT_EQUAL_FATAL(pipe(fd), 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (!pid) {
		int ok = !crypt_seal(k, "x", 1, "kid!", 4, b) && write(fd[1], b + 5, 12) == 12;

		_exit(ok ? 0 : 1);
	}
	close(fd[1]);
	CU_ASSERT_EQUAL(crypt_seal(k, "x", 1, "dad!", 4, a), 0);
	CU_ASSERT_EQUAL(read(fd[0], b, 12), 12);
	close(fd[0]);
	CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a + 5, b, 12), 0);
	crypt_free(k);
}

/*
 * A rotation while two threads seal (each has kept contexts of key 1):
 * every value before the commit names key 1, every one after it key 2,
 * and a fresh keyset opens each with the key it names.
 */
static void test_rotate_while_sealing(void)
{
	for (size_t c = 0; c < NCIPHERS; c++) {
		struct sealer s[2];
		pthread_t t[2];
		int gate = 0;
		struct crypt *k, *back;
		uint8_t out[16];
		int bad = 0, wrong_key = 0;

		CU_ASSERT_EQUAL_FATAL(crypt_new(ciphers[c], &k), 0);
		for (int i = 0; i < 2; i++) {
			memset(&s[i], 0, sizeof(s[i]));
			s[i].k = k;
			s[i].gate = &gate;
			s[i].sealed = malloc(sizeof(*s[i].sealed) * SEALER_N);
			CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, sealer_run, &s[i]), 0);
		}
		while (__atomic_load_n(&s[0].n, __ATOMIC_ACQUIRE) < GATE_AT ||
		       __atomic_load_n(&s[1].n, __ATOMIC_ACQUIRE) < GATE_AT)
			usleep(100);
		CU_ASSERT_EQUAL(crypt_stage_key(k), 0);
		crypt_commit_key(k);
		__atomic_store_n(&gate, 1, __ATOMIC_RELEASE);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		back = twin(k, ciphers[c]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(back);
		for (int i = 0; i < 2; i++) {
			CU_ASSERT_EQUAL(s[i].fails, 0);
			for (int j = 0; j < s[i].n; j++) {
				const uint8_t *v = s[i].sealed[j];

				memset(out, 0, sizeof(out));
				if (crypt_open(back, "ad", 2, v, 16 + CRYPT_OVERHEAD, out) ||
				    out[0] != (j & 0xff))
					bad++;
				wrong_key += crypt_key_of(v, 16 + CRYPT_OVERHEAD) !=
					     (j < GATE_AT ? 1u : 2u);
			}
			free(s[i].sealed);
		}
		CU_ASSERT_EQUAL(bad, 0);
		CU_ASSERT_EQUAL(wrong_key, 0);
		crypt_free(back);
		crypt_free(k);
	}
}

static void test_rotate(void)
{
	for (size_t c = 0; c < NCIPHERS; c++) {
		uint8_t m[CRYPT_KEY_LEN], s1[4 + CRYPT_OVERHEAD], s2[4 + CRYPT_OVERHEAD], o[4];
		struct strbuf w = STRBUF_INIT;
		struct crypt *k, *back;

		memset(m, 0x5a, sizeof(m));
		CU_ASSERT_EQUAL_FATAL(crypt_new(ciphers[c], &k), 0);
		CU_ASSERT_EQUAL(crypt_seal(k, "a", 1, "old!", 4, s1), 0);
		CU_ASSERT_EQUAL(crypt_stage_key(k), 0);
		/* staged: not used yet, but already in what is wrapped */
		CU_ASSERT_EQUAL(crypt_current(k), 1);
		CU_ASSERT_EQUAL(crypt_wrap(k, m, "pool", &w), 0);
		crypt_commit_key(k);
		CU_ASSERT_EQUAL(crypt_current(k), 2);
		CU_ASSERT_EQUAL(crypt_seal(k, "a", 1, "new!", 4, s2), 0);
		CU_ASSERT_EQUAL(crypt_key_of(s2, sizeof(s2)), 2);

		CU_ASSERT_EQUAL_FATAL(crypt_unwrap(ciphers[c], (const uint8_t *)w.buf, w.len, m,
						   "pool", &back), 0);
		CU_ASSERT_EQUAL(crypt_current(back), 2);
		CU_ASSERT_EQUAL(crypt_open(back, "a", 1, s1, sizeof(s1), o), 0);
		CU_ASSERT_EQUAL(memcmp(o, "old!", 4), 0);
		CU_ASSERT_EQUAL(crypt_open(back, "a", 1, s2, sizeof(s2), o), 0);
		CU_ASSERT_EQUAL(memcmp(o, "new!", 4), 0);
		crypt_free(back);

		/* a keyset without key 2 cannot open what key 2 sealed */
		CU_ASSERT_EQUAL_FATAL(crypt_new(ciphers[c], &back), 0);
		CU_ASSERT_EQUAL(crypt_open(back, "a", 1, s2, sizeof(s2), o), -ENOKEY);
		crypt_free(back);

		/* a dropped stage changes nothing */
		CU_ASSERT_EQUAL(crypt_stage_key(k), 0);
		crypt_drop_staged(k);
		CU_ASSERT_EQUAL(crypt_current(k), 2);
		CU_ASSERT_EQUAL(crypt_nkeys(k), 2);
		strbuf_release(&w);
		crypt_free(k);
	}
}

static void test_wrap(void)
{
	for (size_t c = 0; c < NCIPHERS; c++) {
		uint8_t m[CRYPT_KEY_LEN], m2[CRYPT_KEY_LEN], sec[32], out[32];
		struct strbuf w = STRBUF_INIT, ws = STRBUF_INIT;
		struct crypt *k, *back = NULL;

		memset(m, 1, sizeof(m));
		memset(m2, 2, sizeof(m2));
		memset(sec, 9, sizeof(sec));
		CU_ASSERT_EQUAL_FATAL(crypt_new(ciphers[c], &k), 0);
		CU_ASSERT_EQUAL(crypt_wrap(k, m, "pool-a", &w), 0);
		CU_ASSERT_EQUAL(crypt_unwrap(ciphers[c], (const uint8_t *)w.buf, w.len, m2,
					     "pool-a", &back), -EKEYREJECTED);
		CU_ASSERT_EQUAL(crypt_unwrap(ciphers[c], (const uint8_t *)w.buf, w.len, m,
					     "pool-b", &back), -EKEYREJECTED);
		CU_ASSERT_PTR_NULL(back);
		CU_ASSERT_EQUAL(crypt_wrap_secret(ciphers[c], m, "hash.key", sec, 32, &ws), 0);
		CU_ASSERT_EQUAL(crypt_unwrap_secret(ciphers[c], m, "hash.key",
						    (const uint8_t *)ws.buf, ws.len, out, 32), 32);
		CU_ASSERT_EQUAL(memcmp(out, sec, 32), 0);
		CU_ASSERT_EQUAL(crypt_unwrap_secret(ciphers[c], m2, "hash.key",
						    (const uint8_t *)ws.buf, ws.len, out, 32),
				-EKEYREJECTED);
		CU_ASSERT_EQUAL(crypt_unwrap_secret(ciphers[c], m, "sign.key",
						    (const uint8_t *)ws.buf, ws.len, out, 32),
				-EKEYREJECTED);
		strbuf_release(&w);
		strbuf_release(&ws);
		crypt_free(k);
	}
}

static void test_chunk_ids(void)
{
	uint8_t a[32], b[32], c2[32];
	struct crypt *k, *other;

	CU_ASSERT_EQUAL_FATAL(crypt_new(CRYPT_SM4, &k), 0);
	CU_ASSERT_EQUAL_FATAL(crypt_new(CRYPT_SM4, &other), 0);
	CU_ASSERT_EQUAL(crypt_chunk_id(k, "content", 7, a), 0);
	CU_ASSERT_EQUAL(crypt_chunk_id(k, "content", 7, b), 0);
	CU_ASSERT_EQUAL(memcmp(a, b, 32), 0);		/* dedup still works */
	CU_ASSERT_EQUAL(crypt_chunk_id(other, "content", 7, c2), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a, c2, 32), 0);	/* keyed: per pool */
	crypt_free(k);
	crypt_free(other);
}

/* A batch's ids (side by side in the aes profile) are each chunk's own id. */
static void test_chunk_ids_batch(void)
{
	static const size_t lens[] = { 0, 1, 55, 64, 119, 4096, 16384, 65536 + 3, 262144, 77777 };
	enum { N = sizeof(lens) / sizeof(lens[0]) };

	for (size_t c = 0; c < NCIPHERS; c++) {
		uint8_t *p[N], ids[N][32], one[32];
		const uint8_t *data[N];
		int ret[N];
		struct crypt *k;

		CU_ASSERT_EQUAL_FATAL(crypt_new(ciphers[c], &k), 0);
		for (size_t i = 0; i < N; i++)
			data[i] = p[i] = pattern(lens[i], (unsigned)(i + 7 * c));
		memset(ret, 0x55, sizeof(ret));
		crypt_chunk_ids(k, N, data, lens, ids, ret);
		for (size_t i = 0; i < N; i++) {
			CU_ASSERT_EQUAL(ret[i], 0);
			CU_ASSERT_EQUAL(crypt_chunk_id(k, data[i], lens[i], one), 0);
			CU_ASSERT_EQUAL(memcmp(ids[i], one, 32), 0);
			free(p[i]);
		}
		crypt_free(k);
	}
}

static void test_scratch(void)
{
	for (size_t c = 0; c < NCIPHERS; c++) {
		struct crypt_scratch *x;
		uint8_t *p = pattern(1000, 3), *q = pattern(1000, 3), *r = pattern(1000, 3);

		CU_ASSERT_EQUAL_FATAL(crypt_scratch_new(ciphers[c], &x), 0);
		/* the whole range at once, and in odd pieces, agree */
		CU_ASSERT_EQUAL(crypt_scratch_xor(x, p, 1000, 12345), 0);
		CU_ASSERT_EQUAL(crypt_scratch_xor(x, q, 7, 12345), 0);
		CU_ASSERT_EQUAL(crypt_scratch_xor(x, q + 7, 500, 12345 + 7), 0);
		CU_ASSERT_EQUAL(crypt_scratch_xor(x, q + 507, 493, 12345 + 507), 0);
		CU_ASSERT_EQUAL(memcmp(p, q, 1000), 0);
		CU_ASSERT_NOT_EQUAL(memcmp(p, r, 1000), 0);
		CU_ASSERT_EQUAL(crypt_scratch_xor(x, p, 1000, 12345), 0);
		CU_ASSERT_EQUAL(memcmp(p, r, 1000), 0);
		crypt_scratch_free(x);
		free(p);
		free(q);
		free(r);
	}
}

/* Sealed blocks: round trip, and a flipped byte, a moved block or an older write fail. */
static void test_scratch_blocks(void)
{
	static const enum crypt_cipher all[] = { CRYPT_PLAIN, CRYPT_AES_GCM, CRYPT_SM4 };

	for (size_t c = 0; c < sizeof(all) / sizeof(all[0]); c++) {
		enum { B = CRYPT_SCRATCH_BLOCK };
		struct crypt_scratch *x;
		uint8_t *p = pattern(B, 5), *a = xmalloc(B), *old = xmalloc(B), *b = xmalloc(B);

		CU_ASSERT_EQUAL_FATAL(crypt_scratch_new(all[c], &x), 0);
		CU_ASSERT_EQUAL(crypt_scratch_open(x, 7, a), 1);	/* never written */
		memcpy(a, p, B);
		CU_ASSERT_EQUAL(crypt_scratch_seal(x, 7, a), 0);
		/* encrypted, except in the plain profile (tags only) */
		CU_ASSERT_EQUAL(memcmp(a, p, B) == 0, all[c] == CRYPT_PLAIN);
		memcpy(old, a, B);
		memcpy(b, a, B);
		CU_ASSERT_EQUAL(crypt_scratch_open(x, 7, b), 0);
		CU_ASSERT_EQUAL(memcmp(b, p, B), 0);
		memcpy(b, a, B);
		b[100] ^= 1;
		CU_ASSERT_EQUAL(crypt_scratch_open(x, 7, b), -EBADMSG);
		memset(b, 0x5a, B);
		CU_ASSERT_EQUAL(crypt_scratch_seal(x, 8, b), 0);
		memcpy(b, a, B);
		CU_ASSERT_EQUAL(crypt_scratch_open(x, 8, b), -EBADMSG);	/* moved */
		/* the block written again: its earlier bytes are a replay */
		memset(a, 0xa5, B);
		CU_ASSERT_EQUAL(crypt_scratch_seal(x, 7, a), 0);
		memcpy(b, old, B);
		CU_ASSERT_EQUAL(crypt_scratch_open(x, 7, b), -EBADMSG);
		memcpy(b, a, B);
		CU_ASSERT_EQUAL(crypt_scratch_open(x, 7, b), 0);
		crypt_scratch_forget(x, 7);
		CU_ASSERT_EQUAL(crypt_scratch_open(x, 7, b), 1);
		crypt_scratch_free(x);
		free(p);
		free(a);
		free(old);
		free(b);
	}
}

static void test_passphrase(void)
{
	static const char pass[] = "correct horse battery staple";
	struct crypt_kdf kdf, other;
	uint8_t m1[CRYPT_KEY_LEN], m2[CRYPT_KEY_LEN], bad[CRYPT_KEY_LEN];
	struct strbuf blob = STRBUF_INIT;
	struct crypt *k, *back = NULL;

	CU_ASSERT_EQUAL_FATAL(crypt_kdf_new(&kdf), 0);
	CU_ASSERT_EQUAL(kdf.n, CRYPT_SCRYPT_N);
	CU_ASSERT_EQUAL(kdf.r, CRYPT_SCRYPT_R);
	CU_ASSERT_EQUAL(kdf.p, CRYPT_SCRYPT_P);
	CU_ASSERT_EQUAL_FATAL(crypt_kdf_new(&other), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(kdf.salt, other.salt, sizeof(kdf.salt)), 0);
	kdf.n = 1024;			/* cheap for the test; the cost is a parameter */

	/* deterministic for one salt and cost */
	CU_ASSERT_EQUAL_FATAL(crypt_kdf_derive(&kdf, pass, strlen(pass), m1), 0);
	CU_ASSERT_EQUAL_FATAL(crypt_kdf_derive(&kdf, pass, strlen(pass), m2), 0);
	CU_ASSERT_EQUAL(memcmp(m1, m2, sizeof(m1)), 0);
	/* and a function of each: passphrase, salt, cost */
	CU_ASSERT_EQUAL(crypt_kdf_derive(&kdf, pass, strlen(pass) - 1, bad), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(m1, bad, sizeof(m1)), 0);
	other.n = 1024;
	CU_ASSERT_EQUAL(crypt_kdf_derive(&other, pass, strlen(pass), m2), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(m1, m2, sizeof(m1)), 0);
	other = kdf;
	other.n = 2048;
	CU_ASSERT_EQUAL(crypt_kdf_derive(&other, pass, strlen(pass), m2), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(m1, m2, sizeof(m1)), 0);
	other.n = 2048;
	other.r = 4;
	CU_ASSERT_EQUAL(crypt_kdf_derive(&other, pass, strlen(pass), bad), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(m2, bad, sizeof(m2)), 0);

	/* a cost no pool is made with is refused before any memory is taken */
	other = kdf;
	other.n = 1000;
	CU_ASSERT_EQUAL(crypt_kdf_derive(&other, pass, strlen(pass), m2), -EINVAL);
	other.n = 1ull << 40;
	CU_ASSERT_EQUAL(crypt_kdf_derive(&other, pass, strlen(pass), m2), -EINVAL);
	other = kdf;
	other.p = 0;
	CU_ASSERT_EQUAL(crypt_kdf_derive(&other, pass, strlen(pass), m2), -EINVAL);

	/* the keyset wrapped under the derived key opens with it only */
	for (size_t c = 0; c < NCIPHERS; c++) {
		strbuf_reset(&blob);
		CU_ASSERT_EQUAL_FATAL(crypt_new(ciphers[c], &k), 0);
		CU_ASSERT_EQUAL_FATAL(crypt_wrap(k, m1, "pool", &blob), 0);
		CU_ASSERT_EQUAL(crypt_kdf_derive(&kdf, "correct horse battery stapl", 27, bad), 0);
		CU_ASSERT_EQUAL(crypt_unwrap(ciphers[c], (const uint8_t *)blob.buf, blob.len, bad,
					     "pool", &back), -EKEYREJECTED);
		CU_ASSERT_PTR_NULL(back);
		CU_ASSERT_EQUAL(crypt_kdf_derive(&kdf, pass, strlen(pass), m2), 0);
		CU_ASSERT_EQUAL(crypt_unwrap(ciphers[c], (const uint8_t *)blob.buf, blob.len, m2,
					     "pool", &back), 0);
		crypt_free(back);
		back = NULL;
		crypt_free(k);
	}
	strbuf_release(&blob);
}

/* One trailing newline is the file's, not the passphrase's; empty is refused. */
static void test_passphrase_read(void)
{
	char path[] = "/tmp/test_crypt_passXXXXXX";
	struct strbuf pass = STRBUF_INIT;
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "a b\n\n", 5), 5);
	CU_ASSERT_EQUAL(crypt_passphrase_read(path, &pass, NULL), 0);
	CU_ASSERT_EQUAL(pass.len, 4);
	CU_ASSERT_EQUAL(memcmp(pass.buf, "a b\n", 4), 0);
	CU_ASSERT_EQUAL(ftruncate(fd, 0), 0);
	CU_ASSERT_EQUAL(pwrite(fd, "\n", 1, 0), 1);
	CU_ASSERT_EQUAL(crypt_passphrase_read(path, &pass, NULL), -EINVAL);
	CU_ASSERT_EQUAL(crypt_passphrase_read("/nonexistent/pass", &pass, NULL), -ENOENT);
	close(fd);
	unlink(path);
	strbuf_release(&pass);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "round trip", test_round_trip },
		{ "tamper", test_tamper },
		{ "wrong associated data", test_wrong_ad },
		{ "nonces do not repeat", test_nonces },
		{ "kept contexts", test_kept_contexts },
		{ "nonces across threads", test_nonces_threads },
		{ "nonces across a fork", test_nonces_fork },
		{ "rotation while sealing", test_rotate_while_sealing },
		{ "rotate", test_rotate },
		{ "wrap", test_wrap },
		{ "chunk ids", test_chunk_ids },
		{ "chunk ids of a batch", test_chunk_ids_batch },
		{ "scratch", test_scratch },
		{ "scratch blocks", test_scratch_blocks },
		{ "passphrase", test_passphrase },
		{ "passphrase file", test_passphrase_read },
	};

	return unit_tests_run("crypt", NULL, NULL, tests, UNIT_COUNT(tests));
}
