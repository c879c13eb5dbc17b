/*
 * policy/desens/mask.h - desensitization masks applied to one value.
 *
 * A value is one field's text, unescaped, in the file's encoding. Masks
 * work on characters: each hidden character becomes one '*', so the
 * result is valid text in that same encoding. An empty value stays empty
 * under every mask. mask_spec_parse and mask_spec_format (policy/view.h)
 * live in mask.c.
 *
 * Decisions where the contract is silent:
 * - keep(F,L) on a value of F+L characters or fewer hides every character:
 *   a value too short to hide anything is never shown whole;
 * - id_card: 18 characters keep(6,4), 15 (first-generation IDs) keep(6,3),
 *   any other length is hidden whole;
 * - email: first character of the local part, "***@" and the domain after
 *   the last '@'; with no '@' or an empty local part, hidden whole;
 * - year: only a whole value that is a real date keeps its year:
 *   "1990-01-01", "1990/1/1", "1990.1.1", "1990年1月1日", "19900101",
 *   "19900101083000", "01/02/1990" (day and month in either order), each
 *   optionally with a valid time ("1990-01-01T08:00:00Z", "... 08:00");
 *   month and day in range, the year 1800 to 2199. Anything else, "1990"
 *   and "25121990" included, is hidden whole;
 * - hash: 64 lower-case hex digits of HMAC-SHA256 over the value in UTF-8
 *   (a GB18030 value is converted first), so one value gives one token in
 *   files of either encoding. The key is the reading department's
 *   (store_hash_key()), never the pool's own secret.
 */
#ifndef POOL_MASK_H
#define POOL_MASK_H

#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "policy/desens/text.h"
#include "policy/view.h"

/* The most bytes a mask writes for a value of len bytes. */
#define MASK_OUT_MAX(len)	((len) + 64)

struct mask_ctx;		/* opaque; one per engine, not thread-safe */

/*
 * A context for values in encoding enc. key (copied; may be NULL) is the
 * reading department's hash key; without one, hash fails with -ENOKEY.
 * Returns 0, or -ENOMEM / -EIO when OpenSSL cannot set up the hash.
 */
int mask_ctx_new(
enum text_enc enc, const uint8_t *key, size_t keylen,
		 struct mask_ctx **out);
void mask_ctx_free(struct mask_ctx *c);

/*
 * Writes the masked form of in[0..len) to dst, which has room for
 * MASK_OUT_MAX(len) bytes, and its length to *outlen. drop and redact
 * write nothing. Returns 0, -EILSEQ when in is not valid text in c's
 * encoding, -ENOKEY for hash without a key, -EINVAL for an unknown kind.
 */
int mask_apply_raw(struct mask_ctx *c, const struct mask_spec *m,
		   const uint8_t *in, size_t len, uint8_t *dst, size_t *outlen);

/*
 * As mask_apply_raw for in[0..len) known to be valid text in c's encoding
 * holding no NUL (a record text_check() passed): the same output without
 * checking the text again.
 */
int mask_apply_valid(struct mask_ctx *c, const struct mask_spec *m,
		     const uint8_t *in, size_t len, uint8_t *dst, size_t *outlen);

/* As mask_apply_raw, appending to out. */
int mask_apply(struct mask_ctx *c, const struct mask_spec *m,
	       const void *in, size_t len, struct strbuf *out);

/* The name of a kind ("id_card"), or "?" for none known. */
/*
 * Whether kind writes only bytes of its input and '*' (true of the keep
 * masks, email, redact and drop; not of hash or year, which write digits
 * of their own): a value a CSV need not quote needs no quotes masked.
 */
bool mask_own_bytes(enum mask_kind kind);

const char *mask_kind_name(enum mask_kind kind);

#endif
