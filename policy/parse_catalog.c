/*
 * policy/parse_catalog.c - catalog entries (数据资源目录): where each
 * dataset lives in the tree, who provides it, how it is shared, and the
 * tagged fields that drive default masking.
 *
 * Entry paths never nest: everything below an entry belongs to it, so a
 * path inside two entries would have two providers and two sharing rules.
 */
#include "common/alloc.h"
#include "policy/parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const reserved[] = { ".versions", ".snapshots", ".poolfs" };

static const char *const formats[] = {
	"csv", "tsv", "jsonl", "json", "other",
	"xlsx", "xls", "pdf", "docx", "xml", "parquet", "zip",
};

static const char *const encodings[] = { "utf-8", "gb18030", "gbk" };

/* Index of s in names (n entries), or -1. */
static int name_index(const char *s, const char *const *names, size_t n, int icase)
{
	for (size_t i = 0; i < n; i++)
		if (icase ? strcasecmp(s, names[i]) == 0 : strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

static int check_entry_path(struct pol_ctx *x, const char *path)
{
	const char *c = path, *slash;
	size_t n;

	if (path[0] != '/')
		return pol_fail(x, "\"%s\" is not absolute", path);
	if (strcmp(path, "/") == 0)
		return pol_fail(x, "\"/\" is the pool root, not an entry");
	while (*c == '/') {
		c++;
		slash = strchr(c, '/');
		n = slash ? (size_t)(slash - c) : strlen(c);
		if (n == 0)
			return pol_fail(x, "\"%s\" has an empty component", path);
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return pol_fail(x, "\"%s\" holds \"%.*s\"", path, (int)n, c);
		if (n > POL_NAME_MAX)
			return pol_fail(x, "\"%s\" has a component longer than %d bytes",
					path, POL_NAME_MAX);
		for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
			if (strlen(reserved[i]) == n && memcmp(c, reserved[i], n) == 0)
				return pol_fail(x, "\"%s\" uses the reserved name \"%s\"",
						path, reserved[i]);
		c += n;
	}
	return 0;
}

/* a is b, or a directory above or below b */
static int paths_overlap(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), n = la < lb ? la : lb;

	if (memcmp(a, b, n) != 0)
		return 0;
	return la == lb || (la < lb ? b[la] == '/' : a[lb] == '/');
}

static int parse_enum(struct pol_ctx *x, json_t *obj, const char *key, unsigned flags,
		      const char *const *names, size_t n, const char *list,
		      int icase, int *out)
{
	char *s = NULL;
	int rc;

	rc = pol_get_str(x, obj, key, flags, &s);
	if (rc || !s)
		goto out;
	*out = name_index(s, names, n, icase);
	if (*out < 0) {
		pol_jp_key(x, key);
		rc = pol_fail(x, "\"%s\" is not one of %s", s, list);
	}
out:
	free(s);
	return rc;
}

static int parse_field(struct pol_ctx *x, json_t *v, void *out)
{
	struct pol_field *f = out;
	static const char *const keys[] = { "name", "tag", "mask", NULL };
	int rc;

	rc = pol_want_object(x, v);
	if (!rc)
		rc = pol_check_keys(x, v, keys);
	if (!rc)
		rc = pol_get_str(x, v, "name", POL_REQ | POL_NONEMPTY, &f->name);
	if (!rc)
		rc = pol_get_str(x, v, "tag", POL_NONEMPTY, &f->tag);
	if (!rc)
		rc = pol_get_str(x, v, "mask", POL_NONEMPTY, &f->mask);
	if (rc)
		return rc;
	if (strlen(f->name) > POL_TEXT_MAX) {
		pol_jp_key(x, "name");
		return pol_fail(x, "longer than %d bytes", POL_TEXT_MAX);
	}
	if (f->tag && pol_tag_default(f->tag, &f->deflt)) {
		struct strbuf known = STRBUF_INIT;
		int ret;

		pol_tag_list(&known);
		pol_jp_key(x, "tag");
		ret = pol_fail(x, "unknown tag \"%s\" (known: %s)", f->tag, known.buf);
		strbuf_release(&known);
		return ret;
	}
	if (f->mask && mask_spec_parse(f->mask, &f->deflt, NULL)) {
		pol_jp_key(x, "mask");
		return pol_fail(x, "unknown mask \"%s\"", f->mask);
	}
	return 0;
}

static int field_unique(struct pol_ctx *x, const void *vec, size_t i)
{
	const struct pol_field *f = vec;

	for (size_t j = 0; j < i; j++)
		if (strcmp(f[j].name, f[i].name) == 0) {
			pol_jp_key(x, "name");
			return pol_fail(x, "duplicate field \"%s\" (also fields[%zu])",
					f[i].name, j);
		}
	return 0;
}

static int parse_fields(struct pol_ctx *x, json_t *arr, struct pol_entry *en)
{
	void *v;
	int rc = pol_parse_array(x, arr, sizeof(*en->fields), &v, &en->nfields, parse_field,
				 field_unique);

	en->fields = v;
	return rc;
}

static int parse_meta(struct pol_ctx *x, json_t *v, struct pol_entry *en)
{
	long long level;
	int present, share = -1, open = POL_OPEN_NONE, fmt = -1, enc = 0, rc;
	size_t mark;

	rc = parse_enum(x, v, "share", POL_REQ, pol_share_names, 3,
			"unconditional, conditional, none", 0, &share);
	if (!rc)
		rc = parse_enum(x, v, "open", 0, pol_open_names, 3,
				"open, conditional, none", 0, &open);
	if (!rc)
		rc = parse_enum(x, v, "format", POL_REQ, formats,
				sizeof(formats) / sizeof(formats[0]),
				"csv, tsv, jsonl, json, other, xlsx, xls, pdf, docx, xml, "
				"parquet, zip", 1, &fmt);
	if (!rc)
		rc = parse_enum(x, v, "encoding", 0, encodings, 3,
				"utf-8, gb18030, gbk", 1, &enc);
	if (!rc)
		rc = pol_get_int(x, v, "level", 0, 1, 5, &level, &present);
	if (!rc)
		rc = pol_get_str(x, v, "update_cycle", POL_NONEMPTY, &en->update_cycle);
	if (rc)
		return rc;
	if (en->update_cycle && strlen(en->update_cycle) > POL_ID_MAX) {
		pol_jp_key(x, "update_cycle");
		return pol_fail(x, "longer than %d bytes", POL_ID_MAX);
	}
	en->share = (enum pol_share)share;
	en->open = (enum pol_open)open;
	en->level = present ? (int)level : 0;
	en->format = xstrdup(formats[fmt]);
	en->encoding = xstrdup(encodings[enc]);

	if (json_object_get(v, "fields")) {
		mark = pol_jp_key(x, "fields");
		rc = parse_fields(x, json_object_get(v, "fields"), en);
		if (!rc)
			pol_jp_restore(x, mark);
	}
	return rc;
}

static int check_unique(struct pol_ctx *x, const void *vec, size_t i)
{
	const struct pol_entry *en = (const struct pol_entry *)vec + i, *o;
	long same = pol_names_put(&x->p->entry_codes, en->code, i);

	for (size_t j = 0; j < i; j++) {
		o = (const struct pol_entry *)vec + j;
		if ((long)j == same) {
			pol_jp_key(x, "code");
			return pol_fail(x, "duplicate code \"%s\" (also catalog[%zu])",
					en->code, j);
		}
		if (!paths_overlap(en->path, o->path))
			continue;
		pol_jp_key(x, "path");
		if (strlen(en->path) == strlen(o->path))
			return pol_fail(x, "duplicate path \"%s\" (also catalog[%zu])",
					en->path, j);
		if (strlen(en->path) > strlen(o->path))
			return pol_fail(x, "\"%s\" is inside catalog[%zu] \"%s\"",
					en->path, j, o->path);
		return pol_fail(x, "\"%s\" holds catalog[%zu] \"%s\"", en->path, j, o->path);
	}
	return 0;
}

static int parse_entry(struct pol_ctx *x, json_t *v, void *out)
{
	struct pol_entry *en = out;
	static const char *const keys[] = {
		"path", "code", "title", "provider", "share", "open", "level",
		"update_cycle", "format", "encoding", "fields", NULL,
	};
	char *provider = NULL;
	size_t mark;
	long d;
	int rc;

	rc = pol_want_object(x, v);
	if (!rc)
		rc = pol_check_keys(x, v, keys);
	if (!rc)
		rc = pol_get_str(x, v, "path", POL_REQ | POL_NONEMPTY, &en->path);
	if (!rc) {
		mark = pol_jp_key(x, "path");
		rc = check_entry_path(x, en->path);
		if (!rc)
			pol_jp_restore(x, mark);
	}
	if (!rc)
		rc = pol_get_str(x, v, "code", POL_REQ | POL_ID, &en->code);
	if (!rc)
		rc = pol_get_str(x, v, "title", POL_REQ | POL_NONEMPTY, &en->title);
	if (!rc && strlen(en->title) > POL_TEXT_MAX) {
		pol_jp_key(x, "title");
		rc = pol_fail(x, "longer than %d bytes", POL_TEXT_MAX);
	}
	if (!rc)
		rc = pol_get_str(x, v, "provider", POL_REQ | POL_ID, &provider);
	if (!rc) {
		d = pol_dept_find(x->p, provider);
		if (d < 0) {
			pol_jp_key(x, "provider");
			rc = pol_fail(x, "no department with id \"%s\"", provider);
		}
		en->provider = (size_t)d;
	}
	if (!rc)
		rc = parse_meta(x, v, en);
	free(provider);
	return rc;
}

int pol_parse_catalog(struct pol_ctx *x, json_t *arr)
{
	void *v;
	int rc;

	pol_names_init(&x->p->entry_codes, json_is_array(arr) ? json_array_size(arr) : 0);
	rc = pol_parse_array(x, arr, sizeof(*x->p->entries), &v, &x->p->nentries,
			     parse_entry, check_unique);

	x->p->entries = v;
	return rc;
}
