/*
 * policy/desens/pii_json.c - the JSON half of the PII sampler (policy/desens/pii_sample.c):
 * objects, in an array or one after another; every value at every depth is
 * a column named by its key path ("data[].id").
 *
 * A catalog field nested at any depth is looked at like a top-level one
 * (DESIGN.md, Reads), so the path is kept level by level and each key
 * becomes a part of the column's path. The text is UTF-8 here: the
 * sampler converts GB18030 before, so no trail byte looks like '\\' or '}'.
 */
#include "common/alloc.h"
#include "policy/desens/pii_scan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "policy/desens/text.h"

#define JSON_DEPTH_MAX	64

static void json_ws(struct pii_scan *sc)
{
	for (; sc->i < sc->n; sc->i++) {
		char c = sc->p[sc->i];

		if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
			break;
		sc->line += c == '\n';
	}
}

/* The text ended inside a value. */
static int json_end(struct pii_scan *sc)
{
	return sc->eof ? pii_scan_bad(sc, sc->line, "malformed JSON: the file ends inside a value") : PII_SCAN_MORE;
}

static int hex4(const char *s, uint32_t *out)
{
	*out = 0;
	for (int k = 0; k < 4; k++) {
		char c = s[k];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (v < 0)
			return -1;
		*out = *out << 4 | (uint32_t)v;
	}
	return 0;
}

/* \uXXXX at p[i], a surrogate pair included, appended to out; *len is how many bytes it took. */
static int json_u(struct pii_scan *sc, size_t i, size_t *len, struct strbuf *out)
{
	const char *p = sc->p;
	uint32_t cp, lo;

	if (i + 6 > sc->n)
		return json_end(sc);
	if (hex4(p + i + 2, &cp))
		return pii_scan_bad(sc, sc->line, "malformed JSON: bad \\u escape");
	*len = 6;
	if (cp >= 0xD800 && cp <= 0xDBFF && i + 12 > sc->n && !sc->eof)
		return PII_SCAN_MORE;
	if (cp >= 0xD800 && cp <= 0xDBFF && i + 12 <= sc->n && p[i + 6] == '\\' &&
	    p[i + 7] == 'u' && !hex4(p + i + 8, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		*len = 12;
	}
	if (cp >= 0xD800 && cp <= 0xDFFF)
		cp = 0xFFFD;	/* a lone surrogate: no character of any kind */
	return text_put_cp(TEXT_UTF8, NULL, cp, out);
}

/* The string at p[i] == '"', unescaped and appended to out. */
static int json_string(struct pii_scan *sc, struct strbuf *out)
{
	static const char esc[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	const char *p = sc->p, *e;
	size_t i = sc->i + 1, len = 0;
	int rc;

	for (;;) {
		if (i >= sc->n)
			return json_end(sc);
		if (p[i] == '"')
			break;
		if (p[i] == '\n')
			return pii_scan_bad(sc, sc->line, "malformed JSON: a line break inside a string");
		if (p[i] != '\\') {
			strbuf_addch(out, p[i++]);
			continue;
		}
		if (i + 1 >= sc->n)
			return json_end(sc);
		if (p[i + 1] == 'u') {
			rc = json_u(sc, i, &len, out);
			if (rc)
				return rc;
			i += len;
			continue;
		}
		for (e = esc; *e && *e != p[i + 1]; e += 2)
			;
		/* the input is never quoted in a message: it may be personal data */
		if (!*e)
			return pii_scan_bad(sc, sc->line, "malformed JSON: a bad escape in a string");
		strbuf_addch(out, e[1]);
		i += 2;
	}
	sc->i = i + 1;
	return 0;
}

/* A number, true, false or null, kept as written (null as an empty value). */
static int json_scalar(struct pii_scan *sc)
{
	const char *p = sc->p + sc->i;
	size_t n = 0;

	while (sc->i + n < sc->n && p[n] != ',' && p[n] != '}' && p[n] != ']' &&
	       (uint8_t)p[n] > ' ')
		n++;
	if (sc->i + n >= sc->n && !sc->eof)
		return PII_SCAN_MORE;
	if (!n || (!strchr("-0123456789", p[0]) && (n != 4 || memcmp(p, "true", 4)) &&
		   (n != 5 || memcmp(p, "false", 5)) && (n != 4 || memcmp(p, "null", 4))))
		return pii_scan_bad(sc, sc->line, "malformed JSON: a value that is no string, number, "
			   "true, false or null");
	if (n != 4 || memcmp(p, "null", 4))
		strbuf_add(&sc->val, p, n);
	sc->i += n;
	return 0;
}

/* Enters one level of the key path: key (len bytes), or an array when key is NULL. */
static int path_push(struct pii_scan *sc, const char *key, size_t len)
{
	if (sc->nparts == sc->aparts) {
		size_t na = sc->aparts;

		ALLOC_GROW(sc->parts, sc->nparts + 1, na);
		ALLOC_GROW(sc->plen, sc->nparts + 1, sc->aparts);
	}
	sc->plen[sc->nparts] = sc->path.len;
	sc->parts[sc->nparts] = key ? xstrndup(key, len) : NULL;
	sc->nparts++;
	if (!key) {
		strbuf_addstr(&sc->path, "[]");
		return 0;
	}
	if (sc->path.len)
		strbuf_addch(&sc->path, '.');
	strbuf_add(&sc->path, key, len);
	return 0;
}

static void path_pop(struct pii_scan *sc)
{
	sc->nparts--;
	free(sc->parts[sc->nparts]);
	strbuf_setlen(&sc->path, sc->plen[sc->nparts]);
}

/* The column of the key path being read, added when new. */
static int json_col(struct pii_scan *sc, size_t *col)
{
	const struct pii_sample *s = sc->s;
	int rc;

	for (size_t k = 0; k < s->ncols; k++) {
		size_t j = (sc->hint + k) % s->ncols;

		if (!strcmp(s->cols[j].name, sc->path.buf)) {
			*col = j;
			sc->hint = j + 1;
			return 0;
		}
	}
	rc = pii_scan_col_add(sc, sc->path.buf, sc->path.len, sc->parts, sc->nparts);
	if (!rc)
		pii_scan_col_watch(sc);
	*col = s->ncols - 1;
	sc->hint = s->ncols;
	return rc;
}

static int json_value(struct pii_scan *sc, int depth);

/* The members of the object at p[i] == '{', each under its key. */
static int json_members(struct pii_scan *sc, int depth)
{
	bool first = true;
	int rc;

	sc->i++;
	for (;;) {
		json_ws(sc);
		if (sc->i >= sc->n)
			return json_end(sc);
		if (sc->p[sc->i] == '}' && first)
			break;
		if (sc->p[sc->i] != '"')
			return pii_scan_bad(sc, sc->line, "malformed JSON: expected a key");
		strbuf_reset(&sc->key);
		rc = json_string(sc, &sc->key);
		if (rc)
			return rc;
		json_ws(sc);
		if (sc->i >= sc->n)
			return json_end(sc);
		if (sc->p[sc->i] != ':')
			return pii_scan_bad(sc, sc->line, "malformed JSON: expected ':' after a key");
		sc->i++;
		rc = path_push(sc, sc->key.buf, sc->key.len);
		if (!rc)
			rc = json_value(sc, depth + 1);
		path_pop(sc);
		if (rc)
			return rc;
		first = false;
		json_ws(sc);
		if (sc->i >= sc->n)
			return json_end(sc);
		if (sc->p[sc->i] == '}')
			break;
		if (sc->p[sc->i] != ',')
			return pii_scan_bad(sc, sc->line, "malformed JSON: expected ',' or '}'");
		sc->i++;
	}
	sc->i++;
	return 0;
}

/* The elements of the array at p[i] == '[', all under one "[]" level. */
static int json_elements(struct pii_scan *sc, int depth)
{
	bool first = true;
	int rc;

	sc->i++;
	rc = path_push(sc, NULL, 0);
	while (!rc) {
		json_ws(sc);
		if (sc->i >= sc->n) {
			rc = json_end(sc);
			break;
		}
		if (sc->p[sc->i] == ']' && first)
			break;
		rc = json_value(sc, depth + 1);
		if (rc)
			break;
		first = false;
		json_ws(sc);
		if (sc->i >= sc->n) {
			rc = json_end(sc);
			break;
		}
		if (sc->p[sc->i] == ']')
			break;
		if (sc->p[sc->i] != ',')
			rc = pii_scan_bad(sc, sc->line, "malformed JSON: expected ',' or ']'");
		sc->i++;
	}
	path_pop(sc);
	if (!rc)
		sc->i++;
	return rc;
}

/*
 * The value at p[i]: an object or array is walked, a string or scalar is
 * a value of the column its key path names. A catalog field nested at
 * any depth is looked at like a top-level one (DESIGN.md, Reads).
 */
static int json_value(struct pii_scan *sc, int depth)
{
	size_t mark, col;
	int rc;

	if (depth > JSON_DEPTH_MAX)
		return pii_scan_bad(sc, sc->line, "malformed JSON: nested deeper than %d levels",
			   JSON_DEPTH_MAX);
	json_ws(sc);
	if (sc->i >= sc->n)
		return json_end(sc);
	if (sc->p[sc->i] == '{')
		return json_members(sc, depth);
	if (sc->p[sc->i] == '[')
		return json_elements(sc, depth);
	mark = sc->val.len;
	rc = sc->p[sc->i] == '"' ? json_string(sc, &sc->val) : json_scalar(sc);
	if (!rc)
		rc = json_col(sc, &col);
	if (!rc)
		pii_scan_field(sc, col, mark, sc->val.len - mark);
	return rc;
}

/* One record: the object at p[i]. */
static int json_object(struct pii_scan *sc)
{
	int rc;

	strbuf_reset(&sc->val);
	sc->nf = 0;
	rc = json_members(sc, 0);
	if (!rc)
		pii_scan_tally(sc);
	return rc;

}

int pii_json_read(struct pii_scan *sc)
{
	bool array;
	int rc;

	json_ws(sc);
	if (sc->i >= sc->n)
		return sc->eof ? 0 : PII_SCAN_MORE;
	array = sc->p[sc->i] == '[';
	sc->s->format = array ? VIEW_JSON : VIEW_JSONL;
	sc->i += array;
	while (sc->s->records < sc->max) {
		json_ws(sc);
		if (sc->i >= sc->n)
			return array ? json_end(sc) : sc->eof ? 0 : PII_SCAN_MORE;
		if (array && sc->p[sc->i] == ']' && !sc->s->records)
			return 0;
		if (sc->p[sc->i] != '{')
			return pii_scan_bad(sc, sc->line, "malformed JSON: expected an object");
		rc = json_object(sc);
		if (rc)
			return rc;
		if (!array || sc->s->records >= sc->max)
			continue;
		json_ws(sc);
		if (sc->i >= sc->n)
			return json_end(sc);
		if (sc->p[sc->i] == ']')
			return 0;
		if (sc->p[sc->i] != ',')
			return pii_scan_bad(sc, sc->line, "malformed JSON: expected ',' or ']'");
		sc->i++;
	}
	return 0;
}

void pii_json_release(struct pii_scan *sc)
{
	strbuf_release(&sc->path);
	strbuf_release(&sc->key);
	while (sc->nparts)
		path_pop(sc);
	free(sc->parts);
	free(sc->plen);
	sc->parts = NULL;
	sc->plen = NULL;
	sc->aparts = 0;
}
