/*
 * tests/test_text.c - text_check(), text_count() and text_offset() on
 * UTF-8 against a decoder written from RFC 3629 alone, over random
 * mixes of valid characters and damage, at lengths on both sides of the
 * 32-byte blocks of the AVX2 check: that check only ever answers "valid"
 * for text the scalar rules call valid, and counts the same characters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/desens/text.h"
#include "tests/unit_main.h"

/* Strict UTF-8 by code points: 1 and *n characters when valid (NUL only if nul_ok). */
static int ref_valid(const uint8_t *p, size_t len, int nul_ok, size_t *n)
{
	size_t i = 0, c = 0;

	while (i < len) {
		uint8_t b = p[i];
		uint32_t cp;
		int l;

		if (b < 0x80) {
			if (!b && !nul_ok)
				return 0;
			i++;
			c++;
			continue;
		}
		if (b >= 0xC2 && b <= 0xDF) {
			l = 2;
			cp = b & 0x1F;
		} else if (b >= 0xE0 && b <= 0xEF) {
			l = 3;
			cp = b & 0x0F;
		} else if (b >= 0xF0 && b <= 0xF4) {
			l = 4;
			cp = b & 0x07;
		} else {
			return 0;
		}
		if (i + (size_t)l > len)
			return 0;
		for (int k = 1; k < l; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3F);
		}
		if ((l == 3 && cp < 0x800) || (l == 4 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += (size_t)l;
		c++;
	}
	*n = c;
	return 1;
}

/* the same cases every run */
static uint64_t rng(void)
{
	return (uint64_t)random();
}

static void test_utf8_random(void)
{
	static const char *const pieces[] = {
		"a", "张", "€", "é", "\xf0\x9d\x84\x9e", "\xed\x9f\xbf", "\xef\xbf\xbf",
		"\xf4\x8f\xbf\xbf", ",", "0123456789", "\n", "身份证号码",
	};
	uint8_t buf[300];
	long wrong = 0, valid = 0;

	srandom(20261205);
	for (long it = 0; it < 300000; it++) {
		size_t len = 0, want = rng() % 200, n1 = 0, n2 = 0, bad;
		int r, damage = (int)(rng() % 3);

		while (len < want) {
			const char *s = pieces[rng() % (sizeof(pieces) / sizeof(pieces[0]))];
			size_t l = strlen(s);

			if (len + l > sizeof(buf))
				break;
			memcpy(buf + len, s, l);
			len += l;
		}
		for (int k = 0; k < damage && len; k++)
			buf[rng() % len] = (uint8_t)rng();
		if (rng() % 4 == 0 && len)
			len -= rng() % (len < 4 ? len : 4);
		r = ref_valid(buf, len, 0, &n1);
		valid += r;
		if ((text_check(TEXT_UTF8, buf, len, &bad) == 0) != r)
			wrong++;
		r = ref_valid(buf, len, 1, &n1);
		if ((text_count(TEXT_UTF8, buf, len, &n2) == 0) != r || (r && n1 != n2))
			wrong++;
		/* the offset of every character, from the reference's walk */
		if (r && n1) {
			size_t idx = rng() % n1, at = 0;

			for (size_t k = 0; k < idx; k++)
				for (at++; at < len && (buf[at] & 0xC0) == 0x80; at++)
					;
			if (text_offset(TEXT_UTF8, buf, len, idx) != at)
				wrong++;
		}
	}
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT(valid > 50000);
}

/* A bad byte is placed exactly, wherever it falls in a 32-byte block. */
static void test_utf8_bad_offset(void)
{
	uint8_t buf[160];

	for (size_t at = 0; at < sizeof(buf); at++) {
		size_t bad = 999, i = 0;

		while (i + 3 <= sizeof(buf)) {
			memcpy(buf + i, "张", 3);
			i += 3;
		}
		memset(buf + i, 'x', sizeof(buf) - i);
		/* a byte never in UTF-8: bad at its own offset, or at the lead it cut */
		buf[at] = 0xFF;
		CU_ASSERT_EQUAL_FATAL(text_check(TEXT_UTF8, buf, sizeof(buf), &bad), -EILSEQ);
		CU_ASSERT(bad <= at && at - bad < 3);
		buf[at] = 0;
		CU_ASSERT_EQUAL_FATAL(text_check(TEXT_UTF8, buf, sizeof(buf), &bad), -EILSEQ);
		CU_ASSERT(bad <= at && at - bad < 3);
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "utf-8 against a reference decoder", test_utf8_random },
		{ "utf-8 errors placed in any block", test_utf8_bad_offset },
	};

	return unit_tests_run("text", NULL, NULL, tests, UNIT_COUNT(tests));
}
