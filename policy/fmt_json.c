/*
 * policy/fmt_json.c - JSON Lines and JSON (an array of objects, or one
 * object) records for the engine.
 *
 * A record is one top-level object; fields are its top-level keys.
 * Everything not masked goes out byte for byte (nesting, key order,
 * spacing); a removed member takes one comma with it. The array is
 * streamed element by element, never loaded whole.
 *
 * The parser is strict RFC 8259 (lone surrogates and bad escapes
 * included): a lax parser could read keys differently from the reader's
 * own and let a masked key through. Keys are compared unescaped, so
 * "\u59d3\u540d" is 姓名. Choices where the contract is silent:
 * - a masked string, number or boolean becomes a JSON string; null stays
 *   null; an object or array under a masked key fails, except that
 *   redact makes it "" and drop removes it;
 * - filters read strings unescaped and numbers and booleans as written;
 *   null, objects, arrays and absent keys match nothing (ne included);
 * - blank lines in JSON Lines pass through; an empty file stays empty;
 * - in GB18030 files bytes of a character are never taken for '\\' or
 *   '"', and \u escapes decode to GB18030.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/desens_fmt.h"
#include "policy/json_scan.h"

#define SEP_MAX		4096	/* whitespace kept between array elements */

/* Phases of a JSON document, element by element. */
enum { P_BEGIN, P_FIRST, P_ELEM, P_AFTER, P_NEXT, P_END };

struct jmember {
	size_t kstart, vstart, vend;	/* key's opening quote, value, its end */
	int slot;
	uint8_t vtype;
};

struct json {
	struct text_conv *to_enc;	/* \u escapes into GB18030, lazily */
	struct jmember *m;
	size_t nm, mcap;
	/* the record being read, from its first byte */
	size_t scanned;			/* JSON Lines: bytes known to hold no '\n' */
	size_t epos;			/* JSON: element scan position */
	int depth;
	uint8_t in_str, esc;
	/* JSON document */
	int phase;
	bool single;			/* one top-level object, no array */
	bool emitted;			/* an element has been written */
	struct strbuf sep;		/* what stood before the next element */
	uint8_t stack[JSON_DEPTH_MAX];
};

static struct json *jstate(struct jp *j)
{
	return j->d->fs;
}

/* The value of a member as text for a filter or mask: strings unescaped. */
static int member_text(struct jp *j, const struct jmember *m,
		       const uint8_t **v, size_t *n)
{
	const uint8_t *s = j->p + m->vstart;
	size_t len = m->vend - m->vstart;

	if (m->vtype != J_STR) {
		*v = s;
		*n = len;
		return 0;
	}
	if (!memchr(s, '\\', len)) {
		*v = s + 1;
		*n = len - 2;
		return 0;
	}
	return jscan_decode(j, m->vstart, m->vend, v, n);
}

static struct jmember *member_new(struct json *js)
{
	if (js->nm == js->mcap) {
		size_t cap = js->mcap ? 2 * js->mcap : 32;
		struct jmember *m = realloc(js->m, cap * sizeof(*m));

		if (!m)
			abort();	/* as strbuf: out of memory is fatal */
		js->m = m;
		js->mcap = cap;
	}
	return &js->m[js->nm++];
}

/* Reads the object at j->i, noting its top-level members and filter values. */
static int jobject(struct jp *j)
{
	struct desens *d = j->d;
	struct jmember *m;
	const uint8_t *k;
	size_t kn;
	bool esc;
	int ret;

	jstate(j)->nm = 0;
	if (j->i >= j->n || j->p[j->i] != '{')
		return jscan_bad(j, "expected an object");
	j->i++;
	jscan_ws(j);
	if (j->i < j->n && j->p[j->i] == '}') {
		j->i++;
		return 0;
	}
	for (;;) {
		jscan_ws(j);
		if (j->i >= j->n || j->p[j->i] != '"')
			return jscan_bad(j, "expected a key");
		m = member_new(jstate(j));
		m->kstart = j->i;
		ret = jscan_string(j, &esc);
		if (ret)
			return ret;
		k = j->p + m->kstart + 1;
		kn = j->i - m->kstart - 2;
		if (esc && (ret = jscan_decode(j, m->kstart, j->i, &k, &kn)))
			return ret;
		m->slot = desens_slot_find(d, k, kn);
		jscan_ws(j);
		if (j->i >= j->n || j->p[j->i] != ':')
			return jscan_bad(j, "expected ':'");
		j->i++;
		jscan_ws(j);
		m->vstart = j->i;
		ret = jscan_value(j, &m->vtype);
		if (ret)
			return ret;
		m->vend = j->i;
		if (m->slot >= 0 && d->slots[m->slot].filtered) {
			struct desens_val *v = &d->vals[m->slot];

			/* fail closed: which of two equal keys the reader honours is a guess */
			if (v->set || v->p)
				return jscan_bad(j, "a filtered key appears twice");
			v->p = (const uint8_t *)"";
			if (m->vtype <= J_FALSE) {
				ret = member_text(j, m, &v->p, &v->n);
				if (ret)
					return ret;
				v->set = true;
			}
		}
		jscan_ws(j);
		if (j->i < j->n && j->p[j->i] == ',') {
			j->i++;
			continue;
		}
		if (j->i < j->n && j->p[j->i] == '}') {
			j->i++;
			return 0;
		}
		return jscan_bad(j, "expected ',' or '}'");
	}
}

static int emit_value(struct jp *j, const struct jmember *m,
		      const struct mask_spec *mask, struct strbuf *out)
{
	struct desens *d = j->d;
	const uint8_t *v;
	size_t n;
	int ret;

	if (mask->kind == MASK_NONE || m->vtype == J_NULL) {
		strbuf_add(out, j->p + m->vstart, m->vend - m->vstart);
		return 0;
	}
	if (mask->kind == MASK_REDACT) {
		strbuf_add(out, "\"\"", 2);
		return 0;
	}
	if (m->vtype == J_OBJ || m->vtype == J_ARR) {
		j->i = m->vstart;
		return jscan_bad(j, "an object or array under a masked key");
	}
	ret = member_text(j, m, &v, &n);
	if (ret)
		return ret;
	strbuf_reset(&d->mbuf);
	ret = mask_apply(d->mc, mask, v, n, &d->mbuf);
	if (ret) {
		j->i = m->vstart;
		return jscan_bad(j, ret == -EILSEQ ? "value is not valid text" : "cannot mask");
	}
	jscan_put_string(d->enc, out, (const uint8_t *)d->mbuf.buf, d->mbuf.len);
	return 0;
}

/* Writes the object read by jobject, p[s..e), with its members' masks applied. */
static int emit_object(struct jp *j, size_t s, size_t e, struct strbuf *out)
{
	struct desens *d = j->d;
	struct json *js = jstate(j);
	bool first = true;
	int ret;

	if (!js->nm) {
		strbuf_add(out, j->p + s, e - s);
		return 0;
	}
	strbuf_add(out, j->p + s, js->m[0].kstart - s);
	for (size_t k = 0; k < js->nm; k++) {
		const struct jmember *m = &js->m[k];
		const struct desens_slot *sl = m->slot >= 0 ? &d->slots[m->slot] : NULL;
		static const struct mask_spec raw = { MASK_NONE, 0, 0 };
		const struct mask_spec *mask = &raw;

		if (!sl || !sl->listed) {
			if (d->drop_unlisted)
				continue;
		} else if (sl->mask.kind == MASK_DROP) {
			continue;
		} else {
			mask = &sl->mask;
		}
		if (!first)
			strbuf_add(out, j->p + js->m[k - 1].vend, m->kstart - js->m[k - 1].vend);
		first = false;
		strbuf_add(out, j->p + m->kstart, m->vstart - m->kstart);
		ret = emit_value(j, m, mask, out);
		if (ret)
			return ret;
	}
	strbuf_add(out, j->p + js->m[js->nm - 1].vend, e - js->m[js->nm - 1].vend);
	return 0;
}

/*
 * Reads the object at j->i and decides on it. Returns 1 when it passes the
 * row filter (then *end is where it ends), 0 when filtered out, or -EIO.
 */
static int read_record(struct jp *j, size_t *end)
{
	struct desens *d = j->d;
	int ret;

	/* room for every value unescaped twice: no realloc mid-record */
	strbuf_reset(&d->scratch);
	strbuf_grow(&d->scratch, 2 * j->n + 64);
	for (size_t s = 0; s < d->nslots; s++)
		d->vals[s].p = NULL;
	desens_vals_reset(d);
	ret = jobject(j);
	if (ret)
		return ret;
	*end = j->i;
	d->nin++;
	if (!desens_row_passes(d))
		return 0;
	d->nout++;
	return 1;
}

/* Writes the line rec[0..n) (no line end) unless filtered out; 1 when written. */
static int lines_record(struct desens *d, struct json *js, const uint8_t *rec,
			size_t n, struct strbuf *out, struct perr *e)
{
	struct jp j = { .d = d, .p = rec, .n = n, .line = d->line, .off = d->base,
			.e = e, .stack = js->stack, .to_enc = &js->to_enc };
	size_t s, end;
	int ret;

	jscan_ws(&j);
	if (j.i == n) {
		strbuf_add(out, rec, n);
		return 1;
	}
	s = j.i;
	ret = read_record(&j, &end);
	if (ret < 0)
		return ret;
	jscan_ws(&j);
	if (j.i != n)
		return jscan_bad(&j, "more after the object");
	if (!ret)
		return 0;
	strbuf_add(out, rec, s);
	ret = emit_object(&j, s, end, out);
	if (ret)
		return ret;
	strbuf_add(out, rec + end, n - end);
	return 1;
}

static int jsonl_run(struct desens *d, const uint8_t *buf, size_t len, bool eof,
		     size_t *used, struct strbuf *out, struct perr *e)
{
	struct json *js = d->fs;
	size_t off = 0, n, term;
	const uint8_t *nl;
	int ret;

	while (off < len) {
		nl = memchr(buf + off + js->scanned, '\n', len - off - js->scanned);
		if (!nl && !eof) {
			js->scanned = len - off;
			if (js->scanned > DESENS_RECORD_MAX)
				return desens_too_long(d, e, d->line);
			break;
		}
		n = nl ? (size_t)(nl - buf) - off : len - off;
		if (n + 1 > DESENS_RECORD_MAX)
			return desens_too_long(d, e, d->line);
		term = nl ? 1 : 0;
		if (nl && n && buf[off + n - 1] == '\r')
			term = 2;
		ret = lines_record(d, js, buf + off, n + (nl ? 1 : 0) - term, out, e);
		if (ret < 0)
			return ret;
		if (ret > 0)
			strbuf_add(out, buf + off + n + (nl ? 1 : 0) - term, term);
		n += nl ? 1 : 0;
		off += n;
		d->base += n;
		d->line++;
		js->scanned = 0;
	}
	*used = off;
	return 0;
}

/*
 * Finds the end of the object at buf[0] by brackets and quotes alone; the
 * strict parser then reads exactly that span. Returns 1 with *elen, 0 when
 * more input is needed, or an error.
 */
static int elem_scan(struct desens *d, struct json *js, const uint8_t *buf,
		     size_t len, bool eof, size_t *elen, struct perr *e)
{
	size_t i = js->epos;

	while (i < len) {
		uint8_t c = buf[i];

		if (js->in_str) {
			if (js->esc) {
				js->esc = 0;
			} else if (c == '\\') {
				js->esc = 1;
			} else if (c == '"') {
				js->in_str = 0;
			} else if (c >= 0x80 && d->enc == TEXT_GB18030) {
				/* a trail byte may be '\\': step over whole characters */
				int l = text_char_len(d->enc, buf + i, len - i);

				if (!l && !eof)
					break;
				if (l > 0) {
					i += (size_t)l;
					continue;
				}
			}
		} else if (c == '"') {
			js->in_str = 1;
		} else if (c == '{' || c == '[') {
			js->depth++;
		} else if ((c == '}' || c == ']') && --js->depth == 0) {
			*elen = i + 1;
			if (*elen > DESENS_RECORD_MAX)
				return desens_too_long(d, e, d->line);
			return 1;
		}
		i++;
	}
	js->epos = i;
	if (i > DESENS_RECORD_MAX)
		return desens_too_long(d, e, d->line);
	if (eof)
		return desens_bad(d, e, d->line + desens_count_nl(buf, len), d->base + len,
				  "malformed JSON: unexpected end of input");
	return 0;
}

static int element(struct desens *d, struct json *js, const uint8_t *buf,
		   size_t elen, struct strbuf *out, struct perr *e)
{
	struct jp j = { .d = d, .p = buf, .n = elen, .line = d->line, .off = d->base,
			.e = e, .stack = js->stack, .to_enc = &js->to_enc };
	size_t end;
	int ret;

	ret = read_record(&j, &end);
	if (ret < 0)
		return ret;
	if (end != elen)
		return jscan_bad(&j, "unexpected character");
	if (ret) {
		if (js->emitted)
			strbuf_add(out, js->sep.buf, js->sep.len);
		js->emitted = true;
		ret = emit_object(&j, 0, elen, out);
		if (ret)
			return ret;
	}
	strbuf_reset(&js->sep);
	return 0;
}

static bool is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* One byte outside any element, in phase js->phase. */
static int between(struct desens *d, struct json *js, uint8_t c,
		   struct strbuf *out, struct perr *e)
{
	if (is_ws(c)) {
		if (js->phase == P_AFTER || js->phase == P_NEXT) {
			if (js->sep.len < SEP_MAX)
				strbuf_addch(&js->sep, c);
		} else {
			strbuf_addch(out, c);
		}
		return 0;
	}
	switch (js->phase) {
	case P_BEGIN:
		if (c == '[') {
			strbuf_addch(out, c);
			js->phase = P_FIRST;
			return 0;
		}
		if (c == '{') {
			js->single = true;
			js->phase = P_ELEM;
			return 1;
		}
		return desens_bad(d, e, d->line, d->base,
				  "malformed JSON: expected '[' or '{'");
	case P_FIRST:
	case P_NEXT:
		if (c == '{') {
			js->phase = P_ELEM;
			return 1;
		}
		if (c == ']' && js->phase == P_FIRST) {
			strbuf_addch(out, c);
			js->phase = P_END;
			return 0;
		}
		return desens_bad(d, e, d->line, d->base, c == ']' ?
				  "malformed JSON: ',' before ']'" :
				  "array element is not an object");
	case P_AFTER:
		if (c == ',') {
			strbuf_addch(&js->sep, c);
			js->phase = P_NEXT;
			return 0;
		}
		if (c == ']') {
			strbuf_add(out, js->sep.buf, js->sep.len);
			strbuf_reset(&js->sep);
			strbuf_addch(out, c);
			js->phase = P_END;
			return 0;
		}
		return desens_bad(d, e, d->line, d->base,
				  "malformed JSON: expected ',' or ']'");
	default:
		return desens_bad(d, e, d->line, d->base,
				  "malformed JSON: more after the end");
	}
}

static int json_run(struct desens *d, const uint8_t *buf, size_t len, bool eof,
		    size_t *used, struct strbuf *out, struct perr *e)
{
	struct json *js = d->fs;
	size_t off = 0, elen = 0;
	int ret;

	*used = 0;
	while (off < len) {
		if (js->phase != P_ELEM) {
			ret = between(d, js, buf[off], out, e);
			if (ret < 0)
				return ret;
			if (ret > 0) {
				js->epos = 0;
				js->depth = 0;
				js->in_str = js->esc = 0;
				continue;
			}
			if (buf[off] == '\n')
				d->line++;
			d->base++;
			off++;
			continue;
		}
		ret = elem_scan(d, js, buf + off, len - off, eof, &elen, e);
		if (ret < 0)
			return ret;
		if (!ret)
			break;
		ret = element(d, js, buf + off, elen, out, e);
		if (ret)
			return ret;
		d->line += desens_count_nl(buf + off, elen);
		d->base += elen;
		off += elen;
		js->phase = js->single ? P_END : P_AFTER;
	}
	*used = off;
	if (eof && js->phase != P_END && js->phase != P_BEGIN)
		return desens_bad(d, e, d->line, d->base,
				  "malformed JSON: unexpected end of input");
	return 0;
}

static int json_init(struct desens *d, struct perr *e)
{
	struct json *js = calloc(1, sizeof(*js));

	if (!js)
		return -ENOMEM;
	strbuf_init(&js->sep, 0);
	d->fs = js;
	return 0;
}

static void json_release(struct desens *d)
{
	struct json *js = d->fs;

	text_conv_free(js->to_enc);
	strbuf_release(&js->sep);
	free(js->m);
	free(js);
	d->fs = NULL;
}

const struct desens_format desens_fmt_jsonl = {
	.name = "jsonl",
	.init = json_init,
	.run = jsonl_run,
	.release = json_release,
};

const struct desens_format desens_fmt_json = {
	.name = "json",
	.init = json_init,
	.run = json_run,
	.release = json_release,
};
