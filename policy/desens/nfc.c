/*
 * policy/desens/nfc.c - NFC and NFKC: decompose (canonically or for
 * compatibility), put combining marks in canonical order, compose again;
 * Hangul syllables by arithmetic, everything else from nfc_table.h.
 *
 * Names and filter values are short, so the whole text is decoded into
 * code points once; a text already in NFC (all of ASCII, and CJK without
 * compatibility ideographs) is recognised by the quick check and never
 * decomposed.
 */
#include "common/alloc.h"
#include "policy/desens/nfc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/desens/text.h"

struct nfc_range {
	uint32_t lo, hi;
	uint8_t val;
};

struct nfc_dec {
	uint32_t cp;
	uint16_t off;			/* into nfc_dec_cps */
	uint8_t clen;			/* canonical decomposition, 0: none */
	uint8_t klen;			/* compatibility one when it differs, 0: same */
};

struct nfc_comp {
	uint32_t a, b, c;		/* a + b compose to c */
};

struct nfc_fold {
	uint32_t lo, hi;
	int32_t delta;			/* every stride-th code point from lo folds to cp + delta */
	uint8_t stride;
};

#include "policy/desens/nfc_table.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#define SBASE	0xAC00u
#define LBASE	0x1100u
#define VBASE	0x1161u
#define TBASE	0x11A7u
#define LCOUNT	19u
#define VCOUNT	21u
#define TCOUNT	28u
#define SCOUNT	(LCOUNT * VCOUNT * TCOUNT)

#define CPBUF_LOCAL	64

/* Code points of one text; grows on the heap past CPBUF_LOCAL. */
struct cpbuf {
	uint32_t *v;
	size_t n, cap;
	uint32_t local[CPBUF_LOCAL];
};

static void cp_init(struct cpbuf *b)
{
	b->v = b->local;
	b->n = 0;
	b->cap = CPBUF_LOCAL;
}

static void cp_release(struct cpbuf *b)
{
	if (b->v != b->local)
		free(b->v);
}

static void cp_push(struct cpbuf *b, uint32_t c)
{
	if (b->n == b->cap) {
		size_t cap = 2 * b->cap;
		uint32_t *v = xreallocarray(b->v == b->local ? NULL : b->v, cap, sizeof(*v));

		if (b->v == b->local)
			memcpy(v, b->local, b->n * sizeof(*v));
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = c;
}

static const struct nfc_range *range_find(const struct nfc_range *t, size_t n,
					  uint32_t cp)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < t[mid].lo)
			hi = mid;
		else if (cp > t[mid].hi)
			lo = mid + 1;
		else
			return &t[mid];
	}
	return NULL;
}

static uint8_t ccc_of(uint32_t cp)
{
	const struct nfc_range *r;

	if (cp < 0x300)
		return 0;
	r = range_find(nfc_ccc_tab, NELEM(nfc_ccc_tab), cp);
	return r ? r->val : 0;
}

static const struct nfc_dec *dec_find(uint32_t cp)
{
	size_t lo = 0, hi = NELEM(nfc_dec_tab);

	if (cp < nfc_dec_tab[0].cp)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < nfc_dec_tab[mid].cp)
			hi = mid;
		else if (cp > nfc_dec_tab[mid].cp)
			lo = mid + 1;
		else
			return &nfc_dec_tab[mid];
	}
	return NULL;
}

/* The primary composite of a + b, or 0. */
static uint32_t compose_pair(uint32_t a, uint32_t b)
{
	size_t lo = 0, hi = NELEM(nfc_comp_tab);

	if (a - LBASE < LCOUNT && b - VBASE < VCOUNT)
		return SBASE + ((a - LBASE) * VCOUNT + (b - VBASE)) * TCOUNT;
	if (a - SBASE < SCOUNT && (a - SBASE) % TCOUNT == 0 &&
	    b - TBASE - 1 < TCOUNT - 1)
		return a + (b - TBASE);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct nfc_comp *c = &nfc_comp_tab[mid];

		if (a < c->a || (a == c->a && b < c->b))
			hi = mid;
		else if (a > c->a || b > c->b)
			lo = mid + 1;
		else
			return c->c;
	}
	return 0;
}

bool nfc_is_space(uint32_t cp)
{
	size_t lo = 0, hi = NELEM(nfc_space_tab);

	if (cp > 0x20 && cp < 0x85)
		return false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < nfc_space_tab[mid])
			hi = mid;
		else if (cp > nfc_space_tab[mid])
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* The simple case folding of cp. */
static uint32_t fold_of(uint32_t cp)
{
	size_t lo = 0, hi = NELEM(nfc_fold_tab);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct nfc_fold *f = &nfc_fold_tab[mid];

		if (cp < f->lo)
			hi = mid;
		else if (cp > f->hi)
			lo = mid + 1;
		else
			return (cp - f->lo) % f->stride ? cp : (uint32_t)((int32_t)cp + f->delta);
	}
	return cp;
}

/* Decodes the valid UTF-8 character at p (l bytes). */
static uint32_t utf8_decode(const uint8_t *p, int l)
{
	switch (l) {
	case 1:
		return p[0];
	case 2:
		return (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
	case 3:
		return (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 |
		       (p[2] & 0x3F);
	default:
		return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
		       (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
	}
}

static void utf8_append(struct strbuf *out, uint32_t cp)
{
	uint8_t o[4];
	size_t n;

	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		o[0] = (uint8_t)(0xC0 | cp >> 6);
		o[1] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		o[0] = (uint8_t)(0xE0 | cp >> 12);
		o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		o[0] = (uint8_t)(0xF0 | cp >> 18);
		o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
		o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
		o[3] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 4;
	}
	strbuf_add(out, o, n);
}

const uint8_t *nfc_trim(const uint8_t *s, size_t *n)
{
	size_t len = *n;
	int l;

	while (len && (l = text_char_len(TEXT_UTF8, s, len)) > 0 &&
	       nfc_is_space(utf8_decode(s, l))) {
		s += l;
		len -= (size_t)l;
	}
	while (len) {
		size_t k = len - 1;

		/* back to the lead byte of the last character */
		while (k > 0 && len - k < 4 && (s[k] & 0xC0) == 0x80)
			k--;
		l = text_char_len(TEXT_UTF8, s + k, len - k);
		if (l <= 0 || (size_t)l != len - k || !nfc_is_space(utf8_decode(s + k, l)))
			break;
		len = k;
	}
	*n = len;
	return s;
}

static void decompose(struct cpbuf *b, uint32_t cp, enum nfc_form f)
{
	const struct nfc_dec *d;

	if (cp - SBASE < SCOUNT) {
		uint32_t s = cp - SBASE;

		cp_push(b, LBASE + s / (VCOUNT * TCOUNT));
		cp_push(b, VBASE + s % (VCOUNT * TCOUNT) / TCOUNT);
		if (s % TCOUNT)
			cp_push(b, TBASE + s % TCOUNT);
		return;
	}
	d = dec_find(cp);
	if (!d) {
		cp_push(b, cp);
		return;
	}
	if (f != NFC_C && d->klen) {
		for (unsigned i = 0; i < d->klen; i++)
			cp_push(b, nfc_dec_cps[d->off + d->clen + i]);
	} else if (d->clen) {
		for (unsigned i = 0; i < d->clen; i++)
			cp_push(b, nfc_dec_cps[d->off + i]);
	} else {
		cp_push(b, cp);
	}
}

/* Canonical ordering: a stable sort of each run of non-starters by class. */
static void reorder(struct cpbuf *b)
{
	for (size_t i = 1; i < b->n; i++) {
		uint32_t c = b->v[i];
		uint8_t cc = ccc_of(c);
		size_t k = i;

		if (!cc)
			continue;
		while (k > 0) {
			uint8_t pc = ccc_of(b->v[k - 1]);

			if (!pc || pc <= cc)
				break;
			b->v[k] = b->v[k - 1];
			k--;
		}
		b->v[k] = c;
	}
}

/* The canonical composition algorithm of UAX #15, in place. */
static void compose(struct cpbuf *b)
{
	size_t starter = 0, w = 1;
	bool have;
	int last = 0;

	if (!b->n)
		return;
	/* a text that starts with a non-starter has nothing to compose onto yet */
	have = !ccc_of(b->v[0]);
	for (size_t i = 1; i < b->n; i++) {
		uint32_t c = b->v[i], comp;
		int cc = ccc_of(c);

		comp = have ? compose_pair(b->v[starter], c) : 0;
		if (comp && (last < cc || last == 0)) {
			b->v[starter] = comp;
			continue;
		}
		if (!cc) {
			starter = w;
			have = true;
		}
		last = cc;
		b->v[w++] = c;
	}
	b->n = w;
}

/*
 * Folds the case of NFKC text in b, then normalizes again: a folded
 * letter may compose where the capital did not (J + caron is no
 * character, j + caron is U+01F0).
 */
static void fold(struct cpbuf *b)
{
	struct cpbuf t;
	bool changed = false;

	for (size_t i = 0; i < b->n; i++) {
		uint32_t c = fold_of(b->v[i]);

		changed |= c != b->v[i];
		b->v[i] = c;
	}
	if (!changed)
		return;
	cp_init(&t);
	for (size_t i = 0; i < b->n; i++)
		decompose(&t, b->v[i], NFC_KC);
	reorder(&t);
	compose(&t);
	b->n = 0;
	for (size_t i = 0; i < t.n; i++)
		cp_push(b, t.v[i]);
	cp_release(&t);
}

int nfc_append(const uint8_t *s, size_t n, enum nfc_form f, bool trim,
	       struct strbuf *out)
{
	struct cpbuf b;
	size_t i = 0, start = out->len, len;
	const uint8_t *t;
	int ret = 0;

	cp_init(&b);
	while (i < n) {
		int l = text_char_len(TEXT_UTF8, s + i, n - i);

		if (l <= 0) {
			ret = -EILSEQ;
			break;
		}
		decompose(&b, utf8_decode(s + i, l), f);
		i += (size_t)l;
	}
	reorder(&b);
	compose(&b);
	if (f == NFC_KC_FOLD)
		fold(&b);
	strbuf_grow(out, n + 8);
	for (size_t k = 0; k < b.n; k++)
		utf8_append(out, b.v[k]);
	cp_release(&b);
	if (trim) {
		len = out->len - start;
		t = nfc_trim((const uint8_t *)out->buf + start, &len);
		memmove(out->buf + start, t, len);
		strbuf_setlen(out, start + len);
	}
	return ret;
}

bool nfc_quick(const uint8_t *s, size_t n)
{
	uint8_t last = 0;
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		uint8_t cc;
		int l;

		if (s[i] < 0x80) {
			/* ASCII is NFC; only its ends may need trimming */
			if ((i == 0 || i == n - 1) && nfc_is_space(s[i]))
				return false;
			last = 0;
			i++;
			continue;
		}
		l = text_char_len(TEXT_UTF8, s + i, n - i);
		if (l <= 0)
			return false;
		cp = utf8_decode(s + i, l);
		/* CJK ideographs (most names in the pool): starters, never composed */
		if (cp >= 0x3400 && cp < 0xA000) {
			last = 0;
			i += (size_t)l;
			continue;
		}
		if ((i == 0 || i + (size_t)l == n) && nfc_is_space(cp))
			return false;
		if (cp - SBASE >= SCOUNT) {
			if (range_find(nfc_qc_tab, NELEM(nfc_qc_tab), cp))
				return false;
			cc = ccc_of(cp);
			if (cc && last > cc)
				return false;
			last = cc;
		} else {
			last = 0;
		}
		i += (size_t)l;
	}
	return true;
}

const char *nfc_unicode_version(void)
{
	return NFC_UNICODE_VERSION;
}
