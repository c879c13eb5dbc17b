/*
 * tests/test_ctl.c - poolctl's commands through the control server: stats,
 * versions, restore, policy apply/export/check (with and without a
 * daemon), explain, and the roles each command needs.
 *
 * A control server runs in-process on a temporary pool (tests/ctl_util.h);
 * the tests talk to it as poolctl does (ctl_client_call). Policy commands
 * reach a set_policy hook that records what the "daemon" received; roles
 * are checked by calling ctl_run() as a remote peer of a given uid. The
 * socket itself (peer credentials, hostile frames) is tests/test_ctl_proto.c.
 */
#include "tests/ctl_util.h"
#include "tests/unit_main.h"

static void test_stats(void)
{
	struct ctl_reply r;
	json_t *doc;

	ctl_reply_init(&r);
	CU_ASSERT_EQUAL(CALL(&r, "stats"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "files"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "dedupe ratio"));
	CU_ASSERT_EQUAL(r.err.len, 0);

	CU_ASSERT_EQUAL(CALL(&r, "stats", "--json"), 0);
	doc = json_loads(r.out.buf, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(doc, "files")), 1);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(doc, "versions")), 2);
	CU_ASSERT_TRUE(json_is_integer(json_object_get(doc, "stored_bytes")));
	json_decref(doc);

	CU_ASSERT_EQUAL(CALL(&r, "stats", "extra"), 2);
	CU_ASSERT_EQUAL(CALL(&r, "stats", "--jsn"), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err.buf, "unknown option \"--jsn\""));
	ctl_reply_release(&r);
}

static void test_versions(void)
{
	struct ctl_reply r;
	json_t *doc, *list;
	const char *t;

	ctl_reply_init(&r);
	CU_ASSERT_EQUAL(CALL(&r, "versions", "/a.csv"), 0);
	CU_ASSERT_EQUAL(strncmp(r.out.buf, "VERSION", 7), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "\n1 "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "\n2 "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "test/tester"));

	CU_ASSERT_EQUAL(CALL(&r, "versions", "--json", "/a.csv"), 0);
	doc = json_loads(r.out.buf, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	list = json_object_get(doc, "versions");
	CU_ASSERT_EQUAL(json_array_size(list), 2);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(list, 1), "version")), 2);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(list, 1), "size")), 20);
	t = json_string_value(json_object_get(json_array_get(list, 0), "time"));
	CU_ASSERT_TRUE(t && strlen(t) == 20 && t[10] == 'T' && t[19] == 'Z');
	json_decref(doc);

	CU_ASSERT_EQUAL(CALL(&r, "versions", "/nope"), 2);
	CU_ASSERT_STRING_EQUAL(r.err.buf, "poolctl: \"/nope\": no such file or directory\n");
	CU_ASSERT_EQUAL(CALL(&r, "versions", "/dir"), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err.buf, "not a regular file"));
	CU_ASSERT_EQUAL(CALL(&r, "versions", "a.csv"), 2);
	CU_ASSERT_EQUAL(CALL(&r, "versions", "/dir/../a.csv"), 2);
	CU_ASSERT_EQUAL(CALL(&r, "versions"), 2);
	CU_ASSERT_EQUAL(CALL(&r, "versions", "/a.csv", "/a.csv"), 2);
	CU_ASSERT_EQUAL(CALL(&r, "versions", "--help"), 0);
	CU_ASSERT_EQUAL(strncmp(r.out.buf, "usage: poolctl", 14), 0);
	ctl_reply_release(&r);
}

static void test_restore(void)
{
	struct store_version_info v1, v3;
	struct store_attr a;
	struct ctl_reply r;

	ctl_reply_init(&r);
	__atomic_store_n(&invalidated, 0, __ATOMIC_SEQ_CST);
	CU_ASSERT_EQUAL(CALL(&r, "restore", "/a.csv", "--version", "1"), 0);
	CU_ASSERT_STRING_EQUAL(r.out.buf, "3\n");
	CU_ASSERT_EQUAL_FATAL(store_resolve(pool, "/a.csv", &a), 0);
	CU_ASSERT_EQUAL(__atomic_load_n(&invalidated, __ATOMIC_SEQ_CST), 1);
	CU_ASSERT_EQUAL(__atomic_load_n(&invalidated_ino, __ATOMIC_SEQ_CST), a.ino);
	CU_ASSERT_EQUAL(a.version, 3);
	CU_ASSERT_EQUAL_FATAL(store_version_get(pool, a.ino, 1, &v1), 0);
	CU_ASSERT_EQUAL_FATAL(store_version_get(pool, a.ino, 3, &v3), 0);
	CU_ASSERT_EQUAL(memcmp(v1.content_id, v3.content_id, 32), 0);

	CU_ASSERT_EQUAL(CALL(&r, "restore", "--json", "/a.csv", "--version=2"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "\"version\": 4"));

	CU_ASSERT_EQUAL(CALL(&r, "restore", "/a.csv"), 2);
	CU_ASSERT_EQUAL(CALL(&r, "restore", "/a.csv", "--version"), 2);
	CU_ASSERT_EQUAL(CALL(&r, "restore", "/a.csv", "--version", "x1"), 2);
	CU_ASSERT_EQUAL(CALL(&r, "restore", "/a.csv", "--version", "-1"), 2);
	CU_ASSERT_EQUAL(CALL(&r, "restore", "/a.csv", "--version", "99"), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err.buf, "\"/a.csv\": no version 99"));
	CU_ASSERT_EQUAL(r.out.len, 0);
	CU_ASSERT_EQUAL(CALL(&r, "restore", "/a.csv", "--version", "99999999999999999999999"), 2);
	ctl_reply_release(&r);
}

static int count_cb(void *arg, const char *json, const struct audit_rec *r)
{
	(*(int *)arg)++;
	return 0;
}

/* Audit records of op in the test pool, or a negative errno. */
static int count_audit(const char *op)
{
	struct audit_filter f = AUDIT_FILTER_INIT;
	int n = 0, rc;

	f.op = op;
	rc = audit_query(pool, &f, count_cb, &n);
	return rc < 0 ? rc : n;
}

static uint64_t stored_policy_version(struct store *s)
{
	struct strbuf doc = STRBUF_INIT;
	uint64_t v = 0;

	if (store_policy_get(s, 0, &doc, &v))
		v = 0;
	strbuf_release(&doc);
	return v;
}

static void ctx_input(struct ctl_ctx *ctx, const char *doc)
{
	strbuf_reset(&ctx->input);
	strbuf_addstr(&ctx->input, doc);
	ctx->has_input = true;
}

/* apply through the daemon: stored, audited, handed to the live mount */
static void test_policy_apply(void)
{
	struct strbuf doc = STRBUF_INIT;
	struct ctl_reply r;
	struct policy *live;
	char *v2 = policy_edit("\"valid_until\": \"2099-01-01\"", "\"valid_until\": \"2098-01-01\"");
	char *bad = policy_edit("\"entry\": \"341800-GA-0001\"", "\"entry\": \"341800-X\"");
	int applies = count_audit("policy.apply");
	struct policy_decision known;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
	ctl_reply_init(&r);
	__atomic_store_n(&set_policy_calls, 0, __ATOMIC_SEQ_CST);

	/* a dry run stores nothing and tells nobody */
	CU_ASSERT_EQUAL(CALL_IN(&r, policy_v1, "policy", "apply", "--dry-run", "p.json"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "+ grant g1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "nothing applied"));
	CU_ASSERT_EQUAL(stored_policy_version(pool), 0);
	CU_ASSERT_EQUAL(__atomic_load_n(&set_policy_calls, __ATOMIC_SEQ_CST), 0);

	CU_ASSERT_EQUAL(CALL_IN(&r, policy_v1, "policy", "apply", "p.json"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "+ dept renshe (市人社局)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "applied policy version 1 ("));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, " changes): 2 departments, 1 entry, 1 grant\n"));
	CU_ASSERT_EQUAL(r.err.len, 0);
	CU_ASSERT_EQUAL(stored_policy_version(pool), 1);
	CU_ASSERT_EQUAL(__atomic_load_n(&set_policy_calls, __ATOMIC_SEQ_CST), 1);
	live = __atomic_load_n(&live_policy, __ATOMIC_SEQ_CST);
	CU_ASSERT_PTR_NOT_NULL_FATAL(live);
	CU_ASSERT_EQUAL(policy_decide(live, &(struct policy_caller){ .mount_dept = "renshe" }, "/",
				      POLICY_LOOKUP, time(NULL), &known), 0);
	CU_ASSERT_STRING_EQUAL(known.dept, "renshe");
	CU_ASSERT_EQUAL(policy_role_has(live, 1500, NULL, 0, "security_admin"), 1);
	CU_ASSERT_EQUAL(count_audit("policy.apply"), applies + 1);

	/* the same document again: no new version, the mount may catch up */
	CU_ASSERT_EQUAL(CALL_IN(&r, policy_v1, "policy", "apply", "p.json"), 0);
	CU_ASSERT_STRING_EQUAL(r.out.buf, "unchanged: policy version 1 is this document\n");
	CU_ASSERT_EQUAL(stored_policy_version(pool), 1);

	/* a change: the diff names it */
	CU_ASSERT_EQUAL(CALL_IN(&r, v2, "policy", "apply", "--json", "p2.json"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "valid_until 2099-01-01 → 2098-01-01"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "\"version\": 2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "\"previous\": 1"));
	CU_ASSERT_EQUAL(stored_policy_version(pool), 2);

	/* invalid: one line naming the file and the JSON path, nothing stored */
	CU_ASSERT_EQUAL(CALL_IN(&r, bad, "policy", "apply", "bad.json"), 2);
	CU_ASSERT_STRING_EQUAL(r.err.buf, "poolctl: bad.json: grants[0].entry: "
			       "no catalog entry with code \"341800-X\"\n");
	CU_ASSERT_EQUAL(r.out.len, 0);
	CU_ASSERT_EQUAL(stored_policy_version(pool), 2);

	/* the daemon never opens the path: no content, no apply */
	CU_ASSERT_EQUAL(CALL(&r, "policy", "apply", "/etc/passwd"), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err.buf, "no content for \"/etc/passwd\""));
	CU_ASSERT_EQUAL(CALL_IN(&r, policy_v1, "policy", "apply"), 2);
	CU_ASSERT_EQUAL(CALL_IN(&r, policy_v1, "policy", "apply", "a", "b"), 2);
	CU_ASSERT_EQUAL(CALL_IN(&r, "", "policy", "apply", "empty.json"), 2);

	/* the mount refusing the switch: stored, and said so */
	__atomic_store_n(&set_policy_fail, 1, __ATOMIC_SEQ_CST);
	CU_ASSERT_EQUAL(CALL_IN(&r, policy_v1, "policy", "apply", "p.json"), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err.buf, "policy version 3 is stored but the live mount "
				      "did not switch to it"));
	__atomic_store_n(&set_policy_fail, 0, __ATOMIC_SEQ_CST);
	CU_ASSERT_EQUAL(stored_policy_version(pool), 3);

	/* export: the exact bytes applied, any version */
	CU_ASSERT_EQUAL(CALL(&r, "policy", "export"), 0);
	CU_ASSERT_STRING_EQUAL(r.out.buf, policy_v1);
	CU_ASSERT_EQUAL(CALL(&r, "policy", "export", "--version", "2"), 0);
	CU_ASSERT_STRING_EQUAL(r.out.buf, v2);
	CU_ASSERT_EQUAL(CALL(&r, "policy", "export", "--version", "9"), 2);
	CU_ASSERT_STRING_EQUAL(r.err.buf, "poolctl: no policy version 9\n");
	CU_ASSERT_EQUAL(CALL(&r, "policy", "export", "--version", "0"), 2);
	CU_ASSERT_EQUAL(CALL(&r, "policy", "export", "x"), 2);
	CU_ASSERT_EQUAL_FATAL(store_policy_get(pool, 1, &doc, NULL), 0);
	CU_ASSERT_STRING_EQUAL(doc.buf, policy_v1);

	/* check through the daemon, content sent like apply's */
	CU_ASSERT_EQUAL(CALL_IN(&r, policy_v1, "policy", "check", "p.json"), 0);
	CU_ASSERT_STRING_EQUAL(r.out.buf, "ok: 2 departments, 1 entry, 1 grant\n");
	CU_ASSERT_EQUAL(CALL_IN(&r, bad, "policy", "check", "bad.json"), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err.buf, "bad.json: grants[0].entry"));
	CU_ASSERT_EQUAL(CALL(&r, "policy"), 2);
	CU_ASSERT_EQUAL(CALL(&r, "policy", "frob"), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err.buf, "unknown sub-command \"frob\""));
	strbuf_release(&doc);
	ctl_reply_release(&r);
	free(v2);
	free(bad);
}

static void test_explain(void)
{
	static const char csv[] = "/基础库/人口/户籍人口/a.csv";
	struct ctl_reply r;
	json_t *doc, *view;

	ctl_reply_init(&r);
	/* renshe (uid 1002) reads through g1 */
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--uid", "1002", "--gid", "2002", csv), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "decision: allow\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "grant: g1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "身份证号 hash"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "policy: version 3\n"));
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--json", "--uid", "1002", csv), 0);
	doc = json_loads(r.out.buf, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_TRUE(json_is_true(json_object_get(doc, "allow")));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(doc, "grant")), "g1");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(doc, "department")), "renshe");
	view = json_object_get(doc, "view");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(view, "fields")), 2);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(view, "masks"),
								 "身份证号")), "hash");
	CU_ASSERT_TRUE(json_is_array(json_object_get(json_object_get(
		json_object_get(view, "rows"), "区县"), "in")));
	json_decref(doc);

	/* denied: no department, a write, outside the window */
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--uid", "4242", csv), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "decision: deny"));
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--uid", "1002", "--action", "write", csv), 1);
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--uid", "1002", "--at", "2025-12-31T23:59:59Z", csv), 1);
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--uid", "1002", "--at", "2026-01-01T07:59:59+08:00",
			     csv), 1);
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--uid", "1002", "--at", "2026-01-01", csv), 0);
	/* the times audit query takes: a span back from now, and now */
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--uid", "1002", "--at", "-1h", csv), 0);
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--uid", "1002", "--at", "now", csv), 0);
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--uid", "1002", "--at", "-100000d", csv), 1);
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--uid", "4242", "--groups", "7,2002", csv), 0);
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--uid", "4242", "--dept", "renshe", csv), 0);
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--json", "--uid", "4242", csv), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "\"error\": \"EACCES\""));

	/* bad questions: exit 2 */
	CU_ASSERT_EQUAL(CALL(&r, "explain", csv), 2);
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--uid", "1002"), 2);
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--uid", "1002", "a.csv"), 2);
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--uid", "1002", "/a//b"), 2);
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--uid", "1002", "--action", "eat", csv), 2);
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--uid", "1002", "--at", "yesterday", csv), 2);
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--uid", "1002", "--at", "2026-02-30", csv), 2);
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--uid", "1002", "--at", "2026-01-01junk", csv), 2);
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--uid", "1002", "--groups", "1,,2", csv), 2);
	CU_ASSERT_EQUAL(CALL(&r, "explain", "--uid", "4294967295", csv), 2);
	ctl_reply_release(&r);
}

/* Runs argv as a peer of uid/gid would reach ctl_run() in the daemon. */
static int run_as(struct ctl_ctx *ctx, uint32_t uid, uint32_t gid, const char *input,
		  const char *first, ...)
{
	va_list ap;
	int code;

	ctl_ctx_release(ctx);
	ctl_ctx_init_remote(ctx, pool, &test_hooks, uid, gid, (int32_t)getpid());
	if (input)
		ctx_input(ctx, input);
	va_start(ap, first);
	code = run_va(ctx, first, ap);
	va_end(ap);
	return code;
}

#define RUN_AS(ctx, uid, gid, in, ...) \
	run_as((ctx), (uid), (gid), (in), __VA_ARGS__, (const char *)NULL)

static void test_roles(void)
{
	struct ctl_ctx ctx;
	struct strbuf msg = STRBUF_INIT;
	struct targs t;
	int denied = count_audit("admin.denied");

	ctl_ctx_init_local(&ctx, NULL);
	/* security_admin applies; an auditor and a stranger may not */
	CU_ASSERT_EQUAL(RUN_AS(&ctx, 1500, 1500, policy_v1, "policy", "apply", "--dry-run", "p"), 0);
	CU_ASSERT_EQUAL(RUN_AS(&ctx, 1501, 1501, policy_v1, "policy", "apply", "p"), 1);
	CU_ASSERT_STRING_EQUAL(ctx.err.buf, "poolctl: permission denied: policy apply needs "
			       "the security_admin role\n");
	CU_ASSERT_EQUAL(ctx.out.len, 0);
	CU_ASSERT_EQUAL(stored_policy_version(pool), 3);
	CU_ASSERT_EQUAL(RUN_AS(&ctx, 1234, 1234, NULL, "stats"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(ctx.err.buf, "permission denied: stats needs an admin role"));
	CU_ASSERT_EQUAL(count_audit("admin.denied"), denied + 2);

	/* any role opens the read-only commands; the gid path counts too */
	CU_ASSERT_EQUAL(RUN_AS(&ctx, 1501, 1501, NULL, "stats"), 0);
	CU_ASSERT_EQUAL(RUN_AS(&ctx, 1501, 1501, NULL, "policy", "export"), 0);
	CU_ASSERT_EQUAL(RUN_AS(&ctx, 1234, 2090, NULL, "versions", "/a.csv"), 0);
	CU_ASSERT_EQUAL(RUN_AS(&ctx, 1500, 1500, NULL, "explain", "--uid", "1002",
			       "/基础库/人口/户籍人口/a.csv"), 0);
	/* restore is system_admin's; a security_admin gets no data rights either */
	CU_ASSERT_EQUAL(RUN_AS(&ctx, 1500, 1500, NULL, "restore", "/a.csv", "--version", "1"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(ctx.err.buf, "restore needs the system_admin role"));
	/* --help reveals nothing and needs nothing */
	CU_ASSERT_EQUAL(RUN_AS(&ctx, 1234, 1234, NULL, "policy", "apply", "--help"), 0);
	ctl_ctx_release(&ctx);

	CU_ASSERT_EQUAL(ctl_role_allows(NULL, 0, NULL, 0, CTL_ROLE_SECURITY), 1);
	CU_ASSERT_EQUAL(ctl_role_allows(NULL, 1500, NULL, 0, CTL_ROLE_ADMIN), 0);

	/* what poolctl prints when the daemon refused before reading */
	t.argc = 0;
	t.argv[t.argc] = t.own[t.argc] = strdup("policy"), t.argc++;
	t.argv[t.argc] = t.own[t.argc] = strdup("apply"), t.argc++;
	ctl_refusal_message(t.argc, t.argv, &msg);
	CU_ASSERT_STRING_EQUAL(msg.buf, "poolctl: permission denied: policy apply needs the "
			       "security_admin role\n");
	targs_free(&t);
	strbuf_release(&msg);
}

/*
 * The gate of a server without an authorize hook, from real peers: a
 * child drops to uid and asks; writes "exit refused" to the pipe.
 */
/* check needs no pool; export and explain on a pool without a policy */
static void test_policy_local(void)
{
	char dir[600];
	struct ctl_ctx ctx;

	ctl_ctx_init_local(&ctx, NULL);
	ctx_input(&ctx, policy_v1);
	CU_ASSERT_EQUAL(RUN(&ctx, "policy", "check", "p.json"), 0);
	CU_ASSERT_STRING_EQUAL(ctx.out.buf, "ok: 2 departments, 1 entry, 1 grant\n");
	ctl_ctx_release(&ctx);

	ctl_ctx_init_local(&ctx, NULL);
	ctx_input(&ctx, "{\"version\": 1, \"departments\": [{\"id\": \"a\", \"name\": \"A\",}]}");
	CU_ASSERT_EQUAL(RUN(&ctx, "policy", "check", "syntax.json"), 2);
	CU_ASSERT_EQUAL(strncmp(ctx.err.buf, "poolctl: syntax.json: ", 22), 0);
	CU_ASSERT_PTR_EQUAL(strchr(ctx.err.buf, '\n'), ctx.err.buf + ctx.err.len - 1);
	ctl_ctx_release(&ctx);

	snprintf(dir, sizeof(dir), "%s/nopolicy", tmp_root);
	ctl_ctx_init_local(&ctx, NULL);
	CU_ASSERT_EQUAL_FATAL(RUN(&ctx, "init", dir, "--cipher", "none"), 0);
	ctl_ctx_release(&ctx);
	ctl_ctx_init_local(&ctx, dir);
	CU_ASSERT_EQUAL(RUN(&ctx, "policy", "export"), 2);
	CU_ASSERT_STRING_EQUAL(ctx.err.buf, "poolctl: no policy applied\n");
	ctl_ctx_release(&ctx);
	ctl_ctx_init_local(&ctx, dir);
	CU_ASSERT_EQUAL(RUN(&ctx, "explain", "--uid", "1", "/x"), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(ctx.err.buf, "no policy applied"));
	ctl_ctx_release(&ctx);

	/* apply and export without a daemon */
	ctl_ctx_init_local(&ctx, dir);
	ctx_input(&ctx, policy_v1);
	CU_ASSERT_EQUAL(RUN(&ctx, "policy", "apply", "p.json"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(ctx.out.buf, "applied policy version 1"));
	ctl_ctx_release(&ctx);
	ctl_ctx_init_local(&ctx, dir);
	CU_ASSERT_EQUAL(RUN(&ctx, "policy", "export"), 0);
	CU_ASSERT_STRING_EQUAL(ctx.out.buf, policy_v1);
	ctl_ctx_release(&ctx);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "stats", test_stats },
		{ "versions", test_versions },
		{ "restore", test_restore },
		{ "policy apply, export, check", test_policy_apply },
		{ "explain", test_explain },
		{ "roles", test_roles },
		{ "policy without a daemon", test_policy_local },
	};

	return unit_tests_run("ctl", suite_init, suite_clean, tests, UNIT_COUNT(tests));
}
