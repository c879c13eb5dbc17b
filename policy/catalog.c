/*
 * policy/catalog.c - /.poolfs/catalog.json: the catalog as one department
 * may see it, with what it may do to each entry and how each field
 * reaches it.
 *
 * Entries with share none appear to their provider only; other
 * departments' grants never appear, only the caller's own.
 */
#include "policy/export.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The mask a field reaches the caller with under view v ("drop": removed). */
static void field_mask_text(const struct policy_view *v, const char *name,
			    char *buf, size_t len)
{
	if (v) {
		for (size_t i = 0; i < v->rules.nfields; i++)
			if (strcmp(v->rules.fields[i].name, name) == 0) {
				mask_spec_format(&v->rules.fields[i].mask, buf, len);
				return;
			}
		if (v->rules.drop_unlisted) {
			snprintf(buf, len, "drop");
			return;
		}
	}
	snprintf(buf, len, "none");
}

static int view_json(const struct pol_entry *en, const struct policy_view *v, json_t *acc)
{
	json_t *masks = json_object();
	struct strbuf rows = STRBUF_INIT;
	char mask[32];
	int rc = masks ? 0 : -ENOMEM;

	for (size_t i = 0; !rc && i < en->nfields; i++) {
		field_mask_text(v, en->fields[i].name, mask, sizeof(mask));
		rc = pol_jset(masks, en->fields[i].name, json_string(mask));
	}
	if (!rc) {
		rc = pol_jset(acc, "masks", masks);
		masks = NULL;
	}
	if (!rc && v && v->rules.rows) {
		pol_rows_text(v->rules.rows, &rows);
		rc = pol_jset(acc, "rows", json_string(rows.buf));
	}
	if (!rc)
		rc = pol_jset(acc, "view", json_string(v ? v->fp_hex : "raw"));
	json_decref(masks);
	strbuf_release(&rows);
	return rc;
}

static const char *via(const struct policy *p, const struct pol_entry *en, long dept,
		       const struct policy_decision *rd, const struct policy_decision *wd)
{
	if ((long)en->provider == dept)
		return "provider";
	if (rd->grant[0] || wd->grant[0])
		return "grant";
	if (rd->allow)
		return "unconditional";
	return "none";
}

static json_t *access_json(const struct policy *p, const struct pol_ident *id,
			   size_t ei, time_t now)
{
	const struct pol_entry *en = &p->entries[ei];
	struct policy_decision rd, wd;
	const struct pol_grant *g;
	json_t *acc = json_object();
	long rg, wg;
	int rc = acc ? 0 : -ENOMEM;

	memset(&rd, 0, sizeof(rd));
	memset(&wd, 0, sizeof(wd));
	pol_decide_entry(p, id, ei, false, POLICY_READ, now, &rd, &rg);
	pol_decide_entry(p, id, ei, false, POLICY_WRITE, now, &wd, &wg);
	rc = rc ? rc : pol_jset(acc, "read", json_boolean(rd.allow));
	rc = rc ? rc : pol_jset(acc, "write", json_boolean(wd.allow));
	rc = rc ? rc : pol_jset(acc, "via", json_string(via(p, en, id->dept, &rd, &wd)));
	g = rg >= 0 ? &p->grants[rg] : wg >= 0 ? &p->grants[wg] : NULL;
	if (!rc && g) {
		rc = pol_jset(acc, "grant", json_string(g->id));
		if (!rc && g->valid_from)
			rc = pol_jset(acc, "valid_from", json_string(g->valid_from));
		if (!rc && g->valid_until)
			rc = pol_jset(acc, "valid_until", json_string(g->valid_until));
		if (!rc && g->purpose)
			rc = pol_jset(acc, "purpose", json_string(g->purpose));
	}
	if (!rc && rd.allow)
		rc = view_json(en, rd.view, acc);
	if (!rc && !rd.allow)
		rc = pol_jset(acc, "reason", json_string(rd.reason));
	if (rc) {
		json_decref(acc);
		return NULL;
	}
	return acc;
}

static json_t *catalog(const struct policy *p, const struct pol_ident *id, time_t now)
{
	json_t *o = json_object(), *entries = json_array(), *en;
	int rc = o && entries ? 0 : -ENOMEM;

	rc = rc ? rc : pol_jset(o, "department", json_string(p->depts[id->dept].id));
	rc = rc ? rc : pol_jset(o, "department_name", json_string(p->depts[id->dept].name));
	for (size_t i = 0; !rc && i < p->nentries; i++) {
		const struct pol_entry *e = &p->entries[i];

		if (e->share == POL_SHARE_NONE && (long)e->provider != id->dept)
			continue;
		en = json_object();
		rc = pol_jpush(entries, en);
		rc = rc ? rc : pol_entry_meta_json(p, e, en);
		rc = rc ? rc : pol_jset(en, "provider_name",
					json_string(p->depts[e->provider].name));
		rc = rc ? rc : pol_jset(en, "access", access_json(p, id, i, now));
	}
	if (!rc) {
		rc = pol_jset(o, "entries", entries);
		entries = NULL;
	}
	json_decref(entries);
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int policy_catalog_json(const struct policy *p, const struct policy_caller *c,
			time_t now, struct strbuf *out)
{
	struct pol_ident id;

	if (!p || !c || !out)
		return -EINVAL;
	if (p->allow_all) {
		strbuf_addstr(out, "{\n  \"department\": null,\n  \"entries\": []\n}\n");
		return 0;
	}
	pol_identify(p, c, &id);
	/* fail closed: a caller of no department learns nothing, not even the catalog */
	if (id.dept < 0)
		return -EACCES;
	return json_pretty(catalog(p, &id, now), out);
}
