/*
 * tests/test_pii.c - the detectors of policy/desens/pii.c, value by value, and
 * the sampler of policy/desens/pii_sample.c on CSV, TSV, JSON Lines and JSON in
 * UTF-8 and GB18030, whole and cut short.
 *
 * Detector rows are near misses on purpose: a wrong check digit, Feb 30,
 * a Luhn number one digit off, so that a detector which checks only the
 * shape fails.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/strbuf.h"
#include "policy/desens/pii.h"
#include "policy/desens/text.h"
#include "tests/unit_main.h"

struct vcase {
	enum pii_kind kind;
	const char *v;
	bool want;
};

static const struct vcase values[] = {
	{ PII_ID_CARD, "11010519491231002X", true },
	{ PII_ID_CARD, "11010519491231002x", true },
	{ PII_ID_CARD, "341802199001011235", true },
	{ PII_ID_CARD, "440304200002291236", true },	/* 2000 was a leap year */
	{ PII_ID_CARD, "510108200512310014", true },
	{ PII_ID_CARD, " 341802199001011235\t", true },
	{ PII_ID_CARD, "３４１８０２１９９００１０１１２３５", true },
	{ PII_ID_CARD, "341802900101123", true },	/* 15 digits, 1990-01-01 */
	{ PII_ID_CARD, "341802199001011234", false },	/* check digit */
	{ PII_ID_CARD, "110105194912310021", false },	/* check digit is X */
	{ PII_ID_CARD, "341802199002301234", false },	/* Feb 30, right check digit */
	{ PII_ID_CARD, "001802199001011230", false },	/* no province 00 */
	{ PII_ID_CARD, "341802901301123", false },	/* month 13 */
	{ PII_ID_CARD, "34180219900101123", false },
	{ PII_ID_CARD, "3418021990010112355", false },
	{ PII_ID_CARD, "341802-19900101-1235", false },
	{ PII_PHONE, "13812345678", true },
	{ PII_PHONE, "19912345678", true },
	{ PII_PHONE, "+8613812345678", true },
	{ PII_PHONE, "+86 138 1234 5678", true },
	{ PII_PHONE, "+86-138-1234-5678", true },
	{ PII_PHONE, "8613812345678", true },
	{ PII_PHONE, "008613812345678", true },
	{ PII_PHONE, "\xe3\x80\x80" "13812345678", true },	/* U+3000 before */
	{ PII_PHONE, "１３８１２３４５６７８", true },
	/* NFKC, not only full-width ASCII: U+3000 inside, a no-break space after */
	{ PII_PHONE, "138\xe3\x80\x80" "1234\xe3\x80\x80" "5678\xc2\xa0", true },
	{ PII_PHONE, "12812345678", false },
	{ PII_PHONE, "1381234567", false },
	{ PII_PHONE, "138123456789", false },
	{ PII_PHONE, "+85213812345678", false },
	{ PII_PHONE, "+13812345678", false },
	{ PII_PHONE, "138--1234-5678", false },
	{ PII_PHONE, "138 1234 5678 ", true },
	{ PII_PHONE, "0551-62345678", false },
	{ PII_BANK_CARD, "4111111111111111", true },
	{ PII_BANK_CARD, "4111 1111 1111 1111", true },
	{ PII_BANK_CARD, "6222021234567890128", true },
	{ PII_BANK_CARD, "6222021234566", true },
	{ PII_BANK_CARD, "5500000000000004", true },
	{ PII_BANK_CARD, "4111111111111112", false },
	{ PII_BANK_CARD, "6222021234567890123", false },
	{ PII_BANK_CARD, "0000000000000000", false },
	{ PII_BANK_CARD, "411111111111", false },		/* 12 digits */
	{ PII_BANK_CARD, "41111111111111111113", false },	/* 20 digits */
	{ PII_BANK_CARD, "4111x111111111111", false },
	{ PII_EMAIL, "zhangsan@example.com", true },
	{ PII_EMAIL, "a.b+tag@mail.example.com.cn", true },
	{ PII_EMAIL, "张三@例子.中国", true },
	{ PII_EMAIL, "ZS@EXAMPLE.ORG", true },
	{ PII_EMAIL, "zhangsan＠example.com", true },
	{ PII_EMAIL, "no-at-sign", false },
	{ PII_EMAIL, "@example.com", false },
	{ PII_EMAIL, "zs@localhost", false },
	{ PII_EMAIL, "a@@example.com", false },
	{ PII_EMAIL, "a@b@example.com", false },
	{ PII_EMAIL, "a..b@example.com", false },
	{ PII_EMAIL, ".a@example.com", false },
	{ PII_EMAIL, "a@-example.com", false },
	{ PII_EMAIL, "a@example..com", false },
	{ PII_EMAIL, "a@example.c", false },
	{ PII_EMAIL, "a@10.0.0.1", false },
	{ PII_EMAIL, "a b@example.com", false },
	{ PII_DATE, "1990-01-01", true },
	{ PII_DATE, "1990/1/1", true },
	{ PII_DATE, "1990.12.31", true },
	{ PII_DATE, "19900101", true },
	{ PII_DATE, "1990年1月1日", true },
	{ PII_DATE, "1990年12月", false },
	{ PII_DATE, "2000-02-29", true },
	{ PII_DATE, "2026-11-22T10:00:00Z", true },
	{ PII_DATE, "2026-11-22 10:00", true },
	{ PII_DATE, "2026-11-22T10:00:00.123+08:00", true },
	{ PII_DATE, "2026-11-22T10:00:00+0800", true },
	{ PII_DATE, "1990-02-30", false },
	{ PII_DATE, "1900-02-29", false },
	{ PII_DATE, "1990-13-01", false },
	{ PII_DATE, "1990-01", false },
	{ PII_DATE, "1990-01/01", false },
	{ PII_DATE, "12345678", false },
	{ PII_DATE, "2026-11-22T25:00", false },
	{ PII_DATE, "2026-11-22 10:00 tomorrow", false },
};

static void test_values(void)
{
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		const struct vcase *c = &values[i];
		bool got = pii_is(c->kind, c->v, strlen(c->v));

		if (got != c->want)
			printf("\n  %s \"%s\": got %d, want %d", pii_kind_name(c->kind), c->v, got,
			       c->want);
		CU_ASSERT_EQUAL(got, c->want);
	}
}

static void test_match(void)
{
	CU_ASSERT_EQUAL(pii_match("13812345678", 11), 1u << PII_PHONE);
	CU_ASSERT_EQUAL(pii_match("11010519491231002X", 18), 1u << PII_ID_CARD);
	/* an ID number may pass Luhn too: both are counted, the column decides */
	CU_ASSERT_EQUAL(pii_match("341802199001011235", 18) & (1u << PII_ID_CARD),
			1u << PII_ID_CARD);
	CU_ASSERT_EQUAL(pii_match("", 0), 0);
	CU_ASSERT_EQUAL(pii_match("   ", 3), 0);
	CU_ASSERT_EQUAL(pii_match("张三丰", strlen("张三丰")), 0);
	CU_ASSERT_EQUAL(pii_is(PII_NKINDS, "13812345678", 11), false);
	CU_ASSERT_STRING_EQUAL(pii_kind_name(PII_BANK_CARD), "bank_card");
	CU_ASSERT_TRUE(pii_kind_personal(PII_EMAIL));
	CU_ASSERT_FALSE(pii_kind_personal(PII_DATE));
}

static void test_column_kind(void)
{
	struct pii_column c = { .values = 100 };

	CU_ASSERT_EQUAL(pii_column_kind(&c), -1);
	c.hits[PII_PHONE] = 79;
	CU_ASSERT_EQUAL(pii_column_kind(&c), -1);
	c.hits[PII_PHONE] = 80;
	CU_ASSERT_EQUAL(pii_column_kind(&c), PII_PHONE);
	c.hits[PII_BANK_CARD] = 90;
	CU_ASSERT_EQUAL(pii_column_kind(&c), PII_BANK_CARD);
	c.hits[PII_ID_CARD] = 90;	/* a tie goes to the lower kind */
	CU_ASSERT_EQUAL(pii_column_kind(&c), PII_ID_CARD);
	c.values = 0;
	CU_ASSERT_EQUAL(pii_column_kind(&c), -1);
}

/* Samples text (UTF-8 unless enc says otherwise) as a whole file. */
static int sample(const char *text, size_t n, enum view_format fmt, enum text_enc enc,
		  uint64_t max, struct pii_sample *s, struct perr *e)
{
	return pii_sample((const uint8_t *)text, n, true, fmt, enc, max, s, e);
}

static const struct pii_column *col(const struct pii_sample *s, const char *name)
{
	for (size_t i = 0; i < s->ncols; i++)
		if (!strcmp(s->cols[i].name, name))
			return &s->cols[i];
	return NULL;
}

static void test_csv(void)
{
	static const char csv[] =
		"\xef\xbb\xbf" "身份证号,\"联系\"\"电话\",备注\r\n"
		"11010519491231002X,+86 13812345678,\"a, b\"\r\n"
		"\r\n"
		"341802199001011235,\"13912345678\",\"two\nlines\"\r\n"
		"510108200512310014,,x\r\n";
	struct pii_sample s;
	struct perr e = PERR_INIT;
	const struct pii_column *c;

	CU_ASSERT_EQUAL_FATAL(sample(csv, strlen(csv), VIEW_CSV, TEXT_GB18030, 1000, &s, &e), 0);
	CU_ASSERT_TRUE(s.bom);
	CU_ASSERT_EQUAL(s.enc, TEXT_UTF8);	/* the BOM overrides the entry's encoding */
	CU_ASSERT_EQUAL(s.records, 3);
	CU_ASSERT_FALSE(s.want_more);
	CU_ASSERT_EQUAL_FATAL(s.ncols, 3);
	c = col(&s, "身份证号");
	CU_ASSERT_TRUE(c && c->values == 3 && c->hits[PII_ID_CARD] == 3);
	c = col(&s, "联系\"电话");
	CU_ASSERT_TRUE(c && c->values == 2 && c->empty == 1 && c->hits[PII_PHONE] == 2);
	CU_ASSERT_EQUAL(pii_column_kind(c), PII_PHONE);
	CU_ASSERT_EQUAL(pii_column_kind(col(&s, "备注")), -1);
	pii_sample_release(&s);

	CU_ASSERT_EQUAL(sample(csv, strlen(csv), VIEW_CSV, TEXT_UTF8, 2, &s, &e), 0);
	CU_ASSERT_EQUAL(s.records, 2);
	pii_sample_release(&s);

	CU_ASSERT_EQUAL(sample("a\tb\n13812345678\tx\n", 18, VIEW_OTHER, TEXT_UTF8, 10, &s, &e), 0);
	CU_ASSERT_EQUAL(s.format, VIEW_TSV);
	CU_ASSERT_TRUE(s.ncols == 2 && s.cols[0].hits[PII_PHONE] == 1);
	pii_sample_release(&s);
}

static void test_json(void)
{
	static const char jsonl[] =
		"{\"phone\": \"13812345678\", \"card\": 6222021234567890128, \"n\": null}\n"
		"{\"card\": \"4111111111111111\", \"nested\": {\"a\": [1, \"}\"]}, "
		"\"\\u624b\\u673a\": \"\\u0031\\u0033\\u0039\\u0031\\u0032\\u0033\\u0034\\u0035\\u0036\\u0037\\u0038\"}\n";
	static const char array[] = " [ {\"e\": \"a@example.com\", \"x\": \"\\ud83d\\ude00\"},\n"
				    "{\"e\": \"b@example.com\"} ] ";
	struct pii_sample s;
	struct perr e = PERR_INIT;
	const struct pii_column *c;

	CU_ASSERT_EQUAL_FATAL(sample(jsonl, strlen(jsonl), VIEW_JSONL, TEXT_UTF8, 100, &s, &e), 0);
	CU_ASSERT_EQUAL(s.format, VIEW_JSONL);
	CU_ASSERT_EQUAL(s.records, 2);
	c = col(&s, "card");
	CU_ASSERT_TRUE(c && c->values == 2 && c->hits[PII_BANK_CARD] == 2);
	c = col(&s, "n");
	CU_ASSERT_TRUE(c && c->empty == 1 && c->values == 0);
	/* nested values are columns of their own, by key path */
	CU_ASSERT_PTR_NULL(col(&s, "nested"));
	c = col(&s, "nested.a[]");
	CU_ASSERT_TRUE(c && c->values == 2 && pii_column_kind(c) == -1);
	c = col(&s, "手机");
	CU_ASSERT_TRUE(c && c->hits[PII_PHONE] == 1);
	pii_sample_release(&s);

	CU_ASSERT_EQUAL_FATAL(sample(array, strlen(array), VIEW_OTHER, TEXT_UTF8, 100, &s, &e), 0);
	CU_ASSERT_EQUAL(s.format, VIEW_JSON);
	CU_ASSERT_EQUAL(s.records, 2);
	c = col(&s, "e");
	CU_ASSERT_TRUE(c && c->hits[PII_EMAIL] == 2);
	c = col(&s, "x");
	CU_ASSERT_TRUE(c && !strcmp(s.cols[1].name, "x") && c->values == 1);
	pii_sample_release(&s);

	/* a lone surrogate at the end of the file is a character of no kind, not an error */
	CU_ASSERT_EQUAL(sample("{\"a\": \"\\ud83d\"}", 15, VIEW_JSONL, TEXT_UTF8, 100, &s, &e), 0);
	CU_ASSERT_TRUE(s.records == 1 && s.cols[0].values == 1);
	pii_sample_release(&s);

	CU_ASSERT_EQUAL(sample("[]", 2, VIEW_JSON, TEXT_UTF8, 100, &s, &e), 0);
	CU_ASSERT_TRUE(s.records == 0 && s.ncols == 0);
	pii_sample_release(&s);
}

/* The CSV of test_csv without its BOM, in GB18030: names come back as UTF-8. */
static void test_gb18030(void)
{
	static const char utf8[] = "证件号码,联系电话,姓名\n11010519491231002X,13812345678,张三丰\n"
				   "341802199001011235,13912345678,李四\n";
	struct strbuf gb = STRBUF_INIT, bom = STRBUF_INIT;
	struct text_conv *conv = NULL;
	struct pii_sample s;
	struct perr e = PERR_INIT;
	const struct pii_column *c;

	CU_ASSERT_EQUAL_FATAL(text_conv_new(TEXT_UTF8, TEXT_GB18030, &conv), 0);
	CU_ASSERT_EQUAL_FATAL(text_conv_run(conv, utf8, strlen(utf8), &gb), 0);
	CU_ASSERT_EQUAL_FATAL(sample(gb.buf, gb.len, VIEW_CSV, TEXT_GB18030, 100, &s, &e), 0);
	CU_ASSERT_EQUAL(s.records, 2);
	c = col(&s, "证件号码");
	CU_ASSERT_TRUE(c && c->hits[PII_ID_CARD] == 2);
	c = col(&s, "联系电话");
	CU_ASSERT_TRUE(c && c->hits[PII_PHONE] == 2);
	pii_sample_release(&s);

	/* read as UTF-8 it is invalid text, named by line and byte */
	CU_ASSERT_EQUAL(sample(gb.buf, gb.len, VIEW_CSV, TEXT_UTF8, 100, &s, &e), -EIO);
	CU_ASSERT_STRING_EQUAL(e.msg, "line 1, byte 2: invalid utf-8 text");
	pii_sample_release(&s);

	/* a GB18030 BOM decides over the encoding asked for */
	strbuf_add(&bom, "\x84\x31\x95\x33", 4);
	strbuf_add(&bom, gb.buf, gb.len);
	CU_ASSERT_EQUAL(sample(bom.buf, bom.len, VIEW_CSV, TEXT_UTF8, 100, &s, &e), 0);
	CU_ASSERT_TRUE(s.bom && s.enc == TEXT_GB18030 && col(&s, "姓名"));
	pii_sample_release(&s);

	/* cut inside a character and with no line feed: no error, more wanted */
	CU_ASSERT_EQUAL(pii_sample((const uint8_t *)gb.buf, 5, false, VIEW_CSV, TEXT_GB18030,
				   100, &s, &e), 0);
	CU_ASSERT_TRUE(s.want_more && s.records == 0);
	pii_sample_release(&s);
	text_conv_free(conv);
	strbuf_release(&gb);
	strbuf_release(&bom);
}

/* The beginning of a file: whole records count, the cut one does not. */
static void test_cut(void)
{
	static const char csv[] = "a,b\n13812345678,\"x\ny\"\n13912345678,z\n";
	static const char json[] = "[{\"a\": \"13812345678\"}, {\"a\": \"139";
	struct pii_sample s;
	struct perr e = PERR_INIT;

	for (size_t n = 0; n < strlen(csv); n++) {
		CU_ASSERT_EQUAL(pii_sample((const uint8_t *)csv, n, false, VIEW_CSV, TEXT_UTF8, 10,
					   &s, &e), 0);
		CU_ASSERT_TRUE(s.want_more);
		CU_ASSERT_TRUE(s.records <= 1);
		CU_ASSERT_TRUE(!s.ncols || s.cols[0].values == s.records);
		pii_sample_release(&s);
	}
	CU_ASSERT_EQUAL(pii_sample((const uint8_t *)csv, strlen(csv), false, VIEW_CSV, TEXT_UTF8,
				   2, &s, &e), 0);
	CU_ASSERT_TRUE(!s.want_more && s.records == 2);
	pii_sample_release(&s);
	CU_ASSERT_EQUAL(pii_sample((const uint8_t *)json, strlen(json), false, VIEW_JSON,
				   TEXT_UTF8, 10, &s, &e), 0);
	CU_ASSERT_TRUE(s.want_more && s.records == 1 && s.cols[0].values == 1);
	pii_sample_release(&s);
}

/* A catalog field or a personal value nested at any depth is looked at. */
static void test_nested(void)
{
	static const char envelope[] =
		"{\"code\": 0, \"msg\": \"ok\", \"data\": [\n"
		" {\"id\": \"341802199001011235\", \"family\": [{\"身份证号\": \"11010519491231002X\"}]},\n"
		" {\"id\": \"510108200512310014\", \"family\": [], \"tel\": {\"m\": [\"13812345678\"]}}]}\n";
	struct pii_sample s;
	struct perr e = PERR_INIT;
	const struct pii_column *c;
	struct strbuf deep = STRBUF_INIT;

	CU_ASSERT_EQUAL_FATAL(sample(envelope, strlen(envelope), VIEW_OTHER, TEXT_UTF8, 100, &s, &e), 0);
	CU_ASSERT_EQUAL(s.records, 1);
	c = col(&s, "data[].id");
	CU_ASSERT_TRUE(c && c->values == 2 && pii_column_kind(c) == PII_ID_CARD);
	CU_ASSERT_TRUE(c && c->nparts == 3 && !strcmp(c->parts[0], "data") && !c->parts[1] &&
		       !strcmp(c->parts[2], "id"));
	c = col(&s, "data[].family[].身份证号");
	CU_ASSERT_TRUE(c && c->values == 1 && pii_column_kind(c) == PII_ID_CARD);
	c = col(&s, "data[].tel.m[]");
	CU_ASSERT_TRUE(c && c->hits[PII_PHONE] == 1);
	CU_ASSERT_TRUE(col(&s, "code") && !col(&s, "data"));
	pii_sample_release(&s);

	/* nesting has a bound: deeper is refused, not followed */
	strbuf_addstr(&deep, "{\"a\": ");
	for (int i = 0; i < 100; i++)
		strbuf_addch(&deep, '[');
	CU_ASSERT_EQUAL(sample(deep.buf, deep.len, VIEW_JSONL, TEXT_UTF8, 100, &s, &e), -EIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "nested deeper"));
	pii_sample_release(&s);
	strbuf_release(&deep);
}

/* A CR alone ends a record, as Python's csv and Excel read it. */
static void test_cr_only(void)
{
	static const char csv[] = "身份证号,x\r341802199001011235,1\r\r510108200512310014,2\r";
	struct pii_sample s;
	struct perr e = PERR_INIT;
	const struct pii_column *c;

	CU_ASSERT_EQUAL_FATAL(sample(csv, strlen(csv), VIEW_CSV, TEXT_UTF8, 100, &s, &e), 0);
	CU_ASSERT_EQUAL(s.records, 2);
	CU_ASSERT_EQUAL(s.ncols, 2);
	c = col(&s, "身份证号");
	CU_ASSERT_TRUE(c && c->hits[PII_ID_CARD] == 2);
	pii_sample_release(&s);
	/* cut after a CR: it may be half of a CRLF */
	CU_ASSERT_EQUAL(pii_sample((const uint8_t *)csv, 12 + 2, false, VIEW_CSV, TEXT_UTF8, 100,
				   &s, &e), 0);
	CU_ASSERT_TRUE(s.want_more);
	pii_sample_release(&s);
	CU_ASSERT_EQUAL(sample("a,b\r1,2,3\r", 10, VIEW_CSV, TEXT_UTF8, 100, &s, &e), -EIO);
	CU_ASSERT_STRING_EQUAL(e.msg, "line 2: 3 fields, the header has 2");
	pii_sample_release(&s);
}

/* Values that differ from a row filter's only by blanks, width, Unicode form or case. */
static void test_near(void)
{
	/* U+FA0A is a compatibility ideograph whose NFC is U+898B */
	static const char csv[] =
		"区县,n\n宣州区,1\n 宣州区,2\n宣州区\u3000,3\n郎溪县,4\nXUANZHOU,5\nｘｕａｎｚｈｏｕ,6\n"
		"xuanzhou,7\n\xef\xa8\x8a,8\n\xe8\xa6\x8b,9\n,10\n";
	static const char json[] = "{\"data\": [{\"区县\": \" 宣州区\"}, {\"区县\": \"宣州区\"}]}";
	static const char *const in[] = { "宣州区", "xuanzhou", "\xe8\xa6\x8b" };
	static const char *const pre[] = { "宣" };
	struct pii_watch w[3] = {
		{ .field = "区县", .values = in, .nvalues = 3 },
		{ .field = " 区县 ", .values = pre, .nvalues = 1, .prefix = true },
		{ .field = "other", .values = in, .nvalues = 1 },
	};
	struct pii_sample s;
	struct perr e = PERR_INIT;
	struct strbuf f = STRBUF_INIT;

	CU_ASSERT_EQUAL(pii_fold("  ＡＢ\xe3\x80\x80", 11, &f), 0);
	CU_ASSERT_STRING_EQUAL(f.buf, "ab");
	/* Greek and Cyrillic capitals fold too; a combining accent composes */
	CU_ASSERT_EQUAL(pii_fold("\xce\x91\xd0\x96" "E\xcc\x81", 7, &f), 0);
	CU_ASSERT_STRING_EQUAL(f.buf, "\xce\xb1\xd0\xb6\xc3\xa9");
	CU_ASSERT_EQUAL(pii_fold("a\xff", 2, &f), -EINVAL);
	CU_ASSERT_EQUAL_FATAL(pii_sample_watch((const uint8_t *)csv, strlen(csv), true, VIEW_CSV,
					       TEXT_UTF8, 100, &s, w, 3, &e), 0);
	CU_ASSERT_EQUAL(s.records, 10);
	/* " 宣州区", "宣州区\u3000", "XUANZHOU", full-width, the compatibility form */
	CU_ASSERT_EQUAL(w[0].near, 5);
	CU_ASSERT_EQUAL(w[0].seen, 9);
	CU_ASSERT_EQUAL(w[1].near, 1);		/* " 宣州区": the others start with 宣 */
	CU_ASSERT_EQUAL(w[2].seen, 0);
	pii_sample_release(&s);

	/* nested: the key is the field at any depth */
	CU_ASSERT_EQUAL_FATAL(pii_sample_watch((const uint8_t *)json, strlen(json), true, VIEW_JSONL,
					       TEXT_UTF8, 100, &s, w, 1, &e), 0);
	CU_ASSERT_EQUAL(w[0].near, 1);
	CU_ASSERT_EQUAL(w[0].seen, 1);
	pii_sample_release(&s);
	strbuf_release(&f);
}

/*
 * A filter value not in the loose form is no oracle: a security_admin
 * writing the full-width prefix "３", or " 3", or capitals, would learn
 * from the count how many of the plainly spelled IDs start with 3.
 */
static void test_near_no_oracle(void)
{
	static const char csv[] = "id\n341802199001011234\nabc\n";
	static const char *const wide[] = { "\xef\xbc\x93" };	/* U+FF13 */
	static const char *const blank[] = { " 3" };
	static const char *const caps[] = { "ABC" };
	static const char *const plain[] = { "3", "abc " };
	struct pii_watch w[4] = {
		{ .field = "id", .values = wide, .nvalues = 1, .prefix = true },
		{ .field = "id", .values = blank, .nvalues = 1, .prefix = true },
		{ .field = "id", .values = caps, .nvalues = 1 },
		{ .field = "id", .values = plain, .nvalues = 2, .prefix = true },
	};
	struct pii_sample s;
	struct perr e = PERR_INIT;

	CU_ASSERT_EQUAL_FATAL(pii_sample_watch((const uint8_t *)csv, strlen(csv), true, VIEW_CSV,
					       TEXT_UTF8, 100, &s, w, 4, &e), 0);
	CU_ASSERT_EQUAL(w[0].near, 0);
	CU_ASSERT_EQUAL(w[1].near, 0);
	CU_ASSERT_EQUAL(w[2].near, 0);
	CU_ASSERT_EQUAL(w[3].near, 0);	/* "3" matches byte for byte; "abc " is blank */
	CU_ASSERT_EQUAL(w[0].seen, 2);
	pii_sample_release(&s);
}

struct bad_case {
	enum view_format fmt;
	const char *in;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{ VIEW_CSV, "a,b\n1,2\n1,2,3\n", "line 3: 3 fields, the header has 2" },
	{ VIEW_CSV, "a,b\n1,\"2\n", "line 2: unterminated quoted field" },
	{ VIEW_CSV, "a,b\n1,\"2\"x\n", "line 2: unexpected character after a closing quote" },
	{ VIEW_CSV, "a,b\n1,2\0\n", "line 2, byte 7: a NUL byte" },
	{ VIEW_CSV, "a,b\n1,\xff\n", "line 2, byte 6: invalid utf-8 text" },
	{ VIEW_JSONL, "{\"a\": 1}\n{\"a\": 2", "line 2: malformed JSON: the file ends inside a value" },
	{ VIEW_JSONL, "{\"a\" 1}", "line 1: malformed JSON: expected ':' after a key" },
	/* messages never quote the input: it may be personal data */
	{ VIEW_JSONL, "{\"a\": \"\\q\"}", "line 1: malformed JSON: a bad escape in a string" },
	{ VIEW_JSONL, "{\"a\": tru}",
	  "line 1: malformed JSON: a value that is no string, number, true, false or null" },
	{ VIEW_JSONL, "{\"a\": [1, 2}", "line 1: malformed JSON: expected ',' or ']'" },
	{ VIEW_JSONL, "{\"a\": 1,}", "line 1: malformed JSON: expected a key" },
	{ VIEW_JSON, "[1, 2]", "line 1: malformed JSON: expected an object" },
	{ VIEW_JSON, "[{\"a\": 1}\n {\"a\": 2}]", "line 2: malformed JSON: expected ',' or ']'" },
	{ VIEW_JSON, "[{\"a\": 1},", "line 1: malformed JSON: the file ends inside a value" },
};

static void test_bad(void)
{
	struct pii_sample s;

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t n = strlen(c->in) + (strstr(c->msg, "NUL") ? 2 : 0);
		struct perr e = PERR_INIT;
		int rc = sample(c->in, n, c->fmt, TEXT_UTF8, 100, &s, &e);

		CU_ASSERT_EQUAL(rc, -EIO);
		if (strcmp(e.msg, c->msg))
			printf("\n  \"%s\": got \"%s\", want \"%s\"", c->in, e.msg, c->msg);
		CU_ASSERT_STRING_EQUAL(e.msg, c->msg);
		pii_sample_release(&s);
	}
}

static void test_many_columns(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct pii_sample s;
	struct perr e = PERR_INIT;

	for (int i = 0; i <= PII_COLUMNS_MAX; i++)
		strbuf_addf(&sb, "%sc%d", i ? "," : "", i);
	strbuf_addch(&sb, '\n');
	CU_ASSERT_EQUAL(sample(sb.buf, sb.len, VIEW_CSV, TEXT_UTF8, 10, &s, &e), -E2BIG);
	pii_sample_release(&s);
	strbuf_release(&sb);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "detectors", test_values },
		{ "match bits", test_match },
		{ "column kind", test_column_kind },
		{ "csv and tsv", test_csv },
		{ "json lines and arrays", test_json },
		{ "gb18030", test_gb18030 },
		{ "cut short", test_cut },
		{ "malformed input", test_bad },
		{ "too many columns", test_many_columns },
		{ "json at every depth", test_nested },
		{ "csv with CR line ends", test_cr_only },
		{ "near matches of row filters", test_near },
		{ "near: no oracle for filter writers", test_near_no_oracle },
	};

	return unit_tests_run("pii", NULL, NULL, tests, UNIT_COUNT(tests));
}
