/*
 * policy/mask.c - the mask functions, one table of callbacks by kind.
 *
 * Every mask that hides part of a value counts characters first and fails
 * with -EILSEQ on bytes that are not text: a mask must never cut a
 * multi-byte character in half or pass undecodable bytes through.
 */
#include "policy/mask.h"

#include <errno.h>
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

static int keep_chars(struct mask_ctx *c, const uint8_t *in, size_t len,
		      size_t first, size_t last, uint8_t *dst, size_t *outlen)
{
	size_t n, head, tail, hidden;

	if (text_count(c->enc, in, len, &n))
		return -EILSEQ;
	/* fail closed: a value too short to hide anything is hidden whole */
	if (first + last >= n)
		first = last = 0;
	hidden = n - first - last;
	if (n == len) {
		head = first;
		tail = len - last;
	} else {
		head = text_offset(c->enc, in, len, first);
		tail = head + text_offset(c->enc, in + head, len - head, hidden);
	}
	memcpy(dst, in, head);
	memset(dst + head, '*', hidden);
	memcpy(dst + head + hidden, in + tail, len - tail);
	*outlen = head + hidden + (len - tail);
	return 0;
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
		return keep_chars(c, in, len, 6, 4, dst, outlen);
	if (n == 15)
		return keep_chars(c, in, len, 6, 3, dst, outlen);
	/* fail closed: an ID of unknown shape may put anything anywhere */
	return hide_all(c, in, len, dst, outlen);
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

/* Offset of the four-digit year in a date, or -1 when in is not a date. */
static long find_year(const uint8_t *in, size_t len)
{
	size_t lead = digits_at(in, len, 0), i, n;

	/* YYYY, YYYY-..., YYYY/..., YYYY.... and YYYY年... */
	if (lead == 4 && (len == 4 || in[4] == '-' || in[4] == '/' ||
			  in[4] == '.' || in[4] >= 0x80))
		return 0;
	if (lead == len && (len == 6 || len == 8 || len == 12 || len == 14))
		return 0;
	/* D[D]/M[M]/YYYY and the same with '-' or '.' */
	if (lead < 1 || lead > 2 || lead >= len)
		return -1;
	i = lead;
	if (in[i] != '/' && in[i] != '-' && in[i] != '.')
		return -1;
	n = digits_at(in, len, i + 1);
	if (n < 1 || n > 2 || i + 1 + n >= len || in[i + 1 + n] != in[i])
		return -1;
	i += 2 + n;
	if (digits_at(in, len, i) != 4)
		return -1;
	return (long)i;
}

static int mask_year(struct mask_ctx *c, const struct mask_spec *m,
		     const uint8_t *in, size_t len, uint8_t *dst, size_t *outlen)
{
	size_t bad;
	long y;

	if (text_check(c->enc, in, len, &bad))
		return -EILSEQ;
	y = find_year(in, len);
	if (y < 0)
		return hide_all(c, in, len, dst, outlen);
	memcpy(dst, in + y, 4);
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
	[MASK_NONE]	 = { "none",      mask_none,    0, 0 },
	[MASK_KEEP]	 = { "keep",      mask_keep,    0, 0 },
	[MASK_ID_CARD]	 = { "id_card",   mask_id_card, 6, 4 },
	[MASK_PHONE]	 = { "phone",     mask_fixed,   3, 4 },
	[MASK_NAME]	 = { "name",      mask_fixed,   1, 0 },
	[MASK_BANK_CARD] = { "bank_card", mask_fixed,   6, 4 },
	[MASK_ADDRESS]	 = { "address",   mask_fixed,   6, 0 },
	[MASK_EMAIL]	 = { "email",     mask_email,   0, 0 },
	[MASK_HASH]	 = { "hash",      mask_hash,    0, 0 },
	[MASK_YEAR]	 = { "year",      mask_year,    0, 0 },
	[MASK_REDACT]	 = { "redact",    mask_empty,   0, 0 },
	[MASK_DROP]	 = { "drop",      mask_empty,   0, 0 },
};

#define NTYPES (sizeof(mask_types) / sizeof(mask_types[0]))

static int mask_fixed(struct mask_ctx *c, const struct mask_spec *m,
		      const uint8_t *in, size_t len, uint8_t *dst, size_t *outlen)
{
	const struct mask_type *t = &mask_types[m->kind];

	return keep_chars(c, in, len, (size_t)t->first, (size_t)t->last, dst, outlen);
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
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
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

void mask_spec_format(const struct mask_spec *m, char *buf, size_t len)
{
	if (!len)
		return;
	if (m->kind == MASK_KEEP)
		snprintf(buf, len, "keep(%d,%d)", m->keep_first, m->keep_last);
	else
		snprintf(buf, len, "%s", mask_kind_name(m->kind));
}
