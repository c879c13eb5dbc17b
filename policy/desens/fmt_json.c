/*
 * policy/desens/fmt_json.c - JSON Lines and JSON (an array of objects, or one
 * object) records for the engine.
 *
 * A record is one top-level object. A field the rules name is that field
 * wherever its key stands in the record: at the top, in a nested object,
 * in an object inside an array. Everything not masked goes out byte for
 * byte (nesting, key order, spacing); a removed member takes one comma
 * with it. The array is streamed element by element, never loaded whole.
 *
 * A record is read once, strictly, into a list of edits (a value masked,
 * a member removed) and, when it passes the row filter, written with the
 * edits applied. The parser is strict RFC 8259 (lone surrogates and bad
 * escapes included): a lax parser could read keys differently from the
 * reader's own and let a masked key through. Keys are compared unescaped
 * and normalized (desens_slot_find), so "\u59d3\u540d" and " 姓名 " are
 * 姓名. Choices where the contract is silent:
 * - a masked string, number or boolean becomes a JSON string; null stays
 *   null; an array under a masked key has each scalar in it masked (null
 *   stays null, nested arrays alike); an object under a masked key, or in
 *   such an array, fails (its keys may be data too), except that redact
 *   makes the whole value "" (null too: which records had none is hidden)
 *   and drop removes the member;
 * - with drop_unlisted (a grant listed fields, or tag defaults over
 *   declared fields) a key not listed holding a scalar is removed at every
 *   depth; one holding an object or array stays, as the way to the listed
 *   fields inside it, only if a listed field is kept somewhere inside it
 *   (one masked drop leads nowhere), else it goes whole; in such an array
 *   scalars go and containers follow the same rule. The same holds inside
 *   a listed field's object. Decided when the container closes: its edits
 *   are then replaced by one removal (walk, struct jlevel cond);
 * - two keys of one object that are the same field once normalized fail:
 *   readers disagree on which one counts;
 * - a filtered field is read from the top level only; a filtered field's
 *   key below the top level fails, since which occurrence decides the
 *   record would be a guess;
 * - filters read strings unescaped and numbers and booleans as written;
 *   null, objects, arrays and absent keys match nothing (ne included);
 * - inside a member that is removed nothing is looked at but its syntax;
 *   a container that drop_unlisted may keep is read like the rest, even
 *   when it ends removed (fail closed on what it holds);
 * - blank lines in JSON Lines pass through; an empty file stays empty;
 * - in GB18030 files bytes of a character are never taken for '\\' or
 *   '"', and \u escapes decode to GB18030.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "policy/desens/desens_fmt.h"
#include "policy/desens/json_scan.h"

#define SEP_MAX		4096	/* whitespace kept between array elements */

/* Phases of a JSON document, element by element. */
enum { P_BEGIN, P_FIRST, P_ELEM, P_AFTER, P_NEXT, P_END };

/*
 * What becomes of a member's value or an array's element. A_PROJ: an
 * unlisted key under drop_unlisted (or an element of an array under one);
 * a scalar there is removed, a container is read and stays only if a
 * listed field is kept somewhere inside it.
 */
enum { A_KEEP, A_DROP, A_MASK, A_PROJ };

/* p[s..e) of the record is written as rep[roff..roff+rlen) of struct json. */
struct jedit {
	size_t s, e, roff, rlen;
};

/* One open object or array of the record being read. */
struct jlevel {
	uint8_t kind;			/* '{' or '[' */
	bool masked;			/* an array under a masked key: mask is its mask */
	bool proj;			/* an array opened as A_PROJ: elements are A_PROJ */
	bool cond;			/* opened as A_PROJ: removed on close unless hit */
	bool hit;			/* a listed field has been kept inside */
	bool after;			/* a member or element has just ended */
	bool kept;			/* a member or element has been kept */
	bool pkept;			/* cond: the parent's kept before this began */
	size_t count;			/* members or elements begun */
	size_t prev_vend;		/* where the last member or element ended */
	size_t kbase;			/* object: its fields' slots from here in keys */
	size_t ned0, rlen0;		/* cond: edits and rep before this began */
	size_t dstart;			/* cond: where its removal would start */
	const struct mask_spec *mask;
	int slot;			/* object: the member being read */
};

struct json {
	struct text_conv *to_enc;	/* \u escapes into GB18030, lazily */
	struct jedit *ed;
	size_t ned, edcap;
	struct strbuf rep;		/* replacement texts of one record */
	int *keys;			/* slots of the fields met in each open object */
	size_t nkeys, keycap;
	struct jlevel lv[JSON_DEPTH_MAX];
	/* the input of this run known to be valid UTF-8 text, up to here (or NULL) */
	const uint8_t *text_ok;
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

static void edit_add(struct json *js, size_t s, size_t e, size_t roff, size_t rlen)
{
	ALLOC_GROW(js->ed, js->ned + 1, js->edcap);
	js->ed[js->ned++] = (struct jedit){ s, e, roff, rlen };
}

/* -EIO naming field slot, at p[at] of the record. */
static int field_bad(struct jp *j, size_t at, int slot, const char *what)
{
	return desens_bad(j->d, j->e, j->line + desens_count_nl(j->p, at), j->off + at,
			  "the field \"%s\" %s", j->d->slots[slot].label, what);
}

/*
 * The scalar p[s..e) as text for a filter or mask: strings unescaped
 * (*decoded, when not NULL, says whether it had to be).
 */
static int scalar_text(struct jp *j, size_t s, size_t e, uint8_t type,
		       const uint8_t **v, size_t *n, bool *decoded)
{
	const uint8_t *p = j->p + s;

	if (decoded)
		*decoded = false;
	if (type != J_STR) {
		*v = p;
		*n = e - s;
		return 0;
	}
	if (!memchr(p, '\\', e - s)) {
		*v = p + 1;
		*n = e - s - 2;
		return 0;
	}
	if (decoded)
		*decoded = true;
	return jscan_decode(j, s, e, v, n);
}

/* Replaces the scalar p[s..e) by its masked text. */
static int mask_scalar(struct jp *j, size_t s, size_t e, uint8_t type,
		       const struct mask_spec *mask)
{
	struct desens *d = j->d;
	struct json *js = jstate(j);
	const uint8_t *v;
	size_t n, roff = js->rep.len;
	bool decoded;
	int ret;

	if (type == J_NULL)
		return 0;
	ret = scalar_text(j, s, e, type, &v, &n, &decoded);
	if (ret)
		return ret;
	/*
	 * Read where it stands (no escape), a value holds no quote,
	 * backslash or control byte, nor does what such a mask makes of it:
	 * straight into the record's replacements, no escaping pass.
	 */
	if (!decoded && mask_own_bytes(mask->kind)) {
		uint8_t *w;
		size_t mn;

		strbuf_grow(&js->rep, MASK_OUT_MAX(n) + 2);
		w = (uint8_t *)js->rep.buf + roff;
		ret = mask_apply_valid(d->mc, mask, v, n, w + 1, &mn);
		if (!ret) {
			w[0] = w[mn + 1] = '"';
			strbuf_setlen(&js->rep, roff + mn + 2);
			edit_add(js, s, e, roff, mn + 2);
			return 0;
		}
	}
	strbuf_reset(&d->mbuf);
	ret = mask_apply(d->mc, mask, v, n, &d->mbuf);
	if (ret) {
		j->i = s;
		return jscan_bad(j, ret == -EILSEQ ? "value is not valid text" : "cannot mask");
	}
	jscan_put_string(d->enc, &js->rep, (const uint8_t *)d->mbuf.buf, d->mbuf.len);
	edit_add(js, s, e, roff, js->rep.len - roff);
	return 0;
}

/*
 * At a member's key in the object L (depth top): reads the key and the
 * ':' and decides what becomes of the value (*act, *mask); *kstart is
 * where the key begins.
 */
static int member_begin(struct jp *j, int top, struct jlevel *L, int *act,
			const struct mask_spec **mask, size_t *kstart_out)
{
	struct desens *d = j->d;
	struct json *js = jstate(j);
	const struct desens_slot *sl = NULL;
	size_t kstart = j->i, kn;
	const uint8_t *k;
	bool esc;
	int ret, slot;

	*kstart_out = kstart;
	if (j->i >= j->n || j->p[j->i] != '"')
		return jscan_bad(j, "expected a key");
	ret = jscan_string(j, &esc);
	if (ret)
		return ret;
	k = j->p + kstart + 1;
	kn = j->i - kstart - 2;
	if (esc && (ret = jscan_decode(j, kstart, j->i, &k, &kn)))
		return ret;
	slot = desens_slot_find(d, k, kn);
	jscan_ws(j);
	if (j->i >= j->n || j->p[j->i] != ':')
		return jscan_bad(j, "expected ':'");
	j->i++;
	if (slot >= 0) {
		/* fail closed: which of two equal keys a reader honours is a guess */
		for (size_t q = L->kbase; q < js->nkeys; q++)
			if (js->keys[q] == slot)
				return field_bad(j, kstart, slot, "appears twice in one object");
		if (top && d->slots[slot].filtered)
			return field_bad(j, kstart, slot,
					 "is filtered on but stands below the top level");
		ALLOC_GROW(js->keys, js->nkeys + 1, js->keycap);
		js->keys[js->nkeys++] = slot;
		sl = &d->slots[slot];
	}
	*mask = NULL;
	if (!sl || !sl->listed) {
		*act = d->drop_unlisted ? A_PROJ : A_KEEP;
	} else if (sl->mask.kind == MASK_DROP) {
		*act = A_DROP;
	} else if (sl->mask.kind == MASK_NONE) {
		*act = A_KEEP;
	} else {
		*act = A_MASK;
		*mask = &sl->mask;
	}
	L->slot = slot;
	return 0;
}

/*
 * A member or element of L begins at start (its key, or the element) and
 * becomes act: keeps the commas of L right. A removal takes the comma
 * before it; the first one kept after removed ones, what stood between.
 */
static void item_begin(struct json *js, struct jlevel *L, size_t start, int act)
{
	if (act != A_DROP && L->count && !L->kept)
		edit_add(js, L->prev_vend, start, 0, 0);
	if (act != A_DROP)
		L->kept = true;
	if (act == A_KEEP || act == A_MASK)
		L->hit = true;
	/* where a removal starts: its own start, or the end of the item before */
	L->prev_vend = L->count ? L->prev_vend : start;
}

/* Notes a top-level filtered field's scalar p[s..j->i). */
static int filter_value(struct jp *j, int slot, size_t s, uint8_t type)
{
	struct desens_val *v = &j->d->vals[slot];

	if (type > J_FALSE)
		return 0;
	v->set = true;
	return scalar_text(j, s, j->i, type, &v->p, &v->n, NULL);
}

/* Opens the object or array at j->i as level top + 1. */
static int level_open(struct jp *j, int *top, bool masked, const struct mask_spec *mask)
{
	struct json *js = jstate(j);
	struct jlevel *L;

	if (*top + 1 >= JSON_DEPTH_MAX)
		return jscan_bad(j, "nested too deep");
	L = &js->lv[++*top];
	memset(L, 0, sizeof(*L));
	L->kind = j->p[j->i++];
	L->masked = masked;
	L->mask = mask;
	L->kbase = js->nkeys;
	L->slot = -1;
	return 0;
}

/*
 * Reads the object at j->i, the whole record, into js->ed (sorted, not
 * overlapping) and the filter values into d->vals.
 */
static int walk(struct jp *j)
{
	struct desens *d = j->d;
	struct json *js = jstate(j);
	const struct mask_spec *mask = NULL;
	struct jlevel *L, *C;
	int top = -1, act = A_KEEP, ret;
	size_t istart, vstart, dstart, ned0, rlen0;
	bool pkept;
	uint8_t t;

	js->ned = 0;
	js->nkeys = 0;
	strbuf_reset(&js->rep);
	if (j->i >= j->n || j->p[j->i] != '{')
		return jscan_bad(j, "expected an object");
	ret = level_open(j, &top, false, NULL);
	if (ret)
		return ret;
	for (;;) {
		L = &js->lv[top];
		jscan_ws(j);
		if (L->after && j->i < j->n && j->p[j->i] == ',') {
			j->i++;
			L->after = false;
			jscan_ws(j);
		} else if (L->after || (!L->count && j->i < j->n &&
					j->p[j->i] == (L->kind == '{' ? '}' : ']'))) {
			if (j->i >= j->n || j->p[j->i] != (L->kind == '{' ? '}' : ']'))
				return jscan_bad(j, top ? "expected ',' or a closing bracket"
							: "expected ',' or '}'");
			j->i++;
			js->nkeys = L->kbase;
			if (!top)
				return 0;
			C = L;
			L = &js->lv[--top];
			if (C->cond && !C->hit) {
				/* it leads to no listed field: removed as A_DROP would */
				js->ned = C->ned0;
				strbuf_setlen(&js->rep, C->rlen0);
				L->kept = C->pkept;
				edit_add(js, C->dstart, j->i, 0, 0);
			} else if (C->hit) {
				L->hit = true;
			}
			L->prev_vend = j->i;
			L->after = true;
			continue;
		}
		if (L->kind == '{') {
			ret = member_begin(j, top, L, &act, &mask, &istart);
			if (ret)
				return ret;
			jscan_ws(j);
		} else {
			istart = j->i;
			act = L->proj ? A_PROJ : L->masked ? A_MASK : A_KEEP;
			mask = L->mask;
		}
		vstart = j->i;
		if (act == A_PROJ && (j->i >= j->n || (j->p[j->i] != '{' && j->p[j->i] != '[')))
			act = A_DROP;
		ned0 = js->ned;
		rlen0 = js->rep.len;
		pkept = L->kept;
		item_begin(js, L, istart, act);
		dstart = L->prev_vend;
		L->count++;
		if (act == A_DROP || (act == A_MASK && mask->kind == MASK_REDACT)) {
			ret = jscan_value(j, &t);
			/* filters read raw values: a removed member still decides */
			if (!ret && !top && L->slot >= 0 && d->slots[L->slot].filtered)
				ret = filter_value(j, L->slot, vstart, t);
			if (ret)
				return ret;
			if (act == A_DROP) {
				edit_add(js, dstart, j->i, 0, 0);
			} else {
				/* null too: a redacted field does not tell which records had none */
				edit_add(js, vstart, j->i, js->rep.len, 2);
				strbuf_add(&js->rep, "\"\"", 2);
			}
		} else if (j->i < j->n && (j->p[j->i] == '{' || j->p[j->i] == '[')) {
			if (act == A_MASK && j->p[j->i] == '{')
				return jscan_bad(j, "an object under a masked key");
			ret = level_open(j, &top, act == A_MASK, mask);
			if (ret)
				return ret;
			if (act == A_PROJ) {
				C = &js->lv[top];
				C->proj = C->kind == '[';
				C->cond = true;
				C->pkept = pkept;
				C->ned0 = ned0;
				C->rlen0 = rlen0;
				C->dstart = dstart;
			}
			continue;
		} else {
			ret = jscan_scalar(j, &t);
			if (!ret && act == A_MASK)
				ret = mask_scalar(j, vstart, j->i, t, mask);
			if (!ret && !top && L->slot >= 0 && d->slots[L->slot].filtered)
				ret = filter_value(j, L->slot, vstart, t);
			if (ret)
				return ret;
		}
		L->prev_vend = j->i;
		L->after = true;
	}
}

/* Writes p[s..e) of the record read by walk with its edits applied. */
static void emit_record(struct jp *j, size_t s, size_t e, struct strbuf *out)
{
	struct json *js = jstate(j);
	size_t room = e - s;
	char *w;

	/* one growth for the record, not two calls per edit */
	for (size_t k = 0; k < js->ned; k++)
		room += js->ed[k].rlen;
	strbuf_grow(out, room);
	w = out->buf + out->len;
	for (size_t k = 0; k < js->ned; k++) {
		const struct jedit *ed = &js->ed[k];

		memcpy(w, j->p + s, ed->s - s);
		w += ed->s - s;
		memcpy(w, js->rep.buf + ed->roff, ed->rlen);
		w += ed->rlen;
		s = ed->e;
	}
	memcpy(w, j->p + s, e - s);
	w += e - s;
	strbuf_setlen(out, (size_t)(w - out->buf));
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
	desens_vals_reset(d);
	ret = walk(j);
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
			.e = e, .stack = js->stack, .to_enc = &js->to_enc,
			.valid = d->enc == TEXT_UTF8 && js->text_ok && rec + n <= js->text_ok };
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
	emit_record(&j, s, end, out);
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

	js->text_ok = d->enc == TEXT_UTF8 ? desens_text_ok(d, buf, len) : NULL;
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
			.e = e, .stack = js->stack, .to_enc = &js->to_enc,
			.valid = d->enc == TEXT_UTF8 && js->text_ok && buf + elen <= js->text_ok };
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
		emit_record(&j, 0, elen, out);
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
	js->text_ok = d->enc == TEXT_UTF8 ? desens_text_ok(d, buf, len) : NULL;
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
	struct json *js = xcalloc(1, sizeof(*js));

	strbuf_init
(&js->sep, 0);
	strbuf_init(&js->rep, 0);
	d->fs = js;
	/*
	 * A JSON Lines record stands alone; the elements of a document are
	 * joined by separators that depend on which ones the filter kept,
	 * so a document is never cut.
	 */
	if (d->fmt->cuttable) {
		d->body_known = true;
		d->body = d->base;
	}
	return 0;
}

static void json_release(struct desens *d)
{
	struct json *js = d->fs;

	text_conv_free(js->to_enc);
	strbuf_release(&js->sep);
	strbuf_release(&js->rep);
	free(js->ed);
	free(js->keys);
	free(js);
	d->fs = NULL;
}

const struct desens_format desens_fmt_jsonl = {
	.name = "jsonl",
	.init = json_init,
	.run = jsonl_run,
	.release = json_release,
	.cuttable = true,
};

const struct desens_format desens_fmt_json = {
	.name = "json",
	.init = json_init,
	.run = json_run,
	.release = json_release,
};
