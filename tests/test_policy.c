/*
 * tests/test_policy.c - the policy model and decision engine: a table of
 * decisions against tests/policies/base.json, a table of broken policies
 * with the exact start of each error message, and the documents built
 * from a policy (views, catalog, whoami, explain, export, diff).
 *
 * "Now" is fixed (2026-06-01T00:00:00Z) so grant windows never drift.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "policy/policy.h"
#include "policy/view.h"

#define P1 "/基础库/人口/户籍人口"	/* conditional, gongan */
#define P2 "/主题库/社保/参保人员"	/* unconditional, renshe */
#define P3 "/部门库/公安/案件"		/* share none, gongan */
#define P4 "/主题库/卫健/疫苗接种"	/* conditional, weijian, gb18030 */
#define P5 "/部门库/统计/年鉴"		/* unconditional pdf, tongji */

static struct policy *base;
static struct strbuf base_text = STRBUF_INIT;
static time_t T0;

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS" (UTC); NULL is T0 */
static time_t at(const char *s)
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

static int read_fixture(const char *name, struct strbuf *out)
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

static int suite_init(void)
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

static int suite_clean(void)
{
	policy_put(base);
	strbuf_release(&base_text);
	return 0;
}

/* ---- decisions ---- */

struct dcase {
	const char *name;
	uint32_t uid, gid;
	uint32_t groups[3];
	int ngroups;
	const char *mount;
	const char *path;
	enum policy_action act;
	const char *when;	/* NULL: T0 */
	int allow;
	int err;		/* when denied */
	const char *grant;	/* expected d.grant */
	int view;		/* 0 raw, 1 a view, -1 either */
	const char *reason;	/* substring of d.reason, or NULL */
};

#define R POLICY_READ
#define W POLICY_WRITE
#define L POLICY_LIST
#define K POLICY_LOOKUP
#define C POLICY_CREATE
#define D POLICY_DELETE
#define NOG 0, { 0 }, 0

static const struct dcase dcases[] = {
	/* provider */
	{ "provider reads raw", 1001, 2001, NOG, NULL, P1 "/a.csv", R, NULL, 1, 0, "", 0, "provider" },
	{ "provider writes", 1001, 2001, NOG, NULL, P1 "/a.csv", W, NULL, 1, 0, "", 0, NULL },
	{ "provider creates", 1001, 2001, NOG, NULL, P1 "/new.csv", C, NULL, 1, 0, "", 0, NULL },
	{ "provider deletes a file", 1001, 2001, NOG, NULL, P1 "/a.csv", D, NULL, 1, 0, "", 0, NULL },
	{ "provider keeps the entry dir", 1001, 2001, NOG, NULL, P1, D, NULL, 0, -EACCES, "", 0, "defined by the policy" },
	{ "provider by primary gid", 1500, 2001, NOG, NULL, P1 "/a.csv", R, NULL, 1, 0, "", 0, NULL },
	{ "provider of a none entry", 1001, 2001, NOG, NULL, P3 "/x.jsonl", R, NULL, 1, 0, "", 0, NULL },
	/* conditional with a grant in force */
	{ "grant read", 1002, 2002, NOG, NULL, P1 "/a.csv", R, NULL, 1, 0, "g1", 1, "grant \"g1\"" },
	{ "grant list", 1002, 2002, NOG, NULL, P1, L, NULL, 1, 0, "g1", 1, NULL },
	{ "grant read deep", 1002, 2002, NOG, NULL, P1 "/2026/06/a.csv", R, NULL, 1, 0, "g1", 1, NULL },
	{ "grant without write", 1002, 2002, NOG, NULL, P1 "/a.csv", W, NULL, 0, -EACCES, "", -1, "does not allow write" },
	{ "grant without create", 1002, 2002, NOG, NULL, P1 "/b.csv", C, NULL, 0, -EACCES, "", -1, "does not allow write" },
	{ "grant last day counts", 1002, 2002, NOG, NULL, P1 "/a.csv", R, "2027-01-01T23:59:59", 1, 0, "g1", 1, NULL },
	{ "grant expired", 1002, 2002, NOG, NULL, P1 "/a.csv", R, "2027-01-02", 0, -EACCES, "", -1, "grant \"g1\" has expired (valid from 2026-01-01 until 2027-01-01)" },
	{ "grant not yet valid", 1002, 2002, NOG, NULL, P1 "/a.csv", R, "2025-12-31T23:59:59", 0, -EACCES, "", -1, "grant \"g1\" is not yet valid" },
	{ "expired grant g2", 1003, 2003, NOG, NULL, P1 "/a.csv", R, NULL, 0, -EACCES, "", -1, "grant \"g2\" has expired" },
	{ "expired grant: entry still listed", 1003, 2003, NOG, NULL, P1, K, NULL, 1, 0, "", 0, "listed in the catalog" },
	{ "expired grant: no listing", 1003, 2003, NOG, NULL, P1, L, NULL, 0, -EACCES, "", -1, "g2" },
	{ "future grant g3", 1004, 2004, NOG, NULL, P1 "/a.csv", R, NULL, 0, -EACCES, "", -1, "grant \"g3\" is not yet valid" },
	{ "future grant in force later", 1004, 2004, NOG, NULL, P1 "/a.csv", R, "2027-03-01", 1, 0, "g3", 1, NULL },
	{ "write via grant", 1004, 2004, NOG, NULL, P1 "/a.csv", W, "2027-03-01", 1, 0, "g3", -1, NULL },
	{ "create via grant", 1004, 2004, NOG, NULL, P1 "/n.csv", C, "2027-03-01", 1, 0, "g3", -1, NULL },
	{ "grantee cannot make entry dir", 1004, 2004, NOG, NULL, P1, C, "2027-03-01", 0, -EACCES, "", -1, "only the provider" },
	{ "no grant", 1005, 100, NOG, NULL, P1 "/a.csv", R, NULL, 0, -EACCES, "", -1, "no grant for department \"tongji\"" },
	{ "no grant: lookup inside", 1005, 100, NOG, NULL, P1 "/a.csv", K, NULL, 0, -EACCES, "", -1, NULL },
	{ "no grant: entry dir visible", 1005, 100, NOG, NULL, P1, K, NULL, 1, 0, "", 0, NULL },
	{ "RFC 3339 from, before", 1004, 2004, NOG, NULL, P4 "/a.jsonl", R, "2025-12-31T15:59:59", 0, -EACCES, "", -1, "g5" },
	{ "RFC 3339 from, at", 1004, 2004, NOG, NULL, P4 "/a.jsonl", R, "2025-12-31T16:00:00", 1, 0, "g5", 1, NULL },
	{ "read+write grant writes", 1004, 2004, NOG, NULL, P4 "/a.jsonl", W, NULL, 1, 0, "g5", 1, NULL },
	/* unconditional */
	{ "unconditional read, tag defaults", 1003, 2003, NOG, NULL, P2 "/a.csv", R, NULL, 1, 0, "", 1, "unconditional" },
	{ "unconditional lookup inside", 1005, 100, NOG, NULL, P2 "/a.csv", K, NULL, 1, 0, "", 1, NULL },
	{ "unconditional list", 1005, 100, NOG, NULL, P2, L, NULL, 1, 0, "", 1, NULL },
	{ "unconditional + grant says more", 1001, 2001, NOG, NULL, P2 "/a.csv", R, NULL, 1, 0, "g4", 1, NULL },
	{ "unconditional write needs grant", 1003, 2003, NOG, NULL, P2 "/a.csv", W, NULL, 0, -EACCES, "", -1, "no grant for department \"weijian\" to write" },
	{ "write-only grant writes", 1006, 2006, NOG, NULL, P2 "/a.csv", W, NULL, 1, 0, "g6", -1, NULL },
	{ "write-only grant reads by share", 1006, 2006, NOG, NULL, P2 "/a.csv", R, NULL, 1, 0, "", 1, "unconditional" },
	{ "write grant expired", 1006, 2006, NOG, NULL, P2 "/a.csv", W, "2027-01-01", 0, -EACCES, "", -1, "grant \"g6\" has expired" },
	{ "provider of unconditional raw", 1002, 2002, NOG, NULL, P2 "/a.csv", R, NULL, 1, 0, "", 0, NULL },
	{ "unconditional without fields raw", 1002, 2002, NOG, NULL, P5 "/2025.pdf", R, NULL, 1, 0, "", 0, NULL },
	/* share none */
	{ "none entry hidden", 1002, 2002, NOG, NULL, P3 "/x.jsonl", R, NULL, 0, -ENOENT, "", -1, "not shared" },
	{ "none entry dir hidden", 1002, 2002, NOG, NULL, P3, K, NULL, 0, -ENOENT, "", -1, NULL },
	{ "none entry no create", 1002, 2002, NOG, NULL, P3 "/y", C, NULL, 0, -ENOENT, "", -1, NULL },
	{ "branch of a none entry hidden", 1002, 2002, NOG, NULL, "/部门库/公安", K, NULL, 0, -ENOENT, "", -1, NULL },
	{ "branch shown to provider", 1001, 2001, NOG, NULL, "/部门库/公安", L, NULL, 1, 0, "", 0, NULL },
	{ "shared branch shown", 1002, 2002, NOG, NULL, "/部门库", L, NULL, 1, 0, "", 0, NULL },
	/* the tree above entries, /.poolfs, outside */
	{ "root listable", 1002, 2002, NOG, NULL, "/", L, NULL, 1, 0, "", 0, NULL },
	{ "root read-only", 1002, 2002, NOG, NULL, "/x.csv", C, NULL, 0, -EACCES, "", -1, "outside every catalog entry" },
	{ "ancestor: no create", 1001, 2001, NOG, NULL, "/基础库/新建", C, NULL, 0, -EACCES, "", -1, NULL },
	{ "ancestor: no mkdir over it", 1001, 2001, NOG, NULL, "/基础库", C, NULL, 0, -EACCES, "", -1, NULL },
	{ "ancestor: no delete", 1001, 2001, NOG, NULL, "/基础库", D, NULL, 0, -EACCES, "", -1, NULL },
	{ "outside: hidden", 1001, 2001, NOG, NULL, "/stray", K, NULL, 0, -ENOENT, "", -1, NULL },
	{ "meta catalog", 1002, 2002, NOG, NULL, "/.poolfs/catalog.json", R, NULL, 1, 0, "", 0, NULL },
	{ "meta whoami", 1005, 100, NOG, NULL, "/.poolfs/whoami", R, NULL, 1, 0, "", 0, NULL },
	{ "meta dir", 1005, 100, NOG, NULL, "/.poolfs", L, NULL, 1, 0, "", 0, NULL },
	{ "meta read-only", 1005, 100, NOG, NULL, "/.poolfs/whoami", W, NULL, 0, -EACCES, "", -1, NULL },
	{ "meta other name", 1005, 100, NOG, NULL, "/.poolfs/secret", K, NULL, 0, -ENOENT, "", -1, NULL },
	/* identity */
	{ "unknown uid: no listing", 1999, 1999, NOG, NULL, "/", L, NULL, 0, -EACCES, "", -1, "belongs to no department" },
	{ "unknown uid: no data", 1999, 1999, NOG, NULL, P2 "/a.csv", R, NULL, 0, -EACCES, "", -1, NULL },
	{ "unknown uid: no whoami", 1999, 1999, NOG, NULL, "/.poolfs/whoami", R, NULL, 0, -EACCES, "", -1, NULL },
	{ "root is not special", 0, 0, NOG, NULL, "/", L, NULL, 0, -EACCES, "", -1, NULL },
	{ "root reads nothing", 0, 0, NOG, NULL, P2 "/a.csv", R, NULL, 0, -EACCES, "", -1, NULL },
	{ "security_admin reads nothing", 1090, 1090, NOG, NULL, P2 "/a.csv", R, NULL, 0, -EACCES, "", -1, NULL },
	{ "auditor group reads nothing", 1091, 2090, NOG, NULL, P5 "/a.pdf", R, NULL, 0, -EACCES, "", -1, NULL },
	{ "supplementary group", 1600, 1600, 0, { 2003 }, 1, NULL, P4 "/a.jsonl", R, NULL, 1, 0, "", 0, NULL },
	{ "groups of two depts", 1601, 1601, 0, { 2003, 2004 }, 2, NULL, "/", L, NULL, 0, -EACCES, "", -1, "ambiguous" },
	{ "same group twice", 1602, 1602, 0, { 2002, 2002 }, 2, NULL, P1 "/a.csv", R, NULL, 1, 0, "g1", 1, NULL },
	{ "uid before gid", 1001, 2002, NOG, NULL, P1 "/a.csv", R, NULL, 1, 0, "", 0, "provider" },
	{ "gid before groups", 1700, 2002, 0, { 2001 }, 1, NULL, P1 "/a.csv", R, NULL, 1, 0, "g1", 1, NULL },
	{ "department mount", 1999, 1999, NOG, "renshe", P1 "/a.csv", R, NULL, 1, 0, "g1", 1, NULL },
	{ "mount overrides uid", 1002, 2002, NOG, "gongan", P1 "/a.csv", W, NULL, 1, 0, "", 0, NULL },
	{ "root on a mount", 0, 0, NOG, "weijian", P2 "/a.csv", R, NULL, 1, 0, "", 1, NULL },
	{ "mount of unknown dept", 1001, 2001, NOG, "nosuch", "/", L, NULL, 0, -EACCES, "", -1, "not in the policy" },
};

static void test_decisions(void)
{
	struct policy_decision d;
	char buf[1024];

	for (size_t i = 0; i < sizeof(dcases) / sizeof(dcases[0]); i++) {
		const struct dcase *t = &dcases[i];
		struct policy_caller c = {
			.uid = t->uid, .gid = t->gid, .groups = t->groups,
			.ngroups = t->ngroups, .pid = 1, .mount_dept = t->mount,
		};
		int rc = policy_decide(base, &c, t->path, t->act, at(t->when), &d);
		int ok = rc == 0 && d.allow == t->allow &&
			 (t->allow ? d.err == 0 : d.err == t->err) &&
			 strcmp(d.grant, t->grant) == 0 &&
			 (t->view < 0 || (d.view != NULL) == t->view) &&
			 (!t->reason || strstr(d.reason, t->reason));

		snprintf(buf, sizeof(buf), "case \"%s\": rc %d allow %d err %d grant \"%s\" "
			 "view %s reason \"%s\"", t->name, rc, d.allow, d.err, d.grant,
			 d.view ? "yes" : "raw", d.reason);
		if (!ok)
			fprintf(stderr, "\nFAILED %s\n", buf);
		CU_ASSERT(ok);
	}
}

static void test_bad_paths(void)
{
	static const char *const bad[] = { "", "rel/x", "/a//b", "/a/./b", "/a/../b",
					   "/a/", "/a/..", "/a/." };
	struct policy_caller c = { .uid = 1001, .gid = 2001 };
	struct policy_decision d;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(policy_decide(base, &c, bad[i], POLICY_READ, T0, &d), -EINVAL);
		CU_ASSERT_EQUAL(d.allow, 0);
		CU_ASSERT_EQUAL(policy_path_kind(base, bad[i]), POLICY_PATH_INVALID);
	}
	CU_ASSERT_EQUAL(policy_decide(NULL, &c, "/", POLICY_READ, T0, &d), -EINVAL);
	CU_ASSERT_EQUAL(d.allow, 0);
}

/* ---- broken policies: tests/policies/bad_cases.json mutates base.json ---- */

/* Sets (val) or deletes (val NULL) the value at a path like "grants[0].masks.x". */
static int set_path(json_t *root, const char *path, json_t *val)
{
	const char *p = path;
	json_t *cur = root;
	char key[256];

	for (;;) {
		size_t n = 0, idx = 0;
		int is_idx = *p == '[';
		char *end;

		if (is_idx) {
			idx = strtoul(p + 1, &end, 10);
			p = end + 1;
		} else {
			while (*p && *p != '.' && *p != '[' && n + 1 < sizeof(key))
				key[n++] = *p++;
			key[n] = '\0';
		}
		if (*p == '.')
			p++;
		if (!*p && is_idx)
			return val ? json_array_set_new(cur, idx, val) : json_array_remove(cur, idx);
		if (!*p)
			return val ? json_object_set_new(cur, key, val) : json_object_del(cur, key);
		cur = is_idx ? json_array_get(cur, idx) : json_object_get(cur, key);
		if (!cur)
			return -1;
	}
}

static void expect_error(const char *doc, size_t len, const char *what, const char *want)
{
	struct policy *p = NULL;
	struct perr e = PERR_INIT;
	int rc = policy_parse(doc, len, &p, &e);

	if (rc != -EINVAL || strncmp(e.msg, want, strlen(want)) != 0)
		fprintf(stderr, "\nFAILED %s: rc %d\n  got:  %s\n  want: %s\n", what, rc,
			e.msg, want);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT(strncmp(e.msg, want, strlen(want)) == 0);
	CU_ASSERT_PTR_NULL(p);
	policy_put(p);
}

static void test_bad_policies(void)
{
	struct strbuf text = STRBUF_INIT;
	json_t *cases, *c, *doc;
	size_t i;
	char *s;

	CU_ASSERT_FATAL(read_fixture("bad_cases.json", &text) == 0);
	cases = json_loadb(text.buf, text.len, 0, NULL);
	CU_ASSERT_FATAL(json_array_size(cases) > 80);
	json_array_foreach(cases, i, c) {
		const char *path = json_string_value(json_object_get(c, "path"));
		json_t *val = json_object_get(c, "value");

		doc = json_loadb(base_text.buf, base_text.len, 0, NULL);
		CU_ASSERT_FATAL(doc != NULL);
		CU_ASSERT_FATAL(set_path(doc, path, val ? json_incref(val) : NULL) == 0);
		s = json_dumps(doc, 0);
		expect_error(s, strlen(s), path,
			     json_string_value(json_object_get(c, "error")));
		free(s);
		json_decref(doc);
	}
	json_decref(cases);
	strbuf_release(&text);
}

static void test_bad_documents(void)
{
	static const struct {
		const char *file, *error;
	} files[] = {
		{ "bad_syntax.json", "line 4, column 36: " },
		{ "bad_dupkey.json", "line 3, column " },
		{ "bad_toplevel.json", "policy: expected a JSON object at the top level" },
	};
	struct strbuf text = STRBUF_INIT;
	struct policy *p = NULL;
	struct perr e = PERR_INIT;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		strbuf_reset(&text);
		CU_ASSERT_FATAL(read_fixture(files[i].file, &text) == 0);
		expect_error(text.buf, text.len, files[i].file, files[i].error);
	}
	expect_error("", 0, "empty", "line ");
	strbuf_reset(&text);
	CU_ASSERT_FATAL(read_fixture("minimal.json", &text) == 0);
	CU_ASSERT_EQUAL(policy_parse(text.buf, text.len, &p, &e), 0);
	CU_ASSERT_PTR_NOT_NULL(p);
	policy_put(p);
	strbuf_release(&text);
}

#include "test_policy_docs.c"
