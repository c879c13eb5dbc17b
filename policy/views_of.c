/*
 * policy/views_of.c - every view the readers of a file may be given.
 *
 * The daemon builds these ahead of the first read after a commit, so a
 * masked read costs about what a plain one does, and asks whether there
 * are any at all: a file whose bytes and size depend on who reads it
 * must never share the kernel's page cache between callers.
 */
#include "policy/model.h"

#include <string.h>

static bool wanted(const struct pol_grant *g, time_t now)
{
	if (!g->view)
		return false;
	/* any time: a write-only grant's view still sets what its holder's stat() shows */
	if (now == (time_t)-1)
		return true;
	return (g->actions & POL_ACT_READ) && g->from <= (int64_t)now &&
	       (int64_t)now < g->until;
}

static bool same_view(const struct policy_view *a, const struct policy_view *b)
{
	return !memcmp(a->rules.fingerprint, b->rules.fingerprint,
		       sizeof(a->rules.fingerprint));
}

static const struct policy_view *default_view(const struct pol_entry *en)
{
	return en->share == POL_SHARE_UNCONDITIONAL ? en->deflt_view : NULL;
}

/* Whether v is the default view or that of a grant before index upto. */
static bool seen_before(const struct policy *p, const struct pol_entry *en, size_t upto,
			time_t now, const struct policy_view *v)
{
	if (default_view(en) && same_view(default_view(en), v))
		return true;
	for (size_t i = 0; i < upto; i++) {
		const struct pol_grant *g = &p->grants[en->grants[i]];

		if (wanted(g, now) && same_view(g->view, v))
			return true;
	}
	return false;
}

int policy_entry_views(const struct policy *p, const char *path, time_t now,
		       int (*fn)(const struct policy_view *v, void *arg), void *arg)
{
	const struct pol_node *node;
	const struct pol_entry *en;
	int n = 0, r;

	if (!p || !path || p->allow_all)
		return 0;
	if (pol_classify(p, path, &node) != POLICY_PATH_INSIDE || !node)
		return 0;
	en = &p->entries[node->entry];
	/* the provider alone reads it, raw */
	if (en->share == POL_SHARE_NONE)
		return 0;
	if (default_view(en)) {
		if (fn && (r = fn(default_view(en), arg)) < 0)
			return r;
		n++;
	}
	for (size_t i = 0; i < en->ngrants; i++) {
		const struct pol_grant *g = &p->grants[en->grants[i]];

		if (!wanted(g, now) || seen_before(p, en, i, now, g->view))
			continue;
		if (fn && (r = fn(g->view, arg)) < 0)
			return r;
		n++;
	}
	return n;
}
