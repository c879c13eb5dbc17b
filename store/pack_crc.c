/*
 * store/pack_crc.c - CRC-32C of pack records (declared in store/pack.h):
 * the SSE4.2 instruction in three interleaved lanes where there is one,
 * a table where there is none.
 */
#include "store/pack.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/*
 * The crc32 instruction takes three cycles and can start one a cycle, so
 * one chain of it runs at a third of its speed: crc_hw3 runs three
 * chains over three CRC_LANE-byte lanes and joins them. Joining is
 * linear algebra: the CRC register after lane B is that of the bytes of
 * B from zero, XOR the register before B run over CRC_LANE zero bytes,
 * which is a fixed linear map of its 32 bits (crc_shift, a table per
 * byte of the register).
 */
#define CRC_LANE	1024

static uint32_t crc_table[256];
static uint32_t crc_shift[4][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static bool crc_hw_ok;

static void crc_init(void)
{
	uint32_t img[32];

	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[i] = c;
	}
	for (int i = 0; i < 32; i++) {
		uint32_t c = 1u << i;

		for (int k = 0; k < CRC_LANE; k++)
			c = crc_table[c & 0xff] ^ (c >> 8);
		img[i] = c;
	}
	for (int j = 0; j < 4; j++)
		for (uint32_t b = 0; b < 256; b++) {
			uint32_t c = 0;

			for (int k = 0; k < 8; k++)
				if (b & (1u << k))
					c ^= img[8 * j + k];
			crc_shift[j][b] = c;
		}
#if defined(__x86_64__)
	__builtin_cpu_init();
	crc_hw_ok = __builtin_cpu_supports("sse4.2");
#endif
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t crc_hw(uint32_t c, const uint8_t *p, size_t n)
{
	uint64_t c64 = c;

	for (; n >= 8; p += 8, n -= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c64 = __builtin_ia32_crc32di(c64, v);
	}
	c = (uint32_t)c64;
	for (; n; n--)
		c = __builtin_ia32_crc32qi(c, *p++);
	return c;
}

/* The register c run over CRC_LANE zero bytes. */
static uint32_t crc_lane_shift(uint32_t c)
{
	return crc_shift[0][c & 0xff] ^ crc_shift[1][(c >> 8) & 0xff] ^
	       crc_shift[2][(c >> 16) & 0xff] ^ crc_shift[3][c >> 24];
}

__attribute__((target("sse4.2")))
static uint32_t crc_hw3(uint32_t c, const uint8_t *p, size_t n)
{
	for (; n >= 3 * CRC_LANE; p += 3 * CRC_LANE, n -= 3 * CRC_LANE) {
		uint64_t a = c, b = 0, d = 0;

		for (size_t i = 0; i < CRC_LANE; i += 8) {
			uint64_t va, vb, vd;

			memcpy(&va, p + i, 8);
			memcpy(&vb, p + CRC_LANE + i, 8);
			memcpy(&vd, p + 2 * CRC_LANE + i, 8);
			a = __builtin_ia32_crc32di(a, va);
			b = __builtin_ia32_crc32di(b, vb);
			d = __builtin_ia32_crc32di(d, vd);
		}
		c = crc_lane_shift((uint32_t)a) ^ (uint32_t)b;
		c = crc_lane_shift(c) ^ (uint32_t)d;
	}
	return crc_hw(c, p, n);
}
#endif

/* CRC-32C: the instruction where there is one (RocksDB's was 18 % of a write in software). */
uint32_t pack_crc32c(const uint8_t *p, size_t n, uint32_t prev)
{
	uint32_t c = ~prev;

	pthread_once(&crc_once, crc_init);
#if defined(__x86_64__)
	if (crc_hw_ok)
		return ~crc_hw3(c, p, n);
#endif
	for (; n; n--)
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

