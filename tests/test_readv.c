/*
 * tests/test_readv.c - store_content_readv(), the read that hands out
 * RocksDB's own buffers (fs_ll_read replies with them): the same bytes
 * as store_content_read() at random offsets and lengths across chunk
 * boundaries, holes and the end, in a plain and an encrypted pool; and
 * bytes handed out stay those of the version read while a new version
 * of the file commits.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/crypt.h"
#include "store/rdvec.h"
#include "tests/fill_util.h"
#include "tests/store_util.h"
#include "tests/unit_main.h"

#define MIB		(1u << 20)
#define FILE_LEN	(5 * MIB + MIB / 2)	/* 1 MiB, a 3 MiB hole, 1.5 MiB */

static const struct store_writer W = { 1000, 2000, 42, "gongan", "zhang" };
static struct store *C;		/* an AES-256-GCM pool next to S */

static uint64_t mkfile(struct store *s, const char *name)
{
	struct store_attr a;

	CU_ASSERT_EQUAL_FATAL(store_mknode(s, STORE_ROOT_INO, name, STORE_REG, 0644, 1000, 2000,
					   NULL, &a, NULL), 0);
	return a.ino;
}

/* Writes want's [0, 1 MiB) and [4 MiB, FILE_LEN) over ino: the gap is a hole. */
static void write_holed(struct store *s, uint64_t ino, const uint8_t *want)
{
	struct store_stage *st;
	uint64_t ver;

	CU_ASSERT_EQUAL_FATAL(store_stage_open(s, ino, &st), 0);
	CU_ASSERT_EQUAL(store_stage_truncate(st, 0), 0);
	CU_ASSERT_EQUAL(store_stage_write(st, want, MIB, 0), 0);
	CU_ASSERT_EQUAL(store_stage_write(st, want + 4 * MIB, FILE_LEN - 4 * MIB, 4 * MIB), 0);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &ver), 0);
	store_stage_close(st);
}

/* Concatenates v's bytes into out; their total. */
static size_t gather(const struct store_rdvec *v, uint8_t *out)
{
	size_t total = 0;

	for (size_t i = 0; i < v->n; i++) {
		memcpy(out + total, v->iov[i].iov_base, v->iov[i].iov_len);
		total += v->iov[i].iov_len;
	}
	return total;
}

/* Whether readv of len at off gives want's bytes there, as read() does. */
static bool readv_is(struct store_content *c, const uint8_t *want, size_t len, uint64_t off,
		     uint8_t *got)
{
	struct store_rdvec v = STORE_RDVEC_INIT;
	size_t expect = off >= FILE_LEN ? 0 : len < FILE_LEN - off ? len : FILE_LEN - off;
	ssize_t r = store_content_readv(c, &v, len, off);
	bool ok = r == (ssize_t)expect && gather(&v, got) == expect &&
		  !memcmp(got, want + (off < FILE_LEN ? off : 0), expect);

	store_rdvec_release(&v);
	ok = ok && store_content_read(c, got, len, off) == (ssize_t)expect &&
	     !memcmp(got, want + (off < FILE_LEN ? off : 0), expect);
	return ok;
}

static void random_reads(struct store *s, const char *name)
{
	uint8_t *want = calloc(1, FILE_LEN), *got = malloc(2 * MIB);
	struct store_content *c;
	uint64_t ino = mkfile(s, name), rnd = 7;
	int bad = 0;

	CU_ASSERT_FATAL(want && got);
	fill(want, MIB, 1);
	fill(want + 4 * MIB, FILE_LEN - 4 * MIB, 2);
	write_holed(s, ino, want);
	CU_ASSERT_EQUAL_FATAL(store_content_open(s, ino, 0, &c), 0);
	CU_ASSERT_EQUAL(store_content_size(c), FILE_LEN);
	/* sequential 1 MiB requests, as the kernel's read-ahead sends them */
	for (uint64_t off = 0; off <= FILE_LEN; off += MIB)
		bad += !readv_is(c, want, MIB, off, got);
	/* random offsets and lengths, many crossing chunks, the hole's edges and the end */
	for (int i = 0; i < 400; i++) {
		uint64_t off, len;

		rnd = rnd * 6364136223846793005u + 1442695040888963407u;
		off = (rnd >> 11) % (FILE_LEN + 4096);
		rnd = rnd * 6364136223846793005u + 1442695040888963407u;
		len = 1 + (rnd >> 11) % (i % 4 == 0 ? 2 * MIB - 1 : 200000);
		bad += !readv_is(c, want, (size_t)len, off, got);
	}
	CU_ASSERT_EQUAL(bad, 0);
	store_content_close(c);
	free(want);
	free(got);
}

static void test_random_plain(void)
{
	random_reads(S, "plain.bin");
}

static void test_random_encrypted(void)
{
	random_reads(C, "sealed.bin");
}

/* A reader's handed-out bytes while the file's next version commits. */
static void test_old_version_while_commit(void)
{
	struct store *pools[] = { S, C };

	for (size_t p = 0; p < 2; p++) {
		uint8_t *v1 = malloc(2 * MIB), *v2 = malloc(2 * MIB), *got = malloc(2 * MIB);
		struct store_rdvec v = STORE_RDVEC_INIT;
		struct store_content *c;
		struct store_stage *st;
		uint64_t ino = mkfile(pools[p], "versions.bin"), ver;

		CU_ASSERT_FATAL(v1 && v2 && got);
		fill(v1, 2 * MIB, 11);
		fill(v2, 2 * MIB, 12);
		CU_ASSERT_EQUAL_FATAL(store_stage_open(pools[p], ino, &st), 0);
		CU_ASSERT_EQUAL(store_stage_write(st, v1, 2 * MIB, 0), 0);
		CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &ver), 0);
		store_stage_close(st);
		CU_ASSERT_EQUAL_FATAL(store_content_open(pools[p], ino, 0, &c), 0);
		CU_ASSERT_EQUAL(store_content_readv(c, &v, MIB + 12345, 54321), MIB + 12345);

		CU_ASSERT_EQUAL_FATAL(store_stage_open(pools[p], ino, &st), 0);
		CU_ASSERT_EQUAL(store_stage_write(st, v2, 2 * MIB, 0), 0);
		CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &ver), 0);
		store_stage_close(st);

		CU_ASSERT_EQUAL(gather(&v, got), MIB + 12345);
		CU_ASSERT(!memcmp(got, v1 + 54321, MIB + 12345));
		store_rdvec_release(&v);
		/* the handle keeps the version it opened */
		CU_ASSERT_EQUAL(store_content_readv(c, &v, 2 * MIB, 0), 2 * MIB);
		CU_ASSERT_EQUAL(gather(&v, got), 2 * MIB);
		CU_ASSERT(!memcmp(got, v1, 2 * MIB));
		store_rdvec_release(&v);
		store_content_close(c);
		free(v1);
		free(v2);
		free(got);
	}
}

static int suite_init(void)
{
	struct store_crypt_opts o = { CRYPT_AES_GCM, NULL, NULL };
	char dir[4300], key[4300];

	if (store_suite_init("readv"))
		return -1;
	snprintf(dir, sizeof(dir), "%s/sealed", tmpdir);
	snprintf(key, sizeof(key), "%s/sealed.key", tmpdir);
	o.key_file = key;
	return store_create_opts(dir, &o, NULL) || store_open(dir, 0, &C, NULL) ? -1 : 0;
}

static int suite_clean(void)
{
	store_close(C);
	return store_suite_clean();
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "readv = read at random offsets, plain pool", test_random_plain },
		{ "readv = read at random offsets, encrypted pool", test_random_encrypted },
		{ "bytes handed out outlive a commit", test_old_version_while_commit },
	};

	return unit_tests_run("readv", suite_init, suite_clean, tests, UNIT_COUNT(tests));
}
