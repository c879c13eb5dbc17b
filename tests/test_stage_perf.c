/*
 * tests/test_stage_perf.c - the sequential write path of a stage: that a
 * file written in order and committed reads back whole, that the path
 * stores exactly the chunks the general path stores, and its hand-over
 * to that path on a write out of order, a read, a truncate, an append to
 * an existing file and an abandoned stage. Its speed is measured by
 * bench/stage_bench.c (make bench), not here.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "store/chunker.h"
#include "store/content.h"
#include "store/internal.h"
#include "tests/store_util.h"
#include "tests/fill_util.h"
#include "tests/unit_main.h"

static const struct store_writer W = { 1000, 2000, 42, "gongan", "zhang" };
static uint64_t files;

static uint64_t mkfile(void)
{
	struct store_attr a;
	char name[32];

	snprintf(name, sizeof(name), "f%llu", (unsigned long long)files++);
	CU_ASSERT_EQUAL_FATAL(store_mknode(S, STORE_ROOT_INO, name, STORE_REG, 0644,
					   1000, 2000, NULL, &a, NULL), 0);
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

/* Writes buf to a new file in req-byte requests and commits: one version, read back whole. */
static void seq_write(const uint8_t *buf, size_t len, size_t req)
{
	uint64_t ino = mkfile(), v = 0;
	struct store_stage *st;

	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, ino, &st), 0);
	for (size_t off = 0; off < len; off += req) {
		size_t n = len - off < req ? len - off : req;

		if (store_stage_write(st, buf + off, n, off)) {
			CU_FAIL("stage write");
			break;
		}
	}
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	store_stage_close(st);
	CU_ASSERT_EQUAL(v, 1);
	CU_ASSERT(content_is(ino, buf, len));
}

/* Large enough for a thousand chunks and many 1 MiB requests. */
#define SEQ_LEN	((size_t)64 << 20)

static void test_sequential_random(void)
{
	size_t len = SEQ_LEN;
	uint8_t *buf = malloc(len);

	CU_ASSERT_FATAL(buf != NULL);
	fill(buf, len, 1);
	seq_write(buf, len, 1u << 20);
	fill(buf, len, 2);
	seq_write(buf, len, 128u << 10);
	free(buf);
}

static void test_sequential_csv(void)
{
	size_t len = SEQ_LEN;
	uint8_t *buf = malloc(len);

	CU_ASSERT_FATAL(buf != NULL);
	fill_csv(buf, len);
	seq_write(buf, len, 1u << 20);
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

/* ---- handing over to the spill path ---- */

/* Writes buf in pieces from the last to the first: never in order. */
static void write_reverse(uint64_t ino, const uint8_t *buf, size_t len)
{
	size_t piece = 100000;
	struct store_stage *st;
	uint64_t v;

	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, ino, &st), 0);
	for (size_t k = (len + piece - 1) / piece; k-- > 0; ) {
		size_t off = k * piece;

		CU_ASSERT_EQUAL(store_stage_write(st, buf + off, len - off < piece ? len - off : piece,
						  off), 0);
	}
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	store_stage_close(st);
}

/* ino holds want, chunk for chunk as the spill path would store it. */
static void expect_stored(uint64_t ino, const uint8_t *want, size_t len)
{
	uint64_t ref = mkfile();
	uint8_t id1[32], id2[32];

	write_reverse(ref, want, len);
	content_id(ino, id1);
	content_id(ref, id2);
	CU_ASSERT(!memcmp(id1, id2, 32));
	CU_ASSERT(content_is(ino, want, len));
}

static void put(struct store_stage *st, const uint8_t *buf, uint64_t from, uint64_t to)
{
	for (uint64_t off = from; off < to; off += 1u << 20) {
		size_t n = to - off < (1u << 20) ? (size_t)(to - off) : 1u << 20;

		CU_ASSERT_EQUAL(store_stage_write(st, buf + off, n, off), 0);
	}
}

/* How many of the chunks of buf (cut as a whole file) are stored. */
static size_t chunks_stored(const uint8_t *buf, size_t len)
{
	size_t n = 0, c;
	uint8_t key[33] = { 'c' };

	for (size_t off = 0; off < len; off += c) {
		rocksdb_pinnableslice_t *ps;
		char *err = NULL;

		c = chunker_next(buf + off, len - off, true);
		SHA256(buf + off, c, key + 1);
		ps = rocksdb_get_pinned_cf(S->db, S->ropt, S->cf[CF_CHUNKS], (const char *)key,
					   sizeof(key), &err);
		CU_ASSERT(err == NULL);
		rocksdb_free(err);
		n += ps != NULL;
		if (ps)
			rocksdb_pinnableslice_destroy(ps);
	}
	return n;
}

static void test_out_of_order_midway(void)
{
	size_t len = (12u << 20) + 777;
	uint8_t *buf = malloc(len);
	uint64_t ino = mkfile(), v;
	struct store_stage *st;

	CU_ASSERT_FATAL(buf != NULL);
	fill(buf, len, 10);
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, ino, &st), 0);
	put(st, buf, 0, (6u << 20) + 4321);
	memcpy(buf + 1000, "patched", 7);
	CU_ASSERT_EQUAL(store_stage_write(st, "patched", 7, 1000), 0);
	put(st, buf, (6u << 20) + 4321, len);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	store_stage_close(st);
	expect_stored(ino, buf, len);
	free(buf);
}

static void test_read_during_run(void)
{
	size_t len = 9u << 20, mid = (5u << 20) + 99;
	uint8_t *buf = malloc(len), got[8192];
	uint64_t ino = mkfile(), v;
	struct store_stage *st;

	CU_ASSERT_FATAL(buf != NULL);
	fill(buf, len, 11);
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, ino, &st), 0);
	put(st, buf, 0, mid);
	CU_ASSERT_EQUAL(store_stage_read(st, got, sizeof(got), 100), (ssize_t)sizeof(got));
	CU_ASSERT(!memcmp(got, buf + 100, sizeof(got)));
	CU_ASSERT_EQUAL(store_stage_read(st, got, sizeof(got), mid - 10), 10);
	CU_ASSERT(!memcmp(got, buf + mid - 10, 10));
	put(st, buf, mid, len);
	CU_ASSERT_EQUAL(store_stage_read(st, got, sizeof(got), len - 5000), 5000);
	CU_ASSERT(!memcmp(got, buf + len - 5000, 5000));
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	store_stage_close(st);
	expect_stored(ino, buf, len);
	free(buf);
}

static void test_truncate_during_run(void)
{
	size_t len = (3u << 20) + 500000, cut = (3u << 19) + 5;
	uint8_t *buf = malloc(len), *want = malloc(len);
	uint64_t ino = mkfile(), v;
	struct store_stage *st;

	CU_ASSERT_FATAL(buf && want);
	fill(buf, len, 12);
	fill(want + cut, len - cut, 13);
	memcpy(want, buf, cut);
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, ino, &st), 0);
	put(st, buf, 0, 3u << 20);
	CU_ASSERT_EQUAL(store_stage_truncate(st, cut), 0);
	CU_ASSERT_EQUAL(store_stage_write(st, want + cut, len - cut, cut), 0);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	store_stage_close(st);
	expect_stored(ino, want, len);
	free(buf);
	free(want);
}

/*
 * Appending to a stored file, and truncating into its middle and writing
 * on, start the run at the base chunk holding the end: only that chunk
 * and the new bytes are chunked.
 */
static void test_append_to_stored(void)
{
	size_t len = 15u << 20, old = 10u << 20, cut = (7u << 20) + 123;
	uint8_t *buf = malloc(len), *want = malloc(len);
	uint64_t a = mkfile(), b = mkfile(), v, scanned;
	struct store_stage *st;

	CU_ASSERT_FATAL(buf && want);
	fill(buf, len, 14);
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, a, &st), 0);
	put(st, buf, 0, old);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	store_stage_close(st);

	scanned = chunker_scanned();
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, a, &st), 0);
	put(st, buf, old, len);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	store_stage_close(st);
	scanned = chunker_scanned() - scanned;
	CU_ASSERT(scanned <= len - old + CHUNK_MAX);
	printf("\n    append 5 MiB to 10 MiB: %llu bytes chunked",
	       (unsigned long long)scanned);
	expect_stored(a, buf, len);

	/* b: the first 10 MiB, cut back inside a chunk, then other bytes */
	memcpy(want, buf, cut);
	fill(want + cut, len - cut, 15);
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, b, &st), 0);
	put(st, buf, 0, old);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	store_stage_close(st);
	scanned = chunker_scanned();
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, b, &st), 0);
	CU_ASSERT_EQUAL(store_stage_truncate(st, cut), 0);
	put(st, want, cut, len);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	/* the stage goes on after a commit */
	CU_ASSERT_EQUAL(store_stage_write(st, "tail", 4, len - 4), 0);
	memcpy(want + len - 4, "tail", 4);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	store_stage_close(st);
	scanned = chunker_scanned() - scanned;
	CU_ASSERT(scanned <= len - cut + 3 * CHUNK_MAX);
	printf(", cut to 7 MiB and rewrite 8 MiB: %llu\n    ", (unsigned long long)scanned);
	expect_stored(b, want, len);
	free(buf);
	free(want);
}

static void test_abandoned_stage(void)
{
	size_t len = 6u << 20;
	uint8_t *buf = malloc(len);
	uint64_t ino = mkfile();
	struct store_stage *st;

	CU_ASSERT_FATAL(buf != NULL);
	fill(buf, len, 16);
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, ino, &st), 0);
	put(st, buf, 0, len);
	store_stage_close(st);
	CU_ASSERT_EQUAL(chunks_stored(buf, len), 0);

	/* and after handing over to the spill path */
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, ino, &st), 0);
	put(st, buf, 0, len);
	CU_ASSERT_EQUAL(store_stage_write(st, "x", 1, 10), 0);
	store_stage_close(st);
	CU_ASSERT_EQUAL(chunks_stored(buf, len), 0);

	/* while a committed file keeps them */
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, ino, &st), 0);
	put(st, buf, 0, len);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &(uint64_t){ 0 }), 0);
	store_stage_close(st);
	CU_ASSERT(chunks_stored(buf, len) > 50);
	free(buf);
}

static int suite_init(void)
{
	return store_suite_init("stage_perf");
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "sequential write and commit, random bytes", test_sequential_random },
		{ "sequential write and commit, csv", test_sequential_csv },
		{ "in order and out of order store the same", test_paths_agree },
		{ "a write out of order midway", test_out_of_order_midway },
		{ "reads during a sequential run", test_read_during_run },
		{ "truncate during a sequential run", test_truncate_during_run },
		{ "appends to stored files", test_append_to_stored },
		{ "an abandoned stage leaves no chunks", test_abandoned_stage },
	};

	return unit_tests_run("stage_perf", suite_init, store_suite_clean, tests, UNIT_COUNT(tests));
}
