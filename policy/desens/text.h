/*
 * policy/desens/text.h - characters of UTF-8 and GB18030 text.
 *
 * Masks count and keep characters, not bytes, so that a masked value is
 * still valid text in the file's own encoding. GBK and GB2312 are byte
 * subsets of GB18030 and are handled as GB18030. In both encodings every
 * byte below 0x80 is the ASCII character itself, and in GB18030 trail
 * bytes never fall on '\t', '\n', '\r', '"' or ',' (but may be '@', '\\',
 * '[', ']', '{' or '}'), which the format parsers rely on. A lone 0x80
 * (the euro sign of Windows code page 936) and 0xFF are not GB18030 and
 * fail like any other invalid byte.
 */
#ifndef POOL_TEXT_H
#define POOL_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"

enum text_enc { TEXT_UTF8, TEXT_GB18030 };

/*
 * Maps an encoding name ("utf-8", "gb18030", "gbk", ... any case; NULL or
 * "" is UTF-8) to enc. Returns 0 or -EINVAL for a name it does not know.
 */
int text_enc_parse(const char *name, enum text_enc *enc);
const char *text_enc_name(enum text_enc enc);

/*
 * Length in bytes (1..4) of the character starting at p, n bytes being
 * available; 0 when p[0..n) is only the start of a character; -1 when the
 * bytes are not a valid character.
 */
int text_char_len(enum text_enc enc, const uint8_t *p, size_t n);

/*
 * Checks that p[0..n) is whole, valid text holding no NUL byte. Returns 0,
 * or -EILSEQ with *bad set to the offset of the first bad byte (a NUL there
 * means the NUL is the problem).
 */
int text_check(enum text_enc enc, const uint8_t *p, size_t n, size_t *bad);

/*
 * Whether p[0..n) starts with a three-byte UTF-8 character led by E1..EC
 * or EE..EF (no overlong form or surrogate can be one): most Chinese
 * text, checked without the general walk.
 */
static inline int text_utf8_cjk3(const uint8_t *p, size_t n)
{
	return n >= 3 && ((p[0] >= 0xE1 && p[0] <= 0xEC) || p[0] >= 0xEE) && p[0] <= 0xEF &&
	       (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80;
}

/* Counts the characters of p[0..n). Returns 0 or -EILSEQ. */
int text_count(enum text_enc enc, const uint8_t *p, size_t n, size_t *nchars);

/* Byte offset of character number idx (idx <= character count) of valid text. */
size_t text_offset(enum text_enc enc, const uint8_t *p, size_t n, size_t idx);

/* A converter between the two encodings (iconv); not thread-safe. */
struct text_conv;

/*
 * Appends code point cp (not a surrogate, <= 0x10FFFF) encoded in enc;
 * to_enc converts from UTF-8 and is needed only for GB18030 (else NULL).
 * Returns 0 or -EILSEQ.
 */
int text_put_cp(enum text_enc enc, struct text_conv *to_enc, uint32_t cp,
		struct strbuf *out);

int text_conv_new(enum text_enc from, enum text_enc to, struct text_conv **out);
/* Appends the conversion of in[0..len) to out. Returns 0 or -EILSEQ. */
int text_conv_run(struct text_conv *c, const void *in, size_t len, struct strbuf *out);
/*
 * As text_conv_run for valid text in[0..len) of encoding from, but a
 * character the converter cannot map (some structurally valid GB18030
 * codes have no Unicode character) becomes U+FFFD instead of failing.
 */
void text_conv_lossy(struct text_conv *c, enum text_enc from, const void *in,
		     size_t len, struct strbuf *out);
void text_conv_free(struct text_conv *c);

#endif
