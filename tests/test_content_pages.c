/*
 * tests/test_content_pages.c - a read handle over a version of many
 * chunk-list pages (store/content.c "A format 2 version record"): its
 * record says where each page ends, opening it reads no page, reads at
 * scattered offsets from several threads sharing the handle get the
 * right bytes while pages load under them, a page that cannot be read
 * fails the reads that reach it (-EIO, nothing else), a record written
 * before page ends (format 1) still reads, and a cached view's record
 * holds its page ends the same way.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "store/content.h"
#include "store/crypt_store.h"
#include "store/internal.h"
#include "store/rdvec.h"
#include "tests/fill_util.h"
#include "tests/store_util.h"
#include "tests/unit_main.h"

#define BIG		(40u << 20)	/* ~640 chunks, ~10 pages */
#define THREADS		3

static const struct store_writer W = { 1000, 2000, 42, "gongan", "zhang" };

/* ---- helpers ---- */

/* A file holding len bytes of seed; its inode. */
static uint64_t big_file(const char *name, const uint8_t *buf, size_t len)
{
	struct store_stage *st;
	struct store_attr a;
	uint64_t v = 0;

	CU_ASSERT_EQUAL_FATAL(store_mknode(S, STORE_ROOT_INO, name, STORE_REG, 0644, 1000, 2000,
					   NULL, &a, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, a.ino, &st), 0);
	for (size_t off = 0; off < len; off += 1u << 20)
		CU_ASSERT_EQUAL_FATAL(store_stage_write(st, buf + off, len - off < (1u << 20) ?
							len - off : 1u << 20, off), 0);
	CU_ASSERT_EQUAL_FATAL(store_stage_commit(st, &W, NULL, &v), 0);
	store_stage_close(st);
	CU_ASSERT_EQUAL(v, 1);
	return a.ino;
}

static uint8_t *data(size_t len, uint64_t seed)
{
	uint8_t *p = malloc(len);

	CU_ASSERT_FATAL(p != NULL);
	fill(p, len, seed);
	return p;
}

/* Reads len bytes at off of c and compares them with want; the read's result. */
static ssize_t read_cmp(struct store_content *c, const uint8_t *want, size_t len, uint64_t off,
			bool *same)
{
	uint8_t *got = malloc(len ? len : 1);
	ssize_t n = store_content_read(c, got, len, off);

	*same = n >= 0 && !memcmp(got, want + off, (size_t)n);
	free(got);
	return n;
}

/* Rewrites the version record of ino v1 as raw. */
static void record_put(uint64_t ino, const struct strbuf *raw)
{
	rocksdb_writebatch_t *b = rocksdb_writebatch_create();
	uint8_t key[16];

	put_be64(key, ino);
	put_be64(key + 8, 1);
	store_put_value(S, b, CF_VERSIONS, key, sizeof(key), raw->buf, raw->len);
	CU_ASSERT_EQUAL(store_write(S, b, true), 0);
	rocksdb_writebatch_destroy(b);
}

/* ---- tests ---- */

static uint8_t *big;
static uint64_t big_ino;

/* The record lists each page's end: rising, the last the size, each its page's bytes. */
static void test_record_ends(void)
{
	struct strbuf raw = STRBUF_INIT, page = STRBUF_INIT;
	struct version_rec vr;
	uint64_t prev = 0;
	uint8_t key[33] = { 'p' };

	big = data(BIG, 1);
	big_ino = big_file("big", big, BIG);
	CU_ASSERT_EQUAL_FATAL(version_load(S, big_ino, 1, &vr, &raw), 0);
	printf("\n  %u pages for %u MiB\n", vr.npages, BIG >> 20);
	CU_ASSERT_FATAL(vr.npages >= 4);
	CU_ASSERT_FATAL(vr.ends != NULL);
	for (uint32_t p = 0; p < vr.npages; p++) {
		struct chunk_list l = CHUNK_LIST_INIT;
		uint64_t end = get_be64(vr.ends + 8 * p);

		memcpy(key + 1, vr.pages + 32 * p, 32);
		CU_ASSERT_EQUAL_FATAL(store_get_value(S, CF_CHUNKS, key, sizeof(key), &page), 0);
		CU_ASSERT_EQUAL(page_decode((const uint8_t *)page.buf, page.len, &l), 0);
		CU_ASSERT(end > prev);
		CU_ASSERT_EQUAL(l.size, end - prev);
		prev = end;
		chunk_list_release(&l);
	}
	CU_ASSERT_EQUAL(prev, BIG);
	strbuf_release(&page);
	strbuf_release(&raw);
}

struct reader {
	struct store_content *c;
	const uint64_t *ends;		/* page ends, to read across */
	uint32_t np;
	unsigned seed;
	int bad;
	bool vec;			/* through store_content_readv */
};

static bool readv_cmp(struct store_content *c, size_t len, uint64_t off)
{
	struct store_rdvec v = STORE_RDVEC_INIT;
	ssize_t n = store_content_readv(c, &v, len, off);
	size_t at = (size_t)off;
	bool ok = n >= 0 && (size_t)n == (off + len > BIG ? BIG - off : len);

	for (size_t i = 0; ok && i < v.n; i++) {
		ok = !memcmp(v.iov[i].iov_base, big + at, v.iov[i].iov_len);
		at += v.iov[i].iov_len;
	}
	store_rdvec_release(&v);
	return ok && at == off + (size_t)n;
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;

	for (int i = 0; i < 600; i++) {
		/* every third read straddles a page end */
		uint64_t off = i % 3 ? (uint64_t)rand_r(&r->seed) % BIG :
			r->ends[(unsigned)rand_r(&r->seed) % r->np] - 1000;
		size_t len = (size_t)rand_r(&r->seed) % (300u << 10);
		bool same;
		ssize_t n;

		if (off >= BIG)
			off = BIG - 1;
		if (r->vec) {
			r->bad += !readv_cmp(r->c, len, off);
			continue;
		}
		n = read_cmp(r->c, big, len, off, &same);
		r->bad += !same || n != (ssize_t)(off + len > BIG ? BIG - off : len);
	}
	return NULL;
}

/* Threads share one handle, reading at scattered offsets while its pages load. */
static void test_scattered_threads(void)
{
	struct strbuf raw = STRBUF_INIT;
	struct version_rec vr;
	struct store_content *c;
	struct reader r[THREADS];
	pthread_t t[THREADS];
	uint64_t *ends;
	bool same;

	CU_ASSERT_EQUAL_FATAL(version_load(S, big_ino, 1, &vr, &raw), 0);
	CU_ASSERT_FATAL(vr.ends != NULL);
	ends = calloc(vr.npages, sizeof(*ends));
	for (uint32_t p = 0; p < vr.npages; p++)
		ends[p] = get_be64(vr.ends + 8 * p);
	for (int round = 0; round < 3; round++) {
		CU_ASSERT_EQUAL_FATAL(store_content_open(S, big_ino, 0, &c), 0);
		CU_ASSERT_EQUAL(store_content_size(c), BIG);
		for (int i = 0; i < THREADS; i++) {
			r[i] = (struct reader){ c, ends, vr.npages, (unsigned)(round * 10 + i + 1),
						0, i == THREADS - 1 };
			CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, reader_main, &r[i]), 0);
		}
		for (int i = 0; i < THREADS; i++) {
			pthread_join(t[i], NULL);
			CU_ASSERT_EQUAL(r[i].bad, 0);
		}
		/* the last byte, past the end, and the whole list once all pages are in */
		CU_ASSERT_EQUAL(read_cmp(c, big, 10, BIG - 1, &same), 1);
		CU_ASSERT(same);
		CU_ASSERT_EQUAL(read_cmp(c, big, 10, BIG, &same), 0);
		CU_ASSERT(content_chunks(c) != NULL && content_chunks(c)->size == BIG);
		store_content_close(c);
	}
	free(ends);
	strbuf_release(&raw);
}

struct failer {
	struct store_content *c;
	uint64_t off;
	ssize_t got;
};

static void *failer_main(void *arg)
{
	struct failer *f = arg;
	uint8_t buf[4096];

	f->got = store_content_read(f->c, buf, sizeof(buf), f->off);
	return NULL;
}

/*
 * A page gone from the store: the open reads no page, so it succeeds;
 * reads that reach that page fail with -EIO (each time, from two threads
 * at once), reads elsewhere still give their bytes.
 */
static void test_missing_page(void)
{
	struct strbuf raw = STRBUF_INIT;
	struct version_rec vr;
	struct store_content *c = NULL;
	struct failer f[2];
	pthread_t t[2];
	uint8_t *buf = data(BIG / 2, 2), key[33] = { 'p' };
	uint64_t ino = big_file("damaged", buf, BIG / 2), lo, hi;
	char *err = NULL;
	uint32_t k;
	bool same;

	CU_ASSERT_EQUAL_FATAL(version_load(S, ino, 1, &vr, &raw), 0);
	CU_ASSERT_FATAL(vr.npages >= 3 && vr.ends != NULL);
	k = vr.npages / 2;
	lo = get_be64(vr.ends + 8 * (k - 1));
	hi = get_be64(vr.ends + 8 * k);
	memcpy(key + 1, vr.pages + 32 * k, 32);
	rocksdb_delete_cf(S->db, S->wopt_sync, S->cf[CF_CHUNKS], (const char *)key, sizeof(key), &err);
	CU_ASSERT_FATAL(err == NULL);

	CU_ASSERT_EQUAL_FATAL(store_content_open(S, ino, 0, &c), 0);
	CU_ASSERT_EQUAL(store_content_size(c), BIG / 2);
	CU_ASSERT_EQUAL(read_cmp(c, buf, 4096, 0, &same), 4096);
	CU_ASSERT(same);
	CU_ASSERT_EQUAL(read_cmp(c, buf, 4096, lo + (hi - lo) / 2, &same), -EIO);
	CU_ASSERT_EQUAL(read_cmp(c, buf, 4096, lo - 100, &same), -EIO);
	for (int i = 0; i < 2; i++) {
		f[i] = (struct failer){ c, hi - 1, 0 };
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, failer_main, &f[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT_EQUAL(f[i].got, -EIO);
	}
	CU_ASSERT_EQUAL(read_cmp(c, buf, 4096, hi, &same), 4096);
	CU_ASSERT(same);
	CU_ASSERT_EQUAL(read_cmp(c, buf, 4096, BIG / 2 - 4096, &same), 4096);
	CU_ASSERT(same);
	CU_ASSERT(content_chunks(c) == NULL);
	store_content_close(c);
	free(buf);
	strbuf_release(&raw);
}

/*
 * A format 1 record (no page ends, as stores wrote before) reads whole;
 * page ends that do not rise to the size, each above the last, are a
 * corrupt record: -EIO.
 */
static void test_old_and_corrupt_records(void)
{
	struct strbuf raw = STRBUF_INIT, copy = STRBUF_INIT;
	struct version_rec vr;
	struct store_content *c;
	uint8_t *buf = data(BIG / 4, 3);
	uint64_t ino = big_file("old", buf, BIG / 4);
	uint8_t *ends;
	bool same;

	CU_ASSERT_EQUAL_FATAL(version_load(S, ino, 1, &vr, &raw), 0);
	CU_ASSERT_FATAL(vr.ends != NULL && vr.npages >= 2);
	/* the same record without its ends */
	strbuf_add(&copy, raw.buf, raw.len - 8 * (size_t)vr.npages);
	copy.buf[0] = 1;
	record_put(ino, &copy);
	CU_ASSERT_EQUAL_FATAL(store_content_open(S, ino, 1, &c), 0);
	CU_ASSERT_EQUAL(read_cmp(c, buf, BIG / 4, 0, &same), BIG / 4);
	CU_ASSERT(same);
	store_content_close(c);

	/* ends that fall back */
	strbuf_reset(&copy);
	strbuf_add(&copy, raw.buf, raw.len);
	ends = (uint8_t *)copy.buf + copy.len - 8 * (size_t)vr.npages;
	put_be64(ends + 8, get_be64(ends) - 1);
	record_put(ino, &copy);
	CU_ASSERT_EQUAL(store_content_open(S, ino, 1, &c), -EIO);

	/* the size reached a page early: the last page's end falls back to it */
	strbuf_reset(&copy);
	strbuf_add(&copy, raw.buf, raw.len);
	ends = (uint8_t *)copy.buf + copy.len - 16;
	put_be64(ends, get_be64(ends + 8));
	record_put(ino, &copy);
	CU_ASSERT_EQUAL(store_content_open(S, ino, 1, &c), -EIO);

	/* the last end short of the size */
	strbuf_reset(&copy);
	strbuf_add(&copy, raw.buf, raw.len);
	ends = (uint8_t *)copy.buf + copy.len - 8;
	put_be64(ends, get_be64(ends) - 1);
	record_put(ino, &copy);
	CU_ASSERT_EQUAL(store_content_open(S, ino, 1, &c), -EIO);

	record_put(ino, &raw);
	CU_ASSERT_EQUAL_FATAL(store_content_open(S, ino, 1, &c), 0);
	CU_ASSERT_EQUAL(read_cmp(c, buf, BIG / 4, 0, &same), BIG / 4);
	CU_ASSERT(same);
	store_content_close(c);
	free(buf);
	strbuf_release(&copy);
	strbuf_release(&raw);
}

/*
 * A cached view's record holds page ends too: its handle reads without
 * its pages loaded at open, and a missing page fails only the reads
 * reaching it.
 */
static void test_view_pages(void)
{
	struct store_view_writer *w;
	struct strbuf raw = STRBUF_INIT;
	struct store_content *c;
	struct view_rec vr;
	uint8_t cid[32], fp[32], key[65], pkey[33] = { 'p' };
	uint8_t *buf = data(BIG / 2, 4);
	uint64_t lo, hi;
	char *err = NULL;
	bool same;

	memset(cid, 0xc1, sizeof(cid));
	memset(fp, 0xf1, sizeof(fp));
	CU_ASSERT_EQUAL_FATAL(store_view_begin(S, &w), 0);
	for (size_t off = 0; off < BIG / 2; off += 1u << 20)
		CU_ASSERT_EQUAL_FATAL(store_view_write(w, buf + off, 1u << 20), 0);
	CU_ASSERT_EQUAL_FATAL(store_view_commit(w, cid, fp), 0);

	view_key(key, 'v', cid, fp);
	CU_ASSERT_EQUAL_FATAL(store_get_value(S, CF_VIEWS, key, sizeof(key), &raw), 0);
	CU_ASSERT_EQUAL_FATAL(view_decode((const uint8_t *)raw.buf, raw.len, &vr), 0);
	CU_ASSERT_FATAL(vr.ends != NULL && vr.npages >= 3);
	CU_ASSERT_EQUAL(get_be64(vr.ends + 8 * (vr.npages - 1)), BIG / 2);

	CU_ASSERT_EQUAL_FATAL(store_view_open(S, cid, fp, &c), 0);
	CU_ASSERT_EQUAL(read_cmp(c, buf, BIG / 2, 0, &same), BIG / 2);
	CU_ASSERT(same);
	store_content_close(c);

	lo = get_be64(vr.ends + 8 * (vr.npages / 2 - 1));
	hi = get_be64(vr.ends + 8 * (vr.npages / 2));
	memcpy(pkey + 1, vr.pages + 32 * (vr.npages / 2), 32);
	rocksdb_delete_cf(S->db, S->wopt_sync, S->cf[CF_CHUNKS], (const char *)pkey,
			  sizeof(pkey), &err);
	CU_ASSERT_FATAL(err == NULL);
	CU_ASSERT_EQUAL_FATAL(store_view_open(S, cid, fp, &c), 0);
	CU_ASSERT_EQUAL(read_cmp(c, buf, 4096, 0, &same), 4096);
	CU_ASSERT(same);
	CU_ASSERT_EQUAL(read_cmp(c, buf, 4096, lo + (hi - lo) / 2, &same), -EIO);
	CU_ASSERT_EQUAL(read_cmp(c, buf, 4096, hi, &same), 4096);
	CU_ASSERT(same);
	store_content_close(c);
	free(buf);
	strbuf_release(&raw);
}

/* ---- setup ---- */

static int suite_init(void)
{
	return store_suite_init("content_pages");
}

static int suite_clean(void)
{
	free(big);
	return store_suite_clean();
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "version record holds page ends", test_record_ends },
		{ "scattered reads from threads sharing a handle", test_scattered_threads },
		{ "a missing page fails only the reads reaching it", test_missing_page },
		{ "format 1 records read, corrupt ends refused", test_old_and_corrupt_records },
		{ "a cached view's pages load as reads reach them", test_view_pages },
	};

	return unit_tests_run("content_pages", suite_init, suite_clean, tests, UNIT_COUNT(tests));
}
