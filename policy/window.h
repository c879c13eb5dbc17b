/*
 * policy/window.h - when the grants' validity windows next change what
 * some caller may do, so the daemon can drop what the kernel cached
 * under the old answer (fs/control.c).
 */
#ifndef POOL_POLICY_WINDOW_H
#define POOL_POLICY_WINDOW_H

#include <stdint.h>

struct policy;

/*
 * The first instant (seconds since the epoch) after now at which a
 * grant of p begins or ends; INT64_MAX when none will (p NULL too).
 */
int64_t policy_next_window_change(const struct policy *p, int64_t now);

#endif
