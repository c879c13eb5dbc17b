/*
 * policy/desens/fmt_csv.c - CSV (RFC 4180) and TSV records for the engine.
 *
 * A field left as it is goes out byte for byte, quotes included; a masked
 * field is unquoted, masked, and quoted again only when it needs to be.
 * Line ends are kept per record.
 *
 * Record and field boundaries are the ones mainstream readers (Python's
 * csv, pandas, LibreOffice, Excel) share; where they disagree the input is
 * refused, since a boundary the engine does not see is a value it does
 * not mask:
 * - LF, CRLF and a lone CR all end a record outside quotes (Python with
 *   newline='', pandas and Excel read old Mac files so);
 * - a quote opens a quoted field only as its first byte; inside an
 *   unquoted field it is text, except after nothing but spaces, which
 *   LibreOffice skips to read a quoted field (refused);
 * - after a closing quote only a delimiter, a line end or the end may
 *   follow (refused otherwise: readers glue or split differently);
 * - the header is the first line; a blank first line or "sep=" is refused;
 * - an empty line between records passes through; any other record whose
 *   field count differs from the header's is an error (its columns cannot
 *   be matched to names).
 *
 * TSV has two conventions, quotes as text (cut, awk, PostgreSQL COPY) and
 * Excel's tab dialect (quotes as in CSV, CR a line end). Only what both
 * read alike is accepted: a field that starts with a quote (after spaces
 * or not) and a CR not followed by LF are refused, so a quote is always
 * text, and a masked value is written unquoted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "common/alloc.h"
#include "policy/desens/desens_fmt.h"
#include "policy/desens/mask_keep.h"

enum col_action { COL_RAW, COL_MASK, COL_DROP };

/* Scan states of a record being read. */
enum { CS_FRESH, CS_FIELD, CS_UNQUOTED, CS_QUOTED, CS_QUOTE_SEEN };

struct csv_field {
	size_t off, len;		/* raw bytes, quotes included */
	uint8_t quoted, dq;		/* dq: holds a doubled quote */
};

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

struct csv {
	uint8_t delim;
	bool header_done;
	bool special[256];		/* the delimiter, quote, CR and LF */
	uint8_t vdelim[16];		/* the delimiter 16 times, for split_fast() */
	size_t ncols, nmasked, nkept;
	uint8_t *action;		/* by column */
	size_t *run_end;		/* by column: the last of the kept raw columns from it on */
	bool *own;			/* by column: masked with a mask_own_bytes() kind */
	int *slot;			/* by column: slot or -1 */
	int *scol;			/* by slot: the column of that field, or -1 */
	/* the columns a row is written from, in order (plan_header) */
	struct csv_op *ops;
	size_t nops;
	/* the input of this run known to be valid text, up to here (or NULL) */
	const uint8_t *text_ok;
	/* the record being read, offsets from its first byte */
	bool fast;			/* read by split_fast(): one line, no CR inside */
	int st;
	size_t pos, fstart;
	uint8_t fq, fdq;
	struct csv_field *f;
	size_t nf, fcap;
};

static inline void field_push(struct csv *c, size_t off, size_t end)
{
	ALLOC_GROW(c->f, c->nf + 1, c->fcap);
	c->f[c->nf].off = off;
	c->f[c->nf].len = end - off;
	c->f[c->nf].quoted = c->fq;
	c->f[c->nf].dq = c->fdq;
	c->nf++;
	c->fq = c->fdq = 0;
}

/*
 * Bit k of *dm set when p[k] (k < n, k < 32) is the delimiter, of *om when
 * it is a quote, a CR or an LF.
 */
static inline void special_tail(const struct csv *c, const uint8_t *p, size_t n,
				uint32_t *dm, uint32_t *om)
{
	*dm = *om = 0;
	for (size_t k = 0; k < n && k < 32; k++) {
		*dm |= (uint32_t)(p[k] == c->delim) << k;
		*om |= (uint32_t)(p[k] != c->delim && c->special[p[k]]) << k;
	}
}

/*
 * Reads the record at p[0..len) when it is one line ending in LF or CRLF,
 * holds no other CR, and quotes only whole fields that close on the line
 * (in TSV: no quote at all). Returns true with the fields, *reclen and
 * *term; false, with no field kept, for any other record, which the
 * byte-wise state machine then reads (or refuses).
 *
 * One pass of 32 bytes at a time over the delimiters, quotes, CRs and LFs
 * alone: a memchr() per field cost a tenth of a masked read, its set-up
 * more than its scan on fields this short, and a byte loop over a record
 * with one quoted field cost five times the pass. A quote inside a quoted
 * field closes it; one right after a closing quote opens it again (a
 * doubled quote); anything but a delimiter or line end right after a
 * closing quote goes to the byte-wise reader.
 */
static bool split_fast(struct csv *c, const uint8_t *p, size_t len, size_t *reclen,
		       size_t *term)
{
	struct csv_field *f = c->f;
	size_t nf = 0, cap = c->fcap, start = 0, closed = 0, t = 0, i = 0;
	const uint8_t delim = c->delim;
	const bool quotes = delim != '\t';
	uint8_t inq = 0, fq = 0, dq = 0, b;
	uint32_t m, dm, om;
#ifdef __SSE2__
	/* not _mm_set1_epi8(delim): a byte stored and read back as a word stalled every record */
	const __m128i vd = _mm_loadu_si128((const __m128i *)c->vdelim), vq = _mm_set1_epi8('"'),
		      vr = _mm_set1_epi8('\r'), vn = _mm_set1_epi8('\n');
#endif

	/* a record too long is left to the byte-wise reader, which refuses it */
	for (; i < len && i <= DESENS_RECORD_MAX; i += 32) {
		/* room for a field per byte of the block: no check per field */
		if (nf + 32 > cap) {
			ALLOC_GROW(c->f, nf + 32, c->fcap);
			f = c->f;
			cap = c->fcap;
		}
#ifdef __SSE2__
		/* two 16-byte halves: the set-up and the loop cost less per byte than one */
		if (i + 32 <= len) {
			__m128i x = _mm_loadu_si128((const __m128i *)(p + i)),
				y = _mm_loadu_si128((const __m128i *)(p + i + 16));

			dm = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vd)) |
			     (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(y, vd)) << 16;
			om = (uint32_t)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, vq),
				_mm_or_si128(_mm_cmpeq_epi8(x, vr), _mm_cmpeq_epi8(x, vn)))) |
			     (uint32_t)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(y, vq),
				_mm_or_si128(_mm_cmpeq_epi8(y, vr), _mm_cmpeq_epi8(y, vn)))) << 16;
		} else
#endif
			special_tail(c, p + i, len - i, &dm, &om);
		m = dm | om;
		/* outside quotes, the delimiters before the block's first quote, CR or LF */
		if (!(inq | fq)) {
			uint32_t plain = om ? dm & ((om & -om) - 1) : dm;

			for (m &= ~plain; plain; plain &= plain - 1) {
				size_t q = i + (size_t)__builtin_ctz(plain);

				f[nf].off = start;
				f[nf].len = q - start;
				f[nf].quoted = f[nf].dq = 0;
				nf++;
				start = q + 1;
			}
		}
		for (; m; m &= m - 1) {
			size_t q = i + (size_t)__builtin_ctz(m);

			b = p[q];
			if (inq) {
				if (b == '"') {
					inq = 0;
					closed = q;
				} else if (b != delim) {
					goto slow;	/* a line end inside quotes */
				}
				continue;
			}
			/* after a closing quote: a delimiter, a line end or a doubled quote */
			if (fq && q != closed + 1)
				goto slow;
			if (b == '"') {
				if (!quotes || (q != start && !fq))
					goto slow;
				dq |= fq;
				fq = inq = 1;
				continue;
			}
			if (b == delim)
				t = 0;
			else if (b == '\n')
				t = 1;
			else if (q + 1 < len && p[q + 1] == '\n')
				t = 2;
			else
				goto slow;	/* a lone CR, or a CR last in the buffer */
			f[nf].off = start;
			f[nf].len = q - start;
			f[nf].quoted = fq;
			f[nf].dq = dq;
			nf++;
			if (t) {
				c->nf = nf;
				*term = t;
				*reclen = q + t;
				return true;
			}
			start = q + 1;
			fq = dq = 0;
		}
	}
slow:
	c->nf = 0;
	return false;
}

/* Line ends in p[0..n): LF, CRLF and a lone CR count one each (for messages). */
static size_t count_lines(const uint8_t *p, size_t n)
{
	size_t c = 0;

	/* most records hold no CR: their line ends are their LFs */
	if (!memchr(p, '\r', n))
		return desens_count_nl(p, n);
	for (size_t i = 0; i < n; i++)
		if (p[i] == '\n' || (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n')))
			c++;
	return c;
}

/* Whether rec[from..to) holds only spaces (a field a quote may follow). */
static bool all_spaces(const uint8_t *rec, size_t from, size_t to)
{
	while (from < to && rec[from] == ' ')
		from++;
	return from == to;
}

/*
 * Ends the record at the CR or LF at buf[c->pos]: pushes its last field
 * and sets *reclen and *term. Returns 1, 0 when a CR is the last byte held
 * (its LF may follow), or -EIO for a lone CR in TSV.
 */
static int line_end(struct desens *d, struct csv *c, const uint8_t *buf,
		    size_t len, bool eof, size_t *reclen, size_t *term,
		    struct perr *e)
{
	size_t pos = c->pos;

	if (buf[pos] == '\n') {
		*term = 1;
	} else if (pos + 1 < len && buf[pos + 1] == '\n') {
		*term = 2;
	} else if (pos + 1 == len && !eof) {
		return 0;
	} else if (c->delim == '\t') {
		/* cut and awk read a lone CR as text, Excel and Python as a line end */
		return desens_bad(d, e, d->line + count_lines(buf, pos), d->base + pos,
				  "a CR that is not followed by LF (TSV readers "
				  "disagree whether it ends a line)");
	} else {
		*term = 1;
	}
	*reclen = pos + *term;
	field_push(c, c->fstart, pos);
	return 1;
}

/* The delimiter at c->pos ends the field open; the next starts after it. */
static void field_next(struct csv *c)
{
	field_push(c, c->fstart, c->pos);
	c->fstart = ++c->pos;
	c->st = CS_FIELD;
}

/*
 * The scan reached the end of the bytes held at buf[len]: at eof the
 * field open there is the record's last, with no terminator (returns 1);
 * otherwise more input is needed (returns 0).
 */
static int input_end(struct csv *c, size_t len, bool eof, size_t *reclen, size_t *term)
{
	if (!eof)
		return 0;
	field_push(c, c->fstart, len);
	*reclen = len;
	*term = 0;
	return 1;
}

/*
 * Finds the record at buf[0..len). Returns 1 with *reclen (terminator
 * included) and *term (its length: 0, 1 or 2), 0 when more input is
 * needed, or -EIO.
 */
static int scan(struct desens *d, struct csv *c, const uint8_t *buf, size_t len,
		bool eof, size_t *reclen, size_t *term, struct perr *e)
{
	const uint8_t *q;

	if (c->st == CS_FRESH) {
		c->nf = 0;
		c->pos = c->fstart = 0;
		c->fq = c->fdq = 0;
		c->fast = split_fast(c, buf, len, reclen, term);
		if (c->fast) {
			if (*reclen > DESENS_RECORD_MAX)
				return desens_too_long(d, e, d->line);
			return 1;
		}
		if (!len && eof)
			return 0;
		c->st = CS_FIELD;
	}
	for (;;) {
		if (c->pos > DESENS_RECORD_MAX)
			return desens_too_long(d, e, d->line);
		switch (c->st) {
		case CS_FIELD:
			if (c->pos == len)
				return input_end(c, len, eof, reclen, term);
			if (buf[c->pos] == '"' && c->delim == '\t')
				return desens_bad(d, e, d->line + count_lines(buf, c->pos),
						  d->base + c->pos,
						  "a TSV field starts with a quote (quote-literal "
						  "readers and Excel's tab dialect disagree)");
			if (buf[c->pos] == '"') {
				c->fq = 1;
				c->pos++;
				c->st = CS_QUOTED;
			} else {
				c->st = CS_UNQUOTED;
			}
			break;
		case CS_UNQUOTED:
			while (c->pos < len && !c->special[buf[c->pos]])
				c->pos++;
			if (c->pos == len)
				return input_end(c, len, eof, reclen, term);
			if (buf[c->pos] == '"') {
				/*
				 * A quote inside a field is text to Python, pandas and
				 * Excel, but LibreOffice skips blanks before a quote and
				 * reads a quoted field.
				 */
				if (all_spaces(buf, c->fstart, c->pos))
					return desens_bad(d, e, d->line + count_lines(buf, c->pos),
							  d->base + c->pos,
							  "a quote after leading spaces (readers "
							  "disagree whether it starts a quoted field)");
				c->pos++;
				break;
			}
			if (buf[c->pos] == c->delim) {
				field_next(c);
				break;
			}
			return line_end(d, c, buf, len, eof, reclen, term, e);
		case CS_QUOTED:
			q = memchr(buf + c->pos, '"', len - c->pos);
			if (!q) {
				c->pos = len;
				if (!eof)
					return 0;
				return desens_bad(d, e, d->line, d->base + c->fstart,
						  "quoted field not closed at end of input");
			}
			c->pos = (size_t)(q - buf) + 1;
			c->st = CS_QUOTE_SEEN;
			break;
		case CS_QUOTE_SEEN:
			if (c->pos == len)
				return input_end(c, len, eof, reclen, term);
			if (buf[c->pos] == '"') {
				c->fdq = 1;
				c->pos++;
				c->st = CS_QUOTED;
				break;
			}
			if (buf[c->pos] == c->delim) {
				field_next(c);
				break;
			}
			if (buf[c->pos] == '\n' || buf[c->pos] == '\r')
				return line_end(d, c, buf, len, eof, reclen, term, e);
			return desens_bad(d, e, d->line + count_lines(buf, c->pos),
					  d->base + c->pos,
					  "unexpected character after a closing quote");
		default:
			return -EIO;
		}
	}
}

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
		ret = scan(d, c, buf + off, len - off, eof, &reclen, &term, e);
		if (ret < 0)
			return ret;
		if (!ret)
			break;
		ret = record(d, c, buf + off, reclen, term, out, e);
		if (ret)
			return ret;
		/* a record read on the fast path holds one line end, its last */
		d->line += c->fast ? 1 : count_lines(buf + off, reclen);
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
