/*
 * tests/test_chunk_pipe.c - the chunk pipe (store/chunk_pipe.c): chunks
 * cut on one worker and hashed and stored by two come out in the order
 * of the bytes, with the cuts and ids of chunk_stream_add() on the same
 * bytes, across odd write sizes, a drain in the middle and duplicate
 * chunks, and read back (an encrypted pool with packs: chunks sealed
 * ahead of their turn); a store failure in a worker surfaces at drain;
 * a drain that finds the cutter busy on a block without a cut returns;
 * pipes in turn and at once reuse blocks and held buffers safely.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/chunk_rx.h"
#include "store/content.h"
#include "store/crypt.h"
#include "store/internal.h"
#include "tests/fill_util.h"
#include "tests/store_util.h"
#include "tests/unit_main.h"

#define LEN	(40u << 20)

/* Random bytes with a run of zeros and a repeat: duplicate chunks in one stream. */
static uint8_t *make_data(uint64_t seed)
{
	uint8_t *d = malloc(LEN);

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	fill(d, LEN, seed);
	memset(d + (9u << 20) + 12345, 0, 3u << 20);
	memcpy(d + (20u << 20) + 999, d + (1u << 20), 2u << 20);
	return d;
}

/* The list chunk_stream_add() and _finish() make of d in one piece. */
static void reference(struct store *s, const uint8_t *d, struct chunk_list *l)
{
	struct chunk_writer *cw = chunk_writer_new(s);
	struct chunk_stream cs;

	chunk_stream_init(&cs, cw, l);
	CU_ASSERT_EQUAL(chunk_stream_add(&cs, d, LEN), 0);
	CU_ASSERT_EQUAL(chunk_stream_finish(&cs, l), 0);
	chunk_stream_release(&cs);
	chunk_writer_free(cw, false);
}

static const size_t sizes[] = { 1, 4095, 65536, 1u << 20, 3u << 20, 777777, 131075, 17 };

/* Whether the chunks of l read back as d (before the writer is freed, which drops them). */
static bool reads_back(struct store *s, struct chunk_writer *cw, const struct chunk_list *l,
		       const uint8_t *d)
{
	struct chunk_list copy = CHUNK_LIST_INIT;
	struct store_content *c;
	uint8_t id[32] = { 0 }, *got = malloc(1u << 20);
	bool ok = got && !chunk_writer_flush(cw);

	for (size_t i = 0; i < l->n; i++)
		chunk_list_add(&copy, l->v[i].sha, l->v[i].len);
	c = content_from_list(s, 1, 1, &copy, id);
	for (size_t off = 0; ok && off < LEN; off += 1u << 20)
		ok = store_content_read(c, got, 1u << 20, off) == 1 << 20 &&
		     !memcmp(got, d + off, 1u << 20);
	store_content_close(c);
	free(got);
	return ok;
}

/*
 * Writes d through a pipe in odd sizes, draining once at mid (where the
 * stream's tail must be whole again), then finishes into l.
 */
static int through_pipe(struct store *s, const uint8_t *d, struct chunk_list *l)
{
	struct chunk_writer *cw = chunk_writer_new(s);
	struct chunk_list done = CHUNK_LIST_INIT;
	struct chunk_pipe *p = chunk_pipe_new(cw, &done);
	size_t off = 0, k = 0, n;
	bool drained = false;
	int ret = 0;

	while (!ret && off < LEN) {
		n = sizes[k++ % (sizeof(sizes) / sizeof(sizes[0]))];
		n = n < LEN - off ? n : LEN - off;
		ret = chunk_pipe_write(p, d + off, n);
		off += n;
		if (!ret && !drained && off > (13u << 20)) {
			ret = chunk_pipe_drain(p);
			drained = true;
			if (!ret)
				CU_ASSERT_EQUAL(done.size + chunk_pipe_stream(p)->len, off);
		}
	}
	if (!ret)
		ret = chunk_pipe_drain(p);
	if (!ret) {
		for (size_t i = 0; i < done.n; i++)
			chunk_list_add(l, done.v[i].sha, done.v[i].len);
		ret = chunk_stream_finish(chunk_pipe_stream(p), l);
	}
	if (!ret)
		CU_ASSERT(reads_back(s, cw, l, d));
	chunk_pipe_free(p);
	chunk_writer_free(cw, false);
	chunk_list_release(&done);
	return ret;
}

/* Whether the pipe makes of make_data(seed) the list the single thread makes (no CUnit: threads call it). */
static bool pipe_matches(struct store *s, uint64_t seed)
{
	struct chunk_list want = CHUNK_LIST_INIT, got = CHUNK_LIST_INIT;
	uint8_t *d = make_data(seed);
	bool same;

	reference(s, d, &want);
	same = want.size == LEN && want.n > 300 && through_pipe(s, d, &got) == 0 &&
	       got.n == want.n && got.size == want.size;
	for (size_t i = 0; same && i < want.n; i++)
		same = got.v[i].off == want.v[i].off && got.v[i].len == want.v[i].len &&
		       !memcmp(got.v[i].sha, want.v[i].sha, 32);
	chunk_list_release(&want);
	chunk_list_release(&got);
	free(d);
	return same;
}

static void order_in(struct store *s)
{
	CU_ASSERT(pipe_matches(s, 7));
}

static void test_order(void)
{
	order_in(S);
}

static void test_order_sealed(void)
{
	struct store_crypt_opts o = { CRYPT_AES_GCM, NULL, NULL };
	char dir[4300], key[4300];
	struct store *s;

	snprintf(dir, sizeof(dir), "%s/sealed", tmpdir);
	snprintf(key, sizeof(key), "%s/sealed.key", tmpdir);
	o.key_file = key;
	setenv("POOLFS_PACKS", "1", 1);
	CU_ASSERT_EQUAL_FATAL(store_create_opts(dir, &o, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(store_open(dir, 0, &s, NULL), 0);
	unsetenv("POOLFS_PACKS");
	order_in(s);
	store_close(s);
}

/* A store that takes no more writes fails a worker's put; drain says so and free returns. */
static void test_error(void)
{
	struct chunk_list got = CHUNK_LIST_INIT;
	char dir[4300];
	struct store *s;
	uint8_t *d = make_data(8);

	snprintf(dir, sizeof(dir), "%s/failing", tmpdir);
	CU_ASSERT_EQUAL_FATAL(store_create(dir, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(store_open(dir, 0, &s, NULL), 0);
	store_fail(s, -EIO, "test: the disk went away");
	CU_ASSERT_EQUAL(through_pipe(s, d, &got), -EIO);
	store_close(s);
	chunk_list_release(&got);
	free(d);
}

/*
 * A drain whose last block holds no cut: the cutter posts no job, so
 * only its going idle can wake the drain (a lost wakeup hangs here).
 * Many rounds, since the drain must catch the cutter still busy.
 */
static void test_drain_no_cut(void)
{
	uint8_t *d = make_data(9);

	for (int round = 0; round < 200; round++) {
		struct chunk_writer *cw = chunk_writer_new(S);
		struct chunk_list done = CHUNK_LIST_INIT;
		struct chunk_pipe *p = chunk_pipe_new(cw, &done);
		const uint8_t *src = d + (size_t)round * 4099;
		size_t n = (1u << 20) + 10;

		CU_ASSERT_EQUAL(chunk_pipe_write(p, src, n), 0);
		CU_ASSERT_EQUAL(chunk_pipe_drain(p), 0);
		CU_ASSERT_EQUAL(done.size + chunk_pipe_stream(p)->len, n);
		chunk_pipe_free(p);
		chunk_writer_free(cw, false);
		chunk_list_release(&done);
	}
	free(d);
}

#define RX_HEAD	80		/* a WRITE's header, as fs/loop.c reads it */

/*
 * Writes d through p in receive buffers lent as the session loop lends
 * them (store/chunk_rx.h): mostly whole blocks, which the pipe takes,
 * now and then an odd size, which it copies. A taken buffer is the
 * pipe's: the writer goes on with a fresh one. Returns the first error;
 * *taken counts the buffers the pipe took.
 */
static int through_lent(struct chunk_pipe *p, const uint8_t *d, size_t *taken)
{
	struct chunk_rx *rx = chunk_rx_new();
	size_t off = 0, k = 0, n;
	uint8_t *data;
	int ret = 0;

	*taken = 0;
	while (!ret && off < LEN) {
		n = k++ % 5 == 3 ? 4095 + k : CHUNK_RX_DATA;
		n = n < LEN - off ? n : LEN - off;
		data = chunk_rx_area(rx, RX_HEAD) + RX_HEAD;
		memcpy(data, d + off, n);
		chunk_rx_lend(rx);
		ret = chunk_pipe_write(p, data, n);
		if (!chunk_rx_back()) {
			(*taken)++;
			rx = chunk_rx_new();
		}
		off += n;
	}
	chunk_rx_free(rx);
	return ret;
}

/*
 * Whole blocks written from lent receive buffers are taken, not copied,
 * and the list is the single thread's and reads back: a writer that
 * went on receiving into a taken buffer would change bytes the workers
 * still cut and hash.
 */
static void test_lent_buffers(void)
{
	struct chunk_list want = CHUNK_LIST_INIT, got = CHUNK_LIST_INIT, done = CHUNK_LIST_INIT;
	struct chunk_writer *cw = chunk_writer_new(S);
	struct chunk_pipe *p = chunk_pipe_new(cw, &done);
	uint8_t *d = make_data(21);
	size_t taken = 0;
	bool same;

	reference(S, d, &want);
	CU_ASSERT_EQUAL(through_lent(p, d, &taken), 0);
	CU_ASSERT_EQUAL(chunk_pipe_drain(p), 0);
	for (size_t i = 0; i < done.n; i++)
		chunk_list_add(&got, done.v[i].sha, done.v[i].len);
	CU_ASSERT_EQUAL(chunk_stream_finish(chunk_pipe_stream(p), &got), 0);
	printf("\n    %zu of %u MiB taken without a copy\n    ", taken, LEN >> 20);
	CU_ASSERT(taken >= LEN / CHUNK_RX_DATA / 2);
	same = got.n == want.n && got.size == want.size;
	for (size_t i = 0; same && i < want.n; i++)
		same = got.v[i].len == want.v[i].len && !memcmp(got.v[i].sha, want.v[i].sha, 32);
	CU_ASSERT(same);
	CU_ASSERT(reads_back(S, cw, &got, d));
	chunk_pipe_free(p);
	chunk_writer_free(cw, false);
	chunk_list_release(&want);
	chunk_list_release(&got);
	chunk_list_release(&done);
	free(d);
}

/*
 * A pipe that failed takes no more buffers: the write returns the error
 * and the lent buffer stays the lender's, bytes unchanged, to receive the
 * next request into (a pipe that took it anyway would leave the lender
 * reading into a block it frees).
 */
static void test_lent_after_failure(void)
{
	struct chunk_list done = CHUNK_LIST_INIT;
	struct chunk_writer *cw;
	struct chunk_pipe *p;
	struct chunk_rx *rx;
	uint8_t *d = make_data(22), *data;
	struct store *s;
	size_t taken = 0;
	char dir[4300];

	snprintf(dir, sizeof(dir), "%s/lent_failing", tmpdir);
	CU_ASSERT_EQUAL_FATAL(store_create(dir, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(store_open(dir, 0, &s, NULL), 0);
	cw = chunk_writer_new(s);
	p = chunk_pipe_new(cw, &done);
	store_fail(s, -EIO, "test: the disk went away");
	CU_ASSERT_EQUAL(through_lent(p, d, &taken), -EIO);
	rx = chunk_rx_new();
	data = chunk_rx_area(rx, RX_HEAD) + RX_HEAD;
	memcpy(data, d, CHUNK_RX_DATA);
	chunk_rx_lend(rx);
	CU_ASSERT_EQUAL(chunk_pipe_write(p, data, CHUNK_RX_DATA), -EIO);
	CU_ASSERT(chunk_rx_back());
	CU_ASSERT(!memcmp(data, d, CHUNK_RX_DATA));
	chunk_rx_free(rx);
	chunk_pipe_free(p);
	chunk_writer_free(cw, false);
	store_close(s);
	chunk_list_release(&done);
	free(d);
}

struct pipe_run {
	struct store *s;
	uint64_t seed;
	bool ok;
};

/* Two rounds of pipe_matches() on the run's own bytes. */
static void *pipe_thread(void *arg)
{
	struct pipe_run *r = arg;

	r->ok = pipe_matches(r->s, r->seed) && pipe_matches(r->s, r->seed + 1);
	return NULL;
}

/*
 * Pipes one after another and side by side in a pool with packs: the
 * blocks of a finished pipe and the buffer its writer held the first
 * batch in serve the next ones (store/chunk_pipe.c PIPE_CACHE,
 * store/chunk_writer.c held_take), never two at once, never with the
 * last one's bytes in them: each list matches and reads back.
 */
static void test_reuse(void)
{
	struct pipe_run r[3];
	pthread_t t[3];
	struct store *s;
	char dir[4300];

	snprintf(dir, sizeof(dir), "%s/reuse", tmpdir);
	setenv("POOLFS_PACKS", "1", 1);
	CU_ASSERT_EQUAL_FATAL(store_create(dir, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(store_open(dir, 0, &s, NULL), 0);
	unsetenv("POOLFS_PACKS");
	for (int i = 0; i < 3; i++) {
		r[i] = (struct pipe_run){ s, 100 + 10 * (uint64_t)i, false };
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, pipe_thread, &r[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT(r[i].ok);
	}
	store_close(s);
}

static int suite_init(void)
{
	return store_suite_init("chunk_pipe");
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "chunks in order, as the single-thread chunker cuts them", test_order },
		{ "the same in an encrypted pool with packs", test_order_sealed },
		{ "a worker's failure surfaces at drain", test_error },
		{ "a drain after a block without a cut returns", test_drain_no_cut },
		{ "blocks and held buffers reused by pipes in turn and at once", test_reuse },
		{ "whole blocks in lent receive buffers taken, the list unchanged", test_lent_buffers },
		{ "a failed pipe takes no lent buffer", test_lent_after_failure },
	};

	return unit_tests_run("chunk_pipe", suite_init, store_suite_clean, tests,
			      UNIT_COUNT(tests));
}
