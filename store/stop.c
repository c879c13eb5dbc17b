/*
 * store/stop.c - the process-wide stop request of store/limits.h.
 *
 * A signal handler sets it, so it is one lock-free atomic and
 * clock_gettime(), both async-signal-safe.
 */
#include "store/limits.h"

#include <time.h>

static int64_t stop_at;		/* CLOCK_MONOTONIC ns of the request; 0: none */

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void store_stop_request(void)
{
	int64_t none = 0, now = mono_ns();

	/* the first request starts the grace period; later ones do not extend it */
	__atomic_compare_exchange_n(&stop_at, &none, now ? now : 1, false, __ATOMIC_SEQ_CST,
				    __ATOMIC_SEQ_CST);
}

bool store_stop_due(void)
{
	int64_t at = __atomic_load_n(&stop_at, __ATOMIC_RELAXED);

	return at && mono_ns() - at >= STORE_STOP_GRACE_NS;
}
