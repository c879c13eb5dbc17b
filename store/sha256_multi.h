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
