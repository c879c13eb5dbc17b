/*
 * policy/desens/desens.c - the streaming desensitization engine: rules compiled
 * into slots and a filter tree, the input pump, the format table.
 *
 * Input is parsed straight from the caller's buffer; only the tail of a
 * record that a feed leaves unfinished is copied, so the engine holds at
 * most one record whatever the file size. A format resumes a record from
 * its saved scan state, so a record fed one byte at a time still costs
 * linear time.
 *
 * Names and filter values are compared normalized (surrounding whitespace
 * removed, then NFC; NFKC for ne), in UTF-8 whatever the file's encoding:
 * a name written with padding or a combining accent is still the name, and
 * a value the reader's eye takes for an excluded one is excluded too.
 */
#include "common/alloc.h"
#include "policy/desens/desens.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "policy/desens/desens_cut.h"
#include "policy/desens/desens_fmt.h"
#include "policy/desens/nfc.h"

#define PUMP_STEP		4096	/* least bytes moved into pending at a time */

enum { ST_START, ST_RUN, ST_DONE };

static const uint8_t bom_utf8[] = { 0xEF, 0xBB, 0xBF };
static const uint8_t bom_gb18030[] = { 0x84, 0x31, 0x95, 0x33 };

static const struct desens_format *const formats[] = {
	[VIEW_CSV] = &desens_fmt_csv,
	[VIEW_TSV] = &desens_fmt_tsv,
	[VIEW_JSONL] = &desens_fmt_jsonl,
	[VIEW_JSON] = &desens_fmt_json,
	[VIEW_OTHER] = NULL,
};

int desens_bad(struct desens *d, struct perr *e, uint64_t line, uint64_t off,
	       const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return perr_set(e, EIO, "line %llu, byte %llu: %s", (unsigned long long)line,
			(unsigned long long)off, what);
}

int desens_too_long(struct desens *d, struct perr *e, uint64_t line)
{
	return perr_set(e, EIO, "record at line %llu longer than %u MiB",
			(unsigned long long)line, DESENS_RECORD_MAX >> 20);
}

size_t desens_count_nl(const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n, *q;
	size_t c = 0;

	while (p < end && (q = memchr(p, '\n', (size_t)(end - p)))) {
		c++;
		p = q + 1;
	}
	return c;
}

int desens_check_text(struct desens *d, struct perr *e, const uint8_t *rec,
		      size_t n, uint64_t line, uint64_t off)
{
	size_t bad;

	if (!text_check(d->enc, rec, n, &bad))
		return 0;
	line += desens_count_nl(rec, bad);
	if (!rec[bad])
		return desens_bad(d, e, line, off + bad, "NUL byte in text");
	return desens_bad(d, e, line, off + bad, "invalid %s text",
			  text_enc_name(d->enc));
}

const uint8_t *desens_text_ok(struct desens *d, const uint8_t *buf, size_t len)
{
	const uint8_t *last = len ? memrchr(buf, '\n', len) : NULL;
	size_t bad;

	if (last && !text_check(d->enc, buf, (size_t)(last - buf) + 1, &bad))
		return last + 1;
	return NULL;
}

static bool all_ascii(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] >= 0x80)
			return false;
	return true;
}

/*
 * Appends to out the form f of text p[0..n) in the file's encoding, its
 * surrounding whitespace removed. Returns 0 or -EILSEQ (not valid text).
 */
static int norm_text(struct desens *d, const uint8_t *p, size_t n, enum nfc_form f,
		     struct strbuf *out)
{
	if (all_ascii(p, n)) {
		/* ASCII is its own NFC and NFKC: only the ends can change */
		p = nfc_trim(p, &n);
		strbuf_add(out, p, n);
		return 0;
	}
	if (d->enc == TEXT_GB18030) {
		if (!d->to_utf8)
			return -EILSEQ;
		strbuf_reset(&d->conv);
		text_conv_lossy(d->to_utf8, d->enc, p, n, &d->conv);
		p = (const uint8_t *)d->conv.buf;
		n = d->conv.len;
	}
	if (f == NFC_C && nfc_quick(p, n)) {
		strbuf_add(out, p, n);
		return 0;
	}
	return nfc_append(p, n, f, true, out);
}

/* The slot whose normalized name is name[0..n), or -1. */
static int slot_find_norm(const struct desens *d, const uint8_t *name, size_t n)
{
	for (size_t i = 0; i < d->nslots; i++) {
		const struct desens_slot *s = &d->slots[i];

		if (s->namelen == n && !memcmp(s->name, name, n))
			return (int)i;
	}
	return -1;
}

static int slot_find_raw(struct desens *d, const uint8_t *name, size_t n)
{
	/* most names are already normalized: compare them where they lie */
	if ((d->enc == TEXT_UTF8 || all_ascii(name, n)) && nfc_quick(name, n))
		return slot_find_norm(d, name, n);
	strbuf_reset(&d->knorm);
	if (norm_text(d, name, n, NFC_C, &d->knorm))
		return -1;
	return slot_find_norm(d, (const uint8_t *)d->knorm.buf, d->knorm.len);
}

/*
 * The bytes of name[0..n), 0 < n: its first and last eight (four for
 * n < 8; the first, middle and last for n < 4), overlapping. Up to 16
 * bytes they are the whole name, so (n, *x, *y) is the name itself.
 */
static inline void memo_words(const uint8_t *name, size_t n, uint64_t *x, uint64_t *y)
{
	uint32_t a, b;

	if (n >= 8) {
		memcpy(x, name, 8);
		memcpy(y, name + n - 8, 8);
	} else if (n >= 4) {
		memcpy(&a, name, 4);
		memcpy(&b, name + n - 4, 4);
		*x = a;
		*y = b;
	} else {
		*x = name[0] | (uint64_t)name[n / 2] << 8 | (uint64_t)name[n - 1] << 16;
		*y = 0;
	}
}

int desens_slot_find(struct desens *d, const uint8_t *name, size_t n)
{
	uint64_t x, y;
	unsigned h0, h = 0;

	/* the same bytes in the same encoding always find the same slot */
	if (!n || n > DESENS_MEMO_LEN)
		return slot_find_raw(d, name, n);
	memo_words(name, n, &x, &y);
	h0 = (unsigned)((((x * 0x9E3779B97F4A7C15ULL) ^ y ^ n) * 0xBF58476D1CE4E5B9ULL) >> 59);
	/* four places a name may stand: a file's dozen keys fit without evicting each other */
	for (unsigned k = 0; k < DESENS_MEMO_WAYS; k++) {
		h = (h0 + k) % DESENS_MEMO;
		if (d->memo[h].n == n && d->memo[h].x == x && d->memo[h].y == y &&
		    (n <= 16 || !memcmp(d->memo[h].b, name, n)))
			return d->memo[h].slot;
		if (!d->memo[h].n)
			break;
	}
	if (d->memo[h].n)
		h = h0 % DESENS_MEMO;
	d->memo[h].slot = slot_find_raw(d, name, n);
	d->memo[h].n = (uint8_t)n;
	d->memo[h].x = x;
	d->memo[h].y = y;
	memcpy(d->memo[h].b, name, n);
	return d->memo[h].slot;
}

void desens_vals_reset(struct desens *d)
{
	for (size_t i = 0; i < d->nslots; i++) {
		d->vals[i].set = false;
		d->vals[i].normed = 0;
	}
	strbuf_reset(&d->vnorm);
}

/* The form f of slot's value in the current record; false when it has none. */
static bool val_norm(struct desens *d, int slot, enum nfc_form f,
		     const uint8_t **p, size_t *n)
{
	struct desens_val *v = &d->vals[slot];

	if (!v->set)
		return false;
	if (!(v->normed & (1u << f))) {
		size_t start = d->vnorm.len;

		if (norm_text(d, v->p, v->n, f, &d->vnorm)) {
			strbuf_setlen(&d->vnorm, start);
			return false;
		}
		v->noff[f] = start;
		v->nlen[f] = d->vnorm.len - start;
		v->normed |= (uint8_t)(1u << f);
	}
	*p = (const uint8_t *)d->vnorm.buf + v->noff[f];
	*n = v->nlen[f];
	return true;
}

static bool filter_eval(struct desens *d, const struct desens_filter *f)
{
	const uint8_t *vp;
	size_t vn;

	switch (f->op) {
	case ROW_ALL:
		for (size_t i = 0; i < f->nsubs; i++)
			if (!filter_eval(d, &f->subs[i]))
				return false;
		return true;
	case ROW_ANY:
		for (size_t i = 0; i < f->nsubs; i++)
			if (filter_eval(d, &f->subs[i]))
				return true;
		return false;
	default:
		break;
	}
	/* fail closed: a comparison with a missing value is false, ne included */
	if (!val_norm(d, f->slot, f->op == ROW_NE ? NFC_KC : NFC_C, &vp, &vn))
		return false;
	for (size_t i = 0; i < f->nvalues; i++) {
		const struct desens_bytes *b = &f->values[i];

		switch (f->op) {
		case ROW_EQ:
		case ROW_IN:
			if (vn == b->n && !memcmp(vp, b->p, b->n))
				return true;
			break;
		case ROW_NE:
			return !(vn == b->n && !memcmp(vp, b->p, b->n));
		case ROW_PREFIX:
			if (vn >= b->n && !memcmp(vp, b->p, b->n))
				return true;
			break;
		default:
			return false;
		}
	}
	return false;
}

bool desens_row_passes(struct desens *d)
{
	return !d->filter || filter_eval(d, d->filter);
}

/* Normalizes the UTF-8 text of the rules into a new string *out. */
static int norm_rule_text(const char *text, enum nfc_form f, uint8_t **out, size_t *n)
{
	struct strbuf sb = STRBUF_INIT;

	if (nfc_append((const uint8_t *)text, strlen(text), f, true, &sb)) {
		strbuf_release(&sb);
		return -EINVAL;
	}
	*out = (uint8_t *)strbuf_detach(&sb, n);
	return 0;
}

static int slot_add(struct desens *d, const char *name, struct perr *e)
{
	struct desens_slot *s;
	uint8_t *norm;
	size_t n;

	d->slots = xreallocarray(d->slots, d->nslots + 1, sizeof(*d->slots));
	s = &d->slots[d->nslots];
	memset(s, 0, sizeof(*s));
	if (norm_rule_text(name, NFC_C, &norm, &n))
		return perr_set(e, EINVAL, "field \"%s\": not valid utf-8", name);
	s->label = xstrdup(name);
	s->name = norm;
	s->namelen = n;
	d->nslots++;
	return 0;
}

/* The slot of a name in the rules (UTF-8), or -1; -EINVAL when not UTF-8. */
static int slot_lookup(const struct desens *d, const char *name)
{
	uint8_t *norm;
	size_t n;
	int s;

	if (norm_rule_text(name, NFC_C, &norm, &n))
		return -EINVAL;
	s = slot_find_norm(d, norm, n);
	free(norm);
	return s;
}

static int compile_fields(struct desens *d, const struct view_rules *r,
			  struct perr *e)
{
	for (size_t i = 0; i < r->nfields; i++) {
		const struct view_field *f = &r->fields[i];
		int ret;

		if (!f->name)
			return perr_set(e, EINVAL, "fields[%zu]: no name", i);
		if ((unsigned)f->mask.kind > MASK_DROP)
			return perr_set(e, EINVAL, "field \"%s\": unknown mask kind %d",
					f->name, (int)f->mask.kind);
		if (f->mask.kind == MASK_KEEP &&
		    (f->mask.keep_first < 0 || f->mask.keep_last < 0))
			return perr_set(e, EINVAL, "field \"%s\": negative keep count",
					f->name);
		if (f->mask.kind == MASK_HASH && !d->keylen)
			return perr_set(e, EINVAL,
					"field \"%s\": the hash mask needs the store's key",
					f->name);
		ret = slot_lookup(d, f->name);
		if (ret == -EINVAL)
			return perr_set(e, EINVAL, "field \"%s\": not valid utf-8", f->name);
		/* names equal once normalized are the same field */
		if (ret >= 0)
			return perr_set(e, EINVAL, "field \"%s\" listed twice", f->name);
		ret = slot_add(d, f->name, e);
		if (ret)
			return ret;
		d->slots[d->nslots - 1].mask = f->mask;
		d->slots[d->nslots - 1].listed = true;
	}
	return 0;
}

static void filter_release(struct desens_filter *f)
{
	for (size_t i = 0; i < f->nvalues; i++)
		free(f->values[i].p);
	free(f->values);
	for (size_t i = 0; i < f->nsubs; i++)
		filter_release(&f->subs[i]);
	free(f->subs);
}

static int compile_filter(struct desens *d, const struct row_filter *rf,
			  struct desens_filter *f, int depth, struct perr *e)
{
	int ret;

	memset(f, 0, sizeof(*f));
	f->op = rf->op;
	f->slot = -1;
	if (depth > FILTER_DEPTH_MAX)
		return perr_set(e, EINVAL, "row filter nested deeper than %d",
				FILTER_DEPTH_MAX);
	if (rf->op == ROW_ALL || rf->op == ROW_ANY) {
		if (rf->nsubs && !rf->subs)
			return perr_set(e, EINVAL, "row filter: missing terms");
		f->subs = xcalloc(rf->nsubs, sizeof(*f->subs));
		for (size_t i = 0; i < rf->nsubs; i++) {
			f->nsubs = i + 1;
			ret = compile_filter(d, &rf->subs[i], &f->subs[i], depth + 1, e);
			if (ret)
				return ret;
		}
		return 0;
	}
	if ((unsigned)rf->op > ROW_ANY || !rf->field)
		return perr_set(e, EINVAL, "row filter: bad term");
	if (!rf->nvalues || !rf->values ||
	    (rf->op != ROW_IN && rf->nvalues != 1))
		return perr_set(e, EINVAL, "row filter on \"%s\": wrong number of values",
				rf->field);
	f->slot = slot_lookup(d, rf->field);
	if (f->slot == -EINVAL)
		return perr_set(e, EINVAL, "row filter on \"%s\": not valid utf-8",
				rf->field);
	if (f->slot < 0) {
		ret = slot_add(d, rf->field, e);
		if (ret)
			return ret;
		f->slot = (int)d->nslots - 1;
	}
	d->slots[f->slot].filtered = true;
	f->values = xcalloc(rf->nvalues, sizeof(*f->values));
	for (size_t i = 0; i < rf->nvalues; i++) {
		if (!rf->values[i])
			return perr_set(e, EINVAL, "row filter on \"%s\": null value",
					rf->field);
		f->nvalues = i + 1;
		if (norm_rule_text(rf->values[i], rf->op == ROW_NE ? NFC_KC : NFC_C,
				   &f->values[i].p, &f->values[i].n))
			return perr_set(e, EINVAL, "row filter on \"%s\": value not valid utf-8",
					rf->field);
	}
	return 0;
}

/* The encoding is known: names found in the file can be compared, the format starts. */
static int start(struct desens *d, struct perr *e)
{
	int ret;

	/* fail closed: without it no GB18030 name could match a masked field */
	if (d->enc == TEXT_GB18030 && text_conv_new(TEXT_GB18030, TEXT_UTF8, &d->to_utf8))
		return perr_set(e, EIO, "no gb18030 converter on this system");
	ret = mask_ctx_new(d->enc, d->key, d->keylen, &d->mc);
	if (ret)
		return ret;
	OPENSSL_cleanse(d->key, d->keylen);
	ret = d->fmt->init(d, e);
	if (ret)
		return ret;
	d->state = ST_RUN;
	return 0;
}

int desens_new(const struct view_rules *r, const uint8_t *key, size_t keylen,
	       struct desens **out, struct perr *e)
{
	struct desens *d;
	int ret;

	*out = NULL;
	if ((unsigned)r->format >= sizeof(formats) / sizeof(formats[0]) ||
	    !formats[r->format])
		/* fail closed: never raw bytes when rules exist */
		return perr_set(e, EIO, "this file format cannot be desensitized "
				"(csv, tsv, json lines and json only)");
	d = xcalloc(1, sizeof(*d));
	d->fmt = formats[r->format];
	d->drop_unlisted = r->drop_unlisted;
	d->line = 1;
	strbuf_init(&d->pending, 0);
	strbuf_init(&d->mbuf, 0);
	strbuf_init(&d->scratch, 0);
	strbuf_init(&d->vnorm, 0);
	strbuf_init(&d->knorm, 0);
	strbuf_init(&d->conv, 0);
	if (text_enc_parse(r->encoding, &d->enc)) {
		ret = perr_set(e, EINVAL, "unknown encoding \"%s\"", r->encoding);
		goto err_out;
	}
	if (key && keylen) {
		d->key = xmalloc(keylen);
		memcpy(d->key, key, keylen);
		d->keylen = keylen;
	}
	ret = compile_fields(d, r, e);
	if (ret)
		goto err_out;
	if (r->rows) {
		d->filter = xcalloc(1, sizeof(*d->filter));
		ret = compile_filter(d, r->rows, d->filter, 0, e);
		if (ret)
			goto err_out;
	}
	d->vals = xcalloc(d->nslots, sizeof(*d->vals));
	*out = d;

	return 0;

err_out:
	desens_free(d);
	return ret;
}

void desens_free(struct desens *d)
{
	if (!d)
		return;
	if (d->fs && d->fmt->release)
		d->fmt->release(d);
	for (size_t i = 0; i < d->nslots; i++) {
		free(d->slots[i].label);
		free(d->slots[i].name);
	}
	free(d->slots);
	if (d->filter) {
		filter_release(d->filter);
		free(d->filter);
	}
	free(d->vals);
	mask_ctx_free(d->mc);
	if (d->key) {
		OPENSSL_cleanse(d->key, d->keylen);
		free(d->key);
	}
	strbuf_release(&d->pending);
	strbuf_release(&d->mbuf);
	strbuf_release(&d->scratch);
	strbuf_release(&d->vnorm);
	strbuf_release(&d->knorm);
	strbuf_release(&d->conv);
	text_conv_free(d->to_utf8);
	free(d);
}

void desens_counts(const struct desens *d, uint64_t *in, uint64_t *out)
{
	if (in)
		*in = d->nin;
	if (out)
		*out = d->nout;
}

/* Remembers the first error (the message is already in d->perr) and hands it out. */
static int fail(struct desens *d, int ret, struct perr *e)
{
	if (!d->err) {
		d->err = ret ? ret : -EIO;
		if (!d->perr.code)
			perr_set(&d->perr, -d->err, "%s", perr_msg(NULL, d->err));
	}
	if (e && !e->code)
		*e = d->perr;
	return d->err;
}

bool desens_starts_bom(const uint8_t *p, size_t n)
{
	return (n >= sizeof(bom_utf8) && !memcmp(p, bom_utf8, sizeof(bom_utf8))) ||
	       (n >= sizeof(bom_gb18030) && !memcmp(p, bom_gb18030, sizeof(bom_gb18030)));
}

static bool prefix_of(const uint8_t *p, size_t n, const uint8_t *bom, size_t bl)
{
	return n <= bl && !memcmp(p, bom, n);
}

/*
 * Holds back the first bytes until a BOM is ruled in or out. A BOM is kept
 * in the output and decides the encoding over the rules' own.
 * Returns 1 while undecided, 0 once started, or an error.
 */
static int prologue(struct desens *d, const uint8_t **p, size_t *len, bool eof,
		    struct strbuf *out, struct perr *e)
{
	size_t take, skip = 0;
	const uint8_t *h;
	size_t hl;

	take = sizeof(bom_gb18030) - d->pending.len;
	if (take > *len)
		take = *len;
	if (take) {
		strbuf_add(&d->pending, *p, take);
		*p += take;
		*len -= take;
	}
	h = (const uint8_t *)d->pending.buf;
	hl = d->pending.len;
	if (!eof && hl < sizeof(bom_gb18030) &&
	    (prefix_of(h, hl, bom_utf8, sizeof(bom_utf8)) ||
	     prefix_of(h, hl, bom_gb18030, sizeof(bom_gb18030))))
		return 1;
	if (hl >= sizeof(bom_utf8) && !memcmp(h, bom_utf8, sizeof(bom_utf8))) {
		d->enc = TEXT_UTF8;
		skip = sizeof(bom_utf8);
	} else if (hl >= sizeof(bom_gb18030) &&
		   !memcmp(h, bom_gb18030, sizeof(bom_gb18030))) {
		d->enc = TEXT_GB18030;
		skip = sizeof(bom_gb18030);
	}
	strbuf_add(out, h, skip);
	memmove(d->pending.buf, d->pending.buf + skip, hl - skip);
	strbuf_setlen(&d->pending, hl - skip);
	d->base = skip;
	return start(d, e);
}

/*
 * Runs the format over the caller's bytes, going through pending only for
 * a record that straddles feeds, and only until that record is whole.
 */
static int pump(struct desens *d, const uint8_t *p, size_t len,
		struct strbuf *out, struct perr *e)
{
	size_t used, old, take, step;
	int ret;

	while (len) {
		if (!d->pending.len) {
			ret = d->fmt->run(d, p, len, false, &used, out, e);
			if (ret)
				return ret;
			strbuf_add(&d->pending, p + used, len - used);
			return 0;
		}
		old = d->pending.len;
		step = old > PUMP_STEP ? old : PUMP_STEP;
		take = len < step ? len : step;
		strbuf_add(&d->pending, p, take);
		p += take;
		len -= take;
		ret = d->fmt->run(d, (const uint8_t *)d->pending.buf, d->pending.len,
				  false, &used, out, e);
		if (ret)
			return ret;
		if (used >= old) {
			/* what is left came from p: read it there again */
			size_t back = d->pending.len - used;

			p -= back;
			len += back;
			strbuf_reset(&d->pending);
		} else if (used) {
			memmove(d->pending.buf, d->pending.buf + used,
				d->pending.len - used);
			strbuf_setlen(&d->pending, d->pending.len - used);
		}
	}
	return 0;
}

int desens_feed(struct desens *d, const void *in, size_t len,
		struct strbuf *out, struct perr *e)
{
	const uint8_t *p = in;
	int ret;

	if (d->err)
		return fail(d, d->err, e);
	if (d->state == ST_DONE)
		return fail(d, perr_set(&d->perr, EINVAL, "input fed after its end"), e);
	if (d->state == ST_START) {
		ret = prologue(d, &p, &len, false, out, &d->perr);
		if (ret < 0)
			return fail(d, ret, e);
		if (ret > 0)
			return 0;
	}
	ret = pump(d, p, len, out, &d->perr);
	return ret ? fail(d, ret, e) : 0;
}

/*
 * Runs the format over all that is pending as at the end of the input.
 * A rest it leaves is the caller's error: at a cut, the cut fell inside a
 * record; at the end, a format that did not consume its final input.
 */
static int run_pending(struct desens *d, struct strbuf *out, bool at_cut)
{
	size_t used = 0;
	int ret;

	ret = d->fmt->run(d, (const uint8_t *)d->pending.buf, d->pending.len, true,
			  &used, out, &d->perr);
	if (ret)
		return ret;
	if (used != d->pending.len) {
		if (at_cut)
			return perr_set(&d->perr, EIO, "segment cut inside a record at "
					"byte %llu", (unsigned long long)d->base);
		return perr_set(&d->perr, EIO, "internal error: %zu bytes left at end",
				d->pending.len - used);
	}
	strbuf_reset(&d->pending);
	return 0;
}

int desens_finish(struct desens *d, struct strbuf *out, struct perr *e)
{
	const uint8_t *p = NULL;
	size_t len = 0;
	int ret;

	if (d->err)
		return fail(d, d->err, e);
	if (d->state == ST_DONE)
		return 0;
	if (d->state == ST_START) {
		ret = prologue(d, &p, &len, true, out, &d->perr);
		if (ret)
			return fail(d, ret, e);
	}
	ret = run_pending(d, out, false);
	if (ret)
		return fail(d, ret, e);
	d->state = ST_DONE;
	return 0;
}

/* ---- cutting at record boundaries (desens_cut.h) ---- */

bool desens_cuttable(const struct desens *d)
{
	return d->fmt->cuttable;
}

int desens_body(const struct desens *d, uint64_t *off)
{
	if (!d->body_known)
		return 0;
	*off = d->body;
	return 1;
}

void desens_at(const struct desens *d, uint64_t *off, uint64_t *line)
{
	*off = d->base;
	*line = d->line;
}

int desens_cut(struct desens *d, struct strbuf *out, struct perr *e)
{
	const uint8_t *p = NULL;
	size_t len = 0;
	int ret;

	if (d->err)
		return fail(d, d->err, e);
	if (d->state == ST_DONE)
		return fail(d, perr_set(&d->perr, EINVAL, "input cut after its end"), e);
	if (d->state == ST_START) {
		ret = prologue(d, &p, &len, true, out, &d->perr);
		if (ret)
			return fail(d, ret, e);
	}
	if (!d->fmt->cuttable)
		return fail(d, perr_set(&d->perr, EIO, "a %s view cannot be cut into "
					"segments", d->fmt->name), e);
	ret = run_pending(d, out, true);
	return ret ? fail(d, ret, e) : 0;
}

int desens_resume(struct desens *d, uint64_t off, uint64_t line)
{
	if (d->err || d->state != ST_RUN || d->pending.len)
		return -EINVAL;
	d->base = off;
	d->line = line;
	return 0;
}
