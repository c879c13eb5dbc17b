/*
 * tests/test_desens.c - the desensitization engine against golden files,
 * in pieces of every size, and on malformed input.
 *
 * Golden files live in tests/golden/NAME.in.EXT and NAME.out.EXT; the
 * GB18030 twins (NAME.gb18030.*) are made from them by
 * tests/golden/gen.py. GOLDEN_UPDATE=1 rewrites the UTF-8 .out files from
 * the engine, for review before commit. The random-data property test is
 * in test_desens_prop.c; JSON at any depth, projection and the
 * normalization of names and filter values are in test_desens_json.c.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "policy/desens/desens.h"
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
	/* one empty value left: a blank line to Python, "" two quotes to cut */
	B(VIEW_TSV, "a=drop", "a\tb\n1\t\n", "line 2, byte 4: a record left with one empty value"),
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
	};

	find_golden_dir(argv[0], golden_dir, sizeof(golden_dir));
	return unit_tests_run("desens", NULL, NULL, tests, UNIT_COUNT(tests));
}
