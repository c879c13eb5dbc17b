/*
 * policy/index.c - lookup structures built once per policy: uid and gid
 * to department (sorted, bsearch) and the directories the catalog names
 * (a hash of entry paths and every directory above one).
 *
 * A uid or gid in two departments is rejected here: an identity that
 * could resolve two ways would make a decision depend on list order.
 */
#include "common/alloc.h"
#include "policy/model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* one membership as written, to name it in an error */
struct member {
	uint32_t id;
	uint32_t dept;
	uint32_t pos;		/* index in uids/gids, or in users */
	uint8_t from_users;
	const char *user;
};

static int cmp_member(const void *a, const void *b)
{
	const struct member *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	if (x->dept != y->dept)
		return x->dept < y->dept ? -1 : 1;
	if (x->from_users != y->from_users)
		return x->from_users < y->from_users ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int build_map(struct policy *p, int gids, struct pol_idmap **out,
		     size_t *nout, struct perr *e)
{
	struct member *m = NULL;
	size_t n = 0, cap = 0, i, j;
	const char *kind = gids ? "gid" : "uid";
	int rc = 0;

	for (i = 0; i < p->ndepts; i++)
		cap += gids ? p->depts[i].gids.n : p->depts[i].uids.n + p->depts[i].nusers;
	if (!cap)
		return 0;
	m = xcalloc(cap, sizeof(*m));
	*out = xcalloc(cap, sizeof(**out));
	for (i = 0; i < p->ndepts; i++) {
		const struct pol_dept *d = &p->depts[i];
		const struct pol_idlist *l = gids ? &d->gids : &d->uids;

		for (j = 0; j < l->n; j++)
			m[n++] = (struct member){ l->v[j], (uint32_t)i, (uint32_t)j, 0, NULL };
		for (j = 0; !gids && j < d->nusers; j++)
			m[n++] = (struct member){ d->users[j].uid, (uint32_t)i, (uint32_t)j,
						  1, d->users[j].name };
	}
	qsort(m, n, sizeof(*m), cmp_member);
	for (i = 0; i < n; i = j) {
		struct pol_idmap *im = &(*out)[(*nout)++];

		*im = (struct pol_idmap){ m[i].id, m[i].dept, m[i].user };
		for (j = i + 1; j < n && m[j].id == m[i].id; j++) {
			if (m[j].dept != m[i].dept) {
				rc = perr_set(e, EINVAL, "departments[%u].members.%s[%u]%s: "
					      "%s %u is already a member of department "
					      "\"%s\" (ambiguous identity)", m[j].dept,
					      m[j].from_users ? "users" : gids ? "gids" : "uids",
					      m[j].pos, m[j].from_users ? ".uid" : "", kind,
					      m[j].id, p->depts[m[i].dept].id);
				goto out;
			}
			if (m[j].user)
				im->user = m[j].user;
		}
	}
out:
	free(m);
	return rc;
}

static uint64_t hash_path(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

const struct pol_node *pol_node_find(const struct policy *p, const char *path, size_t len)
{
	size_t mask = p->nslots - 1, i;
	const struct pol_node *n;

	if (!p->nslots)
		return NULL;
	for (i = hash_path(path, len) & mask; p->slots[i]; i = (i + 1) & mask) {
		n = &p->nodes[p->slots[i] - 1];
		if (n->len == len && memcmp(n->path, path, len) == 0)
			return n;
	}
	return NULL;
}

/* Finds or adds the node for path[0..len); slots are sized for every node. */
static struct pol_node *node_get(struct policy *p, const char *path, size_t len)
{
	size_t mask = p->nslots - 1, i;
	struct pol_node *n;

	for (i = hash_path(path, len) & mask; p->slots[i]; i = (i + 1) & mask) {
		n = &p->nodes[p->slots[i] - 1];
		if (n->len == len && memcmp(n->path, path, len) == 0)
			return n;
	}
	n = &p->nodes[p->nnodes];
	n->path = xstrndup(path, len);
	n->len = len;
	n->kind = POL_NODE_ANCESTOR;
	p->slots[i] = (uint32_t)++p->nnodes;
	return n;
}

static void add_below(struct pol_node *n, size_t ei, int shared)
{
	n->below = xreallocarray(n->below, n->nbelow + 1, sizeof(*n->below));
	n->below[n->nbelow++] = ei;
	n->nshared += shared;
}

static int build_paths(struct policy *p)
{
	size_t max = 0, i, k;
	struct pol_node *n;

	for (i = 0; i < p->nentries; i++)
		for (const char *c = p->entries[i].path; *c; c++)
			max += *c == '/';
	if (!max)
		return 0;
	for (p->nslots = 8; p->nslots < 2 * max; p->nslots *= 2)
		;
	p->nodes = xcalloc(max, sizeof(*p->nodes));
	p->slots = xcalloc(p->nslots, sizeof(*p->slots));
	for (i = 0; i < p->nentries; i++) {
		const struct pol_entry *en = &p->entries[i];
		size_t len = strlen(en->path);

		n = node_get(p, en->path, len);
		n->kind = POL_NODE_ENTRY;
		n->entry = i;
		for (k = len - 1; k > 0; k--) {
			if (en->path[k] != '/')
				continue;
			n = node_get(p, en->path, k);
			add_below(n, i, en->share != POL_SHARE_NONE);

		}
	}
	return 0;
}

int pol_index_build(struct policy *p, struct perr *e)
{
	int rc;

	rc = build_map(p, 0, &p->uidmap, &p->nuidmap, e);
	if (!rc)
		rc = build_map(p, 1, &p->gidmap, &p->ngidmap, e);
	if (!rc)
		rc = build_paths(p);
	return rc;
}
