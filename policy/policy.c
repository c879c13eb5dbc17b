/*
 * policy/policy.c - placeholder until the policy model lands: only the
 * built-in allow-all policy exists; parsing a document is refused.
 */
#include "policy/policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct policy {
	int refs;
	int allow_all;
};

static struct policy allow_all_policy = { 1, 1 };

int policy_parse(const char *json, size_t len, struct policy **out, struct perr *e)
{
	*out = NULL;
	return perr_set(e, ENOSYS, "policy documents are not supported yet");
}

struct policy *policy_allow_all(void)
{
	return &allow_all_policy;
}

struct policy *policy_get(struct policy *p)
{
	if (p && p != &allow_all_policy)
		__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
	return p;
}

void policy_put(struct policy *p)
{
	if (p && p != &allow_all_policy &&
	    __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(p);
}

int policy_decide(const struct policy *p, const struct policy_caller *c,
		  const char *path, enum policy_action action, time_t now,
		  struct policy_decision *d)
{
	memset(d, 0, sizeof(*d));
	/* fail closed: anything but the allow-all policy denies */
	if (!p || !p->allow_all) {
		d->err = -EACCES;
		snprintf(d->reason, sizeof(d->reason), "no policy");
		return 0;
	}
	d->allow = 1;
	snprintf(d->reason, sizeof(d->reason), "allow-all policy");
	return 0;
}
