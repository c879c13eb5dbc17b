/*
 * store/chunk_pipe.c - chunking, hashing and storing a byte stream on
 * other threads while the writer goes on writing.
 *
 * A daemon thread serving one sequential writer (cp, dd, an ETL job)
 * gets the next request only after it replies to the last, so work done
 * inline adds to every request's latency; SHA-256 and storing are most
 * of it. The pipe copies each request into a block and returns; workers
 * started with the first full block take the blocks in order. At most
 * PIPE_BLOCKS blocks exist, so a writer faster than the workers waits
 * for them instead of queueing the file in memory. A stream that never
 * fills a block (a small file) is chunked by the caller of
 * chunk_pipe_drain() and starts no thread. At most PIPE_THREADS pipes
 * run workers in the process: a pipe that finds none free chunks in its
 * caller's thread, straight from the caller's buffers, so a hundred
 * files written at once cost neither hundreds of threads nor their
 * blocks.
 *
 * The workers of a pipe: one cutter, which finds a block's cuts (FastCDC)
 * and posts each chunk as a job, numbered in order, and PIPE_HASHERS
 * hashers, each taking the next few jobs (a batch), computing their ids,
 * then waiting for its turn (every job before them stored) to store them
 * and append them to the list. Threads meet once a block or a batch, not
 * once a chunk: in a VM a wakeup costs as much as hashing kilobytes. Hashing (and sealing, in an encrypted pool), the largest cost,
 * runs on two cores; storing (the refs lookup, the pack append) and the
 * list stay in the order of the bytes, so the list, the cuts and the ids
 * are those of chunk_stream_add() on the same bytes, and a failure stops
 * every job
 * after it. A job points into its block, which lives until its last job
 * is stored (refs): the bytes after a block's last cut (the carry) are
 * copied in front of the next block's data, into room kept for them, so
 * every chunk is one run of memory without a copy of the chunk itself.
 */
#include "common/alloc.h"
#include "store/chunk_rx.h"
#include "store/chunker.h"
#include "store/content.h"
#include "store/crypt.h"


#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PIPE_BLOCK	(1u << 20)
#define PIPE_BLOCKS	4		/* >= 3: the caller's, the carry's, one more */
#define PIPE_THREADS	8
#define PIPE_HASHERS	2
/* more than the chunks of PIPE_BLOCKS blocks: the cutter never waits for a slot */
#define PIPE_JOBS	512
#define STREAM_BUF	(2 * CHUNK_MAX)	/* as chunk_stream_add() allocates it */
/*
 * a hasher's batch: up to this many chunks, stopping once past this many
 * bytes; a block's worth (about 15 chunks), since a plain pool hashes a
 * batch side by side and 16 lanes want as many chunks as they can get
 */
#define PIPE_BATCH	32
#define PIPE_BATCH_BYTES (1024u << 10)

static int workers;			/* pipes running workers in the process; atomic */

/*
 * Blocks of finished pipes, kept for the next: a fresh block's 320 pages
 * each fault in on first touch, and in this VM a fault costs 30-50 us
 * against well under one to write a page already mapped (docs/storage.md
 * "Write path"); glibc hands a freed 1.25 MiB block back to the kernel
 * often enough that every large file paid them. At most PIPE_CACHE.
 */
#define PIPE_CACHE	PIPE_BLOCKS
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct block *cache;		/* protected by cache_lock */
static unsigned cache_n;		/* protected by cache_lock */

struct block {
	struct block *next;
	size_t len;
	unsigned refs;			/* the cutter's, one per job; protected by lock */
	/*
	 * CHUNK_MAX of room for a carry, PIPE_BLOCK of data. Aligned as
	 * malloc aligns: a receive buffer's request header (chunk_rx_area)
	 * sits in front of the data and is read as the kernel's structs.
	 */
	_Alignas(16) uint8_t mem[];
};

#define BLOCK_DATA(b)	((b)->mem + CHUNK_MAX)
#define BLOCK_SIZE	(sizeof(struct block) + CHUNK_MAX + PIPE_BLOCK)

_Static_assert(CHUNK_RX_DATA == PIPE_BLOCK, "a receive buffer is a block");
_Static_assert(CHUNK_MAX % 16 == 0, "a block's data is aligned as its memory is");

/* A block from the cache, else a new one. */
static struct block *block_new(void)
{
	struct block *b;

	pthread_mutex_lock(&cache_lock);
	b = cache;
	if (b) {
		cache = b->next;
		cache_n--;
	}
	pthread_mutex_unlock(&cache_lock);
	return b ? b : xmalloc(BLOCK_SIZE);
}

/* Frees b, no pipe's any more, or keeps it in the cache. */
static void block_free(struct block *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&cache_lock);
	if (cache_n < PIPE_CACHE) {
		b->next = cache;
		cache = b;
		cache_n++;
		b = NULL;
	}
	pthread_mutex_unlock(&cache_lock);
	free(b);
}

struct job {
	const uint8_t *p;		/* into b */
	uint32_t len;
	struct block *b;
	uint8_t sha[32];
};

struct chunk_pipe {
	struct chunk_stream cs;		/* the workers' while they run, else the caller's */
	struct block *cur;		/* being filled by the caller; caller only */

	pthread_mutex_t lock;
	/*
	 * Three, so that a change wakes only who waits for it: a thread
	 * woken for nothing costs a context switch, and there are several
	 * a chunk.
	 */
	pthread_cond_t cond;		/* blocks, queue, idle: the caller and the cutter */
	pthread_cond_t job_cond;	/* a job posted: hashers */
	pthread_cond_t turn_cond;	/* store_seq moved: a hasher waiting for its turn */
	bool store_wait;		/* someone on cond waits for store_seq or the cutter
					 * to go idle; protected by lock */
	bool free_wait;			/* the caller on cond waits for a free block; protected by lock */
	struct block *queue, **tail;	/* full blocks in order; protected by lock */
	struct block *free;		/* protected by lock */
	size_t blocks;			/* allocated; protected by lock */
	bool busy;			/* the cutter holds a block; protected by lock */
	bool stop;			/* protected by lock */
	int err;			/* the first failure; protected by lock */
	bool started;			/* workers run */
	bool inline_only;		/* no worker was free: the caller chunks */
	pthread_t cutter, hashers[PIPE_HASHERS];
	int nhashers;

	/* jobs [store_seq, cut_seq) are live, [take_seq, cut_seq) not taken yet */
	struct job jobs[PIPE_JOBS];	/* protected by lock, but a taken job's by its hasher */
	uint64_t cut_seq, take_seq, store_seq;

	/* the bytes after the last cut; the cutter's while workers run */
	const uint8_t *carry;		/* into carry_b, or cs.buf when carry_b is NULL */
	size_t carry_len;
	struct block *carry_b;		/* holds the cutter's ref */
};

struct chunk_pipe *chunk_pipe_new(struct chunk_writer *cw, struct chunk_list *out)
{
	struct chunk_pipe *p = xcalloc(1, sizeof(*p));

	chunk_stream_init(&p->cs, cw, out);
	p->tail = &p->queue;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	pthread_cond_init(&p->job_cond, NULL);
	pthread_cond_init(&p->turn_cond, NULL);
	return p;
}

static int pipe_err(struct chunk_pipe *p)
{
	int err;

	pthread_mutex_lock(&p->lock);
	err = p->err;
	pthread_mutex_unlock(&p->lock);
	return err;
}

/*
 * Records err as the pipe's failure and returns the first one: a failed
 * write may have queued part of its bytes, so nothing may follow it.
 */
static int pipe_fail(struct chunk_pipe *p, int err)
{
	pthread_mutex_lock(&p->lock);
	if (!p->err) {
		p->err = err;
		/* whoever waits on cond for a block or a store gives up now */
		pthread_cond_broadcast(&p->cond);
	}
	err = p->err;
	pthread_mutex_unlock(&p->lock);
	return err;
}

/*
 * Wakes the threads on cond that wait for what they flagged, only those:
 * the cutter sleeps on cond too, and a wakeup for nothing costs it two
 * context switches (a VM's dearest kernel path). Holds lock.
 */
static void wake_flagged(struct chunk_pipe *p, bool *flag)
{
	if (!*flag)
		return;
	*flag = false;
	pthread_cond_broadcast(&p->cond);
}

/* Drops a ref on b, which goes back to the free list with the last one. Holds lock. */
static void block_put(struct chunk_pipe *p, struct block *b)
{
	if (--b->refs)
		return;
	b->next = p->free;
	p->free = b;
	wake_flagged(p, &p->free_wait);
}

/*
 * Posts the n chunks at q (lengths c[]) of b as the next jobs, all at
 * once: a hasher woken once takes several. False once the pipe failed.
 */
static bool jobs_post(struct chunk_pipe *p, const uint8_t *q, const uint32_t *c, size_t n,
		      struct block *b)
{
	struct job *j;
	bool ok;

	pthread_mutex_lock(&p->lock);
	while (p->cut_seq + n - p->store_seq > PIPE_JOBS && !p->err) {
		p->store_wait = true;
		pthread_cond_wait(&p->cond, &p->lock);
	}
	ok = !p->err;
	for (size_t i = 0; ok && i < n; i++) {
		j = &p->jobs[p->cut_seq % PIPE_JOBS];
		j->p = q;
		j->len = c[i];
		j->b = b;
		b->refs++;
		p->cut_seq++;
		q += c[i];
	}
	if (ok && n)
		pthread_cond_broadcast(&p->job_cond);
	pthread_mutex_unlock(&p->lock);
	return ok;
}

/*
 * Cuts the carry and b's bytes, posting a job per chunk; what follows the
 * last cut becomes the carry, and b keeps the cutter's ref for it.
 */
static void cut_block(struct chunk_pipe *p, struct block *b)
{
	uint8_t *d = BLOCK_DATA(b);
	const uint8_t *q = d - p->carry_len, *first;
	size_t n = p->carry_len + b->len, c, k = 0;
	uint32_t cuts[(CHUNK_MAX + PIPE_BLOCK) / CHUNK_MIN + 1];

	/* no cut was found in the carry, so it is shorter than CHUNK_MAX: it fits */
	if (p->carry_len)
		memcpy(d - p->carry_len, p->carry, p->carry_len);
	if (p->carry_b) {
		pthread_mutex_lock(&p->lock);
		block_put(p, p->carry_b);
		pthread_mutex_unlock(&p->lock);
	}
	first = q;
	/* cuts are at least CHUNK_MIN apart: cuts[] holds them all but is checked */
	while ((c = chunker_next(q, n, false))) {
		cuts[k++] = (uint32_t)c;
		q += c;
		n -= c;
		if (k == sizeof(cuts) / sizeof(cuts[0])) {
			if (!jobs_post(p, first, cuts, k, b))
				break;
			first = q;
			k = 0;
		}
	}
	if (k)
		jobs_post(p, first, cuts, k, b);
	p->carry = q;
	p->carry_len = n;
	p->carry_b = b;
}

static void *cutter(void *arg)
{
	struct chunk_pipe *p = arg;
	struct block *b;
	bool failed;

	pthread_setname_np(pthread_self(), "poolfs-chunk");
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->queue && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		if (!p->queue)
			break;
		b = p->queue;
		p->queue = b->next;
		if (!p->queue)
			p->tail = &p->queue;
		p->busy = true;
		failed = p->err != 0;
		if (failed)
			block_put(p, b);
		pthread_mutex_unlock(&p->lock);

		if (!failed)
			cut_block(p, b);

		pthread_mutex_lock(&p->lock);
		p->busy = false;
		wake_flagged(p, &p->store_wait);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void *hasher(void *arg)
{
	struct chunk_pipe *p = arg;
	/* an encrypted pool's chunks are sealed here too, ahead of their turn */
	uint8_t *arena = chunk_writer_seal_buf(p->cs.cw, PIPE_BATCH_BYTES + CHUNK_MAX, PIPE_BATCH);
	uint8_t *sealed[PIPE_BATCH], ids[PIPE_BATCH][32];
	const uint8_t *data[PIPE_BATCH];
	size_t lens[PIPE_BATCH];
	int rets[PIPE_BATCH];
	size_t k, bytes;
	struct job *j;
	uint64_t seq;
	int err;

	pthread_setname_np(pthread_self(), "poolfs-hash");
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (p->take_seq == p->cut_seq && !p->stop)
			pthread_cond_wait(&p->job_cond, &p->lock);
		if (p->take_seq == p->cut_seq)
			break;
		/* a batch: one wait for the turn per batch, not per chunk */
		seq = p->take_seq;
		for (k = 0, bytes = 0; k < PIPE_BATCH && bytes < PIPE_BATCH_BYTES &&
		     p->take_seq != p->cut_seq; k++, p->take_seq++)
			bytes += p->jobs[p->take_seq % PIPE_JOBS].len;
		err = p->err;
		pthread_mutex_unlock(&p->lock);

		for (size_t i = 0; i < k; i++) {
			j = &p->jobs[(seq + i) % PIPE_JOBS];
			data[i] = j->p;
			lens[i] = j->len;
			rets[i] = err;
		}
		/* the batch's ids in one call: a plain pool hashes them side by side */
		if (!err)
			chunk_writer_ids(p->cs.cw, k, data, lens, ids, rets);
		for (size_t i = 0, at = 0; i < k; i++) {
			j = &p->jobs[(seq + i) % PIPE_JOBS];
			sealed[i] = arena ? arena + at : NULL;
			if (!rets[i])
				memcpy(j->sha, ids[i], 32);
			if (!rets[i] && arena)
				rets[i] = chunk_writer_seal(p->cs.cw, j->p, j->len, j->sha,
							    sealed[i]);
			at += j->len + CRYPT_OVERHEAD;
		}

		pthread_mutex_lock(&p->lock);
		while (p->store_seq != seq)
			pthread_cond_wait(&p->turn_cond, &p->lock);
		/* its turn: every job before the batch is stored, or failed */
		pthread_mutex_unlock(&p->lock);
		err = pipe_err(p);
		for (size_t i = 0; err && i < k; i++)
			rets[i] = err;
		chunk_writer_store_many(p->cs.cw, k, data, lens, ids, (const uint8_t *const *)sealed,
					rets);
		for (size_t i = 0; i < k; i++) {
			j = &p->jobs[(seq + i) % PIPE_JOBS];
			if (rets[i]) {
				/* the list stops at the first failure: the write fails */
				pipe_fail(p, rets[i]);
				break;
			}
			chunk_list_add(p->cs.out, j->sha, j->len);
		}
		pthread_mutex_lock(&p->lock);
		for (size_t i = 0; i < k; i++)
			block_put(p, p->jobs[(seq + i) % PIPE_JOBS].b);
		p->store_seq = seq + k;
		if (p->nhashers > 1)
			pthread_cond_broadcast(&p->turn_cond);
		wake_flagged(p, &p->store_wait);
	}
	pthread_mutex_unlock(&p->lock);
	free(arena);
	return NULL;
}

/*
 * Room for one more block, waiting for the workers to give one back when
 * all are in use: a free block (*out), else one more counted (*out NULL).
 * Holds lock.
 */
static int slot_take(struct chunk_pipe *p, struct block **out)
{
	*out = NULL;
	while (!p->free && p->blocks == PIPE_BLOCKS && !p->err) {
		p->free_wait = true;
		pthread_cond_wait(&p->cond, &p->lock);
	}
	if (p->err)
		return p->err;
	if (p->free) {
		*out = p->free;
		p->free = (*out)->next;
	} else {
		p->blocks++;
	}
	return 0;
}

/* A free block, waiting for the workers to give one back when all are in use. */
static int block_get(struct chunk_pipe *p, struct block **out)
{
	struct block *b;
	int ret;

	pthread_mutex_lock(&p->lock);
	ret = slot_take(p, &b);
	pthread_mutex_unlock(&p->lock);
	if (!ret && !b)
		b = block_new();
	if (b) {
		b->len = 0;
		b->refs = 0;
		b->next = NULL;
	}
	*out = b;
	return ret;
}

/* Stops and joins the workers started so far. */
static void workers_stop(struct chunk_pipe *p, bool cutter_runs)
{
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	/* bytes still queued are dropped: the caller drained what it wanted */
	if (!p->err)
		p->err = -ECANCELED;
	pthread_cond_broadcast(&p->cond);
	pthread_cond_broadcast(&p->job_cond);
	pthread_cond_broadcast(&p->turn_cond);
	pthread_mutex_unlock(&p->lock);
	if (cutter_runs)
		pthread_join(p->cutter, NULL);
	for (int i = 0; i < p->nhashers; i++)
		pthread_join(p->hashers[i], NULL);
	p->nhashers = 0;
}

/* Takes a worker slot and starts the workers; false when none is free. */
static bool worker_start(struct chunk_pipe *p)
{
	if (__atomic_fetch_add(&workers, 1, __ATOMIC_SEQ_CST) >= PIPE_THREADS)
		goto fail;
	/* the carry the caller's chunking left, if any */
	p->carry = p->cs.buf;
	p->carry_len = p->cs.len;
	p->carry_b = NULL;
	for (int i = 0; i < PIPE_HASHERS; i++) {
		if (pthread_create(&p->hashers[p->nhashers], NULL, hasher, p))
			break;
		p->nhashers++;
	}
	if (!p->nhashers)
		goto fail;
	if (pthread_create(&p->cutter, NULL, cutter, p)) {
		workers_stop(p, false);
		/* nothing was queued: the pipe is as it was */
		p->stop = false;
		p->err = 0;
		goto fail;
	}
	p->started = true;
	return true;
fail:
	__atomic_fetch_sub(&workers, 1, __ATOMIC_SEQ_CST);
	return false;
}

/* Hands the full block to the workers, or chunks it here when there are none. */
static int block_queue(struct chunk_pipe *p)
{
	int ret = 0;

	if (!p->started && !worker_start(p)) {
		p->inline_only = true;
		ret = chunk_stream_add(&p->cs, BLOCK_DATA(p->cur), p->cur->len);
		block_free(p->cur);
	}
	pthread_mutex_lock(&p->lock);
	if (p->inline_only) {
		p->blocks--;
	} else {
		p->cur->refs = 1;
		*p->tail = p->cur;
		p->tail = &p->cur->next;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	p->cur = NULL;
	return ret;
}

/* The receive buffer lent to this thread's pipe writes (store/chunk_rx.h), or NULL. */
static __thread struct block *lent;

struct chunk_rx *chunk_rx_new(void)
{
	return (struct chunk_rx *)block_new();
}

void chunk_rx_free(struct chunk_rx *rx)
{
	block_free((struct block *)rx);
}

uint8_t *chunk_rx_area(struct chunk_rx *rx, size_t head)
{
	return BLOCK_DATA((struct block *)rx) - head;
}

void chunk_rx_lend(struct chunk_rx *rx)
{
	lent = (struct block *)rx;
}

bool chunk_rx_back(void)
{
	bool ours = lent != NULL;

	lent = NULL;
	return ours;
}

/*
 * Takes the lent receive buffer as the next block instead of copying
 * it: what the caller filled goes first, and the pipe still holds at
 * most PIPE_BLOCKS blocks (a free one goes back to the cache for the
 * lender's next buffer).
 */
static int adopt(struct chunk_pipe *p, size_t len)
{
	struct block *b = lent, *spare;
	int ret = 0;

	if (p->cur && p->cur->len)
		ret = block_queue(p);
	if (ret)
		return ret;
	pthread_mutex_lock(&p->lock);
	if (p->cur) {
		p->cur->next = p->free;
		p->free = p->cur;
		p->cur = NULL;
	}
	ret = slot_take(p, &spare);
	pthread_mutex_unlock(&p->lock);
	if (ret)
		return ret;
	block_free(spare);
	/* the pipe's now: the lender must not receive into it again */
	lent = NULL;
	b->len = len;
	b->refs = 0;
	b->next = NULL;
	p->cur = b;
	return block_queue(p);
}

int chunk_pipe_write(struct chunk_pipe *p, const void *buf, size_t len)
{
	const uint8_t *src = buf;
	size_t n;
	int ret = pipe_err(p);

	if (!ret && lent && src == BLOCK_DATA(lent) && len == PIPE_BLOCK && !p->inline_only)
		return (ret = adopt(p, len)) ? pipe_fail(p, ret) : 0;
	while (!ret && len) {
		if (p->inline_only) {
			ret = chunk_stream_add(&p->cs, src, len);
			break;
		}
		if (!p->cur) {
			ret = block_get(p, &p->cur);
			if (ret)
				break;
		}
		n = PIPE_BLOCK - p->cur->len < len ? PIPE_BLOCK - p->cur->len : len;
		memcpy(BLOCK_DATA(p->cur) + p->cur->len, src, n);
		p->cur->len += n;
		src += n;
		len -= n;
		if (p->cur->len == PIPE_BLOCK)
			ret = block_queue(p);
	}
	return ret ? pipe_fail(p, ret) : 0;
}

/* The workers are idle: the carry goes back to the stream, which is the caller's again. */
static void carry_return(struct chunk_pipe *p)
{
	if (p->carry_b) {
		if (!p->cs.buf)
			p->cs.buf = xmalloc(STREAM_BUF);
		memcpy(p->cs.buf, p->carry, p->carry_len);
		pthread_mutex_lock(&p->lock);
		block_put(p, p->carry_b);
		pthread_mutex_unlock(&p->lock);
		p->carry_b = NULL;
	}
	p->carry = p->cs.buf;
	p->cs.len = p->carry_len;
}

int chunk_pipe_drain(struct chunk_pipe *p)
{
	int ret = pipe_err(p);

	if (!ret && !p->started && p->cur) {
		ret = chunk_stream_add(&p->cs, BLOCK_DATA(p->cur), p->cur->len);
		p->cur->len = 0;
	} else if (!ret && p->started) {
		if (p->cur && p->cur->len)
			ret = block_queue(p);
		/* even after a failure: no worker may still be using what becomes the caller's */
		pthread_mutex_lock(&p->lock);
		while (p->queue || p->busy || p->store_seq != p->cut_seq) {
			p->store_wait = true;
			pthread_cond_wait(&p->cond, &p->lock);
		}
		if (!ret)
			ret = p->err;
		pthread_mutex_unlock(&p->lock);
		if (!ret)
			carry_return(p);
	}
	return ret ? pipe_fail(p, ret) : 0;
}

struct chunk_stream *chunk_pipe_stream(struct chunk_pipe *p)
{
	return &p->cs;
}

static void blocks_free(struct block *b)
{
	while (b) {
		struct block *next = b->next;

		block_free(b);
		b = next;
	}
}

void chunk_pipe_free(struct chunk_pipe *p)
{
	if (!p)
		return;
	if (p->started) {
		workers_stop(p, true);
		__atomic_fetch_sub(&workers, 1, __ATOMIC_SEQ_CST);
	}
	/* every job is done: the carry's is the only block with a ref left */
	block_free(p->carry_b);
	blocks_free(p->queue);
	blocks_free(p->free);
	block_free(p->cur);
	chunk_stream_release(&p->cs);
	pthread_cond_destroy(&p->cond);
	pthread_cond_destroy(&p->job_cond);
	pthread_cond_destroy(&p->turn_cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
