/*
 * policy/desens/json_scan.c - a strict RFC 8259 reader for the JSON formats:
 * strings, numbers, literals and whole nested values, checked but not
 * built into a tree; string unescaping and escaping.
 *
 * Strictness is a security property here: a lax reader could take keys
 * differently from the reader's own parser and let a masked key through.
 * Characters in strings are walked whole, so a GB18030 trail byte is
 * never read as '\\' or '"'.
 */
#include "policy/desens/json_scan.h"

#include <errno.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

int jscan_bad(struct jp *j, const char *what)
{
	return desens_bad(j->d, j->e, j->line + desens_count_nl(j->p, j->i),
			  j->off + j->i, "malformed JSON: %s", what);
}

static int hex4(const uint8_t *p, uint32_t *v)
{
	*v = 0;
	for (int k = 0; k < 4; k++) {
		uint8_t c = p[k];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

/* At '\\' of a \u escape; reads it (with its low surrogate) into *cp. */
static int read_u(struct jp *j, uint32_t *cp)
{
	uint32_t lo;

	if (j->i + 6 > j->n || hex4(j->p + j->i + 2, cp))
		return jscan_bad(j, "bad \\u escape");
	j->i += 6;
	if (*cp >= 0xDC00 && *cp <= 0xDFFF)
		return jscan_bad(j, "lone low surrogate");
	if (*cp < 0xD800 || *cp > 0xDBFF)
		return 0;
	if (j->i + 6 > j->n || j->p[j->i] != '\\' || j->p[j->i + 1] != 'u' ||
	    hex4(j->p + j->i + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
		return jscan_bad(j, "lone high surrogate");
	j->i += 6;
	*cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
	return 0;
}

/*
 * The first of p[i..n) that is a quote, a backslash or a control byte, or
 * n. In valid UTF-8 no byte of a multi-byte character is one of them.
 */
static size_t string_stop(const uint8_t *p, size_t i, size_t n)
{
#ifdef __SSE2__
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'),
		      ctl = _mm_set1_epi8(0x1F), zero = _mm_setzero_si128();

	for (; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(p + i));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)),
			_mm_cmpeq_epi8(_mm_subs_epu8(x, ctl), zero)));

		if (m)
			return i + (size_t)__builtin_ctz(m);
	}
#endif
	while (i < n && p[i] != '"' && p[i] != '\\' && p[i] >= 0x20)
		i++;
	return i;
}

/*
 * At the backslash j->p[j->i] of a string: checks its escape and moves
 * past it. Returns 0, or -EIO (a string that ends there is not closed).
 */
static int string_escape(struct jp *j, bool *esc)
{
	uint32_t cp;

	*esc = true;
	if (j->i + 1 >= j->n)
		return jscan_bad(j, "string not closed");
	if (j->p[j->i + 1] == 'u')
		return read_u(j, &cp);
	if (!memchr("\"\\/bfnrt", j->p[j->i + 1], 8))
		return jscan_bad(j, "bad escape");
	j->i += 2;
	return 0;
}

/*
 * jscan_string() of text known to be valid UTF-8 without NUL (j->valid):
 * only a quote, a backslash or a control byte stops it. Walking the
 * characters again was a third of a JSON Lines record's cost.
 */
static int string_valid(struct jp *j, bool *esc)
{
	int ret;

	for (;;) {
		j->i = string_stop(j->p, j->i, j->n);
		if (j->i >= j->n)
			break;
		if (j->p[j->i] == '"') {
			j->i++;
			return 0;
		}
		if (j->p[j->i] < 0x20)
			return jscan_bad(j, "control character in a string");
		ret = string_escape(j, esc);
		if (ret)
			return ret;
	}
	return jscan_bad(j, "string not closed");
}

/* At '"'; moves past the closing quote. *esc: the string holds escapes. */
int jscan_string(struct jp *j, bool *esc)
{
	enum text_enc enc = j->d->enc;
	int l, ret;

	*esc = false;
	j->i++;
	if (j->valid)
		return string_valid(j, esc);
	while (j->i < j->n) {
		uint8_t c = j->p[j->i];

		if (c == '"') {
			j->i++;
			return 0;
		}
		if (c < 0x20)
			return jscan_bad(j, c ? "control character in a string" : "NUL byte");
		if (c < 0x80 && c != '\\') {
			j->i++;
			continue;
		}
		if (c >= 0x80) {
			if (enc == TEXT_UTF8 && text_utf8_cjk3(j->p + j->i, j->n - j->i)) {
				j->i += 3;
				continue;
			}
			l = text_char_len(enc, j->p + j->i, j->n - j->i);
			if (l <= 0)
				return desens_bad(j->d, j->e,
						  j->line + desens_count_nl(j->p, j->i),
						  j->off + j->i, "invalid %s text",
						  text_enc_name(enc));
			j->i += (size_t)l;
			continue;
		}
		ret = string_escape(j, esc);
		if (ret)
			return ret;
	}
	return jscan_bad(j, "string not closed");
}

static size_t digits(struct jp *j)
{
	size_t k = 0;

	while (j->i < j->n && j->p[j->i] >= '0' && j->p[j->i] <= '9') {
		j->i++;
		k++;
	}
	return k;
}

static int jnumber(struct jp *j)
{
	if (j->i < j->n && j->p[j->i] == '-')
		j->i++;
	if (j->i < j->n && j->p[j->i] == '0')
		j->i++;
	else if (!digits(j))
		return jscan_bad(j, "bad number");
	if (j->i < j->n && j->p[j->i] == '.') {
		j->i++;
		if (!digits(j))
			return jscan_bad(j, "bad number");
	}
	if (j->i < j->n && (j->p[j->i] == 'e' || j->p[j->i] == 'E')) {
		j->i++;
		if (j->i < j->n && (j->p[j->i] == '+' || j->p[j->i] == '-'))
			j->i++;
		if (!digits(j))
			return jscan_bad(j, "bad number");
	}
	return 0;
}

static int jword(struct jp *j, const char *w)
{
	size_t l = strlen(w);

	if (j->n - j->i < l || memcmp(j->p + j->i, w, l))
		return jscan_bad(j, "unexpected character");
	j->i += l;
	return 0;
}

int jscan_scalar(struct jp *j, uint8_t *t)
{
	bool esc;

	if (j->i >= j->n)
		return jscan_bad(j, "value missing");
	switch (j->p[j->i]) {
	case '"':
		*t = J_STR;
		return jscan_string(j, &esc);
	case 't':
		*t = J_TRUE;
		return jword(j, "true");
	case 'f':
		*t = J_FALSE;
		return jword(j, "false");
	case 'n':
		*t = J_NULL;
		return jword(j, "null");
	default:
		*t = J_NUM;
		if (j->p[j->i] == '-' || (j->p[j->i] >= '0' && j->p[j->i] <= '9'))
			return jnumber(j);
		return jscan_bad(j, "unexpected character");
	}
}

/* Reads one whole value of any kind, nesting included, without recursion. */
int jscan_value(struct jp *j, uint8_t *type)
{
	uint8_t *stack = j->stack, t = J_NULL;
	int depth = 0, ret;
	bool esc;

	for (;;) {
		/* a value is expected at j->i */
		jscan_ws(j);
		if (j->i < j->n && (j->p[j->i] == '{' || j->p[j->i] == '[')) {
			uint8_t open = j->p[j->i++];

			if (!depth)
				*type = open == '{' ? J_OBJ : J_ARR;
			if (depth == JSON_DEPTH_MAX)
				return jscan_bad(j, "nested too deep");
			stack[depth++] = open;
			jscan_ws(j);
			if (j->i < j->n && j->p[j->i] == (open == '{' ? '}' : ']')) {
				j->i++;
				depth--;
			} else if (open == '{') {
				goto member;
			} else {
				continue;
			}
		} else {
			ret = jscan_scalar(j, &t);
			if (ret)
				return ret;
			if (!depth)
				*type = t;
		}
		/* a value has ended: close containers until one goes on */
		for (;;) {
			if (!depth)
				return 0;
			jscan_ws(j);
			if (j->i >= j->n)
				return jscan_bad(j, "unexpected end");
			if (j->p[j->i] == ',') {
				j->i++;
				break;
			}
			if (j->p[j->i] != (stack[depth - 1] == '{' ? '}' : ']'))
				return jscan_bad(j, "expected ',' or a closing bracket");
			j->i++;
			depth--;
		}
		if (stack[depth - 1] == '[')
			continue;
member:
		jscan_ws(j);
		if (j->i >= j->n || j->p[j->i] != '"')
			return jscan_bad(j, "expected a key");
		ret = jscan_string(j, &esc);
		if (ret)
			return ret;
		jscan_ws(j);
		if (j->i >= j->n || j->p[j->i] != ':')
			return jscan_bad(j, "expected ':'");
		j->i++;
	}
}

/* Unescapes the string p[s..e) (quotes included) into d->scratch. */
int jscan_decode(struct jp *j, size_t s, size_t e, const uint8_t **v, size_t *n)
{
	struct strbuf *sb = &j->d->scratch;
	size_t start = sb->len, i = s + 1, run, saved = j->i;
	uint32_t cp;
	int ret;

	e--;
	while (i < e) {
		for (run = i; run < e && j->p[run] != '\\'; run++)
			if (j->p[run] >= 0x80)
				run += (size_t)text_char_len(j->d->enc, j->p + run, e - run) - 1;
		strbuf_add(sb, j->p + i, run - i);
		i = run;
		if (i >= e)
			break;
		switch (j->p[i + 1]) {
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			j->i = i;
			ret = read_u(j, &cp);
			if (ret)
				return ret;
			i = j->i - 2;
			break;
		default: cp = j->p[i + 1]; break;
		}
		i += 2;
		if (j->d->enc == TEXT_GB18030 && cp >= 0x80 && !*j->to_enc) {
			ret = text_conv_new(TEXT_UTF8, TEXT_GB18030, j->to_enc);
			if (ret)
				return ret;
		}
		ret = text_put_cp(j->d->enc, *j->to_enc, cp, sb);
		if (ret)
			return jscan_bad(j, "escape with no character in the file's encoding");
	}
	*v = (const uint8_t *)sb->buf + start;
	*n = sb->len - start;
	j->i = saved;
	return 0;
}

/* Appends v[0..n) (valid text) as a JSON string. */
void jscan_put_string(enum text_enc enc, struct strbuf *out, const uint8_t *v, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t *w;

	strbuf_grow(out, 6 * n + 2);
	if (enc == TEXT_UTF8) {
		/* no byte of a UTF-8 character needs escaping: copy runs */
		w = (uint8_t *)out->buf + out->len;
		*w++ = '"';
		for (size_t i = 0, run; i < n; i++) {
			run = string_stop(v, i, n);
			memcpy(w, v + i, run - i);
			w += run - i;
			if (run == n)
				break;
			i = run;
			*w++ = '\\';
			if (v[i] == '"' || v[i] == '\\') {
				*w++ = v[i];
			} else {
				memcpy(w, "u00", 3);
				w[3] = (uint8_t)hex[v[i] >> 4];
				w[4] = (uint8_t)hex[v[i] & 15];
				w += 5;
			}
		}
		*w++ = '"';
		strbuf_setlen(out, (size_t)((char *)w - out->buf));
		return;
	}
	strbuf_addch(out, '"');
	for (size_t i = 0; i < n; i++) {
		uint8_t c = v[i];

		if (c >= 0x80) {
			int l = text_char_len(enc, v + i, n - i);

			l = l > 0 ? l : 1;
			strbuf_add(out, v + i, (size_t)l);
			i += (size_t)l - 1;
		} else if (c == '"' || c == '\\') {
			strbuf_addch(out, '\\');
			strbuf_addch(out, c);
		} else if (c < 0x20) {
			strbuf_add(out, "\\u00", 4);
			strbuf_addch(out, hex[c >> 4]);
			strbuf_addch(out, hex[c & 15]);
		} else {
			strbuf_addch(out, c);
		}
	}
	strbuf_addch(out, '"');
}
