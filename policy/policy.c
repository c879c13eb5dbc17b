/*
 * policy/policy.c - a policy's life: parse a document into an immutable,
 * reference-counted struct policy, index it, build its views, free it.
 *
 * Everything a request needs (identity maps, the path index, every view)
 * is computed here once, so policy_decide() only looks things up.
 */
#include "common/alloc.h"
#include "policy/parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const pol_role_names[POL_NROLES] = {
	"security_admin", "auditor", "system_admin",
};
const char *const pol_share_names[3] = { "none", "conditional", "unconditional" };
const char *const pol_open_names[3] = { "none", "conditional", "open" };

static struct policy allow_all_policy = { .refs = 1, .allow_all = true, .version = 1 };

long pol_dept_find(const struct policy *p, const char *id)
{
	return pol_names_get(&p->dept_ids, id);
}

long pol_entry_find_code(const struct policy *p, const char *code)
{
	return pol_names_get(&p->entry_codes, code);
}

long pol_grant_find(const struct policy *p, const char *id)
{
	return pol_names_get(&p->grant_ids, id);
}

static void free_dept(struct pol_dept *d)
{
	free(d->id);
	free(d->name);
	free(d->uids.v);
	free(d->gids.v);
	for (size_t i = 0; i < d->nusers; i++)
		free(d->users[i].name);
	free(d->users);
}

static void free_entry(struct pol_entry *en, size_t ndepts)
{
	free(en->path);
	free(en->code);
	free(en->title);
	free(en->update_cycle);
	free(en->format);
	free(en->encoding);
	for (size_t i = 0; i < en->nfields; i++) {
		free(en->fields[i].name);
		free(en->fields[i].tag);
		free(en->fields[i].mask);
	}
	free(en->fields);
	free(en->grants);
	pol_view_free(en->deflt_view);
	for (size_t i = 0; en->fallback && i < ndepts; i++)
		pol_view_free(en->fallback[i]);
	free(en->fallback);
}

static void free_grant(struct pol_grant *g)
{
	free(g->id);
	for (size_t i = 0; i < g->nfields; i++)
		free(g->fields[i]);
	free(g->fields);
	for (size_t i = 0; i < g->nmasks; i++) {
		free(g->masks[i].field);
		free(g->masks[i].text);
	}
	free(g->masks);
	if (g->rows) {
		pol_rows_clear(g->rows);
		free(g->rows);
	}
	free(g->valid_from);
	free(g->valid_until);
	free(g->purpose);
	pol_view_free(g->view);
}

void pol_free(struct policy *p)
{
	if (!p || p == &allow_all_policy)
		return;
	for (int r = 0; r < POL_NROLES; r++) {
		free(p->roles[r].uids.v);
		free(p->roles[r].gids.v);
	}
	for (size_t i = 0; i < p->ndepts; i++)
		free_dept(&p->depts[i]);
	free(p->depts);
	for (size_t i = 0; i < p->nentries; i++)
		free_entry(&p->entries[i], p->ndepts);
	free(p->entries);
	for (size_t i = 0; i < p->ngrants; i++)
		free_grant(&p->grants[i]);
	free(p->grants);
	free(p->uidmap);
	free(p->gidmap);
	for (size_t i = 0; i < p->nnodes; i++) {
		free(p->nodes[i].path);
		free(p->nodes[i].below);
	}
	free(p->nodes);
	free(p->slots);
	strbuf_release(&p->warnings);
	pol_names_free(&p->dept_ids);
	pol_names_free(&p->entry_codes);
	pol_names_free(&p->grant_ids);
	free(p);
}

int policy_parse(const char *json, size_t len, struct policy **out, struct perr *e)
{
	struct pol_ctx x = { .e = e };
	json_error_t jerr;
	json_t *root;
	int rc;

	*out = NULL;
	/* fail closed: a key given twice could hide a second, wider value */
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return perr_set(e, EINVAL, "line %d, column %d: %s", jerr.line,
				jerr.column, jerr.text);
	x.p = xcalloc(1, sizeof(*x.p));

	x.p->refs = 1;
	strbuf_init(&x.p->warnings, 0);
	rc = pol_parse_doc(&x, root);
	if (!rc)
		rc = pol_index_build(x.p, e);
	if (!rc)
		rc = pol_views_build(x.p);
	if (!rc)
		rc = pol_check_duties(&x);
	if (!rc)
		rc = pol_check_oracles(&x);
	if (!rc)
		pol_lapse_warnings(x.p);
	if (rc) {
		/* first message wins: this only fills in when no part said why */
		perr_set(e, -rc, "policy: cannot build the views of the policy");

		pol_free(x.p);
		goto out;
	}
	*out = x.p;
out:
	json_decref(root);
	return rc;
}

const char *policy_warnings(const struct policy *p)
{
	return p && !p->allow_all && p->warnings.buf ? p->warnings.buf : "";
}

void policy_counts(const struct policy *p, size_t *depts, size_t *entries, size_t *grants)
{
	*depts = p->ndepts;
	*entries = p->nentries;
	*grants = p->ngrants;
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
		pol_free(p);
}

const struct view_rules *policy_view_rules(const struct policy_view *v)
{
	return v ? &v->rules : NULL;
}

const char *policy_view_fingerprint(const struct policy_view *v)
{
	return v ? v->fp_hex : "raw";
}

