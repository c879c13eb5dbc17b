/*
 * tests/policy_util.h - the fixture the policy tests share: the policy
 * parsed from tests/policies/base.json, its text, the paths of its
 * entries, and "now" fixed at 2026-06-01T00:00:00Z so grant windows
 * never drift.
 *
 * Header-only (static inline) because the Makefile links each
 * tests/test_*.c on its own against libpool.a. Pass suite_init and
 * suite_clean to unit_tests_run().
 */
#ifndef POOL_TEST_POLICY_UTIL_H
#define POOL_TEST_POLICY_UTIL_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "policy/policy.h"

#define P1 "/基础库/人口/户籍人口"	/* conditional, gongan */
#define P2 "/主题库/社保/参保人员"	/* unconditional, renshe */
#define P3 "/部门库/公安/案件"		/* share none, gongan */
#define P4 "/主题库/卫健/疫苗接种"	/* conditional, weijian, gb18030 */
#define P5 "/部门库/统计/年鉴"		/* unconditional pdf, tongji */

static struct policy *base;
static struct strbuf base_text = STRBUF_INIT;
static time_t T0;

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS" (UTC); NULL is T0 */
static inline time_t at(const char *s)
{
	struct tm tm = { 0 };

	if (!s)
		return T0;
	if (sscanf(s, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) < 3)
		return (time_t)-1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

static inline int read_fixture(const char *name, struct strbuf *out)
{
	char path[PATH_MAX], exe[PATH_MAX];
	const char *dirs[3] = { getenv("POOL_TEST_POLICIES"), "tests/policies", NULL };
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char buf[4096];
	FILE *f = NULL;
	size_t got;

	if (n > 0) {
		exe[n] = '\0';
		for (int up = 0; up < 3; up++) {
			char *slash = strrchr(exe, '/');

			if (slash)
				*slash = '\0';
		}
		strbuf_addf(out, "%s/tests/policies", exe);
		dirs[2] = out->buf;
	}
	for (int i = 0; i < 3 && !f; i++) {
		if (!dirs[i])
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		f = fopen(path, "r");
	}
	strbuf_reset(out);
	if (!f)
		return -ENOENT;
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(out, buf, got);
	fclose(f);
	return 0;
}

static inline int suite_init(void)
{
	struct perr e = PERR_INIT;

	T0 = at("2026-06-01");
	if (read_fixture("base.json", &base_text))
		return -1;
	if (policy_parse(base_text.buf, base_text.len, &base, &e)) {
		fprintf(stderr, "base.json: %s\n", e.msg);
		return -1;
	}
	return 0;
}

static inline int suite_clean(void)
{
	policy_put(base);
	strbuf_release(&base_text);
	return 0;
}

#endif /* POOL_TEST_POLICY_UTIL_H */
