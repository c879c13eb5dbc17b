/*
 * tests/test_views.c - the view cache: build and read back, dedupe with
 * other views and with files, concurrent builders of one view, eviction
 * under a small budget (least recently used first, open views kept,
 * chunks shared with file versions kept), eviction racing writers, and a
 * cache that survives reopening the store.
 *
 * After each test the refcounts are checked from scratch, now counting
 * the pages of view records as well as of version records.
 */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
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

/* A content id or fingerprint made from a small number. */
static void id_of(uint8_t id[32], uint64_t n)
{
	memset(id, 0xa5, 32);
	put_be64(id, n);
}

/* Builds the view (cid, fp) from buf in writes of step bytes. */
static int build(uint64_t cid, uint64_t fp, const uint8_t *buf, size_t len, size_t step)
{
	struct store_view_writer *w;
	uint8_t c[32], f[32];
	int ret;

	id_of(c, cid);
	id_of(f, fp);
	ret = store_view_begin(S, &w);
	if (ret)
		return ret;
	for (size_t off = 0; off < len; off += step) {
		ret = store_view_write(w, buf + off, len - off < step ? len - off : step);
		if (ret) {
			store_view_abort(w);
			return ret;
		}
	}
	return store_view_commit(w, c, f);
}

static int view_open(uint64_t cid, uint64_t fp, struct store_content **c)
{
	uint8_t a[32], b[32];

	id_of(a, cid);
	id_of(b, fp);
	return store_view_open(S, a, b, c);
}

/* Whether view (cid, fp) reads back as want, in requests of step bytes. */
static bool view_is(uint64_t cid, uint64_t fp, const uint8_t *want, size_t len, size_t step)
{
	struct store_content *c;
	uint8_t *got = malloc(len + 1);
	bool ok;

	if (!got || view_open(cid, fp, &c))
		return free(got), false;
	ok = store_content_size(c) == len;
	for (size_t off = 0; ok && off < len; off += step) {
		size_t n = len - off < step ? len - off : step;

		ok = store_content_read(c, got + off, n, off) == (ssize_t)n;
	}
	ok = ok && store_content_read(c, got, 1, len) == 0 && !memcmp(got, want, len);
	store_content_close(c);
	free(got);
	return ok;
}

static bool view_cached(uint64_t cid, uint64_t fp)
{
	struct store_content *c;

	if (view_open(cid, fp, &c))
		return false;
	store_content_close(c);
	return true;
}

static uint64_t mkfile(const char *name)
{
	struct store_attr a;

	CU_ASSERT_EQUAL_FATAL(store_mknode(S, STORE_ROOT_INO, name, STORE_REG, 0644,
					   1000, 2000, NULL, &a, NULL), 0);
	return a.ino;
}

static int write_file(uint64_t ino, const uint8_t *buf, size_t len)
{
	struct store_stage *st;
	uint64_t v;
	int ret = store_stage_open(S, ino, &st);

	if (ret)
		return ret;
	ret = store_stage_truncate(st, 0);
	if (!ret)
		ret = store_stage_write(st, buf, len, 0);
	if (!ret)
		ret = store_stage_commit(st, &W, NULL, &v);
	store_stage_close(st);
	return ret;
}

static bool file_is(uint64_t ino, const uint8_t *want, size_t len)
{
	struct store_content *c;
	uint8_t *got = malloc(len + 1);
	bool ok;

	if (!got || store_content_open(S, ino, 0, &c))
		return free(got), false;
	ok = store_content_size(c) == len &&
	     store_content_read(c, got, len + 1, 0) == (ssize_t)len && !memcmp(got, want, len);
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

/* ---- the refcount invariant, views included ---- */

/*
 * The refcount invariant (tests/refs_util.h) with view records counted;
 * every refs row names stored bytes, and no stored chunk lacks a row (no
 * orphans after a clean run).
 */
static bool refs_consistent_but(bool orphans_ok)
{
	struct ref_expect e = { 0 };
	size_t chunk_keys = 0, chunk_rows = 0;
	rocksdb_iterator_t *it;
	bool ok;

	it = rocksdb_create_iterator_cf(S->db, S->ropt, S->cf[CF_CHUNKS]);
	for (rocksdb_iter_seek(it, "c", 1); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen;

		if (rocksdb_iter_key(it, &klen)[0] != 'c')
			break;
		chunk_keys++;
	}
	rocksdb_iter_destroy(it);
	ref_expect_build(&e, true);
	ok = ref_rows_match(&e, true, &chunk_rows);
	if (chunk_keys != chunk_rows && !orphans_ok)
		printf("\n    %zu stored chunks, %zu counted\n", chunk_keys, chunk_rows);
	return ok && (orphans_ok || chunk_keys == chunk_rows);
}

static bool refs_consistent(void)
{
	return refs_consistent_but(false);
}

/* ---- tests ---- */

static void test_build_and_read(void)
{
	static const size_t sizes[] = { 0, 1, 5000, CHUNK_MAX + 3, 9u << 20 };
	struct store_stats a = stats(), b;
	uint64_t total = 0;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *buf = random_buf(sizes[i], 10 + i);

		CU_ASSERT_FATAL(buf != NULL);
		CU_ASSERT(!view_cached(1, i));
		CU_ASSERT_EQUAL(build(1, i, buf, sizes[i], 4096 + 3 * i), 0);
		CU_ASSERT(view_is(1, i, buf, sizes[i], 65536));
		CU_ASSERT(view_is(1, i, buf, sizes[i], 1000));
		total += sizes[i];
		free(buf);
	}
	b = stats();
	CU_ASSERT_EQUAL(b.views, a.views + 5);
	CU_ASSERT_EQUAL(b.view_bytes, a.view_bytes + total);
	CU_ASSERT(!view_cached(2, 0));		/* other content, same rules */
	CU_ASSERT(!view_cached(1, 99));		/* same content, other rules */
	CU_ASSERT(refs_consistent());
}

static void test_dedupe(void)
{
	size_t len = 3u << 20;
	uint8_t *buf = random_buf(len, 200);
	uint64_t ino = mkfile("dedupe");
	struct store_stats a, b, c;

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_EQUAL(build(20, 1, buf, len, 100000), 0);
	a = stats();
	/* the same bytes under other rules, and as a file: nothing new stored */
	CU_ASSERT_EQUAL(build(20, 2, buf, len, 65536), 0);
	CU_ASSERT_EQUAL(write_file(ino, buf, len), 0);
	b = stats();
	CU_ASSERT_EQUAL(b.stored_bytes, a.stored_bytes);
	CU_ASSERT_EQUAL(b.chunks, a.chunks);
	CU_ASSERT_EQUAL(b.views, a.views + 1);
	/* committing a view that is there already changes nothing */
	CU_ASSERT_EQUAL(build(20, 2, buf, len, 7777), 0);
	c = stats();
	CU_ASSERT_EQUAL(c.views, b.views);
	CU_ASSERT_EQUAL(c.view_bytes, b.view_bytes);
	CU_ASSERT(view_is(20, 2, buf, len, 1u << 20));
	CU_ASSERT(refs_consistent());
	free(buf);
}

struct builder {
	uint64_t cid, fp;
	const uint8_t *buf;
	size_t len, step;
	int ret;
};

static void *builder_main(void *arg)
{
	struct builder *b = arg;

	b->ret = build(b->cid, b->fp, b->buf, b->len, b->step);
	return NULL;
}

static void test_concurrent_builders(void)
{
	size_t len = 6u << 20;
	uint8_t *buf = random_buf(len, 300);
	struct store_stats a, b;
	struct builder bs[4];
	pthread_t t[4];

	CU_ASSERT_FATAL(buf != NULL);
	a = stats();
	for (int i = 0; i < 4; i++) {
		bs[i] = (struct builder){ 30, 1, buf, len, 65536u + 4096u * (size_t)i, -1 };
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, builder_main, &bs[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT_EQUAL(bs[i].ret, 0);
	}
	b = stats();
	CU_ASSERT_EQUAL(b.views, a.views + 1);
	CU_ASSERT_EQUAL(b.view_bytes, a.view_bytes + len);
	CU_ASSERT(view_is(30, 1, buf, len, 1u << 20));
	CU_ASSERT(refs_consistent());
	free(buf);
}

static void test_abort_leaves_nothing(void)
{
	size_t len = 5u << 20;
	uint8_t *buf = random_buf(len, 400);
	struct store_view_writer *w;
	struct store_stats a, b;

	CU_ASSERT_FATAL(buf != NULL);
	a = stats();
	CU_ASSERT_EQUAL_FATAL(store_view_begin(S, &w), 0);
	CU_ASSERT_EQUAL(store_view_write(w, buf, len), 0);
	store_view_abort(w);
	b = stats();
	CU_ASSERT_EQUAL(b.views, a.views);
	CU_ASSERT_EQUAL(b.stored_bytes, a.stored_bytes);
	CU_ASSERT(refs_consistent());		/* includes: no chunk left behind */
	free(buf);
}

/*
 * enable_blob_garbage_collection of the chunks family as RocksDB last
 * wrote its options (OPTIONS-N, the highest N): 1, 0, or -1 if not found.
 */
static int chunks_blob_gc(void)
{
	char path[sizeof(pooldir) + 300], line[512], best[256] = "";
	unsigned long n, top = 0;
	bool in_chunks = false;
	struct dirent *de;
	int ret = -1;
	FILE *f;
	DIR *d;

	snprintf(path, sizeof(path), "%s/db", pooldir);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (sscanf(de->d_name, "OPTIONS-%lu", &n) == 1 && n >= top) {
			top = n;
			snprintf(best, sizeof(best), "%s", de->d_name);
		}
	closedir(d);
	snprintf(path, sizeof(path), "%s/db/%s", pooldir, best);
	f = best[0] ? fopen(path, "r") : NULL;
	while (f && fgets(line, sizeof(line), f)) {
		if (line[0] == '[')
			in_chunks = strstr(line, "CFOptions \"chunks\"") != NULL;
		else if (in_chunks && strstr(line, " enable_blob_garbage_collection="))
			ret = strstr(line, "=true") != NULL;
	}
	if (f)
		fclose(f);
	return ret;
}

/*
 * A write past one batch goes straight to the memtable and reads back;
 * compactions' blob GC stays off through it (age-based GC rewrites live
 * chunks) and after an eviction that deletes chunks (store/blob_gc.c
 * reclaims their space on purpose).
 */
static void test_blob_gc_stays_off(void)
{
	size_t len = 12u << 20;
	uint8_t *file = random_buf(len, 900), *view = random_buf(1u << 20, 901);
	uint64_t ino = mkfile("big");

	CU_ASSERT_FATAL(file && view);
	CU_ASSERT_EQUAL(write_file(ino, file, len), 0);
	CU_ASSERT(file_is(ino, file, len));
	CU_ASSERT_EQUAL(chunks_blob_gc(), 0);
	CU_ASSERT_EQUAL(build(90, 1, view, 1u << 20, 100000), 0);
	CU_ASSERT_EQUAL(store_view_set_budget(S, 0), 0);
	CU_ASSERT(!view_cached(90, 1));
	CU_ASSERT_EQUAL(chunks_blob_gc(), 0);
	CU_ASSERT(refs_consistent());
	CU_ASSERT_EQUAL(store_view_set_budget(S, STORE_VIEW_BUDGET_DEFAULT), 0);
	free(file);
	free(view);
}

static void test_eviction(void)
{
	size_t len = 1u << 20;
	uint8_t *file = random_buf(len, 500), *bufs[6];
	uint64_t ino = mkfile("shared"), budget;
	struct store_content *held;
	struct store_stats a, b;

	CU_ASSERT_FATAL(file != NULL);
	CU_ASSERT_EQUAL(store_view_set_budget(S, 0), 0);	/* start empty */
	CU_ASSERT_EQUAL(stats().views, 0);
	CU_ASSERT(refs_consistent());
	CU_ASSERT_EQUAL(write_file(ino, file, len), 0);
	a = stats();

	/* room for three 1 MiB views and a half */
	CU_ASSERT_EQUAL(store_view_set_budget(S, 3 * len + len / 2), 0);
	CU_ASSERT_EQUAL(store_view_budget(S, &budget), 0);
	CU_ASSERT_EQUAL(budget, 3 * len + len / 2);
	/* view 0 is the file's own bytes: its chunks must outlive it */
	bufs[0] = file;
	for (int i = 1; i < 6; i++)
		CU_ASSERT_FATAL((bufs[i] = random_buf(len, 500 + (uint64_t)i)) != NULL);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(build(50, (uint64_t)i, bufs[i], len, 65536), 0);
	CU_ASSERT(view_cached(50, 0));			/* used: now newer than 1 and 2 */
	CU_ASSERT_EQUAL(build(50, 3, bufs[3], len, 65536), 0);
	CU_ASSERT(!view_cached(50, 1));
	CU_ASSERT(view_cached(50, 0) && view_cached(50, 2) && view_cached(50, 3));
	b = stats();
	CU_ASSERT_EQUAL(b.views, 3);
	CU_ASSERT_EQUAL(b.view_bytes, 3 * len);
	CU_ASSERT(refs_consistent());

	/* a view held open is not evicted; the next oldest goes instead */
	CU_ASSERT_EQUAL_FATAL(view_open(50, 2, &held), 0);
	CU_ASSERT(view_cached(50, 0));
	CU_ASSERT(view_cached(50, 3));			/* LRU order now 2, 0, 3 */
	CU_ASSERT_EQUAL(build(50, 4, bufs[4], len, 65536), 0);
	CU_ASSERT(!view_cached(50, 0));
	CU_ASSERT(view_cached(50, 3) && view_cached(50, 4));
	CU_ASSERT_EQUAL(stats().views, 3);
	CU_ASSERT(file_is(ino, file, len));		/* its chunks outlived view 0 */
	CU_ASSERT_EQUAL(store_view_set_budget(S, 0), 0);
	CU_ASSERT_EQUAL(stats().views, 1);		/* only the held one */
	CU_ASSERT(refs_consistent());
	{
		uint8_t *got = malloc(len);

		CU_ASSERT_FATAL(got != NULL);
		CU_ASSERT_EQUAL(store_content_read(held, got, len, 0), (ssize_t)len);
		CU_ASSERT(!memcmp(got, bufs[2], len));
		free(got);
	}
	store_content_close(held);
	CU_ASSERT_EQUAL(store_view_set_budget(S, 0), 0);

	/* all gone: what only views held is deleted, the file's chunks stay */
	b = stats();
	CU_ASSERT_EQUAL(b.views, 0);
	CU_ASSERT_EQUAL(b.view_bytes, 0);
	CU_ASSERT_EQUAL(b.stored_bytes, a.stored_bytes);
	CU_ASSERT_EQUAL(b.chunks, a.chunks);
	CU_ASSERT(file_is(ino, file, len));
	CU_ASSERT(refs_consistent());

	/* a view larger than the budget is refused and leaves nothing */
	CU_ASSERT_EQUAL(store_view_set_budget(S, len / 2), 0);
	CU_ASSERT_EQUAL(build(50, 5, bufs[5], len, 65536), -EFBIG);
	CU_ASSERT(!view_cached(50, 5));
	CU_ASSERT_EQUAL(stats().stored_bytes, a.stored_bytes);
	CU_ASSERT(refs_consistent());
	CU_ASSERT_EQUAL(store_view_set_budget(S, STORE_VIEW_BUDGET_DEFAULT), 0);
	for (int i = 1; i < 6; i++)
		free(bufs[i]);
	free(file);
}

/*
 * Views are built and evicted while files with the same bytes are
 * written: a writer that found a chunk stored must still find it at its
 * commit (store/view_pin.c).
 */
struct racer {
	int kind;			/* 0 view builder, 1 file writer, 2 evictor */
	uint8_t **bufs;
	size_t len;
	uint64_t ino;
	int rounds, failures;
};

static void *racer_main(void *arg)
{
	struct racer *r = arg;

	for (int i = 0; i < r->rounds; i++) {
		const uint8_t *buf = r->bufs[i % 4];
		int ret = 0;

		if (r->kind == 0)
			ret = build(60, (uint64_t)i, buf, r->len, 100000);
		else if (r->kind == 1 && !(ret = write_file(r->ino, buf, r->len)))
			ret = file_is(r->ino, buf, r->len) ? 0 : -EIO;
		else if (r->kind == 2)
			ret = store_view_set_budget(S, i % 2 ? 0 : 1u << 30);
		if (ret && ret != -EFBIG)
			r->failures++;
	}
	return NULL;
}

static void test_eviction_races_writers(void)
{
	size_t len = 2u << 20;
	uint8_t *bufs[4];
	struct racer r[3];
	pthread_t t[3];

	for (int i = 0; i < 4; i++)
		CU_ASSERT_FATAL((bufs[i] = random_buf(len, 600 + (uint64_t)i)) != NULL);
	for (int k = 0; k < 3; k++) {
		r[k] = (struct racer){ k, bufs, len, k == 1 ? mkfile("racer") : 0, 24, 0 };
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[k], NULL, racer_main, &r[k]), 0);
	}
	for (int k = 0; k < 3; k++) {
		pthread_join(t[k], NULL);
		CU_ASSERT_EQUAL(r[k].failures, 0);
	}
	CU_ASSERT(file_is(r[1].ino, bufs[23 % 4], len));
	CU_ASSERT_EQUAL(store_view_set_budget(S, STORE_VIEW_BUDGET_DEFAULT), 0);
	CU_ASSERT(refs_consistent());
	for (int i = 0; i < 4; i++)
		free(bufs[i]);
}

static void test_reopen(void)
{
	size_t len = (2u << 20) + 99;
	uint8_t *buf = random_buf(len, 700);
	struct store_stats a, b;
	uint64_t budget;

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_EQUAL(store_view_set_budget(S, 123u << 20), 0);
	CU_ASSERT_EQUAL(build(70, 1, buf, len, 333333), 0);
	a = stats();
	store_close(S);
	S = NULL;
	CU_ASSERT_EQUAL_FATAL(store_open(pooldir, 0, &S, NULL), 0);
	b = stats();
	CU_ASSERT_EQUAL(b.views, a.views);
	CU_ASSERT_EQUAL(b.view_bytes, a.view_bytes);
	CU_ASSERT(view_is(70, 1, buf, len, 65536));
	CU_ASSERT_EQUAL(store_view_budget(S, &budget), 0);
	CU_ASSERT_EQUAL(budget, 123u << 20);
	CU_ASSERT(refs_consistent());

	/* read-only: views read, nothing builds */
	store_close(S);
	CU_ASSERT_EQUAL_FATAL(store_open(pooldir, STORE_OPEN_RDONLY, &S, NULL), 0);
	CU_ASSERT(view_is(70, 1, buf, len, 65536));
	{
		struct store_view_writer *w;

		CU_ASSERT_EQUAL(store_view_begin(S, &w), -EROFS);
	}
	store_close(S);
	CU_ASSERT_EQUAL_FATAL(store_open(pooldir, 0, &S, NULL), 0);
	free(buf);
}

/* ---- crash ---- */

#define CRASH_VIEWS	64

/* View i of the crash test: its size, and its bytes into buf. */
static size_t crash_view(uint64_t i, uint8_t *buf)
{
	size_t len = 100000 + (size_t)(i * 7919 % 3000000);

	if (buf)
		fill(buf, len, 800 + i);
	return len;
}

/*
 * Runs in a fresh exec of this binary (see main()): builds views until
 * killed, writing one byte to fd after each view committed
 * (tests/crash_util.h).
 */
static int crash_child(int fd)
{
	uint8_t *buf = malloc(crash_view(0, NULL) + 3000000);

	if (!buf || store_open(pooldir, 0, &S, NULL))
		_exit(2);
	for (uint64_t round = 0; ; round++) {
		uint64_t i = round % CRASH_VIEWS;
		int ret = build(80, i, buf, crash_view(i, buf), 100000);

		if (ret && ret != -EFBIG)
			_exit(3);
		if (!ret && write(fd, "c", 1) != 1)
			_exit(5);
	}
}

static void test_crash(void)
{
	uint8_t *buf = malloc(crash_view(0, NULL) + 3000000);
	unsigned seed = (unsigned)time(NULL);
	size_t cached = 0;

	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_EQUAL(store_view_set_budget(S, 8u << 20), 0);
	for (int round = 0; round < 6; round++) {
		char fdarg[16];
		int status, fds[2];
		pid_t pid;

		store_close(S);
		S = NULL;
		CU_ASSERT_FATAL(pipe(fds) == 0);
		snprintf(fdarg, sizeof(fdarg), "%d", fds[1]);
		pid = fork();
		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0) {
			/* exec, not just fork: RocksDB's threads do not survive fork() */
			close(fds[0]);
			execl("/proc/self/exe", "test_views", "--crash-child", pooldir, fdarg,
			      (char *)NULL);
			_exit(4);
		}
		close(fds[1]);
		/* after 1 to 8 views: somewhere in building, committing or evicting the next */
		CU_ASSERT(crash_wait(fds[0], 1 + (int)(rand_r(&seed) % 8)));
		usleep((useconds_t)(rand_r(&seed) % 200000));
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		close(fds[0]);
		CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		CU_ASSERT_EQUAL_FATAL(store_open(pooldir, 0, &S, NULL), 0);
		/* every view still cached reads back whole; counts are exact */
		for (uint64_t i = 0; i < CRASH_VIEWS; i++) {
			if (!view_cached(80, i))
				continue;
			cached++;
			CU_ASSERT(view_is(80, i, buf, crash_view(i, buf), 1u << 20));
		}
		CU_ASSERT(refs_consistent_but(true));
		CU_ASSERT(stats().view_bytes <= 8u << 20);
	}
	printf("\n    6 kills: %zu cached views checked\n    ", cached);
	CU_ASSERT(cached > 0);
	CU_ASSERT_EQUAL(store_view_set_budget(S, STORE_VIEW_BUDGET_DEFAULT), 0);
	free(buf);
}

/* ---- setup ---- */

static int suite_init(void)
{
	return store_suite_init("views");
}

int main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		{ "build, open and read back", test_build_and_read },
		{ "compactions never run blob GC", test_blob_gc_stays_off },
		{ "identical views and files share chunks", test_dedupe },
		{ "concurrent builders of one view", test_concurrent_builders },
		{ "an aborted view leaves nothing", test_abort_leaves_nothing },
		{ "eviction under a small budget", test_eviction },
		{ "eviction racing writers", test_eviction_races_writers },
		{ "views survive reopening", test_reopen },
		{ "kill -9 while building and evicting", test_crash },
	};

	if (argc == 4 && !strcmp(argv[1], "--crash-child")) {
		snprintf(pooldir, sizeof(pooldir), "%s", argv[2]);
		return crash_child(atoi(argv[3]));
	}
	return unit_tests_run("views", suite_init, store_suite_clean, tests, UNIT_COUNT(tests));
}
