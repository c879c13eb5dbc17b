/*
 * store/sha256_multi.c - SHA-256 of many buffers side by side
 * (store/sha256_multi.h).
 *
 * Each buffer is a lane: its whole 64-byte blocks read in place, then
 * one or two blocks of tail and padding built in the lane. A kernel runs
 * a few lanes for as many blocks as the shortest of them has left in one
 * run of memory; a lane that ends gives its slot to the next buffer.
 * AVX-512 runs 16 lanes, each one sixteenth as fast, so once too few are
 * left to fill it, the rest go on in SHA-NI, up to 4 interleaved. On the
 * EPYC (Zen 4) we run on, one core hashes 64 KiB buffers at about 4 GB/s
 * in 16 full lanes and 2.2 in 4 SHA-NI streams, against 1.6 for
 * OpenSSL's one; a chunk pipe's batches (about 15 chunks of 16-256 KiB,
 * so lanes run empty at the end) at 2.5 (tests/test_sha256_multi.c).
 * The kernels are compiled for their instructions alone and chosen at
 * run time, so any x86-64 (and valgrind, which hides both) gets SHA256().
 */
#include "store/sha256_multi.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_KERNELS 1
#endif

#define LANES		16
#define NI_WAYS		4
/* lanes left at which AVX-512 hands them to SHA-NI (see the top) */
#define NI_HANDOFF	8
/* buffers ordered at a time */
#define GROUP		64
/* an HMAC's buffers at a time: their inner digests on the stack */
#define GROUP_HMAC	32

static const uint32_t sha_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t sha_h0[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

static int cap = SHA256_MULTI_AVX512;	/* atomic */

static enum sha256_multi_kind cpu_kind(void)
{
#ifdef HAVE_KERNELS
	/* avx512bw for the byte shuffle; cpu_supports checks the OS saves the registers */
	bool ni = __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1");

	if (ni && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
		return SHA256_MULTI_AVX512;
	if (ni)
		return SHA256_MULTI_NI;
#endif
	return SHA256_MULTI_OPENSSL;
}

static enum sha256_multi_kind kind_now(void)
{
	enum sha256_multi_kind k = cpu_kind();
	int c = __atomic_load_n(&cap, __ATOMIC_RELAXED);

	return (int)k < c ? k : (enum sha256_multi_kind)c;
}

enum sha256_multi_kind sha256_multi_cap(enum sha256_multi_kind kind)
{
	__atomic_store_n(&cap, (int)kind, __ATOMIC_RELAXED);
	return kind_now();
}

#ifdef HAVE_KERNELS

struct lane {
	const uint8_t *p;		/* the next whole block in the buffer */
	size_t nfull;			/* whole blocks left there */
	const uint8_t *tp;		/* then the next block of tail */
	unsigned ntail;			/* tail blocks left */
	size_t idx;			/* the buffer's */
	uint32_t h[8];
	uint8_t tail[128];		/* the last partial block, padded */
};

static void lane_start(struct lane *l, const struct sha256_mid *m, size_t idx,
		       const uint8_t *data, size_t len)
{
	size_t r = len % 64;
	uint64_t bits = (m->bytes + len) * 8;

	l->idx = idx;
	l->p = data;
	l->nfull = len / 64;
	memset(l->tail, 0, sizeof(l->tail));
	if (r)
		memcpy(l->tail, data + 64 * l->nfull, r);
	l->tail[r] = 0x80;
	l->ntail = r < 56 ? 1 : 2;
	for (int i = 0; i < 8; i++)
		l->tail[64 * l->ntail - 1 - i] = (uint8_t)(bits >> (8 * i));
	l->tp = l->tail;
	memcpy(l->h, m->h, sizeof(l->h));
}

/* The lane's next run of blocks in one piece of memory: *p and their count. */
static size_t lane_run(const struct lane *l, const uint8_t **p)
{
	*p = l->nfull ? l->p : l->tp;
	return l->nfull ? l->nfull : l->ntail;
}

/* Moves past nb blocks of the run; true when the lane is done. */
static bool lane_advance(struct lane *l, size_t nb)
{
	if (l->nfull) {
		l->p += 64 * nb;
		l->nfull -= nb;
	} else {
		l->tp += 64 * nb;
		l->ntail -= (unsigned)nb;
	}
	return !l->nfull && !l->ntail;
}

static void digest_put(const uint32_t h[8], uint8_t out[32])
{
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(h[i] >> 8);
		out[4 * i + 3] = (uint8_t)h[i];
	}
}

/* ---- SHA-NI: N streams' rounds interleaved, so one's latency hides another's ---- */

#define NI_TARGET __attribute__((target("sha,sse4.1")))

/*
 * nb blocks of each of the N lanes; their states in h[] as words a..h.
 * The instructions keep the state as ABEF and CDGH.
 */
NI_TARGET __attribute__((always_inline)) static inline void
ni_blocks(int N, uint32_t *const h[], const uint8_t *const p[], size_t nb)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i s0[NI_WAYS], s1[NI_WAYS], a0[NI_WAYS], a1[NI_WAYS], w[NI_WAYS][4], m, t;

	for (int l = 0; l < N; l++) {
		t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)h[l]), 0xB1);	/* CDAB */
		s1[l] = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(h[l] + 4)), 0x1B); /* EFGH */
		s0[l] = _mm_alignr_epi8(t, s1[l], 8);					/* ABEF */
		s1[l] = _mm_blend_epi16(s1[l], t, 0xF0);				/* CDGH */
	}
	for (size_t b = 0; b < nb; b++) {
		for (int l = 0; l < N; l++) {
			a0[l] = s0[l];
			a1[l] = s1[l];
		}
#pragma GCC unroll 16
		for (int g = 0; g < 16; g++) {
			__m128i k = _mm_loadu_si128((const __m128i *)&sha_k[4 * g]);

			for (int l = 0; l < N; l++) {
				if (g < 4)
					w[l][g] = _mm_shuffle_epi8(_mm_loadu_si128(
						(const __m128i *)(p[l] + 64 * b + 16 * g)), bswap);
				else
					w[l][g & 3] = _mm_sha256msg2_epu32(_mm_add_epi32(
						_mm_sha256msg1_epu32(w[l][g & 3], w[l][(g + 1) & 3]),
						_mm_alignr_epi8(w[l][(g + 3) & 3], w[l][(g + 2) & 3], 4)),
						w[l][(g + 3) & 3]);
				m = _mm_add_epi32(w[l][g & 3], k);
				s1[l] = _mm_sha256rnds2_epu32(s1[l], s0[l], m);
				s0[l] = _mm_sha256rnds2_epu32(s0[l], s1[l], _mm_shuffle_epi32(m, 0x0E));
			}
		}
		for (int l = 0; l < N; l++) {
			s0[l] = _mm_add_epi32(s0[l], a0[l]);
			s1[l] = _mm_add_epi32(s1[l], a1[l]);
		}
	}
	for (int l = 0; l < N; l++) {
		t = _mm_shuffle_epi32(s0[l], 0x1B);					/* FEBA */
		s1[l] = _mm_shuffle_epi32(s1[l], 0xB1);					/* DCHG */
		_mm_storeu_si128((__m128i *)h[l], _mm_blend_epi16(t, s1[l], 0xF0));	/* DCBA */
		_mm_storeu_si128((__m128i *)(h[l] + 4), _mm_alignr_epi8(s1[l], t, 8));	/* HGFE */
	}
}

#define NI_N(n) NI_TARGET static void ni_##n(uint32_t *const h[], const uint8_t *const p[], \
					     size_t nb) { ni_blocks(n, h, p, nb); }
NI_N(1)
NI_N(2)
NI_N(3)
NI_N(4)

/*
 * Runs the started lanes ls[0..nls) and then the buffers from *next on,
 * NI_WAYS at a time, to the end.
 */
static void ni_run(struct lane *ls, size_t nls, const struct sha256_mid *m, size_t *next,
		   size_t n, const size_t *order, const uint8_t *const data[], const size_t len[],
		   uint8_t out[][32])
{
	static void (*const ni[NI_WAYS + 1])(uint32_t *const *, const uint8_t *const *, size_t) = {
		NULL, ni_1, ni_2, ni_3, ni_4,
	};
	struct lane *act[NI_WAYS], *l;
	uint32_t *h[NI_WAYS];
	const uint8_t *p[NI_WAYS];
	size_t run, r, given = 0;
	int na = 0;

	for (;;) {
		/* fill the free ways: started lanes first, then new buffers into spare lanes */
		while (na < NI_WAYS && (given < nls || *next < n)) {
			if (given < nls) {
				act[na++] = &ls[given++];
				continue;
			}
			/* ls has room for LANES, and at most NI_WAYS are running */
			l = NULL;
			for (size_t i = 0; i < LANES && !l; i++) {
				bool busy = i < nls && i >= given;

				for (int j = 0; j < na && !busy; j++)
					busy = act[j] == &ls[i];
				if (!busy && (i >= nls || i < given))
					l = &ls[i];
			}
			lane_start(l, m, order[*next], data[order[*next]], len[order[*next]]);
			(*next)++;
			act[na++] = l;
		}
		if (!na)
			return;
		run = SIZE_MAX;
		for (int j = 0; j < na; j++) {
			r = lane_run(act[j], &p[j]);
			run = r < run ? r : run;
			h[j] = act[j]->h;
		}
		ni[na](h, p, run);
		for (int j = 0; j < na;) {
			if (lane_advance(act[j], run)) {
				digest_put(act[j]->h, out[act[j]->idx]);
				act[j] = act[--na];
			} else {
				j++;
			}
		}
	}
}

/* ---- AVX-512: 16 lanes, one in each 32-bit slot of a register ---- */

#define X16_TARGET __attribute__((target("avx512f,avx512bw")))
#define ROR(x, n) _mm512_ror_epi32((x), (n))

/*
 * Transposes 16 rows of 16 words into w[c] = word c of every row:
 * pairs, then quads within 128 bits, then the 128-bit pieces.
 */
X16_TARGET static void transpose16(__m512i r[16], __m512i w[16])
{
	__m512i t[16], u[16], x0, x1, y0, y1;

	for (int i = 0; i < 16; i += 2) {
		t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
		t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
	}
	for (int g = 0; g < 16; g += 4) {
		u[g] = _mm512_unpacklo_epi64(t[g], t[g + 2]);
		u[g + 1] = _mm512_unpackhi_epi64(t[g], t[g + 2]);
		u[g + 2] = _mm512_unpacklo_epi64(t[g + 1], t[g + 3]);
		u[g + 3] = _mm512_unpackhi_epi64(t[g + 1], t[g + 3]);
	}
	/* u[4g + j], piece k: rows 4g..4g+3 of word 4k + j */
	for (int j = 0; j < 4; j++) {
		x0 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0x44);
		x1 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0xEE);
		y0 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0x44);
		y1 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0xEE);
		w[j] = _mm512_shuffle_i32x4(x0, y0, 0x88);
		w[4 + j] = _mm512_shuffle_i32x4(x0, y0, 0xDD);
		w[8 + j] = _mm512_shuffle_i32x4(x1, y1, 0x88);
		w[12 + j] = _mm512_shuffle_i32x4(x1, y1, 0xDD);
	}
}

/*
 * nb blocks of 16 lanes: lane i's at p[i], then every step[i] bytes
 * (0 for an idle lane); hv[j] holds word j of every lane's state.
 */
X16_TARGET static void x16_blocks(uint32_t hv[8][LANES], const uint8_t *const p[LANES],
				  const size_t step[LANES], size_t nb)
{
	const __m512i bswap = _mm512_broadcast_i32x4(
		_mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL));
	__m512i s[8], v[8], r[16], w[16], x, s0, s1, t1;
	size_t off[LANES] = { 0 };

	for (int j = 0; j < 8; j++)
		s[j] = _mm512_loadu_si512(hv[j]);
	for (size_t b = 0; b < nb; b++) {
		for (int i = 0; i < LANES; i++) {
			r[i] = _mm512_loadu_si512(p[i] + off[i]);
			off[i] += step[i];
		}
		transpose16(r, w);
		for (int j = 0; j < 8; j++)
			v[j] = s[j];
#pragma GCC unroll 64
		for (int t = 0; t < 64; t++) {
			if (t < 16) {
				x = w[t] = _mm512_shuffle_epi8(w[t], bswap);
			} else {
				x = w[(t - 15) & 15];
				s0 = _mm512_ternarylogic_epi32(ROR(x, 7), ROR(x, 18),
							       _mm512_srli_epi32(x, 3), 0x96);
				x = w[(t - 2) & 15];
				s1 = _mm512_ternarylogic_epi32(ROR(x, 17), ROR(x, 19),
							       _mm512_srli_epi32(x, 10), 0x96);
				x = w[t & 15] = _mm512_add_epi32(_mm512_add_epi32(w[t & 15], s0),
								 _mm512_add_epi32(w[(t - 7) & 15], s1));
			}
			/* v[0..7] = a..h; 0x96 xor3, 0xCA choose, 0xE8 majority */
			t1 = _mm512_add_epi32(
				_mm512_add_epi32(v[7], _mm512_ternarylogic_epi32(
					ROR(v[4], 6), ROR(v[4], 11), ROR(v[4], 25), 0x96)),
				_mm512_add_epi32(_mm512_ternarylogic_epi32(v[4], v[5], v[6], 0xCA),
						 _mm512_add_epi32(x, _mm512_set1_epi32((int)sha_k[t]))));
			v[7] = v[6];
			v[6] = v[5];
			v[5] = v[4];
			v[4] = _mm512_add_epi32(v[3], t1);
			v[3] = v[2];
			v[2] = v[1];
			v[1] = v[0];
			v[0] = _mm512_add_epi32(t1, _mm512_add_epi32(
				_mm512_ternarylogic_epi32(ROR(v[1], 2), ROR(v[1], 13), ROR(v[1], 22), 0x96),
				_mm512_ternarylogic_epi32(v[1], v[2], v[3], 0xE8)));
		}
		for (int j = 0; j < 8; j++)
			s[j] = _mm512_add_epi32(s[j], v[j]);
	}
	for (int j = 0; j < 8; j++)
		_mm512_storeu_si512(hv[j], s[j]);
}

/* What an idle lane reads, never advancing. */
static const uint8_t idle_block[64];

/*
 * Runs the buffers from *next on in 16 lanes until at most handoff are
 * left and none waits; those lanes go to ls[0..return) with their state.
 */
static size_t x16_run(struct lane ls[LANES], const struct sha256_mid *m, size_t handoff,
		      size_t *next, size_t n, const size_t *order, const uint8_t *const data[],
		      const size_t len[], uint8_t out[][32])
{
	uint32_t hv[8][LANES];
	const uint8_t *p[LANES];
	size_t step[LANES], run, r, na = 0, k = 0;
	bool live[LANES] = { false };

	for (;;) {
		for (int i = 0; i < LANES && *next < n; i++) {
			if (live[i])
				continue;
			lane_start(&ls[i], m, order[*next], data[order[*next]], len[order[*next]]);
			(*next)++;
			for (int j = 0; j < 8; j++)
				hv[j][i] = m->h[j];
			live[i] = true;
			na++;
		}
		if (na <= handoff)
			break;
		run = SIZE_MAX;
		for (int i = 0; i < LANES; i++) {
			if (!live[i]) {
				p[i] = idle_block;
				step[i] = 0;
				continue;
			}
			r = lane_run(&ls[i], &p[i]);
			run = r < run ? r : run;
			step[i] = 64;
		}
		x16_blocks(hv, p, step, run);
		for (int i = 0; i < LANES; i++) {
			if (!live[i] || !lane_advance(&ls[i], run))
				continue;
			for (int j = 0; j < 8; j++)
				ls[i].h[j] = hv[j][i];
			digest_put(ls[i].h, out[ls[i].idx]);
			live[i] = false;
			na--;
		}
	}
	/* the live lanes to the front, their state out of hv */
	for (int i = 0; i < LANES; i++) {
		if (!live[i])
			continue;
		for (int j = 0; j < 8; j++)
			ls[i].h[j] = hv[j][i];
		if ((size_t)i != k) {
			ls[k] = ls[i];
			/* the copy's tail is its own */
			ls[k].tp = ls[k].tail + (ls[i].tp - ls[i].tail);
		}
		k++;
	}
	return k;
}

/*
 * Longest first: the lanes started last are the short ones, so the lanes
 * end close together instead of one long buffer running on alone.
 */
static void order_by_len(size_t n, const size_t len[], size_t order[])
{
	size_t j, x;

	for (size_t i = 0; i < n; i++) {
		x = i;
		for (j = i; j > 0 && len[order[j - 1]] < len[x]; j--)
			order[j] = order[j - 1];
		order[j] = x;
	}
}

#endif /* HAVE_KERNELS */

/*
 * The buffers hashed on from m in the kernels the CPU has; returns how
 * many it left (the last ones) for the caller's fallback.
 */
static size_t multi_from(const struct sha256_mid *m, size_t n, const uint8_t *const data[],
			 const size_t len[], uint8_t out[][32])
{
#ifdef HAVE_KERNELS
	enum sha256_multi_kind kind = kind_now();
	struct lane ls[LANES];
	size_t order[GROUP], next, nls, g;

	for (; kind >= SHA256_MULTI_NI && n; n -= g, data += g, len += g, out += g) {
		g = n < GROUP ? n : GROUP;
		order_by_len(g, len, order);
		next = nls = 0;
		if (kind == SHA256_MULTI_AVX512)
			nls = x16_run(ls, m, NI_HANDOFF, &next, g, order, data, len, out);
		ni_run(ls, nls, m, &next, g, order, data, len, out);
	}
#else
	(void)m, (void)data, (void)len, (void)out;
#endif
	return n;
}

void sha256_multi(size_t n, const uint8_t *const data[], const size_t len[],
		  uint8_t out[][32])
{
	static const struct sha256_mid iv = {
		{ 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }, 0
	};
	size_t left = multi_from(&iv, n, data, len, out), i = n - left;

	for (; i < n; i++)
		SHA256(len[i] ? data[i] : (const uint8_t *)"", len[i], out[i]);
}

/* ---- HMAC-SHA256: both hashes start from a key's midstate ---- */

#define RORS(x, n)	(((x) >> (n)) | ((x) << (32 - (n))))

/* One block into h, the plain way: two a key, when the key is set. */
static void block_scalar(uint32_t h[8], const uint8_t p[64])
{
	uint32_t w[64], v[8], t1, t2;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++)
		w[i] = (RORS(w[i - 2], 17) ^ RORS(w[i - 2], 19) ^ (w[i - 2] >> 10)) + w[i - 7] +
		       (RORS(w[i - 15], 7) ^ RORS(w[i - 15], 18) ^ (w[i - 15] >> 3)) + w[i - 16];
	memcpy(v, h, sizeof(v));
	for (int i = 0; i < 64; i++) {
		t1 = v[7] + (RORS(v[4], 6) ^ RORS(v[4], 11) ^ RORS(v[4], 25)) +
		     ((v[4] & v[5]) ^ (~v[4] & v[6])) + sha_k[i] + w[i];
		t2 = (RORS(v[0], 2) ^ RORS(v[0], 13) ^ RORS(v[0], 22)) +
		     ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
		memmove(v + 1, v, 7 * sizeof(v[0]));
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (int i = 0; i < 8; i++)
		h[i] += v[i];
}

int hmac_sha256_multi_key(struct hmac_sha256_multi *k, const uint8_t *key, size_t len)
{
	uint8_t pad[64];

	if (len > sizeof(k->key))
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	memcpy(k->key, key, len);
	k->key_len = len;
	for (int i = 0; i < 64; i++)
		pad[i] = k->key[i] ^ 0x36;
	memcpy(k->in.h, sha_h0, sizeof(k->in.h));
	block_scalar(k->in.h, pad);
	k->in.bytes = 64;
	for (int i = 0; i < 64; i++)
		pad[i] = k->key[i] ^ 0x5c;
	memcpy(k->out.h, sha_h0, sizeof(k->out.h));
	block_scalar(k->out.h, pad);
	k->out.bytes = 64;
	OPENSSL_cleanse(pad, sizeof(pad));
	return 0;
}

void hmac_sha256_multi(const struct hmac_sha256_multi *k, size_t n, const uint8_t *const data[],
		       const size_t len[], uint8_t out[][32])
{
	const uint8_t *inner[GROUP_HMAC];
	size_t ilen[GROUP_HMAC], g, left, i;
	uint8_t ih[GROUP_HMAC][32];

	for (; n; n -= g, data += g, len += g, out += g) {
		g = n < GROUP_HMAC ? n : GROUP_HMAC;
		left = multi_from(&k->in, g, data, len, ih);
		for (i = 0; i < g; i++) {
			inner[i] = ih[i];
			ilen[i] = 32;
		}
		/* what the kernels left (none, or all without them): OpenSSL's HMAC() */
		if (!left)
			left = multi_from(&k->out, g, inner, ilen, out);
		for (i = g - left; i < g; i++)
			HMAC(EVP_sha256(), k->key, (int)k->key_len, len[i] ? data[i] :
			     (const uint8_t *)"", len[i], out[i], NULL);
	}
	OPENSSL_cleanse(ih, sizeof(ih));
}
