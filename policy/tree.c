/*
 * policy/tree.c - the directory tree the catalog implies, as each caller
 * may see it: filtering readdir, naming the directories to show before
 * anything is stored, and the entry behind a path for xattrs.
 *
 * Visibility is always the LOOKUP decision on the child, so a listing
 * can never show a name that lookup would then hide or deny.
 */
#include "policy/model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int child_path(const char *dir, const char *name, struct strbuf *out)
{
	if (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return -EINVAL;
	strbuf_addstr(out, dir);
	if (strcmp(dir, "/") != 0)
		strbuf_addch(out, '/');
	strbuf_addstr(out, name);
	return 0;
}

int policy_visible_child(const struct policy *p, const struct policy_caller *c,
			 const char *dir_path, const char *name, time_t now)
{
	struct strbuf path = STRBUF_INIT;
	struct policy_decision d;
	int rc;

	if (!p || !c || !dir_path || !name)
		return -EINVAL;
	rc = child_path(dir_path, name, &path);
	if (rc)
		goto out;
	rc = policy_decide(p, c, path.buf, POLICY_LOOKUP, now, &d);
	if (!rc)
		rc = d.allow;
out:
	strbuf_release(&path);
	return rc;
}

/* Name of node n if it sits directly under dir (length dlen), else NULL. */
static const char *direct_child(const struct pol_node *n, const char *dir, size_t dlen)
{
	const char *rest;

	if (dlen == 1) {
		rest = n->path + 1;
	} else {
		if (n->len <= dlen || memcmp(n->path, dir, dlen) != 0 || n->path[dlen] != '/')
			return NULL;
		rest = n->path + dlen + 1;
	}
	return strchr(rest, '/') ? NULL : rest;
}

int policy_list_dir(const struct policy *p, const struct policy_caller *c,
		    const char *dir_path, time_t now,
		    int (*fn)(const char *name, enum policy_path_kind kind, void *arg),
		    void *arg)
{
	struct policy_decision d;
	const char *name;
	size_t dlen;
	int rc;

	if (!p || !c || !dir_path || !fn)
		return -EINVAL;
	rc = policy_decide(p, c, dir_path, POLICY_LIST, now, &d);
	if (rc || !d.allow)
		return rc ? rc : d.err;
	if (p->allow_all)
		return 0;
	dlen = strlen(dir_path);
	if (dlen == 1) {
		rc = fn(".poolfs", POLICY_PATH_META, arg);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < p->nnodes; i++) {
		const struct pol_node *n = &p->nodes[i];

		name = direct_child(n, dir_path, dlen);
		if (!name)
			continue;
		rc = policy_decide(p, c, n->path, POLICY_LOOKUP, now, &d);
		if (rc)
			return rc;
		if (!d.allow)
			continue;
		rc = fn(name, n->kind == POL_NODE_ENTRY ? POLICY_PATH_ENTRY :
			POLICY_PATH_ANCESTOR, arg);
		if (rc)
			return rc;
	}
	return 0;
}

int policy_entry_for_path(const struct policy *p, const char *path,
			  struct policy_entry_info *out)
{
	const struct pol_entry *en;
	const struct pol_node *n;
	enum policy_path_kind kind;

	if (!p || !path || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (p->allow_all)
		return -ENOENT;
	kind = pol_classify(p, path, &n);
	if (kind != POLICY_PATH_ENTRY && kind != POLICY_PATH_INSIDE)
		return -ENOENT;
	en = &p->entries[n->entry];
	snprintf(out->path, sizeof(out->path), "%s", en->path);
	snprintf(out->code, sizeof(out->code), "%s", en->code);
	snprintf(out->title, sizeof(out->title), "%s", en->title);
	snprintf(out->provider, sizeof(out->provider), "%s", p->depts[en->provider].id);
	snprintf(out->share, sizeof(out->share), "%s", pol_share_names[en->share]);
	snprintf(out->open, sizeof(out->open), "%s", pol_open_names[en->open]);
	snprintf(out->format, sizeof(out->format), "%s", en->format);
	snprintf(out->encoding, sizeof(out->encoding), "%s", en->encoding);
	out->level = en->level;
	out->is_root = kind == POLICY_PATH_ENTRY;
	return 0;
}

int policy_entry_paths(const struct policy *p, int (*fn)(const char *path, void *arg),
		       void *arg)
{
	int ret = 0;

	for (size_t i = 0; p && !p->allow_all && i < p->nentries && !ret; i++)
		ret = fn(p->entries[i].path, arg);
	return ret;
}
