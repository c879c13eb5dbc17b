/*
 * tests/test_content.c - file content, versions and commits: chunk
 * dedupe and refcounts, read-back at many sizes, sparse writes and
 * truncation, re-chunking only around changes, restore, as-of lookups,
 * and a file that survives kill -9 in the middle of commits.
 *
 * Measured figures (one-row change bytes, append re-chunk bytes) are
 * printed; limits from DESIGN.md are asserted, timings never are.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/codec.h"
#include "store/chunker.h"
#include "store/content.h"
#include "store/internal.h"
#include "tests/store_util.h"
#include "tests/crash_util.h"
#include "tests/fill_util.h"
#include "tests/refs_util.h"
#include "tests/unit_main.h"

static const struct store_writer W = { 1000, 2000, 42, "gongan", "zhang" };

/* ---- helpers ---- */

static uint8_t *random_buf(size_t n, uint64_t seed)
{
	uint8_t *p = malloc(n ? n : 1);

	if (p)
		fill(p, n, seed);
	return p;
}

static uint64_t mkfile(const char *name)
{
	struct store_attr a;
	int ret = store_mknode(S, STORE_ROOT_INO, name, STORE_REG, 0644, 1000, 2000, NULL, &a, NULL);

	CU_ASSERT_EQUAL_FATAL(ret, 0);
	return a.ino;
}

static int stage_put(struct store_stage *st, const uint8_t *buf, size_t len, uint64_t off)
{
	for (size_t done = 0; done < len; ) {
		size_t n = len - done < (1u << 20) ? len - done : (1u << 20);
		int ret = store_stage_write(st, buf + done, n, off + done);

		if (ret)
			return ret;
		done += n;
	}
	return 0;
}

/* Replaces the content of ino with buf; returns the new version. */
static uint64_t write_file(uint64_t ino, const uint8_t *buf, size_t len)
{
	struct store_stage *st;
	uint64_t v = 0;

	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, ino, &st), 0);
	CU_ASSERT_EQUAL(store_stage_truncate(st, 0), 0);
	CU_ASSERT_EQUAL(stage_put(st, buf, len, 0), 0);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	store_stage_close(st);
	return v;
}

/* Reads version of ino with requests of step bytes and compares. */
static bool content_is(uint64_t ino, uint64_t version, const uint8_t *want, size_t len,
		       size_t step)
{
	struct store_content *c;
	uint8_t *got = malloc(len + 1);
	size_t off = 0;
	bool ok;

	if (!got || store_content_open(S, ino, version, &c))
		return free(got), false;
	ok = store_content_size(c) == len;
	while (ok && off < len) {
		ssize_t n = store_content_read(c, got + off, step, off);

		ok = n > 0;
		off += n > 0 ? (size_t)n : 0;
	}
	ok = ok && store_content_read(c, got, 1, len) == 0 && !memcmp(got, want, len);
	store_content_close(c);
	free(got);
	return ok;
}

static struct store_stats stats(void)
{
	struct store_stats st;

	CU_ASSERT_EQUAL(store_stats(S, &st), 0);
	return st;
}

/* Bytes of all chunk-list pages, for the per-change overhead. */
static uint64_t page_bytes(void)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(S->db, S->ropt, S->cf[CF_CHUNKS]);
	uint64_t total = 0;

	for (rocksdb_iter_seek(it, "p", 1); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);

		if (k[0] != 'p')
			break;
		rocksdb_iter_value(it, &vlen);
		total += vlen;
	}
	rocksdb_iter_destroy(it);
	return total;
}

static uint64_t refcount(char kind, const uint8_t sha[32])
{
	struct strbuf v = STRBUF_INIT;
	uint8_t key[33] = { (uint8_t)kind };
	uint64_t n = 0;

	memcpy(key + 1, sha, 32);
	if (!store_get(S, CF_REFS, key, sizeof(key), &v) && v.len >= 8)
		n = get_be64((const uint8_t *)v.buf);
	strbuf_release(&v);
	return n;
}

/* The refcount invariant, checked from scratch (tests/refs_util.h). */
static bool refs_consistent(void)
{
	struct ref_expect e = { 0 };

	ref_expect_build(&e, false);
	return ref_rows_match(&e, false, NULL);
}

/* ---- tests ---- */

static void test_sizes(void)
{
	static const size_t sizes[] = { 0, 1, CHUNK_MIN - 1, CHUNK_AVG, (1u << 20) + 7, 20u << 20 };
	static const size_t steps[] = { 4096, 1u << 20, 12345 };
	char name[32];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *buf = random_buf(sizes[i], i);
		uint64_t ino, v;

		snprintf(name, sizeof(name), "size%zu", i);
		ino = mkfile(name);
		CU_ASSERT(content_is(ino, 0, buf, 0, 4096));	/* never written: empty */
		v = write_file(ino, buf, sizes[i]);
		/* writing nothing to an empty file changes nothing: no version */
		CU_ASSERT_EQUAL(v, sizes[i] ? 1 : 0);
		for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++)
			CU_ASSERT(content_is(ino, 0, buf, sizes[i], steps[k]));
		CU_ASSERT(content_is(ino, v, buf, sizes[i], 65536));
		free(buf);
	}
}

static void test_dedupe_and_refcounts(void)
{
	size_t len = 3u << 20;
	uint8_t *buf = random_buf(len, 100);
	struct store_content *c;
	struct store_stats a, b;
	const struct chunk_list *l;
	uint64_t f1 = mkfile("dup1"), f2 = mkfile("dup2");
	uint8_t id1[32], id2[32];

	write_file(f1, buf, len);
	a = stats();
	write_file(f2, buf, len);
	b = stats();
	CU_ASSERT_EQUAL(b.stored_bytes, a.stored_bytes);
	CU_ASSERT_EQUAL(b.chunks, a.chunks);
	CU_ASSERT_EQUAL(b.versions, a.versions + 1);
	CU_ASSERT_EQUAL(b.logical_bytes, a.logical_bytes + len);

	CU_ASSERT_EQUAL_FATAL(store_content_open(S, f1, 0, &c), 0);
	store_content_id(c, id1);
	l = content_chunks(c);
	CU_ASSERT(l->n > 10);
	/* one stored page lists each chunk; the page is counted by both versions */
	for (size_t i = 0; i < l->n; i++)
		CU_ASSERT_EQUAL(refcount('c', l->v[i].sha), 1);
	store_content_close(c);
	CU_ASSERT_EQUAL_FATAL(store_content_open(S, f2, 0, &c), 0);
	store_content_id(c, id2);
	store_content_close(c);
	CU_ASSERT(!memcmp(id1, id2, 32));

	/* a chunk twice in one file is stored once and counted twice */
	memcpy(buf + len / 2, buf, len / 2);
	write_file(f2, buf, len);
	a = b;
	b = stats();
	CU_ASSERT(b.stored_bytes - a.stored_bytes < 3 * CHUNK_MAX);
	CU_ASSERT(refs_consistent());
	CU_ASSERT(content_is(f2, 2, buf, len, 65536));
	free(buf);
}

static void test_sparse_and_truncate(void)
{
	uint64_t ino = mkfile("sparse"), v;
	size_t len = 600000;
	uint8_t *base = random_buf(len, 5), *want = calloc(1, 11u << 20), *got = malloc(11u << 20);
	struct store_stage *st;

	CU_ASSERT_FATAL(base && want && got);
	write_file(ino, base, len);
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, ino, &st), 0);
	CU_ASSERT_FALSE(store_stage_dirty(st));
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	CU_ASSERT_EQUAL(v, 1);				/* clean: nothing committed */

	/* down to 1000, up to 300000: base bytes past 1000 read as zeros */
	CU_ASSERT_EQUAL(store_stage_truncate(st, 1000), 0);
	CU_ASSERT_EQUAL(store_stage_truncate(st, 300000), 0);
	CU_ASSERT_EQUAL(store_stage_write(st, "hello", 5, 10u << 20), 0);
	CU_ASSERT_EQUAL(store_stage_write(st, "xy", 2, 200000), 0);
	memcpy(want, base, 1000);
	memcpy(want + 200000, "xy", 2);
	memcpy(want + (10u << 20), "hello", 5);
	CU_ASSERT_EQUAL(store_stage_size(st), (10u << 20) + 5);
	CU_ASSERT_EQUAL(store_stage_read(st, got, 11u << 20, 0), (10 << 20) + 5);
	CU_ASSERT(!memcmp(got, want, (10u << 20) + 5));
	CU_ASSERT_EQUAL(store_stage_read(st, got, 10, 199998), 10);
	CU_ASSERT(!memcmp(got, want + 199998, 10));
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	CU_ASSERT_EQUAL(v, 2);
	CU_ASSERT(content_is(ino, 2, want, (10u << 20) + 5, 1u << 20));
	CU_ASSERT(content_is(ino, 1, base, len, 4096));

	/* the stage goes on from the committed version */
	CU_ASSERT_FALSE(store_stage_dirty(st));
	CU_ASSERT_EQUAL(store_stage_truncate(st, 100), 0);
	CU_ASSERT_EQUAL(store_stage_write(st, "Z", 1, 50), 0);
	want[50] = 'Z';
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	CU_ASSERT_EQUAL(v, 3);
	CU_ASSERT(content_is(ino, 0, want, 100, 7));
	store_stage_close(st);
	free(base);
	free(want);
	free(got);
}

static void test_stage_read_through(void)
{
	size_t len = 2u << 20;
	uint8_t *buf = random_buf(len, 9), *got = malloc(len);
	uint64_t ino = mkfile("through"), v;
	struct store_stage *st;

	CU_ASSERT_FATAL(buf && got);
	write_file(ino, buf, len);
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, ino, &st), 0);
	CU_ASSERT_EQUAL(store_stage_write(st, "abc", 3, 1000000), 0);
	CU_ASSERT_EQUAL(store_stage_write(st, "def", 3, 1000003), 0);
	CU_ASSERT_EQUAL(store_stage_write(st, "Q", 1, 999999), 0);
	CU_ASSERT(content_is(ino, 0, buf, len, 65536));	/* not committed yet */
	memcpy(buf + 999999, "Qabcdef", 7);
	CU_ASSERT_EQUAL(store_stage_read(st, got, len, 0), (ssize_t)len);
	CU_ASSERT(!memcmp(got, buf, len));
	for (size_t off = 0; off < len; off += 99991) {
		CU_ASSERT_EQUAL(store_stage_read(st, got, 5000, off),
				(ssize_t)(len - off < 5000 ? len - off : 5000));
		CU_ASSERT(!memcmp(got, buf + off, len - off < 5000 ? len - off : 5000));
	}
	CU_ASSERT_EQUAL(store_stage_read(st, got, 10, len), 0);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	CU_ASSERT(content_is(ino, v, buf, len, 4096));
	store_stage_close(st);
	free(buf);
	free(got);
}

/* ~64 MiB of CSV rows shaped like a population table. */
static size_t make_csv(struct strbuf *sb, size_t target)
{
	size_t rows = 0;

	strbuf_addstr(sb, "身份证号,姓名,手机号,住址,区县\n");
	while (sb->len < target) {
		strbuf_addf(sb, "3418021990%08zu,张%zu,138%08zu,安徽省宣城市宣州区梅园路%zu号,宣州区\n",
			    rows, rows % 977, (rows * 7919) % 100000000, rows % 3000);
		rows++;
	}
	return rows;
}

static void test_one_row_change(void)
{
	struct strbuf csv = STRBUF_INIT, edited = STRBUF_INIT;
	uint64_t ino = mkfile("people.csv"), pages0, pages1, v;
	struct store_stats a, b;
	struct store_stage *st;
	struct timespec t0, t1;
	char *row;

	make_csv(&csv, 64u << 20);
	write_file(ino, (const uint8_t *)csv.buf, csv.len);

	/* in place: one phone number rewritten by a write at its offset */
	row = strstr(csv.buf + csv.len / 2, "\n") + 1;
	row = strchr(strchr(row, ',') + 1, ',') + 1;
	a = stats();
	pages0 = page_bytes();
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, ino, &st), 0);
	CU_ASSERT_EQUAL(store_stage_write(st, "13900000000", 11, (uint64_t)(row - csv.buf)), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	store_stage_close(st);
	memcpy(row, "13900000000", 11);
	b = stats();
	pages1 = page_bytes();
	printf("\n    64 MiB csv, one row changed in place: %llu chunk bytes + %llu page bytes new,"
	       " commit %.1f ms\n", (unsigned long long)(b.stored_bytes - a.stored_bytes),
	       (unsigned long long)(pages1 - pages0),
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	CU_ASSERT(b.stored_bytes - a.stored_bytes + pages1 - pages0 <= 256u * 1024);
	CU_ASSERT(content_is(ino, v, (const uint8_t *)csv.buf, csv.len, 1u << 20));

	/* rewritten whole, as an ETL job does, with a row inserted mid-file */
	strbuf_add(&edited, csv.buf, (size_t)(row - csv.buf));
	strbuf_addstr(&edited, "13900000001,新增,13800000000,宣州区某路1号,宣州区\n");
	strbuf_add(&edited, row, csv.len - (size_t)(row - csv.buf));
	a = b;
	pages0 = pages1;
	v = write_file(ino, (const uint8_t *)edited.buf, edited.len);
	b = stats();
	pages1 = page_bytes();
	printf("    64 MiB csv, rewritten with a row inserted: %llu chunk bytes + %llu page bytes new\n",
	       (unsigned long long)(b.stored_bytes - a.stored_bytes),
	       (unsigned long long)(pages1 - pages0));
	CU_ASSERT(b.stored_bytes - a.stored_bytes + pages1 - pages0 <= 256u * 1024);
	CU_ASSERT(content_is(ino, v, (const uint8_t *)edited.buf, edited.len, 1u << 20));
	strbuf_release(&csv);
	strbuf_release(&edited);
}

static void test_append_rechunks_tail(void)
{
	size_t len = 32u << 20;
	uint8_t *buf = random_buf(len + 100, 77);
	uint64_t ino = mkfile("append"), v, before, scanned;
	struct store_stage *st;
	struct timespec t0, t1;

	CU_ASSERT_FATAL(buf != NULL);
	write_file(ino, buf, len);
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, ino, &st), 0);
	CU_ASSERT_EQUAL(store_stage_write(st, buf + len, 100, len), 0);
	before = chunker_scanned();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	scanned = chunker_scanned() - before;
	printf("\n    append 100 bytes to 32 MiB: %llu bytes re-chunked, commit %.1f ms\n",
	       (unsigned long long)scanned,
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	CU_ASSERT(scanned <= CHUNK_MAX + 100);
	store_stage_close(st);
	CU_ASSERT(content_is(ino, v, buf, len + 100, 1u << 20));
	free(buf);
}

static int count_cb(void *arg, const struct store_version_info *v)
{
	(*(int *)arg)++;
	return 0;
}

static void test_restore_and_versions(void)
{
	size_t len = 500000;
	uint8_t *a = random_buf(len, 1000), *b = random_buf(len / 2, 1001);
	uint64_t ino = mkfile("restore"), v, nv;
	struct store_version_info i1, i3;
	struct store_stats s0, s1;
	struct timespec between, before = { 1, 0 };
	struct audit_rec audit = { .uid = 1000, .op = "restore", .path = "/restore" };
	int n = 0;

	CU_ASSERT_FATAL(a && b);
	write_file(ino, a, len);
	clock_gettime(CLOCK_REALTIME, &between);
	write_file(ino, b, len / 2);
	s0 = stats();
	CU_ASSERT_EQUAL(store_restore(S, ino, 1, &W, &audit, &nv), 0);
	CU_ASSERT_EQUAL(nv, 3);
	s1 = stats();
	CU_ASSERT_EQUAL(s1.stored_bytes, s0.stored_bytes);	/* nothing rewritten */
	CU_ASSERT(content_is(ino, 0, a, len, 4096));
	CU_ASSERT(content_is(ino, 2, b, len / 2, 4096));
	CU_ASSERT_EQUAL(store_restore(S, ino, 9, &W, NULL, &nv), -ENOENT);

	CU_ASSERT_EQUAL(store_version_get(S, ino, 1, &i1), 0);
	CU_ASSERT_EQUAL(store_version_get(S, ino, 3, &i3), 0);
	CU_ASSERT(!memcmp(i1.content_id, i3.content_id, 32));
	CU_ASSERT_EQUAL(i3.size, len);
	CU_ASSERT_STRING_EQUAL(i3.writer, "gongan/zhang");
	CU_ASSERT_EQUAL(i3.uid, 1000);
	CU_ASSERT_EQUAL(store_versions(S, ino, count_cb, &n), 0);
	CU_ASSERT_EQUAL(n, 3);

	CU_ASSERT_EQUAL(store_version_at(S, ino, &between, &v), 0);
	CU_ASSERT_EQUAL(v, 1);
	CU_ASSERT_EQUAL(store_version_at(S, ino, &before, &v), -ENOENT);
	clock_gettime(CLOCK_REALTIME, &between);
	CU_ASSERT_EQUAL(store_version_at(S, ino, &between, &v), 0);
	CU_ASSERT_EQUAL(v, 3);
	CU_ASSERT(refs_consistent());
	free(a);
	free(b);
}

static void test_rename_over(void)
{
	uint8_t *a = random_buf(300000, 31), *b = random_buf(1000, 32);
	uint64_t src = mkfile("tmp.csv"), dst = mkfile("final.csv"), got;
	struct store_attr attr;

	write_file(src, a, 300000);
	write_file(dst, b, 1000);
	CU_ASSERT_EQUAL(store_rename(S, STORE_ROOT_INO, "tmp.csv", STORE_ROOT_INO, "final.csv",
				     0, &W, &got, NULL), 0);
	CU_ASSERT_EQUAL(got, dst);
	CU_ASSERT_EQUAL(store_getattr(S, dst, &attr), 0);
	CU_ASSERT_EQUAL(attr.version, 2);
	CU_ASSERT_EQUAL(attr.size, 300000);
	CU_ASSERT(content_is(dst, 0, a, 300000, 4096));
	CU_ASSERT(content_is(dst, 1, b, 1000, 4096));
	CU_ASSERT(refs_consistent());
	free(a);
	free(b);
}

struct reader {
	struct store_content *c;
	const uint8_t *want;
	size_t len;
	unsigned seed;
	int bad;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	uint8_t got[9000];

	for (int i = 0; i < 2000; i++) {
		size_t off = (size_t)rand_r(&r->seed) % r->len, n = (size_t)rand_r(&r->seed) % 9000;
		ssize_t k = store_content_read(r->c, got, n, off);

		if (k < 0 || memcmp(got, r->want + off, (size_t)k))
			r->bad++;
	}
	return NULL;
}

static void test_parallel_reads(void)
{
	size_t len = 4u << 20;
	uint8_t *buf = random_buf(len, 55);
	uint64_t ino = mkfile("parallel");
	struct reader r[4];
	pthread_t t[4];
	struct store_content *c;

	write_file(ino, buf, len);
	CU_ASSERT_EQUAL_FATAL(store_content_open(S, ino, 0, &c), 0);
	for (int i = 0; i < 4; i++) {
		r[i] = (struct reader){ c, buf, len, (unsigned)i + 1, 0 };
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, reader_main, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT_EQUAL(r[i].bad, 0);
	}
	store_content_close(c);
	free(buf);
}

/* ---- crash ---- */

#define CRASH_MAX	(21u << 20)

/*
 * Version i of the crash file: 8 bytes of i, then bytes seeded by i.
 * Every third is over one 8 MiB chunk batch, so its chunks skip the WAL
 * and are flushed before the commit (store/chunk_writer.c).
 */
static size_t crash_content(uint64_t i, uint8_t *buf)
{
	size_t len = i % 3 == 2 ? (20u << 20) + (size_t)(i * 7919 % 1000000)
				: 100000 + (size_t)(i * 7919 % 400000);

	fill(buf, len, i + 12345);
	put_be64(buf, i);
	return len;
}

/*
 * Runs in a fresh exec of this binary (see main()): commits versions
 * until killed, writing one byte to fd after each (tests/crash_util.h).
 */
static int crash_child(uint64_t ino, uint64_t first, int fd)
{
	struct store *s;
	uint8_t *buf = malloc(CRASH_MAX);
	struct audit_rec audit = { .uid = 1000, .op = "write", .path = "/crash" };

	if (!buf || store_open(pooldir, 0, &s, NULL))
		_exit(2);
	for (uint64_t i = first; ; i++) {
		struct store_stage *st;
		size_t len = crash_content(i, buf);
		uint64_t v;

		if (store_stage_open(s, ino, &st) || store_stage_truncate(st, 0) ||
		    store_stage_write(st, buf, len, 0) ||
		    store_stage_commit(st, &W, &audit, &v))
			_exit(3);
		store_stage_close(st);
		if (write(fd, "c", 1) != 1)
			_exit(5);
	}
}

static void test_crash(void)
{
	uint8_t *want = malloc(CRASH_MAX);
	uint64_t ino = mkfile("crash"), next = 0, commits = 0;
	unsigned seed = (unsigned)time(NULL);

	CU_ASSERT_FATAL(want != NULL);
	for (int round = 0; round < 10; round++) {
		struct store_content *c;
		struct store_attr attr;
		uint8_t head[8];
		int status, fds[2], k;
		pid_t pid;

		store_close(S);
		S = NULL;
		CU_ASSERT_FATAL(pipe(fds) == 0);
		pid = fork();
		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0) {
			/*
			 * exec, not just fork: RocksDB's background threads live
			 * in a process-wide Env and do not survive fork(), so a
			 * forked child's flush would wait for them forever.
			 */
			char a1[32], a2[32], a3[16];

			close(fds[0]);
			snprintf(a1, sizeof(a1), "%llu", (unsigned long long)ino);
			snprintf(a2, sizeof(a2), "%llu", (unsigned long long)next);
			snprintf(a3, sizeof(a3), "%d", fds[1]);
			execl("/proc/self/exe", "test_content", "--crash-child", pooldir, a1, a2,
			      a3, (char *)NULL);
			_exit(4);
		}
		close(fds[1]);
		/* after 1 to 3 commits: somewhere in the next (every third is 20 MiB) */
		k = 1 + (int)(rand_r(&seed) % 3);
		CU_ASSERT(crash_wait(fds[0], k));
		usleep((useconds_t)(rand_r(&seed) % 300000));
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		close(fds[0]);
		/* anything but our SIGKILL (a crash, an exit) is a failure */
		CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		CU_ASSERT_EQUAL_FATAL(store_open(pooldir, 0, &S, NULL), 0);

		/* the file is exactly one committed version, and the newest one */
		CU_ASSERT_EQUAL_FATAL(store_getattr(S, ino, &attr), 0);
		CU_ASSERT_FATAL(attr.version > 0);
		CU_ASSERT_EQUAL_FATAL(store_content_open(S, ino, 0, &c), 0);
		CU_ASSERT_EQUAL(store_content_read(c, head, 8, 0), 8);
		store_content_close(c);
		commits = get_be64(head);
		/* the k commits the child reported done survived */
		CU_ASSERT(commits + 1 >= next + (uint64_t)k);
		CU_ASSERT_EQUAL(attr.version, commits + 1);
		CU_ASSERT(content_is(ino, 0, want, crash_content(commits, want), 65536));
		CU_ASSERT_EQUAL(attr.size, crash_content(commits, want));
		next = commits + 1;
	}
	CU_ASSERT(refs_consistent());
	printf("\n    10 kills: %llu commits survived, last one intact (%s)\n",
	       (unsigned long long)next, commits % 3 == 2 ? "a big one" : "a small one");
	free(want);
}

/* ---- setup ---- */

static int suite_init(void)
{
	return store_suite_init("content");
}

int main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		{ "read back at many sizes", test_sizes },
		{ "dedupe and refcounts", test_dedupe_and_refcounts },
		{ "sparse writes and truncate", test_sparse_and_truncate },
		{ "stage reads through to the base", test_stage_read_through },
		{ "one-row change stores < 256 KiB", test_one_row_change },
		{ "append re-chunks only the tail", test_append_rechunks_tail },
		{ "restore, versions, version_at", test_restore_and_versions },
		{ "rename of a file over a file", test_rename_over },
		{ "parallel reads of one handle", test_parallel_reads },
		{ "kill -9 during commits", test_crash },
	};

	if (argc == 6 && !strcmp(argv[1], "--crash-child")) {
		snprintf(pooldir, sizeof(pooldir), "%s", argv[2]);
		return crash_child(strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10),
				   atoi(argv[5]));
	}
	return unit_tests_run("content", suite_init, store_suite_clean, tests, UNIT_COUNT(tests));
}
