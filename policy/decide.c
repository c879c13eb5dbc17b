/*
 * policy/decide.c - the decision: may this caller do this to this path,
 * and through which view.
 *
 * Deny by default. Inside an entry the provider has everything raw; share
 * none hides the entry from everyone else (-ENOENT, so its existence does
 * not leak); conditional needs a grant in force with the action;
 * unconditional lets every known department read through the tag
 * defaults unless a grant in force says otherwise. Above the entries the
 * tree is read-only and shows a department only the branches that lead
 * to something it may see.
 */
#include "policy/model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strcopy.h"

static const char *const meta_files[] = { "/.poolfs", "/.poolfs/catalog.json",
					  "/.poolfs/whoami" };

static int path_valid(const char *path)
{
	size_t len = strlen(path);

	/* no length limit: a caller nests directories by chdir as deep as it likes */
	if (path[0] != '/')
		return 0;
	if (len == 1)
		return 1;
	if (path[len - 1] == '/' || strstr(path, "//") || strstr(path, "/./") ||
	    strstr(path, "/../"))
		return 0;
	if ((len >= 2 && strcmp(path + len - 2, "/.") == 0) ||
	    (len >= 3 && strcmp(path + len - 3, "/..") == 0))
		return 0;
	return 1;
}

enum policy_path_kind pol_classify(const struct policy *p, const char *path,
				   const struct pol_node **node)
{
	size_t len = strlen(path);
	const struct pol_node *n;

	*node = NULL;
	if (!path_valid(path))
		return POLICY_PATH_INVALID;
	if (len == 1)
		return POLICY_PATH_ROOT;
	if (strncmp(path, "/.poolfs", 8) == 0 && (path[8] == '\0' || path[8] == '/')) {
		for (size_t i = 0; i < sizeof(meta_files) / sizeof(meta_files[0]); i++)
			if (strcmp(path, meta_files[i]) == 0)
				return POLICY_PATH_META;
		return POLICY_PATH_OUTSIDE;
	}
	n = pol_node_find(p, path, len);
	if (n) {
		*node = n;
		return n->kind == POL_NODE_ENTRY ? POLICY_PATH_ENTRY : POLICY_PATH_ANCESTOR;
	}
	for (size_t k = len - 1; k > 0; k--) {
		if (path[k] != '/')
			continue;
		n = pol_node_find(p, path, k);
		if (!n)
			continue;
		if (n->kind == POL_NODE_ANCESTOR)
			return POLICY_PATH_OUTSIDE;
		*node = n;
		return POLICY_PATH_INSIDE;
	}
	return POLICY_PATH_OUTSIDE;
}

enum policy_path_kind policy_path_kind(const struct policy *p, const char *path)
{
	const struct pol_node *n;

	if (!p || !path)
		return POLICY_PATH_INVALID;
	return pol_classify(p, path, &n);
}

/*
 * What a path that is hidden from the caller answers: the same as a name
 * that is not there at all, for every action. Outside every entry a
 * lookup finds nothing (ENOENT) and a create is refused (EACCES: nothing
 * is made above entries); a share-none entry or an ancestor leading only
 * to hidden entries answering ENOENT to mkdir would name itself.
 */
static int absent_err(enum policy_action action)
{
	return action == POLICY_CREATE ? -EACCES : -ENOENT;
}

static int ancestor_visible(const struct policy *p, const struct pol_node *n, long dept)
{
	if (n->nshared)
		return 1;
	for (size_t i = 0; i < n->nbelow; i++)
		if ((long)p->entries[n->below[i]].provider == dept)
			return 1;
	return 0;
}

static void window_text(const struct pol_grant *g, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", g->valid_from ? "valid from " : "",
		 g->valid_from ? g->valid_from : "",
		 g->valid_until ? (g->valid_from ? " until " : "valid until ") : "",
		 g->valid_until ? g->valid_until : "");
	if (!g->valid_from && !g->valid_until)
		snprintf(buf, len, "no time limit");
}

/* The department's grant in force on en, else (in *invalid) one that is not. */
static long find_grant(const struct policy *p, const struct pol_entry *en, long dept,
		       int64_t now, long *invalid)
{
	long expired = -1, future = -1;

	for (size_t i = 0; i < en->ngrants; i++) {
		const struct pol_grant *g = &p->grants[en->grants[i]];

		if ((long)g->dept != dept)
			continue;
		if (g->from <= now && now < g->until)
			return (long)en->grants[i];
		if (now < g->from) {
			if (future < 0 || g->from < p->grants[future].from)
				future = (long)en->grants[i];
		} else if (expired < 0 || g->until > p->grants[expired].until) {
			expired = (long)en->grants[i];
		}
	}
	*invalid = future >= 0 ? future : expired;
	return -1;
}

static void allow(struct policy_decision *d, const struct policy_view *v)
{
	d->allow = 1;
	d->err = 0;
	d->view = v;
}

/* Names the key a hashed view uses, so the audit record explains its tokens. */
static void key_note(struct policy_decision *d)
{
	const struct view_rules *r = d->view ? &d->view->rules : NULL;
	size_t n = strlen(d->reason);

	if (r && r->hash_dept)
		snprintf(d->reason + n, sizeof(d->reason) - n, "; hash key v%u of \"%s\"",
			 r->hash_key_version, r->hash_dept);
}

static void deny_reason(const struct policy *p, const struct pol_entry *en, long dept,
			long gi, long inv, unsigned need, int64_t now,
			struct policy_decision *d)
{
	char win[160];

	d->err = -EACCES;
	if (gi >= 0) {
		snprintf(d->reason, sizeof(d->reason), "grant \"%s\" does not allow %s",
			 p->grants[gi].id, need == POL_ACT_READ ? "read" : "write");
	} else if (inv >= 0) {
		window_text(&p->grants[inv], win, sizeof(win));
		snprintf(d->reason, sizeof(d->reason), "grant \"%s\" %s (%s)",
			 p->grants[inv].id, now < p->grants[inv].from ?
			 "is not yet valid" : "has expired", win);
	} else {
		snprintf(d->reason, sizeof(d->reason), "no grant for department \"%s\" "
			 "to %s \"%s\"", p->depts[dept].id,
			 need == POL_ACT_READ ? "read" : "write to", en->code);
	}
}

void pol_decide_entry(const struct policy *p, const struct pol_ident *id,
		      size_t ei, bool is_root, enum policy_action action,
		      time_t now, struct policy_decision *d, long *grant)
{
	const struct pol_entry *en = &p->entries[ei];
	unsigned need = action <= POLICY_READ ? POL_ACT_READ : POL_ACT_WRITE;
	long gi, inv = -1;
	char win[160];

	*grant = -1;
	d->err = -EACCES;
	str_copy(d->code, sizeof(d->code), en->code);
	if ((size_t)id->dept == en->provider) {
		if (is_root && action == POLICY_DELETE) {
			snprintf(d->reason, sizeof(d->reason), "the directory of entry "
				 "\"%s\" is defined by the policy", en->code);
			return;
		}
		allow(d, NULL);
		snprintf(d->reason, sizeof(d->reason), "provider of \"%s\"", en->code);
		return;
	}
	if (en->share == POL_SHARE_NONE) {
		/* fail closed: not even its existence is shown to others */
		d->err = absent_err(action);
		snprintf(d->reason, sizeof(d->reason), "entry \"%s\" is not shared", en->code);
		return;
	}
	gi = find_grant(p, en, id->dept, (int64_t)now, &inv);
	*grant = gi >= 0 ? gi : inv;
	if (is_root && (action == POLICY_CREATE || action == POLICY_DELETE)) {
		snprintf(d->reason, sizeof(d->reason), "only the provider creates or "
			 "removes the directory of entry \"%s\"", en->code);
		return;
	}
	/* a writer must be able to look up the names it writes over */
	if (action == POLICY_LOOKUP && gi >= 0)
		need = p->grants[gi].actions;
	if (gi >= 0 && (p->grants[gi].actions & need)) {
		/* a write-only grant shows its holder what it reads, never another view */
		allow(d, !(p->grants[gi].actions & POL_ACT_READ) &&
		      en->share == POL_SHARE_UNCONDITIONAL ?
		      pol_fallback_view(en, (size_t)id->dept) : p->grants[gi].view);
		str_copy(d->grant, sizeof(d->grant), p->grants[gi].id);
		window_text(&p->grants[gi], win, sizeof(win));
		snprintf(d->reason, sizeof(d->reason), "grant \"%s\" (%s)",
			 p->grants[gi].id, win);
		key_note(d);
		return;
	}
	if (need == POL_ACT_READ && en->share == POL_SHARE_UNCONDITIONAL) {
		allow(d, pol_fallback_view(en, (size_t)id->dept));
		if (gi < 0 && inv >= 0)
			snprintf(d->reason, sizeof(d->reason), "unconditional share, tag "
				 "defaults with the restrictions of grant \"%s\" (%s)",
				 p->grants[inv].id, now < p->grants[inv].from ?
				 "not yet valid" : "expired");
		else
			snprintf(d->reason, sizeof(d->reason), "unconditional share, tag defaults");
		*grant = gi >= 0 ? gi : inv;
		key_note(d);
		return;
	}
	if (is_root && action == POLICY_LOOKUP) {
		/* the catalog is public inside the pool: departments apply for grants */
		allow(d, NULL);
		snprintf(d->reason, sizeof(d->reason), "entry \"%s\" is listed in the "
			 "catalog", en->code);
		return;
	}
	deny_reason(p, en, id->dept, gi, inv, need, (int64_t)now, d);
}

static void decide_outside(const struct policy *p, enum policy_path_kind kind,
			   const struct pol_node *n, long dept,
			   enum policy_action action, struct policy_decision *d)
{
	int readlike = action <= POLICY_READ;

	d->err = -EACCES;
	if (kind == POLICY_PATH_ANCESTOR && !ancestor_visible(p, n, dept)) {
		d->err = absent_err(action);
		snprintf(d->reason, sizeof(d->reason), "no entry visible to \"%s\" below",
			 p->depts[dept].id);
	} else if (kind == POLICY_PATH_OUTSIDE) {
		d->err = absent_err(action);
		snprintf(d->reason, sizeof(d->reason), "outside every catalog entry");
	} else if (readlike) {
		allow(d, NULL);
		snprintf(d->reason, sizeof(d->reason), kind == POLICY_PATH_META ?
			 "pool metadata" : "directory above catalog entries");
	} else {
		/* fail closed: data lives only inside entries; the tree above is the policy's */
		snprintf(d->reason, sizeof(d->reason), kind == POLICY_PATH_META ?
			 "pool metadata is read-only" :
			 "only catalog entries hold data; directories above them "
			 "follow the policy");
	}
}

int pol_decide(const struct policy *p, const struct policy_caller *c,
	       const char *path, enum policy_action action, time_t now,
	       struct policy_decision *d, struct pol_trace *t)
{
	const struct pol_node *n;
	enum policy_path_kind kind;

	memset(d, 0, sizeof(*d));
	memset(t, 0, sizeof(*t));
	t->entry = t->grant = -1;
	t->ident.dept = -1;
	d->err = -EACCES;
	if (!p || !c || !path || (unsigned)action > POLICY_DELETE) {
		snprintf(d->reason, sizeof(d->reason), "no policy, caller, path or action");
		return -EINVAL;
	}
	if (p->allow_all) {
		allow(d, NULL);
		snprintf(d->reason, sizeof(d->reason), "allow-all policy");
		return 0;
	}
	kind = pol_classify(p, path, &n);
	if (kind == POLICY_PATH_INVALID) {
		d->err = -EINVAL;
		snprintf(d->reason, sizeof(d->reason), "malformed pool path");
		return -EINVAL;
	}
	pol_identify(p, c, &t->ident);
	if (t->ident.dept < 0) {
		snprintf(d->reason, sizeof(d->reason), "%s", t->ident.why);
		return 0;
	}
	str_copy(d->dept, sizeof(d->dept), p->depts[t->ident.dept].id);
	str_copy(d->user, sizeof(d->user), t->ident.user ? t->ident.user : "");
	if (kind != POLICY_PATH_ENTRY && kind != POLICY_PATH_INSIDE) {
		decide_outside(p, kind, n, t->ident.dept, action, d);
		return 0;
	}
	t->entry = (long)n->entry;
	pol_decide_entry(p, &t->ident, n->entry, kind == POLICY_PATH_ENTRY, action,
			 now, d, &t->grant);
	return 0;
}

int policy_decide(const struct policy *p, const struct policy_caller *c,
		  const char *path, enum policy_action action, time_t now,
		  struct policy_decision *d)
{
	struct pol_trace t;

	return pol_decide(p, c, path, action, now, d, &t);
}
