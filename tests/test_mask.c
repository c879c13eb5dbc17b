/*
 * tests/test_mask.c - every mask on UTF-8 and GB18030 values, the mask
 * names, and the character layer under them.
 *
 * The table is written in UTF-8; each row also runs with input and
 * expectation converted to GB18030, so a mask that counted bytes instead
 * of characters fails twice.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/strbuf.h"
#include "policy/desens/mask.h"
#include "policy/desens/text.h"
#include "tests/desens_util.h"
#include "tests/unit_main.h"

static const uint8_t key[] = "test-key-0123456789";

struct mcase {
	const char *mask, *in, *want;
};

static const struct mcase cases[] = {
	{ "none", "张三丰", "张三丰" },
	{ "name", "张三丰", "张**" },
	{ "name", "张三", "张*" },
	{ "name", "张", "*" },
	{ "name", "Zhang San", "Z********" },
	{ "phone", "13812345678", "138****5678" },
	{ "phone", "+8613812345678", "+86*******5678" },
	{ "phone", "1234567", "*******" },
	{ "id_card", "341802199001011234", "341802********1234" },
	{ "id_card", "34180219900101123X", "341802********123X" },
	{ "id_card", "341802900101123", "341802******123" },
	{ "id_card", "12345", "*****" },
	{ "id_card", "３４１８０２１９９００１０１１２３４", "３４１８０２********１２３４" },
	{ "bank_card", "6222021234567890123", "622202*********0123" },
	{ "address", "安徽省宣城市宣州区鳌峰路1号", "安徽省宣城市********" },
	{ "address", "宣州区", "***" },
	{ "email", "zhangsan@example.com", "z***@example.com" },
	{ "email", "张三@例子.中国", "张***@例子.中国" },
	{ "email", "a\"b@c@example.com", "a***@example.com" },
	{ "email", "no-at-sign", "**********" },
	{ "email", "@example.com", "************" },
	{ "year", "1990-01-01", "1990" },
	{ "year", "1990/1/1", "1990" },
	{ "year", "1990.01.01", "1990" },
	{ "year", "1990年1月1日", "1990" },
	{ "year", "19900101", "1990" },
	{ "year", "1990-01-01T08:00:00Z", "1990" },
	{ "year", "01/02/1990", "1990" },
	{ "year", "1990", "****" },		/* a year alone is no date */
	{ "year", "12345", "*****" },
	{ "year", "一九九〇年", "*****" },
	{ "year", "unknown", "*******" },
	/* only real dates keep a year: 6- and 8-digit numbers are not cut */
	{ "year", "25121990", "********" },	/* month 19 */
	{ "year", "19901301", "********" },	/* month 13 */
	{ "year", "19900230", "********" },	/* 30 February */
	{ "year", "19000229", "********" },	/* not a leap year */
	{ "year", "20000229", "2000" },
	{ "year", "199001", "******" },
	{ "year", "123456789012", "************" },
	{ "year", "19900101083000", "1990" },
	{ "year", "19900101250000", "**************" },	/* hour 25 */
	{ "year", "1990-1-1", "1990" },
	{ "year", "1990-02-31", "**********" },
	{ "year", "1990-01-01x", "***********" },
	{ "year", "1990-01/01", "**********" },
	{ "year", "1990-01-01 08:30", "1990" },
	{ "year", "1990-01-01T08:30:00.5+08:00", "1990" },
	{ "year", "1990-01-01T24:00", "****************" },
	{ "year", "1990年13月1日", "**********" },
	{ "year", "1990年1月", "*******" },
	{ "year", "31/12/1990", "1990" },	/* day first */
	{ "year", "12/31/1990", "1990" },	/* month first */
	{ "year", "31/31/1990", "**********" },
	{ "year", "0990-01-01", "**********" },	/* year out of range */
	{ "year", "9999-01-01", "**********" },
	{ "redact", "张三丰", "" },
	{ "drop", "张三丰", "" },
	{ "keep(3,4)", "13812345678", "138****5678" },
	{ "keep(0,0)", "秘密", "**" },
	{ "keep(1,1)", "张三丰", "张*丰" },
	{ "keep(2,0)", "a张b三", "a张**" },
	{ "keep(0,2)", "a张b三", "**b三" },
	{ "keep(5,5)", "short", "*****" },
	{ "keep(1,0)", "𠀀𠀁𠀂", "𠀀**" },
	{ "name", "", "" },
	{ "hash", "", "" },
	{ "year", "", "" },
	{ "email", "", "" },
};

static struct mask_ctx *ctx(enum text_enc enc)
{
	struct mask_ctx *c = NULL;

	CU_ASSERT_EQUAL_FATAL(mask_ctx_new(enc, key, sizeof(key) - 1, &c), 0);
	return c;
}

static void to_gb(const char *s, struct strbuf *out)
{
	struct text_conv *cv = NULL;

	CU_ASSERT_EQUAL_FATAL(text_conv_new(TEXT_UTF8, TEXT_GB18030, &cv), 0);
	CU_ASSERT_EQUAL(text_conv_run(cv, s, strlen(s), out), 0);
	text_conv_free(cv);
}

static void run_case(struct mask_ctx *c, const struct mcase *t, const char *in,
		     size_t inlen, const char *want, size_t wantlen, const char *enc)
{
	struct strbuf out = STRBUF_INIT;
	struct mask_spec m;
	struct perr e = PERR_INIT;
	int ret;

	CU_ASSERT_EQUAL_FATAL(mask_spec_parse(t->mask, &m, &e), 0);
	ret = mask_apply(c, &m, in, inlen, &out);
	CU_ASSERT_EQUAL(ret, 0);
	if (ret || out.len != wantlen || memcmp(out.buf, want, wantlen)) {
		printf("\n  %s %s(\"%s\"): got \"%.*s\" (%d), want \"%s\"", enc, t->mask,
		       t->in, (int)out.len, out.buf, ret, t->want);
		CU_FAIL("mask result");
	}
	/* the same through the path for text already checked */
	strbuf_reset(&out);
	strbuf_grow(&out, MASK_OUT_MAX(inlen));
	ret = mask_apply_valid(c, &m, (const uint8_t *)in, inlen, (uint8_t *)out.buf, &out.len);
	CU_ASSERT_EQUAL(ret, 0);
	if (ret || out.len != wantlen || memcmp(out.buf, want, wantlen)) {
		printf("\n  %s %s(\"%s\") on checked text: got \"%.*s\" (%d), want \"%s\"",
		       enc, t->mask, t->in, (int)out.len, out.buf, ret, t->want);
		CU_FAIL("mask result on checked text");
	}
	strbuf_release(&out);
}

static void test_table_utf8(void)
{
	struct mask_ctx *c = ctx(TEXT_UTF8);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(c, &cases[i], cases[i].in, strlen(cases[i].in),
			 cases[i].want, strlen(cases[i].want), "utf-8");
	mask_ctx_free(c);
}

static void test_table_gb18030(void)
{
	struct mask_ctx *c = ctx(TEXT_GB18030);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf in = STRBUF_INIT, want = STRBUF_INIT;

		to_gb(cases[i].in, &in);
		to_gb(cases[i].want, &want);
		run_case(c, &cases[i], in.buf, in.len, want.buf, want.len, "gb18030");
		strbuf_release(&in);
		strbuf_release(&want);
	}
	mask_ctx_free(c);
}

/* GB18030 trail bytes that look like ASCII: 丂 is 81 40 ('@'), 乗 is 81 5C ('\'). */
static void test_gb18030_trail_bytes(void)
{
	struct mask_ctx *c = ctx(TEXT_GB18030);
	struct mask_spec m = { MASK_EMAIL, 0, 0 };
	struct strbuf out = STRBUF_INIT;

	CU_ASSERT_EQUAL(mask_apply(c, &m, "\x81\x40\x81\x5c", 4, &out), 0);
	CU_ASSERT_EQUAL(out.len, 2);
	CU_ASSERT_NSTRING_EQUAL(out.buf, "**", 2);
	strbuf_reset(&out);
	CU_ASSERT_EQUAL(mask_apply(c, &m, "\x81\x40" "b@x.cn", 8, &out), 0);
	CU_ASSERT_STRING_EQUAL(out.buf, "\x81\x40***@x.cn");
	strbuf_reset(&out);
	m.kind = MASK_NAME;
	CU_ASSERT_EQUAL(mask_apply(c, &m, "\x81\x5c\x81\x40\xd5\xc5", 6, &out), 0);
	CU_ASSERT_STRING_EQUAL(out.buf, "\x81\x5c**");
	strbuf_release(&out);
	mask_ctx_free(c);
}

static void test_invalid_text(void)
{
	static const struct {
		enum text_enc enc;
		const char *in;
		size_t len;
	} bad[] = {
		{ TEXT_UTF8, "\xff", 1 }, { TEXT_UTF8, "\xe5\xbc", 2 },
		{ TEXT_UTF8, "\xc0\xaf", 2 }, { TEXT_UTF8, "\xed\xa0\x80", 3 },
		{ TEXT_UTF8, "ab\x80", 3 }, { TEXT_GB18030, "\x80", 1 },
		{ TEXT_GB18030, "\xd5", 1 }, { TEXT_GB18030, "\xd5\x20", 2 },
		{ TEXT_GB18030, "\x95\x32\x82", 3 }, { TEXT_GB18030, "\xff\x40", 2 },
	};
	static const enum mask_kind kinds[] = {
		MASK_KEEP, MASK_ID_CARD, MASK_PHONE, MASK_NAME, MASK_BANK_CARD,
		MASK_ADDRESS, MASK_EMAIL, MASK_HASH, MASK_YEAR,
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mask_ctx *c = ctx(bad[i].enc);

		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			struct mask_spec m = { kinds[k], 1, 1 };
			struct strbuf out = STRBUF_INIT;

			CU_ASSERT_EQUAL(mask_apply(c, &m, bad[i].in, bad[i].len, &out), -EILSEQ);
			strbuf_release(&out);
		}
		mask_ctx_free(c);
	}
}

static void hash_of(struct mask_ctx *c, const char *v, size_t n, char out[65])
{
	struct mask_spec m = { MASK_HASH, 0, 0 };
	struct strbuf sb = STRBUF_INIT;

	CU_ASSERT_EQUAL(mask_apply(c, &m, v, n, &sb), 0);
	CU_ASSERT_EQUAL(sb.len, 64);
	snprintf(out, 65, "%s", sb.buf);
	strbuf_release(&sb);
}

static void test_hash(void)
{
	struct mask_ctx *c = ctx(TEXT_UTF8), *g = ctx(TEXT_GB18030), *other = NULL;
	static const uint8_t key2[] = "another key";
	unsigned char md[32];
	unsigned int mdlen = 0;
	char a[65], b[65], want[65];
	struct strbuf sb = STRBUF_INIT;
	struct mask_spec m = { MASK_HASH, 0, 0 };
	uint8_t longkey[100];

	hash_of(c, "341802199001011234", 18, a);
	hash_of(c, "341802199001011234", 18, b);
	CU_ASSERT_STRING_EQUAL(a, b);
	HMAC(EVP_sha256(), key, sizeof(key) - 1, (const unsigned char *)"341802199001011234",
	     18, md, &mdlen);
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(want + 2 * i, 3, "%02x", md[i]);
	CU_ASSERT_STRING_EQUAL(a, want);

	/* one value, one token, whatever the file's encoding */
	hash_of(c, "张三丰", strlen("张三丰"), a);
	hash_of(g, "\xd5\xc5\xc8\xfd\xb7\xe1", 6, b);
	CU_ASSERT_STRING_EQUAL(a, b);

	CU_ASSERT_EQUAL_FATAL(mask_ctx_new(TEXT_UTF8, key2, sizeof(key2) - 1, &other), 0);
	hash_of(other, "张三丰", strlen("张三丰"), b);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	mask_ctx_free(other);

	/* keys longer than a block are hashed first, as RFC 2104 says */
	memset(longkey, 0xa5, sizeof(longkey));
	CU_ASSERT_EQUAL_FATAL(mask_ctx_new(TEXT_UTF8, longkey, sizeof(longkey), &other), 0);
	hash_of(other, "x", 1, a);
	HMAC(EVP_sha256(), longkey, sizeof(longkey), (const unsigned char *)"x", 1, md, &mdlen);
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(want + 2 * i, 3, "%02x", md[i]);
	CU_ASSERT_STRING_EQUAL(a, want);
	mask_ctx_free(other);

	CU_ASSERT_EQUAL_FATAL(mask_ctx_new(TEXT_UTF8, NULL, 0, &other), 0);
	CU_ASSERT_EQUAL(mask_apply(other, &m, "x", 1, &sb), -ENOKEY);
	mask_ctx_free(other);
	strbuf_release(&sb);
	mask_ctx_free(c);
	mask_ctx_free(g);
}

static void test_spec_parse(void)
{
	static const char *const names[] = {
		"none", "keep(3,4)", "keep(0,0)", "id_card", "phone", "name", "bank_card",
		"address", "email", "hash", "year", "redact", "drop", "keep(1024,1)",
	};
	static const char *const bad[] = {
		"", "Name", "keep", "keep()", "keep(3)", "keep(3,4", "keep(-1,2)",
		"keep(1,2)x", "keep(1025,0)", "keep(a,b)", "hash ", "mask",
	};
	struct mask_spec m;
	char buf[32];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct perr e = PERR_INIT;

		CU_ASSERT_EQUAL(mask_spec_parse(names[i], &m, &e), 0);
		mask_spec_format(&m, buf, sizeof(buf));
		CU_ASSERT_STRING_EQUAL(buf, names[i]);
	}
	CU_ASSERT_EQUAL(mask_spec_parse("keep( 3 , 4 )", &m, NULL), 0);
	CU_ASSERT_EQUAL(m.kind, MASK_KEEP);
	CU_ASSERT_EQUAL(m.keep_first, 3);
	CU_ASSERT_EQUAL(m.keep_last, 4);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct perr e = PERR_INIT;

		CU_ASSERT_EQUAL(mask_spec_parse(bad[i], &m, &e), -EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, bad[i]));
	}
	mask_spec_format(&m, buf, 4);
	CU_ASSERT_EQUAL(strlen(buf), 3);
}

static void test_text(void)
{
	enum text_enc enc;
	size_t n = 0, bad = 0;

	CU_ASSERT_EQUAL(text_enc_parse(NULL, &enc), 0);
	CU_ASSERT_EQUAL(enc, TEXT_UTF8);
	CU_ASSERT_EQUAL(text_enc_parse("GBK", &enc), 0);
	CU_ASSERT_EQUAL(enc, TEXT_GB18030);
	CU_ASSERT_EQUAL(text_enc_parse("UTF-8", &enc), 0);
	CU_ASSERT_EQUAL(enc, TEXT_UTF8);
	CU_ASSERT_EQUAL(text_enc_parse("latin1", &enc), -EINVAL);

	CU_ASSERT_EQUAL(text_count(TEXT_UTF8, (const uint8_t *)"ab张三丰cdefghijk", 20, &n), 0);
	CU_ASSERT_EQUAL(n, 14);
	CU_ASSERT_EQUAL(text_count(TEXT_GB18030, (const uint8_t *)"\x95\x32\x82\x36z", 5, &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(text_char_len(TEXT_UTF8, (const uint8_t *)"\xe5\xbc", 2), 0);
	CU_ASSERT_EQUAL(text_char_len(TEXT_GB18030, (const uint8_t *)"\x95\x32", 2), 0);
	CU_ASSERT_EQUAL(text_char_len(TEXT_GB18030, (const uint8_t *)"\x95\x32\x82\x36", 4), 4);
	CU_ASSERT_EQUAL(text_char_len(TEXT_UTF8, (const uint8_t *)"\xf4\x90\x80\x80", 4), -1);
	CU_ASSERT_EQUAL(text_check(TEXT_UTF8, (const uint8_t *)"0123456789abc\0def", 17, &bad),
			-EILSEQ);
	CU_ASSERT_EQUAL(bad, 13);
	CU_ASSERT_EQUAL(text_check(TEXT_UTF8, (const uint8_t *)"0123456789ab张三", 18, &bad), 0);
	CU_ASSERT_EQUAL(text_check(TEXT_GB18030, (const uint8_t *)"01234567\xd5\xc5\x80", 11, &bad),
			-EILSEQ);
	CU_ASSERT_EQUAL(bad, 10);
}

/* What a lapsed grant's mask and the tag default give together: never more than either. */
static void test_meet(void)
{
	static const struct {
		const char *a, *b, *want;
	} cases[] = {
		{ "none", "name", "name" },		/* a lift is lost */
		{ "name", "none", "name" },
		{ "phone", "phone", "phone" },
		{ "drop", "name", "drop" },
		{ "id_card", "drop", "drop" },
		{ "redact", "phone", "redact" },
		{ "hash", "id_card", "redact" },	/* tokens link, keep shows digits */
		{ "hash", "hash", "hash" },
		{ "keep(3,4)", "phone", "keep(3,4)" },	/* the same shape */
		{ "keep(0,4)", "keep(3,4)", "keep(0,0)" },	/* both keep the length */
		{ "id_card", "name", "keep(0,0)" },
		{ "email", "name", "redact" },
		{ "year", "keep(0,4)", "redact" },
		{ "none", "none", "none" },
	};
	struct mask_spec a, b, m;
	char got[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_FATAL(mask_spec_parse(cases[i].a, &a, NULL) == 0);
		CU_ASSERT_FATAL(mask_spec_parse(cases[i].b, &b, NULL) == 0);
		mask_spec_meet(&a, &b, &m);
		mask_spec_format(&m, got, sizeof(got));
		if (strcmp(got, cases[i].want))
			fprintf(stderr, "\n  meet(%s, %s) = %s, want %s", cases[i].a, cases[i].b,
				got, cases[i].want);
		CU_ASSERT_STRING_EQUAL(got, cases[i].want);
	}
}

/*
 * mask_apply_valid() against mask_apply_raw() on random valid UTF-8: one
 * to four bytes a character, lengths across the word-at-a-time count's
 * 8-byte steps, NUL included (a masked JSON value may hold one), every
 * kind and keep(F,L) shape.
 */
static void test_valid_path(void)
{
	static const char *const chars[] = { "a", "7", "@", "\xc3\xa9", "张", "\xef\xbc\x91",
					     "\xf0\xa0\x80\x80", "*", " " };
	static const int nul_kinds[] = { MASK_KEEP, MASK_ID_CARD, MASK_PHONE, MASK_NAME,
					 MASK_BANK_CARD, MASK_ADDRESS };
	struct mask_ctx *c = ctx(TEXT_UTF8);
	struct strbuf v = STRBUF_INIT;
	uint8_t a[256], b[256];
	uint64_t rs = 0x76616c6964ULL;
	unsigned bad = 0;

	for (int i = 0; i < 20000; i++) {
		struct mask_spec m = { (enum mask_kind)(splitmix64(&rs) % (MASK_DROP + 1)),
				       (int)(splitmix64(&rs) % 6), (int)(splitmix64(&rs) % 6) };
		size_t nc = splitmix64(&rs) % 26, na = 0, nb = 0;
		int ra, rb;

		strbuf_reset(&v);
		for (size_t k = 0; k < nc; k++) {
			uint64_t r = splitmix64(&rs);

			/* mostly one kind of character, as in a real column */
			strbuf_addstr(&v, chars[r % 4 ? (uint64_t)(i % 9) : (r >> 8) % 9]);
		}
		/* a NUL only where no check would refuse it: the keep masks count it */
		if (nc && splitmix64(&rs) % 10 == 0)
			for (size_t k = 0; k < sizeof(nul_kinds) / sizeof(nul_kinds[0]); k++)
				if (m.kind == (enum mask_kind)nul_kinds[k])
					v.buf[v.len / 2] = (v.buf[v.len / 2] & 0x80) ? v.buf[v.len / 2] : 0;
		ra = mask_apply_raw(c, &m, (const uint8_t *)v.buf, v.len, a, &na);
		rb = mask_apply_valid(c, &m, (const uint8_t *)v.buf, v.len, b, &nb);
		if (ra != rb || na != nb || memcmp(a, b, na)) {
			if (bad++ < 5)
				printf("\n  kind %d keep(%d,%d) on %zu bytes: raw %d \"%.*s\", "
				       "checked %d \"%.*s\"", (int)m.kind, m.keep_first,
				       m.keep_last, v.len, ra, (int)na, (const char *)a, rb,
				       (int)nb, (const char *)b);
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	strbuf_release(&v);
	mask_ctx_free(c);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "table utf-8", test_table_utf8 },
		{ "table gb18030", test_table_gb18030 },
		{ "gb18030 trail bytes", test_gb18030_trail_bytes },
		{ "invalid text", test_invalid_text },
		{ "hash", test_hash },
		{ "mask names", test_spec_parse },
		{ "text layer", test_text },
		{ "meet of two masks", test_meet },
		{ "checked text: the same as the checking path", test_valid_path },
	};

	return unit_tests_run("mask", NULL, NULL, tests, UNIT_COUNT(tests));
}
