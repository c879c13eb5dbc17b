/*
 * fs/loop.c - the multi-threaded session loop, receiving each request
 * into a buffer a chunk pipe can take over.
 *
 * It does what fuse_session_loop_mt() does for this daemon (a pool of
 * threads, each reading a request from /dev/fuse and processing it) with
 * one difference: the buffer. libfuse reads into a buffer of its own, so
 * every byte of a sequential write was copied from there into a chunk
 * pipe's block. Here a thread reads into a receive buffer
 * (store/chunk_rx.h) laid out so a WRITE's payload lands where a block's
 * data starts, and lends it to the pipes while the request is processed:
 * a 1 MiB write to a file written front to back becomes the pipe's next
 * block as it is, and the thread takes a fresh buffer for its next
 * request. The threads are started up front (no idle-thread accounting:
 * each is one blocked read) and a signal or the unmount ends them as
 * libfuse's loop does: the session is marked exited, the threads blocked
 * in read() are cancelled, the one in a request finishes it first.
 */
#include "fs/loop.h"

#include <errno.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "store/chunk_rx.h"

/* a WRITE's header: its payload follows, at the receive buffer's data */
#define RX_HEAD	(sizeof(struct fuse_in_header) + sizeof(struct fuse_write_in))
/* the receive buffer's data is 16-aligned: so is the header in front of it */
_Static_assert(RX_HEAD % 16 == 0, "a request's structs are read aligned");

/* the kernel refuses a read with less room than a header and max_write */
_Static_assert(FS_MAX_WRITE <= CHUNK_RX_DATA, "a receive buffer holds the largest write");

struct loop {
	struct fuse_session *se;
	int fd;
	sem_t done;			/* a thread left its loop */
	int err;			/* the first read failure; atomic */
};

static void rx_drop(void *arg)
{
	struct chunk_rx **rx = arg;

	chunk_rx_free(*rx);
	free(rx);
}

/* One request; false when the loop must end. */
static bool serve(struct loop *lp, struct chunk_rx **rx)
{
	uint8_t *area;
	ssize_t n;
	int err, old;

	if (!*rx)
		*rx = chunk_rx_new();
	area = chunk_rx_area(*rx, RX_HEAD);
	/* the kernel wants room for max_write (fs_ll_init: FS_MAX_WRITE) after the header */
	n = read(lp->fd, area, RX_HEAD + CHUNK_RX_DATA);
	if (fuse_session_exited(lp->se))
		return false;
	if (n < 0) {
		err = errno;
		/* a signal, or a request taken back by the kernel before we read it */
		if (err == EINTR || err == EAGAIN || err == ENOENT)
			return true;
		/* ENODEV: unmounted */
		if (err != ENODEV) {
			log_err("reading /dev/fuse: %s", strerror(err));
			__atomic_compare_exchange_n(&lp->err, &(int){ 0 }, -err, false,
						    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		}
		fuse_session_exit(lp->se);
		return false;
	}
	if ((size_t)n < sizeof(struct fuse_in_header)) {
		log_err("reading /dev/fuse: a short request (%zd bytes)", n);
		__atomic_compare_exchange_n(&lp->err, &(int){ 0 }, -EIO, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		fuse_session_exit(lp->se);
		return false;
	}
	/* a request is answered whole: no cancel in the middle of one */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	chunk_rx_lend(*rx);
	fuse_session_process_buf(lp->se, &(struct fuse_buf){ .size = (size_t)n, .mem = area });
	if (!chunk_rx_back())
		*rx = NULL;
	pthread_setcancelstate(old, NULL);
	return true;
}

static void *worker(void *arg)
{
	struct loop *lp = arg;
	/* through a pointer: the cleanup's setjmp must not see a local change */
	struct chunk_rx **rx = xcalloc(1, sizeof(*rx));

	pthread_cleanup_push(rx_drop, rx);
	while (serve(lp, rx))
		;
	pthread_cleanup_pop(1);
	sem_post(&lp->done);
	return NULL;
}

int fs_loop_run(struct fuse_session *se, unsigned threads)
{
	struct loop lp = { .se = se, .fd = fuse_session_fd(se) };
	pthread_t *t = xcalloc(threads, sizeof(*t));
	unsigned started = 0;
	int ret = 0;

	if (sem_init(&lp.done, 0, 0) < 0) {
		ret = -errno;
		goto out;
	}
	for (; started < threads; started++) {
		ret = pthread_create(&t[started], NULL, worker, &lp);
		if (ret) {
			log_err("session loop: cannot start a thread: %s", strerror(ret));
			ret = -ret;
			fuse_session_exit(se);
			break;
		}
	}
	/* a signal lands in any thread; a worker that saw it posts done */
	while (!fuse_session_exited(se))
		sem_wait(&lp.done);
	for (unsigned i = 0; i < started; i++)
		pthread_cancel(t[i]);
	for (unsigned i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	sem_destroy(&lp.done);
	if (started == threads)
		ret = __atomic_load_n(&lp.err, __ATOMIC_SEQ_CST);
out:
	free(t);
	return ret;
}
