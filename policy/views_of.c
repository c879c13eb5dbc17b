/*
 * policy/views_of.c - every view the readers of a file may be given.
 *
 * The daemon builds these ahead of the first read after a commit, so a
 * masked read costs about what a plain one does, and asks whether there
 * are any at all: a file whose bytes and size depend on who reads it
 * must never share the kernel's page cache between callers.
 */
#include "common/alloc.h"
#include "policy/model.h"


#include <errno.h>
#include <stdlib.h>
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

/* Whether department d reads en through its fallback view at now. */
static bool fallback_wanted(const struct policy *p, const struct pol_entry *en, size_t d,
			    time_t now)
{
	bool holds = false;

	if (now == (time_t)-1)
		return true;
	for (size_t i = 0; i < en->ngrants; i++) {
		const struct pol_grant *g = &p->grants[en->grants[i]];

		if (g->dept != d)
			continue;
		holds = true;
		if ((g->actions & POL_ACT_READ) && g->from <= (int64_t)now &&
		    (int64_t)now < g->until)
			return false;
	}
	/* a department without grants gets its hashed defaults at first read */
	return holds;
}

struct views_walk {
	const struct policy_view **seen;
	size_t nseen;
	int (*fn)(const struct policy_view *v, void *arg);
	void *arg;
};

/* Calls fn for v unless a view of the same fingerprint came before; 1, 0 or fn's error. */
static int emit(struct views_walk *w, const struct policy_view *v)
{
	int r;

	if (!v)
		return 0;
	for (size_t i = 0; i < w->nseen; i++)
		if (same_view(w->seen[i], v))
			return 0;
	w->seen[w->nseen++] = v;
	if (w->fn && (r = w->fn(v, w->arg)) < 0)
		return r;
	return 1;
}

int policy_entry_views(const struct policy *p, const char *path, time_t now,
		       int (*fn)(const struct policy_view *v, void *arg), void *arg)
{
	struct views_walk w = { NULL, 0, fn, arg };
	const struct pol_node *node;
	const struct pol_entry *en;
	int n = 0, r = 0;

	if (!p || !path || p->allow_all)
		return 0;
	if (pol_classify(p, path, &node) != POLICY_PATH_INSIDE || !node)
		return 0;
	en = &p->entries[node->entry];
	/* the provider alone reads it, raw */
	if (en->share == POL_SHARE_NONE)
		return 0;
	w.seen = xcalloc(en->ngrants + p->ndepts + 1, sizeof(*w.seen));
	if (en->share == POL_SHARE_UNCONDITIONAL) {
		/* a hashing default is only ever read through a department's own */
		if (!en->deflt_hashes)
			r = emit(&w, en->deflt_view);
		n += r > 0;
		for (size_t d = 0; r >= 0 && en->fallback && d < p->ndepts; d++) {
			if (!en->fallback[d] || !fallback_wanted(p, en, d, now))
				continue;
			r = emit(&w, en->fallback[d]);
			n += r > 0;
		}
	}
	for (size_t i = 0; r >= 0 && i < en->ngrants; i++) {
		const struct pol_grant *g = &p->grants[en->grants[i]];

		if (!wanted(g, now))
			continue;
		r = emit(&w, g->view);
		n += r > 0;
	}
	free(w.seen);
	return r < 0 ? r : n;
}
