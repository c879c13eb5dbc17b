/*
 * policy/desens/pii_sample.c - counts what the detectors of policy/desens/pii.c find in
 * the first records of a CSV, TSV, JSON Lines or JSON file.
 *
 * The sampler reads only enough of a file to count values, so it is far
 * simpler than the format engines of the desensitization engine and no
 * substitute for them: it must agree with them on where fields start and
 * end, never on bytes to write back. Text is converted to UTF-8 first, so
 * the JSON reader (policy/desens/pii_json.c) never meets a GB18030 trail byte
 * that looks like '\\' or '}'.
 */
#include "common/alloc.h"
#include "policy/desens/pii.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "policy/desens/nfc.h"
#include "policy/desens/pii_scan.h"

int pii_scan_bad(struct pii_scan *sc, uint64_t line, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return perr_set(sc->e, EIO, "line %llu: %s", (unsigned long long)line, msg);
}

/* Line ends in p[0..n): LF, CRLF, and a CR alone (as Python's csv and Excel read it). */
static size_t count_nl(const char *p, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += p[i] == '\n' || (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'));
	return k;
}

void pii_scan_field(struct pii_scan *sc, size_t col, size_t off, size_t len)
{
	ALLOC_GROW(sc->f, sc->nf + 1, sc->fcap);
	sc->f[sc->nf++] = (struct pii_field){ col, off, len };
}

/* Adds a column named name[0..len) whose path is parts[0..nparts) (copied). */
int pii_scan_col_add(struct pii_scan *sc, const char *name, size_t len, char *const *parts,
		     size_t nparts)
{
	struct pii_sample *s = sc->s;
	struct pii_column *c;

	if (s->ncols >= PII_COLUMNS_MAX)
		return perr_set(sc->e, E2BIG, "line %llu: more than %d columns",
				(unsigned long long)sc->line, PII_COLUMNS_MAX);
	ALLOC_GROW(s->cols, s->ncols + 1, sc->ccap);
	c = &s->cols[s->ncols];
	memset(c, 0, sizeof(*c));
	c->name = xstrndup(name, len);
	c->parts = xcalloc(nparts, sizeof(*c->parts));
	s->ncols++;
	for (size_t k = 0; k < nparts; k++)
		if (parts[k])
			c->parts[k] = xstrdup(parts[k]);
	c->nparts = nparts;
	return 0;
}

/* The last key of a column's path (the CSV header, the JSON key), or NULL. */
static const char *col_key(const struct pii_column *c)
{
	for (size_t k = c->nparts; k > 0; k--)
		if (c->parts[k - 1])
			return c->parts[k - 1];
	return NULL;
}

/* Marks the watches whose field the new column is (its key in the loose form). */
void pii_scan_col_watch(struct pii_scan *sc)
{
	struct pii_column *c = &sc->s->cols[sc->s->ncols - 1];
	const char *key = col_key(c);
	struct strbuf f = STRBUF_INIT;
	int rc = 0;

	if (!key || !sc->nw)
		return;
	/* a key or field that is no text marks no watch */
	rc = pii_fold(key, strlen(key), &sc->fold);
	for (size_t w = 0; !rc && w < sc->nw; w++) {
		rc = pii_fold(sc->w[w].field, strlen(sc->w[w].field), &f);
		if (!rc && f.len == sc->fold.len && !memcmp(f.buf, sc->fold.buf, f.len))
			c->watch |= 1ull << w;
	}
	strbuf_release(&f);
}

/* Whether v equals (or, for a prefix filter, starts with) a in a.len bytes. */
static bool same(const char *v, size_t n, const char *a, size_t alen, bool prefix)
{
	return (prefix ? n >= alen : n == alen) && !memcmp(v, a, alen);
}

/*
 * Whether v[0..n) matches none of watch w's values byte for byte but one
 * in the loose form.
 */
static bool near_match(struct pii_scan *sc, size_t w, const char *v, size_t n)
{
	const struct pii_watch *pw = &sc->w[w];
	const struct strbuf *fv = &sc->wfold[w];
	size_t off = 0;

	for (size_t k = 0; k < pw->nvalues; k++)
		if (same(v, n, pw->values[k], strlen(pw->values[k]), pw->prefix))
			return false;
	/* a value that is no text is near nothing */
	if (pii_fold(v, n, &sc->fold))
		return false;
	/* wfold holds the folded values back to back, each ended by a NUL */
	for (size_t k = 0; k < pw->nvalues; k++) {
		size_t len = strlen(fv->buf + off);

		if (same(sc->fold.buf, sc->fold.len, fv->buf + off, len, pw->prefix))
			return true;
		off += len + 1;
	}
	return false;
}

/* Counts the fields of the record just read; a record is counted whole or not at all. */
void pii_scan_tally(struct pii_scan *sc)
{
	uint64_t seen = 0, near = 0;

	for (size_t k = 0; k < sc->nf; k++) {
		struct pii_column *c = &sc->s->cols[sc->f[k].col];
		size_t n = sc->f[k].len;
		const char *v = (const char *)nfc_trim((const uint8_t *)sc->val.buf + sc->f[k].off, &n);
		unsigned bits;

		if (!n) {
			c->empty++;
			continue;
		}
		c->values++;
		bits = pii_match(v, n);
		for (int kind = 0; kind < PII_NKINDS; kind++)
			c->hits[kind] += (bits >> kind) & 1;
		for (size_t w = 0; c->watch && w < sc->nw; w++) {
			if (!(c->watch >> w & 1))
				continue;
			seen |= 1ull << w;
			if (near_match(sc, w, sc->val.buf + sc->f[k].off, sc->f[k].len))
				near |= 1ull << w;
		}
	}
	for (size_t w = 0; w < sc->nw; w++) {
		sc->w[w].seen += seen >> w & 1;
		sc->w[w].near += near >> w & 1;
	}
	sc->s->records++;
}

/*
 * RFC 4180, with records ended by LF, CRLF or a CR alone as Python's csv,
 * pandas and Excel end them; values are unquoted into sc->val.
 */
static int csv_record(struct pii_scan *sc, char delim)
{
	const char *p = sc->p;
	size_t n = sc->n, i = sc->i, b;

	strbuf_reset(&sc->val);
	sc->nf = 0;
	for (;;) {
		b = sc->val.len;
		if (i < n && p[i] == '"') {
			for (i++;; i++) {
				if (i >= n || (p[i] == '"' && i + 1 >= n && !sc->eof))
					return sc->eof ? pii_scan_bad(sc, sc->line, "unterminated quoted field")
						       : PII_SCAN_MORE;
				if (p[i] == '"' && (i + 1 >= n || p[i + 1] != '"'))
					break;
				i += p[i] == '"';
				strbuf_addch(&sc->val, p[i]);
			}
			i++;
			if (i < n && p[i] != delim && p[i] != '\n' && p[i] != '\r')
				return pii_scan_bad(sc, sc->line, "unexpected character after a closing quote");
		} else {
			size_t s = i;

			while (i < n && p[i] != delim && p[i] != '\n' && p[i] != '\r')
				i++;
			strbuf_add(&sc->val, p + s, i - s);
		}
		if (i >= n && !sc->eof)
			return PII_SCAN_MORE;
		pii_scan_field(sc, sc->nf, b, sc->val.len - b);
		if (i < n && p[i] == delim) {
			i++;
			continue;
		}
		break;
	}
	if (i < n && p[i] == '\r') {
		/* a CR at the end of what was read may be the first half of a CRLF */
		if (i + 1 >= n && !sc->eof)
			return PII_SCAN_MORE;
		i += i + 1 < n && p[i + 1] == '\n' ? 2 : 1;
	} else if (i < n) {
		i++;
	}
	sc->line += count_nl(p + sc->i, i - sc->i);
	sc->i = i;
	return 0;
}

static int csv_read(struct pii_scan *sc, char delim)
{
	bool header = true;
	uint64_t line;
	int rc;

	while (sc->s->records < sc->max) {
		/* blank lines between records carry no values */
		while (sc->i < sc->n && (sc->p[sc->i] == '\n' || sc->p[sc->i] == '\r')) {
			if (sc->p[sc->i] == '\r' && sc->i + 1 >= sc->n && !sc->eof)
				return PII_SCAN_MORE;
			sc->i += sc->p[sc->i] == '\r' && sc->i + 1 < sc->n &&
				 sc->p[sc->i + 1] == '\n' ? 2 : 1;
			sc->line++;
		}
		if (sc->i >= sc->n)
			return sc->eof ? 0 : PII_SCAN_MORE;
		line = sc->line;
		rc = csv_record(sc, delim);
		if (rc)
			return rc;
		if (!header && sc->nf != sc->s->ncols)
			return pii_scan_bad(sc, line, "%zu fields, the header has %zu", sc->nf, sc->s->ncols);
		if (!header) {
			pii_scan_tally(sc);
			continue;
		}
		for (size_t k = 0; !rc && k < sc->nf; k++) {
			char *part = sc->val.buf + sc->f[k].off;
			char save = part[sc->f[k].len];

			/* the header's name is the column's one key */
			part[sc->f[k].len] = '\0';
			rc = pii_scan_col_add(sc, part, sc->f[k].len, &part, 1);
			part[sc->f[k].len] = save;
			if (!rc)
				pii_scan_col_watch(sc);
		}
		if (rc)
			return rc;
		header = false;
	}
	return 0;
}

/* ---- the whole ---- */

static const uint8_t bom_utf8[] = { 0xEF, 0xBB, 0xBF };
static const uint8_t bom_gb18030[] = { 0x84, 0x31, 0x95, 0x33 };

/*
 * Where the beginning of a file may be cut so that no character and as
 * few records as possible are split: after the last line feed (never a
 * GB18030 trail byte), else after the last whole character.
 */
static size_t cut_point(enum text_enc enc, const uint8_t *p, size_t n)
{
	const uint8_t *nl = memrchr(p, '\n', n);
	size_t i = 0;
	int len = 1;

	if (nl)
		return (size_t)(nl - p) + 1;
	while (i < n && (len = text_char_len(enc, p + i, n - i)) > 0)
		i += (size_t)len;
	/* invalid text is cut after, so that text_check names it */
	return len < 0 ? n : i;
}

static enum view_format sniff(const char *p, size_t n)
{
	const char *nl;
	size_t i = 0, line;

	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	if (i < n && (p[i] == '[' || p[i] == '{'))
		return p[i] == '[' ? VIEW_JSON : VIEW_JSONL;
	nl = memchr(p, '\n', n);
	line = nl ? (size_t)(nl - p) : n;
	return memchr(p, '\t', line) && !memchr(p, ',', line) ? VIEW_TSV : VIEW_CSV;
}

/* Skips a BOM, which decides the encoding. Returns its length. */
static size_t take_bom(const uint8_t *p, size_t n, struct pii_sample *s)
{
	if (n >= sizeof(bom_utf8) && !memcmp(p, bom_utf8, sizeof(bom_utf8))) {
		s->enc = TEXT_UTF8;
		s->bom = true;
		return sizeof(bom_utf8);
	}
	if (n >= sizeof(bom_gb18030) && !memcmp(p, bom_gb18030, sizeof(bom_gb18030))) {
		s->enc = TEXT_GB18030;
		s->bom = true;
		return sizeof(bom_gb18030);
	}
	return 0;
}

static int check_text(const uint8_t *p, size_t n, size_t skip, const struct pii_sample *s,
		      struct perr *e)
{
	size_t at;

	if (!text_check(s->enc, p, n, &at))
		return 0;
	return perr_set(e, EIO, "line %llu, byte %zu: %s",
			(unsigned long long)count_nl((const char *)p, at) + 1, skip + at,
			p[at] ? (s->enc == TEXT_UTF8 ? "invalid utf-8 text" : "invalid gb18030 text")
			      : "a NUL byte");
}

/* Puts each watch's values in the loose form into sc->wfold; counters to 0. */
static int watch_prepare(struct pii_scan *sc)
{
	int rc = 0;

	if (!sc->nw)
		return 0;
	if (sc->nw > PII_WATCH_MAX)
		return perr_set(sc->e, E2BIG, "more than %d row filters to compare with",
				PII_WATCH_MAX);
	sc->wfold = xcalloc(sc->nw, sizeof(*sc->wfold));

	for (size_t w = 0; !rc && w < sc->nw; w++) {
		sc->w[w].near = sc->w[w].seen = 0;
		for (size_t k = 0; !rc && k < sc->w[w].nvalues; k++) {
			const char *v = sc->w[w].values[k];

			rc = pii_fold(v, strlen(v), &sc->fold);
			/* a value that is no text folds to itself */
			if (rc == -EINVAL) {
				strbuf_reset(&sc->fold);
				strbuf_addstr(&sc->fold, v);
				rc = 0;
			}
			/*
			 * A value not in the loose form itself (blanks, full
			 * width, capitals) is compared with nothing: it would
			 * count the file's plainly spelled values, an oracle for
			 * whoever writes filters (a full-width prefix "３" counts
			 * the IDs starting with 3). `policy check` warns about
			 * its blanks and forms, not capitals (eq "ABC" is what
			 * it says). 0xff is in no folded text: it matches nothing.
			 */
			if (!rc && strcmp(sc->fold.buf, v)) {
				strbuf_reset(&sc->fold);
				strbuf_addch(&sc->fold, '\xff');
			}
			strbuf_add(&sc->wfold[w], sc->fold.buf, sc->fold.len);
			strbuf_addch(&sc->wfold[w], '\0');
		}
	}
	return rc;
}

int pii_sample(const uint8_t *p, size_t n, bool eof, enum view_format fmt,
	       enum text_enc enc, uint64_t max_records, struct pii_sample *s,
	       struct perr *e)
{
	return pii_sample_watch(p, n, eof, fmt, enc, max_records, s, NULL, 0, e);
}

int pii_sample_watch(const uint8_t *p, size_t n, bool eof, enum view_format fmt,
		     enum text_enc enc, uint64_t max_records, struct pii_sample *s,
		     struct pii_watch *w, size_t nw, struct perr *e)
{
	struct pii_scan sc = { .val = STRBUF_INIT, .line = 1, .max = max_records, .s = s, .e = e,
			   .path = STRBUF_INIT, .key = STRBUF_INIT, .fold = STRBUF_INIT,
			   .w = w, .nw = nw };
	struct strbuf utf8 = STRBUF_INIT;
	struct text_conv *conv = NULL;
	size_t skip, cut;
	int rc;

	memset(s, 0, sizeof(*s));
	s->enc = enc;
	rc = watch_prepare(&sc);
	if (rc)
		goto out;
	skip = take_bom(p, n, s);
	/* a file too short yet to tell whether it starts with a BOM */
	if (!eof && n < sizeof(bom_gb18030) && !skip) {
		s->want_more = true;
		goto out;
	}
	p += skip;
	n -= skip;
	cut = eof ? n : cut_point(s->enc, p, n);
	rc = check_text(p, cut, skip, s, e);
	if (rc)
		goto out;
	sc.p = (const char *)p;
	sc.n = cut;
	sc.eof = eof;
	if (s->enc == TEXT_GB18030) {
		rc = text_conv_new(TEXT_GB18030, TEXT_UTF8, &conv);
		if (!rc)
			rc = text_conv_run(conv, p, cut, &utf8);
		if (rc) {
			rc = perr_set(e, -rc, "cannot convert gb18030 text to utf-8");
			goto out;
		}
		sc.p = utf8.buf;
		sc.n = utf8.len;
	}
	s->format = fmt == VIEW_OTHER ? sniff(sc.p, sc.n) : fmt;
	if (s->format == VIEW_CSV || s->format == VIEW_TSV)
		rc = csv_read(&sc, s->format == VIEW_TSV ? '\t' : ',');
	else
		rc = pii_json_read(&sc);
	if (rc == PII_SCAN_MORE) {
		s->want_more = true;
		rc = 0;
	}
out:
	text_conv_free(conv);
	strbuf_release(&utf8);
	strbuf_release(&sc.val);
	pii_json_release(&sc);
	strbuf_release(&sc.fold);
	for (size_t k = 0; sc.wfold && k < nw; k++)
		strbuf_release(&sc.wfold[k]);
	free(sc.wfold);
	free(sc.f);
	return rc;
}

void pii_sample_release(struct pii_sample *s)
{
	for (size_t i = 0; i < s->ncols; i++) {
		free(s->cols[i].name);
		for (size_t k = 0; s->cols[i].parts && k < s->cols[i].nparts; k++)
			free(s->cols[i].parts[k]);
		free(s->cols[i].parts);
	}
	free(s->cols);
	memset(s, 0, sizeof(*s));
}
