/*
 * store/chunk_pipe.c - chunking, hashing and storing a byte stream on a
 * second thread while the writer goes on writing.
 *
 * A daemon thread serving one sequential writer (cp, dd, an ETL job)
 * gets the next request only after it replies to the last, so work done
 * inline adds to every request's latency; SHA-256 and RocksDB's puts are
 * most of it. The pipe copies each request into a block and returns; a
 * worker started with the first full block chunks the blocks in order.
 * At most PIPE_BLOCKS blocks exist, so a writer faster than the worker
 * waits for it instead of queueing the file in memory. A stream that
 * never fills a block (a small file) is chunked by the caller of
 * chunk_pipe_drain() and starts no thread. At most PIPE_THREADS workers
 * run in the process: a pipe that finds none free chunks in its caller's
 * thread, straight from the caller's buffers, so a hundred files written
 * at once cost neither a hundred threads nor their blocks.
 */
#include "common/alloc.h"
#include "store/content.h"


#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PIPE_BLOCK	(1u << 20)
#define PIPE_BLOCKS	4
#define PIPE_THREADS	8

static int workers;			/* running in the process; atomic */

struct block {
	struct block *next;
	size_t len;
	uint8_t data[];
};

struct chunk_pipe {
	struct chunk_stream cs;		/* the worker's while it runs, else the caller's */
	struct block *cur;		/* being filled by the caller; caller only */

	pthread_mutex_t lock;
	pthread_cond_t cond;		/* any change below */
	struct block *queue, **tail;	/* full blocks in order; protected by lock */
	struct block *free;		/* protected by lock */
	size_t blocks;			/* allocated; protected by lock */
	bool busy;			/* worker holds a block; protected by lock */
	bool stop;			/* protected by lock */
	int err;			/* the first failure; protected by lock */
	bool started;			/* a worker runs */
	bool inline_only;		/* no worker was free: the caller chunks */
	pthread_t thread;
};

struct chunk_pipe *chunk_pipe_new(struct chunk_writer *cw, struct chunk_list *out)
{
	struct chunk_pipe *p = xcalloc(1, sizeof(*p));

	chunk_stream_init(&p->cs, cw, out);
	p->tail = &p->queue;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	return p;
}

static void *worker(void *arg)
{
	struct chunk_pipe *p = arg;
	struct block *b;
	bool failed;
	int ret;

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
		pthread_mutex_unlock(&p->lock);

		ret = failed ? 0 : chunk_stream_add(&p->cs, b->data, b->len);

		pthread_mutex_lock(&p->lock);
		if (ret && !p->err)
			p->err = ret;
		b->next = p->free;
		p->free = b;
		p->busy = false;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* A free block, waiting for the worker to give one back when all are in use. */
static int block_get(struct chunk_pipe *p, struct block **out)
{
	struct block *b = NULL;
	int ret;

	pthread_mutex_lock(&p->lock);
	while (!p->free && p->blocks == PIPE_BLOCKS && !p->err)
		pthread_cond_wait(&p->cond, &p->lock);
	ret = p->err;
	if (!ret && p->free) {
		b = p->free;
		p->free = b->next;
	} else if (!ret) {
		b = xmalloc(sizeof(*b) + PIPE_BLOCK);
		p->blocks++;
	}
	pthread_mutex_unlock(&p->lock);
	if (b) {
		b->len = 0;
		b->next = NULL;
	}
	*out = b;
	return ret;
}

/* Takes a worker slot and starts the worker; false when none is free. */
static bool worker_start(struct chunk_pipe *p)
{
	if (__atomic_fetch_add(&workers, 1, __ATOMIC_SEQ_CST) >= PIPE_THREADS) {
		__atomic_fetch_sub(&workers, 1, __ATOMIC_SEQ_CST);
		return false;
	}
	if (pthread_create(&p->thread, NULL, worker, p)) {
		__atomic_fetch_sub(&workers, 1, __ATOMIC_SEQ_CST);
		return false;
	}
	p->started = true;
	return true;
}

/* Hands the full block to the worker, or chunks it here when there is none. */
static int block_queue(struct chunk_pipe *p)
{
	int ret = 0;

	if (!p->started && !worker_start(p)) {
		p->inline_only = true;
		ret = chunk_stream_add(&p->cs, p->cur->data, p->cur->len);
		free(p->cur);
	}
	pthread_mutex_lock(&p->lock);
	if (p->inline_only) {
		p->blocks--;
	} else {
		*p->tail = p->cur;
		p->tail = &p->cur->next;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	p->cur = NULL;
	return ret;
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
	if (!p->err)
		p->err = err;
	err = p->err;
	pthread_mutex_unlock(&p->lock);
	return err;
}

int chunk_pipe_write(struct chunk_pipe *p, const void *buf, size_t len)
{
	const uint8_t *src = buf;
	size_t n;
	int ret = pipe_err(p);

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
		memcpy(p->cur->data + p->cur->len, src, n);
		p->cur->len += n;
		src += n;
		len -= n;
		if (p->cur->len == PIPE_BLOCK)
			ret = block_queue(p);
	}
	return ret ? pipe_fail(p, ret) : 0;
}

int chunk_pipe_drain(struct chunk_pipe *p)
{
	int ret = pipe_err(p);

	if (!ret && !p->started && p->cur) {
		ret = chunk_stream_add(&p->cs, p->cur->data, p->cur->len);
		p->cur->len = 0;
	} else if (!ret && p->started) {
		if (p->cur && p->cur->len)
			ret = block_queue(p);
		pthread_mutex_lock(&p->lock);
		while (!ret && !p->err && (p->queue || p->busy))
			pthread_cond_wait(&p->cond, &p->lock);
		if (!ret)
			ret = p->err;
		pthread_mutex_unlock(&p->lock);
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

		free(b);
		b = next;
	}
}

void chunk_pipe_free(struct chunk_pipe *p)
{
	if (!p)
		return;
	if (p->started) {
		pthread_mutex_lock(&p->lock);
		p->stop = true;
		/* bytes still queued are dropped: the caller drained what it wanted */
		if (!p->err)
			p->err = -ECANCELED;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
		__atomic_fetch_sub(&workers, 1, __ATOMIC_SEQ_CST);
	}
	blocks_free(p->queue);
	blocks_free(p->free);
	free(p->cur);
	chunk_stream_release(&p->cs);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
