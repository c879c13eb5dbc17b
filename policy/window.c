/*
 * policy/window.c - the next instant a grant's validity window opens or
 * closes (policy/window.h).
 */
#include "policy/window.h"
#include "policy/model.h"

int64_t policy_next_window_change(const struct policy *p, int64_t now)
{
	int64_t next = INT64_MAX;

	if (!p)
		return next;
	for (size_t i = 0; i < p->ngrants; i++) {
		const struct pol_grant *g = &p->grants[i];

		/* from <= now < until: both ends change the answer */
		if (g->from > now && g->from < next)
			next = g->from;
		if (g->until > now && g->until < next)
			next = g->until;
	}
	return next;
}
