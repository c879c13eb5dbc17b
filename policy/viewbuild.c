/*
 * policy/viewbuild.c - view rules for every (entry, grant) and for every
 * unconditional entry read without a grant, built once at parse time.
 *
 * The fingerprint is SHA-256 over a canonical text of the rules, so two
 * grants with the same effect share cached views, and any change to a
 * mask, a field list or a row filter changes the fingerprint.
 */
#include "policy/model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/alloc.h"
#include "common/codec.h"


void pol_quote(struct strbuf *out, const char *s)
{
	strbuf_addch(out, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			strbuf_addf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			strbuf_addf(out, "\\u%04x", c);
		else
			strbuf_addch(out, c);
	}
	strbuf_addch(out, '"');
}

void pol_rows_text(const struct row_filter *r, struct strbuf *out)
{
	static const char *const ops[] = { "eq", "ne", "in", "prefix", "all", "any" };

	if (!r) {
		strbuf_addstr(out, "every row");
		return;
	}
	if (r->op == ROW_ALL || r->op == ROW_ANY) {
		strbuf_addf(out, "%s(", ops[r->op]);
		for (size_t i = 0; i < r->nsubs; i++) {
			if (i)
				strbuf_addstr(out, "; ");
			pol_rows_text(&r->subs[i], out);
		}
		strbuf_addch(out, ')');
		return;
	}
	pol_quote(out, r->field ? r->field : "");
	strbuf_addf(out, " %s ", ops[r->op]);
	if (r->op == ROW_IN)
		strbuf_addch(out, '[');
	for (size_t i = 0; i < r->nvalues; i++) {
		if (i)
			strbuf_addstr(out, ", ");
		pol_quote(out, r->values[i]);
	}
	if (r->op == ROW_IN)
		strbuf_addch(out, ']');
}

void pol_rows_clear(struct row_filter *r)
{
	if (!r)
		return;
	free(r->field);
	for (size_t i = 0; i < r->nvalues; i++)
		free(r->values[i]);
	free(r->values);
	for (size_t i = 0; i < r->nsubs; i++)
		pol_rows_clear(&r->subs[i]);
	free(r->subs);
	memset(r, 0, sizeof(*r));
}

void pol_view_free(struct policy_view *v)
{
	if (!v)
		return;
	free(v->rules.fields);
	free(v->rules.encoding);
	if (v->own_rows)
		free(v->own_rows->subs);	/* the terms are borrowed */
	free(v->own_rows);
	free(v);
}

bool pol_view_hashes(const struct policy_view *v)
{
	for (size_t i = 0; v && i < v->rules.nfields; i++)
		if (v->rules.fields[i].mask.kind == MASK_HASH)
			return true;
	return false;
}

const struct policy_view *pol_fallback_view(const struct pol_entry *en, size_t dept)
{
	if (en->fallback && en->fallback[dept])
		return en->fallback[dept];
	return en->deflt_view;
}

static enum view_format view_format(const char *format)
{
	static const char *const names[] = { "csv", "tsv", "jsonl", "json" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(format, names[i]) == 0)
			return (enum view_format)i;
	return VIEW_OTHER;
}

/*
 * The revision of the engine's reading of each format (index: enum
 * view_format). Views and refusals are kept in the store per fingerprint,
 * so an engine that writes another view of the same content under the
 * same rules must change the fingerprint, or the old view is served on.
 * Raise a format's revision with such a change. Revision 1 adds nothing to
 * the text, so views of formats never revised keep their fingerprints.
 * JSON 2: drop_unlisted keeps unlisted containers leading to listed fields.
 */
static const unsigned int format_rev[] = { 1, 1, 2, 2, 1 };

static int fingerprint(struct policy_view *v)
{
	static const char *const formats[] = { "csv", "tsv", "jsonl", "json", "other" };
	const struct view_rules *r = &v->rules;
	struct strbuf sb = STRBUF_INIT;
	unsigned int mdlen = 0;
	char mask[32];
	int rc = 0;

	strbuf_addf(&sb, "poolfs-view 1\nformat %s\nencoding %s\ndrop_unlisted %d\n",
		    formats[r->format], r->encoding, r->drop_unlisted ? 1 : 0);
	if (format_rev[r->format] > 1)
		strbuf_addf(&sb, "engine %u\n", format_rev[r->format]);
	for (size_t i = 0; i < r->nfields; i++) {
		mask_spec_format(&r->fields[i].mask, mask, sizeof(mask));
		strbuf_addstr(&sb, "field ");
		pol_quote(&sb, r->fields[i].name);
		strbuf_addf(&sb, " %s\n", mask);
	}
	strbuf_addstr(&sb, "rows ");
	pol_rows_text(r->rows, &sb);
	strbuf_addch(&sb, '\n');
	/* whose key: a hashed view of one department is never another's */
	if (r->hash_dept) {
		strbuf_addf(&sb, "hash_key %u ", r->hash_key_version);
		pol_quote(&sb, r->hash_dept);
		strbuf_addch(&sb, '\n');
	}
	if (EVP_Digest(sb.buf, sb.len, v->rules.fingerprint, &mdlen, EVP_sha256(),
		       NULL) != 1 || mdlen != sizeof(v->rules.fingerprint))
		rc = -EIO;
	else
		hex_encode(v->rules.fingerprint, sizeof(v->rules.fingerprint), v->fp_hex);
	strbuf_release(&sb);
	return rc;
}

static int grant_lists(const struct pol_grant *g, const char *field)
{
	if (!g || !g->has_fields)
		return 1;
	for (size_t i = 0; i < g->nfields; i++)
		if (strcmp(g->fields[i], field) == 0)
			return 1;
	return 0;
}

/* The tag default, or the grant's mask for the field when it names one. */
static struct mask_spec field_mask(const struct pol_field *f, const struct pol_grant *g)
{
	for (size_t i = 0; g && i < g->nmasks; i++)
		if (strcmp(g->masks[i].field, f->name) == 0)
			return g->masks[i].spec;
	return f->deflt;
}

/*
 * What a view is built from: the tag defaults alone (ng 0), one grant in
 * force (ng 1, !lapsed), or the tag defaults met with grants not in
 * force (lapsed): outside its window a grant keeps its restrictions
 * (fields, rows, masks stronger than the defaults) and loses what it
 * lifted. dept (-1: none) names the reader whose key hash masks use.
 */
struct view_src {
	const struct pol_entry *en;
	const struct pol_grant *const *gs;
	size_t ng;
	bool lapsed;
	const char *dept;
};

static struct mask_spec src_mask(const struct view_src *s, const struct pol_field *f)
{
	struct mask_spec m = f->deflt;

	if (!s->lapsed)
		return s->ng ? field_mask(f, s->gs[0]) : f->deflt;
	for (size_t i = 0; i < s->ng; i++) {
		struct mask_spec g = field_mask(f, s->gs[i]);

		mask_spec_meet(&m, &g, &m);
	}
	return m;
}

static bool src_lists(const struct view_src *s, const char *field)
{
	for (size_t i = 0; i < s->ng; i++)
		if (!grant_lists(s->gs[i], field))
			return false;
	return true;
}

/*
 * Columns the rules drop unless listed: those a grant leaves out, and
 * under the tag defaults every column the catalog does not declare (fail
 * closed: the sharing of an entry covers the fields it declares; a column
 * its provider adds without declaring it may hold anything).
 */
static bool src_drops(const struct view_src *s)
{
	for (size_t i = 0; i < s->ng; i++)
		if (s->gs[i]->has_fields)
			return true;
	if (s->ng && !s->lapsed)
		return false;
	return s->en->nfields && view_format(s->en->format) != VIEW_OTHER;
}

/* The rows every grant of s keeps: NULL, one borrowed filter, or an "all" of them. */
static void src_rows(const struct view_src *s, struct policy_view *v)
{
	size_t n = 0;

	for (size_t i = 0; i < s->ng; i++) {
		if (s->gs[i]->rows) {
			v->rules.rows = s->gs[i]->rows;
			n++;
		}
	}
	if (n < 2)
		return;
	v->own_rows = xcalloc(1, sizeof(*v->own_rows));
	v->own_rows->op = ROW_ALL;
	v->own_rows->subs = xcalloc(n, sizeof(*v->own_rows->subs));
	for (size_t i = 0; i < s->ng; i++)
		if (s->gs[i]->rows)
			v->own_rows->subs[v->own_rows->nsubs++] = *s->gs[i]->rows;
	v->rules.rows = v->own_rows;
}

/* *out = NULL when the rules leave the content raw. */
static int build_view(const struct view_src *s, struct policy_view **out)
{
	const struct pol_entry *en = s->en;
	bool drop = src_drops(s);
	struct policy_view *v;
	struct mask_spec m;
	int rc;

	*out = NULL;
	v = xcalloc(1, sizeof(*v));
	if (en->nfields)
		v->rules.fields = xcalloc(en->nfields, sizeof(*v->rules.fields));
	for (size_t i = 0; i < en->nfields; i++) {
		if (!src_lists(s, en->fields[i].name))
			continue;
		m = src_mask(s, &en->fields[i]);
		if (!drop && m.kind == MASK_NONE)
			continue;
		v->rules.fields[v->rules.nfields].name = en->fields[i].name;
		v->rules.fields[v->rules.nfields++].mask = m;
	}
	src_rows(s, v);
	if (!drop && !v->rules.nfields && !v->rules.rows) {
		rc = 0;
		goto err_out;
	}
	v->rules.drop_unlisted = drop;
	v->rules.format = view_format(en->format);
	if (pol_view_hashes(v)) {
		/* no reader, no key: such a view fails closed at build */
		v->rules.hash_dept = s->dept;
		v->rules.hash_key_version = s->dept ? VIEW_HASH_KEY_VERSION : 0;
	}
	/* GB18030 is a superset of GBK: one decoder reads both */
	v->rules.encoding = xstrdup(strcmp(en->encoding, "utf-8") == 0 ? "utf-8" : "gb18030");
	rc = fingerprint(v);
	if (rc)
		goto err_out;
	*out = v;
	return 0;
err_out:
	pol_view_free(v);
	return rc;
}

/*
 * The views of an unconditional entry read without a grant in force: the
 * tag defaults, and for each department that holds grants on it or
 * reads a hashed field, its own.
 */
static int build_fallbacks(struct policy *p, struct pol_entry *en)
{
	struct view_src s = { .en = en, .lapsed = true };
	const struct pol_grant **gs = NULL;
	int rc;

	rc = build_view(&s, &en->deflt_view);
	en->deflt_hashes = pol_view_hashes(en->deflt_view);
	if (rc || !p->ndepts)
		return rc;
	en->fallback = xcalloc(p->ndepts, sizeof(*en->fallback));
	gs = xcalloc(en->ngrants + 1, sizeof(*gs));
	for
 (size_t d = 0; !rc && d < p->ndepts; d++) {
		if (d == en->provider)
			continue;
		s.ng = 0;
		for (size_t i = 0; i < en->ngrants; i++)
			if (p->grants[en->grants[i]].dept == d)
				gs[s.ng++] = &p->grants[en->grants[i]];
		if (!s.ng && !en->deflt_hashes)
			continue;
		s.gs = gs;
		s.dept = p->depts[d].id;
		rc = build_view(&s, &en->fallback[d]);
	}
	free(gs);
	return rc;
}

int pol_views_build(struct policy *p)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < p->nentries; i++)
		if (p->entries[i].share == POL_SHARE_UNCONDITIONAL)
			rc = build_fallbacks(p, &p->entries[i]);
	for (size_t i = 0; !rc && i < p->ngrants; i++) {
		const struct pol_grant *g = &p->grants[i];
		struct view_src s = { &p->entries[g->entry], &g, 1, false,
				      p->depts[g->dept].id };

		rc = build_view(&s, &p->grants[i].view);
	}
	return rc;
}
