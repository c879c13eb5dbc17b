/*
 * policy/desens/fmt_csv.c - CSV (RFC 4180) and TSV records for the engine.
 *
 * A field left as it is goes out byte for byte, quotes included; a masked
 * field is unquoted, masked, and quoted again only when it needs to be.
 * Line ends are kept per record.
 *
 * Where records and fields end, and what is refused because readers
 * disagree, is policy/desens/csv_scan.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "policy/desens/csv_scan.h"
#include "policy/desens/desens_fmt.h"
#include "policy/desens/mask_keep.h"

enum col_action { COL_RAW, COL_MASK, COL_DROP };

/*
 * One step of writing a row: a masked column, or kept raw columns col to
 * last side by side, copied as one span of the record, delimiters and all.
 */
struct csv_op {
	size_t col, last;
	const struct mask_spec *mask;	/* NULL: raw */
	const char *label;
	bool own;			/* the mask is a mask_own_bytes() kind */
	bool keep, id_card;		/* UTF-8 keep(first, last) (mask_keep.h) */
	size_t first, last_chars;
};

/*
 * The value of field i: quotes stripped and doubled quotes undone, in
 * d->scratch when it had any (scratch is sized for the record, so earlier
 * values stay put).
 */
static inline void field_value(struct desens *d, const struct csv_field *f,
			const uint8_t *rec, const uint8_t **v, size_t *n)
{
	const uint8_t *p = rec + f->off, *end;
	uint8_t *w;

	if (!f->quoted) {
		*v = p;
		*n = f->len;
		return;
	}
	if (!f->dq) {
		*v = p + 1;
		*n = f->len - 2;
		return;
	}
	w = (uint8_t *)d->scratch.buf + d->scratch.len;
	*v = w;
	end = p + f->len - 1;
	for (p++; p < end; p++) {
		*w++ = *p;
		if (*p == '"')
			p++;
	}
	*n = (size_t)(w - *v);
	d->scratch.len += *n;
}

static bool needs_quotes(const struct csv *c, const uint8_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (c->special[v[i]])
			return true;
	return false;
}

static uint8_t *put_quoted(uint8_t *w, const uint8_t *v, size_t n)
{
	*w++ = '"';
	for (size_t i = 0; i < n; i++) {
		*w++ = v[i];
		if (v[i] == '"')
			*w++ = '"';
	}
	*w++ = '"';
	return w;
}

static int plan_header(struct desens *d, struct csv *c, const uint8_t *rec,
		       struct perr *e)
{
	c->ncols = c->nf;
	c->action = xcalloc(c->ncols, 1);
	c->slot = xcalloc(c->ncols, sizeof(*c->slot));
	for (size_t s = 0; s < d->nslots; s++)
		c->scol[s] = -1;
	for (size_t i = 0; i < c->ncols; i++) {
		const uint8_t *v;
		size_t n;
		int s;

		field_value(d, &c->f[i], rec, &v, &n);
		s = desens_slot_find(d, v, n);
		/*
		 * fail closed: of two columns that are one field once
		 * normalized, which one the rules meant is a guess, and a
		 * reader of the view may take the other for the field
		 */
		if (s >= 0 && c->scol[s] >= 0)
			return desens_bad(d, e, d->line, d->base,
					  "the field \"%s\" appears twice in the header",
					  d->slots[s].label);
		if (s >= 0)
			c->scol[s] = (int)i;
		c->slot[i] = s;
		if (s < 0 || !d->slots[s].listed) {
			c->action[i] = d->drop_unlisted ? COL_DROP : COL_RAW;
		} else if (d->slots[s].mask.kind == MASK_DROP) {
			c->action[i] = COL_DROP;
		} else if (d->slots[s].mask.kind == MASK_NONE) {
			c->action[i] = COL_RAW;
		} else {
			c->action[i] = COL_MASK;
			c->nmasked++;
		}
	}
	c->run_end = xcalloc(c->ncols, sizeof(*c->run_end));
	c->own = xcalloc(c->ncols, sizeof(*c->own));
	for (size_t i = 0; i < c->ncols; i++)
		c->own[i] = c->action[i] == COL_MASK &&
			    mask_own_bytes(d->slots[c->slot[i]].mask.kind);
	for (size_t i = c->ncols; i--;)
		c->run_end[i] = i + 1 < c->ncols && c->action[i] == COL_RAW &&
				c->action[i + 1] == COL_RAW ? c->run_end[i + 1] : i;
	c->ops = xcalloc(c->ncols, sizeof(*c->ops));
	for (size_t i = 0; i < c->ncols; i++) {
		struct csv_op *op = &c->ops[c->nops];

		if (c->action[i] == COL_DROP)
			continue;
		c->nops++;
		op->col = i;
		op->last = i;
		if (c->action[i] == COL_RAW) {
			op->last = c->run_end[i];
			i = op->last;
			continue;
		}
		op->mask = &d->slots[c->slot[i]].mask;
		op->label = d->slots[c->slot[i]].label;
		op->own = c->own[i];
		op->keep = d->enc == TEXT_UTF8 &&
			   mask_keep_shape(op->mask, &op->first, &op->last_chars, &op->id_card);
	}
	for (size_t s = 0; s < d->nslots; s++) {
		const struct desens_slot *sl = &d->slots[s];

		if (!sl->filtered && (sl->mask.kind == MASK_NONE ||
				      sl->mask.kind == MASK_DROP))
			continue;
		/* fail closed: a rule we cannot place may be meant for data we cannot see */
		if (c->scol[s] < 0)
			return desens_bad(d, e, d->line, d->base,
					  "field \"%s\" is not in the header", sl->label);
	}
	return 0;
}

/*
 * The first record is the header only if every reader takes it as one:
 * pandas skips blank and blank-looking lines to find it, and Excel reads
 * a first line "sep=X" as the delimiter, not as a row.
 */
static int header_check(struct desens *d, struct csv *c, const uint8_t *rec,
			size_t n, struct perr *e)
{
	size_t i = 0;

	if (n >= 4 && !strncasecmp((const char *)rec, "sep=", 4))
		return desens_bad(d, e, d->line, d->base,
				  "a first line \"sep=\" (Excel reads it as the delimiter)");
	if (c->nf == 1 && !c->f[0].quoted) {
		while (i < n && (rec[i] == ' ' || rec[i] == '\t'))
			i++;
		if (i == n)
			return desens_bad(d, e, d->line, d->base,
					  "a blank line before the header (readers "
					  "disagree which line is the header)");
	}
	return 0;
}

/*
 * The header without its dropped columns. Fails when what is left would
 * not read as a header (blank, or Excel's "sep=" line): the view must be
 * read as the engine wrote it.
 */
static int emit_header(struct desens *d, struct csv *c, const uint8_t *rec,
		       size_t reclen, size_t term, struct strbuf *out, struct perr *e)
{
	size_t start = out->len, n, i = 0;
	const uint8_t *h;
	bool first = true;

	strbuf_grow(out, reclen);
	for (size_t k = 0; k < c->ncols; k++) {
		if (c->action[k] == COL_DROP)
			continue;
		if (!first)
			strbuf_addch(out, c->delim);
		strbuf_add(out, rec + c->f[k].off, c->f[k].len);
		first = false;
	}
	h = (const uint8_t *)out->buf + start;
	n = out->len - start;
	while (i < n && (h[i] == ' ' || h[i] == '\t'))
		i++;
	if (i == n || (n >= 4 && !strncasecmp((const char *)h, "sep=", 4)))
		return desens_bad(d, e, d->line, d->base,
				  "the header without its removed columns would read "
				  "as %s", i == n ? "a blank line" : "a \"sep=\" line");
	/* at the start of a view without a BOM, a name's U+FEFF would be taken for one */
	if (!d->base && desens_starts_bom(h, n))
		return desens_bad(d, e, d->line, d->base,
				  "the header without its removed columns would start "
				  "with a byte order mark");
	strbuf_add(out, rec + reclen - term, term);
	return 0;
}

static int emit_row(struct desens *d, struct csv *c, const uint8_t *rec,
		    size_t reclen, size_t term, struct strbuf *out, struct perr *e)
{
	size_t room = 2 * reclen + c->nmasked * (2 * MASK_OUT_MAX(0) + 2) + 4;
	uint8_t *w, *w0;
	int ret;

	if (room >= out->alloc - out->len)
		strbuf_grow(out, room);
	w0 = w = (uint8_t *)out->buf + out->len;
	for (size_t k = 0; k < c->nops; k++) {
		const struct csv_op *op = &c->ops[k];
		const struct csv_field *f = &c->f[op->col];
		const uint8_t *v;
		size_t n, mn;

		if (k)
			*w++ = c->delim;
		if (!op->mask) {
			const struct csv_field *l = &c->f[op->last];

			n = l->off + l->len - f->off;
			memcpy(w, rec + f->off, n);
			w += n;
			continue;
		}
		field_value(d, f, rec, &v, &n);
		/* straight into the output: quotes, when it needs them, are rare */
		if (op->keep && n) {
			mn = mask_keep_utf8(v, n, op->first, op->last_chars, op->id_card, w);
			ret = 0;
		} else {
			ret = mask_apply_valid(d->mc, op->mask, v, n, w, &mn);
		}
		if (ret)
			return desens_bad(d, e, d->line, d->base + f->off,
					  "field \"%s\": cannot mask (%s)",
					  op->label, perr_msg(NULL, ret));
		/* TSV has no quoting every reader shares: values go out as they are */
		if (c->delim == '\t') {
			if (memchr(w, '\t', mn) || memchr(w, '\n', mn) || memchr(w, '\r', mn))
				return desens_bad(d, e, d->line, d->base + f->off,
						  "field \"%s\": masked value holds a tab or line end",
						  op->label);
			w += mn;
			continue;
		}
		/* a field split_fast() read unquoted held no byte that needs quotes */
		if ((c->fast && !f->quoted && op->own) || !needs_quotes(c, w, mn)) {
			w += mn;
			continue;
		}
		strbuf_grow(&d->mbuf, mn);
		memcpy(d->mbuf.buf, w, mn);
		w = put_quoted(w, (const uint8_t *)d->mbuf.buf, mn);
	}
	/*
	 * A record of one empty value is no blank line: Python's csv and
	 * pandas would skip it (a blank line of the input, which they skip
	 * too, stays blank). CSV quotes it; TSV has no spelling every reader
	 * reads as a record ("" is two quotes to cut and awk), so it is refused.
	 */
	if (w == w0 && c->nops && reclen > term) {
		if (c->delim == '\t')
			return desens_bad(d, e, d->line, d->base,
					  "a record left with one empty value (TSV cannot write "
					  "it so that every reader reads a record)");
		*w++ = '"';
		*w++ = '"';
	}
	for (size_t k = reclen - term; k < reclen; k++)
		*w++ = rec[k];
	strbuf_setlen(out, out->len + (size_t)(w - w0));
	return 0;
}

static int record(struct desens *d, struct csv *c, const uint8_t *rec,
		  size_t reclen, size_t term, struct strbuf *out, struct perr *e)
{
	int ret;

	if (rec + reclen > c->text_ok) {
		ret = desens_check_text(d, e, rec, reclen, d->line, d->base);
		if (ret)
			return ret;
	}
	/* room for every value unescaped twice (filter, then mask): no realloc mid-record */
	d->scratch.len = 0;
	if (2 * reclen + 64 >= d->scratch.alloc)
		strbuf_grow(&d->scratch, 2 * reclen + 64);
	if (!c->header_done) {
		ret = header_check(d, c, rec, reclen - term, e);
		if (ret)
			return ret;
		ret = plan_header(d, c, rec, e);
		if (ret)
			return ret;
		c->header_done = true;
		/* rows depend on nothing before them but this header */
		d->body_known = true;
		d->body = d->base + reclen;
		for (size_t i = 0; i < c->ncols; i++)
			c->nkept += c->action[i] != COL_DROP;
		/* no column left: the view is empty, not lines of nothing */
		if (!c->nkept)
			return 0;
		return emit_header(d, c, rec, reclen, term, out, e);
	}
	if (c->nf != c->ncols) {
		if (c->nf == 1 && c->f[0].len == 0) {
			if (c->nkept)
				strbuf_add(out, rec, reclen);
			return 0;
		}
		return desens_bad(d, e, d->line, d->base,
				  "record has %zu fields, the header has %zu",
				  c->nf, c->ncols);
	}
	d->nin++;
	if (d->filter) {
		desens_vals_reset(d);
		for (size_t s = 0; s < d->nslots; s++) {
			struct desens_val *v = &d->vals[s];

			if (c->scol[s] < 0 || !d->slots[s].filtered)
				continue;
			field_value(d, &c->f[c->scol[s]], rec, &v->p, &v->n);
			v->set = true;
		}
		if (!desens_row_passes(d))
			return 0;
	}
	d->nout++;
	if (!c->nkept)
		return 0;
	return emit_row(d, c, rec, reclen, term, out, e);
}

static int csv_run(struct desens *d, const uint8_t *buf, size_t len, bool eof,
		   size_t *used, struct strbuf *out, struct perr *e)
{
	struct csv *c = d->fs;
	size_t off = 0, reclen = 0, term = 0;
	int ret;

	*used = 0;
	/* on a failure each record is checked, so the first bad one is named */
	c->text_ok = desens_text_ok(d, buf, len);
	while (off < len || (eof && c->st != CS_FRESH)) {
		ret = csv_scan(d, c, buf + off, len - off, eof, &reclen, &term, e);
		if (ret < 0)
			return ret;
		if (!ret)
			break;
		ret = record(d, c, buf + off, reclen, term, out, e);
		if (ret)
			return ret;
		/* a record read on the fast path holds one line end, its last */
		d->line += c->fast ? 1 : csv_count_lines(buf + off, reclen);
		d->base += reclen;
		off += reclen;
		c->st = CS_FRESH;
	}
	*used = off;
	if (!eof && len - off > DESENS_RECORD_MAX)
		return desens_too_long(d, e, d->line);
	return 0;
}

static int init_delim(struct desens *d, uint8_t delim)
{
	struct csv *c = xcalloc(1, sizeof(*c));

	c->delim = delim;
	memset(c->vdelim, delim, sizeof(c->vdelim));
	c->special[delim] = c->special['"'] = c->special['\n'] = c->special['\r'] = true;
	c->scol = xcalloc(d->nslots, sizeof(*c->scol));
	d->fs = c;

	return 0;
}

static int csv_init(struct desens *d, struct perr *e)
{
	return init_delim(d, ',');
}

static int tsv_init(struct desens *d, struct perr *e)
{
	return init_delim(d, '\t');
}

static void csv_release(struct desens *d)
{
	struct csv *c = d->fs;

	free(c->action);
	free(c->run_end);
	free(c->own);
	free(c->ops);
	free(c->slot);
	free(c->scol);
	free(c->f);
	free(c);
	d->fs = NULL;
}

const struct desens_format desens_fmt_csv = {
	.name = "csv",
	.init = csv_init,
	.run = csv_run,
	.release = csv_release,
	.cuttable = true,
};

const struct desens_format desens_fmt_tsv = {
	.name = "tsv",
	.init = tsv_init,
	.run = csv_run,
	.release = csv_release,
	.cuttable = true,
};
