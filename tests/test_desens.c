/*
 * tests/test_desens.c - the desensitization engine against golden files,
 * in pieces of every size, and on malformed input.
 *
 * Golden files live in tests/golden/NAME.in.EXT and NAME.out.EXT; the
 * GB18030 twins (NAME.gb18030.*) are made from them by
 * tests/golden/gen.py. GOLDEN_UPDATE=1 rewrites the UTF-8 .out files from
 * the engine, for review before commit. The random-data property test is
 * in test_desens_prop.c.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "policy/desens.h"
#include "policy/text.h"
#include "tests/desens_util.h"
#include "tests/unit_main.h"

static char golden_dir[4096] = "tests/golden";

struct golden {
	const char *name, *ext;
	enum view_format fmt;
	bool drop_unlisted;
	const char *fields;
	struct row_filter *(*rows)(void);
};

static struct row_filter *rows_csv_filter(void)
{
	return rf_node(ROW_ANY, 2,
		       rf_node(ROW_ALL, 3,
			       rf_leaf(ROW_IN, "区县", 2, "宣州区", "宣城"),
			       rf_leaf(ROW_EQ, "状态", 1, "在册"),
			       rf_leaf(ROW_PREFIX, "身份证号", 1, "341802")),
		       rf_node(ROW_ALL, 2,
			       rf_leaf(ROW_EQ, "区县", 1, "郎溪县"),
			       rf_leaf(ROW_NE, "状态", 1, "迁出")));
}

static struct row_filter *rows_json_array(void)
{
	return rf_node(ROW_ALL, 2, rf_leaf(ROW_EQ, "区县", 1, "宣州区"),
		       rf_leaf(ROW_PREFIX, "身份证号", 1, "341802"));
}

static struct row_filter *rows_jsonl(void)
{
	return rf_leaf(ROW_NE, "区县", 1, "郎溪县");
}

static const struct golden goldens[] = {
	{ "csv_basic", "csv", VIEW_CSV, false,
	  "身份证号=id_card;姓名=name;手机号=phone;住址=address;邮箱=email;出生日期=year", NULL },
	{ "csv_crlf_bom", "csv", VIEW_CSV, false, "身份证号=id_card;姓名=name", NULL },
	{ "csv_drop", "csv", VIEW_CSV, true,
	  "身份证号=hash;姓名=name;区县=none;手机号=drop", NULL },
	{ "csv_filter", "csv", VIEW_CSV, false, "身份证号=id_card;姓名=name", rows_csv_filter },
	{ "csv_quote", "csv", VIEW_CSV, false, "a=keep(2,1);b=keep(1,1);c=keep(3,0);d=none", NULL },
	{ "tsv_basic", "tsv", VIEW_TSV, false, "身份证号=id_card;姓名=name;手机号=phone", NULL },
	{ "jsonl_basic", "jsonl", VIEW_JSONL, false,
	  "身份证号=id_card;姓名=name;手机号=phone;出生日期=year;住址=redact;在册=drop", NULL },
	{ "jsonl_filter", "jsonl", VIEW_JSONL, true, "姓名=name;区县=none", rows_jsonl },
	{ "json_array", "json", VIEW_JSON, false, "身份证号=id_card;姓名=name;手机号=drop",
	  rows_json_array },
	{ "json_object", "json", VIEW_JSON, false,
	  "身份证号=hash;姓名=name;住址=drop;手机号=phone", NULL },
};

#define NGOLDEN (sizeof(goldens) / sizeof(goldens[0]))

static int load(const char *name, const char *variant, const char *kind,
		const char *ext, struct strbuf *sb)
{
	char path[8192];

	snprintf(path, sizeof(path), "%s/%s%s.%s.%s", golden_dir, name, variant, kind, ext);
	return read_file(path, sb);
}

/* Runs one golden case in one encoding; feeds it whole and in pieces. */
static void run_golden(const struct golden *g, bool gb)
{
	struct strbuf in = STRBUF_INIT, want = STRBUF_INIT, got = STRBUF_INIT;
	const char *variant = gb ? ".gb18030" : "";
	struct view_rules r;
	struct perr e = PERR_INIT;
	static const size_t pieces[] = { 1, 2, 3, 7, 64, 4093, 0 };
	int ret;

	rules_init(&r, g->fmt, gb ? "gb18030" : "utf-8", g->drop_unlisted, g->fields,
		   g->rows ? g->rows() : NULL);
	if (load(g->name, variant, "in", g->ext, &in)) {
		printf("\n  missing input for %s%s", g->name, variant);
		CU_FAIL("golden input");
		goto out;
	}
	ret = run_pieces(&r, in.buf, in.len, 0, &got, &e);
	if (ret)
		printf("\n  %s%s: %s", g->name, variant, e.msg);
	CU_ASSERT_EQUAL_FATAL(ret, 0);
	if (!gb && getenv("GOLDEN_UPDATE")) {
		char path[8192];

		snprintf(path, sizeof(path), "%s/%s.out.%s", golden_dir, g->name, g->ext);
		CU_ASSERT_EQUAL(write_file(path, &got), 0);
	}
	if (load(g->name, variant, "out", g->ext, &want)) {
		printf("\n  missing output for %s%s", g->name, variant);
		CU_FAIL("golden output");
		goto out;
	}
	if (!same(&got, &want, g->name))
		CU_FAIL("golden output differs");
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		struct strbuf again = STRBUF_INIT;

		ret = run_pieces(&r, in.buf, in.len, pieces[i], &again, NULL);
		CU_ASSERT_EQUAL(ret, 0);
		if (!same(&again, &want, g->name)) {
			printf("\n  %s%s fed in pieces of %zu", g->name, variant, pieces[i]);
			CU_FAIL("pieces");
		}
		strbuf_release(&again);
	}
out:
	rules_release(&r);
	strbuf_release(&in);
	strbuf_release(&want);
	strbuf_release(&got);
}

static void test_golden_utf8(void)
{
	for (size_t i = 0; i < NGOLDEN; i++)
		run_golden(&goldens[i], false);
}

static void test_golden_gb18030(void)
{
	for (size_t i = 0; i < NGOLDEN; i++)
		run_golden(&goldens[i], true);
}

/* Input that must fail: format, encoding, rules, bytes, a word of the message. */
struct badcase {
	enum view_format fmt;
	const char *enc, *fields, *in;
	size_t len;			/* 0: strlen(in) */
	const char *msg;
};

#define B(fmt, fields, in, msg) { fmt, NULL, fields, in, 0, msg }

static const struct badcase bad[] = {
	B(VIEW_CSV, "a=name", "a,b\n\"x,y\n", "line 2, byte 4: quoted field not closed"),
	B(VIEW_CSV, "a=name", "a,b\n\"x\"y,z\n", "after a closing quote"),
	B(VIEW_CSV, "a=name", "a,b\n1,2\n\"x\" ,2\n", "line 3, byte 11: unexpected"),
	/* a lone CR ends a record as LF does: here one with one field */
	B(VIEW_CSV, "a=name", "a,b\r1,2\r3\r", "line 3, byte 8: record has 1 fields"),
	B(VIEW_CSV, "a=name", "a,b\n1,x\ry,2,3\n", "line 3, byte 8: record has 3 fields"),
	B(VIEW_CSV, "a=name", "a,b\n\"1\"\r\"2\",3\n", "line 2, byte 4: record has 1 fields"),
	/* LibreOffice reads a quoted field after blanks, the others text */
	B(VIEW_CSV, "a=name", "a,b\n1, \"x,y\"\n", "line 2, byte 7: a quote after leading spaces"),
	B(VIEW_CSV, "a=name", "a,b\n  \"1\",2\n", "a quote after leading spaces"),
	/* which line is the header must not be a matter of reader */
	B(VIEW_CSV, "a=name", "\na,b\n1,2\n", "line 1, byte 0: a blank line before the header"),
	B(VIEW_CSV, "a=name", "\r\na,b\n", "a blank line before the header"),
	B(VIEW_CSV, "a=name", " \ra,b\n", "a blank line before the header"),
	B(VIEW_CSV, "a=name", "sep=;\na;b\n1;2\n", "a first line \"sep=\""),
	B(VIEW_TSV, "a=name", "SEP=,\na\tb\n", "a first line \"sep=\""),
	/* the view must read as the engine wrote it */
	B(VIEW_CSV, "a=drop;b=name", "a,sep=x,b\n1,2,3\n", "would read as a \"sep=\" line"),
	B(VIEW_CSV, "a=drop", "a, \n1,2\n", "would read as a blank line"),
	/* a name after removed ones may start with U+FEFF: readers take it for a BOM */
	B(VIEW_CSV, "a=drop", "a,\xef\xbb\xbf" "b\n1,2\n", "would start with a byte order mark"),
	{ VIEW_TSV, "gb18030", "a=drop", "a\t\x84\x31\x95\x33" "b\n1\t2\n", 0,
	  "would start with a byte order mark" },
	{ VIEW_CSV, "gb18030", "a=drop", "a,\xef\xbb\xbf" "b\n1,2\n", 0,
	  "would start with a byte order mark" },
	/* TSV: only what quote-literal readers and Excel's tab dialect read alike */
	B(VIEW_TSV, "a=name", "a\tb\n\"x\"\t2\n", "line 2, byte 4: a TSV field starts with a quote"),
	B(VIEW_TSV, "a=name", "a\t\"b\"\n", "line 1, byte 2: a TSV field starts with a quote"),
	B(VIEW_TSV, "a=name", "a\tb\n1\t \"x\tq\"\n", "line 2, byte 7: a quote after leading spaces"),
	B(VIEW_TSV, "a=name", "a\tb\r1\t2\n", "line 1, byte 3: a CR that is not followed by LF"),
	B(VIEW_TSV, "a=name", "a\tb\n1\t2\r", "line 2, byte 7: a CR that is not followed by LF"),
	B(VIEW_TSV, "a=name", "a\tb\n1\rx\t2\r\n", "a CR that is not followed by LF"),
	B(VIEW_CSV, "a=name", "a,b\n1,2,3\n", "line 2, byte 4: record has 3 fields"),
	B(VIEW_CSV, "a=name", "a,b\n1\n", "record has 1 fields"),
	B(VIEW_CSV, "a=name", "a,b\n1,2\n3,4\0\n", "line 3, byte 11: NUL byte"),
	B(VIEW_CSV, "a=name", "a,b\n\"1\n\xff\",2\n", "line 3, byte 7: invalid utf-8"),
	B(VIEW_CSV, "a=none", "a,b\n1,\xe5\xbc\n", "invalid utf-8"),
	{ VIEW_CSV, "gb18030", "a=name", "a,b\n\x80,2\n", 0, "invalid gb18030" },
	{ VIEW_CSV, "gb18030", "a=name", "a,b\n\xd5\xc5,\xd5\n", 0, "line 2, byte 7: invalid gb18030" },
	B(VIEW_CSV, "身份证号=id_card", "a,b\n1,2\n", "field \"身份证号\" is not in the header"),
	B(VIEW_CSV, "身份证号=drop;x=hash", "a,b\n", "field \"x\" is not in the header"),
	B(VIEW_TSV, "a=name", "a\tb\n1\t2\t3\n", "record has 3 fields"),
	/* two columns that are one field once normalized, whatever its mask */
	B(VIEW_CSV, "a=name", "a,b,a\n1,2,3\n", "line 1, byte 0: the field \"a\" appears twice in the header"),
	B(VIEW_CSV, "a=none;b=drop", "b, a,a\t\n1,2,3\n", "the field \"a\" appears twice"),
	B(VIEW_CSV, "a=drop", "\"a\",\" a \"\n1,2\n", "the field \"a\" appears twice"),
	B(VIEW_TSV, "a=hash", "a\tb\ta\n1\t2\t3\n", "the field \"a\" appears twice"),
	B(VIEW_TSV, "\xc3\xa9=keep(1,0)", "\xc3\xa9\te\xcc\x81\n1\t2\n", "the field \"\xc3\xa9\" appears twice"),
	B(VIEW_CSV, "姓名=redact", "姓名,\u3000姓名\n1,2\n", "the field \"姓名\" appears twice"),
	B(VIEW_JSONL, "a=name", "{\"a\":1,}\n", "line 1, byte 7: malformed JSON: expected a key"),
	B(VIEW_JSONL, "a=name", "{}\n{\"a\" 1}\n", "line 2, byte 8: malformed JSON: expected ':'"),
	B(VIEW_JSONL, "a=name", "[1]\n", "expected an object"),
	B(VIEW_JSONL, "a=name", "{\"a\":\"\x01\"}", "control character"),
	B(VIEW_JSONL, "a=name", "{\"a\":\"\\ud800\"}", "lone high surrogate"),
	B(VIEW_JSONL, "a=name", "{\"a\":\"\\udc00\"}", "lone low surrogate"),
	B(VIEW_JSONL, "a=name", "{\"a\":tru}", "unexpected character"),
	B(VIEW_JSONL, "a=name", "{\"a\":01}", "expected ',' or '}'"),
	B(VIEW_JSONL, "a=name", "{\"a\":-}", "bad number"),
	B(VIEW_JSONL, "a=name", "{\"a\":1.e5}", "bad number"),
	B(VIEW_JSONL, "a=name", "{\"a\":1} x\n", "more after the object"),
	B(VIEW_JSONL, "a=name", "{\"a\":\"\\q\"}", "bad escape"),
	B(VIEW_JSONL, "a=name", "{\"a\":\"\\u12g4\"}", "bad \\u escape"),
	B(VIEW_JSONL, "a=name", "{\"a\":\"x}\n", "string not closed"),
	B(VIEW_JSONL, "a=name", "{\"b\":[1,2}\n", "expected ',' or a closing bracket"),
	B(VIEW_JSONL, "a=name", "{\"b\":{\"c\":1]}\n", "expected ',' or a closing bracket"),
	B(VIEW_JSONL, "a=name", "{\"b\":\"\xc3\x28\"}", "invalid utf-8"),
	B(VIEW_JSONL, "a=name", "{\"b\":1}\n{\"b\":\0}", "line 2, byte 13"),
	B(VIEW_JSONL, "a=name", "{\"a\":{\"x\":1}}", "an object under a masked key"),
	B(VIEW_JSONL, "a=name", "{\"a\":[1,[{\"x\":1}]]}", "an object under a masked key"),
	B(VIEW_JSONL, "a=name", "{\"b\":[{\"a\":{}}]}", "an object under a masked key"),
	/* two keys of one object that are one field, exactly or once normalized */
	B(VIEW_JSONL, "a=name", "{\"a\":\"x\",\"a\":\"y\"}", "line 1, byte 9: the field \"a\" appears twice"),
	B(VIEW_JSONL, "a=name", "{\"a\":\"x\",\" a\\t\":\"y\"}", "the field \"a\" appears twice"),
	B(VIEW_JSON, "a=drop", "[{\"b\":{\"a\":1,\"\\u0061\":2}}]", "the field \"a\" appears twice"),
	B(VIEW_JSONL, "姓名=name", "{\"姓名\":\"x\",\"\u3000姓名\":\"y\"}", "the field \"姓名\" appears twice"),
	B(VIEW_JSONL, "a=none", "{\"a\":1,\"b\":1e}", "bad number"),
	B(VIEW_JSON, "a=name", "[{\"a\":1},]", "',' before ']'"),
	B(VIEW_JSON, "a=name", "[{\"a\":1}", "unexpected end of input"),
	B(VIEW_JSON, "a=name", "[{\"a\":1},\n{\"a\":", "line 2, byte 15: malformed JSON: unexpected end"),
	B(VIEW_JSON, "a=name", "[1,2]", "array element is not an object"),
	B(VIEW_JSON, "a=name", "[{\"a\":1}] x", "more after the end"),
	B(VIEW_JSON, "a=name", "{\"a\":1}{\"b\":2}", "more after the end"),
	B(VIEW_JSON, "a=name", "\"str\"", "expected '[' or '{'"),
	B(VIEW_JSON, "a=name", "[{\"a\":1} {\"a\":2}]", "expected ',' or ']'"),
	B(VIEW_JSON, "a=name", "[{\"a\":1]", "byte 7: malformed JSON: expected ',' or '}'"),
	B(VIEW_JSON, "a=name", "[{\"a\":\"x\"}\n,\n{\"a\":\"\xff\"}]", "line 3, byte 19: invalid utf-8"),
	{ VIEW_JSON, "gb18030", "a=name", "[{\"a\":\"\xd5\"}]", 0, "invalid gb18030" },
};

static void test_malformed(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct badcase *b = &bad[i];
		size_t len = b->len ? b->len : strlen(b->in);
		static const size_t pieces[] = { 0, 1, 5 };

		/* embedded NULs: the length runs to the literal's end */
		if (strstr(b->msg, "NUL") || strstr(b->msg, "line 2, byte 13"))
			len = strlen(b->in) + 1 + strlen(b->in + strlen(b->in) + 1);
		for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
			struct view_rules r;
			struct strbuf out = STRBUF_INIT;
			struct perr e = PERR_INIT;
			int ret;

			rules_init(&r, b->fmt, b->enc, false, b->fields, NULL);
			ret = run_pieces(&r, b->in, len, pieces[k], &out, &e);
			if (ret != -EIO || !strstr(e.msg, b->msg)) {
				printf("\n  case %zu (pieces %zu): ret %d, message \"%s\", want \"%s\"",
				       i, pieces[k], ret, e.msg, b->msg);
				CU_FAIL("malformed input");
			}
			strbuf_release(&out);
			rules_release(&r);
		}
	}
}

static void expect_new_fails(struct view_rules *r, const uint8_t *key, int code,
			     const char *msg)
{
	struct desens *d = NULL;
	struct perr e = PERR_INIT;

	CU_ASSERT_EQUAL(desens_new(r, key, key ? 4 : 0, &d, &e), code);
	CU_ASSERT_PTR_NULL(d);
	if (!strstr(e.msg, msg)) {
		printf("\n  message \"%s\", want \"%s\"", e.msg, msg);
		CU_FAIL("desens_new message");
	}
}

static void test_new_errors(void)
{
	struct view_rules r;

	rules_init(&r, VIEW_OTHER, NULL, false, "a=name", NULL);
	expect_new_fails(&r, NULL, -EIO, "cannot be desensitized");
	rules_release(&r);
	rules_init(&r, VIEW_CSV, "latin1", false, "a=name", NULL);
	expect_new_fails(&r, NULL, -EINVAL, "unknown encoding \"latin1\"");
	rules_release(&r);
	rules_init(&r, VIEW_CSV, NULL, false, "a=hash", NULL);
	expect_new_fails(&r, NULL, -EINVAL, "needs the store's key");
	rules_release(&r);
	rules_init(&r, VIEW_CSV, NULL, false, "a=name;a=phone", NULL);
	expect_new_fails(&r, (const uint8_t *)"kkkk", -EINVAL, "field \"a\" listed twice");
	rules_release(&r);
}

/* The same error comes back from every call after the first. */
static void test_error_sticks(void)
{
	struct view_rules r;
	struct desens *d = NULL;
	struct strbuf out = STRBUF_INIT;
	struct perr e1 = PERR_INIT, e2 = PERR_INIT, e3 = PERR_INIT;

	rules_init(&r, VIEW_CSV, NULL, false, "a=name", NULL);
	CU_ASSERT_EQUAL_FATAL(desens_new(&r, NULL, 0, &d, NULL), 0);
	CU_ASSERT_EQUAL(desens_feed(d, "a,b\n1,2,3\n", 10, &out, &e1), -EIO);
	CU_ASSERT_EQUAL(desens_feed(d, "1,2\n", 4, &out, &e2), -EIO);
	CU_ASSERT_EQUAL(desens_finish(d, &out, &e3), -EIO);
	CU_ASSERT_STRING_EQUAL(e1.msg, e2.msg);
	CU_ASSERT_STRING_EQUAL(e1.msg, e3.msg);
	CU_ASSERT_EQUAL(desens_feed(d, "x", 1, &out, NULL), -EIO);
	desens_free(d);
	rules_release(&r);
	strbuf_release(&out);
}

static void expect_view(enum view_format fmt, const char *enc, const char *fields,
			struct row_filter *rows, const char *in, const char *want)
{
	struct view_rules r;
	static const size_t pieces[] = { 0, 1, 2, 7 };
	struct strbuf out = STRBUF_INIT;
	int ret;

	rules_init(&r, fmt, enc, false, fields, rows);
	/* in pieces too: a CR at the end of a piece may be half of a CRLF */
	for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
		struct perr e = PERR_INIT;

		strbuf_reset(&out);
		ret = run_pieces(&r, in, strlen(in), pieces[k], &out, &e);
		CU_ASSERT_EQUAL(ret, 0);
		if (ret || strcmp(out.buf, want)) {
			printf("\n  pieces %zu: got \"%s\" (%s), want \"%s\"", pieces[k],
			       out.buf, e.msg, want);
			CU_FAIL("view");
		}
	}
	rules_release(&r);
	strbuf_release(&out);
}

static void test_small_cases(void)
{
	/* a UTF-8 BOM wins over the rules' gb18030 */
	expect_view(VIEW_CSV, "gb18030", "姓名=name", NULL, "\xef\xbb\xbf姓名\n张三丰\n",
		    "\xef\xbb\xbf姓名\n张**\n");
	/* GB18030 trail bytes '\\' and '@' inside JSON strings and CSV fields */
	expect_view(VIEW_JSON, "gb18030", "a=name", NULL, "[{\"a\":\"\x81\x5c\x81\x40\"}]",
		    "[{\"a\":\"\x81\x5c*\"}]");
	expect_view(VIEW_CSV, "gbk", "a=email", NULL, "a\n\x81\x40x@y\n", "a\n\x81\x40***@y\n");
	/* empty inputs stay empty; a header alone is a header */
	expect_view(VIEW_CSV, NULL, "a=name", NULL, "", "");
	expect_view(VIEW_JSON, NULL, "a=name", NULL, "", "");
	expect_view(VIEW_JSONL, NULL, "a=name", NULL, "", "");
	expect_view(VIEW_CSV, NULL, "a=name", NULL, "a,b", "a,b");
	expect_view(VIEW_JSON, NULL, "a=name", NULL, " [ ] ", " [ ] ");
	/* a header row's spaces do not hide a field */
	expect_view(VIEW_CSV, NULL, "a=name", NULL, " a ,b\nxyz,1\r\n", " a ,b\nx**,1\r\n");
	/* a lone CR ends a record, as LF and CRLF do (old Mac and Excel for Mac files) */
	expect_view(VIEW_CSV, NULL, "a=name", NULL, "a,b\r张三,1\r李四丰,2\r",
		    "a,b\r张*,1\r李**,2\r");
	expect_view(VIEW_CSV, NULL, "a=name", NULL, "a,b\r\n张三,1\r李四,2\n\r\n王五,3",
		    "a,b\r\n张*,1\r李*,2\n\r\n王*,3");
	expect_view(VIEW_CSV, NULL, "a=name", NULL, "a,b\n张三,x\r李四,2\n", "a,b\n张*,x\r李*,2\n");
	expect_view(VIEW_CSV, NULL, "b=none", rf_leaf(ROW_EQ, "a", 1, "k"),
		    "a,b\rk,1\rj,2\r\"k\",3\rk,4", "a,b\rk,1\r\"k\",3\rk,4");
	expect_view(VIEW_CSV, NULL, "a=keep(1,0)", NULL, "a,b\r\"\",0\r\"x\ry\",1\r",
		    "a,b\r,0\rx**,1\r");
	/* the review's case: an Excel-for-Mac export, every row masked */
	expect_view(VIEW_CSV, NULL, "身份证号=id_card;手机号=drop", NULL,
		    "身份证号,姓名,手机号\r341802199001011234,张三,13812345678\r"
		    "341802198512125678,李四,13987654321\r",
		    "身份证号,姓名\r341802********1234,张三\r341802********5678,李四\r");
	/* no column left: an empty view, not lines of nothing */
	expect_view(VIEW_CSV, NULL, "a=drop;b=drop", NULL, "a,b\r\n1,2\r\n\r\n3,4", "");
	/* a masked record of one empty value stays a record, not a blank line */
	expect_view(VIEW_CSV, NULL, "a=name;b=drop", NULL, "a,b\n\"\",1\nxy,2\n", "a\n\"\"\nx*\n");
	/* inside quotes a CR is text; a quote inside an unquoted field is text */
	expect_view(VIEW_CSV, NULL, "a=name", NULL, "a,b\r\"张\r三\",1\r", "a,b\r张**,1\r");
	expect_view(VIEW_CSV, NULL, "a=keep(3,0)", NULL, "a,b\nx\"yz,1\n", "a,b\n\"x\"\"y*\",1\n");
	/* TSV: quotes inside a field are text, masked values go out unquoted */
	expect_view(VIEW_TSV, NULL, "a=keep(2,0)", NULL, "a\tb\r\nx\"yz\t1\"\r\n",
		    "a\tb\r\nx\"**\t1\"\r\n");
	/* header names match unescaped, in any quoting */
	expect_view(VIEW_CSV, NULL, "a\"b=name", NULL, "\"a\"\"b\"\nxyz\n", "\"a\"\"b\"\nx**\n");
	/* a filter on a field not kept still filters; ne on a missing key is false */
	expect_view(VIEW_JSONL, NULL, "a=none", rf_leaf(ROW_NE, "k", 1, "x"),
		    "{\"a\":1,\"k\":\"y\"}\n{\"a\":2}\n{\"a\":3,\"k\":null}\n{\"a\":4,\"k\":\"x\"}\n",
		    "{\"a\":1,\"k\":\"y\"}\n");
	expect_view(VIEW_JSONL, NULL, "a=none", rf_leaf(ROW_IN, "k", 3, "1", "true", "x\"y"),
		    "{\"k\":1}\n{\"k\":true}\n{\"k\":\"x\\\"y\"}\n{\"k\":\"1.0\"}\n{\"k\":[1]}\n",
		    "{\"k\":1}\n{\"k\":true}\n{\"k\":\"x\\\"y\"}\n");
	/* an empty any matches nothing, an empty all everything */
	expect_view(VIEW_CSV, NULL, "a=none", rf_node(ROW_ANY, 0), "a\n1\n", "a\n");
	expect_view(VIEW_CSV, NULL, "a=none", rf_node(ROW_ALL, 0), "a\n1\n", "a\n1\n");
	/* one top-level object that the filter rejects leaves nothing of itself */
	expect_view(VIEW_JSON, NULL, "a=name", rf_leaf(ROW_EQ, "k", 1, "x"),
		    "{\"a\":\"secret\",\"k\":\"y\"}\n", "\n");
	/* an empty array under a masked key has nothing to mask */
	expect_view(VIEW_JSONL, NULL, "a=name", NULL, "{\"a\":[]}", "{\"a\":[]}");
	/* a masked value with control characters is escaped again */
	expect_view(VIEW_JSONL, NULL, "a=keep(3,0)", NULL, "{\"a\":\"\\t\\\"\\\\xyz\"}",
		    "{\"a\":\"\\u0009\\\"\\\\***\"}");
}

/* behind a BOM of its own, U+FEFF starting the first name is no BOM */
static void test_bom_after_removed(void)
{
	expect_view(VIEW_CSV, NULL, "a=drop", NULL, "\xef\xbb\xbf" "a,\xef\xbb\xbf" "b\n1,2\n",
		    "\xef\xbb\xbf\xef\xbb\xbf" "b\n2\n");
}

/* As expect_view, with drop_unlisted, fed whole and one byte at a time. */
static void expect_view2(enum view_format fmt, const char *enc, bool drop, const char *fields,
			 struct row_filter *rows, const char *in, const char *want)
{
	struct view_rules r;

	rules_init(&r, fmt, enc, drop, fields, rows);
	for (size_t piece = 0; piece < 2; piece++) {
		struct strbuf out = STRBUF_INIT;
		struct perr e = PERR_INIT;
		int ret = run_pieces(&r, in, strlen(in), piece, &out, &e);

		CU_ASSERT_EQUAL(ret, 0);
		if (ret || strcmp(out.buf, want)) {
			printf("\n  in   \"%s\"\n  got  \"%s\" (%s)\n  want \"%s\"", in, out.buf,
			       e.msg, want);
			CU_FAIL("view");
		}
		strbuf_release(&out);
	}
	rules_release(&r);
}

/* The engine refuses in with a message holding msg. */
static void expect_refused(enum view_format fmt, const char *enc, bool drop,
			   const char *fields, struct row_filter *rows, const char *in,
			   const char *msg)
{
	struct view_rules r;
	struct strbuf out = STRBUF_INIT;
	struct perr e = PERR_INIT;
	int ret;

	rules_init(&r, fmt, enc, drop, fields, rows);
	ret = run_pieces(&r, in, strlen(in), 0, &out, &e);
	if (ret != -EIO || !strstr(e.msg, msg)) {
		printf("\n  in \"%s\": ret %d \"%s\" (output \"%s\"), want EIO \"%s\"", in, ret,
		       e.msg, out.buf, msg);
		CU_FAIL("refused");
	}
	rules_release(&r);
	strbuf_release(&out);
}

/* UTF-8 s in GB18030, through iconv(1)'s twin in libc. */
static char *gb(const char *s)
{
	struct text_conv *cv = NULL;
	struct strbuf sb = STRBUF_INIT;

	if (text_conv_new(TEXT_UTF8, TEXT_GB18030, &cv) ||
	    text_conv_run(cv, s, strlen(s), &sb))
		abort();
	text_conv_free(cv);
	return strbuf_detach(&sb, NULL);
}

#define ENVELOPE "{\"code\":0,\"data\":[{\"id\":\"341802199001011234\",\"name\":\"张三丰\"," \
		 "\"family\":[{\"id\":\"341802199202021234\",\"name\":\"李四\"}]}]}"
#define ENVELOPE_MASKED "{\"code\":0,\"data\":[{\"id\":\"341802********1234\",\"name\":\"张**\"," \
		 "\"family\":[{\"id\":\"341802********1234\",\"name\":\"李*\"}]}]}"

/* A field is that field at any depth: in nested objects and in arrays of objects. */
static void test_json_nested(void)
{
	char *in, *want;

	expect_view2(VIEW_JSON, NULL, false, "id=id_card;name=name;phone=phone", NULL,
		     ENVELOPE, ENVELOPE_MASKED);
	expect_view2(VIEW_JSON, NULL, false, "id=id_card;name=name", NULL,
		     "[" ENVELOPE ",\n " ENVELOPE "]", "[" ENVELOPE_MASKED ",\n " ENVELOPE_MASKED "]");
	expect_view2(VIEW_JSONL, NULL, false, "id=id_card;name=name", NULL,
		     ENVELOPE "\n" ENVELOPE "\r\n", ENVELOPE_MASKED "\n" ENVELOPE_MASKED "\r\n");
	in = gb(ENVELOPE);
	want = gb(ENVELOPE_MASKED);
	expect_view2(VIEW_JSON, "gb18030", false, "id=id_card;name=name", NULL, in, want);
	free(in);
	free(want);
	/* an array under a masked key: every scalar in it, at any depth */
	expect_view2(VIEW_JSONL, NULL, false, "phone=phone", NULL,
		     "{\"phone\":[\"13812345678\", null, [13912345678, []]], \"x\":[\"13812345678\"]}",
		     "{\"phone\":[\"138****5678\", null, [\"139****5678\", []]], \"x\":[\"13812345678\"]}");
	expect_view2(VIEW_JSONL, NULL, false, "a=redact", NULL,
		     "{\"b\":{\"a\":[1,{\"c\":2}]},\"a\":{\"d\":[]}}", "{\"b\":{\"a\":\"\"},\"a\":\"\"}");
	/* null stays null under a mask, but redact hides that a value was missing */
	expect_view2(VIEW_JSONL, NULL, false, "a=redact;b=name", NULL,
		     "{\"a\":null,\"b\":null}", "{\"a\":\"\",\"b\":null}");
	/* removed members at depth take one comma with them, wherever they stand */
	expect_view2(VIEW_JSONL, NULL, false, "p=drop;q=drop", NULL,
		     "{\"d\":{\"p\":1, \"x\":2}, \"e\":{\"x\":1, \"p\":2}, \"f\":{\"x\":1,\"p\":2,\"y\":3},"
		     " \"g\":{ \"p\":1 , \"q \":2 }, \"h\":[{\"p\":1}]}",
		     "{\"d\":{\"x\":2}, \"e\":{\"x\":1}, \"f\":{\"x\":1,\"y\":3},"
		     " \"g\":{  }, \"h\":[{}]}");
	/* a grant's field list removes unlisted keys at every depth, but the way to a listed one */
	expect_view2(VIEW_JSONL, NULL, true, "d=none;name=name", NULL,
		     "{\"x\":1,\"d\":{\"name\":\"张三\",\"id\":\"341802199001011234\",\"e\":[{\"name\":\"李四\",\"k\":1}]},\"y\":2}",
		     "{\"d\":{\"name\":\"张*\",\"e\":[{\"name\":\"李*\"}]}}");
	/* the same field in two objects of one record is no duplicate */
	expect_view2(VIEW_JSONL, NULL, false, "name=name", NULL,
		     "{\"a\":{\"name\":\"张三\"},\"b\":{\"name\":\"李四\"},\"name\":\"王五\"}",
		     "{\"a\":{\"name\":\"张*\"},\"b\":{\"name\":\"李*\"},\"name\":\"王*\"}");
	/* a masked object, also inside an array or under a masked array, is refused */
	expect_refused(VIEW_JSON, NULL, false, "name=name", NULL,
		       "[{\"data\":[{\"name\":{\"first\":\"三丰\"}}]}]", "an object under a masked key");
}

#define ENVELOPE_PROJECTED "{\"data\":[{\"id\":\"341802********1234\",\"name\":\"张**\"," \
		 "\"family\":[{\"id\":\"341802********1234\",\"name\":\"李*\"}]}]}"

/*
 * With drop_unlisted an unlisted key holding an object or array stays as
 * the way to the listed fields inside it, and goes whole when there are
 * none; unlisted scalars go everywhere, with one comma each.
 */
static void test_json_projection(void)
{
	char *in, *want;

	expect_view2(VIEW_JSON, NULL, true, "id=id_card;name=name;phone=phone", NULL,
		     ENVELOPE, ENVELOPE_PROJECTED);
	expect_view2(VIEW_JSON, NULL, true, "id=id_card;name=name", NULL,
		     "[" ENVELOPE ",\n " ENVELOPE "]",
		     "[" ENVELOPE_PROJECTED ",\n " ENVELOPE_PROJECTED "]");
	expect_view2(VIEW_JSONL, NULL, true, "id=id_card;name=name", NULL,
		     ENVELOPE "\n" ENVELOPE "\r\n", ENVELOPE_PROJECTED "\n" ENVELOPE_PROJECTED "\r\n");
	in = gb(ENVELOPE);
	want = gb(ENVELOPE_PROJECTED);
	expect_view2(VIEW_JSON, "gb18030", true, "id=id_card;name=name", NULL, in, want);
	free(in);
	free(want);
	/* subtrees without a listed field go whole, wherever they stand */
	expect_view2(VIEW_JSONL, NULL, true, "name=name", NULL,
		     "{\"meta\":{\"a\":1,\"b\":{\"c\":[1,{\"d\":\"x\"}]}},\"name\":\"张三\","
		     "\"p\":{\"q\":{\"name\":\"李四\",\"r\":{\"s\":2}}},\"t\":{\"u\":3}}",
		     "{\"name\":\"张*\",\"p\":{\"q\":{\"name\":\"李*\"}}}");
	/* arrays of scalars under unlisted keys go, nested ones too */
	expect_view2(VIEW_JSONL, NULL, true, "name=name", NULL,
		     "{\"tags\":[\"a\",\"b\"],\"name\":\"张三\",\"n\":[[1,2],[],null]}",
		     "{\"name\":\"张*\"}");
	/* mixed arrays: scalars and dead ends go, with their commas */
	expect_view2(VIEW_JSONL, NULL, true, "name=name", NULL,
		     "{\"list\":[1,{\"name\":\"张三\",\"k\":2},\"s\",{\"x\":1},"
		     "[{\"name\":\"李四\"}],null,[3]],\"z\":0}",
		     "{\"list\":[{\"name\":\"张*\"},[{\"name\":\"李*\"}]]}");
	expect_view2(VIEW_JSONL, NULL, true, "name=name", NULL,
		     "{ \"a\" : [ 1 , { \"name\" : \"张三\" } , 2 ] , \"b\" : 1 }",
		     "{ \"a\" : [ { \"name\" : \"张*\" } ] }");
	expect_view2(VIEW_JSONL, NULL, true, "name=name", NULL,
		     "{\"a\":[[], {}, [[{\"name\":\"张三\"}], 1], {\"b\":[{\"name\":\"李四\"}]}, {}]}",
		     "{\"a\":[[[{\"name\":\"张*\"}]], {\"b\":[{\"name\":\"李*\"}]}]}");
	/* empty containers lead nowhere */
	expect_view2(VIEW_JSONL, NULL, true, "name=name", NULL,
		     "{\"a\":{},\"b\":[],\"c\":{\"d\":{}},\"name\":\"张三\",\"e\":[{}]}",
		     "{\"name\":\"张*\"}");
	expect_view2(VIEW_JSON, NULL, true, "name=name", NULL,
		     "[{\"a\":{\"b\":1}}, {\"code\":0,\"data\":{\"name\":\"张三\"}}, {}]",
		     "[{}, {\"data\":{\"name\":\"张*\"}}, {}]");
	/* a listed field that is dropped leads nowhere; one redacted or raw does */
	expect_view2(VIEW_JSONL, NULL, true, "phone=drop;a=redact;b=none", NULL,
		     "{\"x\":{\"phone\":\"13812345678\"},\"y\":[{\"a\":{\"k\":1}}],"
		     "\"z\":{\"b\":{\"k\":1,\"w\":{\"b\":2}}}}",
		     "{\"y\":[{\"a\":\"\"}],\"z\":{\"b\":{\"w\":{\"b\":2}}}}");
	/* a masked array inside a kept container is masked as at the top */
	expect_view2(VIEW_JSONL, NULL, true, "phone=phone", NULL,
		     "{\"c\":{\"phone\":[\"13812345678\",[\"13912345678\"]],\"q\":[\"13812345678\"]}}",
		     "{\"c\":{\"phone\":[\"138****5678\",[\"139****5678\"]]}}");
	/* what a kept container holds is read as strictly as the top */
	expect_refused(VIEW_JSONL, NULL, true, "name=name", NULL,
		       "{\"data\":[{\"name\":{\"first\":\"三丰\"}}]}", "an object under a masked key");
	expect_refused(VIEW_JSONL, NULL, true, "name=name", NULL,
		       "{\"data\":{\"x\":{\"name\":\"张三\",\" name\":\"李四\"}}}", "appears twice");
	expect_refused(VIEW_JSONL, NULL, true, "name=name", rf_leaf(ROW_EQ, "区县", 1, "宣州区"),
		       "{\"区县\":\"宣州区\",\"p\":[{\"区县\":\"郎溪县\"}]}\n", "below the top level");
}

/* A row filter reads its field at the top level only; anywhere else refuses. */
static void test_json_nested_filter(void)
{
	expect_view2(VIEW_JSONL, NULL, false, "name=name", rf_leaf(ROW_EQ, "区县", 1, "宣州区"),
		     "{\"区县\":\"宣州区\",\"p\":{\"name\":\"张三\"}}\n{\"区县\":\"郎溪县\",\"p\":{\"name\":\"李四\"}}\n",
		     "{\"区县\":\"宣州区\",\"p\":{\"name\":\"张*\"}}\n");
	expect_refused(VIEW_JSONL, NULL, false, "name=name", rf_leaf(ROW_EQ, "区县", 1, "宣州区"),
		       "{\"区县\":\"宣州区\",\"p\":{\"区县\":\"郎溪县\",\"name\":\"张三\"}}\n",
		       "the field \"区县\" is filtered on but stands below the top level");
	expect_refused(VIEW_JSON, NULL, false, "name=name", rf_leaf(ROW_NE, "区县", 1, "郎溪县"),
		       "{\"code\":0,\"data\":[{\"区县\":\"郎溪县\",\"name\":\"张三\"}]}",
		       "below the top level");
	expect_refused(VIEW_JSONL, NULL, false, "name=name", rf_leaf(ROW_EQ, "区县", 1, "宣州区"),
		       "{\"区县\":\"宣州区\",\" 区县\":\"郎溪县\"}\n", "the field \"区县\" appears twice");
	/* a filter reads the raw value of a field the view removes or redacts */
	expect_view2(VIEW_JSONL, NULL, true, "name=name", rf_leaf(ROW_EQ, "区县", 1, "宣州区"),
		     "{\"区县\":\"宣州区\",\"name\":\"张三\"}\n{\"name\":\"李四\",\"区县\":\"郎溪县\"}\n",
		     "{\"name\":\"张*\"}\n");
	expect_view2(VIEW_JSONL, NULL, false, "区县=drop", rf_leaf(ROW_NE, "区县", 1, "郎溪县"),
		     "{\"区县\":\"宣州区\",\"k\":1}\n{\"区县\":\"郎溪县\",\"k\":2}\n",
		     "{\"k\":1}\n");
	expect_view2(VIEW_JSONL, NULL, false, "区县=redact", rf_leaf(ROW_IN, "区县", 2, "宣州区", "x"),
		     "{\"区县\":\"宣州区\"}\n{\"区县\":\"郎溪县\"}\n{\"区县\":null}\n",
		     "{\"区县\":\"\"}\n");
}

/*
 * A filter reads its field's raw value before masks and removal: a member
 * that is dropped (a drop mask, or not in the grant's list) or redacted
 * still decides its record.
 */
static void test_json_filter_removed(void)
{
	const char *in = "{\"区县\":\"宣州区\",\"n\":1}\n{\"n\":2,\"区县\":\"郎溪县\"}\n";

	expect_view2(VIEW_JSONL, NULL, false, "区县=drop", rf_leaf(ROW_EQ, "区县", 1, "宣州区"),
		     in, "{\"n\":1}\n");
	expect_view2(VIEW_JSONL, NULL, true, "n=none", rf_leaf(ROW_NE, "区县", 1, "宣州区"),
		     in, "{\"n\":2}\n");
	expect_view2(VIEW_JSONL, NULL, false, "区县=redact", rf_leaf(ROW_PREFIX, "区县", 1, "郎"),
		     in, "{\"n\":2,\"区县\":\"\"}\n");
	expect_view2(VIEW_JSON, NULL, true, "n=none", rf_leaf(ROW_IN, "区县", 2, "x", "宣州区"),
		     "[{\"区县\":\"宣州区\",\"n\":1},{\"区县\":\"泾县\",\"n\":2}]",
		     "[{\"n\":1}]");
}

/* JSON keys and CSV headers match the rules' names with padding removed, in NFC. */
static void test_names_normalized(void)
{
	char *in, *want;

	expect_view2(VIEW_JSONL, NULL, false, "身份证号=id_card;姓名=name", NULL,
		     "{\" 身份证号 \":\"341802199001011234\",\"\\t姓名\\u3000\":\"张三丰\"}\n",
		     "{\" 身份证号 \":\"341802********1234\",\"\\t姓名\\u3000\":\"张**\"}\n");
	/* a decomposed accent, a compatibility ideograph, padding in the rules' name */
	expect_view2(VIEW_JSONL, NULL, false, "José=name;\xe8\xbe\xb6=name; 住址 =address", NULL,
		     "{\"Jose\xcc\x81\":\"abc\",\"\xef\xa9\xa6\":\"xyz\",\"住址\":\"安徽省宣城市宣州区\"}",
		     "{\"Jose\xcc\x81\":\"a**\",\"\xef\xa9\xa6\":\"x**\",\"住址\":\"安徽省宣城市***\"}");
	expect_view2(VIEW_CSV, NULL, false, "José=name;姓名=name", NULL,
		     "Jose\xcc\x81,\xe2\x80\x8b姓名\xe3\x80\x80\nabc,张三丰\n",
		     "Jose\xcc\x81,\xe2\x80\x8b姓名\xe3\x80\x80\na**,张**\n");
	in = gb("{\" 姓名\":\"张三丰\",\"x\":{\"姓名\\u3000\":\"李四\"}}");
	want = gb("{\" 姓名\":\"张**\",\"x\":{\"姓名\\u3000\":\"李*\"}}");
	expect_view2(VIEW_JSONL, "gb18030", false, "姓名=name", NULL, in, want);
	free(in);
	free(want);
	/* full-width letters are another name under NFC: the scan warns about those */
	expect_view2(VIEW_JSONL, NULL, false, "id=id_card", NULL,
		     "{\"\xef\xbd\x89\xef\xbd\x84\":\"341802199001011234\"}",
		     "{\"\xef\xbd\x89\xef\xbd\x84\":\"341802199001011234\"}");
}

static void test_rule_names_normalized(void)
{
	struct view_rules r;
	struct desens *d = NULL;
	struct perr e = PERR_INIT;

	rules_init(&r, VIEW_CSV, NULL, false, "姓名=name; 姓名\xe3\x80\x80=phone", NULL);
	CU_ASSERT_EQUAL(desens_new(&r, NULL, 0, &d, &e), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "listed twice"));
	rules_release(&r);
}

/* Filter values compare trimmed and in NFC; ne also folds compatibility forms. */
static void test_filter_normalized(void)
{
	const char *rows =
		"{\"k\":\"涉密\"}\n{\"k\":\"涉密 \"}\n{\"k\":\" 涉密\"}\n{\"k\":\"\\u6d89\\u5bc6\\t\"}\n"
		"{\"k\":\"公开\"}\n";

	expect_view2(VIEW_JSONL, NULL, false, "a=none", rf_leaf(ROW_NE, "k", 1, "涉密"), rows,
		     "{\"k\":\"公开\"}\n");
	expect_view2(VIEW_JSONL, NULL, false, "a=none", rf_leaf(ROW_EQ, "k", 1, " 涉密"), rows,
		     "{\"k\":\"涉密\"}\n{\"k\":\"涉密 \"}\n{\"k\":\" 涉密\"}\n{\"k\":\"\\u6d89\\u5bc6\\t\"}\n");
	/* CHAR(n) padding in a CSV column, both quoted and not */
	expect_view2(VIEW_CSV, NULL, false, "a=none", rf_leaf(ROW_NE, "k", 1, "涉密"),
		     "a,k\n1,涉密  \n2,\"  涉密\"\n3,公开  \n", "a,k\n3,公开  \n");
	expect_view2(VIEW_CSV, NULL, false, "a=none", rf_leaf(ROW_IN, "k", 2, "x", "涉密"),
		     "a,k\n1,涉密  \n2,公开\n", "a,k\n1,涉密  \n");
	/* NFD and NFC spellings are one value for every operator */
	expect_view2(VIEW_JSONL, NULL, false, "a=none", rf_leaf(ROW_NE, "k", 1, "caf\xc3\xa9"),
		     "{\"k\":\"cafe\xcc\x81\"}\n{\"k\":\"cafe\"}\n", "{\"k\":\"cafe\"}\n");
	expect_view2(VIEW_JSONL, NULL, false, "a=none", rf_leaf(ROW_PREFIX, "k", 1, "cafe\xcc\x81"),
		     "{\"k\":\"caf\xc3\xa9s\"}\n{\"k\":\"cafes\"}\n", "{\"k\":\"caf\xc3\xa9s\"}\n");
	/* full width: ne excludes it with the value it looks like, eq does not take it */
	expect_view2(VIEW_JSONL, NULL, false, "a=none", rf_leaf(ROW_NE, "k", 1, "ABC"),
		     "{\"k\":\"\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3\"}\n{\"k\":\"abc\"}\n",
		     "{\"k\":\"abc\"}\n");
	expect_view2(VIEW_JSONL, NULL, false, "a=none", rf_leaf(ROW_EQ, "k", 1, "ABC"),
		     "{\"k\":\"\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3\"}\n{\"k\":\"ABC\"}\n",
		     "{\"k\":\"ABC\"}\n");
	/* GB18030: the value is compared in Unicode */
	{
		char *in = gb("a,k\n1,涉密\xe3\x80\x80\n2,公开\n"), *want = gb("a,k\n2,公开\n");

		expect_view2(VIEW_CSV, "gb18030", false, "a=none",
			     rf_leaf(ROW_NE, "k", 1, "涉密"), in, want);
		free(in);
		free(want);
	}
}

/* A random JSON value; every value under an "id" key (any spelling) holds SECRET. */
static void rand_value(struct strbuf *sb, unsigned *seed, int depth, bool secret)
{
	static const char *const keys[] = { "id", " id", "id\\t", "x", "y", "\\u0069d" };
	int k = rand_r(seed) % (depth < 4 ? 6 : 3);

	if (secret && k >= 4)
		k = 3;
	switch (k) {
	case 0:
		strbuf_addf(sb, secret ? "\"SECRET%d\"" : "\"ok%d\"", rand_r(seed) % 100);
		break;
	case 1:
		strbuf_addstr(sb, secret ? "\"SECRET\"" : "12");
		break;
	case 2:
		strbuf_addstr(sb, "null");
		break;
	case 3:
	case 4:
		strbuf_addch(sb, '[');
		for (int i = rand_r(seed) % 4; i > 0; i--) {
			rand_value(sb, seed, depth + 1, secret);
			if (i > 1)
				strbuf_addstr(sb, ", ");
		}
		strbuf_addch(sb, ']');
		break;
	default:
		strbuf_addch(sb, '{');
		for (int i = rand_r(seed) % 4; i > 0; i--) {
			int key = rand_r(seed) % 6;

			strbuf_addf(sb, "\"%s\": ", keys[key]);
			rand_value(sb, seed, depth + 1, key != 3 && key != 4);
			if (i > 1)
				strbuf_addch(sb, ',');
		}
		strbuf_addch(sb, '}');
		break;
	}
}

/* Occurrences of needle in hay. */
static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/*
 * Under drop_unlisted, out (from in) keeps every masked value the view
 * without it keeps (each under its key), holds no unlisted scalar, and is
 * its own projection: nothing in it leads nowhere.
 */
static void check_projection(const struct strbuf *in, const struct strbuf *out)
{
	struct strbuf full = STRBUF_INIT, again = STRBUF_INIT;
	struct view_rules r;
	struct perr e = PERR_INIT;
	int ret;

	rules_init(&r, VIEW_JSONL, NULL, false, "id=name", NULL);
	ret = run_pieces(&r, in->buf, in->len, 0, &full, &e);
	rules_release(&r);
	if (ret) {
		printf("\n  %s: refused without drop_unlisted only: %s", in->buf, e.msg);
		CU_FAIL("refusals differ");
		goto out;
	}
	if (count_of(out->buf, "\"S") != count_of(full.buf, "\"S")) {
		printf("\n  in  %s  out %s  without drop_unlisted %s", in->buf, out->buf, full.buf);
		CU_FAIL("a listed field lost its way");
	}
	if (strstr(out->buf, "ok") || strstr(out->buf, "12") || strstr(out->buf, "\"x\": \"") ||
	    strstr(out->buf, "\"y\": \"")) {
		printf("\n  in  %s  out %s", in->buf, out->buf);
		CU_FAIL("an unlisted scalar left");
	}
	rules_init(&r, VIEW_JSONL, NULL, true, "id=name", NULL);
	if (run_pieces(&r, out->buf, out->len, 0, &again, NULL) || again.len != out->len ||
	    memcmp(again.buf, out->buf, out->len)) {
		printf("\n  in  %s  out %s  again %s", in->buf, out->buf, again.buf);
		CU_FAIL("the projection is not its own projection");
	}
	rules_release(&r);
out:
	strbuf_release(&full);
	strbuf_release(&again);
}

/*
 * Random nested records: a masked field never leaves the engine raw, and
 * what leaves it is JSON the engine reads again. A record is refused only
 * for the reasons the rules give. With drop_unlisted as without.
 */
static void json_nested_random(bool drop)
{
	unsigned seed = 20261122;
	size_t served = 0, refused = 0, kept = 0;

	for (int n = 0; n < 3000; n++) {
		struct strbuf in = STRBUF_INIT, out = STRBUF_INIT, again = STRBUF_INIT;
		struct view_rules r, plain;
		struct perr e = PERR_INIT;
		int ret;

		strbuf_addch(&in, '{');
		for (int i = rand_r(&seed) % 4; i > 0; i--) {
			strbuf_addf(&in, "\"k%d\":", i);
			rand_value(&in, &seed, 1, false);
			if (i > 1)
				strbuf_addch(&in, ',');
		}
		strbuf_addstr(&in, "}\n");
		rules_init(&r, VIEW_JSONL, NULL, drop, "id=name", NULL);
		ret = run_pieces(&r, in.buf, in.len, 0, &out, &e);
		if (ret) {
			refused++;
			if (!strstr(e.msg, "appears twice") && !strstr(e.msg, "an object under")) {
				printf("\n  %s: %s", in.buf, e.msg);
				CU_FAIL("refused for no reason of the rules");
			}
		} else {
			served++;
			if (strstr(out.buf, "SECRET")) {
				printf("\n  in  %s  out %s", in.buf, out.buf);
				CU_FAIL("a masked value left raw");
			}
			rules_init(&plain, VIEW_JSONL, NULL, false, "zz=name", NULL);
			if (run_pieces(&plain, out.buf, out.len, 0, &again, NULL)) {
				printf("\n  not JSON any more: %s", out.buf);
				CU_FAIL("output is not JSON");
			}
			rules_release(&plain);
			if (drop) {
				check_projection(&in, &out);
				kept += strstr(out.buf, "{\"k") != NULL;
			}
		}
		rules_release(&r);
		strbuf_release(&in);
		strbuf_release(&out);
		strbuf_release(&again);
	}
	CU_ASSERT(served > 500);
	CU_ASSERT(refused > 100);
	/* the envelopes to listed fields were kept, not only checked */
	CU_ASSERT(!drop || kept > 200);
}

static void test_json_nested_random(void)
{
	json_nested_random(false);
}

static void test_json_projection_random(void)
{
	json_nested_random(true);
}

/* Nesting past the reader's depth fails cleanly instead of overflowing anything. */
static void test_deep_nesting(void)
{
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
	struct view_rules r;
	struct perr e = PERR_INIT;

	strbuf_addstr(&in, "{\"a\":\"x\",\"b\":");
	for (int i = 0; i < 600; i++)
		strbuf_addch(&in, '[');
	for (int i = 0; i < 600; i++)
		strbuf_addch(&in, ']');
	strbuf_addstr(&in, "}\n");
	rules_init(&r, VIEW_JSONL, NULL, false, "a=name", NULL);
	CU_ASSERT_EQUAL(run_pieces(&r, in.buf, in.len, 0, &out, &e), -EIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "nested too deep"));
	rules_release(&r);
	strbuf_reset(&in);
	strbuf_reset(&out);
	strbuf_addstr(&in, "{\"a\":\"xy\",\"b\":");
	for (int i = 0; i < 500; i++)
		strbuf_addstr(&in, "{\"c\":");
	strbuf_addstr(&in, "1");
	for (int i = 0; i < 500; i++)
		strbuf_addch(&in, '}');
	strbuf_addstr(&in, "}");
	rules_init(&r, VIEW_JSON, NULL, false, "a=name", NULL);
	CU_ASSERT_EQUAL(run_pieces(&r, in.buf, in.len, 0, &out, NULL), 0);
	CU_ASSERT_EQUAL(out.len, in.len);
	CU_ASSERT_NSTRING_EQUAL(out.buf, "{\"a\":\"x*\",", 10);
	rules_release(&r);
	strbuf_release(&in);
	strbuf_release(&out);
}

static void test_counts(void)
{
	struct view_rules r;
	struct desens *d = NULL;
	struct strbuf out = STRBUF_INIT;
	uint64_t in = 0, o = 0;

	rules_init(&r, VIEW_CSV, NULL, false, "a=name", rf_leaf(ROW_EQ, "b", 1, "1"));
	CU_ASSERT_EQUAL_FATAL(desens_new(&r, NULL, 0, &d, NULL), 0);
	CU_ASSERT_EQUAL(desens_feed(d, "a,b\nx,1\ny,2\nz,1\n", 16, &out, NULL), 0);
	CU_ASSERT_EQUAL(desens_finish(d, &out, NULL), 0);
	desens_counts(d, &in, &o);
	CU_ASSERT_EQUAL(in, 3);
	CU_ASSERT_EQUAL(o, 2);
	CU_ASSERT_STRING_EQUAL(out.buf, "a,b\n*,1\n*,1\n");
	desens_free(d);
	rules_release(&r);
	strbuf_release(&out);
}

/* A record past the limit fails once the limit is passed, not at the end. */
static void long_record(enum view_format fmt, const char *head, uint8_t fill)
{
	struct view_rules r;
	struct desens *d = NULL;
	struct strbuf out = STRBUF_INIT;
	struct perr e = PERR_INIT;
	static uint8_t chunk[65536];
	size_t fed = 0;
	int ret;

	memset(chunk, fill, sizeof(chunk));
	rules_init(&r, fmt, NULL, false, "a=name", NULL);
	CU_ASSERT_EQUAL_FATAL(desens_new(&r, NULL, 0, &d, NULL), 0);
	ret = desens_feed(d, head, strlen(head), &out, &e);
	while (!ret && fed < DESENS_RECORD_MAX + 4 * sizeof(chunk)) {
		ret = desens_feed(d, chunk, sizeof(chunk), &out, &e);
		fed += sizeof(chunk);
	}
	CU_ASSERT_EQUAL(ret, -EIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "longer than 16 MiB"));
	CU_ASSERT(out.len < 64);
	desens_free(d);
	rules_release(&r);
	strbuf_release(&out);
}

static void test_record_limit(void)
{
	long_record(VIEW_CSV, "a\n", 'x');
	long_record(VIEW_CSV, "a\n\"", 'x');
	long_record(VIEW_JSONL, "{\"a\":\"", 'x');
	long_record(VIEW_JSON, "[{\"a\":\"", 'x');
}

int main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		{ "golden utf-8", test_golden_utf8 },
		{ "golden gb18030", test_golden_gb18030 },
		{ "malformed input", test_malformed },
		{ "bad rules", test_new_errors },
		{ "errors stick", test_error_sticks },
		{ "small cases", test_small_cases },
		{ "csv: a BOM after removed columns", test_bom_after_removed },
		{ "deep nesting", test_deep_nesting },
		{ "counts", test_counts },
		{ "record limit", test_record_limit },
		{ "json: fields at any depth", test_json_nested },
		{ "json: filters and depth", test_json_nested_filter },
		{ "json: filters read removed members", test_json_filter_removed },
		{ "json: random nesting", test_json_nested_random },
		{ "json: projection keeps the way to listed fields", test_json_projection },
		{ "json: random nesting, drop_unlisted", test_json_projection_random },
		{ "names normalized", test_names_normalized },
		{ "rule names normalized", test_rule_names_normalized },
		{ "filter values normalized", test_filter_normalized },
	};

	find_golden_dir(argv[0], golden_dir, sizeof(golden_dir));
	return unit_tests_run("desens", NULL, NULL, tests, UNIT_COUNT(tests));
}
