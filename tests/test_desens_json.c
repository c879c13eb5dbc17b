/*
 * tests/test_desens_json.c - the desensitization engine on JSON at any
 * depth: fields and filters below the top level, the projection of
 * drop_unlisted, random nesting, and names and filter values compared
 * trimmed and in NFC (CSV cases of those included).
 *
 * Golden files and malformed input are in test_desens.c.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "policy/desens/desens.h"
#include "policy/desens/text.h"
#include "tests/desens_util.h"
#include "tests/unit_main.h"

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

int main(void)
{
	static const struct unit_test tests[] = {
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

	return unit_tests_run("desens_json", NULL, NULL, tests, UNIT_COUNT(tests));
}
