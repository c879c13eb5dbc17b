/*
 * tests/test_chunker.c - content-defined chunking: cuts are local,
 * bounded and deterministic, and the chunker is fast.
 *
 * Prints the measured throughput; it is never asserted (timings belong
 * to make bench, not to tests).
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/chunker.h"
#include "tests/unit_main.h"

#define DATA_LEN	(8u << 20)
#define INSERT_AT	(DATA_LEN / 2 + 12345)
#define INSERT_LEN	100

static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
	rng_state = seed;
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rng() >> 56);
}

/* Cuts of buf as offsets where each chunk ends; returns their count. */
static size_t chunk_all(const uint8_t *buf, size_t len, size_t *ends, size_t max)
{
	size_t pos = 0, n = 0;

	while (pos < len && n < max) {
		size_t c = chunker_next(buf + pos, len - pos, true);

		if (c == 0)
			break;
		pos += c;
		ends[n++] = pos;
	}
	return n;
}

static void test_gear_table(void)
{
	rng_state = 0x706f6f6c66732d31ULL;
	for (int i = 0; i < 256; i++)
		CU_ASSERT_EQUAL_FATAL(chunker_gear[i], rng());
}

static void test_bounds_and_determinism(void)
{
	uint8_t *buf = malloc(DATA_LEN);
	size_t *a = calloc(DATA_LEN / CHUNK_MIN + 2, sizeof(*a));
	size_t *b = calloc(DATA_LEN / CHUNK_MIN + 2, sizeof(*b));
	size_t na, nb, max = DATA_LEN / CHUNK_MIN + 2;

	CU_ASSERT_FATAL(buf && a && b);
	fill_random(buf, DATA_LEN, 1);
	na = chunk_all(buf, DATA_LEN, a, max);
	nb = chunk_all(buf, DATA_LEN, b, max);
	CU_ASSERT_EQUAL(na, nb);
	CU_ASSERT(memcmp(a, b, na * sizeof(*a)) == 0);
	CU_ASSERT_EQUAL(a[na - 1], DATA_LEN);
	for (size_t i = 0; i < na; i++) {
		size_t len = a[i] - (i ? a[i - 1] : 0);

		CU_ASSERT(len <= CHUNK_MAX);
		if (i + 1 < na)
			CU_ASSERT(len >= CHUNK_MIN);
	}
	printf("\n    8 MiB random: %zu chunks, average %zu bytes\n", na, DATA_LEN / na);
	CU_ASSERT(DATA_LEN / na > CHUNK_AVG / 2 && DATA_LEN / na < CHUNK_AVG * 2);

	/* no natural cut in zeros: every chunk is forced at the max */
	memset(buf, 0, DATA_LEN);
	na = chunk_all(buf, DATA_LEN, a, max);
	CU_ASSERT_EQUAL(na, DATA_LEN / CHUNK_MAX);
	free(buf);
	free(a);
	free(b);
}

static void test_incomplete_input(void)
{
	uint8_t *buf = malloc(CHUNK_MAX);

	CU_ASSERT_FATAL(buf != NULL);
	memset(buf, 0, CHUNK_MAX);
	CU_ASSERT_EQUAL(chunker_next(buf, 0, true), 0);
	CU_ASSERT_EQUAL(chunker_next(buf, 1, true), 1);
	CU_ASSERT_EQUAL(chunker_next(buf, 100, false), 0);
	CU_ASSERT_EQUAL(chunker_next(buf, CHUNK_MAX - 1, false), 0);
	CU_ASSERT_EQUAL(chunker_next(buf, CHUNK_MAX - 1, true), CHUNK_MAX - 1);
	CU_ASSERT_EQUAL(chunker_next(buf, CHUNK_MAX, false), CHUNK_MAX);
	free(buf);
}

/* A cut found in a prefix is the same cut found in the whole. */
static void test_streaming_matches_whole(void)
{
	uint8_t *buf = malloc(DATA_LEN);
	size_t pos = 0, whole, part;

	CU_ASSERT_FATAL(buf != NULL);
	fill_random(buf, DATA_LEN, 7);
	while (pos < DATA_LEN) {
		whole = chunker_next(buf + pos, DATA_LEN - pos, true);
		for (size_t win = CHUNK_MIN; win < CHUNK_MAX && win < DATA_LEN - pos;
		     win += 8191) {
			part = chunker_next(buf + pos, win, false);
			CU_ASSERT(part == 0 || part == whole);
			if (part != 0 && part != whole)
				break;
		}
		pos += whole;
	}
	free(buf);
}

static void test_insertion_is_local(void)
{
	size_t max = DATA_LEN / CHUNK_MIN + 2, na, nb, same_before = 0, same_after = 0;
	uint8_t *a = malloc(DATA_LEN), *b = malloc(DATA_LEN + INSERT_LEN);
	size_t *ea = calloc(max, sizeof(*ea)), *eb = calloc(max, sizeof(*eb));
	size_t ia, ib;

	CU_ASSERT_FATAL(a && b && ea && eb);
	fill_random(a, DATA_LEN, 42);
	memcpy(b, a, INSERT_AT);
	memset(b + INSERT_AT, 'x', INSERT_LEN);
	memcpy(b + INSERT_AT + INSERT_LEN, a + INSERT_AT, DATA_LEN - INSERT_AT);
	na = chunk_all(a, DATA_LEN, ea, max);
	nb = chunk_all(b, DATA_LEN + INSERT_LEN, eb, max);

	for (ia = 0; ia < na && ea[ia] <= INSERT_AT; ia++) {
		CU_ASSERT_EQUAL(ea[ia], eb[ia]);
		same_before++;
	}
	/* from the end backwards: cuts after the insertion shift by INSERT_LEN */
	for (ia = na, ib = nb; ia > 1 && ib > 1; ia--, ib--) {
		if (ea[ia - 1] + INSERT_LEN != eb[ib - 1] || eb[ib - 2] < INSERT_AT + INSERT_LEN)
			break;
		same_after++;
	}
	printf("\n    %zu chunks: %zu before and %zu after the insertion kept, %zu new\n",
	       na, same_before, same_after, nb - same_before - same_after);
	CU_ASSERT(same_before + same_after + 2 >= na);
	CU_ASSERT(nb - same_before - same_after <= 3);
	free(a);
	free(b);
	free(ea);
	free(eb);
}

/* The definition, a byte at a time: chunker_next() must cut exactly here. */
static size_t ref_next(const uint8_t *buf, size_t len, bool final)
{
	size_t n = len < CHUNK_MAX ? len : CHUNK_MAX, i = CHUNK_MIN;
	uint64_t fp = 0;

	if (n <= CHUNK_MIN)
		return final ? n : 0;
	for (; i < n; i++) {
		fp = (fp << 1) + chunker_gear[buf[i]];
		if (!(fp & (i < CHUNK_AVG ? ~0ULL << (64 - 17) : ~0ULL << (64 - 14))))
			break;
	}
	i = i < n ? i + 1 : n;
	/* a cut at n is forced, not found, unless the data ends there */
	return i == n && !final && len < CHUNK_MAX ? 0 : i;
}

static void test_matches_definition(void)
{
	size_t len = 4u << 20, pos, bad = 0, cuts = 0;
	uint8_t *buf = malloc(len);

	CU_ASSERT_FATAL(buf != NULL);
	for (uint64_t seed = 1; seed <= 4; seed++) {
		fill_random(buf, len, seed);
		/* runs of one byte value: only forced cuts, at odd and even lengths */
		if (seed == 4)
			memset(buf + len / 2, 'a', len / 4);
		for (pos = 0; pos < len; cuts++) {
			size_t c = chunker_next(buf + pos, len - pos, true);

			bad += c != ref_next(buf + pos, len - pos, true);
			/* every length near the bounds, and odd ones, not final */
			for (size_t l = CHUNK_MIN - 1; l < CHUNK_MIN + 3; l++)
				bad += pos + l <= len &&
				       chunker_next(buf + pos, l, false) != ref_next(buf + pos, l, false);
			for (size_t l = c - 1; l <= c + 1 && l >= CHUNK_MIN; l++)
				bad += pos + l <= len &&
				       chunker_next(buf + pos, l, false) != ref_next(buf + pos, l, false);
			pos += c ? c : len - pos;
		}
	}
	printf("\n    %zu cuts compared with the definition\n    ", cuts);
	CU_ASSERT_EQUAL(bad, 0);
	free(buf);
}

/*
 * The scan's lanes (store/chunker.c) against one chain a byte at a time,
 * under masks of 4 to 16 bits: many cuts to a window, in several lanes
 * at once, at and around the lanes' edges, with an fp carried in and
 * ranges from a few bytes to several windows.
 */
static void test_lanes_match_one_chain(void)
{
	size_t len = 1u << 20, bad = 0, runs = 0, hits = 0;
	uint8_t *buf = malloc(len);

	CU_ASSERT_FATAL(buf != NULL);
	fill_random(buf, len, 11);
	rng_state = 5;
	for (int r = 0; r < 4000; r++) {
		unsigned bits = 4 + (unsigned)(rng() % 13);
		uint64_t mask = ~0ULL << (64 - bits), fp = rng(), f = fp, got_fp = fp;
		size_t from = 64 + (size_t)(rng() % (len / 2)), end, k, got_i = from;
		bool want = false, got;

		end = from + (size_t)(rng() % (r % 4 ? 40000 : 300));
		/* the first scanned byte of a chunk has 64 bytes before it here too */
		for (k = from; k < end; k++) {
			f = (f << 1) + chunker_gear[buf[k]];
			if (!(f & mask)) {
				want = true;
				k++;
				break;
			}
		}
		got = chunker_scan_test(buf, &got_i, end, &got_fp, mask);
		bad += got != want || got_i != k || (!want && got_fp != f);
		hits += want;
		runs++;
	}
	printf("\n    %zu ranges, %zu with a cut\n    ", runs, hits);
	CU_ASSERT(hits > runs / 2);
	CU_ASSERT_EQUAL(bad, 0);
	free(buf);
}

static void test_throughput(void)
{
	size_t len = 64u << 20, pos = 0, n = 0;
	uint8_t *buf = malloc(len);
	struct timespec t0, t1;
	double sec;

	CU_ASSERT_FATAL(buf != NULL);
	fill_random(buf, len, 3);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int round = 0; round < 4; round++, pos = 0)
		while (pos < len) {
			pos += chunker_next(buf + pos, len - pos, true);
			n++;
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("\n    chunker: %.0f MB/s (%zu chunks over 4 x 64 MiB)\n",
	       4.0 * (double)len / sec / 1e6, n);
	free(buf);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "gear table", test_gear_table },
		{ "bounds and determinism", test_bounds_and_determinism },
		{ "incomplete input", test_incomplete_input },
		{ "streaming matches whole", test_streaming_matches_whole },
		{ "insertion is local", test_insertion_is_local },
		{ "cuts match the byte-at-a-time definition", test_matches_definition },
		{ "the scan's lanes find one chain's first cut", test_lanes_match_one_chain },
		{ "throughput", test_throughput },
	};

	return unit_tests_run("chunker", NULL, NULL, tests, UNIT_COUNT(tests));
}
