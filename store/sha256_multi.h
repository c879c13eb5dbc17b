/*
 * store/sha256_multi.h - SHA-256 of many buffers at once.
 *
 * One SHA-256 is a chain of dependent rounds: a core running one stream
 * waits on each round's latency (SHA-NI's sha256rnds2 included) with
 * most of its units idle. Hashing several independent buffers side by
 * side fills them: 16 lanes in the AVX-512 registers, or up to 4 SHA-NI
 * streams interleaved. The digests are exactly SHA256()'s.
 */
#ifndef POOL_SHA256_MULTI_H
#define POOL_SHA256_MULTI_H

#include <stddef.h>
#include <stdint.h>

/*
 * out[i] = SHA-256 of the len[i] bytes at data[i], for i < n. Any
 * lengths (data[i] may be NULL when len[i] is 0). Thread-safe.
 */
void sha256_multi(size_t n, const uint8_t *const data[], const size_t len[],
		  uint8_t out[][32]);

/* A SHA-256 state after whole 64-byte blocks, bytes of them. */
struct sha256_mid {
	uint32_t h[8];
	uint64_t bytes;
};

/*
 * HMAC-SHA256 with one key for many buffers: its inner and outer hashes
 * start from the key's midstates, so both run side by side as
 * sha256_multi() does. The key (at most 64 bytes, as the pool's 32-byte
 * keys are) is kept for the fallback; the struct is secret, clear it
 * with OPENSSL_cleanse().
 */
struct hmac_sha256_multi {
	uint8_t key[64];
	size_t key_len;
	struct sha256_mid in, out;
};
/* Sets k for key; -EINVAL for a key longer than 64 bytes. */
int hmac_sha256_multi_key(struct hmac_sha256_multi *k, const uint8_t *key, size_t len);
/* out[i] = HMAC-SHA256(k, the len[i] bytes at data[i]), for i < n; thread-safe. */
void hmac_sha256_multi(const struct hmac_sha256_multi *k, size_t n, const uint8_t *const data[],
		       const size_t len[], uint8_t out[][32]);

/* The kernels, best last; what sha256_multi() uses is the best the CPU has. */
enum sha256_multi_kind {
	SHA256_MULTI_OPENSSL,		/* SHA256() per buffer */
	SHA256_MULTI_NI,		/* SHA-NI, up to 4 streams interleaved */
	SHA256_MULTI_AVX512,		/* 16 lanes, the last few streams on SHA-NI */
};

/*
 * Caps the kernel at kind (for tests: each path against SHA256());
 * returns the kernel now used, kind or less when the CPU lacks it.
 */
enum sha256_multi_kind sha256_multi_cap(enum sha256_multi_kind kind);

#endif
