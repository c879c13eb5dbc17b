/*
 * tests/test_desens_prop.c - property test over generated data: random
 * ID numbers, phones and names in random CSV, TSV, JSON Lines and JSON
 * array files (random quoting, escapes, line ends, column order, masks,
 * row filters), in UTF-8 and GB18030, fed in random pieces.
 *
 * Properties: no raw tagged value ever appears in the output; a row the
 * filter rejects leaves no trace and a row it keeps is there; the output
 * does not depend on how the input was cut into pieces.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "policy/desens/text.h"
#include "tests/desens_util.h"
#include "tests/unit_main.h"

#define NFILES		120
#define MAXROWS		60

static uint64_t rng_state = 0x6465736e73313233ULL;

static uint64_t rng(void)
{
	return splitmix64(&rng_state);
}

static size_t pick(size_t n)
{
	return (size_t)(rng() % n);
}

/* Name characters share none with headers, regions or masks' output. */
static const char *const surnames[] = { "张", "王", "李", "赵", "刘", "陈", "杨", "黄", "欧阳" };
static const char *const given[] = { "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军",
				     "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀" };
static const char *const regions[] = { "宣州区", "郎溪县", "广德市", "宁国市", "泾县" };
static const char *const heads[] = { "身份证号", "手机号", "姓名", "备注", "说明", "区县" };

enum { C_ID, C_PHONE, C_NAME, C_FREE1, C_FREE2, C_REGION, NCOLS };

struct row {
	char val[NCOLS][96];
	bool keep;			/* passes the filter */
};

static void gen_id(char *b)
{
	static const char *const area[] = { "341802", "341821", "341822", "110101", "440305" };
	static const char check[] = "0123456789X";

	snprintf(b, 96, "%s%04zu%02zu%02zu%03zu%c", area[pick(5)], 1950 + pick(70),
		 1 + pick(12), 1 + pick(28), pick(1000), check[pick(11)]);
}

static void gen_phone(char *b)
{
	snprintf(b, 96, "1%zu%09llu", 3 + pick(7), (unsigned long long)(rng() % 1000000000ULL));
}

static void gen_name(char *b)
{
	size_t n = 1 + pick(3);

	snprintf(b, 96, "%s", surnames[pick(sizeof(surnames) / sizeof(surnames[0]))]);
	for (size_t i = 0; i < n; i++)
		strncat(b, given[pick(sizeof(given) / sizeof(given[0]))], 95 - strlen(b));
}

/* Free text: a unique row token, then ASCII with CSV's special characters. */
static void gen_free(char *b, size_t file, size_t row, size_t col)
{
	static const char alpha[] = "abcxyz ,,\"\n;'ABC";
	size_t n = pick(12), l;

	l = (size_t)snprintf(b, 96, "#%zu.%zu.%zu#", file, row, col);
	for (size_t i = 0; i < n && l < 94; i++)
		b[l++] = alpha[pick(sizeof(alpha) - 1)];
	b[l] = '\0';
}

static void put_csv(struct strbuf *sb, const char *v, char delim, bool force_quote)
{
	bool q = force_quote || strpbrk(v, "\",\n\r\t") || !*v;

	/* TSV: quotes are text (a field starting with one is refused) */
	if (!q || delim == '\t') {
		strbuf_addstr(sb, v);
		return;
	}
	strbuf_addch(sb, '"');
	for (; *v; v++) {
		if (*v == '"')
			strbuf_addch(sb, '"');
		strbuf_addch(sb, *v);
	}
	strbuf_addch(sb, '"');
	(void)delim;
}

/* A JSON string, some characters as \u escapes (which the engine must see through). */
static void put_json(struct strbuf *sb, const char *v)
{
	strbuf_addch(sb, '"');
	for (const unsigned char *p = (const unsigned char *)v; *p;) {
		if (*p >= 0x80) {
			int l = text_char_len(TEXT_UTF8, p, strlen((const char *)p));
			unsigned cp = l == 2 ? (p[0] & 0x1Fu) << 6 | (p[1] & 0x3Fu) :
				      (p[0] & 0x0Fu) << 12 | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3Fu);

			if (pick(3) == 0)
				strbuf_addf(sb, "\\u%04x", cp);
			else
				strbuf_add(sb, p, (size_t)l);
			p += l;
		} else if (*p == '"' || *p == '\\') {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, *p++);
		} else if (*p == '\n') {
			strbuf_addstr(sb, "\\n");
			p++;
		} else {
			strbuf_addch(sb, *p++);
		}
	}
	strbuf_addch(sb, '"');
}

static const char *const masks_id[] = { "id_card", "hash", "redact", "keep(2,2)", "drop" };
static const char *const masks_phone[] = { "phone", "hash", "keep(0,0)", "drop", "keep(3,4)" };
static const char *const masks_name[] = { "name", "hash", "redact", "keep(1,1)", "drop" };

static void gb(struct text_conv *cv, struct strbuf *sb)
{
	struct strbuf o = STRBUF_INIT;

	CU_ASSERT_EQUAL_FATAL(text_conv_run(cv, sb->buf, sb->len, &o), 0);
	strbuf_release(sb);
	*sb = o;
}

static void one_file(size_t file, enum view_format fmt, bool use_gb, struct text_conv *cv)
{
	static struct row rows[MAXROWS];
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT, again = STRBUF_INIT, raw = STRBUF_INIT;
	size_t order[NCOLS], nrows = 1 + pick(MAXROWS), nkeep = 0, piece;
	char fields[256], delim = fmt == VIEW_TSV ? '\t' : ',';
	/* a lone CR ends CSV records as LF does; TSV and JSON refuse it */
	const char *eol = pick(3) == 0 ? (fmt == VIEW_CSV ? "\r" : "\n") : pick(2) ? "\r\n" : "\n";
	struct row_filter *filter = NULL;
	const char *allowed[2] = { regions[pick(5)], regions[pick(5)] };
	struct view_rules r;
	struct perr e = PERR_INIT;
	int ret;

	for (size_t i = 0; i < NCOLS; i++)
		order[i] = i;
	for (size_t i = NCOLS - 1; i > 0; i--) {
		size_t j = pick(i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	if (pick(2))
		filter = rf_leaf(ROW_IN, "区县", 2, allowed[0], allowed[1]);
	snprintf(fields, sizeof(fields), "身份证号=%s;手机号=%s;姓名=%s",
		 masks_id[pick(5)], masks_phone[pick(5)], masks_name[pick(5)]);
	for (size_t i = 0; i < nrows; i++) {
		struct row *rw = &rows[i];

		gen_id(rw->val[C_ID]);
		gen_phone(rw->val[C_PHONE]);
		gen_name(rw->val[C_NAME]);
		gen_free(rw->val[C_FREE1], file, i, 1);
		gen_free(rw->val[C_FREE2], file, i, 2);
		if (fmt == VIEW_TSV) {
			/* TSV has no quoting: a value holds no line end */
			for (char *q = rw->val[C_FREE1]; (q = strchr(q, '\n'));)
				*q = ' ';
			for (char *q = rw->val[C_FREE2]; (q = strchr(q, '\n'));)
				*q = ' ';
		}
		snprintf(rw->val[C_REGION], 96, "%s", regions[pick(5)]);
		rw->keep = !filter || !strcmp(rw->val[C_REGION], allowed[0]) ||
			   !strcmp(rw->val[C_REGION], allowed[1]);
		nkeep += rw->keep;
	}
	if (fmt == VIEW_JSONL || fmt == VIEW_JSON) {
		if (fmt == VIEW_JSON)
			strbuf_addf(&in, "[%s", eol);
		for (size_t i = 0; i < nrows; i++) {
			if (fmt == VIEW_JSON && i)
				strbuf_addf(&in, ",%s", pick(2) ? eol : " ");
			strbuf_addch(&in, '{');
			for (size_t c = 0; c < NCOLS; c++) {
				if (c)
					strbuf_addstr(&in, pick(2) ? "," : ", ");
				put_json(&in, heads[order[c]]);
				strbuf_addch(&in, ':');
				if (order[c] == C_PHONE && pick(2))
					strbuf_addstr(&in, rows[i].val[C_PHONE]);
				else
					put_json(&in, rows[i].val[order[c]]);
			}
			strbuf_addf(&in, "}%s", fmt == VIEW_JSON ? "" : eol);
		}
		if (fmt == VIEW_JSON)
			strbuf_addf(&in, "%s]%s", eol, eol);
	} else {
		for (size_t c = 0; c < NCOLS; c++) {
			if (c)
				strbuf_addch(&in, delim);
			put_csv(&in, heads[order[c]], delim, pick(4) == 0);
		}
		strbuf_addstr(&in, eol);
		for (size_t i = 0; i < nrows; i++) {
			for (size_t c = 0; c < NCOLS; c++) {
				if (c)
					strbuf_addch(&in, delim);
				put_csv(&in, rows[i].val[order[c]], delim, pick(4) == 0);
			}
			strbuf_addstr(&in, eol);
		}
	}
	if (use_gb)
		gb(cv, &in);
	rules_init(&r, fmt, use_gb ? "gb18030" : "utf-8", false, fields, filter);
	ret = run_pieces(&r, in.buf, in.len, 0, &out, &e);
	if (ret)
		printf("\n  file %zu: %s", file, e.msg);
	CU_ASSERT_EQUAL_FATAL(ret, 0);
	for (size_t i = 0; i < nrows; i++) {
		for (size_t c = 0; c < NCOLS; c++) {
			bool tagged = c == C_ID || c == C_PHONE || c == C_NAME;
			bool found;

			if (!tagged && (!filter || c == C_REGION))
				continue;
			strbuf_reset(&raw);
			strbuf_addstr(&raw, rows[i].val[c]);
			if (use_gb)
				gb(cv, &raw);
			if (!tagged)
				raw.len = (size_t)(strchr(raw.buf + 1, '#') - raw.buf) + 1;
			found = memmem(out.buf, out.len, raw.buf, raw.len) != NULL;
			if (tagged && found) {
				printf("\n  file %zu row %zu: raw \"%s\" in the output", file, i,
				       rows[i].val[c]);
				CU_FAIL("raw tagged value leaked");
			}
			if (!tagged && found != rows[i].keep) {
				printf("\n  file %zu row %zu: filter kept %d", file, i, found);
				CU_FAIL("row filter");
			}
		}
	}
	piece = 1 + pick(pick(2) ? 16 : 4096);
	ret = run_pieces(&r, in.buf, in.len, piece, &again, NULL);
	CU_ASSERT_EQUAL(ret, 0);
	if (!same(&again, &out, "random pieces"))
		CU_FAIL("output depends on the pieces");
	rules_release(&r);
	strbuf_release(&in);
	strbuf_release(&out);
	strbuf_release(&again);
	strbuf_release(&raw);
	(void)nkeep;
}

static void run_all(enum view_format fmt)
{
	struct text_conv *cv = NULL;

	CU_ASSERT_EQUAL_FATAL(text_conv_new(TEXT_UTF8, TEXT_GB18030, &cv), 0);
	for (size_t f = 0; f < NFILES; f++)
		one_file(f, fmt, f % 2, cv);
	text_conv_free(cv);
}

static void test_csv(void)
{
	run_all(VIEW_CSV);
}

static void test_tsv(void)
{
	run_all(VIEW_TSV);
}

static void test_jsonl(void)
{
	run_all(VIEW_JSONL);
}

static void test_json(void)
{
	run_all(VIEW_JSON);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "csv: no raw tagged value, filters hold", test_csv },
		{ "tsv: no raw tagged value, filters hold", test_tsv },
		{ "json lines: no raw tagged value, filters hold", test_jsonl },
		{ "json array: no raw tagged value, filters hold", test_json },
	};

	return unit_tests_run("desens properties", NULL, NULL, tests, UNIT_COUNT(tests));
}
