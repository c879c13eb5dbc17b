/*
 * bench/desens_bench.c - the desensitization engine alone, on one core:
 * CSV with 10 columns, 3 of them masked (id_card, phone, name).
 *
 *   desens_bench [MIB]      input size in MiB (default 256)
 *
 * The input is generated in memory (random but realistic rows, about a
 * third of the bytes Chinese text) and fed in 1 MiB pieces, as the daemon
 * feeds a file; the output is dropped after each piece. Prints one line:
 * "desens_csv_3of10 <MB/s> MB/s (... target >= 300)", the rate per second
 * of CPU time of this process, then the wall-clock rate; then the same for
 * JSON Lines on a quarter of the size (no target). Not an assertion.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/strbuf.h"
#include "policy/desens/desens.h"
#include "policy/desens/mask.h"

#define PIECE	(1u << 20)

static uint64_t rng_state = 0x62656e6368646573ULL;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#define PICK(a) (a)[rng() % (sizeof(a) / sizeof((a)[0]))]

static const char *const heads[10] = {
	"编号", "身份证号", "姓名", "手机号", "性别", "出生日期", "区县", "住址", "单位", "备注",
};

/* One row of ten values; as CSV, or as a JSON Lines object when json. */
static void gen_row(struct strbuf *sb, uint64_t n, bool json)
{
	static const char *const sur[] = { "张", "王", "李", "赵", "刘", "陈", "欧阳" };
	static const char *const giv[] = { "伟", "芳", "娜", "敏", "静", "丽", "强", "三丰" };
	static const char *const reg[] = { "宣州区", "郎溪县", "广德市", "宁国市", "泾县" };
	static const char *const road[] = { "鳌峰路", "梅园路", "叠嶂路", "昭亭路" };
	static const char *const org[] = { "宣城市第一中学", "宣州区人民医院", "市人社局",
					   "安徽某某科技有限公司" };
	static const char *const note[] = { "", "在册", "迁出", "含,逗号", "低保户" };
	char v[10][96];
	uint64_t r = rng();
	unsigned y = 1950 + (unsigned)(r >> 8) % 60, m = 1 + (unsigned)(r >> 16) % 12,
		 dd = 1 + (unsigned)(r >> 20) % 28;

	snprintf(v[0], 96, "%llu", (unsigned long long)n);
	snprintf(v[1], 96, "3418%02u%04u%02u%02u%03u%u", (unsigned)(r % 30), y, m, dd,
		 (unsigned)(r >> 28) % 1000, (unsigned)(r >> 40) % 10);
	snprintf(v[2], 96, "%s%s", PICK(sur), PICK(giv));
	snprintf(v[3], 96, "1%u%09u", 3 + (unsigned)(r >> 44) % 7,
		 (unsigned)(rng() % 1000000000u));
	snprintf(v[4], 96, "%s", (r >> 50) & 1 ? "男" : "女");
	snprintf(v[5], 96, "%04u-%02u-%02u", y, m, dd);
	snprintf(v[6], 96, "%s", PICK(reg));
	snprintf(v[7], 96, "安徽省宣城市%s%s%u号", PICK(reg), PICK(road),
		 1 + (unsigned)(r >> 52) % 500);
	snprintf(v[8], 96, "%s", PICK(org));
	snprintf(v[9], 96, "%s", PICK(note));
	for (int i = 0; i < 10; i++) {
		if (json)
			strbuf_addf(sb, "%s\"%s\":\"%s\"", i ? "," : "{", heads[i], v[i]);
		else if (strchr(v[i], ','))
			strbuf_addf(sb, "%s\"%s\"", i ? "," : "", v[i]);
		else
			strbuf_addf(sb, "%s%s", i ? "," : "", v[i]);
	}
	strbuf_addstr(sb, json ? "}\n" : "\n");
}

static double now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs rules over in, fed in pieces; prints one line. Returns 0 or -EIO. */
static int bench(const char *label, struct view_rules *r, const struct strbuf *in,
		 uint64_t rows)
{
	struct strbuf out = STRBUF_INIT;
	struct desens *d = NULL;
	struct perr e = PERR_INIT;
	size_t produced = 0;
	double t0, c0, wall, cpu;
	int ret;

	strbuf_grow(&out, 2 * PIECE);
	ret = desens_new(r, NULL, 0, &d, &e);
	if (ret)
		goto out;
	t0 = now(CLOCK_MONOTONIC);
	c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	for (size_t off = 0; off < in->len && !ret; off += PIECE) {
		size_t len = in->len - off < PIECE ? in->len - off : PIECE;

		ret = desens_feed(d, in->buf + off, len, &out, &e);
		produced += out.len;
		strbuf_reset(&out);
	}
	if (!ret)
		ret = desens_finish(d, &out, &e);
	produced += out.len;
	wall = now(CLOCK_MONOTONIC) - t0;
	cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
	if (ret)
		goto out;
	/* per CPU second: "one core" even when the machine is busy */
	printf("%s %.0f MB/s (%.0f MB/s wall; %zu MiB, %llu rows, %.3f s cpu, %zu bytes out%s)\n",
	       label, (double)in->len / 1e6 / cpu, (double)in->len / 1e6 / wall,
	       in->len >> 20, (unsigned long long)rows, cpu, produced,
	       r->format == VIEW_CSV ? "; target >= 300" : "");
out:
	if (ret)
		fprintf(stderr, "desens_bench: %s: %s\n", label, perr_msg(&e, ret));
	desens_free(d);
	strbuf_release(&out);
	return ret;
}

static uint64_t generate(struct strbuf *in, size_t total, bool json)
{
	uint64_t n = 0;

	strbuf_reset(in);
	strbuf_grow(in, total + 4096);
	for (int i = 0; i < 10 && !json; i++)
		strbuf_addf(in, "%s%s", i ? "," : "", heads[i]);
	if (!json)
		strbuf_addch(in, '\n');
	while (in->len < total)
		gen_row(in, ++n, json);
	return n;
}

int main(int argc, char **argv)
{
	struct view_field fields[3] = {
		{ (char *)"身份证号", { MASK_ID_CARD, 0, 0 } },
		{ (char *)"手机号", { MASK_PHONE, 0, 0 } },
		{ (char *)"姓名", { MASK_NAME, 0, 0 } },
	};
	struct view_rules r = { .format = VIEW_CSV, .encoding = (char *)"utf-8",
				.fields = fields, .nfields = 3 };
	struct strbuf in = STRBUF_INIT;
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
	uint64_t rows;
	int ret = 1;

	if (!mib || mib > 65536) {
		fprintf(stderr, "usage: desens_bench [MIB]\n");
		return 2;
	}
	rows = generate(&in, mib << 20, false);
	if (bench("desens_csv_3of10", &r, &in, rows))
		goto out;
	/* JSON Lines costs more per byte (a strict parser); a quarter the size */
	rows = generate(&in, (mib << 20) / 4, true);
	r.format = VIEW_JSONL;
	if (bench("desens_jsonl_3of10", &r, &in, rows))
		goto out;
	ret = 0;
out:
	strbuf_release(&in);
	return ret;
}
