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
 * of CPU time of this process, then the wall-clock rate. Not an assertion.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/strbuf.h"
#include "policy/desens.h"
#include "policy/mask.h"

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

static void gen_row(struct strbuf *sb, uint64_t n)
{
	static const char *const sur[] = { "张", "王", "李", "赵", "刘", "陈", "欧阳" };
	static const char *const giv[] = { "伟", "芳", "娜", "敏", "静", "丽", "强", "三丰" };
	static const char *const reg[] = { "宣州区", "郎溪县", "广德市", "宁国市", "泾县" };
	static const char *const road[] = { "鳌峰路", "梅园路", "叠嶂路", "昭亭路" };
	static const char *const org[] = { "宣城市第一中学", "宣州区人民医院", "市人社局",
					   "安徽某某科技有限公司" };
	static const char *const note[] = { "", "在册", "迁出", "\"含,逗号\"", "低保户" };
	uint64_t r = rng();

	strbuf_addf(sb, "%llu,3418%02u%04u%02u%02u%03u%u,%s%s,1%u%09u,%s,%04u-%02u-%02u,"
		    "%s,安徽省宣城市%s%s%u号,%s,%s\n",
		    (unsigned long long)n, (unsigned)(r % 30), 1950 + (unsigned)(r >> 8) % 60,
		    1 + (unsigned)(r >> 16) % 12, 1 + (unsigned)(r >> 20) % 28,
		    (unsigned)(r >> 28) % 1000, (unsigned)(r >> 40) % 10, PICK(sur), PICK(giv),
		    3 + (unsigned)(r >> 44) % 7, (unsigned)(rng() % 1000000000u),
		    (r >> 50) & 1 ? "男" : "女", 1950 + (unsigned)(r >> 8) % 60,
		    1 + (unsigned)(r >> 16) % 12, 1 + (unsigned)(r >> 20) % 28, PICK(reg),
		    PICK(reg), PICK(road), 1 + (unsigned)(r >> 52) % 500, PICK(org),
		    PICK(note));
}

static double now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
	struct desens *d = NULL;
	struct perr e = PERR_INIT;
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256, total, produced = 0;
	double t0, c0, wall, cpu;
	uint64_t n = 0;
	int ret = 1;

	if (!mib || mib > 65536) {
		fprintf(stderr, "usage: desens_bench [MIB]\n");
		return 2;
	}
	total = mib << 20;
	strbuf_grow(&in, total + 4096);
	strbuf_addstr(&in, "编号,身份证号,姓名,手机号,性别,出生日期,区县,住址,单位,备注\n");
	while (in.len < total)
		gen_row(&in, ++n);
	strbuf_grow(&out, 2 * PIECE);
	if (desens_new(&r, NULL, 0, &d, &e)) {
		fprintf(stderr, "desens_bench: %s\n", perr_msg(&e, e.code));
		goto out;
	}
	t0 = now(CLOCK_MONOTONIC);
	c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	for (size_t off = 0; off < in.len; off += PIECE) {
		size_t len = in.len - off < PIECE ? in.len - off : PIECE;

		if (desens_feed(d, in.buf + off, len, &out, &e))
			break;
		produced += out.len;
		strbuf_reset(&out);
	}
	if (!e.code)
		desens_finish(d, &out, &e);
	produced += out.len;
	wall = now(CLOCK_MONOTONIC) - t0;
	cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
	if (e.code) {
		fprintf(stderr, "desens_bench: %s\n", perr_msg(&e, e.code));
		goto out;
	}
	/* per CPU second: "one core" even when the machine is busy */
	printf("desens_csv_3of10 %.0f MB/s (%.0f MB/s wall; %zu MiB, %llu rows, %.3f s cpu, "
	       "%zu bytes out; target >= 300)\n", (double)in.len / 1e6 / cpu,
	       (double)in.len / 1e6 / wall, mib, (unsigned long long)n, cpu, produced);
	ret = 0;
out:
	desens_free(d);
	strbuf_release(&in);
	strbuf_release(&out);
	return ret;
}
