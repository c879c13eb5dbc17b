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

#include <openssl/evp.h>

#include "common/strbuf.h"
#include "policy/desens.h"
#include "policy/model.h"
#include "policy/policy.h"
#include "policy/view.h"
#include "tests/unit_main.h"

#define P1 "/基础库/人口/户籍人口"	/* conditional, gongan */
#define P2 "/主题库/社保/参保人员"	/* unconditional, renshe */
#define P3 "/部门库/公安/案件"		/* share none, gongan */
#define P4 "/主题库/卫健/疫苗接种"	/* conditional, weijian, gb18030 */
#define P5 "/部门库/统计/年鉴"		/* unconditional pdf, tongji */

#define JSTR(o, k) json_string_value(json_object_get((o), (k)))

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

/*
 * tests/policies/decisions.json: one object per case with uid, gid,
 * groups, mount, path, action, at (default: T0), and the expectation:
 * allow, err (deny: "EACCES" unless "ENOENT"), grant (default ""), view
 * (true: a view, false: raw, absent: either) and reason (a substring).
 */
static enum policy_action action_of(const char *s)
{
	static const char *const names[] = { "lookup", "list", "read", "write",
					     "create", "delete" };

	for (int i = 0; i < 6; i++)
		if (s && strcmp(s, names[i]) == 0)
			return (enum policy_action)i;
	return (enum policy_action)-1;
}

static int check_case(json_t *t, char *why, size_t len)
{
	uint32_t groups[8];
	json_t *g = json_object_get(t, "groups"), *v;
	struct policy_caller c = {
		.uid = (uint32_t)json_integer_value(json_object_get(t, "uid")),
		.gid = (uint32_t)json_integer_value(json_object_get(t, "gid")),
		.groups = groups, .ngroups = (int)json_array_size(g), .pid = 1,
		.mount_dept = JSTR(t, "mount"),
	};
	int allow = json_is_true(json_object_get(t, "allow"));
	int err = allow ? 0 : JSTR(t, "err") && !strcmp(JSTR(t, "err"), "ENOENT") ?
		  -ENOENT : -EACCES;
	const char *grant = JSTR(t, "grant") ? JSTR(t, "grant") : "";
	const char *reason = JSTR(t, "reason");
	struct policy_decision d;
	size_t i;
	int rc;

	json_array_foreach(g, i, v)
		if (i < 8)
			groups[i] = (uint32_t)json_integer_value(v);
	rc = policy_decide(base, &c, JSTR(t, "path"), action_of(JSTR(t, "action")),
			   at(JSTR(t, "at")), &d);
	v = json_object_get(t, "view");
	snprintf(why, len, "case \"%s\": rc %d allow %d err %d grant \"%s\" view %s "
		 "reason \"%s\"", JSTR(t, "name"), rc, d.allow, d.err, d.grant,
		 d.view ? "yes" : "raw", d.reason);
	return rc == 0 && d.allow == allow && d.err == err && !strcmp(d.grant, grant) &&
	       (!v || (d.view != NULL) == json_is_true(v)) &&
	       (!reason || strstr(d.reason, reason));
}

static void test_decisions(void)
{
	struct strbuf text = STRBUF_INIT;
	json_t *cases, *t;
	char why[1024];
	size_t i;

	CU_ASSERT_FATAL(read_fixture("decisions.json", &text) == 0);
	cases = json_loadb(text.buf, text.len, 0, NULL);
	CU_ASSERT_FATAL(json_array_size(cases) >= 70);
	json_array_foreach(cases, i, t) {
		int ok = check_case(t, why, sizeof(why));

		if (!ok)
			fprintf(stderr, "\nFAILED %s\n", why);
		CU_ASSERT(ok);
	}
	json_decref(cases);
	strbuf_release(&text);
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
		{ "bad_syntax.json", "line 4, column 29: string or '}' expected" },
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

/* ---- views ---- */

static const struct policy_view *view_for(uint32_t uid, uint32_t gid, const char *path,
					  const char *when)
{
	struct policy_caller c = { .uid = uid, .gid = gid };
	struct policy_decision d;

	if (policy_decide(base, &c, path, POLICY_READ, at(when), &d) || !d.allow)
		return NULL;
	return d.view;
}

static void expect_field(const struct view_rules *r, size_t i, const char *name,
			 enum mask_kind kind)
{
	CU_ASSERT_FATAL(i < r->nfields);
	CU_ASSERT_STRING_EQUAL(r->fields[i].name, name);
	CU_ASSERT_EQUAL(r->fields[i].mask.kind, kind);
}

/*
 * Whether v's fingerprint is the SHA-256 of the canonical text of its rules
 * as the first engine of every format wrote it (policy/viewbuild.c).
 */
static bool fingerprint_is_rev1(const struct policy_view *v)
{
	static const char *const formats[] = { "csv", "tsv", "jsonl", "json", "other" };
	const struct view_rules *r = policy_view_rules(v);
	struct strbuf sb = STRBUF_INIT;
	unsigned char md[32];
	unsigned int mdlen = 0;
	char mask[32];
	bool same;

	strbuf_addf(&sb, "poolfs-view 1\nformat %s\nencoding %s\ndrop_unlisted %d\n",
		    formats[r->format], r->encoding, r->drop_unlisted ? 1 : 0);
	for (size_t i = 0; i < r->nfields; i++) {
		pol_mask_format(&r->fields[i].mask, mask, sizeof(mask));
		strbuf_addstr(&sb, "field ");
		pol_quote(&sb, r->fields[i].name);
		strbuf_addf(&sb, " %s\n", mask);
	}
	strbuf_addstr(&sb, "rows ");
	pol_rows_text(r->rows, &sb);
	strbuf_addch(&sb, '\n');
	if (r->hash_dept) {
		strbuf_addf(&sb, "hash_key %u ", r->hash_key_version);
		pol_quote(&sb, r->hash_dept);
		strbuf_addch(&sb, '\n');
	}
	CU_ASSERT_FATAL(EVP_Digest(sb.buf, sb.len, md, &mdlen, EVP_sha256(), NULL) == 1);
	same = mdlen == sizeof(md) && memcmp(md, r->fingerprint, sizeof(md)) == 0;
	strbuf_release(&sb);
	return same;
}

/*
 * Views are stored per fingerprint: a view the engine now reads otherwise
 * (JSON, revision 2) gets a new one, views of other formats keep theirs.
 */
static void test_view_engine_rev(void)
{
	const struct policy_view *csv = view_for(1002, 2002, P1 "/a.csv", NULL);
	const struct policy_view *jsonl = view_for(1004, 2004, P4 "/a.jsonl", NULL);

	CU_ASSERT_FATAL(csv && jsonl);
	CU_ASSERT_EQUAL(policy_view_rules(jsonl)->format, VIEW_JSONL);
	CU_ASSERT(fingerprint_is_rev1(csv));
	CU_ASSERT(!fingerprint_is_rev1(jsonl));
}

static void test_views(void)
{
	const struct policy_view *g1 = view_for(1002, 2002, P1 "/a.csv", NULL);
	const struct policy_view *g2 = view_for(1003, 2003, P1 "/a.csv", "2025-06-01");
	const struct policy_view *g3 = view_for(1004, 2004, P1 "/a.csv", "2027-06-01");
	const struct policy_view *dflt = view_for(1003, 2003, P2 "/a.csv", NULL);
	const struct policy_view *g4 = view_for(1001, 2001, P2 "/a.csv", NULL);
	const struct policy_view *g5 = view_for(1004, 2004, P4 "/a.jsonl", NULL);
	const struct view_rules *r;
	char hex[65];

	CU_ASSERT_FATAL(g1 && g2 && g3 && dflt && g4 && g5);
	r = policy_view_rules(g1);
	CU_ASSERT(r->drop_unlisted);
	CU_ASSERT_EQUAL(r->format, VIEW_CSV);
	CU_ASSERT_STRING_EQUAL(r->encoding, "utf-8");
	CU_ASSERT_EQUAL(r->nfields, 3);
	expect_field(r, 0, "身份证号", MASK_HASH);
	expect_field(r, 1, "姓名", MASK_NAME);
	expect_field(r, 2, "区县", MASK_NONE);
	CU_ASSERT_FATAL(r->rows != NULL);
	CU_ASSERT_EQUAL(r->rows->op, ROW_IN);
	CU_ASSERT_STRING_EQUAL(r->rows->field, "区县");
	CU_ASSERT_EQUAL(r->rows->nvalues, 1);
	CU_ASSERT_STRING_EQUAL(r->rows->values[0], "宣州区");
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", r->fingerprint[i]);
	CU_ASSERT_STRING_EQUAL(policy_view_fingerprint(g1), hex);
	CU_ASSERT_STRING_EQUAL(policy_view_fingerprint(NULL), "raw");

	/* tag defaults: undeclared columns are dropped, declared ones listed */
	r = policy_view_rules(dflt);
	CU_ASSERT(r->drop_unlisted);
	CU_ASSERT_EQUAL(r->nfields, 4);
	expect_field(r, 0, "身份证号", MASK_ID_CARD);
	expect_field(r, 1, "姓名", MASK_NAME);
	expect_field(r, 2, "参保状态", MASK_NONE);
	expect_field(r, 3, "邮箱", MASK_EMAIL);
	CU_ASSERT_PTR_NULL(r->rows);

	r = policy_view_rules(g4);	/* "none" lifts 姓名, 邮箱 dropped */
	CU_ASSERT_EQUAL(r->nfields, 2);
	expect_field(r, 0, "身份证号", MASK_ID_CARD);
	expect_field(r, 1, "邮箱", MASK_DROP);

	r = policy_view_rules(g5);
	CU_ASSERT_EQUAL(r->format, VIEW_JSONL);
	CU_ASSERT_STRING_EQUAL(r->encoding, "gb18030");
	CU_ASSERT_EQUAL(r->nfields, 2);
	expect_field(r, 0, "身份证号", MASK_ID_CARD);
	expect_field(r, 1, "出生日期", MASK_YEAR);
	CU_ASSERT_FATAL(r->rows && r->rows->op == ROW_ANY && r->rows->nsubs == 2);
	CU_ASSERT_EQUAL(r->rows->subs[0].op, ROW_PREFIX);
	CU_ASSERT_STRING_EQUAL(r->rows->subs[0].values[0], "宣州");
	CU_ASSERT_EQUAL(r->rows->subs[1].op, ROW_EQ);

	/* same rules, same fingerprint; built once, so the same pointer */
	CU_ASSERT_STRING_EQUAL(policy_view_fingerprint(g2), policy_view_fingerprint(g3));
	CU_ASSERT_STRING_NOT_EQUAL(policy_view_fingerprint(g1), policy_view_fingerprint(g2));
	CU_ASSERT_PTR_EQUAL(g1, view_for(1002, 2002, P1 "/b.csv", NULL));
}

/* ---- the tree ---- */

static int collect(const char *name, enum policy_path_kind kind, void *arg)
{
	struct strbuf *sb = arg;

	strbuf_addf(sb, "%s%s", sb->len ? "," : "", name);
	return 0;
}

static void expect_list(uint32_t uid, uint32_t gid, const char *dir, int rc,
			const char *want)
{
	struct policy_caller c = { .uid = uid, .gid = gid };
	struct strbuf sb = STRBUF_INIT;

	CU_ASSERT_EQUAL(policy_list_dir(base, &c, dir, T0, collect, &sb), rc);
	CU_ASSERT_STRING_EQUAL(sb.buf, want);
	strbuf_release(&sb);
}

static void test_tree(void)
{
	struct policy_caller rs = { .uid = 1002, .gid = 2002 }, ga = { .uid = 1001, .gid = 2001 };
	struct policy_caller nobody = { .uid = 1999, .gid = 1999 };
	struct policy_entry_info info;

	CU_ASSERT_EQUAL(policy_visible_child(base, &rs, "/", "基础库", T0), 1);
	CU_ASSERT_EQUAL(policy_visible_child(base, &rs, "/", ".poolfs", T0), 1);
	CU_ASSERT_EQUAL(policy_visible_child(base, &rs, "/部门库", "统计", T0), 1);
	CU_ASSERT_EQUAL(policy_visible_child(base, &rs, "/部门库", "公安", T0), 0);
	CU_ASSERT_EQUAL(policy_visible_child(base, &ga, "/部门库", "公安", T0), 1);
	CU_ASSERT_EQUAL(policy_visible_child(base, &rs, "/部门库/公安", "案件", T0), 0);
	CU_ASSERT_EQUAL(policy_visible_child(base, &rs, P1, "a.csv", T0), 1);
	CU_ASSERT_EQUAL(policy_visible_child(base, &rs, "/", "stray", T0), 0);
	CU_ASSERT_EQUAL(policy_visible_child(base, &nobody, "/", "基础库", T0), 0);
	CU_ASSERT_EQUAL(policy_visible_child(base, &rs, "/", "a/b", T0), -EINVAL);
	CU_ASSERT_EQUAL(policy_visible_child(base, &rs, "/", "..", T0), -EINVAL);

	expect_list(1002, 2002, "/", 0, ".poolfs,基础库,主题库,部门库");
	expect_list(1002, 2002, "/部门库", 0, "统计");
	expect_list(1001, 2001, "/部门库", 0, "公安,统计");
	expect_list(1002, 2002, "/部门库/公安", -ENOENT, "");
	expect_list(1999, 1999, "/", -EACCES, "");

	CU_ASSERT_EQUAL(policy_path_kind(base, "/"), POLICY_PATH_ROOT);
	CU_ASSERT_EQUAL(policy_path_kind(base, "/基础库"), POLICY_PATH_ANCESTOR);
	CU_ASSERT_EQUAL(policy_path_kind(base, P1), POLICY_PATH_ENTRY);
	CU_ASSERT_EQUAL(policy_path_kind(base, P1 "/x/y"), POLICY_PATH_INSIDE);
	CU_ASSERT_EQUAL(policy_path_kind(base, "/.poolfs/whoami"), POLICY_PATH_META);
	CU_ASSERT_EQUAL(policy_path_kind(base, "/基础库/其他"), POLICY_PATH_OUTSIDE);
	CU_ASSERT_EQUAL(policy_path_kind(base, "/基础库/人口/户籍人口x"), POLICY_PATH_OUTSIDE);

	CU_ASSERT_EQUAL(policy_entry_for_path(base, P1 "/a.csv", &info), 0);
	CU_ASSERT_STRING_EQUAL(info.code, "341800-GA-0001");
	CU_ASSERT_STRING_EQUAL(info.title, "户籍人口基本信息");
	CU_ASSERT_STRING_EQUAL(info.provider, "gongan");
	CU_ASSERT_STRING_EQUAL(info.share, "conditional");
	CU_ASSERT_STRING_EQUAL(info.path, P1);
	CU_ASSERT_EQUAL(info.level, 3);
	CU_ASSERT_EQUAL(info.is_root, 0);
	CU_ASSERT_EQUAL(policy_entry_for_path(base, P1, &info), 0);
	CU_ASSERT_EQUAL(info.is_root, 1);
	CU_ASSERT_EQUAL(policy_entry_for_path(base, "/基础库", &info), -ENOENT);
}

/* ---- roles, allow-all, references ---- */

static void test_roles(void)
{
	uint32_t g = 2090;
	struct policy *aa = policy_allow_all();
	struct policy_caller c = { .uid = 5, .gid = 5 };
	struct policy_decision d;
	struct strbuf sb = STRBUF_INIT;

	CU_ASSERT_EQUAL(policy_role_has(base, 0, NULL, 0, "security_admin"), 1);
	CU_ASSERT_EQUAL(policy_role_has(base, 1090, NULL, 0, "security_admin"), 1);
	CU_ASSERT_EQUAL(policy_role_has(base, 1090, NULL, 0, "auditor"), 0);
	CU_ASSERT_EQUAL(policy_role_has(base, 1091, &g, 1, "auditor"), 1);
	CU_ASSERT_EQUAL(policy_role_has(base, 1001, NULL, 0, "system_admin"), 0);
	CU_ASSERT_EQUAL(policy_role_has(base, 0, NULL, 0, "janitor"), -EINVAL);
	CU_ASSERT_EQUAL(policy_role_has(aa, 0, NULL, 0, "auditor"), 1);
	CU_ASSERT_EQUAL(policy_role_has(aa, 5, NULL, 0, "auditor"), 0);
	CU_ASSERT_EQUAL(policy_dept_exists(base, "renshe"), 0);
	CU_ASSERT_EQUAL(policy_dept_exists(base, "nosuch"), -ENOENT);

	CU_ASSERT_EQUAL(policy_decide(aa, &c, P3 "/x", POLICY_WRITE, T0, &d), 0);
	CU_ASSERT(d.allow && !d.view);
	CU_ASSERT_EQUAL(policy_export_json(aa, &sb), -ENOENT);
	policy_put(aa);
	CU_ASSERT_PTR_EQUAL(policy_get(base), base);
	policy_put(base);
	strbuf_release(&sb);
}

/* ---- documents ---- */

static json_t *catalog_of(uint32_t uid, uint32_t gid, int *rc)
{
	struct policy_caller c = { .uid = uid, .gid = gid };
	struct strbuf sb = STRBUF_INIT;
	json_t *j = NULL;

	*rc = policy_catalog_json(base, &c, T0, &sb);
	if (!*rc)
		j = json_loadb(sb.buf, sb.len, 0, NULL);
	strbuf_release(&sb);
	return j;
}

static json_t *entry_of(json_t *cat, const char *code)
{
	json_t *en;
	size_t i;

	json_array_foreach(json_object_get(cat, "entries"), i, en)
		if (strcmp(json_string_value(json_object_get(en, "code")), code) == 0)
			return en;
	return NULL;
}

static void test_catalog(void)
{
	json_t *rs, *ga, *wj, *acc, *masks;
	int rc;

	rs = catalog_of(1002, 2002, &rc);
	CU_ASSERT_FATAL(rc == 0 && rs);
	CU_ASSERT_STRING_EQUAL(JSTR(rs, "department"), "renshe");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(rs, "entries")), 4);
	CU_ASSERT_PTR_NULL(entry_of(rs, "341800-GA-0002"));
	acc = json_object_get(entry_of(rs, "341800-GA-0001"), "access");
	CU_ASSERT_FATAL(acc != NULL);
	CU_ASSERT(json_is_true(json_object_get(acc, "read")));
	CU_ASSERT(json_is_false(json_object_get(acc, "write")));
	CU_ASSERT_STRING_EQUAL(JSTR(acc, "via"), "grant");
	CU_ASSERT_STRING_EQUAL(JSTR(acc, "grant"), "g1");
	CU_ASSERT_STRING_EQUAL(JSTR(acc, "valid_until"), "2027-01-01");
	masks = json_object_get(acc, "masks");
	CU_ASSERT_STRING_EQUAL(JSTR(masks, "身份证号"), "hash");
	CU_ASSERT_STRING_EQUAL(JSTR(masks, "姓名"), "name");
	CU_ASSERT_STRING_EQUAL(JSTR(masks, "手机号"), "drop");
	CU_ASSERT_STRING_EQUAL(JSTR(masks, "区县"), "none");
	CU_ASSERT_PTR_NOT_NULL(strstr(JSTR(acc, "rows"), "宣州区"));
	acc = json_object_get(entry_of(rs, "341800-RS-0001"), "access");
	CU_ASSERT_STRING_EQUAL(JSTR(acc, "via"), "provider");
	CU_ASSERT_STRING_EQUAL(JSTR(acc, "view"), "raw");

	ga = catalog_of(1001, 2001, &rc);
	CU_ASSERT_FATAL(rc == 0 && ga);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(ga, "entries")), 5);
	acc = json_object_get(entry_of(ga, "341800-RS-0001"), "access");
	CU_ASSERT_STRING_EQUAL(JSTR(json_object_get(acc, "masks"), "姓名"), "none");
	CU_ASSERT_STRING_EQUAL(JSTR(json_object_get(acc, "masks"), "邮箱"), "drop");

	wj = catalog_of(1003, 2003, &rc);
	CU_ASSERT_FATAL(rc == 0 && wj);
	acc = json_object_get(entry_of(wj, "341800-GA-0001"), "access");
	CU_ASSERT(json_is_false(json_object_get(acc, "read")));
	CU_ASSERT_STRING_EQUAL(JSTR(acc, "via"), "none");
	CU_ASSERT_PTR_NOT_NULL(strstr(JSTR(acc, "reason"), "has expired"));

	CU_ASSERT_PTR_NULL(catalog_of(1999, 1999, &rc));
	CU_ASSERT_EQUAL(rc, -EACCES);
	json_decref(rs);
	json_decref(ga);
	json_decref(wj);
}

static json_t *whoami_of(const struct policy_caller *c)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *j = NULL;

	if (policy_whoami_json(base, c, &sb) == 0)
		j = json_loadb(sb.buf, sb.len, 0, NULL);
	strbuf_release(&sb);
	return j;
}

static void test_whoami(void)
{
	struct policy_caller ga = { .uid = 1001, .gid = 2001 }, rs = { .uid = 1002, .gid = 2002 };
	struct policy_caller root = { .uid = 0, .gid = 0 };
	json_t *j;

	j = whoami_of(&ga);
	CU_ASSERT_FATAL(j != NULL);
	CU_ASSERT_STRING_EQUAL(JSTR(j, "department"), "gongan");
	CU_ASSERT_STRING_EQUAL(JSTR(j, "department_name"), "市公安局");
	CU_ASSERT_STRING_EQUAL(JSTR(j, "user"), "zhang.wei");
	CU_ASSERT_STRING_EQUAL(JSTR(j, "via"), "uid");
	json_decref(j);
	j = whoami_of(&rs);
	CU_ASSERT_FATAL(j != NULL);
	CU_ASSERT_STRING_EQUAL(JSTR(j, "via"), "gid");
	CU_ASSERT(json_is_null(json_object_get(j, "user")));
	json_decref(j);
	j = whoami_of(&root);
	CU_ASSERT_FATAL(j != NULL);
	CU_ASSERT(json_is_null(json_object_get(j, "department")));
	CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "roles")), 3);
	CU_ASSERT_PTR_NOT_NULL(JSTR(j, "reason"));
	json_decref(j);
}

static void expect_explain(uint32_t uid, uint32_t gid, const char *path,
			   enum policy_action act, const char *const *lines)
{
	struct policy_caller c = { .uid = uid, .gid = gid };
	struct strbuf sb = STRBUF_INIT;
	struct policy_decision d;

	CU_ASSERT_EQUAL(policy_explain(base, &c, path, act, T0, &d, &sb), 0);
	for (; *lines; lines++) {
		if (!strstr(sb.buf, *lines))
			fprintf(stderr, "\nFAILED explain lacks \"%s\":\n%s", *lines, sb.buf);
		CU_ASSERT_PTR_NOT_NULL(strstr(sb.buf, *lines));
	}
	strbuf_release(&sb);
}

static void test_explain(void)
{
	static const char *const allow[] = {
		"department: renshe (市人社局) via gid 2002\n",
		"entry: 341800-GA-0001 \"户籍人口基本信息\" at " P1,
		"decision: allow\n", "grant: g1 (actions read, from 2026-01-01",
		"fields: 身份证号, 姓名, 区县 (others removed)\n",
		"masks: 身份证号 hash, 姓名 name\n", "rows: \"区县\" in [\"宣州区\"]\n",
		"why: grant \"g1\"", NULL,
	};
	static const char *const deny[] = {
		"decision: deny (EACCES)\n", "grant: g2 (", "why: grant \"g2\" has expired",
		NULL,
	};
	static const char *const hidden[] = { "decision: deny (ENOENT (hidden))", NULL };
	static const char *const nobody[] = { "department: none (uid 1999", NULL };

	expect_explain(1002, 2002, P1 "/a.csv", POLICY_READ, allow);
	expect_explain(1003, 2003, P1 "/a.csv", POLICY_READ, deny);
	expect_explain(1002, 2002, P3 "/a", POLICY_READ, hidden);
	expect_explain(1999, 1999, "/", POLICY_LIST, nobody);
}


/* ---- the leaks of issues 11 and 18: hash keys, lapsed grants, depth, warnings ---- */

static const char leak_doc[] =
	"{\"version\": 1, \"departments\": ["
	" {\"id\": \"a\", \"name\": \"A\", \"members\": {\"uids\": [1]}},"
	" {\"id\": \"b\", \"name\": \"B\", \"members\": {\"uids\": [2]}},"
	" {\"id\": \"p\", \"name\": \"P\", \"members\": {\"uids\": [3]}}],"
	" \"catalog\": ["
	" {\"path\": \"/e1\", \"code\": \"E1\", \"title\": \"t\", \"provider\": \"p\","
	"  \"share\": \"conditional\", \"format\": \"csv\", \"fields\": ["
	"  {\"name\": \"id\", \"tag\": \"id_card\"}, {\"name\": \"name\", \"tag\": \"name\"}]},"
	" {\"path\": \"/e2\", \"code\": \"E2\", \"title\": \"t\", \"provider\": \"p\","
	"  \"share\": \"conditional\", \"format\": \"csv\", \"fields\": ["
	"  {\"name\": \"id\", \"tag\": \"id_card\"}]},"
	" {\"path\": \"/e3\", \"code\": \"E3\", \"title\": \"t\", \"provider\": \"p\","
	"  \"share\": \"unconditional\", \"format\": \"csv\", \"fields\": ["
	"  {\"name\": \"id\", \"tag\": \"id_card\"}, {\"name\": \"name\", \"tag\": \"name\"},"
	"  {\"name\": \"region\", \"tag\": \"region\"}, {\"name\": \"phone\", \"tag\": \"phone\"}]},"
	" {\"path\": \"/e4\", \"code\": \"E4\", \"title\": \"t\", \"provider\": \"p\","
	"  \"share\": \"unconditional\", \"format\": \"csv\", \"fields\": ["
	"  {\"name\": \"id\", \"mask\": \"hash\"}]}],"
	" \"grants\": ["
	" {\"id\": \"ga1\", \"entry\": \"E1\", \"department\": \"a\", \"actions\": [\"read\"],"
	"  \"masks\": {\"id\": \"hash\"}},"
	" {\"id\": \"gb1\", \"entry\": \"E1\", \"department\": \"b\", \"actions\": [\"read\"],"
	"  \"masks\": {\"id\": \"hash\"}},"
	" {\"id\": \"ga2\", \"entry\": \"E2\", \"department\": \"a\", \"actions\": [\"read\"],"
	"  \"masks\": {\"id\": \"hash\"}},"
	" {\"id\": \"lapse\", \"entry\": \"E3\", \"department\": \"a\", \"actions\": [\"read\"],"
	"  \"fields\": [\"id\", \"name\", \"region\"], \"masks\": {\"name\": \"none\", \"id\": \"hash\"},"
	"  \"rows\": {\"region\": {\"in\": [\" X\", \"\xef\xbc\xb8\", \"e\xcc\x81\", \"plain\","
	"   \"x\xcc\x81\", \"\xe5\xae\xa3\xe3\x80\x80\", \"a\xe3\x80\x80" "b\"]}},"
	"  \"valid_from\": \"2020-01-01\", \"valid_until\": \"2021-01-01\"}]}";

static struct policy *leak_policy(void)
{
	struct policy *p = NULL;
	struct perr e = PERR_INIT;

	if (policy_parse(leak_doc, strlen(leak_doc), &p, &e))
		fprintf(stderr, "\nleak_doc: %s\n", e.msg);
	return p;
}

static const struct view_rules *rules_of(struct policy *p, uint32_t uid, const char *path,
					 const char *when)
{
	struct policy_caller c = { .uid = uid, .gid = 9999 };
	struct policy_decision d;

	if (policy_decide(p, &c, path, POLICY_READ, at(when), &d) || !d.allow)
		return NULL;
	return policy_view_rules(d.view);
}

static const char *fp_of(struct policy *p, uint32_t uid, const char *path)
{
	struct policy_caller c = { .uid = uid, .gid = 9999 };
	struct policy_decision d;

	if (policy_decide(p, &c, path, POLICY_READ, T0, &d) || !d.allow)
		return "denied";
	return policy_view_fingerprint(d.view);
}

static int count_hashed_keyless(const struct policy_view *v, void *arg)
{
	const struct view_rules *r = policy_view_rules(v);

	for (size_t i = 0; i < r->nfields; i++)
		if (r->fields[i].mask.kind == MASK_HASH && !r->hash_dept)
			++*(int *)arg;
	return 0;
}

static void test_hash_keys(void)
{
	struct policy *p = leak_policy();
	const struct view_rules *a1, *b1, *a2, *a4, *b4;
	int keyless = 0;

	CU_ASSERT_FATAL(p != NULL);
	a1 = rules_of(p, 1, "/e1/x.csv", NULL);
	b1 = rules_of(p, 2, "/e1/x.csv", NULL);
	a2 = rules_of(p, 1, "/e2/y.csv", NULL);
	CU_ASSERT_FATAL(a1 && b1 && a2);
	/* the same rules read by two departments: two keys, two cached views */
	CU_ASSERT_STRING_NOT_EQUAL(fp_of(p, 1, "/e1/x.csv"), fp_of(p, 2, "/e1/x.csv"));
	CU_ASSERT_FATAL(a1->hash_dept && b1->hash_dept && a2->hash_dept);
	CU_ASSERT_STRING_EQUAL(a1->hash_dept, "a");
	CU_ASSERT_STRING_EQUAL(b1->hash_dept, "b");
	CU_ASSERT_STRING_EQUAL(a2->hash_dept, "a");
	CU_ASSERT_EQUAL(a1->hash_key_version, VIEW_HASH_KEY_VERSION);
	/* a hashing tag default is per department too */
	a4 = rules_of(p, 1, "/e4/z.csv", NULL);
	b4 = rules_of(p, 2, "/e4/z.csv", NULL);
	CU_ASSERT_FATAL(a4 && b4 && a4->hash_dept && b4->hash_dept);
	CU_ASSERT_STRING_EQUAL(a4->hash_dept, "a");
	CU_ASSERT_STRING_EQUAL(b4->hash_dept, "b");
	CU_ASSERT_STRING_NOT_EQUAL(fp_of(p, 1, "/e4/z.csv"), fp_of(p, 2, "/e4/z.csv"));
	CU_ASSERT_PTR_NULL(rules_of(p, 3, "/e4/z.csv", NULL));	/* the provider: raw */
	/* no view anyone may be given hashes without a reader's key */
	CU_ASSERT(policy_entry_views(p, "/e4/z.csv", (time_t)-1, count_hashed_keyless,
				     &keyless) >= 2);
	CU_ASSERT(policy_entry_views(p, "/e1/x.csv", (time_t)-1, count_hashed_keyless,
				     &keyless) >= 2);
	CU_ASSERT_EQUAL(keyless, 0);
	policy_put(p);
}

static void test_lapsed_grant(void)
{
	struct policy *p = leak_policy();
	const struct view_rules *in, *out, *none;

	CU_ASSERT_FATAL(p != NULL);
	in = rules_of(p, 1, "/e3/x.csv", "2020-06-01");
	out = rules_of(p, 1, "/e3/x.csv", NULL);
	none = rules_of(p, 2, "/e3/x.csv", NULL);
	CU_ASSERT_FATAL(in && out && none);
	CU_ASSERT(in->drop_unlisted);
	CU_ASSERT_EQUAL(in->nfields, 3);
	expect_field(in, 1, "name", MASK_NONE);
	/* expired: the projection and the row filter stay, the lift goes */
	CU_ASSERT(out->drop_unlisted);
	CU_ASSERT_EQUAL(out->nfields, 3);
	expect_field(out, 0, "id", MASK_REDACT);	/* hash met id_card */
	expect_field(out, 1, "name", MASK_NAME);
	expect_field(out, 2, "region", MASK_NONE);
	CU_ASSERT_FATAL(out->rows != NULL);
	CU_ASSERT_EQUAL(out->rows->op, ROW_IN);
	CU_ASSERT_STRING_EQUAL(out->rows->field, "region");
	CU_ASSERT_PTR_NULL(out->hash_dept);
	/* before it starts alike */
	CU_ASSERT_PTR_NOT_NULL(rules_of(p, 1, "/e3/x.csv", "2019-06-01"));
	CU_ASSERT_PTR_NOT_NULL(rules_of(p, 1, "/e3/x.csv", "2019-06-01")->rows);
	/* a write-only grant's holder is shown the view it reads, for writes too */
	{
		struct policy_caller c = { .uid = 1006, .gid = 2006 };
		struct policy_decision r, w;

		CU_ASSERT_EQUAL(policy_decide(base, &c, P2 "/a.csv", POLICY_READ, T0, &r), 0);
		CU_ASSERT_EQUAL(policy_decide(base, &c, P2 "/a.csv", POLICY_WRITE, T0, &w), 0);
		CU_ASSERT(r.allow && w.allow && r.view);
		CU_ASSERT_PTR_EQUAL(r.view, w.view);
	}
	/* no grant at all: tag defaults over the declared fields, others dropped */
	CU_ASSERT(none->drop_unlisted);
	CU_ASSERT_EQUAL(none->nfields, 4);
	expect_field(none, 3, "phone", MASK_PHONE);
	CU_ASSERT_PTR_NULL(none->rows);
	policy_put(p);
}

static void expect_warning(const char *all, const char *want)
{
	if (!strstr(all, want))
		fprintf(stderr, "\nmissing warning: %s\nin:\n%s", want, all);
	CU_ASSERT_PTR_NOT_NULL(strstr(all, want));
}

static void test_warnings(void)
{
	struct policy *p = leak_policy();
	const char *w;

	CU_ASSERT_FATAL(p != NULL);
	w = policy_warnings(p);
	expect_warning(w, "warning: grants[3].rows.region.in[0]: \" X\" has surrounding whitespace");
	expect_warning(w, "warning: grants[3].rows.region.in[1]: \"\xef\xbc\xb8\" holds compatibility characters");
	expect_warning(w, "warning: grants[3].rows.region.in[2]: \"e\xcc\x81\" may not be in Unicode NFC");
	CU_ASSERT_PTR_NULL(strstr(w, "in[3]"));
	/* the exact forms: x + U+0301 has no precomposed form, so it is NFC */
	CU_ASSERT_PTR_NULL(strstr(w, "in[4]"));
	/* a padding U+3000 is whitespace only: trimmed, NFC and NFKC agree */
	expect_warning(w, "warning: grants[3].rows.region.in[5]: \"\xe5\xae\xa3\xe3\x80\x80\" has "
		       "surrounding whitespace (values compare trimmed)\n");
	expect_warning(w, "warning: grants[3].rows.region.in[6]: \"a\xe3\x80\x80" "b\" holds compatibility");
	expect_warning(w, "warning: grants[3]: grant \"lapse\" is valid from 2020-01-01 until "
		       "2021-01-01: outside that window for a on /e3: id redact (was hash),"
		       " name name (was none)\n");
	CU_ASSERT_STRING_EQUAL(policy_warnings(base), "warning: grants[5]: grant \"g6\" expires "
			       "2026-12-31T23:59:59Z: then for shuiwu on " P2 ": write access "
			       "is lost\n");
	policy_put(p);
}

/* A grant's row filter of `levels` nested "any"s around one condition. */
static int parse_depth(int levels, struct policy **out)
{
	struct strbuf doc = STRBUF_INIT;
	struct perr e = PERR_INIT;
	int rc;

	strbuf_addstr(&doc, "{\"version\": 1, \"departments\": ["
		      "{\"id\": \"a\", \"name\": \"A\"}, {\"id\": \"p\", \"name\": \"P\"}],"
		      "\"catalog\": [{\"path\": \"/e\", \"code\": \"E\", \"title\": \"t\","
		      "\"provider\": \"p\", \"share\": \"conditional\", \"format\": \"csv\","
		      "\"fields\": [{\"name\": \"f\"}]}], \"grants\": [{\"id\": \"g\","
		      "\"entry\": \"E\", \"department\": \"a\", \"actions\": [\"read\"], \"rows\": ");
	for (int i = 1; i < levels; i++)
		strbuf_addstr(&doc, "{\"any\": [");
	strbuf_addstr(&doc, "{\"f\": {\"eq\": \"x\"}}");
	for (int i = 1; i < levels; i++)
		strbuf_addstr(&doc, "]}");
	strbuf_addstr(&doc, "}]}");
	rc = policy_parse(doc.buf, doc.len, out, &e);
	if (rc)
		CU_ASSERT_STRING_EQUAL(e.msg, "grants[0].rows: row filter nested deeper than 32 levels");
	strbuf_release(&doc);
	return rc;
}

static void test_filter_depth(void)
{
	struct policy *p = NULL;
	struct policy_caller c = { .uid = 0, .gid = 0, .mount_dept = "a" };
	struct policy_decision d;
	struct desens *ds = NULL;
	struct perr e = PERR_INIT;

	CU_ASSERT_EQUAL(parse_depth(FILTER_DEPTH_MAX + 1, &p), -EINVAL);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_EQUAL_FATAL(parse_depth(FILTER_DEPTH_MAX, &p), 0);
	/* what check accepts, the engine opens */
	CU_ASSERT_EQUAL_FATAL(policy_decide(p, &c, "/e/x.csv", POLICY_READ, T0, &d), 0);
	CU_ASSERT_FATAL(d.allow && d.view);
	CU_ASSERT_EQUAL(desens_new(policy_view_rules(d.view), NULL, 0, &ds, &e), 0);
	desens_free(ds);
	policy_put(p);
}

static struct policy *parse_json(json_t *doc)
{
	struct policy *p = NULL;
	struct perr e = PERR_INIT;
	char *s = json_dumps(doc, 0);

	if (policy_parse(s, strlen(s), &p, &e))
		fprintf(stderr, "\nparse: %s\n", e.msg);
	free(s);
	return p;
}

static void test_export_diff(void)
{
	static const char *const want[] = {
		"+ dept jiaoyu (市教育局)\n", "~ dept renshe: gids [2002] → [2002, 2012]\n",
		"~ entry 341800-GA-0001: share conditional → unconditional\n",
		"- grant g2\n", "~ grant g1: valid_until 2027-01-01 → 2026-06-30\n",
		"~ grant g1: rows \"区县\" in [\"宣州区\"] → all(\"区县\" in [\"宣州区\"]; \"姓名\" ne \"\")\n",
	};
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, out = STRBUF_INIT;
	struct policy *p2, *p3;
	json_t *doc;

	CU_ASSERT_EQUAL_FATAL(policy_export_json(base, &a), 0);
	doc = json_loadb(a.buf, a.len, 0, NULL);
	CU_ASSERT_FATAL(doc != NULL);
	p2 = parse_json(doc);
	CU_ASSERT_FATAL(p2 != NULL);
	CU_ASSERT_EQUAL(policy_diff(base, p2, &out), 0);
	CU_ASSERT_EQUAL(out.len, 0);
	CU_ASSERT_EQUAL(policy_export_json(p2, &b), 0);
	CU_ASSERT_STRING_EQUAL(a.buf, b.buf);

	set_path(doc, "grants[0].valid_until", json_string("2026-06-30"));
	set_path(doc, "grants[0].rows", json_pack("{s:{s:[s]},s:{s:s}}", "区县", "in",
						  "宣州区", "姓名", "ne", ""));
	set_path(doc, "grants[1]", NULL);
	set_path(doc, "catalog[0].share", json_string("unconditional"));
	set_path(doc, "departments[1].members.gids", json_pack("[i,i]", 2002, 2012));
	json_array_append_new(json_object_get(doc, "departments"),
			      json_pack("{s:s,s:s}", "id", "jiaoyu", "name", "市教育局"));
	p3 = parse_json(doc);
	CU_ASSERT_FATAL(p3 != NULL);
	strbuf_reset(&out);
	CU_ASSERT_EQUAL(policy_diff(p2, p3, &out), 6);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!strstr(out.buf, want[i]))
			fprintf(stderr, "\nFAILED diff lacks \"%s\":\n%s", want[i], out.buf);
		CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, want[i]));
	}
	strbuf_reset(&out);
	CU_ASSERT(policy_diff(NULL, base, &out) > 10);
	CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, "+ grant g1 (renshe on 341800-GA-0001)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, "+ entry 341800-GA-0002 at " P3));
	strbuf_reset(&out);
	CU_ASSERT(policy_diff(base, NULL, &out) > 10);
	CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, "- dept gongan (市公安局)\n"));

	policy_put(p2);
	policy_put(p3);
	json_decref(doc);
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&out);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "decision table", test_decisions },
		{ "malformed paths", test_bad_paths },
		{ "broken policies", test_bad_policies },
		{ "broken documents", test_bad_documents },
		{ "views", test_views },
		{ "views: fingerprints name the engine revision", test_view_engine_rev },
		{ "tree", test_tree },
		{ "roles and allow-all", test_roles },
		{ "catalog.json", test_catalog },
		{ "whoami", test_whoami },
		{ "explain", test_explain },
		{ "export and diff", test_export_diff },
		{ "hash keys per department", test_hash_keys },
		{ "lapsed grants keep their restrictions", test_lapsed_grant },
		{ "warnings", test_warnings },
		{ "row filter depth", test_filter_depth },
	};

	return unit_tests_run("policy", suite_init, suite_clean, tests, UNIT_COUNT(tests));
}
