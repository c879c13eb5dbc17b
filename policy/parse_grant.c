/*
 * policy/parse_grant.c - grants: which department may read or write which
 * entry, through which fields, masks and rows, for how long and why.
 *
 * Two grants for the same department on the same entry may not overlap in
 * time: with one grant in force at any moment the view is never a guess
 * between two sets of fields and masks. Renewals follow one another.
 */
#include "common/alloc.h"
#include "policy/parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int want_field(struct pol_ctx *x, const struct pol_entry *en, const char *name)
{
	for (size_t i = 0; i < en->nfields; i++)
		if (strcmp(en->fields[i].name, name) == 0)
			return 0;
	return pol_fail(x, "entry \"%s\" has no field \"%s\"", en->code, name);
}

static int parse_cond(struct pol_ctx *x, const struct pol_entry *en, json_t *v,
		      struct row_filter *out);

static void alloc_subs(struct row_filter *r, enum row_op op, size_t n)
{
	r->op = op;
	r->subs = xcalloc(n, sizeof(*r->subs));
}

/* {"all": [cond, ...]} or {"any": [...]} */
static int parse_combo(struct pol_ctx *x, const struct pol_entry *en, enum row_op op,
		       json_t *arr, struct row_filter *out)
{
	size_t mark, i;
	json_t *v;
	int rc;

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return pol_fail(x, "expected a non-empty array of conditions");
	alloc_subs(out, op, json_array_size(arr));
	json_array_foreach(arr, i, v) {
		mark = pol_jp_idx(x, i);
		rc = parse_cond(x, en, v, &out->subs[out->nsubs++]);
		if (rc)
			return rc;
		pol_jp_restore(x, mark);
	}
	return 0;
}

/* Warns about a filter value a data file may well spell another way. */
static void near_warn(struct pol_ctx *x, const char *value)
{
	unsigned near = pol_near_match(value);
	struct strbuf *w = &x->p->warnings;

	if (!near)
		return;
	strbuf_addf(w, "warning: %s: ", x->path);
	pol_quote(w, value);
	strbuf_addf(w, "%s%s%s%s%s\n",
		    near & POL_NEAR_SPACE ? " has surrounding whitespace (values compare trimmed)" : "",
		    (near & POL_NEAR_SPACE) && (near & ~POL_NEAR_SPACE) ? ";" : "",
		    near & POL_NEAR_NFC ? " may not be in Unicode NFC (values compare after NFC)" : "",
		    (near & POL_NEAR_NFC) && (near & POL_NEAR_NFKC) ? ";" : "",
		    near & POL_NEAR_NFKC ? " holds compatibility characters (full-width or other "
		    "forms NFKC folds): a file that spells them plainly does not match" : "");
}

static int parse_leaf(struct pol_ctx *x, const char *field, const char *op,
		      json_t *v, struct row_filter *out)
{
	size_t n = json_is_array(v) ? json_array_size(v) : 1, mark, i;
	json_t *item;
	int rc;

	out->op = strcmp(op, "eq") == 0 ? ROW_EQ : strcmp(op, "ne") == 0 ? ROW_NE :
		  strcmp(op, "in") == 0 ? ROW_IN : ROW_PREFIX;
	out->field = xstrdup(field);
	if (out->op == ROW_IN && (!json_is_array(v) || n == 0))
		return pol_fail(x, "expected a non-empty array of strings");
	if (out->op != ROW_IN && !json_is_string(v))
		return pol_fail(x, "expected a string");
	out->values = xcalloc(n, sizeof(*out->values));
	if (!json_is_array(v)) {
		rc = pol_str_value(x, v, 0, &out->values[out->nvalues++]);
		if (!rc)
			near_warn(x, out->values[0]);
		return rc;
	}
	json_array_foreach(v, i, item) {
		mark = pol_jp_idx(x, i);
		rc = pol_str_value(x, item, 0, &out->values[out->nvalues]);
		if (rc)
			return rc;
		near_warn(x, out->values[out->nvalues]);
		out->nvalues++;
		pol_jp_restore(x, mark);
	}
	return 0;
}

/* "区县": {"in": [...]} ; several operators on one field all must hold */
static int parse_field_cond(struct pol_ctx *x, const struct pol_entry *en,
			    const char *field, json_t *v, struct row_filter *out)
{
	static const char *const ops[] = { "eq", "ne", "in", "prefix", NULL };
	struct row_filter *leaf = out;
	const char *op;
	size_t mark;
	json_t *arg;
	int rc;

	rc = want_field(x, en, field);
	if (!rc)
		rc = pol_want_object(x, v);
	if (!rc)
		rc = pol_check_keys(x, v, ops);
	if (!rc && json_object_size(v) == 0)
		rc = pol_fail(x, "expected one of eq, ne, in, prefix");
	if (rc)
		return rc;
	if (json_object_size(v) > 1)
		alloc_subs(out, ROW_ALL, json_object_size(v));
	json_object_foreach(v, op, arg) {
		if (json_object_size(v) > 1)
			leaf = &out->subs[out->nsubs++];
		mark = pol_jp_key(x, op);
		rc = parse_leaf(x, field, op, arg, leaf);
		if (rc)
			return rc;
		pol_jp_restore(x, mark);
	}
	return 0;
}

/*
 * A condition object. "all" and "any" are always combinators, so a field
 * literally named so cannot be filtered on. Several keys: all must hold.
 */
static int parse_cond(struct pol_ctx *x, const struct pol_entry *en, json_t *v,
		      struct row_filter *out)
{
	struct row_filter *node = out;
	const char *key;
	size_t mark;
	json_t *arg;
	int rc;

	if (!json_is_object(v) || json_object_size(v) == 0)
		return pol_fail(x, "expected a non-empty object of conditions");
	if (json_object_size(v) > 1)
		alloc_subs(out, ROW_ALL, json_object_size(v));
	json_object_foreach(v, key, arg) {
		if (json_object_size(v) > 1)
			node = &out->subs[out->nsubs++];
		mark = pol_jp_key(x, key);
		if (strcmp(key, "all") == 0 || strcmp(key, "any") == 0)
			rc = parse_combo(x, en, key[1] == 'l' ? ROW_ALL : ROW_ANY, arg, node);
		else
			rc = parse_field_cond(x, en, key, arg, node);
		if (rc)
			return rc;
		pol_jp_restore(x, mark);
	}
	return 0;
}

static int parse_masks(struct pol_ctx *x, const struct pol_entry *en, json_t *obj,
		       struct pol_grant *g)
{
	const char *field;
	size_t mark;
	json_t *v;
	int rc;

	rc = pol_want_object(x, obj);
	if (rc)
		return rc;
	if (json_object_size(obj))
		g->masks = xcalloc(json_object_size(obj), sizeof(*g->masks));
	json_object_foreach(obj, field, v) {
		struct pol_mask *m = &g->masks[g->nmasks++];
		size_t j;

		mark = pol_jp_key(x, field);
		m->field = xstrdup(field);
		rc = want_field(x, en, field);
		if (!rc)
			rc = pol_str_value(x, v, POL_NONEMPTY, &m->text);
		if (!rc && mask_spec_parse(m->text, &m->spec, NULL))
			rc = pol_fail(x, "unknown mask \"%s\"", m->text);
		for (j = 0; !rc && g->has_fields && j < g->nfields; j++)
			if (strcmp(g->fields[j], field) == 0)
				break;
		if (!rc && g->has_fields && j == g->nfields)
			rc = pol_fail(x, "field is not in the grant's fields");
		if (rc)
			return rc;
		pol_jp_restore(x, mark);
	}
	return 0;
}

static int parse_window(struct pol_ctx *x, json_t *v, struct pol_grant *g)
{
	int rc;

	g->from = POL_NO_TIME_MIN;
	g->until = POL_NO_TIME_MAX;
	rc = pol_get_str(x, v, "valid_from", POL_NONEMPTY, &g->valid_from);
	if (!rc)
		rc = pol_get_str(x, v, "valid_until", POL_NONEMPTY, &g->valid_until);
	if (rc)
		return rc;
	if (g->valid_from && pol_time_parse(g->valid_from, 0, &g->from)) {
		pol_jp_key(x, "valid_from");
		return pol_fail(x, "\"%s\" is not a date (YYYY-MM-DD) or an RFC 3339 time",
				g->valid_from);
	}
	if (g->valid_until && pol_time_parse(g->valid_until, 1, &g->until)) {
		pol_jp_key(x, "valid_until");
		return pol_fail(x, "\"%s\" is not a date (YYYY-MM-DD) or an RFC 3339 time",
				g->valid_until);
	}
	if (g->until <= g->from) {
		pol_jp_key(x, "valid_until");
		return pol_fail(x, "%s is before valid_from %s", g->valid_until,
				g->valid_from);
	}
	return 0;
}

static int parse_actions(struct pol_ctx *x, json_t *v, struct pol_grant *g)
{
	char **acts = NULL;
	size_t n = 0, i;
	int present, rc;

	rc = pol_get_strs(x, v, "actions", POL_REQ, &acts, &n, &present);
	if (!rc && n == 0) {
		pol_jp_key(x, "actions");
		rc = pol_fail(x, "must list read, write or both");
	}
	for (i = 0; !rc && i < n; i++) {
		if (strcmp(acts[i], "read") == 0) {
			g->actions |= POL_ACT_READ;
		} else if (strcmp(acts[i], "write") == 0) {
			g->actions |= POL_ACT_WRITE;
		} else {
			pol_jp_key(x, "actions");
			pol_jp_idx(x, i);
			rc = pol_fail(x, "\"%s\" is not one of read, write", acts[i]);
		}
	}
	for (i = 0; i < n; i++)
		free(acts[i]);
	free(acts);
	return rc;
}

static int parse_target(struct pol_ctx *x, json_t *v, struct pol_grant *g)
{
	char *code = NULL, *dept = NULL;
	const struct pol_entry *en;
	long ei, di;
	int rc;

	rc = pol_get_str(x, v, "entry", POL_REQ | POL_NONEMPTY, &code);
	if (!rc)
		rc = pol_get_str(x, v, "department", POL_REQ | POL_NONEMPTY, &dept);
	if (rc)
		goto out;
	ei = pol_entry_find_code(x->p, code);
	if (ei < 0) {
		pol_jp_key(x, "entry");
		rc = pol_fail(x, "no catalog entry with code \"%s\"", code);
		goto out;
	}
	en = &x->p->entries[ei];
	/* fail closed: share none means provider only, whatever grants say */
	if (en->share == POL_SHARE_NONE) {
		pol_jp_key(x, "entry");
		rc = pol_fail(x, "entry \"%s\" has share none: only its provider reads it",
			      code);
		goto out;
	}
	di = pol_dept_find(x->p, dept);
	if (di < 0) {
		pol_jp_key(x, "department");
		rc = pol_fail(x, "no department with id \"%s\"", dept);
		goto out;
	}
	if ((size_t)di == en->provider) {
		pol_jp_key(x, "department");
		rc = pol_fail(x, "\"%s\" is the provider of \"%s\" and needs no grant",
			      dept, code);
		goto out;
	}
	g->entry = (size_t)ei;
	g->dept = (size_t)di;
out:
	free(code);
	free(dept);
	return rc;
}

/* Levels of r as the engine counts them: a single condition is one. */
static int rows_levels(const struct row_filter *r)
{
	int deepest = 0, n;

	for (size_t i = 0; i < r->nsubs; i++) {
		n = rows_levels(&r->subs[i]);
		if (n > deepest)
			deepest = n;
	}
	return deepest + 1;
}

static int parse_view_parts(struct pol_ctx *x, json_t *v, struct pol_grant *g)
{
	const struct pol_entry *en = &x->p->entries[g->entry];
	int present, rc;
	size_t mark;

	rc = pol_get_strs(x, v, "fields", 0, &g->fields, &g->nfields, &present);
	if (rc)
		return rc;
	g->has_fields = present;
	mark = pol_jp_key(x, "fields");
	if (present && g->nfields == 0)
		return pol_fail(x, "must list at least one field (leave it out for all)");
	for (size_t i = 0; i < g->nfields; i++) {
		size_t m2 = pol_jp_idx(x, i);

		rc = want_field(x, en, g->fields[i]);
		if (rc)
			return rc;
		pol_jp_restore(x, m2);
	}
	pol_jp_restore(x, mark);
	if (json_object_get(v, "masks")) {
		mark = pol_jp_key(x, "masks");
		rc = parse_masks(x, en, json_object_get(v, "masks"), g);
		if (rc)
			return rc;
		pol_jp_restore(x, mark);
	}
	if (json_object_get(v, "rows")) {
		mark = pol_jp_key(x, "rows");
		g->rows = xcalloc(1, sizeof(*g->rows));

		rc = parse_cond(x, en, json_object_get(v, "rows"), g->rows);
		if (rc)
			return rc;
		/* one level stays free for the "all" that joins lapsed grants */
		if (rows_levels(g->rows) > FILTER_DEPTH_MAX)
			return pol_fail(x, "row filter nested deeper than %d levels",
					FILTER_DEPTH_MAX);
		pol_jp_restore(x, mark);
	}
	return 0;
}

static int parse_grant(struct pol_ctx *x, json_t *v, void *out)
{
	static const char *const keys[] = {
		"id", "entry", "department", "actions", "fields", "masks", "rows",
		"valid_from", "valid_until", "purpose", NULL,
	};
	struct pol_grant *g = out;
	int rc;

	rc = pol_want_object(x, v);
	if (!rc)
		rc = pol_check_keys(x, v, keys);
	if (!rc)
		rc = pol_get_str(x, v, "id", POL_REQ | POL_ID, &g->id);
	if (!rc)
		rc = parse_target(x, v, g);
	if (!rc)
		rc = parse_actions(x, v, g);
	if (!rc)
		rc = parse_view_parts(x, v, g);
	if (!rc)
		rc = parse_window(x, v, g);
	if (!rc)
		rc = pol_get_str(x, v, "purpose", POL_NONEMPTY, &g->purpose);
	if (!rc && g->purpose && strlen(g->purpose) > POL_TEXT_MAX) {
		pol_jp_key(x, "purpose");
		rc = pol_fail(x, "longer than %d bytes", POL_TEXT_MAX);
	}
	return rc;
}

/*
 * A grant's id is unique and its window overlaps no other of the same
 * department on the same entry; the error names the first earlier grant
 * in document order that breaks either (the id first when one breaks
 * both). The earlier grants of the entry are its list so far, so a check
 * costs the entry's grants, not the policy's. Then the grant joins that
 * list: each entry lists its grants, so a decision scans only those.
 */
static int check_grant(struct pol_ctx *x, const void *vec, size_t i)
{
	const struct pol_grant *g = (const struct pol_grant *)vec + i, *o;
	struct pol_entry *en = &x->p->entries[g->entry];
	long dup = pol_names_put(&x->p->grant_ids, g->id, i);

	for (size_t k = 0; k < en->ngrants && (dup < 0 || en->grants[k] < (size_t)dup); k++) {
		o = (const struct pol_grant *)vec + en->grants[k];
		if (o->dept == g->dept && o->from < g->until && g->from < o->until)
			return pol_fail(x, "overlaps grants[%zu] \"%s\" in time for "
					"department \"%s\" on \"%s\"", en->grants[k], o->id,
					x->p->depts[g->dept].id, en->code);
	}
	if (dup >= 0) {
		pol_jp_key(x, "id");
		return pol_fail(x, "duplicate grant id \"%s\" (also grants[%ld])", g->id, dup);
	}
	en->grants = xreallocarray(en->grants, en->ngrants + 1, sizeof(*en->grants));
	en->grants[en->ngrants++] = i;
	return 0;
}

int pol_parse_grants(struct pol_ctx *x, json_t *arr)
{
	void *v;
	int rc;

	pol_names_init(&x->p->grant_ids, json_is_array(arr) ? json_array_size(arr) : 0);
	rc = pol_parse_array(x, arr, sizeof(*x->p->grants), &v, &x->p->ngrants,
			     parse_grant, check_grant);

	x->p->grants = v;
	return rc;
}
