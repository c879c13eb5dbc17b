/*
 * fs/heap.c - gives free heap memory back to the kernel every few seconds
 * when there is much of it.
 *
 * fs/main.c tells malloc to keep freed memory (M_TRIM_THRESHOLD 256 MiB,
 * two arenas) so that memtable blocks freed after a flush are reused
 * without page faults. What is in use stays bounded by the caches (64 MiB
 * block cache, 64 MiB of memtables, up to 64 MiB of view segments), but
 * what an arena holds free after a stream stays too: a 2 GiB masked
 * read left ~190 MiB in use and ~250 MiB free in the arenas (RSS 368
 * MiB; 577 MiB after the 10 GiB case), free chunks between live ones
 * that no threshold returns. malloc_trim() returns them (madvise); done
 * every HEAP_TICK seconds, only when more than HEAP_SLACK is free, it
 * costs a stream at most one re-fault of its memtables per tick.
 */
#include "fs/heap.h"

#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "common/log.h"

#define HEAP_TICK	5		/* seconds between looks */
#define HEAP_SLACK	(32u << 20)	/* free bytes in the arenas worth a trim */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool running, stop;
} heap = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
};

static void *heap_main(void *arg)
{
	struct timespec due;

	pthread_mutex_lock(&heap.lock);
	while (!heap.stop) {
		clock_gettime(CLOCK_REALTIME, &due);
		due.tv_sec += HEAP_TICK;
		while (!heap.stop && pthread_cond_timedwait(&heap.wake, &heap.lock, &due) == 0)
			;
		if (heap.stop)
			break;
		pthread_mutex_unlock(&heap.lock);
		/* fordblks: free bytes the arenas hold, their top included */
		if (mallinfo2().fordblks > HEAP_SLACK)
			malloc_trim(0);
		pthread_mutex_lock(&heap.lock);
	}
	pthread_mutex_unlock(&heap.lock);
	return NULL;
}

void fs_heap_start(void)
{
	pthread_mutex_lock(&heap.lock);
	heap.stop = false;
	if (!heap.running && pthread_create(&heap.thread, NULL, heap_main, NULL) == 0)
		heap.running = true;
	else if (!heap.running)
		log_warn("no heap trimming thread: free heap memory stays with the daemon");
	pthread_mutex_unlock(&heap.lock);
}

void fs_heap_stop(void)
{
	pthread_mutex_lock(&heap.lock);
	if (!heap.running) {
		pthread_mutex_unlock(&heap.lock);
		return;
	}
	heap.stop = true;
	pthread_cond_signal(&heap.wake);
	pthread_mutex_unlock(&heap.lock);
	pthread_join(heap.thread, NULL);
	heap.running = false;
}
