/*
 * policy/desens/csv_scan.c - the records and fields of CSV (RFC 4180) and
 * TSV, found for fmt_csv.c (csv_scan.h).
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
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "common/alloc.h"
#include "policy/desens/csv_scan.h"

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

size_t csv_count_lines(const uint8_t *p, size_t n)
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
		return desens_bad(d, e, d->line + csv_count_lines(buf, pos), d->base + pos,
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

int csv_scan(struct desens *d, struct csv *c, const uint8_t *buf, size_t len,
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
				return desens_bad(d, e, d->line + csv_count_lines(buf, c->pos),
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
					return desens_bad(d, e, d->line + csv_count_lines(buf, c->pos),
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
			return desens_bad(d, e, d->line + csv_count_lines(buf, c->pos),
					  d->base + c->pos,
					  "unexpected character after a closing quote");
		default:
			return -EIO;
		}
	}
}
