/*
 * tests/test_nfc.c - policy/desens/nfc.c against Python's unicodedata: every
 * code point alone, then many random strings built from the characters
 * that decompose, compose, reorder or get trimmed.
 *
 * The expectations are printed by python3 (a dependency of the project,
 * scripts/deps.sh) at run time, so they come from the same unicodedata as
 * the generated table but never from the code under test.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "policy/desens/nfc.h"
#include "policy/desens/text.h"
#include "tests/unit_main.h"

/*
 * S CP NFC NFKC            a code point whose NFC or NFKC is not itself
 * R IN NFC NFKC TRIM ISNFC a random string; TRIM is NFC stripped
 * Texts are UTF-8 in hex, "-" when empty.
 */
static const char vectors_py[] =
	"import random, sys, unicodedata as ud\n"
	"sp = [c for c in map(chr, range(0x110000)) if c.isspace()] + [chr(0x200B), chr(0xFEFF)]\n"
	"SP = str().join(sp)\n"
	"def h(s):\n"
	"    return s.encode().hex() or chr(45)\n"
	"w = sys.stdout.write\n"
	"w(chr(86) + chr(32) + ud.unidata_version + chr(10))\n"
	"pool = []\n"
	"for cp in range(0x110000):\n"
	"    if 0xD800 <= cp <= 0xDFFF:\n"
	"        continue\n"
	"    c = chr(cp)\n"
	"    n, k = ud.normalize(chr(78)+chr(70)+chr(67), c), ud.normalize(chr(78)+chr(70)+chr(75)+chr(67), c)\n"
	"    if n != c or k != c:\n"
	"        w(chr(83) + chr(32) + h(c) + chr(32) + h(n) + chr(32) + h(k) + chr(10))\n"
	"    if ud.combining(c) or ud.decomposition(c) or n != c or k != c:\n"
	"        pool.append(c)\n"
	"pool += list(map(chr, range(0x1100, 0x1113))) + list(map(chr, range(0x1161, 0x1176)))\n"
	"pool += list(map(chr, range(0x11A7, 0x11C3))) + [chr(0xAC00), chr(0xAC01), chr(0xD7A3)]\n"
	"pool += list(str(chr(97)+chr(101)+chr(111)+chr(65))) + sp + list(map(chr, range(0x4E00, 0x4E10)))\n"
	"rnd = random.Random(20261122)\n"
	"for i in range(40000):\n"
	"    s = str().join(rnd.choice(pool) for _ in range(rnd.randrange(0, 9)))\n"
	"    n = ud.normalize(chr(78)+chr(70)+chr(67), s)\n"
	"    k = ud.normalize(chr(78)+chr(70)+chr(75)+chr(67), s)\n"
	"    q = int(ud.is_normalized(chr(78)+chr(70)+chr(67), s) and s == s.strip(SP))\n"
	"    w(chr(82) + chr(32) + h(s) + chr(32) + h(n) + chr(32) + h(k) + chr(32) + h(n.strip(SP)) + chr(32) + str(q) + chr(10))\n";

static void unhex(const char *hex, struct strbuf *out)
{
	strbuf_reset(out);
	if (!strcmp(hex, "-"))
		return;
	for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
		unsigned v;

		if (sscanf(hex + i, "%2x", &v) != 1)
			abort();
		strbuf_addch(out, (char)v);
	}
}

static bool check(const struct strbuf *in, enum nfc_form f, bool trim,
		  const struct strbuf *want, const char *what)
{
	struct strbuf got = STRBUF_INIT;
	bool ok;

	ok = !nfc_append((const uint8_t *)in->buf, in->len, f, trim, &got) &&
	     got.len == want->len && !memcmp(got.buf, want->buf, got.len);
	if (!ok) {
		printf("\n  %s of", what);
		for (size_t i = 0; i < in->len; i++)
			printf(" %02x", (uint8_t)in->buf[i]);
		printf(": got");
		for (size_t i = 0; i < got.len; i++)
			printf(" %02x", (uint8_t)got.buf[i]);
		printf(", want");
		for (size_t i = 0; i < want->len; i++)
			printf(" %02x", (uint8_t)want->buf[i]);
	}
	strbuf_release(&got);
	return ok;
}

static void utf8_of(uint32_t cp, struct strbuf *out)
{
	strbuf_reset(out);
	CU_ASSERT_EQUAL_FATAL(text_put_cp(TEXT_UTF8, NULL, cp, out), 0);
}

static void test_against_python(void)
{
	static char line[4096];
	struct strbuf cmd = STRBUF_INIT, in = STRBUF_INIT, n = STRBUF_INIT,
		      k = STRBUF_INIT, t = STRBUF_INIT;
	uint8_t *listed = calloc(0x110000, 1);
	size_t singles = 0, randoms = 0, bad = 0;
	FILE *py;

	CU_ASSERT_PTR_NOT_NULL_FATAL(listed);
	strbuf_addstr(&cmd, "python3 -c '");
	strbuf_addstr(&cmd, vectors_py);
	strbuf_addstr(&cmd, "'");
	py = popen(cmd.buf, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(py);
	while (fgets(line, sizeof(line), py)) {
		char a[1024], b[1024], c[1024], d[1024];
		int q;

		if (!strncmp(line, "V ", 2)) {
			line[strcspn(line, "\n")] = '\0';
			if (strcmp(line + 2, nfc_unicode_version())) {
				printf("\n  python3 has Unicode %s, the table %s: "
				       "run scripts/gen_nfc.py", line + 2,
				       nfc_unicode_version());
				CU_FAIL("unicode version");
				break;
			}
		} else if (sscanf(line, "S %1023s %1023s %1023s", a, b, c) == 3) {
			uint32_t cp;
			int l;

			unhex(a, &in);
			l = text_char_len(TEXT_UTF8, (const uint8_t *)in.buf, in.len);
			CU_ASSERT_FATAL(l > 0 && (size_t)l == in.len);
			cp = (uint8_t)in.buf[0];
			if (l > 1) {
				cp &= 0xFFu >> (l + 1);
				for (int i = 1; i < l; i++)
					cp = cp << 6 | ((uint8_t)in.buf[i] & 0x3F);
			}
			listed[cp] = 1;
			unhex(b, &n);
			unhex(c, &k);
			bad += !check(&in, NFC_C, false, &n, "NFC");
			bad += !check(&in, NFC_KC, false, &k, "NFKC");
			singles++;
		} else if (sscanf(line, "R %1023s %1023s %1023s %1023s %d", a, b, c, d,
				  &q) == 5) {
			unhex(a, &in);
			unhex(b, &n);
			unhex(c, &k);
			unhex(d, &t);
			bad += !check(&in, NFC_C, false, &n, "NFC");
			bad += !check(&in, NFC_KC, false, &k, "NFKC");
			bad += !check(&in, NFC_C, true, &t, "NFC trimmed");
			/* the quick check may say "maybe"; it must never say yes wrongly */
			if (nfc_quick((const uint8_t *)in.buf, in.len) && !q) {
				printf("\n  quick check said yes to %s", a);
				bad++;
			}
			randoms++;
		}
		if (bad > 20)
			break;
	}
	CU_ASSERT_EQUAL(pclose(py), 0);
	CU_ASSERT(singles > 4000);
	CU_ASSERT_EQUAL(randoms, 40000);
	/* every code point Python left unchanged is unchanged here too */
	for (uint32_t cp = 0; cp < 0x110000 && bad <= 20; cp++) {
		if (listed[cp] || (cp >= 0xD800 && cp <= 0xDFFF))
			continue;
		utf8_of(cp, &in);
		bad += !check(&in, NFC_C, false, &in, "NFC (identity)");
		bad += !check(&in, NFC_KC, false, &in, "NFKC (identity)");
	}
	CU_ASSERT_EQUAL(bad, 0);
	free(listed);
	strbuf_release(&cmd);
	strbuf_release(&in);
	strbuf_release(&n);
	strbuf_release(&k);
	strbuf_release(&t);
}

struct ncase {
	const char *in, *want;
	enum nfc_form f;
	bool trim;
};

static const struct ncase ncases[] = {
	/* the names of the reviews: padding, NFD, a compatibility ideograph */
	{ " 身份证号 ", "身份证号", NFC_C, true },
	{ "\t身份证号\xe3\x80\x80", "身份证号", NFC_C, true },
	{ "\xe2\x80\x8b姓名\xef\xbb\xbf", "姓名", NFC_C, true },
	{ "Jose\xcc\x81", "Jos\xc3\xa9", NFC_C, false },
	{ "\xef\xa9\xa6", "\xe8\xbe\xb6", NFC_C, false },	/* U+FA66 -> U+8FB6 */
	/* inner whitespace stays */
	{ " 宣 州 ", "宣 州", NFC_C, true },
	/* NFC keeps full-width letters, NFKC folds them */
	{ "\xef\xbc\xa1\xef\xbc\xa2", "\xef\xbc\xa1\xef\xbc\xa2", NFC_C, true },
	{ "\xef\xbc\xa1\xef\xbc\xa2", "AB", NFC_KC, true },
	/* Hangul: jamo compose, a syllable stays */
	{ "\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8", "\xea\xb0\x81", NFC_C, false },
	{ "", "", NFC_C, true },
	{ " \t ", "", NFC_C, true },
	/* the loose form: width and case go, ß stays (one code point to one) */
	{ "\xe3\x80\x80\xef\xbc\xa1" "b\xc3\x89 ", "ab\xc3\xa9", NFC_KC_FOLD, true },
	{ "\xce\xa3\xcf\x82\xd0\x96\xc3\x9f", "\xcf\x83\xcf\x83\xd0\xb6\xc3\x9f", NFC_KC_FOLD, false },
	/* J + caron is no character, j + caron composes to U+01F0 */
	{ "J\xcc\x8c", "\xc7\xb0", NFC_KC_FOLD, false },
};

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(ncases) / sizeof(ncases[0]); i++) {
		struct strbuf in = STRBUF_INIT, want = STRBUF_INIT;

		strbuf_addstr(&in, ncases[i].in);
		strbuf_addstr(&want, ncases[i].want);
		CU_ASSERT(check(&in, ncases[i].f, ncases[i].trim, &want, ncases[i].in));
		strbuf_release(&in);
		strbuf_release(&want);
	}
}

static void test_quick_and_errors(void)
{
	struct strbuf out = STRBUF_INIT;

	CU_ASSERT_TRUE(nfc_quick((const uint8_t *)"id_card", 7));
	CU_ASSERT_TRUE(nfc_quick((const uint8_t *)"身份证号", strlen("身份证号")));
	CU_ASSERT_FALSE(nfc_quick((const uint8_t *)" id", 3));
	CU_ASSERT_FALSE(nfc_quick((const uint8_t *)"id\t", 3));
	CU_ASSERT_FALSE(nfc_quick((const uint8_t *)"e\xcc\x81", 3));
	CU_ASSERT_FALSE(nfc_quick((const uint8_t *)"\xef\xa9\xa6", 3));
	CU_ASSERT_TRUE(nfc_is_space(0x3000));
	CU_ASSERT_FALSE(nfc_is_space('a'));
	CU_ASSERT_EQUAL(nfc_append((const uint8_t *)"a\xff", 2, NFC_C, false, &out), -EILSEQ);
	strbuf_release(&out);
}

/*
 * F IN LOOSE: the loose form (NFC_KC_FOLD, trimmed) of every code point
 * that case folding or NFKC changes, of each such followed by a combining
 * mark where folding makes a new composition, then of random strings of
 * them with combining marks and spaces. Simple folding is str.casefold()
 * where that is one character, else str.lower() where that is.
 */
static const char loose_py[] =
	"import random, sys, unicodedata as ud\n"
	"sp = [c for c in map(chr, range(0x110000)) if c.isspace()] + [chr(0x200B), chr(0xFEFF)]\n"
	"SP = str().join(sp)\n"
	"def h(s):\n"
	"    return s.encode().hex() or chr(45)\n"
	"def sf(c):\n"
	"    for f in (c.casefold(), c.lower()):\n"
	"        if len(f) == 1:\n"
	"            return f\n"
	"    return c\n"
	"def loose(s):\n"
	"    k = ud.normalize(chr(78)+chr(70)+chr(75)+chr(67), s)\n"
	"    f = str().join(map(sf, k))\n"
	"    return ud.normalize(chr(78)+chr(70)+chr(75)+chr(67), f).strip(SP)\n"
	"pool = []\n"
	"for cp in range(0x110000):\n"
	"    if 0xD800 <= cp <= 0xDFFF:\n"
	"        continue\n"
	"    c = chr(cp)\n"
	"    if loose(c) != c:\n"
	"        sys.stdout.write(chr(70) + chr(32) + h(c) + chr(32) + h(loose(c)) + chr(10))\n"
	"        pool.append(c)\n"
	"marks = list(map(chr, range(0x300, 0x370)))\n"
	"for c in list(pool):\n"
	"    for m in marks:\n"
	"        k = ud.normalize(chr(78)+chr(70)+chr(75)+chr(67), c + m)\n"
	"        if str().join(map(sf, k)).strip(SP) != loose(c + m):\n"
	"            sys.stdout.write(chr(70) + chr(32) + h(c + m) + chr(32) + h(loose(c + m)) + chr(10))\n"
	"pool += marks + sp + list(str(chr(97)+chr(106)+chr(74)))\n"
	"rnd = random.Random(20261123)\n"
	"for i in range(20000):\n"
	"    s = str().join(rnd.choice(pool) for _ in range(rnd.randrange(0, 7)))\n"
	"    sys.stdout.write(chr(70) + chr(32) + h(s) + chr(32) + h(loose(s)) + chr(10))\n";

static void test_loose_against_python(void)
{
	static char line[4096];
	struct strbuf cmd = STRBUF_INIT, in = STRBUF_INIT, want = STRBUF_INIT;
	size_t seen = 0, bad = 0;
	char a[1024], b[1024];
	FILE *py;

	strbuf_addstr(&cmd, "python3 -c '");
	strbuf_addstr(&cmd, loose_py);
	strbuf_addstr(&cmd, "'");
	py = popen(cmd.buf, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(py);
	while (bad <= 20 && fgets(line, sizeof(line), py)) {
		if (sscanf(line, "F %1023s %1023s", a, b) != 2)
			continue;
		unhex(a, &in);
		unhex(b, &want);
		bad += !check(&in, NFC_KC_FOLD, true, &want, "loose form");
		seen++;
	}
	CU_ASSERT_EQUAL(pclose(py), 0);
	CU_ASSERT(seen > 20000 + 1000);
	CU_ASSERT_EQUAL(bad, 0);
	strbuf_release(&cmd);
	strbuf_release(&in);
	strbuf_release(&want);
}

/* nfc_trim: IN is trimmed to its bytes [LEAD, LEAD + LEN). */
static const struct {
	const char *in;
	size_t lead, len;
} tcases[] = {
	{ "", 0, 0 },
	{ " \t\r\n", 4, 0 },
	{ "\xe3\x80\x80姓名\xc2\xa0", 3, 6 },		/* U+3000, U+00A0 */
	{ "\xe2\x80\x8b a b\xef\xbb\xbf", 4, 3 },	/* U+200B, U+FEFF */
	{ "a\xe2\x80\xa8", 0, 1 },			/* U+2028 */
	{ "\xc2\xa7", 0, 2 },				/* U+00A7 is no space */
	/* not UTF-8: trimming stops there */
	{ " \xff ", 1, 1 },
	{ "\x80 ", 0, 1 },
	{ " \xe3\x80", 1, 2 },
};

static void test_trim(void)
{
	for (size_t i = 0; i < sizeof(tcases) / sizeof(tcases[0]); i++) {
		const uint8_t *in = (const uint8_t *)tcases[i].in, *t;
		size_t n = strlen(tcases[i].in);

		t = nfc_trim(in, &n);
		if (t != in + tcases[i].lead || n != tcases[i].len)
			printf("\n  trim case %zu: lead %zu len %zu", i, (size_t)(t - in), n);
		CU_ASSERT(t == in + tcases[i].lead && n == tcases[i].len);
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "against python unicodedata", test_against_python },
		{ "cases", test_cases },
		{ "quick check and errors", test_quick_and_errors },
		{ "trim", test_trim },
		{ "loose form against python", test_loose_against_python },
	};

	return unit_tests_run("nfc", NULL, NULL, tests, UNIT_COUNT(tests));
}
