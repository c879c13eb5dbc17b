/*
 * policy/desens/pii.c - detectors for personal data in single values.
 *
 * Each detector wants the value's shape and its internal checks (check
 * digit, Luhn, calendar) to agree, so that a column of order numbers or
 * amounts does not pass for ID or card numbers in bulk.
 */
#include "policy/desens/pii.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "policy/desens/nfc.h"

#define FOLD_MAX	320	/* longer values are none of the kinds (an email is <= 254) */

static const char *const kind_names[PII_NKINDS] = {
	[PII_ID_CARD] = "id_card", [PII_PHONE] = "phone", [PII_BANK_CARD] = "bank_card",
	[PII_EMAIL] = "email", [PII_DATE] = "date",
};

const char *pii_kind_name(enum pii_kind k)
{
	return (unsigned)k < PII_NKINDS ? kind_names[k] : "?";
}

bool pii_kind_personal(enum pii_kind k)
{
	return k != PII_DATE && (unsigned)k < PII_NKINDS;
}

/* ---- values ---- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Copies the trimmed value into buf in NFKC, so that full-width ASCII
 * (１３８, Ｘ, ＠, typed by Chinese input methods) reads as ASCII.
 * Returns the length, or -1 when the value is longer than any kind can
 * be or is not UTF-8.
 */
static int fold(const char *v, size_t n, char *buf)
{
	struct strbuf sb = STRBUF_INIT;
	const uint8_t *p = nfc_trim((const uint8_t *)v, &n);
	bool ascii = true;
	int len = -1;

	for (size_t i = 0; i < n && ascii; i++)
		ascii = p[i] < 0x80;
	/* NFKC shrinks text by less than this; ASCII is its own NFKC */
	if (n > (ascii ? 1 : 4) * (size_t)FOLD_MAX)
		return -1;
	if (ascii) {
		memcpy(buf, p, n);
		buf[n] = '\0';
		return (int)n;
	}
	if (!nfc_append(p, n, NFC_KC, false, &sb) && sb.len <= FOLD_MAX) {
		memcpy(buf, sb.buf, sb.len);
		buf[sb.len] = '\0';
		len = (int)sb.len;
	}
	strbuf_release(&sb);
	return len;
}

static int num(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

static bool ymd_ok(int y, int m, int d, int ymin, int ymax)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (y < ymin || y > ymax || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	return m != 2 || d < 29 || leap;
}

/* GB 2260 province codes, plus 9x of foreigners' permanent residence IDs. */
static bool province_ok(const char *s)
{
	static const char codes[] = "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 "
				    "44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83 ";

	if (s[0] == '9' && s[1] != '0')
		return true;
	for (const char *c = codes; *c; c += 3)
		if (c[0] == s[0] && c[1] == s[1])
			return true;
	return false;
}

static bool id_card(const char *s, size_t n)
{
	static const int w[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
	int sum = 0;
	char want;

	if (n == 15)	/* the pre-1999 form: YYMMDD, no check digit */
		return all_digits(s, 15) && province_ok(s) &&
		       ymd_ok(1900 + num(s + 6, 2), num(s + 8, 2), num(s + 10, 2), 1900, 1999);
	if (n != 18 || !all_digits(s, 17) || !province_ok(s) ||
	    !ymd_ok(num(s + 6, 4), num(s + 10, 2), num(s + 12, 2), 1900, 2099))
		return false;
	for (int i = 0; i < 17; i++)
		sum += (s[i] - '0') * w[i];
	want = "10X98765432"[sum % 11];
	return s[17] == want || (want == 'X' && s[17] == 'x');
}

/*
 * Collects the digits of s into d (at most max), allowing one space or
 * hyphen between digits ("138 1234 5678", "6222-0212-..."). A leading '+'
 * sets *plus when plus is not NULL. Returns the digit count or -1.
 */
static int digits(const char *s, size_t n, char *d, int max, bool *plus)
{
	size_t i = 0;
	int nd = 0;

	if (plus) {
		*plus = n && s[0] == '+';
		i = *plus;
	}
	for (; i < n; i++) {
		if (is_digit(s[i])) {
			if (nd == max)
				return -1;
			d[nd++] = s[i];
		} else if ((s[i] != ' ' && s[i] != '-') || !nd || i + 1 >= n ||
			   !is_digit(s[i + 1])) {
			return -1;
		}
	}
	return nd;
}

static bool phone(const char *s, size_t n)
{
	char d[16];
	bool plus;
	int nd = digits(s, n, d, 15, &plus);
	const char *p = d;

	if (nd == 15 && !plus && !memcmp(d, "0086", 4)) {
		p += 4;
		nd -= 4;
	} else if (nd == 13 && !memcmp(d, "86", 2)) {
		p += 2;
		nd -= 2;
	} else if (plus) {
		return false;
	}
	return nd == 11 && p[0] == '1' && p[1] >= '3' && p[1] <= '9';
}

static bool bank_card(const char *s, size_t n)
{
	char d[19];
	int nd = digits(s, n, d, 19, NULL), sum = 0;

	if (nd < 13 || d[0] == '0')
		return false;
	for (int i = 0; i < nd; i++) {
		int v = d[nd - 1 - i] - '0';

		if (i & 1)
			v = v * 2 > 9 ? v * 2 - 9 : v * 2;
		sum += v;
	}
	return sum % 10 == 0;
}

/* Bytes >= 0x80 are allowed in both parts: internationalized addresses (张三@例子.中国). */
static bool email(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n), *dom, *label;
	size_t ln, dn, len;
	bool tld_alpha = true;

	if (!at || memchr(at + 1, '@', n - (size_t)(at - s) - 1))
		return false;
	ln = (size_t)(at - s);
	dom = at + 1;
	dn = n - ln - 1;
	if (!ln || ln > 64 || s[0] == '.' || s[ln - 1] == '.' || !dn || dn > 253)
		return false;
	for (size_t i = 0; i < ln; i++)
		if (!is_alnum(s[i]) && !((uint8_t)s[i] & 0x80) &&
		    (!strchr("!#$%&'*+/=?^_`{|}~.-", s[i]) || (s[i] == '.' && s[i + 1] == '.')))
			return false;
	for (label = dom; label <= dom + dn; label += len + 1) {
		const char *end = memchr(label, '.', dn - (size_t)(label - dom));

		len = end ? (size_t)(end - label) : dn - (size_t)(label - dom);
		if (!len || len > 63 || label[0] == '-' || label[len - 1] == '-')
			return false;
		tld_alpha = true;
		for (size_t i = 0; i < len; i++) {
			if (!is_alnum(label[i]) && label[i] != '-' && !((uint8_t)label[i] & 0x80))
				return false;
			tld_alpha &= !is_digit(label[i]) && label[i] != '-';
		}
		if (!end)
			return label != dom && len >= 2 && tld_alpha;
	}
	return false;
}

/* hh:mm[:ss[.fff]][Z|+hh:mm|+hhmm], what follows the date of a timestamp. */
static bool time_ok(const char *s, size_t n)
{
	size_t i = 5;

	if (n < 5 || !all_digits(s, 2) || s[2] != ':' || !all_digits(s + 3, 2) ||
	    num(s, 2) > 23 || num(s + 3, 2) > 59)
		return false;
	if (i + 3 <= n && s[i] == ':' && all_digits(s + i + 1, 2) && num(s + i + 1, 2) <= 60) {
		i += 3;
		if (i < n && s[i] == '.')
			for (i++; i < n && is_digit(s[i]); i++)
				;
	}
	if (i < n && s[i] == 'Z')
		i++;
	else if (i < n && (s[i] == '+' || s[i] == '-') &&
		 ((n - i == 6 && s[i + 3] == ':' && all_digits(s + i + 1, 2) &&
		   all_digits(s + i + 4, 2)) || (n - i == 5 && all_digits(s + i + 1, 4))))
		i = n;
	return i == n;
}

/* A 1- or 2-digit number at s[*i] followed by sep (a 1..3-byte string). */
static bool part(const char *s, size_t n, size_t *i, const char *sep, int *out)
{
	size_t b = *i, sl = strlen(sep);

	while (*i < n && *i - b < 2 && is_digit(s[*i]))
		(*i)++;
	if (*i == b || (sl && (n - *i < sl || memcmp(s + *i, sep, sl))))
		return false;
	*out = num(s + b, *i - b);
	*i += sl;
	return true;
}

static bool date(const char *s, size_t n)
{
	static const char *const seps[][3] = {
		{ "-", "-", "" }, { "/", "/", "" }, { ".", ".", "" },
		{ "\xe5\xb9\xb4", "\xe6\x9c\x88", "\xe6\x97\xa5" },	/* 年 月 日 */
	};
	int y, m, d;

	if (n < 8 || !all_digits(s, 4))
		return false;
	y = num(s, 4);
	if (n == 8 && all_digits(s, 8))
		return ymd_ok(y, num(s + 4, 2), num(s + 6, 2), 1900, 2099);
	for (size_t k = 0; k < sizeof(seps) / sizeof(seps[0]); k++) {
		size_t i = 4, sl = strlen(seps[k][0]);

		if (memcmp(s + 4, seps[k][0], sl))
			continue;
		i += sl;
		if (!part(s, n, &i, seps[k][1], &m) || !part(s, n, &i, seps[k][2], &d) ||
		    !ymd_ok(y, m, d, 1800, 2199))
			continue;
		if (i == n)
			return true;
		if ((s[i] == 'T' || s[i] == ' ') && time_ok(s + i + 1, n - i - 1))
			return true;
	}
	return false;
}

static bool (*const detectors[PII_NKINDS])(const char *s, size_t n) = {
	[PII_ID_CARD] = id_card, [PII_PHONE] = phone, [PII_BANK_CARD] = bank_card,
	[PII_EMAIL] = email, [PII_DATE] = date,
};

bool pii_is(enum pii_kind k, const char *v, size_t n)
{
	char buf[FOLD_MAX + 1];
	int len;

	if ((unsigned)k >= PII_NKINDS)
		return false;
	len = fold(v, n, buf);
	return len > 0 && detectors[k](buf, (size_t)len);
}

unsigned pii_match(const char *v, size_t n)
{
	char buf[FOLD_MAX + 1];
	unsigned bits = 0;
	int len = fold(v, n, buf);

	for (int k = 0; len > 0 && k < PII_NKINDS; k++)
		if (detectors[k](buf, (size_t)len))
			bits |= 1u << k;
	return bits;
}

int pii_column_kind(const struct pii_column *c)
{
	int best = -1;

	for (int k = 0; k < PII_NKINDS; k++)
		if (c->values && c->hits[k] * 100 >= c->values * PII_DOMINANT &&
		    (best < 0 || c->hits[k] > c->hits[best]))
			best = k;
	return best;
}


/* ---- the loose form, for near matches ---- */

int pii_fold(const char *v, size_t n, struct strbuf *out)
{
	strbuf_reset(out);
	return nfc_append((const uint8_t *)v, n, NFC_KC_FOLD, true, out) ? -EINVAL : 0;
}
