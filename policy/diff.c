/*
 * policy/diff.c - what `poolctl policy apply` shows before it applies:
 * one line per added (+), removed (-) or changed (~) department, role,
 * catalog entry and grant, matched by id / code.
 *
 * Every attribute is compared through the same text it is shown with, so
 * a line never says "changed" with two identical sides, and row filters
 * compare by their canonical form, not by how the JSON was spelled.
 */
#include "policy/model.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*attr_fn)(const struct policy *p, const void *obj, struct strbuf *sb);

struct attr {
	const char *name;
	attr_fn text;
};

static void ids_text(const struct pol_idlist *l, struct strbuf *sb)
{
	strbuf_addch(sb, '[');
	for (size_t i = 0; i < l->n; i++)
		strbuf_addf(sb, "%s%u", i ? ", " : "", l->v[i]);
	strbuf_addch(sb, ']');
}

static void opt_text(const char *s, struct strbuf *sb)
{
	strbuf_addstr(sb, s ? s : "(none)");
}

#define OBJ(type) const type *o = obj; (void)p

static void d_name(const struct policy *p, const void *obj, struct strbuf *sb)
{ OBJ(struct pol_dept); strbuf_addstr(sb, o->name); }
static void d_uids(const struct policy *p, const void *obj, struct strbuf *sb)
{ OBJ(struct pol_dept); ids_text(&o->uids, sb); }
static void d_gids(const struct policy *p, const void *obj, struct strbuf *sb)
{ OBJ(struct pol_dept); ids_text(&o->gids, sb); }

static void d_users(const struct policy *p, const void *obj, struct strbuf *sb)
{
	OBJ(struct pol_dept);
	strbuf_addch(sb, '[');
	for (size_t i = 0; i < o->nusers; i++)
		strbuf_addf(sb, "%s%u=%s", i ? ", " : "", o->users[i].uid, o->users[i].name);
	strbuf_addch(sb, ']');
}

static void r_uids(const struct policy *p, const void *obj, struct strbuf *sb)
{ OBJ(struct pol_role); ids_text(&o->uids, sb); }
static void r_gids(const struct policy *p, const void *obj, struct strbuf *sb)
{ OBJ(struct pol_role); ids_text(&o->gids, sb); }

static void e_path(const struct policy *p, const void *obj, struct strbuf *sb)
{ OBJ(struct pol_entry); strbuf_addstr(sb, o->path); }
static void e_title(const struct policy *p, const void *obj, struct strbuf *sb)
{ OBJ(struct pol_entry); strbuf_addstr(sb, o->title); }
static void e_provider(const struct policy *p, const void *obj, struct strbuf *sb)
{ const struct pol_entry *o = obj; strbuf_addstr(sb, p->depts[o->provider].id); }
static void e_share(const struct policy *p, const void *obj, struct strbuf *sb)
{ OBJ(struct pol_entry); strbuf_addstr(sb, pol_share_names[o->share]); }
static void e_open(const struct policy *p, const void *obj, struct strbuf *sb)
{ OBJ(struct pol_entry); strbuf_addstr(sb, pol_open_names[o->open]); }
static void e_cycle(const struct policy *p, const void *obj, struct strbuf *sb)
{ OBJ(struct pol_entry); opt_text(o->update_cycle, sb); }
static void e_format(const struct policy *p, const void *obj, struct strbuf *sb)
{ OBJ(struct pol_entry); strbuf_addstr(sb, o->format); }
static void e_encoding(const struct policy *p, const void *obj, struct strbuf *sb)
{ OBJ(struct pol_entry); strbuf_addstr(sb, o->encoding); }

static void e_level(const struct policy *p, const void *obj, struct strbuf *sb)
{
	OBJ(struct pol_entry);
	if (o->level)
		strbuf_addf(sb, "%d", o->level);
	else
		strbuf_addstr(sb, "(none)");
}

static void e_fields(const struct policy *p, const void *obj, struct strbuf *sb)
{
	OBJ(struct pol_entry);
	strbuf_addch(sb, '[');
	for (size_t i = 0; i < o->nfields; i++) {
		strbuf_addf(sb, "%s%s", i ? ", " : "", o->fields[i].name);
		if (o->fields[i].tag)
			strbuf_addf(sb, ":%s", o->fields[i].tag);
		if (o->fields[i].mask)
			strbuf_addf(sb, "(%s)", o->fields[i].mask);
	}
	strbuf_addch(sb, ']');
}

static void g_entry(const struct policy *p, const void *obj, struct strbuf *sb)
{ const struct pol_grant *o = obj; strbuf_addstr(sb, p->entries[o->entry].code); }
static void g_dept(const struct policy *p, const void *obj, struct strbuf *sb)
{ const struct pol_grant *o = obj; strbuf_addstr(sb, p->depts[o->dept].id); }
static void g_from(const struct policy *p, const void *obj, struct strbuf *sb)
{ OBJ(struct pol_grant); opt_text(o->valid_from, sb); }
static void g_until(const struct policy *p, const void *obj, struct strbuf *sb)
{ OBJ(struct pol_grant); opt_text(o->valid_until, sb); }
static void g_purpose(const struct policy *p, const void *obj, struct strbuf *sb)
{ OBJ(struct pol_grant); opt_text(o->purpose, sb); }
static void g_rows(const struct policy *p, const void *obj, struct strbuf *sb)
{ OBJ(struct pol_grant); pol_rows_text(o->rows, sb); }

static void g_actions(const struct policy *p, const void *obj, struct strbuf *sb)
{
	OBJ(struct pol_grant);
	strbuf_addf(sb, "[%s%s%s]", o->actions & POL_ACT_READ ? "read" : "",
		    o->actions == (POL_ACT_READ | POL_ACT_WRITE) ? ", " : "",
		    o->actions & POL_ACT_WRITE ? "write" : "");
}

static void g_fields(const struct policy *p, const void *obj, struct strbuf *sb)
{
	OBJ(struct pol_grant);
	if (!o->has_fields) {
		strbuf_addstr(sb, "(all)");
		return;
	}
	strbuf_addch(sb, '[');
	for (size_t i = 0; i < o->nfields; i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", o->fields[i]);
	strbuf_addch(sb, ']');
}

static void g_masks(const struct policy *p, const void *obj, struct strbuf *sb)
{
	OBJ(struct pol_grant);
	char mask[32];

	strbuf_addch(sb, '{');
	for (size_t i = 0; i < o->nmasks; i++) {
		mask_spec_format(&o->masks[i].spec, mask, sizeof(mask));
		strbuf_addf(sb, "%s%s: %s", i ? ", " : "", o->masks[i].field, mask);
	}
	strbuf_addch(sb, '}');
}

static const struct attr dept_attrs[] = {
	{ "name", d_name }, { "uids", d_uids }, { "gids", d_gids }, { "users", d_users },
};
static const struct attr role_attrs[] = { { "uids", r_uids }, { "gids", r_gids } };
static const struct attr entry_attrs[] = {
	{ "path", e_path }, { "title", e_title }, { "provider", e_provider },
	{ "share", e_share }, { "open", e_open }, { "level", e_level },
	{ "update_cycle", e_cycle }, { "format", e_format },
	{ "encoding", e_encoding }, { "fields", e_fields },
};
static const struct attr grant_attrs[] = {
	{ "entry", g_entry }, { "department", g_dept }, { "actions", g_actions },
	{ "fields", g_fields }, { "masks", g_masks }, { "rows", g_rows },
	{ "valid_from", g_from }, { "valid_until", g_until }, { "purpose", g_purpose },
};

static void compare(const struct policy *op, const void *o, const struct policy *np,
		    const void *n, const char *what, const struct attr *attrs,
		    size_t nattrs, struct strbuf *out, int *lines)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	for (size_t i = 0; i < nattrs; i++) {
		strbuf_reset(&a);
		strbuf_reset(&b);
		attrs[i].text(op, o, &a);
		attrs[i].text(np, n, &b);
		if (a.len == b.len && memcmp(a.buf, b.buf, a.len) == 0)
			continue;
		strbuf_addf(out, "~ %s: %s %s → %s\n", what, attrs[i].name, a.buf, b.buf);
		(*lines)++;
	}
	strbuf_release(&a);
	strbuf_release(&b);
}

static const struct policy empty_policy;

static void diff_depts(const struct policy *o, const struct policy *n,
		       struct strbuf *out, int *lines)
{
	char what[96];
	long j;

	for (size_t i = 0; i < o->ndepts; i++)
		if (pol_dept_find(n, o->depts[i].id) < 0) {
			strbuf_addf(out, "- dept %s (%s)\n", o->depts[i].id, o->depts[i].name);
			(*lines)++;
		}
	for (size_t i = 0; i < n->ndepts; i++) {
		j = pol_dept_find(o, n->depts[i].id);
		if (j < 0) {
			strbuf_addf(out, "+ dept %s (%s)\n", n->depts[i].id, n->depts[i].name);
			(*lines)++;
			continue;
		}
		snprintf(what, sizeof(what), "dept %s", n->depts[i].id);
		compare(o, &o->depts[j], n, &n->depts[i], what, dept_attrs,
			sizeof(dept_attrs) / sizeof(dept_attrs[0]), out, lines);
	}
}

static void diff_roles(const struct policy *o, const struct policy *n,
		       struct strbuf *out, int *lines)
{
	char what[64];

	for (int r = 0; r < POL_NROLES; r++) {
		if (o->roles[r].present != n->roles[r].present) {
			strbuf_addf(out, "%c role %s\n", n->roles[r].present ? '+' : '-',
				    pol_role_names[r]);
			(*lines)++;
		}
		snprintf(what, sizeof(what), "role %s", pol_role_names[r]);
		compare(o, &o->roles[r], n, &n->roles[r], what, role_attrs,
			sizeof(role_attrs) / sizeof(role_attrs[0]), out, lines);
	}
}

static void diff_entries(const struct policy *o, const struct policy *n,
			 struct strbuf *out, int *lines)
{
	char what[96];
	long j;

	for (size_t i = 0; i < o->nentries; i++)
		if (pol_entry_find_code(n, o->entries[i].code) < 0) {
			strbuf_addf(out, "- entry %s at %s\n", o->entries[i].code,
				    o->entries[i].path);
			(*lines)++;
		}
	for (size_t i = 0; i < n->nentries; i++) {
		j = pol_entry_find_code(o, n->entries[i].code);
		if (j < 0) {
			strbuf_addf(out, "+ entry %s at %s (provider %s, share %s)\n",
				    n->entries[i].code, n->entries[i].path,
				    n->depts[n->entries[i].provider].id,
				    pol_share_names[n->entries[i].share]);
			(*lines)++;
			continue;
		}
		snprintf(what, sizeof(what), "entry %s", n->entries[i].code);
		compare(o, &o->entries[j], n, &n->entries[i], what, entry_attrs,
			sizeof(entry_attrs) / sizeof(entry_attrs[0]), out, lines);
	}
}

static void diff_grants(const struct policy *o, const struct policy *n,
			struct strbuf *out, int *lines)
{
	char what[96];
	long j;

	for (size_t i = 0; i < o->ngrants; i++)
		if (pol_grant_find(n, o->grants[i].id) < 0) {
			strbuf_addf(out, "- grant %s\n", o->grants[i].id);
			(*lines)++;
		}
	for (size_t i = 0; i < n->ngrants; i++) {
		const struct pol_grant *g = &n->grants[i];

		j = pol_grant_find(o, g->id);
		if (j < 0) {
			strbuf_addf(out, "+ grant %s (%s on %s)\n", g->id,
				    n->depts[g->dept].id, n->entries[g->entry].code);
			(*lines)++;
			continue;
		}
		snprintf(what, sizeof(what), "grant %s", g->id);
		compare(o, &o->grants[j], n, g, what, grant_attrs,
			sizeof(grant_attrs) / sizeof(grant_attrs[0]), out, lines);
	}
}

int policy_diff(const struct policy *old, const struct policy *new,
		struct strbuf *out)
{
	int lines = 0;

	if (!out)
		return -EINVAL;
	if (!old || old->allow_all)
		old = &empty_policy;
	if (!new || new->allow_all)
		new = &empty_policy;
	diff_depts(old, new, out, &lines);
	diff_roles(old, new, out, &lines);
	diff_entries(old, new, out, &lines);
	diff_grants(old, new, out, &lines);
	return lines;
}
