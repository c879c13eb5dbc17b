/*
 * tests/test_write_check.c - which commits by a writer who may not read
 * a file raw keep how the engine reads it (policy/desens/write_check.h).
 *
 * Each row feeds the previous and the new content, the new one in
 * pieces of every size from 1 byte, so a boundary that depends on where
 * a feed ends fails here.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy/desens/write_check.h"
#include "tests/unit_main.h"

struct wcase {
	const char *format, *old, *new;
	int keep;		/* -1: the old content's length */
	int want;		/* 0 or -EACCES */
};

#define H "身份证号,姓名,区县\n"
#define R1 "341802199001011234,张三丰,宣州区\n"

static const struct wcase cases[] = {
	/* appends after whole records */
	{ "csv", H R1, H R1 "1,a,宣州区\n", -1, 0 },
	{ "csv", H R1, H R1 "1,a,宣州区\r\n", -1, 0 },
	/* the header swapped in place (issue 18) or in a rewrite */
	{ "csv", H R1, "姓名,身份证号,区县\n" R1, 0, -EACCES },
	{ "csv", H R1, "姓名,身份证号,区县\n1,a,b\n", 0, -EACCES },
	{ "csv", H R1, "身份证号,姓名\n1,a\n", 0, -EACCES },
	/* a rewrite keeping the names: spaces, quotes and line ends may change */
	{ "csv", H R1, " 身份证号 ,\"姓名\",区县\r\n1,a,b\r\n", 0, 0 },
	{ "csv", H R1, H, 0, 0 },
	{ "csv", H R1, "", 0, 0 },
	/* the writer's bytes continue the last record */
	{ "csv", H "1,赵六,宣州", H "1,赵六,宣州区\n", -1, -EACCES },
	{ "csv", H R1, H "3418", 27, -EACCES },
	/* records the writer adds must parse */
	{ "csv", H R1, H R1 "1,a\n", -1, -EACCES },
	{ "csv", H R1, H R1 "\"1,a,b\n", -1, -EACCES },
	/* a new file has no header to keep */
	{ "csv", "", "a,b\n1,2\n", 0, 0 },
	{ "tsv", "a\tb\n1\t2\n", "a\tb\n1\t2\n3\t4\n", -1, 0 },
	{ "tsv", "a\tb\n1\t2\n", "b\ta\n1\t2\n", 0, -EACCES },
	{ "jsonl", "{\"a\":1}\n", "{\"a\":1}\n{\"b\":2}\n", -1, 0 },
	{ "jsonl", "{\"a\":1}", "{\"a\":1}{\"b\":2}\n", -1, -EACCES },
	{ "jsonl", "{\"a\":1}\n", "{\"a\":1}\n{\"b\":\n", -1, -EACCES },
	{ "json", "[{\"a\":1}]", "[{\"a\":2}]", 0, 0 },
	{ "json", "[{\"a\":1}]", "[{\"a\":1}]\n", -1, -EACCES },
	{ "json", "[{\"a\":1}]", "[{\"a\":1}]", -1, 0 },
	/* the engine does not read it: nothing to keep at commit */
	{ "pdf", "%PDF", "anything", 0, 0 },
};

static int run(const struct wcase *c, size_t piece, char *why, size_t whylen)
{
	size_t n = strlen(c->new);
	uint64_t keep = c->keep < 0 ? strlen(c->old) : (uint64_t)c->keep;
	struct write_check *w;
	struct perr e = PERR_INIT;
	int err;

	err = write_check_new(c->format, "utf-8", keep, &w, &e);
	if (err < 0)
		return err;
	write_check_old(w, c->old, strlen(c->old));
	for (size_t off = 0; off < n; off += piece)
		write_check_feed(w, c->new + off, n - off < piece ? n - off : piece);
	err = write_check_finish(w, &e);
	snprintf(why, whylen, "%s", perr_msg(&e, -err));
	write_check_free(w);
	return err;
}

static void test_cases(void)
{
	char why[256];

	for (size_t i = 0; i < UNIT_COUNT(cases); i++) {
		for (size_t piece = 1; piece <= strlen(cases[i].new) + 1; piece++) {
			int got = run(&cases[i], piece, why, sizeof(why));

			if (got != cases[i].want)
				printf("\ncase %zu (piece %zu): got %d (%s), want %d\n", i,
				       piece, got, why, cases[i].want);
			CU_ASSERT_EQUAL(got, cases[i].want);
			if (got != cases[i].want)
				break;
		}
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "commits checked, fed in pieces of every size", test_cases },
	};

	return unit_tests_run("write_check", NULL, NULL, tests, UNIT_COUNT(tests));
}
