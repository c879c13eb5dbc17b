/*
 * tools/cmd_scan.c - "poolctl scan PATH": which columns of a pool file
 * look like personal data, and whether the catalog tags them.
 *
 * An untagged column is served raw to every department its entry is
 * shared with, so this is the check to run before sharing a dataset.
 * The command reads the stored content itself, not a reader's view, and
 * an admin role opens commands, not data: it prints counts, positions and
 * kinds, never a value. Not even as a column name: a headerless CSV, or
 * one whose line ends the sampler reads otherwise, has values where the
 * header should be, and JSON may key objects by ID numbers. So a CSV
 * header is printed only when it is a field name the catalog entry
 * declares ("column 3" otherwise), and a JSON key path only shows keys
 * that are declared field names or plain identifiers ("*" for others).
 * Row filters of the entry's grants are compared with the values too:
 * values that differ from a filter value only by blanks, Unicode form or
 * case are counted and warned about, again without printing them. It is
 * audited like any read.
 */
#include "tools/cmd.h"
#include "common/esc.h"
#include "common/alloc.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "policy/desens/nfc.h"
#include "policy/desens/pii.h"
#include "policy/policy.h"
#include "store/audit.h"
#include "store/store.h"

#define SCAN_ROWS_DEFAULT	1000
#define SCAN_ROWS_MAX		10000000
#define SCAN_WINDOW_FIRST	(1u << 20)
#define SCAN_WINDOW_MAX		(64u << 20)	/* the most of a file one scan holds */

static const char scan_usage[] =
	"usage: poolctl -s STORE scan [--rows N] [--format F] [--encoding E] [--json] PATH\n"
	"\n"
	"Samples the first N records of the pool file PATH (CSV or TSV with a\n"
	"header row, JSON Lines or a JSON array of objects) and prints, per\n"
	"column, the kind of personal data most values look like (id_card,\n"
	"phone, bank_card, email; date), the share of values that match, the\n"
	"column's tag in the catalog entry holding PATH and a status. JSON is\n"
	"read at every depth: a nested key is a column by its path (data[].id).\n"
	"Exit 0 when every column of personal data is tagged, 1 when one is\n"
	"UNTAGGED. Values are never printed, not even as names: a CSV header is\n"
	"shown only when the catalog entry declares it as a field (else \"column\n"
	"N\"), a JSON key only when declared or a plain identifier (else \"*\").\n"
	"Values in a field that a grant's row filter tests are compared with the\n"
	"filter's values: those that differ only by blanks, Unicode form or case\n"
	"are counted in a warning naming the grant and field.\n"
	"\n"
	"  --rows N      records to sample (default 1000)\n"
	"  --format F    csv, tsv, jsonl or json (default: the catalog entry's,\n"
	"                else the file name's extension, else guessed)\n"
	"  --encoding E  utf-8 or gb18030 when the file has no BOM (default: the\n"
	"                catalog entry's, else utf-8)\n"
	"  --json        one JSON document instead of the table\n";

static const char *const format_names[] = {
	[VIEW_CSV] = "csv", [VIEW_TSV] = "tsv", [VIEW_JSONL] = "jsonl", [VIEW_JSON] = "json",
};

enum scan_status { ST_NONE, ST_OK, ST_UNTAGGED, ST_MISMATCH, ST_NOT_PII };

static const char *const status_text[] = {
	[ST_NONE] = "-", [ST_OK] = "ok", [ST_UNTAGGED] = "UNTAGGED",
	[ST_MISMATCH] = "MISMATCH", [ST_NOT_PII] = "-",
};

static const char *const status_json[] = {
	[ST_NONE] = "none", [ST_OK] = "ok", [ST_UNTAGGED] = "untagged",
	[ST_MISMATCH] = "mismatch", [ST_NOT_PII] = "not_pii",
};

struct scan_job {
	const char *path;
	uint64_t ino;
	uint64_t rows;
	enum view_format fmt;		/* VIEW_OTHER: let the sampler guess */
	enum text_enc enc;
	bool have_entry;
	struct policy_entry_info entry;
	json_t *doc;			/* the stored policy, for the entry's fields */
	json_t *fields;			/* borrowed from doc; NULL: no fields */
	struct pii_sample s;
	uint64_t version, size;		/* of the content read */
	uint64_t bytes;			/* read of it */
	size_t untagged;
	/* the row filters of the entry's grants, leaf by leaf */
	struct pii_watch w[PII_WATCH_MAX];
	const char *wgrant[PII_WATCH_MAX];	/* the grant of each; borrowed from doc */
	size_t nw;
	uint64_t near;				/* records warned about, all filters */
};

/* Adds a leaf of a grant's row filter ({"FIELD": {"OP": value or [values]}}). */
static int watch_leaf(struct scan_job *j, const char *grant, const char *field, json_t *cond)
{
	const char *op;
	json_t *arg, *v;
	size_t i;

	json_object_foreach(cond, op, arg) {
		struct pii_watch *w = &j->w[j->nw];
		const char **vals;
		size_t n = json_is_array(arg) ? json_array_size(arg) : 1;

		if (j->nw == PII_WATCH_MAX)
			return 0;	/* so many filters: the first ones are compared */
		vals = xcalloc(n, sizeof(*vals));

		*w = (struct pii_watch){ .field = field, .values = vals,
					 .prefix = !strcmp(op, "prefix") };
		if (!json_is_array(arg) && json_string_value(arg))
			vals[w->nvalues++] = json_string_value(arg);
		json_array_foreach(json_is_array(arg) ? arg : NULL, i, v)
			if (json_string_value(v))
				vals[w->nvalues++] = json_string_value(v);
		j->wgrant[j->nw++] = grant;
	}
	return 0;
}

/* Walks a grant's exported "rows": {"all": [...]}, {"any": [...]} or field conditions. */
static int watch_rows(struct scan_job *j, const char *grant, json_t *rows, int depth)
{
	const char *key;
	json_t *v, *sub;
	size_t i;
	int rc = 0;

	if (depth > 32)
		return 0;
	json_object_foreach(rows, key, v) {
		if (!strcmp(key, "all") || !strcmp(key, "any")) {
			json_array_foreach(v, i, sub)
				if (!rc)
					rc = watch_rows(j, grant, sub, depth + 1);
		} else if (json_is_object(v)) {
			rc = watch_leaf(j, grant, key, v);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* The row filters of every grant on the entry, to compare the values with. */
static int load_watches(struct ctl_ctx *ctx, struct scan_job *j)
{
	const char *entry, *id;
	json_t *g;
	size_t i;

	json_array_foreach(json_object_get(j->doc, "grants"), i, g) {
		entry = json_string_value(json_object_get(g, "entry"));
		id = json_string_value(json_object_get(g, "id"));
		if (!entry || !id || strcmp(entry, j->entry.code) ||
		    !json_is_object(json_object_get(g, "rows")))
			continue;
		if (watch_rows(j, id, json_object_get(g, "rows"), 0))
			return cmd_error(ctx, CTL_EXIT_USAGE, "scan: out of memory");
	}
	return 0;
}

/* The catalog's "fields" of the entry holding the path, from the stored policy. */
static int load_entry(struct ctl_ctx *ctx, struct scan_job *j)
{
	const struct ctl_stored_policy *sp = &ctx->stored;
	struct strbuf doc = STRBUF_INIT;
	const char *code;
	json_t *en;
	size_t i;
	int rc = 0;

	cmd_load_policy(ctx);
	if (sp->rc && sp->version)
		return cmd_error(ctx, CTL_EXIT_USAGE, "policy version %" PRIu64 ": %s",
				 sp->version, perr_msg(&sp->err, sp->rc));
	if (sp->rc)
		return cmd_error(ctx, CTL_EXIT_USAGE, "%s", perr_msg(&sp->err, sp->rc));
	/* no policy or no entry: nothing is tagged */
	if (!sp->policy || policy_entry_for_path(sp->policy, j->path, &j->entry))
		return 0;
	j->have_entry = true;
	if (policy_export_json(sp->policy, &doc) ||
	    !(j->doc = json_loadb(doc.buf, doc.len, 0, NULL))) {
		rc = cmd_error(ctx, CTL_EXIT_USAGE, "policy version %" PRIu64
			       ": cannot read the fields of catalog entry \"%s\"",
			       sp->version, j->entry.code);
		goto out;
	}
	json_array_foreach(json_object_get(j->doc, "catalog"), i, en) {
		code = json_string_value(json_object_get(en, "code"));
		if (code && !strcmp(code, j->entry.code))
			j->fields = json_object_get(en, "fields");
	}
	rc = load_watches(ctx, j);
out:
	strbuf_release(&doc);
	return rc;
}

static enum view_format format_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
		if (!strcmp(name, format_names[i]))
			return (enum view_format)i;
	return VIEW_OTHER;
}

static enum view_format format_by_extension(const char *path)
{
	static const struct { const char *ext; enum view_format fmt; } exts[] = {
		{ ".csv", VIEW_CSV }, { ".tsv", VIEW_TSV }, { ".tab", VIEW_TSV },
		{ ".jsonl", VIEW_JSONL }, { ".ndjson", VIEW_JSONL }, { ".json", VIEW_JSON },
	};
	size_t n = strlen(path);

	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		size_t el = strlen(exts[i].ext);

		if (n > el && !strcasecmp(path + n - el, exts[i].ext))
			return exts[i].fmt;
	}
	return VIEW_OTHER;
}

/*
 * The catalog entry decides, as it does for the masking engine, unless an
 * option overrides it; outside every entry the file's name or content does.
 */
static int choose_reading(struct ctl_ctx *ctx, struct scan_job *j, const char *fmt,
			  const char *enc)
{
	if (fmt) {
		j->fmt = format_by_name(fmt);
		if (j->fmt == VIEW_OTHER)
			return cmd_error(ctx, CTL_EXIT_USAGE, "scan: --format \"%s\": expected csv, "
					 "tsv, jsonl or json", fmt);
	} else if (j->have_entry) {
		j->fmt = format_by_name(j->entry.format);
		if (j->fmt == VIEW_OTHER)
			return cmd_error(ctx, CTL_EXIT_USAGE, "\"%s\": catalog entry \"%s\" holds %s "
					 "files; scan reads csv, tsv, jsonl and json (see --format)",
					 j->path, j->entry.code, j->entry.format);
	} else {
		j->fmt = format_by_extension(j->path);
	}
	if (!enc && j->have_entry)
		enc = j->entry.encoding;
	if (text_enc_parse(enc, &j->enc))
		return cmd_error(ctx, CTL_EXIT_USAGE, "scan: --encoding \"%s\": expected utf-8 "
				 "or gb18030", enc);
	return 0;
}

/*
 * Samples a growing beginning of the file until it holds the records
 * asked for: most files need one read, and no file makes a scan hold
 * more than SCAN_WINDOW_MAX bytes.
 */
static int sample(struct ctl_ctx *ctx, struct scan_job *j)
{
	struct strbuf buf = STRBUF_INIT, subject = STRBUF_INIT;
	struct store_content *c = NULL;
	struct perr e = PERR_INIT;
	uint64_t size, want, window = SCAN_WINDOW_FIRST;
	ssize_t got;
	int rc;

	strbuf_addf(&subject, "\"%s\"", j->path);
	rc = store_content_open(ctx->store, j->ino, 0, &c);
	if (rc) {
		rc = cmd_fail(ctx, rc, NULL, subject.buf);
		goto out;
	}
	size = store_content_size(c);
	j->version = store_content_version(c);
	for (;;) {
		want = size < window ? size : window;
		strbuf_grow(&buf, want - buf.len);
		while (buf.len < want) {
			got = store_content_read(c, buf.buf + buf.len, want - buf.len, buf.len);
			if (got <= 0) {
				rc = cmd_fail(ctx, got ? (int)got : -EIO, NULL, subject.buf);
				goto out;
			}
			strbuf_setlen(&buf, buf.len + (size_t)got);
		}
		pii_sample_release(&j->s);
		rc = pii_sample_watch((const uint8_t *)buf.buf, buf.len, buf.len == size, j->fmt,
				      j->enc, j->rows, &j->s, j->w, j->nw, &e);
		if (rc) {
			rc = cmd_error(ctx, CTL_EXIT_USAGE, "%s: %s", subject.buf, perr_msg(&e, rc));
			goto out;
		}
		if (!j->s.want_more || want == size || window >= SCAN_WINDOW_MAX)
			break;
		window *= 4;
	}
	j->bytes = buf.len;
	j->size = size;
out:
	if (c)
		store_content_close(c);
	strbuf_release(&buf);
	strbuf_release(&subject);
	return rc;
}

/*
 * The catalog field named name, or NULL; names compare as the engine
 * compares them (trimmed, NFC), so a column the engine masks is that field.
 */
static json_t *catalog_field(const struct scan_job *j, const char *name)
{
	struct strbuf want = STRBUF_INIT, got = STRBUF_INIT;
	const char *fname;
	json_t *f, *found = NULL;
	size_t i;

	if (!name || nfc_append((const uint8_t *)name, strlen(name), NFC_C, true, &want))
		goto out;
	json_array_foreach(j->fields, i, f) {
		fname = json_string_value(json_object_get(f, "name"));
		strbuf_reset(&got);
		if (fname && !nfc_append((const uint8_t *)fname, strlen(fname), NFC_C, true, &got) &&
		    got.len == want.len && !memcmp(got.buf, want.buf, got.len)) {
			found = f;
			break;
		}
	}
out:
	strbuf_release(&want);
	strbuf_release(&got);
	return found;
}

/* The last key of a column's path: the CSV header, the JSON key. */
static const char *column_key(const struct pii_column *c)
{
	for (size_t k = c->nparts; k > 0; k--)
		if (c->parts[k - 1])
			return c->parts[k - 1];
	return NULL;
}

/*
 * Whether a JSON key may be printed: a field name the entry declares, or
 * a plain identifier that looks like no personal data. Anything else may
 * be a value used as a key.
 */
static bool key_printable(const struct scan_job *j, const char *key)
{
	size_t n = strlen(key);

	if (catalog_field(j, key))
		return true;
	if (!n || n > 64 || !((key[0] >= 'A' && key[0] <= 'Z') || (key[0] >= 'a' && key[0] <= 'z') ||
			      key[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((key[i] >= 'A' && key[i] <= 'Z') || (key[i] >= 'a' && key[i] <= 'z') ||
		      (key[i] >= '0' && key[i] <= '9') || key[i] == '_' || key[i] == '-'))
			return false;
	return pii_match(key, n) == 0;
}

/*
 * How column i is named to the admin: a declared field name, a JSON key
 * path of printable keys ("data[].id"), else its position ("column 3",
 * with the path's shape when it has one: "column 3 (*[].id)").
 */
static void column_label(const struct scan_job *j, size_t i, struct strbuf *out)
{
	const struct pii_column *c = &j->s.cols[i];
	const char *key = column_key(c);
	struct strbuf path = STRBUF_INIT;
	bool hidden = false;

	strbuf_reset(out);
	if (j->s.format == VIEW_CSV || j->s.format == VIEW_TSV) {
		if (catalog_field(j, key))
			strbuf_addstr(out, json_string_value(json_object_get(catalog_field(j, key),
									     "name")));
		else
			strbuf_addf(out, "column %zu", i + 1);
		return;
	}
	for (size_t k = 0; k < c->nparts; k++) {
		if (!c->parts[k]) {
			strbuf_addstr(&path, "[]");
			continue;
		}
		if (k)
			strbuf_addch(&path, '.');
		if (key_printable(j, c->parts[k])) {
			strbuf_addstr(&path, c->parts[k]);
		} else {
			strbuf_addch(&path, '*');
			hidden = true;
		}
	}
	if (hidden)
		strbuf_addf(out, "column %zu (%s)", i + 1, path.buf);
	else
		strbuf_add(out, path.buf, path.len);
	strbuf_release(&path);
}

/*
 * A personal kind needs a tag, or at least a mask of its own (a field
 * given "mask": "hash" and no tag is protected all the same).
 */
static enum scan_status column_status(int kind, const char *tag, const char *mask)
{
	bool tagged = tag || (mask && strcmp(mask, "none"));

	if (kind < 0)
		return ST_NONE;
	if (!pii_kind_personal((enum pii_kind)kind))
		return tagged ? ST_OK : ST_NOT_PII;
	if (!tagged)
		return ST_UNTAGGED;
	return !tag || !strcmp(tag, pii_kind_name((enum pii_kind)kind)) ? ST_OK : ST_MISMATCH;
}

struct col_report {
	const struct pii_column *c;
	int kind;
	unsigned pct;
	const char *tag, *mask;
	enum scan_status st;
};

static void report_column(const struct scan_job *j, size_t i, struct col_report *r)
{
	json_t *f;

	r->c = &j->s.cols[i];
	r->kind = pii_column_kind(r->c);
	r->pct = r->kind < 0 ? 0 : (unsigned)(r->c->hits[r->kind] * 100 / r->c->values);
	f = catalog_field(j, column_key(r->c));
	r->tag = json_string_value(json_object_get(f, "tag"));
	r->mask = json_string_value(json_object_get(f, "mask"));
	r->st = column_status(r->kind, r->tag, r->mask);
}

/* Terminal columns of a UTF-8 name: East Asian wide characters take two. */
static size_t display_width(const char *s)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t w = 0;

	while (*p) {
		int len = *p < 0x80 ? 1 : *p < 0xE0 ? 2 : *p < 0xF0 ? 3 : 4;
		uint32_t cp = len == 1 ? *p : *p & (0x7Fu >> len);

		for (int k = 1; k < len && p[k]; k++)
			cp = cp << 6 | (p[k] & 0x3F);
		w += (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
		     (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
		     (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
		     (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD) ? 2 : 1;
		for (int k = 0; k < len && *p; k++)
			p++;
	}
	return w;
}

/*
 * Pads s to width terminal columns, and by one blank at least. A header
 * may hold line breaks or tabs: one table row per column all the same.
 */
static void put_cell(struct strbuf *out, const char *s, size_t width)
{
	size_t w = display_width(s);

	/* a header is the file writer's: no control character reaches the terminal */
	while (*s) {
		size_t n = esc_control_len(s);

		strbuf_addch(out, n ? '?' : *s);
		s += n ? n : 1;
	}
	do
		strbuf_addch(out, ' ');
	while (++w < width);
}

/* The warnings about near matches of row filters: counts, never the values. */
static void print_near(struct ctl_ctx *ctx, const struct scan_job *j)
{
	for (size_t w = 0; w < j->nw; w++)
		if (j->w[w].near)
			strbuf_addf(&ctx->out, "warning: grant %s, row filter on %s: %" PRIu64
				    " of %" PRIu64 " records hold a value that differs from a filter "
				    "value only by surrounding blanks, Unicode form (NFC/NFKC, full "
				    "width) or case\n", j->wgrant[w], j->w[w].field, j->w[w].near,
				    j->w[w].seen);
}

static void print_table(struct ctl_ctx *ctx, const struct scan_job *j)
{
	struct strbuf label = STRBUF_INIT;
	struct col_report r;
	size_t width = strlen("COLUMN");
	char pct[8], tag[80];

	for (size_t i = 0; i < j->s.ncols; i++) {
		column_label(j, i, &label);
		if (display_width(label.buf) > width)
			width = display_width(label.buf);
	}
	put_cell(&ctx->out, "COLUMN", width + 2);
	strbuf_addf(&ctx->out, "%-11s%5s  %-10s%s\n", "KIND", "MATCH", "TAG", "STATUS");
	for (size_t i = 0; i < j->s.ncols; i++) {
		report_column(j, i, &r);
		column_label(j, i, &label);
		snprintf(pct, sizeof(pct), "%u%%", r.pct);
		put_cell(&ctx->out, label.buf, width + 2);
		strbuf_addf(&ctx->out, "%-11s%5s  ", r.kind < 0 ? "-" : pii_kind_name(r.kind),
			    r.kind < 0 ? "-" : pct);
		snprintf(tag, sizeof(tag), "%s%s", r.tag || !r.mask ? "" : "mask=",
			 r.tag ? r.tag : r.mask ? r.mask : "-");
		put_cell(&ctx->out, tag, 10);
		strbuf_addf(&ctx->out, "%s\n", status_text[r.st]);
	}
	strbuf_addf(&ctx->out, "%" PRIu64 " record%s sampled (%s, %s%s), ", j->s.records,
		    j->s.records == 1 ? "" : "s", format_names[j->s.format],
		    text_enc_name(j->s.enc), j->s.bom ? " with BOM" : "");
	if (j->have_entry)
		strbuf_addf(&ctx->out, "catalog entry %s", j->entry.code);
	else
		strbuf_addstr(&ctx->out, "no catalog entry");
	if (j->s.want_more)
		strbuf_addf(&ctx->out, "; only the first %u MiB were read", SCAN_WINDOW_MAX >> 20);
	strbuf_addf(&ctx->out, ": %zu untagged column%s of personal data\n", j->untagged,
		    j->untagged == 1 ? "" : "s");
	print_near(ctx, j);
	strbuf_release(&label);
}

static json_t *column_json(const struct col_report *r, size_t i, const char *label)
{
	json_t *m = json_object();

	for (int k = 0; m && k < PII_NKINDS; k++)
		if (json_object_set_new(m, pii_kind_name(k), json_integer((json_int_t)r->c->hits[k]))) {
			json_decref(m);
			m = NULL;
		}
	return json_pack("{s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:s}",
			 "name", label, "column", (json_int_t)(i + 1),
			 "values", (json_int_t)r->c->values,
			 "empty", (json_int_t)r->c->empty, "matches", m,
			 "kind", r->kind < 0 ? json_null() : json_string(pii_kind_name(r->kind)),
			 "match", r->kind < 0 ? json_null() : json_integer(r->pct),
			 "tag", r->tag ? json_string(r->tag) : json_null(),
			 "mask", r->mask ? json_string(r->mask) : json_null(),
			 "status", status_json[r->st]);
}

static json_t *near_json(const struct scan_job *j)
{
	json_t *a = json_array();

	for (size_t w = 0; a && w < j->nw; w++)
		if (j->w[w].near &&
		    json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I}", "grant", j->wgrant[w],
						       "field", j->w[w].field,
						       "records", (json_int_t)j->w[w].seen,
						       "near", (json_int_t)j->w[w].near))) {
			json_decref(a);
			a = NULL;
		}
	return a;
}

static int print_json(struct ctl_ctx *ctx, const struct scan_job *j)
{
	json_t *cols = json_array(), *untagged = json_array();
	struct strbuf label = STRBUF_INIT;
	struct col_report r;

	for (size_t i = 0; cols && untagged && i < j->s.ncols; i++) {
		report_column(j, i, &r);
		column_label(j, i, &label);
		if (json_array_append_new(cols, column_json(&r, i, label.buf)) ||
		    (r.st == ST_UNTAGGED && json_array_append_new(untagged, json_string(label.buf)))) {
			json_decref(cols);
			cols = NULL;
		}
	}
	strbuf_release(&label);
	return cmd_print_json(ctx, json_pack(
		"{s:o, s:o, s:I, s:I, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:b}",
		"path", ctl_json_bytes(j->path, strlen(j->path)),
		"entry", j->have_entry ? json_string(j->entry.code) : json_null(),
		"policy_version", (json_int_t)ctx->stored.version,
		"version", (json_int_t)j->version,
		"format", format_names[j->s.format], "encoding", text_enc_name(j->s.enc),
		"bom", j->s.bom, "rows", (json_int_t)j->rows, "records", (json_int_t)j->s.records,
		"size", (json_int_t)j->size, "bytes_read", (json_int_t)j->bytes,
		"columns", cols, "untagged", untagged, "near_matches", near_json(j),
		"ok", j->untagged == 0));
}

static int audit_scan(struct ctl_ctx *ctx, const struct scan_job *j, int rc)
{
	struct strbuf why = STRBUF_INIT;
	struct audit_rec rec;
	int ret;

	cmd_audit_init(ctx, &rec, "scan", j->path);
	if (!rc || rc == CTL_EXIT_NO)
		strbuf_addf(&why, "scan: %" PRIu64 " records, %zu untagged columns of personal data, "
			    "%" PRIu64 " near matches of row filters", j->s.records, j->untagged,
			    j->near);
	else
		strbuf_addstr(&why, "scan failed");
	rec.code = j->have_entry ? j->entry.code : NULL;
	rec.version = j->version;
	rec.bytes = j->bytes;
	rec.result = rc == CTL_EXIT_USAGE ? -EIO : 0;
	rec.view = "raw";
	rec.reason = why.buf;
	ret = audit_append(ctx->store, &rec);
	strbuf_release(&why);
	return ret;
}

/* Returns -1 to go on, else the exit code (after --help or a usage error). */
static int parse_args(struct ctl_ctx *ctx, int argc, char **argv, struct scan_job *j,
		      const char **fmt, const char **enc, bool *json)
{
	uint64_t rows = SCAN_ROWS_DEFAULT;
	struct cmd_opt opts[] = {
		{ "--rows", CMD_OPT_U64, &rows, false },
		{ "--format", CMD_OPT_STRING, fmt, false },
		{ "--encoding", CMD_OPT_STRING, enc, false },
		{ "--json", CMD_OPT_BOOL, json, false },
		CMD_OPT_END
	};
	int n;

	n = cmd_parse(ctx, scan_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n != 1)
		return cmd_error(ctx, CTL_EXIT_USAGE, "scan: expected one PATH, got %d", n);
	if (rows < 1 || rows > SCAN_ROWS_MAX)
		return cmd_error(ctx, CTL_EXIT_USAGE, "scan: --rows %" PRIu64 ": expected 1 to %d",
				 rows, SCAN_ROWS_MAX);
	j->path = argv[0];
	j->rows = rows;
	return -1;
}

int cmd_scan(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct scan_job j = { 0 };
	const char *fmt = NULL, *enc = NULL;
	bool json = false;
	int rc;

	rc = parse_args(ctx, argc, argv, &j, &fmt, &enc, &json);
	if (rc >= 0)
		return rc;
	rc = cmd_need_store(ctx);
	if (rc)
		return rc;
	rc = cmd_resolve_file(ctx, j.path, &j.ino);
	if (rc)
		return rc;

	rc = load_entry(ctx, &j);
	if (!rc)
		rc = choose_reading(ctx, &j, fmt, enc);
	if (!rc)
		rc = sample(ctx, &j);
	for (size_t i = 0; !rc && i < j.s.ncols; i++) {
		struct col_report r;

		report_column(&j, i, &r);
		j.untagged += r.st == ST_UNTAGGED;
	}
	for (size_t w = 0; !rc && w < j.nw; w++)
		j.near += j.w[w].near;
	if (!rc && json)
		rc = print_json(ctx, &j);
	else if (!rc)
		print_table(ctx, &j);
	if (!rc && j.untagged)
		rc = CTL_EXIT_NO;
	/* an unaudited read of the pool must not reach the caller */
	if (audit_scan(ctx, &j, rc)) {
		strbuf_reset(&ctx->out);
		rc = cmd_error(ctx, CTL_EXIT_USAGE, "\"%s\": cannot write the audit record", j.path);
	}
	pii_sample_release(&j.s);
	for (size_t w = 0; w < j.nw; w++)
		free((void *)j.w[w].values);
	json_decref(j.doc);
	return rc;
}
