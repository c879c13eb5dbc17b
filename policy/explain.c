/*
 * policy/explain.c - `poolctl explain`: one decision spelled out for an
 * admin, from the caller's identity to the fields, masks and rows of the
 * view, so "why can't renshe see 手机号" has an answer without reading
 * the policy by hand.
 */
#include "policy/model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const action_names[] = {
	"lookup", "list", "read", "write", "create", "delete",
};

static const char *errname(int err)
{
	switch (err) {
	case -EACCES:
		return "EACCES";
	case -ENOENT:
		return "ENOENT (hidden)";
	case -EIO:
		return "EIO";
	case -EINVAL:
		return "EINVAL";
	default:
		return "error";
	}
}

static void caller_lines(const struct policy *p, const struct policy_caller *c,
			 const struct pol_trace *t, struct strbuf *out)
{
	const struct pol_ident *id = &t->ident;

	strbuf_addf(out, "caller: uid %u gid %u", c->uid, c->gid);
	if (c->ngroups && c->groups) {
		strbuf_addstr(out, " groups");
		for (int i = 0; i < c->ngroups; i++)
			strbuf_addf(out, "%s%u", i ? "," : " ", c->groups[i]);
	}
	if (c->mount_dept)
		strbuf_addf(out, " on the mount of department \"%s\"", c->mount_dept);
	strbuf_addch(out, '\n');
	if (id->dept < 0) {
		strbuf_addf(out, "department: none (%s)\n", id->why);
		return;
	}
	strbuf_addf(out, "department: %s (%s) via %s", p->depts[id->dept].id,
		    p->depts[id->dept].name, pol_via_name(id->via));
	if (id->via != POL_VIA_MOUNT)
		strbuf_addf(out, " %u", id->via_id);
	strbuf_addch(out, '\n');
	if (id->user)
		strbuf_addf(out, "user: %s\n", id->user);
}

static void entry_line(const struct policy *p, long ei, struct strbuf *out)
{
	const struct pol_entry *en;

	if (ei < 0) {
		strbuf_addstr(out, "entry: none\n");
		return;
	}
	en = &p->entries[ei];
	strbuf_addf(out, "entry: %s \"%s\" at %s (provider %s, share %s", en->code,
		    en->title, en->path, p->depts[en->provider].id,
		    pol_share_names[en->share]);
	if (en->level)
		strbuf_addf(out, ", level %d", en->level);
	strbuf_addf(out, ", format %s)\n", en->format);
}

static void grant_line(const struct pol_grant *g, struct strbuf *out)
{
	strbuf_addf(out, "grant: %s (actions %s%s%s", g->id,
		    g->actions & POL_ACT_READ ? "read" : "",
		    g->actions == (POL_ACT_READ | POL_ACT_WRITE) ? "," : "",
		    g->actions & POL_ACT_WRITE ? "write" : "");
	if (g->valid_from)
		strbuf_addf(out, ", from %s", g->valid_from);
	if (g->valid_until)
		strbuf_addf(out, ", until %s", g->valid_until);
	if (g->purpose)
		strbuf_addf(out, ", purpose %s", g->purpose);
	strbuf_addstr(out, ")\n");
}

/*
 * Whether the grant is in force, and when it is not but the entry is
 * shared unconditionally, what of it still applies.
 */
static void window_lines(const struct policy *p, size_t gi, time_t now, bool allowed,
			 struct strbuf *out)
{
	const struct pol_grant *g = &p->grants[gi];
	const struct pol_entry *en = &p->entries[g->entry];
	size_t mark;

	if (g->from <= (int64_t)now && (int64_t)now < g->until) {
		strbuf_addstr(out, "window: in force\n");
		return;
	}
	strbuf_addf(out, "window: not in force (%s)\n", (int64_t)now < g->from ?
		    "not yet valid" : "expired");
	if (!allowed || en->share != POL_SHARE_UNCONDITIONAL)
		return;
	strbuf_addstr(out, "kept from the grant: ");
	if (g->has_fields)
		strbuf_addstr(out, "its fields, ");
	if (g->rows)
		strbuf_addstr(out, "its row filter, ");
	strbuf_addstr(out, "masks at least as strong as the tag defaults\n");
	strbuf_addstr(out, "lost outside the window:");
	mark = out->len;
	if (!pol_lapse_changes(p, gi, out)) {
		strbuf_setlen(out, mark);
		strbuf_addstr(out, " nothing");
	}
	strbuf_addch(out, '\n');
}

static void view_lines(const struct policy_view *v, struct strbuf *out)
{
	const struct view_rules *r;
	char mask[32];
	int n = 0;

	if (!v) {
		strbuf_addstr(out, "view: raw\nfields: all\nmasks: none\nrows: every row\n");
		return;
	}
	r = &v->rules;
	strbuf_addf(out, "view: %s\nfields: ", v->fp_hex);
	if (r->drop_unlisted) {
		for (size_t i = 0; i < r->nfields; i++)
			if (r->fields[i].mask.kind != MASK_DROP)
				strbuf_addf(out, "%s%s", n++ ? ", " : "", r->fields[i].name);
		strbuf_addstr(out, n ? " (others removed)\n" : "none\n");
	} else {
		strbuf_addstr(out, "all\n");
	}
	strbuf_addstr(out, "masks: ");
	n = 0;
	for (size_t i = 0; i < r->nfields; i++) {
		if (r->fields[i].mask.kind == MASK_NONE)
			continue;
		mask_spec_format(&r->fields[i].mask, mask, sizeof(mask));
		strbuf_addf(out, "%s%s %s", n++ ? ", " : "", r->fields[i].name, mask);
	}
	strbuf_addstr(out, n ? "\n" : "none\n");
	strbuf_addstr(out, "rows: ");
	pol_rows_text(r->rows, out);
	strbuf_addch(out, '\n');
	if (r->hash_dept)
		strbuf_addf(out, "hash key: v%u of department \"%s\"\n", r->hash_key_version,
			    r->hash_dept);
}

int policy_explain(const struct policy *p, const struct policy_caller *c,
		   const char *path, enum policy_action action, time_t now,
		   struct policy_decision *d, struct strbuf *out)
{
	struct policy_decision dd;
	struct pol_trace t;
	int rc;

	if (!out || (unsigned)action > POLICY_DELETE)
		return -EINVAL;
	rc = pol_decide(p, c, path, action, now, &dd, &t);
	if (d)
		*d = dd;
	strbuf_addf(out, "path: %s\naction: %s\n", path ? path : "(none)",
		    action_names[action]);
	if (rc || p->allow_all) {
		strbuf_addf(out, "decision: %s\nwhy: %s\n", dd.allow ? "allow" : "deny",
			    dd.reason);
		return rc;
	}
	caller_lines(p, c, &t, out);
	entry_line(p, t.entry, out);
	if (dd.allow)
		strbuf_addstr(out, "decision: allow\n");
	else
		strbuf_addf(out, "decision: deny (%s)\n", errname(dd.err));
	if (t.grant >= 0)
		grant_line(&p->grants[t.grant], out);
	if (t.grant >= 0 && t.entry >= 0)
		window_lines(p, (size_t)t.grant, now, dd.allow, out);
	if (dd.allow && t.entry >= 0)
		view_lines(dd.view, out);
	strbuf_addf(out, "why: %s\n", dd.reason);
	return 0;
}
