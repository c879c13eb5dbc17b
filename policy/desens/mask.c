/*
 * policy/desens/mask.c - the mask functions, one table of callbacks by kind.
 *
 * Every mask that hides part of a value counts characters first and fails
 * with -EILSEQ on bytes that are not text: a mask must never cut a
 * multi-byte character in half or pass undecodable bytes through.
 */
#include "common/alloc.h"
#include "policy/desens/mask.h"
#include "policy/desens/mask_keep.h"


#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define HMAC_BLOCK	64
#define KEEP_MAX	1024	/* keep(F,L) bounds accepted by the parser */

struct mask_ctx {
	enum text_enc enc;
	EVP_MD_CTX *inner, *outer;	/* SHA-256 after the keyed pad block */
	EVP_MD_CTX *tmp;
	struct text_conv *to_utf8;	/* GB18030 values are hashed as UTF-8 */
	struct strbuf u8;
};

typedef int (*mask_fn)(struct mask_ctx *c, const struct mask_spec *m,
		       const uint8_t *in, size_t len, uint8_t *dst, size_t *outlen);

struct mask_type {
	const char *name;
	mask_fn apply;
	int first, last;		/* fixed keep(F,L) of the kind */
	bool own_bytes;			/* writes only bytes of its input and '*' */
};

/* Writes every character of in as '*'. */
static int hide_all(struct mask_ctx *c, const uint8_t *in, size_t len,
		    uint8_t *dst, size_t *outlen)
{
	size_t n;

	if (text_count(c->enc, in, len, &n))
		return -EILSEQ;
	memset(dst, '*', n);
	*outlen = n;
	return 0;
}

/* keep_chars() for in of n characters (counted, so valid text). */
static int keep_counted(struct mask_ctx *c, const uint8_t *in, size_t len, size_t n,
			size_t first, size_t last, uint8_t *dst, size_t *outlen)
{
	if (c->enc == TEXT_UTF8) {
		*outlen = mask_keep_utf8_n(in, len, n, first, last, dst);
		return 0;
	}
	/* fail closed: a value too short to hide anything is hidden whole */
	if (first + last >= n)
		first = last = 0;
	*outlen = mask_keep_out(in, len, text_offset(c->enc, in, len, first), n - first - last,
				text_offset(c->enc, in, len, n - last), dst);
	return 0;
}

static int keep_chars(struct mask_ctx *c, const uint8_t *in, size_t len,
		      size_t first, size_t last, uint8_t *dst, size_t *outlen)
{
	size_t n;

	if (text_count(c->enc, in, len, &n))
		return -EILSEQ;
	return keep_counted(c, in, len, n, first, last, dst, outlen);
}

static int mask_none(struct mask_ctx *c, const struct mask_spec *m,
		     const uint8_t *in, size_t len, uint8_t *dst, size_t *outlen)
{
	memcpy(dst, in, len);
	*outlen = len;
	return 0;
}

static int mask_empty(struct mask_ctx *c, const struct mask_spec *m,
		      const uint8_t *in, size_t len, uint8_t *dst, size_t *outlen)
{
	*outlen = 0;
	return 0;
}

static int mask_keep(struct mask_ctx *c, const struct mask_spec *m,
		     const uint8_t *in, size_t len, uint8_t *dst, size_t *outlen)
{
	if (m->keep_first < 0 || m->keep_last < 0)
		return -EINVAL;
	return keep_chars(c, in, len, (size_t)m->keep_first, (size_t)m->keep_last,
			  dst, outlen);
}

static int mask_fixed(struct mask_ctx *c, const struct mask_spec *m,
		      const uint8_t *in, size_t len, uint8_t *dst, size_t *outlen);

static int mask_id_card(struct mask_ctx *c, const struct mask_spec *m,
			const uint8_t *in, size_t len, uint8_t *dst, size_t *outlen)
{
	size_t n;

	if (text_count(c->enc, in, len, &n))
		return -EILSEQ;
	if (n == 18)
		return keep_counted(c, in, len, n, 6, 4, dst, outlen);
	if (n == 15)
		return keep_counted(c, in, len, n, 6, 3, dst, outlen);
	/* fail closed: an ID of unknown shape may put anything anywhere */
	memset(dst, '*', n);
	*outlen = n;
	return 0;
}

static int mask_email(struct mask_ctx *c, const struct mask_spec *m,
		      const uint8_t *in, size_t len, uint8_t *dst, size_t *outlen)
{
	size_t i = 0, at = len;
	int first = 0, l;

	/* '@' is a GB18030 trail byte, so walk characters, not bytes */
	while (i < len) {
		l = text_char_len(c->enc, in + i, len - i);
		if (l <= 0)
			return -EILSEQ;
		if (i == 0)
			first = l;
		if (in[i] == '@')
			at = i;
		i += (size_t)l;
	}
	if (at == len || at == 0)
		return hide_all(c, in, len, dst, outlen);
	memcpy(dst, in, (size_t)first);
	memcpy(dst + first, "***", 3);
	memcpy(dst + first + 3, in + at, len - at);
	*outlen = (size_t)first + 3 + (len - at);
	return 0;
}

static inline int is_digit(uint8_t b)
{
	return b >= '0' && b <= '9';
}

static size_t digits_at(const uint8_t *p, size_t len, size_t i)
{
	size_t n = 0;

	while (i + n < len && is_digit(p[i + n]))
		n++;
	return n;
}

#define YEAR_MIN	1800	/* outside it a "date" is more likely a number */
#define YEAR_MAX	2199

static const uint8_t han_utf8[3][3] = {
	{ 0xe5, 0xb9, 0xb4 }, { 0xe6, 0x9c, 0x88 }, { 0xe6, 0x97, 0xa5 },	/* 年 月 日 */
};
static const uint8_t han_gb[3][2] = {
	{ 0xc4, 0xea }, { 0xd4, 0xc2 }, { 0xc8, 0xd5 },
};

struct date_scan {
	const uint8_t *p;
	size_t len, i;
	enum text_enc enc;
};

/* Reads min to max digits (at most max, even when more follow); -1 when fewer. */
static long scan_num(struct date_scan *s, size_t min, size_t max)
{
	size_t n = digits_at(s->p, s->len, s->i);
	long v = 0;

	if (n > max)
		n = max;
	if (n < min)
		return -1;
	for (size_t k = 0; k < n; k++)
		v = v * 10 + (s->p[s->i + k] - '0');
	s->i += n;
	return v;
}

static bool scan_byte(struct date_scan *s, uint8_t b)
{
	if (s->i < s->len && s->p[s->i] == b) {
		s->i++;
		return true;
	}
	return false;
}

/* 年 (0), 月 (1) or 日 (2) in the value's encoding. */
static bool scan_han(struct date_scan *s, int which)
{
	const uint8_t *h = s->enc == TEXT_GB18030 ? han_gb[which] : han_utf8[which];
	size_t n = s->enc == TEXT_GB18030 ? 2 : 3;

	if (s->len - s->i < n || memcmp(s->p + s->i, h, n))
		return false;
	s->i += n;
	return true;
}

static bool valid_ymd(long y, long m, long d)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (y < YEAR_MIN || y > YEAR_MAX || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	/* 29 February only in leap years */
	return !(m == 2 && d == 29 && (y % 4 || (y % 100 == 0 && y % 400)));
}

/* HH:MM[:SS[.frac]] [Z | +HH:MM | -HH:MM | +HHMM], to the end of the value. */
static bool scan_time(struct date_scan *s)
{
	long h, m, sec = 0;

	h = scan_num(s, 2, 2);
	if (h < 0 || h > 23 || !scan_byte(s, ':'))
		return false;
	m = scan_num(s, 2, 2);
	if (m < 0 || m > 59)
		return false;
	if (scan_byte(s, ':')) {
		sec = scan_num(s, 2, 2);
		if (sec < 0 || sec > 60)
			return false;
		if (scan_byte(s, '.') && scan_num(s, 1, 9) < 0)
			return false;
	}
	if (scan_byte(s, 'Z'))
		return s->i == s->len;
	if (scan_byte(s, '+') || scan_byte(s, '-')) {
		h = scan_num(s, 2, 2);
		if (h < 0 || h > 14)
			return false;
		scan_byte(s, ':');
		m = scan_num(s, 2, 2);
		if (m < 0 || m > 59)
			return false;
	}
	return s->i == s->len;
}

/* The end of the value, or a time after 'T' or one space. */
static bool scan_rest(struct date_scan *s)
{
	if (s->i == s->len)
		return true;
	if (!scan_byte(s, 'T') && !scan_byte(s, ' '))
		return false;
	return scan_time(s);
}

/* YYYY-M-D, YYYY/M/D, YYYY.M.D, YYYY年M月D日, each with an optional time. */
static bool year_first(struct date_scan *s, long *y)
{
	long m, d;
	uint8_t sep;

	*y = scan_num(s, 4, 4);
	if (*y < 0 || s->i == s->len)
		return false;
	if (scan_han(s, 0)) {
		m = scan_num(s, 1, 2);
		if (m < 0 || !scan_han(s, 1))
			return false;
		d = scan_num(s, 1, 2);
		if (d < 0 || !scan_han(s, 2))
			return false;
		return valid_ymd(*y, m, d) && scan_rest(s);
	}
	sep = s->p[s->i];
	if (sep != '-' && sep != '/' && sep != '.')
		return false;
	s->i++;
	m = scan_num(s, 1, 2);
	if (m < 0 || !scan_byte(s, sep))
		return false;
	d = scan_num(s, 1, 2);
	return d >= 0 && valid_ymd(*y, m, d) && scan_rest(s);
}

/* YYYYMMDD or YYYYMMDDHHMMSS, digits only. */
static bool packed(const uint8_t *in, size_t len, long *y)
{
	struct date_scan s = { in, len, 0, TEXT_UTF8 };
	long m, d, h, mi, sec;

	if (digits_at(in, len, 0) != len || (len != 8 && len != 14))
		return false;
	*y = scan_num(&s, 4, 4);
	m = scan_num(&s, 2, 2);
	d = scan_num(&s, 2, 2);
	if (!valid_ymd(*y, m, d))
		return false;
	if (len == 8)
		return true;
	h = scan_num(&s, 2, 2);
	mi = scan_num(&s, 2, 2);
	sec = scan_num(&s, 2, 2);
	return h <= 23 && mi <= 59 && sec <= 60;
}

/*
 * D/M/YYYY or M/D/YYYY (also with '-' or '.'): which of the two is meant
 * cannot be told, but the year can; it must be a real date in one of them.
 */
static bool year_last(struct date_scan *s, long *y)
{
	long a, b;
	uint8_t sep;

	a = scan_num(s, 1, 2);
	if (a < 0 || s->i == s->len)
		return false;
	sep = s->p[s->i];
	if (sep != '-' && sep != '/' && sep != '.')
		return false;
	s->i++;
	b = scan_num(s, 1, 2);
	if (b < 0 || !scan_byte(s, sep))
		return false;
	*y = scan_num(s, 4, 4);
	return *y >= 0 && (valid_ymd(*y, a, b) || valid_ymd(*y, b, a)) && scan_rest(s);
}

/*
 * The year of a value that is a real date, or -1. Only a whole value that
 * parses as a date counts: month and day in range (29 February in leap
 * years only), a year from YEAR_MIN to YEAR_MAX, an optional valid time;
 * "25121990" is not a date (month 19), so it is hidden, not cut to "2512".
 */
static long find_year(enum text_enc enc, const uint8_t *in, size_t len)
{
	struct date_scan s = { in, len, 0, enc };
	long y;

	if (packed(in, len, &y))
		return y;
	if (year_first(&s, &y))
		return y;
	s.i = 0;
	if (year_last(&s, &y))
		return y;
	return -1;
}

static int mask_year(struct mask_ctx *c, const struct mask_spec *m,
		     const uint8_t *in, size_t len, uint8_t *dst, size_t *outlen)
{
	size_t bad;
	long y;

	if (text_check(c->enc, in, len, &bad))
		return -EILSEQ;
	y = find_year(c->enc, in, len);
	if (y < 0)
		return hide_all(c, in, len, dst, outlen);
	char year[8];

	snprintf(year, sizeof(year), "%04ld", y % 10000);
	memcpy(dst, year, 4);
	*outlen = 4;
	return 0;
}

static int mask_hash(struct mask_ctx *c, const struct mask_spec *m,
		     const uint8_t *in, size_t len, uint8_t *dst, size_t *outlen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t bad;
	int ret;

	if (!c->inner)
		return -ENOKEY;
	if (text_check(c->enc, in, len, &bad))
		return -EILSEQ;
	if (c->enc == TEXT_GB18030 && len) {
		if (!c->to_utf8) {
			ret = text_conv_new(TEXT_GB18030, TEXT_UTF8, &c->to_utf8);
			if (ret)
				return ret;
		}
		strbuf_reset(&c->u8);
		ret = text_conv_run(c->to_utf8, in, len, &c->u8);
		if (ret)
			return ret;
		in = (const uint8_t *)c->u8.buf;
		len = c->u8.len;
	}
	if (!EVP_MD_CTX_copy_ex(c->tmp, c->inner) ||
	    !EVP_DigestUpdate(c->tmp, in, len) ||
	    !EVP_DigestFinal_ex(c->tmp, md, &mdlen) ||
	    !EVP_MD_CTX_copy_ex(c->tmp, c->outer) ||
	    !EVP_DigestUpdate(c->tmp, md, mdlen) ||
	    !EVP_DigestFinal_ex(c->tmp, md, &mdlen))
		return -EIO;
	for (unsigned int i = 0; i < mdlen; i++) {
		dst[2 * i] = (uint8_t)hex[md[i] >> 4];
		dst[2 * i + 1] = (uint8_t)hex[md[i] & 15];
	}
	*outlen = 2 * (size_t)mdlen;
	return 0;
}

static const struct mask_type mask_types[] = {
	[MASK_NONE]	 = { "none",      mask_none,    0, 0, true },
	[MASK_KEEP]	 = { "keep",      mask_keep,    0, 0, true },
	[MASK_ID_CARD]	 = { "id_card",   mask_id_card, 6, 4, true },
	[MASK_PHONE]	 = { "phone",     mask_fixed,   3, 4, true },
	[MASK_NAME]	 = { "name",      mask_fixed,   1, 0, true },
	[MASK_BANK_CARD] = { "bank_card", mask_fixed,   6, 4, true },
	[MASK_ADDRESS]	 = { "address",   mask_fixed,   6, 0, true },
	[MASK_EMAIL]	 = { "email",     mask_email,   0, 0, true },
	[MASK_HASH]	 = { "hash",      mask_hash,    0, 0, false },
	[MASK_YEAR]	 = { "year",      mask_year,    0, 0, false },
	[MASK_REDACT]	 = { "redact",    mask_empty,   0, 0, true },
	[MASK_DROP]	 = { "drop",      mask_empty,   0, 0, true },
};

#define NTYPES (sizeof(mask_types) / sizeof(mask_types[0]))

static int mask_fixed(struct mask_ctx *c, const struct mask_spec *m,
		      const uint8_t *in, size_t len, uint8_t *dst, size_t *outlen)
{
	const struct mask_type *t = &mask_types[m->kind];

	return keep_chars(c, in, len, (size_t)t->first, (size_t)t->last, dst, outlen);
}

bool mask_own_bytes(enum mask_kind kind)
{
	return (size_t)kind < NTYPES && mask_types[kind].own_bytes;
}

const char *mask_kind_name(enum mask_kind kind)
{
	if ((size_t)kind >= NTYPES || !mask_types[kind].name)
		return "?";
	return mask_types[kind].name;
}

int mask_apply_raw(struct mask_ctx *c, const struct mask_spec *m,
		   const uint8_t *in, size_t len, uint8_t *dst, size_t *outlen)
{
	*outlen = 0;
	if ((size_t)m->kind >= NTYPES || !mask_types[m->kind].apply)
		return -EINVAL;
	if (!len && m->kind != MASK_NONE)
		return 0;
	return mask_types[m->kind].apply(c, m, in, len, dst, outlen);
}

bool mask_keep_shape(const struct mask_spec *m, size_t *first, size_t *last,
		     bool *id_card)
{
	*id_card = m->kind == MASK_ID_CARD;
	*first = *last = 0;
	if (m->kind == MASK_KEEP) {
		if (m->keep_first < 0 || m->keep_last < 0)
			return false;
		*first = (size_t)m->keep_first;
		*last = (size_t)m->keep_last;
		return true;
	}
	if (m->kind == MASK_PHONE || m->kind == MASK_NAME || m->kind == MASK_BANK_CARD ||
	    m->kind == MASK_ADDRESS) {
		*first = (size_t)mask_types[m->kind].first;
		*last = (size_t)mask_types[m->kind].last;
		return true;
	}
	return *id_card;
}

int mask_apply_valid(struct mask_ctx *c, const struct mask_spec *m,
		     const uint8_t *in, size_t len, uint8_t *dst, size_t *outlen)
{
	size_t first, last;
	bool id_card;

	if (c->enc != TEXT_UTF8 || !len || !mask_keep_shape(m, &first, &last, &id_card))
		return mask_apply_raw(c, m, in, len, dst, outlen);
	*outlen = mask_keep_utf8(in, len, first, last, id_card, dst);
	return 0;
}

int mask_apply(struct mask_ctx *c, const struct mask_spec *m,
	       const void *in, size_t len, struct strbuf *out)
{
	size_t n = 0;
	int ret;

	strbuf_grow(out, MASK_OUT_MAX(len));
	ret = mask_apply_raw(c, m, in, len, (uint8_t *)out->buf + out->len, &n);
	if (ret)
		return ret;
	strbuf_setlen(out, out->len + n);
	return 0;
}

/* Digests the HMAC pad blocks once, so a value costs two copies, not four blocks. */
static int hmac_prepare(struct mask_ctx *c, const uint8_t *key, size_t keylen)
{
	uint8_t k[HMAC_BLOCK], pad[HMAC_BLOCK];
	unsigned int klen = 0;
	int ret = -EIO;

	memset(k, 0, sizeof(k));
	c->inner = EVP_MD_CTX_new();
	c->outer = EVP_MD_CTX_new();
	c->tmp = EVP_MD_CTX_new();
	if (!c->inner || !c->outer || !c->tmp) {
		ret = -ENOMEM;
		goto out;
	}
	if (keylen > HMAC_BLOCK) {
		if (!EVP_Digest(key, keylen, k, &klen, EVP_sha256(), NULL))
			goto out;
	} else {
		memcpy(k, key, keylen);
	}
	for (int i = 0; i < HMAC_BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	if (!EVP_DigestInit_ex(c->inner, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(c->inner, pad, sizeof(pad)))
		goto out;
	for (int i = 0; i < HMAC_BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	if (!EVP_DigestInit_ex(c->outer, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(c->outer, pad, sizeof(pad)))
		goto out;
	ret = 0;
out:
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
	return ret;
}

int mask_ctx_new(enum text_enc enc, const uint8_t *key, size_t keylen,
		 struct mask_ctx **out)
{
	struct mask_ctx *c;
	int ret = 0;

	*out = NULL;
	c = xcalloc(1, sizeof(*c));
	c->enc = enc;

	strbuf_init(&c->u8, 0);
	if (key && keylen) {
		ret = hmac_prepare(c, key, keylen);
		if (ret)
			goto err_out;
	}
	*out = c;
	return 0;

err_out:
	mask_ctx_free(c);
	return ret;
}

void mask_ctx_free(struct mask_ctx *c)
{
	if (!c)
		return;
	EVP_MD_CTX_free(c->inner);
	EVP_MD_CTX_free(c->outer);
	EVP_MD_CTX_free(c->tmp);
	text_conv_free(c->to_utf8);
	strbuf_release(&c->u8);
	free(c);
}

/* Reads a decimal in [0, KEEP_MAX] after optional blanks. */
static int parse_count(const char **p, int *v)
{
	const char *s = *p;
	long n = 0;

	while (*s == ' ')
		s++;
	if (!is_digit((uint8_t)*s))
		return -EINVAL;
	while (is_digit((uint8_t)*s)) {
		n = n * 10 + (*s++ - '0');
		if (n > KEEP_MAX)
			return -EINVAL;
	}
	while (*s == ' ')
		s++;
	*v = (int)n;
	*p = s;
	return 0;
}

int mask_spec_parse(const char *text, struct mask_spec *out, struct perr *e)
{
	const char *p;

	memset(out, 0, sizeof(*out));
	if (!text)
		return perr_set(e, EINVAL, "missing mask name");
	if (!strncmp(text, "keep(", 5)) {
		p = text + 5;
		if (parse_count(&p, &out->keep_first) || *p++ != ',' ||
		    parse_count(&p, &out->keep_last) || *p++ != ')' || *p)
			return perr_set(e, EINVAL,
					"bad mask \"%s\": expected keep(F,L) with F and L from 0 to %d",
					text, KEEP_MAX);
		out->kind = MASK_KEEP;
		return 0;
	}
	for (size_t i = 0; i < NTYPES; i++) {
		if (i != MASK_KEEP && mask_types[i].name &&
		    !strcmp(text, mask_types[i].name)) {
			out->kind = (enum mask_kind)i;
			return 0;
		}
	}
	return perr_set(e, EINVAL, "unknown mask \"%s\"", text);
}

bool mask_spec_equal(const struct mask_spec *a, const struct mask_spec *b)
{
	return a->kind == b->kind && (a->kind != MASK_KEEP ||
		(a->keep_first == b->keep_first && a->keep_last == b->keep_last));
}

/* Masks whose output has one character for each character of the value. */
static bool keeps_length(enum mask_kind k)
{
	return k == MASK_KEEP || k == MASK_ID_CARD || k == MASK_PHONE || k == MASK_NAME ||
	       k == MASK_BANK_CARD || k == MASK_ADDRESS;
}

/* keep(F,L) and the masks that are a fixed keep(F,L): phone, name, bank_card, address. */
static bool keep_shape(const struct mask_spec *m, int *first, int *last)
{
	if (m->kind == MASK_KEEP) {
		*first = m->keep_first;
		*last = m->keep_last;
		return true;
	}
	if (m->kind != MASK_PHONE && m->kind != MASK_NAME && m->kind != MASK_BANK_CARD &&
	    m->kind != MASK_ADDRESS)
		return false;
	*first = mask_types[m->kind].first;
	*last = mask_types[m->kind].last;
	return true;
}

void mask_spec_meet(const struct mask_spec *a, const struct mask_spec *b,
		    struct mask_spec *out)
{
	static const struct mask_spec stars = { MASK_KEEP, 0, 0 };
	static const struct mask_spec redact = { MASK_REDACT, 0, 0 };

	int fa, la, fb, lb;

	if (keep_shape(a, &fa, &la) && keep_shape(b, &fb, &lb) && fa == fb && la == lb)
		*out = *a;
	else if (mask_spec_equal(a, b) || b->kind == MASK_NONE || a->kind == MASK_DROP)
		*out = *a;
	else if (a->kind == MASK_NONE || b->kind == MASK_DROP)
		*out = *b;
	/* both show the length and at most their own characters: stars show only the length */
	else if (keeps_length(a->kind) && keeps_length(b->kind))
		*out = stars;
	else
		*out = redact;
}

void mask_spec_format(const struct mask_spec *m, char *buf, size_t len)
{
	if (!len)
		return;
	if (m->kind == MASK_KEEP)
		snprintf(buf, len, "keep(%d,%d)", m->keep_first, m->keep_last);
	else
		snprintf(buf, len, "%s", mask_kind_name(m->kind));
}
