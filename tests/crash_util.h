/*
 * tests/crash_util.h - kill -9 at a point of a child's work, not of the
 * clock: the child (an exec of the test binary) writes one byte to a
 * pipe after each step it finished, and the parent waits for some of
 * them before it kills. A fixed delay after the fork stops meaning
 * anything on a loaded machine, where the exec and the store's open alone
 * can outlast it and every kill lands before the first step.
 */
#ifndef POOL_TEST_CRASH_UTIL_H
#define POOL_TEST_CRASH_UTIL_H

#include <poll.h>
#include <stdbool.h>
#include <unistd.h>

/*
 * Waits until the child has reported n steps on fd; false when it ended
 * first (or reported nothing for two minutes: it hangs).
 */
static inline bool crash_wait(int fd, int n)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	for (; n > 0; n--)
		if (poll(&p, 1, 120000) != 1 || read(fd, &c, 1) != 1)
			return false;
	return true;
}

#endif
