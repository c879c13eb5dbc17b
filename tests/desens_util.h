/*
 * tests/desens_util.h - helpers shared by the desensitization tests and
 * the fuzz targets: rules from a short text, row filters, running the
 * engine in pieces, golden files.
 *
 * Header-only (static inline) because the Makefile links each
 * tests/test_*.c on its own against libpool.a.
 */
#ifndef POOL_TEST_DESENS_UTIL_H
#define POOL_TEST_DESENS_UTIL_H

#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "policy/desens/desens.h"
#include "policy/view.h"

#define TEST_KEY	"golden-key"

/* splitmix64: the generated-data tests' seeded, reproducible stream. */
static inline uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		abort();
	return p;
}

/* A leaf filter: op on field against n values (const char *). */
static inline struct row_filter *rf_leaf(enum row_op op, const char *field, size_t n, ...)
{
	struct row_filter *f = calloc(1, sizeof(*f));
	va_list ap;

	if (!f || !(f->values = calloc(n ? n : 1, sizeof(char *))))
		abort();
	f->op = op;
	f->field = xstrdup(field);
	f->nvalues = n;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		f->values[i] = xstrdup(va_arg(ap, const char *));
	va_end(ap);
	return f;
}

/* ALL or ANY over n filters (struct row_filter *), which it takes over. */
static inline struct row_filter *rf_node(enum row_op op, size_t n, ...)
{
	struct row_filter *f = calloc(1, sizeof(*f));
	va_list ap;

	if (!f || !(f->subs = calloc(n ? n : 1, sizeof(*f->subs))))
		abort();
	f->op = op;
	f->nsubs = n;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++) {
		struct row_filter *s = va_arg(ap, struct row_filter *);

		f->subs[i] = *s;
		free(s);
	}
	va_end(ap);
	return f;
}

static inline void rf_release(struct row_filter *f)
{
	free(f->field);
	for (size_t i = 0; i < f->nvalues; i++)
		free(f->values[i]);
	free(f->values);
	for (size_t i = 0; i < f->nsubs; i++)
		rf_release(&f->subs[i]);
	free(f->subs);
}

/* Rules from "name=mask;name=mask"; takes over rows (may be NULL). */
static inline void rules_init(struct view_rules *r, enum view_format fmt, const char *enc,
			      bool drop_unlisted, const char *fields, struct row_filter *rows)
{
	char *spec = xstrdup(fields ? fields : ""), *p = spec;

	memset(r, 0, sizeof(*r));
	r->format = fmt;
	r->encoding = xstrdup(enc ? enc : "utf-8");
	r->drop_unlisted = drop_unlisted;
	r->rows = rows;
	while (*p) {
		char *end = strchr(p, ';'), *eq;
		struct view_field *f;

		if (end)
			*end = '\0';
		eq = strrchr(p, '=');
		if (!eq)
			abort();
		*eq = '\0';
		r->fields = realloc(r->fields, (r->nfields + 1) * sizeof(*r->fields));
		if (!r->fields)
			abort();
		f = &r->fields[r->nfields++];
		f->name = xstrdup(p);
		if (mask_spec_parse(eq + 1, &f->mask, NULL))
			abort();
		if (!end)
			break;
		p = end + 1;
	}
	free(spec);
}

static inline void rules_release(struct view_rules *r)
{
	for (size_t i = 0; i < r->nfields; i++)
		free(r->fields[i].name);
	free(r->fields);
	free(r->encoding);
	if (r->rows) {
		rf_release(r->rows);
		free(r->rows);
	}
	memset(r, 0, sizeof(*r));
}

/* Runs the engine over in[0..len) fed in pieces of piece bytes (0: whole). */
static inline int run_pieces(const struct view_rules *r, const void *in, size_t len,
			     size_t piece, struct strbuf *out, struct perr *e)
{
	const char *p = in;
	struct desens *d = NULL;
	int ret;

	ret = desens_new(r, (const uint8_t *)TEST_KEY, strlen(TEST_KEY), &d, e);
	if (ret)
		return ret;
	if (!piece)
		piece = len ? len : 1;
	for (size_t off = 0; off < len && !ret; off += piece)
		ret = desens_feed(d, p + off, len - off < piece ? len - off : piece, out, e);
	if (!ret)
		ret = desens_finish(d, out, e);
	desens_free(d);
	return ret;
}

static inline int read_file(const char *path, struct strbuf *sb)
{
	FILE *f = fopen(path, "rb");
	char buf[65536];
	size_t n;

	if (!f)
		return -errno;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(sb, buf, n);
	fclose(f);
	return 0;
}

static inline int write_file(const char *path, const struct strbuf *sb)
{
	FILE *f = fopen(path, "wb");
	int ret = 0;

	if (!f)
		return -errno;
	if (fwrite(sb->buf, 1, sb->len, f) != sb->len)
		ret = -EIO;
	if (fclose(f))
		ret = -EIO;
	return ret;
}

/* Compares and, when they differ, prints where. */
static inline bool same(const struct strbuf *got, const struct strbuf *want, const char *what)
{
	size_t i = 0;

	if (got->len == want->len && !memcmp(got->buf, want->buf, got->len))
		return true;
	while (i < got->len && i < want->len && got->buf[i] == want->buf[i])
		i++;
	printf("\n  %s: differs at byte %zu (got %zu bytes, want %zu)\n  got:  \"%.*s\"\n  want: \"%.*s\"",
	       what, i, got->len, want->len, (int)(got->len - i < 60 ? got->len - i : 60),
	       got->buf + i, (int)(want->len - i < 60 ? want->len - i : 60), want->buf + i);
	return false;
}

/* tests/golden from the working directory, else from the binary's place. */
static inline void find_golden_dir(const char *argv0, char *dir, size_t len)
{
	char tmp[4096];
	const char *env = getenv("GOLDEN_DIR");

	if (env) {
		snprintf(dir, len, "%s", env);
		return;
	}
	if (!access("tests/golden/csv_basic.in.csv", R_OK)) {
		snprintf(dir, len, "tests/golden");
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s", argv0);
	snprintf(dir, len, "%s/../../tests/golden", dirname(tmp));
}

#endif
