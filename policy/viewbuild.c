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
	free(v);
}

static enum view_format view_format(const char *format)
{
	static const char *const names[] = { "csv", "tsv", "jsonl", "json" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(format, names[i]) == 0)
			return (enum view_format)i;
	return VIEW_OTHER;
}

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
	for (size_t i = 0; i < r->nfields; i++) {
		pol_mask_format(&r->fields[i].mask, mask, sizeof(mask));
		strbuf_addstr(&sb, "field ");
		pol_quote(&sb, r->fields[i].name);
		strbuf_addf(&sb, " %s\n", mask);
	}
	strbuf_addstr(&sb, "rows ");
	pol_rows_text(r->rows, &sb);
	strbuf_addch(&sb, '\n');
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

/* *out = NULL when the rules leave the content raw. */
static int build_view(const struct pol_entry *en, const struct pol_grant *g,
		      struct policy_view **out)
{
	bool drop = g && g->has_fields;
	struct policy_view *v;
	struct mask_spec m;
	int rc;

	*out = NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (en->nfields) {
		v->rules.fields = calloc(en->nfields, sizeof(*v->rules.fields));
		if (!v->rules.fields) {
			rc = -ENOMEM;
			goto err_out;
		}
	}
	for (size_t i = 0; i < en->nfields; i++) {
		if (!grant_lists(g, en->fields[i].name))
			continue;
		m = field_mask(&en->fields[i], g);
		if (!drop && m.kind == MASK_NONE)
			continue;
		v->rules.fields[v->rules.nfields].name = en->fields[i].name;
		v->rules.fields[v->rules.nfields++].mask = m;
	}
	v->rules.rows = g ? g->rows : NULL;
	if (!drop && !v->rules.nfields && !v->rules.rows) {
		rc = 0;
		goto err_out;
	}
	v->rules.drop_unlisted = drop;
	v->rules.format = view_format(en->format);
	/* GB18030 is a superset of GBK: one decoder reads both */
	v->rules.encoding = strdup(strcmp(en->encoding, "utf-8") == 0 ? "utf-8" : "gb18030");
	if (!v->rules.encoding) {
		rc = -ENOMEM;
		goto err_out;
	}
	rc = fingerprint(v);
	if (rc)
		goto err_out;
	*out = v;
	return 0;
err_out:
	pol_view_free(v);
	return rc;
}

int pol_views_build(struct policy *p)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < p->nentries; i++)
		if (p->entries[i].share == POL_SHARE_UNCONDITIONAL)
			rc = build_view(&p->entries[i], NULL, &p->entries[i].deflt_view);
	for (size_t i = 0; !rc && i < p->ngrants; i++)
		rc = build_view(&p->entries[p->grants[i].entry], &p->grants[i],
				&p->grants[i].view);
	return rc;
}
