/*
 * policy/nearmatch.c - row-filter values a data file may spell otherwise.
 *
 * The engine compares filter values with field values after trimming
 * surrounding whitespace and Unicode NFC, both sides alike. A value
 * written with surrounding whitespace, not in NFC, or with compatibility
 * characters (full-width ASCII, circled digits, Kangxi radicals: forms
 * NFKC folds but NFC keeps) is a near-match: it still filters, but not
 * always what the admin meant, so `policy check` warns. The answers come
 * from the engine's own normalization (policy/desens/nfc.h), so the warning and
 * the comparison can never disagree.
 */
#include "policy/model.h"

#include <stdbool.h>
#include <string.h>

#include "common/strbuf.h"
#include "policy/desens/nfc.h"

static bool same(const struct strbuf *a, const uint8_t *b, size_t n)
{
	return a->len == n && !memcmp(a->buf, b, n);
}

unsigned pol_near_match(const char *value)
{
	struct strbuf c = STRBUF_INIT, k = STRBUF_INIT;
	size_t len = strlen(value), n = len;
	const uint8_t *t = nfc_trim((const uint8_t *)value, &n);
	unsigned found = 0;

	if (n != len)
		found |= POL_NEAR_SPACE;
	/* not valid UTF-8 (jansson checked it): nothing to say about its form */
	if (nfc_append(t, n, NFC_C, false, &c) || nfc_append(t, n, NFC_KC, false, &k))
		goto out;
	if (!same(&c, t, n))
		found |= POL_NEAR_NFC;
	if (!same(&k, (const uint8_t *)c.buf, c.len))
		found |= POL_NEAR_NFKC;
out:
	strbuf_release(&c);
	strbuf_release(&k);
	return found;
}
