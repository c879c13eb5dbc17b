/*
 * tests/test_policy.c - the policy model and decision engine: a table of
 * decisions against tests/policies/base.json, a table of broken policies
 * with the exact start of each error message, and the documents built
 * from a policy (tree, catalog, whoami, explain, export, diff). Views,
 * hash keys, lapsed grants and warnings are in test_policy_views.c; the
 * shared fixture (base.json, "now") is tests/policy_util.h.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "policy/policy.h"
#include "tests/policy_util.h"
#include "tests/unit_main.h"

#define JSTR(o, k) json_string_value(json_object_get((o), (k)))

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

/* ---- the tree ---- */

/*
 * What readdir shows of dir/name: the LOOKUP decision on the child (fs/
 * filters every listed name through it), 1 visible, 0 hidden, or the
 * decision's negative errno.
 */
static int visible(const struct policy_caller *c, const char *dir, const char *name)
{
	struct strbuf path = STRBUF_INIT;
	struct policy_decision d;
	int rc;

	strbuf_addf(&path, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name);
	rc = policy_decide(base, c, path.buf, POLICY_LOOKUP, T0, &d);
	strbuf_release(&path);
	return rc < 0 ? rc : d.allow;
}

/*
 * The LIST decision on dir is rc (0 allowed, else the denial's errno),
 * and every name of want (comma-separated) is visible in it.
 */
static void expect_list(uint32_t uid, uint32_t gid, const char *dir, int rc,
			const char *want)
{
	struct policy_caller c = { .uid = uid, .gid = gid };
	struct policy_decision d;
	char names[256], *name, *comma;

	CU_ASSERT_EQUAL(policy_decide(base, &c, dir, POLICY_LIST, T0, &d), 0);
	CU_ASSERT_EQUAL(d.allow ? 0 : d.err, rc);
	snprintf(names, sizeof(names), "%s", want);
	for (name = names; *name; name = comma ? comma + 1 : name + strlen(name)) {
		comma = strchr(name, ',');
		if (comma)
			*comma = '\0';
		CU_ASSERT_EQUAL(visible(&c, dir, name), 1);
	}
}

/* Whether the policy knows department id: a mount for it resolves to it. */
static int dept_known(const struct policy *p, const char *id)
{
	struct policy_caller c = { .uid = 1999, .gid = 1999, .mount_dept = id };
	struct policy_decision d;

	if (policy_decide(p, &c, "/", POLICY_LOOKUP, T0, &d) < 0)
		return -EIO;
	return !strcmp(d.dept, id) ? 0 : -ENOENT;
}

static void test_tree(void)
{
	struct policy_caller rs = { .uid = 1002, .gid = 2002 }, ga = { .uid = 1001, .gid = 2001 };
	struct policy_caller nobody = { .uid = 1999, .gid = 1999 };
	struct policy_entry_info info;

	CU_ASSERT_EQUAL(visible(&rs, "/", "基础库"), 1);
	CU_ASSERT_EQUAL(visible(&rs, "/", ".poolfs"), 1);
	CU_ASSERT_EQUAL(visible(&rs, "/部门库", "统计"), 1);
	CU_ASSERT_EQUAL(visible(&rs, "/部门库", "公安"), 0);
	CU_ASSERT_EQUAL(visible(&ga, "/部门库", "公安"), 1);
	CU_ASSERT_EQUAL(visible(&rs, "/部门库/公安", "案件"), 0);
	CU_ASSERT_EQUAL(visible(&rs, P1, "a.csv"), 1);
	CU_ASSERT_EQUAL(visible(&rs, "/", "stray"), 0);
	CU_ASSERT_EQUAL(visible(&nobody, "/", "基础库"), 0);
	CU_ASSERT_EQUAL(visible(&rs, "/", "a//b"), -EINVAL);
	CU_ASSERT_EQUAL(visible(&rs, "/", ".."), -EINVAL);

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
	CU_ASSERT_EQUAL(dept_known(base, "renshe"), 0);
	CU_ASSERT_EQUAL(dept_known(base, "nosuch"), -ENOENT);

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
		{ "tree", test_tree },
		{ "roles and allow-all", test_roles },
		{ "catalog.json", test_catalog },
		{ "whoami", test_whoami },
		{ "explain", test_explain },
		{ "export and diff", test_export_diff },
	};

	return unit_tests_run("policy", suite_init, suite_clean, tests, UNIT_COUNT(tests));
}
