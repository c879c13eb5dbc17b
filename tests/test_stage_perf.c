/*
 * tests/test_stage_perf.c - speed of writing a file through a stage and
 * committing it, the store's share of DESIGN.md's "sequential write of
 * 1 GiB incl. commit" figure, and checks that the fast sequential path
 * stores exactly what the general path stores.
 *
 * Figures are printed, never asserted. STAGE_PERF_MB sets the size of
 * the timed file (default 1024); the pool lives in STAGE_PERF_DIR, else
 * TMPDIR, else /tmp (use a tmpfs such as /dev/shm to compare with the
 * benchmark's tmpfs references).
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/chunker.h"
#include "store/content.h"
#include "store/internal.h"

static struct store *S;
static char tmpdir[4096];
static char pooldir[4200];
static const struct store_writer W = { 1000, 2000, 42, "gongan", "zhang" };
static uint64_t files;

/* splitmix64; seeds 2^40 steps apart so no two buffers share bytes */
static void fill(uint8_t *p, size_t n, uint64_t seed)
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
static void fill_csv(uint8_t *p, size_t n)
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

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t mkfile(void)
{
	struct store_attr a;
	char name[32];

	snprintf(name, sizeof(name), "f%llu", (unsigned long long)files++);
	CU_ASSERT_EQUAL_FATAL(store_mknode(S, STORE_ROOT_INO, name, STORE_REG, 0644,
					   1000, 2000, NULL, &a), 0);
	return a.ino;
}

static bool content_is(uint64_t ino, const uint8_t *want, size_t len)
{
	struct store_content *c;
	size_t step = 1u << 20;
	uint8_t *got = malloc(step);
	bool ok;

	if (!got || store_content_open(S, ino, 0, &c))
		return free(got), false;
	ok = store_content_size(c) == len;
	for (size_t off = 0; ok && off < len; off += step) {
		size_t n = len - off < step ? len - off : step;

		ok = store_content_read(c, got, n, off) == (ssize_t)n && !memcmp(got, want + off, n);
	}
	store_content_close(c);
	free(got);
	return ok;
}

static void content_id(uint64_t ino, uint8_t id[32])
{
	struct store_content *c;

	CU_ASSERT_EQUAL_FATAL(store_content_open(S, ino, 0, &c), 0);
	store_content_id(c, id);
	store_content_close(c);
}

/* Writes buf to a new file in req-byte requests, commits, prints figures. */
static void timed_write(const char *what, const uint8_t *buf, size_t len, size_t req)
{
	uint64_t ino = mkfile(), v = 0;
	struct store_stage *st;
	double t0, t1, t2;

	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, ino, &st), 0);
	t0 = now();
	for (size_t off = 0; off < len; off += req) {
		size_t n = len - off < req ? len - off : req;

		if (store_stage_write(st, buf + off, n, off)) {
			CU_FAIL("stage write");
			break;
		}
	}
	t1 = now();
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	t2 = now();
	store_stage_close(st);
	printf("\n    %s, %zu MiB in %zu KiB writes: writes %.0f MB/s, commit %.3f s,"
	       " total %.0f MB/s", what, len >> 20, req >> 10, (double)len / (t1 - t0) / 1e6,
	       t2 - t1, (double)len / (t2 - t0) / 1e6);
	CU_ASSERT_EQUAL(v, 1);
	CU_ASSERT(content_is(ino, buf, len));
}

static size_t perf_len(void)
{
	const char *e = getenv("STAGE_PERF_MB");
	unsigned long mb = e ? strtoul(e, NULL, 10) : 1024;

	return (size_t)(mb ? mb : 1) << 20;
}

static void test_sequential_random(void)
{
	size_t len = perf_len();
	uint8_t *buf = malloc(len);

	CU_ASSERT_FATAL(buf != NULL);
	fill(buf, len, 1);
	timed_write("random bytes", buf, len, 1u << 20);
	fill(buf, len, 2);
	timed_write("random bytes", buf, len, 128u << 10);
	printf("\n    ");
	free(buf);
}

static void test_sequential_csv(void)
{
	size_t len = perf_len();
	uint8_t *buf = malloc(len);

	CU_ASSERT_FATAL(buf != NULL);
	fill_csv(buf, len);
	timed_write("csv rows", buf, len, 1u << 20);
	printf("\n    ");
	free(buf);
}

/*
 * The same bytes written in order and in reverse order of 100 KiB pieces
 * (which no fast path can take) give the same content id: the chunks
 * are the same whatever path stored them.
 */
static void test_paths_agree(void)
{
	size_t len = (24u << 20) + 12345, piece = 100000;
	uint8_t *buf = malloc(len), id1[32], id2[32];
	uint64_t a = mkfile(), b = mkfile(), v;
	struct store_stage *st;

	CU_ASSERT_FATAL(buf != NULL);
	fill(buf, len, 3);
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, a, &st), 0);
	for (size_t off = 0; off < len; off += piece)
		CU_ASSERT_EQUAL(store_stage_write(st, buf + off, len - off < piece ? len - off : piece,
						  off), 0);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	store_stage_close(st);

	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, b, &st), 0);
	for (size_t k = (len + piece - 1) / piece; k-- > 0; ) {
		size_t off = k * piece;

		CU_ASSERT_EQUAL(store_stage_write(st, buf + off, len - off < piece ? len - off : piece,
						  off), 0);
	}
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	store_stage_close(st);

	content_id(a, id1);
	content_id(b, id2);
	CU_ASSERT(!memcmp(id1, id2, 32));
	CU_ASSERT(content_is(a, buf, len));
	CU_ASSERT(content_is(b, buf, len));
	free(buf);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int suite_init(void)
{
	const char *base = getenv("STAGE_PERF_DIR");

	if (!base)
		base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_stage_perf.XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(pooldir, sizeof(pooldir), "%s/pool", tmpdir);
	if (store_create(pooldir, NULL) || store_open(pooldir, 0, &S, NULL))
		return -1;
	return 0;
}

static int suite_clean(void)
{
	store_close(S);
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{ "sequential write and commit, random bytes", test_sequential_random },
		{ "sequential write and commit, csv", test_sequential_csv },
		{ "in order and out of order store the same", test_paths_agree },
	};
	CU_pSuite suite;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("stage_perf", suite_init, suite_clean);
	for (size_t i = 0; suite && i < sizeof(tests) / sizeof(tests[0]); i++)
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			suite = NULL;
	if (!suite) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed() +
		 CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
