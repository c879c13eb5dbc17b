/*
 * policy/export.c - the policy written back as a document policy_parse()
 * accepts: defaults made explicit, row filters in their canonical form
 * (several conditions become "all"), so exporting twice gives the same
 * text and a re-applied export shows no diff.
 */
#include "policy/export.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pol_jset(json_t *o, const char *key, json_t *v)
{
	if (!v)
		return -ENOMEM;
	return json_object_set_new(o, key, v) == 0 ? 0 : -ENOMEM;
}

int pol_jpush(json_t *a, json_t *v)
{
	if (!v)
		return -ENOMEM;
	return json_array_append_new(a, v) == 0 ? 0 : -ENOMEM;
}

json_t *pol_ids_json(const struct pol_idlist *l)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < l->n; i++)
		if (pol_jpush(a, json_integer(l->v[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

json_t *pol_rows_json(const struct row_filter *r)
{
	static const char *const ops[] = { "eq", "ne", "in", "prefix", "all", "any" };
	json_t *o = json_object(), *arg = NULL, *cond;
	int rc = -ENOMEM;

	if (!o)
		return NULL;
	if (r->op == ROW_ALL || r->op == ROW_ANY || r->op == ROW_IN) {
		arg = json_array();
		for (size_t i = 0; arg && i < r->nsubs; i++)
			if (pol_jpush(arg, pol_rows_json(&r->subs[i])))
				goto out;
		for (size_t i = 0; arg && r->op == ROW_IN && i < r->nvalues; i++)
			if (pol_jpush(arg, json_string(r->values[i])))
				goto out;
	} else {
		arg = json_string(r->nvalues ? r->values[0] : "");
	}
	if (r->op == ROW_ALL || r->op == ROW_ANY) {
		rc = pol_jset(o, ops[r->op], arg);
	} else {
		cond = json_object();
		rc = cond ? pol_jset(cond, ops[r->op], arg) : -ENOMEM;
		if (!cond)
			json_decref(arg);
		if (!rc)
			rc = pol_jset(o, r->field, cond);
		else
			json_decref(cond);
	}
	arg = NULL;
out:
	json_decref(arg);
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *roles_json(const struct policy *p)
{
	json_t *o = json_object(), *r;
	int rc = o ? 0 : -ENOMEM;

	for (int i = 0; !rc && i < POL_NROLES; i++) {
		if (!p->roles[i].present)
			continue;
		r = json_object();
		rc = r ? pol_jset(o, pol_role_names[i], r) : -ENOMEM;
		rc = rc ? rc : pol_jset(r, "uids", pol_ids_json(&p->roles[i].uids));
		rc = rc ? rc : pol_jset(r, "gids", pol_ids_json(&p->roles[i].gids));
	}
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *dept_json(const struct pol_dept *d)
{
	json_t *o = json_object(), *m = json_object(), *users = json_array(), *u;
	int rc = o && m && users ? 0 : -ENOMEM;

	rc = rc ? rc : pol_jset(o, "id", json_string(d->id));
	rc = rc ? rc : pol_jset(o, "name", json_string(d->name));
	rc = rc ? rc : pol_jset(m, "uids", pol_ids_json(&d->uids));
	rc = rc ? rc : pol_jset(m, "gids", pol_ids_json(&d->gids));
	for (size_t i = 0; !rc && i < d->nusers; i++) {
		u = json_object();
		rc = pol_jpush(users, u);
		rc = rc ? rc : pol_jset(u, "uid", json_integer(d->users[i].uid));
		rc = rc ? rc : pol_jset(u, "name", json_string(d->users[i].name));
	}
	if (!rc && d->nusers) {
		rc = pol_jset(m, "users", users);
		users = NULL;
	}
	if (!rc) {
		rc = pol_jset(o, "members", m);
		m = NULL;
	}
	json_decref(users);
	json_decref(m);
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *fields_json(const struct pol_entry *en)
{
	json_t *a = json_array(), *f;
	int rc = a ? 0 : -ENOMEM;

	for (size_t i = 0; !rc && i < en->nfields; i++) {
		f = json_object();
		rc = pol_jpush(a, f);
		rc = rc ? rc : pol_jset(f, "name", json_string(en->fields[i].name));
		if (!rc && en->fields[i].tag)
			rc = pol_jset(f, "tag", json_string(en->fields[i].tag));
		if (!rc && en->fields[i].mask)
			rc = pol_jset(f, "mask", json_string(en->fields[i].mask));
	}
	if (rc) {
		json_decref(a);
		return NULL;
	}
	return a;
}

int pol_entry_meta_json(const struct policy *p, const struct pol_entry *en, json_t *o)
{
	int rc;

	rc = pol_jset(o, "path", json_string(en->path));
	rc = rc ? rc : pol_jset(o, "code", json_string(en->code));
	rc = rc ? rc : pol_jset(o, "title", json_string(en->title));
	rc = rc ? rc : pol_jset(o, "provider", json_string(p->depts[en->provider].id));
	rc = rc ? rc : pol_jset(o, "share", json_string(pol_share_names[en->share]));
	rc = rc ? rc : pol_jset(o, "open", json_string(pol_open_names[en->open]));
	if (!rc && en->level)
		rc = pol_jset(o, "level", json_integer(en->level));
	if (!rc && en->update_cycle)
		rc = pol_jset(o, "update_cycle", json_string(en->update_cycle));
	rc = rc ? rc : pol_jset(o, "format", json_string(en->format));
	rc = rc ? rc : pol_jset(o, "encoding", json_string(en->encoding));
	rc = rc ? rc : pol_jset(o, "fields", fields_json(en));
	return rc;
}

static json_t *grant_json(const struct policy *p, const struct pol_grant *g)
{
	json_t *o = json_object(), *a, *m;
	int rc = o ? 0 : -ENOMEM;

	rc = rc ? rc : pol_jset(o, "id", json_string(g->id));
	rc = rc ? rc : pol_jset(o, "entry", json_string(p->entries[g->entry].code));
	rc = rc ? rc : pol_jset(o, "department", json_string(p->depts[g->dept].id));
	a = rc ? NULL : json_array();
	rc = rc ? rc : pol_jset(o, "actions", a);
	if (!rc && (g->actions & POL_ACT_READ))
		rc = pol_jpush(a, json_string("read"));
	if (!rc && (g->actions & POL_ACT_WRITE))
		rc = pol_jpush(a, json_string("write"));
	if (!rc && g->has_fields) {
		a = json_array();
		rc = pol_jset(o, "fields", a);
		for (size_t i = 0; !rc && i < g->nfields; i++)
			rc = pol_jpush(a, json_string(g->fields[i]));
	}
	if (!rc && g->nmasks) {
		m = json_object();
		rc = pol_jset(o, "masks", m);
		for (size_t i = 0; !rc && i < g->nmasks; i++)
			rc = pol_jset(m, g->masks[i].field, json_string(g->masks[i].text));
	}
	if (!rc && g->rows)
		rc = pol_jset(o, "rows", pol_rows_json(g->rows));
	if (!rc && g->valid_from)
		rc = pol_jset(o, "valid_from", json_string(g->valid_from));
	if (!rc && g->valid_until)
		rc = pol_jset(o, "valid_until", json_string(g->valid_until));
	if (!rc && g->purpose)
		rc = pol_jset(o, "purpose", json_string(g->purpose));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *policy_json(const struct policy *p)
{
	json_t *o = json_object(), *depts = json_array(), *cat = json_array(),
	       *grants = json_array(), *en;
	int rc = o && depts && cat && grants ? 0 : -ENOMEM;

	rc = rc ? rc : pol_jset(o, "version", json_integer(p->version));
	rc = rc ? rc : pol_jset(o, "roles", roles_json(p));
	for (size_t i = 0; !rc && i < p->ndepts; i++)
		rc = pol_jpush(depts, dept_json(&p->depts[i]));
	for (size_t i = 0; !rc && i < p->nentries; i++) {
		en = json_object();
		rc = pol_jpush(cat, en);
		rc = rc ? rc : pol_entry_meta_json(p, &p->entries[i], en);
	}
	for (size_t i = 0; !rc && i < p->ngrants; i++)
		rc = pol_jpush(grants, grant_json(p, &p->grants[i]));
	rc = rc ? rc : pol_jset(o, "departments", json_incref(depts));
	rc = rc ? rc : pol_jset(o, "catalog", json_incref(cat));
	rc = rc ? rc : pol_jset(o, "grants", json_incref(grants));
	json_decref(depts);
	json_decref(cat);
	json_decref(grants);
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int policy_export_json(const struct policy *p, struct strbuf *out)
{
	if (!p || !out)
		return -EINVAL;
	/* the allow-all policy has no document: refuse rather than invent one */
	if (p->allow_all)
		return -ENOENT;
	return json_pretty(policy_json(p), out);
}
