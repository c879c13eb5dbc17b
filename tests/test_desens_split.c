/*
 * tests/test_desens_split.c - CSV and TSV records read by the 32-byte
 * split (fmt_csv.c split_fast) against the byte-wise reader it stands in
 * front of.
 *
 * Fixed records (quoted and doubled-quote fields, CRLF, a lone CR, a line
 * end inside quotes, quotes as text, the refusals), with the views and
 * messages the byte-wise engine gave before the split read them; then a
 * quoted field, a doubled quote and a delimiter inside quotes at every
 * offset across the 32-byte blocks, fed whole (the split) and a byte at
 * a time (a record never whole in the buffer goes to the byte-wise
 * reader): the views must be the same.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "tests/desens_util.h"
#include "tests/unit_main.h"

#define RULES	"身份证号=id_card;姓名=name;手机号=phone"

static const struct {
	int tsv;
	const char *in, *want, *err;	/* want: the view; err: the refusal */
} cases[] = {
	{ 0, "身份证号,姓名,手机号,备注\n341802199001011234,张三丰,13812345678,x\n",
	  "身份证号,姓名,手机号,备注\n"
	  "341802********1234,张**,138****5678,x\n",
	  NULL },
	{ 0, "身份证号,姓名,手机号,备注\r\n341802199001011234,张三丰,13812345678,x\r\n341802900101123,李四,138,\r\n",
	  "身份证号,姓名,手机号,备注\r\n"
	  "341802********1234,张**,138****5678,x\r\n"
	  "341802******123,李*,***,\r\n",
	  NULL },
	{ 0, "身份证号,姓名,手机号,备注\n\"3418,02199001011234\",\"张,三\",13812345678,\"a,b\"\n",
	  "身份证号,姓名,手机号,备注\n"
	  "*******************,张**,138****5678,\"a,b\"\n",
	  NULL },
	{ 0, "身份证号,姓名,手机号,备注\n\"34\"\"1802199001011234\",\"张\"\"三\",\"138\"\"12345678\",\"say \"\"hi\"\"\"\n",
	  "身份证号,姓名,手机号,备注\n"
	  "*******************,张**,138*****5678,\"say \"\"hi\"\"\"\n",
	  NULL },
	{ 0, "身份证号,姓名,手机号,备注\n\"\",\"\",\"\",\"\"\n,,,\n",
	  "身份证号,姓名,手机号,备注\n"
	  ",,,\"\"\n"
	  ",,,\n",
	  NULL },
	{ 0, "身份证号,姓名,手机号,备注\n341802199001011234,张三丰,13812345678,\"a\nb\"\n1,2,3,4\n",
	  "身份证号,姓名,手机号,备注\n"
	  "341802********1234,张**,138****5678,\"a\n"
	  "b\"\n"
	  "*,*,*,4\n",
	  NULL },
	{ 0, "身份证号,姓名,手机号,备注\n341802199001011234,张三丰,13812345678,x\ry\n",
	  NULL,
	  "line 3, byte 80: record has 1 fields, the header has 4" },
	{ 0, "身份证号,姓名,手机号,备注\n341802199001011234,张三丰,13812345678,ab\"c\n",
	  "身份证号,姓名,手机号,备注\n"
	  "341802********1234,张**,138****5678,ab\"c\n",
	  NULL },
	{ 0, "身份证号,姓名,手机号,备注\n341802199001011234,张三丰,13812345678,  \"c\"\n",
	  NULL,
	  "line 2, byte 80: a quote after leading spaces (readers disagree whether it starts a quoted field)" },
	{ 0, "身份证号,姓名,手机号,备注\n341802199001011234,张三丰,13812345678,\"c\"x\n",
	  NULL,
	  "line 2, byte 81: unexpected character after a closing quote" },
	{ 0, "身份证号,姓名,手机号,备注\n341802199001011234,张三丰,13812345678,\"c\"\r\n",
	  "身份证号,姓名,手机号,备注\n"
	  "341802********1234,张**,138****5678,\"c\"\r\n",
	  NULL },
	{ 0, "身份证号,姓名,手机号,备注\n341802199001011234,张三丰,13812345678,\"unclosed\n",
	  NULL,
	  "line 2, byte 78: quoted field not closed at end of input" },
	{ 0, "身份证号,姓名,手机号,备注\n341802199001011234,张三丰,13812345678\n",
	  NULL,
	  "line 2, byte 37: record has 3 fields, the header has 4" },
	{ 0, "身份证号,姓名,手机号,备注\n\n341802199001011234,张三丰,13812345678,\"\"\"\"\n",
	  "身份证号,姓名,手机号,备注\n"
	  "\n"
	  "341802********1234,张**,138****5678,\"\"\"\"\n",
	  NULL },
	{ 0, "身份证号,姓名,手机号,备注\n\"341802199001011234\",\"张三丰\",\"13812345678\",\"0123456789012345678901234567890123456789\"\n",
	  "身份证号,姓名,手机号,备注\n"
	  "341802********1234,张**,138****5678,\"0123456789012345678901234567890123456789\"\n",
	  NULL },
	{ 0, "备注,身份证号,姓名,手机号\n\"0123456789012345678901234567,\"\"\",\"341802199001011234\",张三丰,13812345678\n",
	  "备注,身份证号,姓名,手机号\n"
	  "\"0123456789012345678901234567,\"\"\",341802********1234,张**,138****5678\n",
	  NULL },
	{ 0, "身份证号,姓名,手机号,备注\r341802199001011234,张三丰,13812345678,x\r",
	  "身份证号,姓名,手机号,备注\r341802********1234,张**,138****5678,x\r",
	  NULL },
	{ 1, "身份证号\t姓名\t手机号\t备注\n341802199001011234\t张三丰\t13812345678\ta,b\r\n",
	  "身份证号	姓名	手机号	备注\n"
	  "341802********1234	张**	138****5678	a,b\r\n",
	  NULL },
	{ 1, "身份证号\t姓名\t手机号\t备注\n341802199001011234\t张三丰\t13812345678\t\"q\"\n",
	  NULL,
	  "line 2, byte 78: a TSV field starts with a quote (quote-literal readers and Excel's tab dialect disagree)" },
	{ 1, "身份证号\t姓名\t手机号\t备注\n341802199001011234\t张三丰\t13812345678\tx\ry\n",
	  NULL,
	  "line 2, byte 79: a CR that is not followed by LF (TSV readers disagree whether it ends a line)" },
};

/* in[0..len) under RULES fed in pieces of piece bytes (0: whole). */
static int run(int tsv, const char *in, size_t len, size_t piece, struct strbuf *out,
	       struct perr *e)
{
	struct view_rules r;
	int ret;

	rules_init(&r, tsv ? VIEW_TSV : VIEW_CSV, "utf-8", false, RULES, NULL);
	ret = run_pieces(&r, in, len, piece, out, e);
	rules_release(&r);
	return ret;
}

static void test_fixed(void)
{
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		for (size_t piece = 0; piece < 2; piece++) {
			struct strbuf out = STRBUF_INIT;
			struct perr e = PERR_INIT;
			int ret = run(cases[k].tsv, cases[k].in, strlen(cases[k].in), piece,
				      &out, &e);

			if (cases[k].err) {
				CU_ASSERT_EQUAL(ret, -EIO);
				if (ret != -EIO || strcmp(e.msg, cases[k].err))
					printf("\n  case %zu: got %d \"%s\", want \"%s\"", k, ret,
					       e.msg, cases[k].err);
				CU_ASSERT_STRING_EQUAL(e.msg, cases[k].err);
			} else {
				struct strbuf want = STRBUF_INIT;

				CU_ASSERT_EQUAL(ret, 0);
				strbuf_addstr(&want, cases[k].want);
				CU_ASSERT(same(&out, &want, cases[k].in));
				strbuf_release(&want);
			}
			strbuf_release(&out);
		}
	}
}

/* A field at every offset across two blocks: whole and byte by byte alike. */
static void test_offsets(void)
{
	static const char *const fields[] = {
		"\"a,b\"", "\"a\"\"b\"", "\"\"", "\"\"\"\"", "a\"b", "\"x\"\r", "\"a\nb\"",
	};
	static const char *const ends[] = { "\n", "\r\n" };
	char pad[80];
	unsigned bad = 0;

	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		for (size_t n = 0; n < 70; n++) {
			struct strbuf in = STRBUF_INIT, whole = STRBUF_INIT, bytes = STRBUF_INIT;
			struct perr e1 = PERR_INIT, e2 = PERR_INIT;
			int r1, r2;

			memset(pad, 'p', n);
			pad[n] = '\0';
			/* the field masked (姓名) and kept raw (说明) */
			strbuf_addf(&in, "备注,身份证号,姓名,手机号,说明%s", ends[n % 2]);
			for (int row = 0; row < 3; row++)
				strbuf_addf(&in, "%s,341802199001011234,%s,1381234%04zu,%s%s", pad,
					    fields[f], n, fields[f], ends[(n + row) % 2]);
			r1 = run(0, in.buf, in.len, 0, &whole, &e1);
			r2 = run(0, in.buf, in.len, 1, &bytes, &e2);
			if (r1 != r2 || (r1 ? strcmp(e1.msg, e2.msg) :
			    whole.len != bytes.len || memcmp(whole.buf, bytes.buf, whole.len))) {
				if (bad++ < 5)
					printf("\n  field %s after %zu bytes: whole %d \"%s\", "
					       "byte by byte %d \"%s\"", fields[f], n, r1,
					       r1 ? e1.msg : whole.buf, r2, r2 ? e2.msg : bytes.buf);
			}
			/* and it was masked */
			CU_ASSERT(r1 || !strstr(whole.buf, "341802199001011234"));
			strbuf_release(&in);
			strbuf_release(&whole);
			strbuf_release(&bytes);
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "fixed records: the byte-wise engine's views", test_fixed },
		{ "fields at every offset: whole as byte by byte", test_offsets },
	};

	return unit_tests_run("desens split", NULL, NULL, tests, UNIT_COUNT(tests));
}
