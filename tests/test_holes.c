/*
 * tests/test_holes.c - holes in chunk lists: the page encoding (format 1
 * kept for lists without holes, format 2 with them, damaged pages
 * refused), truncates and far writes that store and chunk nothing for
 * the zeros, re-chunking around holes, restore, the size limit (EFBIG)
 * and a commit that gives up once the daemon is stopping.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "common/codec.h"
#include "common/strbuf.h"
#include "store/chunker.h"
#include "store/content.h"
#include "store/holes.h"
#include "store/internal.h"
#include "store/limits.h"
#include "tests/fill_util.h"
#include "tests/store_util.h"
#include "tests/unit_main.h"

#define TIB		((uint64_t)1 << 40)

static const struct store_writer W = { 1000, 2000, 42, "gongan", "zhang" };

/* ---- helpers ---- */

static uint64_t mkfile(const char *name)
{
	struct store_attr a;

	CU_ASSERT_EQUAL_FATAL(store_mknode(S, STORE_ROOT_INO, name, STORE_REG, 0644, 1000, 2000,
					   NULL, &a, NULL), 0);
	return a.ino;
}

static uint64_t stored(void)
{
	struct store_stats st;

	CU_ASSERT_EQUAL(store_stats(S, &st), 0);
	return st.stored_bytes;
}

/* Whether len bytes of version of ino at off equal want (NULL: zeros). */
static bool reads(uint64_t ino, uint64_t version, uint64_t off, const void *want, size_t len)
{
	struct store_content *c;
	uint8_t got[4096], zero[4096] = { 0 };
	bool ok;

	if (len > sizeof(got) || store_content_open(S, ino, version, &c))
		return false;
	ok = store_content_read(c, got, len, off) == (ssize_t)len &&
	     !memcmp(got, want ? want : zero, len);
	store_content_close(c);
	return ok;
}

/* The chunk list of version of ino, into l. */
static void list_of(uint64_t ino, uint64_t version, struct chunk_list *l)
{
	struct store_content *c;
	const struct chunk_list *src;

	CU_ASSERT_EQUAL_FATAL(store_content_open(S, ino, version, &c), 0);
	src = content_chunks(c);
	for (size_t i = 0; i < src->n; i++)
		chunk_list_add(l, src->v[i].sha, src->v[i].len);
	store_content_close(c);
}

static size_t holes_in(const struct chunk_list *l)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += l->v[i].hole;
	return n;
}

/* ---- the encoding ---- */

static void test_page_formats(void)
{
	struct chunk_list l = CHUNK_LIST_INIT, back = CHUNK_LIST_INIT;
	struct strbuf vals = STRBUF_INIT, hashes = STRBUF_INIT;
	uint8_t sha[32], old[1 + 3 * 36];
	size_t off[8], np;

	/* without holes: byte for byte the format 1 page of old stores */
	old[0] = 1;
	for (int i = 0; i < 3; i++) {
		fill(sha, 32, (uint64_t)i);
		sha[31] = 1;			/* no page end */
		chunk_list_add(&l, sha, 1000u + (unsigned)i);
		memcpy(old + 1 + 36 * i, sha, 32);
		put_be32(old + 1 + 36 * i + 32, 1000u + (unsigned)i);
	}
	np = pages_build(&l, &vals, &hashes, off);
	CU_ASSERT_EQUAL(np, 1);
	CU_ASSERT_EQUAL(vals.len, sizeof(old));
	CU_ASSERT(!memcmp(vals.buf, old, sizeof(old)));

	/* a hole of 5 TiB: format 2, 64-bit lengths, ends its page */
	chunk_list_add_hole(&l, 5 * TIB);
	chunk_list_add_hole(&l, 7);		/* joins the hole before it */
	chunk_list_add(&l, sha, 42);
	CU_ASSERT_EQUAL(l.n, 5);
	CU_ASSERT_EQUAL(l.size, 3003 + 5 * TIB + 7 + 42);
	strbuf_reset(&vals);
	strbuf_reset(&hashes);
	np = pages_build(&l, &vals, &hashes, off);
	CU_ASSERT_EQUAL(np, 2);
	CU_ASSERT_EQUAL((uint8_t)vals.buf[off[0]], 2);
	CU_ASSERT_EQUAL(off[1] - off[0], 1 + 4 * 40);
	CU_ASSERT_EQUAL((uint8_t)vals.buf[off[1]], 1);		/* no hole in the second */
	for (size_t i = 0; i < np; i++)
		CU_ASSERT_EQUAL(page_decode((const uint8_t *)vals.buf + off[i], off[i + 1] - off[i],
					    &back), 0);
	CU_ASSERT_EQUAL(back.n, l.n);
	CU_ASSERT_EQUAL(back.size, l.size);
	CU_ASSERT(back.v[3].hole && back.v[3].len == 5 * TIB + 7 && back.v[3].off == 3003);
	CU_ASSERT(!back.v[4].hole && back.v[4].len == 42);
	CU_ASSERT_EQUAL(chunk_list_find(&back, 3003 + 4 * TIB), 3);

	/* fail closed on damaged pages */
	chunk_list_release(&back);
	memset(old + 1, 0, 32);			/* a zero sha in format 1 */
	CU_ASSERT_EQUAL(page_decode(old, sizeof(old), &back), -EIO);
	{
		uint8_t p2[1 + 40] = { 2 };	/* a hole of no bytes */

		CU_ASSERT_EQUAL(page_decode(p2, sizeof(p2), &back), -EIO);
		put_be64(p2 + 33, (uint64_t)1 << 63);	/* past 2^63 - 1 */
		CU_ASSERT_EQUAL(page_decode(p2, sizeof(p2), &back), -EIO);
		memset(p2 + 1, 0xab, 32);	/* a chunk longer than 4 GiB */
		put_be64(p2 + 33, (uint64_t)1 << 32);
		CU_ASSERT_EQUAL(page_decode(p2, sizeof(p2), &back), -EIO);
	}
	chunk_list_release(&back);
	chunk_list_release(&l);
	strbuf_release(&vals);
	strbuf_release(&hashes);
}

/* ---- stages ---- */

static void test_truncate_is_a_hole(void)
{
	uint64_t ino = mkfile("big"), before = stored(), v, scanned;
	struct chunk_list l = CHUNK_LIST_INIT;
	struct store_version_info info;
	struct store_stage *st;

	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, ino, &st), 0);
	CU_ASSERT_EQUAL(store_stage_write(st, "head", 4, 0), 0);
	CU_ASSERT_EQUAL(store_stage_truncate(st, TIB), 0);
	scanned = chunker_scanned();
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	CU_ASSERT(chunker_scanned() - scanned < 1u << 20);	/* the zeros are not chunked */
	store_stage_close(st);
	CU_ASSERT(stored() - before < 1u << 20);
	CU_ASSERT_EQUAL(store_version_get(S, ino, v, &info), 0);
	CU_ASSERT_EQUAL(info.size, TIB);
	list_of(ino, v, &l);
	CU_ASSERT_EQUAL(l.n, 2);
	CU_ASSERT_EQUAL(holes_in(&l), 1);
	CU_ASSERT(reads(ino, v, 0, "head\0\0", 6));
	CU_ASSERT(reads(ino, v, TIB / 2 - 100, NULL, 4096));
	CU_ASSERT(reads(ino, v, TIB - 4096, NULL, 4096));
	chunk_list_release(&l);

	/* grows again: the hole at the end grows, still one entry */
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, ino, &st), 0);
	CU_ASSERT_EQUAL(store_stage_truncate(st, 2 * TIB), 0);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	store_stage_close(st);
	list_of(ino, v, &l);
	CU_ASSERT_EQUAL(l.n, 2);
	CU_ASSERT_EQUAL(l.size, 2 * TIB);
	chunk_list_release(&l);
}

static void test_far_write(void)
{
	uint64_t ino = mkfile("far"), before = stored(), v, v1;
	uint8_t *data = malloc(3u << 20);
	struct chunk_list l = CHUNK_LIST_INIT;
	struct store_stage *st;

	CU_ASSERT_FATAL(data != NULL);
	fill(data, 3u << 20, 77);
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, ino, &st), 0);
	CU_ASSERT_EQUAL(store_stage_write(st, "hello", 5, TIB), 0);
	CU_ASSERT_EQUAL(store_stage_size(st), TIB + 5);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v1), 0);
	CU_ASSERT(stored() - before < 1u << 20);
	CU_ASSERT(reads(ino, v1, TIB - 3, "\0\0\0hello", 8));
	CU_ASSERT(reads(ino, v1, 12345, NULL, 100));

	/* data in the middle of the hole: two holes around it, its chunks stored */
	CU_ASSERT_EQUAL(store_stage_write(st, data, 3u << 20, TIB / 2), 0);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	list_of(ino, v, &l);
	CU_ASSERT_EQUAL(holes_in(&l), 2);
	CU_ASSERT(l.v[0].hole && l.v[0].len == TIB / 2);
	CU_ASSERT(reads(ino, v, TIB / 2 + 4000, data + 4000, 4096));
	CU_ASSERT(reads(ino, v, TIB / 2 + (3u << 20), NULL, 4096));
	CU_ASSERT(reads(ino, v, TIB - 3, "\0\0\0hello", 8));
	chunk_list_release(&l);

	/* a byte changed after the hole re-chunks the chunk around it only */
	{
		uint64_t scanned = chunker_scanned();

		CU_ASSERT_EQUAL(store_stage_write(st, "!", 1, TIB / 2 + (2u << 20)), 0);
		CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
		CU_ASSERT(chunker_scanned() - scanned <= 2 * CHUNK_MAX);
		data[2u << 20] = '!';
		CU_ASSERT(reads(ino, v, TIB / 2 + (2u << 20) - 10, data + (2u << 20) - 10, 20));
	}
	store_stage_close(st);

	/* the old version is still there, and comes back by restore */
	CU_ASSERT_EQUAL(store_restore(S, ino, v1, &W, NULL, &v), 0);
	CU_ASSERT(reads(ino, v, TIB / 2 + 4000, NULL, 4096));
	CU_ASSERT(reads(ino, v, TIB, "hello", 5));
	free(data);
}

/* An append after a hole, then a sequential run, then a truncate into the hole. */
static void test_append_after_hole(void)
{
	uint64_t ino = mkfile("tail"), v;
	uint8_t *data = malloc(4u << 20);
	struct store_stage *st;

	CU_ASSERT_FATAL(data != NULL);
	fill(data, 4u << 20, 78);
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, ino, &st), 0);
	CU_ASSERT_EQUAL(store_stage_truncate(st, 8u << 20), 0);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	for (size_t off = 0; off < (4u << 20); off += 1u << 20)
		CU_ASSERT_EQUAL(store_stage_write(st, data + off, 1u << 20, (8u << 20) + off), 0);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	CU_ASSERT(reads(ino, v, (8u << 20) - 2, "\0\0", 2));
	CU_ASSERT(reads(ino, v, (8u << 20) + (3u << 20), data + (3u << 20), 4096));
	CU_ASSERT(reads(ino, v, 5u << 20, NULL, 4096));
	/* down into the hole and up again: zeros, no data of the tail left */
	CU_ASSERT_EQUAL(store_stage_truncate(st, 3u << 20), 0);
	CU_ASSERT_EQUAL(store_stage_truncate(st, 16u << 20), 0);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	CU_ASSERT(reads(ino, v, (8u << 20) + 100, NULL, 4096));
	CU_ASSERT(reads(ino, v, (16u << 20) - 4096, NULL, 4096));
	store_stage_close(st);
	free(data);
}

static void test_size_limit(void)
{
	uint64_t ino = mkfile("limit"), v;
	struct store_stage *st;

	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, ino, &st), 0);
	CU_ASSERT_EQUAL(store_stage_truncate(st, STORE_MAX_FILE_SIZE + 1), -EFBIG);
	CU_ASSERT_EQUAL(store_stage_truncate(st, 999999999999999ULL), -EFBIG);
	CU_ASSERT_EQUAL(store_stage_write(st, "x", 1, STORE_MAX_FILE_SIZE), -EFBIG);
	CU_ASSERT_EQUAL(store_stage_write(st, "xy", 2, STORE_MAX_FILE_SIZE - 1), -EFBIG);
	CU_ASSERT_EQUAL(store_stage_size(st), 0);
	CU_ASSERT_EQUAL(store_stage_write(st, "x", 1, STORE_MAX_FILE_SIZE - 1), 0);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	CU_ASSERT(reads(ino, v, STORE_MAX_FILE_SIZE - 2, "\0x", 2));
	CU_ASSERT_EQUAL(store_stage_truncate(st, STORE_MAX_FILE_SIZE), 0);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	store_stage_close(st);
}

/* Small gaps stay zeros in chunks: no hole, format 1 pages, same content id. */
static void test_small_gap_no_hole(void)
{
	uint64_t a = mkfile("gap"), b = mkfile("zeros"), v;
	uint8_t *z = calloc(1, 100000);
	struct store_version_info ia, ib;
	struct chunk_list l = CHUNK_LIST_INIT;
	struct store_stage *st;

	CU_ASSERT_FATAL(z != NULL);
	memcpy(z + 99990, "0123456789", 10);
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, a, &st), 0);
	CU_ASSERT_EQUAL(store_stage_write(st, "0123456789", 10, 99990), 0);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	store_stage_close(st);
	CU_ASSERT_EQUAL(store_version_get(S, a, v, &ia), 0);
	list_of(a, v, &l);
	CU_ASSERT_EQUAL(holes_in(&l), 0);
	chunk_list_release(&l);
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, b, &st), 0);
	CU_ASSERT_EQUAL(store_stage_write(st, z, 100000, 0), 0);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), 0);
	store_stage_close(st);
	CU_ASSERT_EQUAL(store_version_get(S, b, v, &ib), 0);
	CU_ASSERT(!memcmp(ia.content_id, ib.content_id, 32));
	free(z);
}

/*
 * Last: a stop cannot be taken back in this process. A commit of 64 MiB
 * written out of order gives up once the grace period is over, and the
 * file keeps its last version.
 */
static void test_stop_cancels_commit(void)
{
	uint64_t ino = mkfile("stopped"), v1, v;
	uint8_t *data = malloc(1u << 20);
	struct timespec grace = { STORE_STOP_GRACE_NS / 1000000000LL + 1, 0 };
	struct store_stage *st;
	struct store_attr a;

	CU_ASSERT_FATAL(data != NULL);
	fill(data, 1u << 20, 79);
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, ino, &st), 0);
	CU_ASSERT_EQUAL(store_stage_write(st, "v1", 2, 0), 0);
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v1), 0);
	for (uint64_t off = 64u << 20; off; off -= 1u << 20)
		CU_ASSERT_EQUAL(store_stage_write(st, data, 1u << 20, off - (1u << 20)), 0);
	CU_ASSERT_FALSE(store_stop_due());
	store_stop_request();
	nanosleep(&grace, NULL);
	CU_ASSERT_TRUE(store_stop_due());
	CU_ASSERT_EQUAL(store_stage_commit(st, &W, NULL, &v), -ECANCELED);
	store_stage_close(st);
	CU_ASSERT_EQUAL(store_getattr(S, ino, &a), 0);
	CU_ASSERT_EQUAL(a.version, v1);
	CU_ASSERT(reads(ino, 0, 0, "v1", 2));
	free(data);
}

static int suite_init(void)
{
	return store_suite_init("holes");
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "page formats 1 and 2", test_page_formats },
		{ "truncate to 1 TiB is one hole", test_truncate_is_a_hole },
		{ "write at 1 TiB stores 5 bytes", test_far_write },
		{ "append after a hole, truncate into it", test_append_after_hole },
		{ "size limit is EFBIG", test_size_limit },
		{ "small gaps stay chunked zeros", test_small_gap_no_hole },
		{ "a stop cancels a long commit", test_stop_cancels_commit },
	};

	return unit_tests_run("holes", suite_init, store_suite_clean, tests, UNIT_COUNT(tests));
}
