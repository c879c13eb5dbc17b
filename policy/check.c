/*
 * policy/check.c - rules over the whole policy, checked once its views
 * are built: separation of duties and the hash oracle (errors) and grants
 * whose lapse changes a view (a warning).
 *
 * Separation of duties (三员分立): an admin role never reads data, so no
 * uid or gid a role names may be a department member. Only what the
 * document says counts (role uids against member uids and users, role
 * gids against member gids): which groups a uid is in lives in the host's
 * group database, which can differ between the host that checks and the
 * one that serves, so the daemon settles that per caller (identity.c).
 *
 * The hash oracle: a department's hash tokens are comparable in every
 * file it reads (its key is per department, so its joins work). If it
 * can put chosen values into any entry where its own view hashes a
 * field, it can hash a dictionary (700,000 candidate ID numbers) and
 * invert that field in every file it reads hashed. So a department that
 * may write an entry (by any grant, at any time: versions written under
 * one grant are read under the next) must not read any field of that
 * entry hashed, through any of its views: a grant, its lapsed grants,
 * or the tag defaults of an unconditional share. Providers read their
 * own entries raw, so theirs give no tokens.
 */
#include "policy/parse.h"

#include <stdio.h>
#include <string.h>

/* The first hashed field of v, or NULL. */
static const char *hashed_field(const struct policy_view *v)
{
	for (size_t i = 0; v && i < v->rules.nfields; i++)
		if (v->rules.fields[i].mask.kind == MASK_HASH)
			return v->rules.fields[i].name;
	return NULL;
}

/* Index of dept's grant on en that sets field's mask to hash, or -1. */
static long hash_grant(const struct policy *p, const struct pol_entry *en, size_t dept,
		       const char *field)
{
	for (size_t i = 0; i < en->ngrants; i++) {
		const struct pol_grant *g = &p->grants[en->grants[i]];

		if (g->dept != dept)
			continue;
		for (size_t m = 0; m < g->nmasks; m++)
			if (g->masks[m].spec.kind == MASK_HASH && !strcmp(g->masks[m].field, field))
				return (long)en->grants[i];
	}
	return -1;
}

/* The hashed field of any view dept has of en, or NULL. */
static const char *dept_hashes(const struct policy *p, const struct pol_entry *en,
			       size_t dept)
{
	const char *f = NULL;

	for (size_t i = 0; !f && i < en->ngrants; i++)
		if (p->grants[en->grants[i]].dept == dept)
			f = hashed_field(p->grants[en->grants[i]].view);
	if (!f && en->share == POL_SHARE_UNCONDITIONAL)
		f = hashed_field(pol_fallback_view(en, dept));
	return f;
}

static int oracle_fail(struct pol_ctx *x, size_t wi, const char *field)
{
	const struct policy *p = x->p;
	const struct pol_grant *w = &p->grants[wi];
	const struct pol_entry *en = &p->entries[w->entry];
	long hi = hash_grant(p, en, w->dept, field);

	pol_jp_restore(x, 0);
	pol_jp_key(x, "grants");
	if (hi >= 0) {
		pol_jp_idx(x, (size_t)hi);
		pol_jp_key(x, "masks");
		pol_jp_key(x, field);
	} else {
		pol_jp_idx(x, wi);
		pol_jp_key(x, "actions");
	}
	return pol_fail(x, "department \"%s\" may write entry \"%s\" (grant \"%s\") and "
			"reads its field \"%s\" hashed%s: it could hash values of its "
			"choosing and invert its tokens; drop the write or the hash",
			p->depts[w->dept].id, en->code, w->id, field,
			hi >= 0 ? "" : " (catalog default)");
}

int pol_check_oracles(struct pol_ctx *x)
{
	const struct policy *p = x->p;

	for (size_t i = 0; i < p->ngrants; i++) {
		const struct pol_grant *g = &p->grants[i];
		const char *f;

		if (!(g->actions & POL_ACT_WRITE))
			continue;
		f = dept_hashes(p, &p->entries[g->entry], g->dept);
		if (f)
			return oracle_fail(x, i, f);
	}
	return 0;
}

/* ---- separation of duties ---- */

static int duty_fail(struct pol_ctx *x, size_t di, const char *list, size_t j,
		     const char *kind, uint32_t id, long role)
{
	pol_jp_restore(x, 0);
	pol_jp_key(x, "departments");
	pol_jp_idx(x, di);
	pol_jp_key(x, "members");
	pol_jp_key(x, list);
	pol_jp_idx(x, j);
	if (!strcmp(list, "users"))
		pol_jp_key(x, "uid");
	return pol_fail(x, "%s %u holds the %s role and may not be a member of department "
			"\"%s\" (separation of duties: admin roles read no data)", kind, id,
			pol_role_names[role], x->p->depts[di].id);
}

/*
 * One id (but root's) in two roles: its holder could make a change and
 * be the one who checks it (apply a policy and audit it, restore a file
 * and audit that), which is what separating the roles is for.
 */
static int roles_apart(struct pol_ctx *x, int gids)
{
	const struct policy *p = x->p;

	for (int r = 0; r < POL_NROLES; r++) {
		const struct pol_idlist *l = gids ? &p->roles[r].gids : &p->roles[r].uids;

		for (size_t j = 0; j < l->n; j++) {
			long other = pol_role_named(p, gids, l->v[j]);

			if (l->v[j] == 0 || other == r)
				continue;
			pol_jp_restore(x, 0);
			pol_jp_key(x, "roles");
			pol_jp_key(x, pol_role_names[r]);
			pol_jp_key(x, gids ? "gids" : "uids");
			pol_jp_idx(x, j);
			return pol_fail(x, "%s %u holds the %s role too (separation of duties: "
					"each admin holds one role)", gids ? "gid" : "uid", l->v[j],
					pol_role_names[other]);
		}
	}
	return 0;
}

int pol_check_duties(struct pol_ctx *x)
{
	const struct policy *p = x->p;
	long r;

	if ((r = roles_apart(x, 0)) || (r = roles_apart(x, 1)))
		return (int)r;

	for (size_t i = 0; i < p->ndepts; i++) {
		const struct pol_dept *d = &p->depts[i];

		for (size_t j = 0; j < d->uids.n; j++)
			if ((r = pol_role_named(p, 0, d->uids.v[j])) >= 0)
				return duty_fail(x, i, "uids", j, "uid", d->uids.v[j], r);
		for (size_t j = 0; j < d->nusers; j++)
			if ((r = pol_role_named(p, 0, d->users[j].uid)) >= 0)
				return duty_fail(x, i, "users", j, "uid", d->users[j].uid, r);
		for (size_t j = 0; j < d->gids.n; j++)
			if ((r = pol_role_named(p, 1, d->gids.v[j])) >= 0)
				return duty_fail(x, i, "gids", j, "gid", d->gids.v[j], r);
	}
	return 0;
}

/* ---- grants whose lapse changes a view ---- */

static const struct view_field *view_field(const struct policy_view *v, const char *name)
{
	for (size_t i = 0; v && i < v->rules.nfields; i++)
		if (!strcmp(v->rules.fields[i].name, name))
			return &v->rules.fields[i];
	return NULL;
}

/* The mask a view gives a declared field; drop when the view removes it. */
static struct mask_spec mask_in(const struct policy_view *v, const char *name)
{
	const struct view_field *f = view_field(v, name);
	struct mask_spec m = { MASK_NONE, 0, 0 };

	if (f)
		return f->mask;
	if (v && v->rules.drop_unlisted)
		m.kind = MASK_DROP;
	return m;
}

int pol_lapse_changes(const struct policy *p, size_t gi, struct strbuf *out)
{
	const struct pol_grant *g = &p->grants[gi];
	const struct pol_entry *en = &p->entries[g->entry];
	const struct policy_view *in = (g->actions & POL_ACT_READ) ? g->view : NULL;
	const struct policy_view *lapsed = pol_fallback_view(en, g->dept);
	char a[32], b[32];
	int n = 0;

	for (size_t i = 0; in && i < en->nfields; i++) {
		struct mask_spec mi = mask_in(in, en->fields[i].name);
		struct mask_spec mo = mask_in(lapsed, en->fields[i].name);

		if (mask_spec_equal(&mi, &mo))
			continue;
		mask_spec_format(&mi, a, sizeof(a));
		mask_spec_format(&mo, b, sizeof(b));
		strbuf_addf(out, "%s %s %s (was %s)", n++ ? "," : "", en->fields[i].name, b, a);
	}
	if (g->actions & POL_ACT_WRITE)
		strbuf_addf(out, "%s write access is lost", n++ ? ";" : "");
	return n;
}

static void lapse_line(struct policy *p, size_t gi)
{
	const struct pol_grant *g = &p->grants[gi];
	const struct pol_entry *en = &p->entries[g->entry];
	struct strbuf *w = &p->warnings;
	size_t mark = w->len;

	strbuf_addf(w, "warning: grants[%zu]: grant \"%s\" ", gi, g->id);
	if (g->valid_from && g->valid_until)
		strbuf_addf(w, "is valid from %s until %s: outside that window",
			    g->valid_from, g->valid_until);
	else if (g->valid_until)
		strbuf_addf(w, "expires %s: then", g->valid_until);
	else
		strbuf_addf(w, "starts %s: until then", g->valid_from);
	strbuf_addf(w, " for %s on %s:", p->depts[g->dept].id, en->path);
	if (pol_lapse_changes(p, gi, w))
		strbuf_addch(w, '\n');
	else
		strbuf_setlen(w, mark);
}

void pol_lapse_warnings(struct policy *p)
{
	for (size_t i = 0; i < p->ngrants; i++) {
		const struct pol_grant *g = &p->grants[i];

		/* a conditional entry denies outright once a grant lapses */
		if (p->entries[g->entry].share != POL_SHARE_UNCONDITIONAL ||
		    (!g->valid_from && !g->valid_until))
			continue;
		lapse_line(p, i);
	}
}
