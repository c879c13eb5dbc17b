/*
 * tests/fill_util.h - deterministic test data for the store's tests and
 * bench/stage_bench: fill() for bytes that never repeat across seeds,
 * fill_csv() for CSV rows that compress like real data.
 *
 * Header-only because the Makefile links each test and bench program
 * on its own.
 */
#ifndef POOL_TEST_FILL_UTIL_H
#define POOL_TEST_FILL_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* splitmix64; seeds 2^40 steps apart so no two buffers share bytes */
static inline void fill(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = (seed + 1) << 40;

	for (size_t i = 0; i < n; i += 8) {
		uint64_t z = (x += 0x9e3779b97f4a7c15ULL);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		z ^= z >> 31;
		memcpy(p + i, &z, n - i < 8 ? n - i : 8);
	}
}

/* CSV rows, so the store's compression has something to do. */
static inline void fill_csv(uint8_t *p, size_t n)
{
	size_t row = 0, off = 0;
	char line[160];

	while (off < n) {
		int k = snprintf(line, sizeof(line),
				 "3418021990%08zu,张%zu,138%08zu,安徽省宣城市宣州区梅园路%zu号,宣州区\n",
				 row, row % 977, (row * 7919) % 100000000, row % 3000);
		size_t m = (size_t)k < n - off ? (size_t)k : n - off;

		memcpy(p + off, line, m);
		off += m;
		row++;
	}
}

#endif
