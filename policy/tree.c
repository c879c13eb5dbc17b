/*
 * policy/tree.c - the directory tree the catalog implies: the entry
 * behind a path for xattrs, and every entry's directory for poolctl.
 *
 * What a caller sees of the tree is decided elsewhere: the daemon
 * filters a listing through the LOOKUP decision on each child, so a
 * listing never shows a name that lookup would then hide or deny.
 */
#include "policy/model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
