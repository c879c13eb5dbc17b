/*
 * policy/desens/text.c - UTF-8 and GB18030 character iteration and validation.
 *
 * Validation is structural for GB18030 (the byte ranges of one-, two- and
 * four-byte sequences), strict for UTF-8 (no overlong forms, surrogates or
 * code points past U+10FFFF). Runs of ASCII are checked eight bytes at a
 * time: most of a data file is digits and punctuation. On x86-64 with
 * AVX2, UTF-8 is first checked 32 bytes at a time (Keiser and Lemire,
 * "Validating UTF-8 in less than one instruction per byte", 2021): a
 * third of the pool's bytes are Chinese, where the scalar walk costs ten
 * instructions a byte. Only a yes is taken from it; on a no the scalar
 * walk runs and finds the offset, so the two never disagree on an error.
 */
#include "common/alloc.h"
#include "policy/desens/text.h"


#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_UTF8_AVX2 1
#endif

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

#define cjk3 text_utf8_cjk3

#ifdef HAVE_UTF8_AVX2
/* The error classes of a byte pair (first byte's high and low nibble, second's high). */
#define TOO_SHORT	(1 << 0)
#define TOO_LONG	(1 << 1)
#define OVERLONG_3	(1 << 2)
#define TOO_LARGE	(1 << 3)
#define SURROGATE	(1 << 4)
#define OVERLONG_2	(1 << 5)
#define TOO_LARGE_1000	(1 << 6)
#define OVERLONG_4	(1 << 6)
#define TWO_CONTS	(-128)		/* 1 << 7, as the signed byte the tables take */
#define CARRY		(TOO_SHORT | TOO_LONG | TWO_CONTS)

#define TABLE16(...)	_mm256_setr_epi8(__VA_ARGS__, __VA_ARGS__)

struct u8v {
	__m256i err, prev;		/* errors so far, the block before */
	__m256i t1h, t1l, t2h, nib;	/* the class tables, the nibble mask */
	uint64_t conts;			/* continuation bytes seen */
};

__attribute__((target("avx2")))
static inline __m256i prev_n(__m256i in, __m256i prev, int n)
{
	/* in shifted right by n bytes, the gap filled from prev's end */
	__m256i x = _mm256_permute2x128_si256(prev, in, 0x21);

	switch (n) {
	case 1:
		return _mm256_alignr_epi8(in, x, 15);
	case 2:
		return _mm256_alignr_epi8(in, x, 14);
	default:
		return _mm256_alignr_epi8(in, x, 13);
	}
}

__attribute__((target("avx2")))
static inline void u8v_block(struct u8v *v, __m256i in)
{
	__m256i p1 = prev_n(in, v->prev, 1), p2, p3, sc, must;

	if (_mm256_testz_si256(in, _mm256_set1_epi8((char)0x80)) &&
	    _mm256_testz_si256(v->prev, _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0,
				0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				(char)0x80, (char)0x80, (char)0x80))) {
		/* ASCII, and nothing before it left open */
		v->prev = in;
		return;
	}
	sc = _mm256_and_si256(_mm256_and_si256(
		_mm256_shuffle_epi8(v->t1h, _mm256_and_si256(_mm256_srli_epi16(p1, 4), v->nib)),
		_mm256_shuffle_epi8(v->t1l, _mm256_and_si256(p1, v->nib))),
		_mm256_shuffle_epi8(v->t2h, _mm256_and_si256(_mm256_srli_epi16(in, 4), v->nib)));
	p2 = prev_n(in, v->prev, 2);
	p3 = prev_n(in, v->prev, 3);
	must = _mm256_or_si256(_mm256_subs_epu8(p2, _mm256_set1_epi8((char)(0xE0 - 0x80))),
			       _mm256_subs_epu8(p3, _mm256_set1_epi8((char)(0xF0 - 0x80))));
	must = _mm256_and_si256(must, _mm256_set1_epi8((char)0x80));
	v->err = _mm256_or_si256(v->err, _mm256_xor_si256(must, sc));
	/* 0x80..0xBF are -128..-65 as signed bytes */
	v->conts += (uint64_t)__builtin_popcount((unsigned)_mm256_movemask_epi8(
		_mm256_cmpgt_epi8(_mm256_set1_epi8(-64), in)));
	v->prev = in;
}

/*
 * Whether p[0..n) is valid UTF-8 (with no NUL unless nul_ok), setting
 * *nchars; false also when it cannot tell.
 */
__attribute__((target("avx2")))
static bool utf8_avx2(const uint8_t *p, size_t n, bool nul_ok, size_t *nchars)
{
	struct u8v v;
	__m256i nul = _mm256_setzero_si256(), zero = _mm256_setzero_si256(), in;
	uint8_t tail[32];
	size_t i = 0;

	v.err = v.prev = zero;
	v.conts = 0;
	v.nib = _mm256_set1_epi8(0x0F);
	v.t1h = TABLE16(TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
			TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
			TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,
			TOO_SHORT | OVERLONG_2,
			TOO_SHORT,
			TOO_SHORT | OVERLONG_3 | SURROGATE,
			TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4);
	v.t1l = TABLE16(CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4,
			CARRY | OVERLONG_2,
			CARRY,
			CARRY,
			CARRY | TOO_LARGE,
			CARRY | TOO_LARGE | TOO_LARGE_1000,
			CARRY | TOO_LARGE | TOO_LARGE_1000,
			CARRY | TOO_LARGE | TOO_LARGE_1000,
			CARRY | TOO_LARGE | TOO_LARGE_1000,
			CARRY | TOO_LARGE | TOO_LARGE_1000,
			CARRY | TOO_LARGE | TOO_LARGE_1000,
			CARRY | TOO_LARGE | TOO_LARGE_1000,
			CARRY | TOO_LARGE | TOO_LARGE_1000,
			CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE,
			CARRY | TOO_LARGE | TOO_LARGE_1000,
			CARRY | TOO_LARGE | TOO_LARGE_1000);
	v.t2h = TABLE16(TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
			TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
			(char)(TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 |
			       OVERLONG_4),
			(char)(TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE),
			(char)(TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE),
			(char)(TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE),
			TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT);
	for (; i + 32 <= n; i += 32) {
		in = _mm256_loadu_si256((const __m256i *)(p + i));
		nul = _mm256_or_si256(nul, _mm256_cmpeq_epi8(in, zero));
		u8v_block(&v, in);
	}
	/* the rest padded with ASCII spaces, then a block that ends what is open */
	memset(tail, ' ', sizeof(tail));
	memcpy(tail, p + i, n - i);
	in = _mm256_loadu_si256((const __m256i *)tail);
	nul = _mm256_or_si256(nul, _mm256_cmpeq_epi8(in, zero));
	u8v_block(&v, in);
	u8v_block(&v, _mm256_set1_epi8(' '));
	if (!_mm256_testz_si256(v.err, v.err) || (!nul_ok && !_mm256_testz_si256(nul, nul)))
		return false;
	*nchars = n - (size_t)v.conts;
	return true;
}

/* At most this long, a value is walked faster than the vector set-up. */
#define SIMD_MIN	24

static bool utf8_fast(const uint8_t *p, size_t n, bool nul_ok, size_t *nchars)
{
	return n >= SIMD_MIN && __builtin_cpu_supports("avx2") &&
	       utf8_avx2(p, n, nul_ok, nchars);
}
#else
static bool utf8_fast(const uint8_t *p, size_t n, bool nul_ok, size_t *nchars)
{
	return false;
}
#endif

int text_check(enum text_enc enc, const uint8_t *p, size_t n, size_t *bad)
{
	size_t i = 0, nchars;

	if (enc == TEXT_UTF8 && utf8_fast(p, n, false, &nchars))
		return 0;

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

	if (enc == TEXT_UTF8 && utf8_fast(p, n, true, nchars))
		return 0;

	while (i < n) {
		int l;

		if (i + 8 <= n && word_plain(p + i)) {
			i += 8;
			c += 8;
			continue;
		}
		/* NUL counts here: only text_check() refuses it */
		if (p[i] < 0x80)
			l = 1;
		else if (enc == TEXT_UTF8 && cjk3(p + i, n - i))
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

	if (enc == TEXT_UTF8) {
		/* valid UTF-8: a character is its lead byte and the 10xxxxxx bytes after it */
		for (; idx && i < n; idx--)
			for (i++; i < n && (p[i] & 0xC0) == 0x80; i++)
				;
		return i;
	}
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
