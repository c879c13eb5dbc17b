/*
 * tests/test_desens_cut.c - views produced in segments (desens_cut.h):
 * for generated CSV and JSON Lines files (LF, CRLF and lone CR line ends,
 * quoted fields holding line ends, blank lines, a BOM, a row filter), a
 * segment between any two boundaries a full pass reported, made by a
 * fresh engine fed the header, cut and resumed, is byte for byte that
 * stretch of the full view; a JSON document cannot be cut.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "policy/desens/desens_cut.h"
#include "tests/desens_util.h"
#include "tests/unit_main.h"

#define NFILES		60
#define MAXMARKS	4096

static uint64_t rng_state = 0x637574746573740aULL;

static uint64_t rng(void)
{
	return splitmix64(&rng_state);
}

static size_t pick(size_t n)
{
	return (size_t)(rng() % n);
}

static const char *const names[] = { "张三", "李四", "欧阳娜", "王", "陈伟明" };
static const char *const regions[] = { "宣州区", "郎溪县", "广德市" };
static const char *const ends[] = { "\n", "\r\n", "\r" };

static void gen_csv(struct strbuf *sb)
{
	size_t rows = 1 + pick(120);

	if (!pick(4))
		strbuf_addstr(sb, "\xEF\xBB\xBF");
	strbuf_addf(sb, "身份证号,姓名,备注,区县%s", ends[pick(3)]);
	for (size_t i = 0; i < rows; i++) {
		if (!pick(15)) {
			/* a blank line: an LF after a lone CR would end that line instead */
			strbuf_addstr(sb, "\r\n");
			continue;
		}
		strbuf_addf(sb, "3418%014llu,%s,", (unsigned long long)(rng() % 100000000000000ULL),
			    names[pick(5)]);
		switch (pick(4)) {
		case 0:
			strbuf_addstr(sb, "\"多行\n备注,\r\n\"\"引号\"\"\"");
			break;
		case 1:
			strbuf_addstr(sb, "\"\"");
			break;
		default:
			strbuf_addf(sb, "备注%zu", i);
		}
		strbuf_addf(sb, ",%s", regions[pick(3)]);
		/* the last row may end without a line end */
		if (i + 1 < rows || pick(3))
			strbuf_addstr(sb, ends[pick(3)]);
	}
}

static void gen_jsonl(struct strbuf *sb)
{
	size_t rows = 1 + pick(120);

	for (size_t i = 0; i < rows; i++) {
		if (!pick(15)) {
			strbuf_addstr(sb, pick(2) ? "\n" : "  \r\n");
			continue;
		}
		strbuf_addf(sb, "{\"身份证号\": \"3418%014llu\", \"姓名\": \"%s\", "
			    "\"a\": {\"姓名\": \"某某\"}, \"区县\": \"%s\"}",
			    (unsigned long long)(rng() % 100000000000000ULL), names[pick(5)],
			    regions[pick(3)]);
		if (i + 1 < rows || pick(3))
			strbuf_addstr(sb, pick(3) ? "\n" : "\r\n");
	}
}

struct mark {
	uint64_t src, view, line;
};

/* Feeds in[from..to) in random pieces; out gets the output. */
static int feed_random(struct desens *d, const struct strbuf *in, size_t from, size_t to,
		       struct strbuf *out, struct perr *e)
{
	int ret = 0;

	while (from < to && !ret) {
		size_t n = 1 + pick(97);

		if (n > to - from)
			n = to - from;
		ret = desens_feed(d, in->buf + from, n, out, e);
		from += n;
	}
	return ret;
}

/*
 * One full pass noting a boundary after every feed, then every segment
 * between two random noted boundaries made alone. Returns how many
 * segments were compared.
 */
static size_t check_file(const struct view_rules *r, const struct strbuf *in)
{
	struct strbuf full = STRBUF_INIT, seg = STRBUF_INIT, junk = STRBUF_INIT;
	static struct mark m[MAXMARKS];
	struct perr e = PERR_INIT;
	struct desens *d = NULL;
	size_t nm = 0, off = 0, done = 0;
	uint64_t body = 0, at, line;
	int ret;

	ret = desens_new(r, (const uint8_t *)TEST_KEY, strlen(TEST_KEY), &d, &e);
	CU_ASSERT_EQUAL_FATAL(ret, 0);
	CU_ASSERT_TRUE(desens_cuttable(d));
	m[nm++] = (struct mark){ 0, 0, 1 };
	while (off < in->len && !ret) {
		size_t n = 1 + pick(61);

		if (n > in->len - off)
			n = in->len - off;
		ret = desens_feed(d, in->buf + off, n, &full, &e);
		off += n;
		desens_at(d, &at, &line);
		if (!ret && desens_body(d, &body) && at >= body && at > m[nm - 1].src &&
		    at < in->len && nm < MAXMARKS)
			m[nm++] = (struct mark){ at, full.len, line };
	}
	if (!ret)
		ret = desens_finish(d, &full, &e);
	if (ret)
		fprintf(stderr, "full pass: %s\n", e.msg);
	CU_ASSERT_EQUAL_FATAL(ret, 0);
	desens_body(d, &body);
	desens_free(d);
	m[nm] = (struct mark){ in->len, full.len, 0 };

	for (int t = 0; t < 8 && nm > 1; t++) {
		size_t a = pick(nm), b = a + 1 + pick(nm - a);

		strbuf_reset(&seg);
		ret = desens_new(r, (const uint8_t *)TEST_KEY, strlen(TEST_KEY), &d, &e);
		if (!ret && a) {
			ret = feed_random(d, in, 0, body, &junk, &e);
			if (!ret)
				ret = desens_cut(d, &junk, &e);
			if (!ret)
				ret = desens_resume(d, m[a].src, m[a].line);
		}
		if (!ret)
			ret = feed_random(d, in, m[a].src, m[b].src, &seg, &e);
		if (!ret)
			ret = b == nm ? desens_finish(d, &seg, &e) : desens_cut(d, &seg, &e);
		if (ret)
			fprintf(stderr, "segment [%llu, %llu): %s\n",
				(unsigned long long)m[a].src, (unsigned long long)m[b].src, e.msg);
		CU_ASSERT_EQUAL(ret, 0);
		CU_ASSERT_EQUAL(seg.len, m[b].view - m[a].view);
		if (!ret && seg.len == m[b].view - m[a].view) {
			CU_ASSERT_EQUAL(memcmp(seg.buf, full.buf + m[a].view, seg.len), 0);
			done++;
		}
		desens_free(d);
		d = NULL;
		strbuf_reset(&junk);
	}
	strbuf_release(&full);
	strbuf_release(&seg);
	strbuf_release(&junk);
	return done;
}

static void run_format(enum view_format fmt, void (*gen)(struct strbuf *))
{
	struct view_rules r;
	size_t done = 0;

	rules_init(&r, fmt, "utf-8", false, "身份证号=hash;姓名=name;备注=drop",
		   rf_leaf(ROW_IN, "区县", 2, "宣州区", "广德市"));
	for (int i = 0; i < NFILES; i++) {
		struct strbuf in = STRBUF_INIT;

		gen(&in);
		done += check_file(&r, &in);
		strbuf_release(&in);
	}
	rules_release(&r);
	/* the files are long enough that most draws compare something */
	CU_ASSERT_TRUE(done > NFILES * 4);
}

static void test_csv_segments(void)
{
	run_format(VIEW_CSV, gen_csv);
}

static void test_jsonl_segments(void)
{
	run_format(VIEW_JSONL, gen_jsonl);
}

static void test_json_not_cuttable(void)
{
	static const char doc[] = "[{\"姓名\": \"张三\"}, {\"姓名\": \"李四\"}]";
	struct strbuf out = STRBUF_INIT;
	struct perr e = PERR_INIT;
	struct view_rules r;
	struct desens *d = NULL;

	rules_init(&r, VIEW_JSON, "utf-8", false, "姓名=name", NULL);
	CU_ASSERT_EQUAL_FATAL(desens_new(&r, NULL, 0, &d, &e), 0);
	CU_ASSERT_FALSE(desens_cuttable(d));
	CU_ASSERT_EQUAL(desens_feed(d, doc, 20, &out, &e), 0);
	CU_ASSERT_EQUAL(desens_cut(d, &out, &e), -EIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "cannot be cut"));
	desens_free(d);
	rules_release(&r);
	strbuf_release(&out);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "CSV segments are the full view's bytes", test_csv_segments },
		{ "JSON Lines segments are the full view's bytes", test_jsonl_segments },
		{ "a JSON document cannot be cut", test_json_not_cuttable },
	};

	return unit_tests_run("desens_cut", NULL, NULL, tests, UNIT_COUNT(tests));
}
