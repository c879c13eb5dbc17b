/*
 * policy/desens/text.c - UTF-8 and GB18030 character iteration and validation.
 *
 * Validation is structural for GB18030 (the byte ranges of one-, two- and
 * four-byte sequences), strict for UTF-8 (no overlong forms, surrogates or
 * code points past U+10FFFF). Runs of ASCII are checked eight bytes at a
 * time: most of a data file is digits and punctuation.
 */
#include "common/alloc.h"
#include "policy/desens/text.h"


#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

struct text_conv {
	iconv_t cd;
};

int text_enc_parse(const char *name, enum text_enc *enc)
{
	static const char *const utf8[] = { "utf-8", "utf8" };
	static const char *const gb[] = { "gb18030", "gbk", "gb2312", "cp936" };

	if (!name || !*name) {
		*enc = TEXT_UTF8;
		return 0;
	}
	for (size_t i = 0; i < sizeof(utf8) / sizeof(utf8[0]); i++) {
		if (!strcasecmp(name, utf8[i])) {
			*enc = TEXT_UTF8;
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof(gb) / sizeof(gb[0]); i++) {
		if (!strcasecmp(name, gb[i])) {
			*enc = TEXT_GB18030;
			return 0;
		}
	}
	return -EINVAL;
}

const char *text_enc_name(enum text_enc enc)
{
	return enc == TEXT_GB18030 ? "gb18030" : "utf-8";
}

static inline int in_range(uint8_t b, uint8_t lo, uint8_t hi)
{
	return b >= lo && b <= hi;
}

static int utf8_len(const uint8_t *p, size_t n)
{
	uint8_t b = p[0], lo = 0x80, hi = 0xBF;
	int need;

	if (b < 0x80)
		return 1;
	if (in_range(b, 0xC2, 0xDF)) {
		need = 2;
	} else if (in_range(b, 0xE0, 0xEF)) {
		need = 3;
		if (b == 0xE0)
			lo = 0xA0;
		else if (b == 0xED)
			hi = 0x9F;	/* no surrogates */
	} else if (in_range(b, 0xF0, 0xF4)) {
		need = 4;
		if (b == 0xF0)
			lo = 0x90;
		else if (b == 0xF4)
			hi = 0x8F;
	} else {
		return -1;
	}
	for (int i = 1; i < need; i++) {
		if ((size_t)i >= n)
			return 0;
		if (!in_range(p[i], i == 1 ? lo : 0x80, i == 1 ? hi : 0xBF))
			return -1;
	}
	return need;
}

static int gb18030_len(const uint8_t *p, size_t n)
{
	uint8_t b = p[0];

	if (b < 0x80)
		return 1;
	if (!in_range(b, 0x81, 0xFE))
		return -1;
	if (n < 2)
		return 0;
	if (in_range(p[1], 0x40, 0x7E) || in_range(p[1], 0x80, 0xFE))
		return 2;
	if (!in_range(p[1], 0x30, 0x39))
		return -1;
	if (n < 3)
		return 0;
	if (!in_range(p[2], 0x81, 0xFE))
		return -1;
	if (n < 4)
		return 0;
	return in_range(p[3], 0x30, 0x39) ? 4 : -1;
}

int text_char_len(enum text_enc enc, const uint8_t *p, size_t n)
{
	if (!n)
		return 0;
	return enc == TEXT_GB18030 ? gb18030_len(p, n) : utf8_len(p, n);
}

/* True when none of the eight bytes is NUL or has its high bit set. */
static inline int word_plain(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return !(((w - ONES) & ~w & HIGHS) | (w & HIGHS));
}

/* Continuation bytes at p[1] and p[2] of a three-byte character led by E1..EC or EE..EF. */
static inline int cjk3(const uint8_t *p, size_t n)
{
	return n >= 3 && ((p[0] >= 0xE1 && p[0] <= 0xEC) || p[0] >= 0xEE) && p[0] <= 0xEF &&
	       (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80;
}

int text_check(enum text_enc enc, const uint8_t *p, size_t n, size_t *bad)
{
	size_t i = 0;

	while (i < n) {
		int l;

		if (i + 8 <= n && word_plain(p + i)) {
			i += 8;
			continue;
		}
		if (p[i] && p[i] < 0x80) {
			i++;
			continue;
		}
		/* most non-ASCII text in the pool is Chinese: three bytes in UTF-8 */
		if (enc == TEXT_UTF8 && cjk3(p + i, n - i)) {
			i += 3;
			continue;
		}
		l = p[i] ? text_char_len(enc, p + i, n - i) : -1;
		if (l <= 0) {
			*bad = i;
			return -EILSEQ;
		}
		i += (size_t)l;
	}
	return 0;
}

int text_count(enum text_enc enc, const uint8_t *p, size_t n, size_t *nchars)
{
	size_t i = 0, c = 0;

	while (i < n) {
		int l;

		if (i + 8 <= n && word_plain(p + i)) {
			i += 8;
			c += 8;
			continue;
		}
		if (enc == TEXT_UTF8 && cjk3(p + i, n - i))
			l = 3;
		else if ((l = text_char_len(enc, p + i, n - i)) <= 0)
			return -EILSEQ;
		i += (size_t)l;
		c++;
	}
	*nchars = c;
	return 0;
}

size_t text_offset(enum text_enc enc, const uint8_t *p, size_t n, size_t idx)
{
	size_t i = 0;

	while (idx && i < n) {
		int l = text_char_len(enc, p + i, n - i);

		i += l > 0 ? (size_t)l : 1;
		idx--;
	}
	return i;
}

static size_t utf8_put(uint32_t cp, uint8_t *o)
{
	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xC0 | cp >> 6);
		o[1] = (uint8_t)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xE0 | cp >> 12);
		o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (uint8_t)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (uint8_t)(0xF0 | cp >> 18);
	o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (uint8_t)(0x80 | (cp & 0x3F));
	return 4;
}

int text_put_cp(enum text_enc enc, struct text_conv *to_enc, uint32_t cp,
		struct strbuf *out)
{
	uint8_t u[4];
	size_t n;

	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -EILSEQ;
	n = utf8_put(cp, u);
	if (enc == TEXT_UTF8 || cp < 0x80) {
		strbuf_add(out, u, n);
		return 0;
	}
	if (!to_enc)
		return -EINVAL;
	return text_conv_run(to_enc, u, n, out);
}

int text_conv_new(enum text_enc from, enum text_enc to, struct text_conv **out)
{
	struct text_conv *c;

	*out = NULL;
	c = xcalloc(1, sizeof(*c));
	c->cd = iconv_open(to == TEXT_GB18030 ? "GB18030" : "UTF-8",
			   from == TEXT_GB18030 ? "GB18030" : "UTF-8");
	if (c->cd == (iconv_t)-1) {
		int err = errno;

		free(c);
		return -(err ? err : EINVAL);
	}
	*out = c;
	return 0;
}

int text_conv_run(struct text_conv *c, const void *in, size_t len, struct strbuf *out)
{
	char *ip = (char *)(uintptr_t)in;
	size_t il = len;

	iconv(c->cd, NULL, NULL, NULL, NULL);
	while (il) {
		size_t room, before;
		char *op;

		strbuf_grow(out, il * 2 + 8);
		room = out->alloc - out->len - 1;
		before = room;
		op = out->buf + out->len;
		if (iconv(c->cd, &ip, &il, &op, &room) == (size_t)-1 && errno != E2BIG) {
			strbuf_setlen(out, out->len + (before - room));
			return -EILSEQ;
		}
		strbuf_setlen(out, out->len + (before - room));
	}
	return 0;
}

void text_conv_lossy(struct text_conv *c, enum text_enc from, const void *in,
		     size_t len, struct strbuf *out)
{
	static const uint8_t replacement[] = { 0xEF, 0xBF, 0xBD };
	const uint8_t *p = in;
	size_t start = out->len, i = 0;

	if (!text_conv_run(c, in, len, out))
		return;
	strbuf_setlen(out, start);
	while (i < len) {
		int l = text_char_len(from, p + i, len - i);

		if (l <= 0)
			l = 1;
		start = out->len;
		if (text_conv_run(c, p + i, (size_t)l, out)) {
			strbuf_setlen(out, start);
			strbuf_add(out, replacement, sizeof(replacement));
		}
		i += (size_t)l;
	}
}

void text_conv_free(struct text_conv *c)
{
	if (!c)
		return;
	iconv_close(c->cd);
	free(c);
}
