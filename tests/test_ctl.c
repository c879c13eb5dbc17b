/*
 * tests/test_ctl.c - poolctl's commands and the control protocol.
 *
 * A control server runs in-process on a temporary pool; the tests talk to
 * it as poolctl does (ctl_client_call) and as a hostile peer would (raw
 * frames), and check after every bad request that it still serves.
 * Policy commands go through it with a set_policy hook that records what
 * the "daemon" received; roles are checked both by calling ctl_run() as
 * a remote peer of a given uid and, when run as root, from a forked
 * child that drops to another uid (the kernel's SO_PEERCRED).
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "common/codec.h"
#include "policy/policy.h"
#include "store/audit.h"
#include "store/store.h"
#include "tools/ctl.h"
#include "tools/ctl_proto.h"

static char tmp_root[] = "/tmp/poolctl-test-XXXXXX";
static char pool_dir[512];
static struct store *pool;
static struct ctl_server *server;
/* set by the server thread's hooks, read by the tests: atomics */
static int deny_all;			/* authorize hook answer */
static int invalidated;			/* invalidate_inode calls */
static uint64_t invalidated_ino;

static int test_authorize(void *data, uint32_t uid, uint32_t gid, int32_t pid)
{
	return __atomic_load_n(&deny_all, __ATOMIC_SEQ_CST) ? -EACCES : 0;
}

static int test_invalidate(void *data, uint64_t ino)
{
	__atomic_add_fetch(&invalidated, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&invalidated_ino, ino, __ATOMIC_SEQ_CST);
	return 0;
}

/* What the "daemon" was handed by policy apply; atomics, like the above. */
static int set_policy_calls;
static int set_policy_fail;
static struct policy *live_policy;

static int test_set_policy(void *data, struct policy *p)
{
	struct policy *old;

	if (__atomic_load_n(&set_policy_fail, __ATOMIC_SEQ_CST)) {
		policy_put(p);
		return -EIO;
	}
	old = __atomic_exchange_n(&live_policy, p, __ATOMIC_SEQ_CST);
	if (old)
		policy_put(old);
	__atomic_add_fetch(&set_policy_calls, 1, __ATOMIC_SEQ_CST);
	return 0;
}

static const struct ctl_hooks test_hooks = {
	.invalidate_inode = test_invalidate,
	.set_policy = test_set_policy,
	.authorize = test_authorize,
};

/*
 * The DESIGN.md example: renshe reads 341800-GA-0001 through grant g1.
 * uid 1500 is security_admin, uid 1501 auditor, gid 2090 auditor.
 */
static const char policy_v1[] =
	"{\"version\": 1,\n"
	" \"roles\": {\"security_admin\": {\"uids\": [0, 1500]},\n"
	"           \"auditor\": {\"uids\": [0, 1501], \"gids\": [2090]},\n"
	"           \"system_admin\": {\"uids\": [0]}},\n"
	" \"departments\": [\n"
	"  {\"id\": \"gongan\", \"name\": \"市公安局\", \"members\": {\"uids\": [1001], \"gids\": [2001]}},\n"
	"  {\"id\": \"renshe\", \"name\": \"市人社局\", \"members\": {\"uids\": [1002], \"gids\": [2002]}}],\n"
	" \"catalog\": [{\"path\": \"/基础库/人口/户籍人口\", \"code\": \"341800-GA-0001\",\n"
	"  \"title\": \"户籍人口基本信息\", \"provider\": \"gongan\", \"share\": \"conditional\",\n"
	"  \"format\": \"csv\", \"fields\": [{\"name\": \"身份证号\", \"tag\": \"id_card\"},\n"
	"  {\"name\": \"姓名\", \"tag\": \"name\"}, {\"name\": \"区县\", \"tag\": \"region\"}]}],\n"
	" \"grants\": [{\"id\": \"g1\", \"entry\": \"341800-GA-0001\", \"department\": \"renshe\",\n"
	"  \"actions\": [\"read\"], \"fields\": [\"身份证号\", \"区县\"],\n"
	"  \"masks\": {\"身份证号\": \"hash\"}, \"rows\": {\"区县\": {\"in\": [\"宣州区\"]}},\n"
	"  \"valid_from\": \"2026-01-01\", \"valid_until\": \"2099-01-01\"}]}\n";

/* policy_v1 with replace put in place of the first find; malloc'd. */
static char *policy_edit(const char *find, const char *replace)
{
	const char *at = strstr(policy_v1, find);
	struct strbuf sb = STRBUF_INIT;

	if (!at)
		return NULL;
	strbuf_add(&sb, policy_v1, (size_t)(at - policy_v1));
	strbuf_addstr(&sb, replace);
	strbuf_addstr(&sb, at + strlen(find));
	return strbuf_detach(&sb, NULL);
}

/* Commits data as the next version of /name in the root directory. */
static int put_version(const char *name, const char *data)
{
	struct store_writer w = { 0, 0, 1, "test", "tester" };
	struct store_stage *st;
	struct store_attr a;
	uint64_t v;
	int rc;

	rc = store_lookup(pool, STORE_ROOT_INO, name, &a);
	if (rc == -ENOENT)
		rc = store_mknode(pool, STORE_ROOT_INO, name, STORE_REG, 0644, 0, 0, NULL, &a);
	if (rc)
		return rc;
	rc = store_stage_open(pool, a.ino, &st);
	if (rc)
		return rc;
	rc = store_stage_truncate(st, 0);
	if (!rc)
		rc = store_stage_write(st, data, strlen(data), 0);
	if (!rc)
		rc = store_stage_commit(st, &w, NULL, &v);
	store_stage_close(st);
	return rc;
}

static int suite_init(void)
{
	struct perr e = PERR_INIT;

	if (!mkdtemp(tmp_root))
		return -1;
	snprintf(pool_dir, sizeof(pool_dir), "%s/pool", tmp_root);
	if (store_create(pool_dir, &e) || store_open(pool_dir, 0, &pool, &e)) {
		fprintf(stderr, "test_ctl: %s\n", perr_msg(&e, EIO));
		return -1;
	}
	if (put_version("a.csv", "id,name\n1,one\n") ||
	    put_version("a.csv", "id,name\n1,one\n2,two\n") ||
	    store_mknode(pool, STORE_ROOT_INO, "dir", STORE_DIR, 0755, 0, 0, NULL,
			 &(struct store_attr){ 0 }))
		return -1;
	if (ctl_server_start(pool, &test_hooks, &server, &e)) {
		fprintf(stderr, "test_ctl: %s\n", perr_msg(&e, EIO));
		return -1;
	}
	return 0;
}

static int suite_clean(void)
{
	char cmd[600];

	ctl_server_stop(server);
	store_close(pool);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_root);
	return system(cmd) ? -1 : 0;
}

/* A mutable argv from string literals (-Wwrite-strings makes those const). */
struct targs {
	int argc;
	char *argv[16];			/* commands permute this */
	char *own[16];			/* what to free */
};

static struct targs *targs_vset(struct targs *t, const char *first, va_list ap)
{
	t->argc = 0;
	for (const char *a = first; a && t->argc < 15; a = va_arg(ap, const char *))
		t->argv[t->argc] = t->own[t->argc] = strdup(a), t->argc++;
	t->argv[t->argc] = NULL;
	return t;
}

static void targs_free(struct targs *t)
{
	for (int i = 0; i < t->argc; i++)
		free(t->own[i]);
	t->argc = 0;
}

/*
 * Runs argv through the daemon at dir, sending input (NULL: none) as the
 * FILE's content; returns ctl_client_call's result.
 */
static int client_v(const char *dir, struct ctl_reply *r, const char *input,
		    const char *first, ...)
{
	struct strbuf in = STRBUF_INIT;
	struct perr e = PERR_INIT;
	struct targs t;
	va_list ap;
	int rc;

	va_start(ap, first);
	targs_vset(&t, first, ap);
	va_end(ap);
	ctl_reply_release(r);
	ctl_reply_init(r);
	if (input)
		strbuf_addstr(&in, input);
	rc = ctl_client_call(dir, t.argc, t.argv, input ? &in : NULL, r, &e);
	strbuf_release(&in);
	if (rc && rc != -ENOENT && rc != -ECONNREFUSED)
		fprintf(stderr, "ctl_client_call: %s\n", perr_msg(&e, rc));
	targs_free(&t);
	return rc;
}

/* Runs argv through the test daemon; returns the exit code, or -100 - errno. */
#define CALL(r, ...) call_exit(client_v(pool_dir, (r), NULL, __VA_ARGS__, (const char *)NULL), (r))
#define CALL_IN(r, in, ...) \
	call_exit(client_v(pool_dir, (r), (in), __VA_ARGS__, (const char *)NULL), (r))
#define CLIENT(dir, r, ...) client_v((dir), (r), NULL, __VA_ARGS__, (const char *)NULL)

static int call_exit(int rc, const struct ctl_reply *r)
{
	return rc ? -100 + rc : r->exit;
}

static int run_v(struct ctl_ctx *ctx, const char *first, ...)
{
	struct targs t;
	va_list ap;
	int code;

	va_start(ap, first);
	targs_vset(&t, first, ap);
	va_end(ap);
	code = ctl_run(ctx, t.argc, t.argv);
	targs_free(&t);
	return code;
}

#define RUN(ctx, ...) run_v((ctx), __VA_ARGS__, (const char *)NULL)

static bool locally_v(const char *first, ...)
{
	struct targs t;
	va_list ap;
	bool local;

	va_start(ap, first);
	targs_vset(&t, first, ap);
	va_end(ap);
	local = ctl_runs_locally(t.argc, t.argv);
	targs_free(&t);
	return local;
}

#define LOCALLY(...) locally_v(__VA_ARGS__, (const char *)NULL)

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
	CU_ASSERT_EQUAL(policy_dept_exists(live, "renshe"), 0);
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
	struct targs t;
	va_list ap;
	int code;

	ctl_ctx_release(ctx);
	ctl_ctx_init_remote(ctx, pool, &test_hooks, uid, gid, (int32_t)getpid());
	if (input)
		ctx_input(ctx, input);
	va_start(ap, first);
	targs_vset(&t, first, ap);
	va_end(ap);
	code = ctl_run(ctx, t.argc, t.argv);
	targs_free(&t);
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
static int gate_child(const char *dir, uint32_t uid, const char *cmd, int *refused)
{
	struct ctl_reply r;
	struct perr e = PERR_INIT;
	char *argv[2] = { strdup(cmd), NULL };
	int fds[2], st, got[2] = { -1, -1 };
	pid_t pid;

	if (!argv[0] || pipe(fds)) {
		free(argv[0]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		ctl_reply_init(&r);
		if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
			_exit(3);
		got[0] = ctl_client_call(dir, 1, argv, NULL, &r, &e) ? -2 : r.exit;
		got[1] = r.refused;
		_exit(write(fds[1], got, sizeof(got)) == sizeof(got) ? 0 : 4);
	}
	close(fds[1]);
	if (pid < 0 || read(fds[0], got, sizeof(got)) != sizeof(got))
		got[0] = -1;
	close(fds[0]);
	if (pid > 0)
		waitpid(pid, &st, 0);
	free(argv[0]);
	*refused = got[1];
	return got[0];
}

static void test_gate(void)
{
	static const struct ctl_hooks gate_hooks = { .set_policy = test_set_policy };
	char dir[600];
	struct ctl_server *srv = NULL;
	struct store *s = NULL;
	struct perr e = PERR_INIT;
	uint64_t v;
	int refused;

	if (geteuid() != 0) {
		fprintf(stderr, "(not root: the socket gate is checked by the mount tests only) ");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/gate", tmp_root);
	CU_ASSERT_EQUAL_FATAL(chmod(tmp_root, 0711), 0);
	CU_ASSERT_EQUAL_FATAL(store_create(dir, &e), 0);
	CU_ASSERT_EQUAL_FATAL(store_open(dir, 0, &s, &e), 0);
	CU_ASSERT_EQUAL_FATAL(store_policy_put(s, policy_v1, strlen(policy_v1), NULL, NULL, &v), 0);
	CU_ASSERT_EQUAL_FATAL(ctl_server_start(s, &gate_hooks, &srv, &e), 0);

	CU_ASSERT_EQUAL(gate_child(dir, 1234, "stats", &refused), 1);
	CU_ASSERT_EQUAL(refused, 1);
	CU_ASSERT_EQUAL(gate_child(dir, 1501, "stats", &refused), 0);
	CU_ASSERT_EQUAL(refused, 0);
	CU_ASSERT_EQUAL(gate_child(dir, 1501, "frobnicate", &refused), 2);

	ctl_server_stop(srv);
	store_close(s);
}

/* poolctl reads FILE; the commands never do */
static void test_read_input(void)
{
	char path[600];
	struct strbuf in = STRBUF_INIT;
	struct perr e = PERR_INIT;
	struct targs t;
	bool has;
	FILE *f;

	snprintf(path, sizeof(path), "%s/p.json", tmp_root);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(policy_v1, f);
	fclose(f);

	t.argc = 0;
	for (const char *const *a = (const char *const[]){ "policy", "apply", "--dry-run", path,
							  NULL }; *a; a++)
		t.argv[t.argc] = t.own[t.argc] = strdup(*a), t.argc++;
	CU_ASSERT_EQUAL(ctl_read_input(t.argc, t.argv, &in, &has, &e), 0);
	CU_ASSERT_TRUE(has);
	CU_ASSERT_STRING_EQUAL(in.buf, policy_v1);
	/* --help reads nothing; nor does a command without FILE */
	free(t.own[2]);
	t.argv[2] = t.own[2] = strdup("--help");
	CU_ASSERT_EQUAL(ctl_read_input(t.argc, t.argv, &in, &has, &e), 0);
	CU_ASSERT_FALSE(has);
	free(t.own[0]);
	t.argv[0] = t.own[0] = strdup("stats");
	CU_ASSERT_EQUAL(ctl_read_input(t.argc, t.argv, &in, &has, &e), 0);
	CU_ASSERT_FALSE(has);
	targs_free(&t);

	t.argc = 0;
	for (const char *const *a = (const char *const[]){ "policy", "check", "/nonexistent.json",
							  NULL }; *a; a++)
		t.argv[t.argc] = t.own[t.argc] = strdup(*a), t.argc++;
	CU_ASSERT_EQUAL(ctl_read_input(t.argc, t.argv, &in, &has, &e), -ENOENT);
	CU_ASSERT_STRING_EQUAL(e.msg, "/nonexistent.json: no such file or directory");
	free(t.own[2]);
	t.argv[2] = t.own[2] = strdup(tmp_root);
	e.code = 0;
	CU_ASSERT_EQUAL(ctl_read_input(t.argc, t.argv, &in, &has, &e), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "not a regular file"));
	targs_free(&t);
	strbuf_release(&in);
}

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
	CU_ASSERT_EQUAL_FATAL(RUN(&ctx, "init", dir), 0);
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

static void test_refusals(void)
{
	char other[600];
	struct ctl_reply r;
	struct stat st;

	ctl_reply_init(&r);
	CU_ASSERT_EQUAL(CALL(&r, "frobnicate"), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err.buf, "unknown command"));
	/* the daemon runs as root: it must not create pools where told */
	snprintf(other, sizeof(other), "%s/other", tmp_root);
	CU_ASSERT_EQUAL(CALL(&r, "init", other), 2);
	CU_ASSERT_NOT_EQUAL(stat(other, &st), 0);

	__atomic_store_n(&deny_all, 1, __ATOMIC_SEQ_CST);
	CU_ASSERT_EQUAL(CALL(&r, "stats"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err.buf, "permission denied"));
	CU_ASSERT_EQUAL(r.out.len, 0);
	__atomic_store_n(&deny_all, 0, __ATOMIC_SEQ_CST);
	CU_ASSERT_EQUAL(CALL(&r, "stats"), 0);
	ctl_reply_release(&r);
}

/* Sends raw bytes as a peer would and reads one reply; -1 when none came. */
static int raw_call(const void *buf, size_t len, struct strbuf *err)
{
	char path[600];
	struct sockaddr_un sa;
	struct strbuf body = STRBUF_INIT;
	struct ctl_reply r;
	json_error_t jerr;
	socklen_t salen;
	uint32_t announced;
	json_t *doc = NULL;
	int fd, dirfd, code = -1;

	snprintf(path, sizeof(path), "%s/%s", pool_dir, CTL_SOCKET_NAME);
	if (ctl_sockaddr(path, &sa, &salen, &dirfd))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, salen))
		goto out;
	/* the server may refuse before reading it all: EPIPE is expected */
	if (len && send(fd, buf, len, MSG_NOSIGNAL) < 0 && errno != EPIPE && errno != ECONNRESET)
		goto out;
	if (ctl_recv_frame(fd, CTL_MAX_REPLY, ctl_deadline(10000), &body, &announced))
		goto out;
	doc = json_loadb(body.buf, body.len, 0, &jerr);
	ctl_reply_init(&r);
	if (doc && !ctl_json_get_bytes(json_object_get(doc, "stderr"), &r.err))
		code = (int)json_integer_value(json_object_get(doc, "exit"));
	strbuf_reset(err);
	strbuf_add(err, r.err.buf, r.err.len);
	ctl_reply_release(&r);
out:
	json_decref(doc);
	strbuf_release(&body);
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	return code;
}

/* Connects, sends and hangs up without waiting for a reply. */
static int raw_send_close(const void *buf, size_t len)
{
	char path[600];
	struct sockaddr_un sa;
	socklen_t salen;
	int fd, dirfd, rc = -1;

	snprintf(path, sizeof(path), "%s/%s", pool_dir, CTL_SOCKET_NAME);
	if (ctl_sockaddr(path, &sa, &salen, &dirfd))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa, salen) &&
	    send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len)
		rc = 0;
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}

static int raw_json(const char *text, struct strbuf *err)
{
	struct strbuf frame = STRBUF_INIT;
	int code;

	strbuf_grow(&frame, 4 + strlen(text));
	put_be32((uint8_t *)frame.buf, (uint32_t)strlen(text));
	strbuf_setlen(&frame, 4);
	strbuf_addstr(&frame, text);
	code = raw_call(frame.buf, frame.len, err);
	strbuf_release(&frame);
	return code;
}

static void assert_still_serving(void)
{
	struct ctl_reply r;

	ctl_reply_init(&r);
	CU_ASSERT_EQUAL(CALL(&r, "stats"), 0);
	ctl_reply_release(&r);
}

static void test_malformed(void)
{
	static const struct { const char *json, *want; } cases[] = {
		{ "hello", "not JSON" },
		{ "{\"argv\": [\"stats\"", "not JSON" },
		{ "[]", "expected a JSON object" },
		{ "\"stats\"", "expected a JSON object" },
		{ "{}", "request.argv: expected an array" },
		{ "{\"argv\": 5}", "request.argv: expected an array" },
		{ "{\"argv\": []}", "expected 1 to" },
		{ "{\"argv\": [1, 2]}", "request.argv[0]: expected a string" },
		{ "{\"argv\": [\"stats\", null]}", "request.argv[1]: expected a string" },
		{ "{\"argv\": [{\"hex\": \"zz\"}]}", "request.argv[0]: expected a string" },
		{ "{\"argv\": [{\"hex\": \"737\"}]}", "request.argv[0]: expected a string" },
		{ "{\"argv\": [{\"hex\": \"730073\"}]}", "holds a NUL byte" },
		{ "{\"argv\": [\"st\\u0000ats\"]}", "not JSON" },
		{ "{\"v\": 2, \"argv\": [\"stats\"]}", "request.v" },
		{ "{\"argv\": [\"stats\"], \"argv\": [\"init\"]}", "not JSON" },
		{ "{\"argv\": [\"\"]}", "unknown command" },
	};
	struct strbuf err = STRBUF_INIT, deep = STRBUF_INIT;
	uint8_t hdr[8];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL(raw_json(cases[i].json, &err), 2);
		if (!strstr(err.buf, cases[i].want))
			fprintf(stderr, "case %zu: %s gave %s", i, cases[i].json, err.buf);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.buf, cases[i].want));
	}
	assert_still_serving();

	/* hex-encoded argv works like a string */
	CU_ASSERT_EQUAL(raw_json("{\"argv\": [{\"hex\": \"7374617473\"}]}", &err), 0);

	for (int i = 0; i < 100000; i++)
		strbuf_addch(&deep, '[');
	CU_ASSERT_EQUAL(raw_json(deep.buf, &err), 2);

	put_be32(hdr, 0xffffffffu);
	CU_ASSERT_EQUAL(raw_call(hdr, 4, &err), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.buf, "more than the limit"));

	/* a real oversized body: refused on its header, the rest never read */
	strbuf_reset(&deep);
	strbuf_grow(&deep, 4 + 2 * CTL_MAX_REQUEST);
	put_be32((uint8_t *)deep.buf, 2 * CTL_MAX_REQUEST);
	memset(deep.buf + 4, ' ', 2 * CTL_MAX_REQUEST);
	strbuf_setlen(&deep, 4 + 2 * CTL_MAX_REQUEST);
	CU_ASSERT_EQUAL(raw_call(deep.buf, deep.len, &err), 2);

	put_be32(hdr, 0);
	CU_ASSERT_EQUAL(raw_call(hdr, 4, &err), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.buf, "empty frame"));

	/* peers that leave early get no reply and leave no trace */
	CU_ASSERT_EQUAL(raw_send_close("", 0), 0);
	put_be32(hdr, 100);
	memcpy(hdr + 4, "{\"ar", 4);
	CU_ASSERT_EQUAL(raw_send_close(hdr, 8), 0);
	CU_ASSERT_EQUAL(raw_send_close(hdr, 2), 0);
	assert_still_serving();

	/* a peer that announces bytes and sends none is cut off */
	CU_ASSERT_EQUAL(raw_call(hdr, 8, &err), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.buf, "not received within"));
	assert_still_serving();

	strbuf_release(&err);
	strbuf_release(&deep);
}

static void test_non_utf8(void)
{
	struct ctl_reply r;

	ctl_reply_init(&r);
	CU_ASSERT_EQUAL(CALL(&r, "versions", "/caf\xe9.csv"), 2);
	CU_ASSERT_STRING_EQUAL(r.err.buf, "poolctl: \"/caf\xe9.csv\": no such file or directory\n");
	ctl_reply_release(&r);
}

/* poolctl without a daemon: the same commands against a store opened here. */
static void test_local(void)
{
	char dir[600], sock[700];
	struct sockaddr_un sa;
	struct ctl_reply r;
	struct ctl_ctx ctx;
	socklen_t salen;
	int fd, dirfd;

	snprintf(dir, sizeof(dir), "%s/local", tmp_root);
	ctl_ctx_init_local(&ctx, NULL);
	CU_ASSERT_EQUAL(RUN(&ctx, "init", dir), 0);
	CU_ASSERT_EQUAL(RUN(&ctx, "init", dir), 2);
	CU_ASSERT_EQUAL(RUN(&ctx, "stats"), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(ctx.err.buf, "no pool given"));
	ctl_ctx_release(&ctx);

	/* a socket left by a dead daemon: refused, then removed by a local run */
	snprintf(sock, sizeof(sock), "%s/%s", dir, CTL_SOCKET_NAME);
	CU_ASSERT_EQUAL_FATAL(ctl_sockaddr(sock, &sa, &salen, &dirfd), 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&sa, salen), 0);
	close(fd);
	if (dirfd >= 0)
		close(dirfd);
	ctl_reply_init(&r);
	CU_ASSERT_EQUAL(CLIENT(dir, &r, "stats"), -ECONNREFUSED);
	ctl_reply_release(&r);

	ctl_ctx_init_local(&ctx, dir);
	CU_ASSERT_EQUAL(RUN(&ctx, "stats", "--json"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(ctx.out.buf, "\"files\": 0"));
	CU_ASSERT_EQUAL(ctx.err.len, 0);
	ctl_ctx_release(&ctx);
	CU_ASSERT_EQUAL(access(sock, F_OK), -1);

	ctl_reply_init(&r);
	CU_ASSERT_EQUAL(CLIENT(dir, &r, "stats"), -ENOENT);
	ctl_reply_release(&r);

	CU_ASSERT_TRUE(LOCALLY("init", dir));
	CU_ASSERT_TRUE(LOCALLY("stats", "--help"));
	CU_ASSERT_FALSE(LOCALLY("versions", "/x"));
	CU_ASSERT_FALSE(LOCALLY("versions", "--", "--help"));
}

/* STORE paths longer than sun_path go through /proc/self/fd. */
static void test_long_path(void)
{
	char dir[600];
	struct ctl_server *srv = NULL;
	struct store *s = NULL;
	struct ctl_reply r;
	struct perr e = PERR_INIT;

	snprintf(dir, sizeof(dir), "%s/%0150d", tmp_root, 0);
	CU_ASSERT_EQUAL_FATAL(store_create(dir, &e), 0);
	CU_ASSERT_EQUAL_FATAL(store_open(dir, 0, &s, &e), 0);
	CU_ASSERT_EQUAL_FATAL(ctl_server_start(s, &test_hooks, &srv, &e), 0);
	ctl_reply_init(&r);
	CU_ASSERT_EQUAL(CLIENT(dir, &r, "stats"), 0);
	CU_ASSERT_EQUAL(r.exit, 0);
	ctl_server_stop(srv);
	CU_ASSERT_EQUAL(CLIENT(dir, &r, "stats"), -ENOENT);
	ctl_reply_release(&r);
	store_close(s);
}

int main(void)
{
	static const struct { const char *name; CU_TestFunc fn; } tests[] = {
		{ "stats", test_stats },
		{ "versions", test_versions },
		{ "restore", test_restore },
		{ "policy apply, export, check", test_policy_apply },
		{ "explain", test_explain },
		{ "roles", test_roles },
		{ "the role gate on the socket", test_gate },
		{ "FILE read by poolctl", test_read_input },
		{ "policy without a daemon", test_policy_local },
		{ "refusals", test_refusals },
		{ "malformed requests", test_malformed },
		{ "non-UTF-8 arguments", test_non_utf8 },
		{ "local run and stale socket", test_local },
		{ "long STORE path", test_long_path },
	};
	CU_pSuite suite;
	unsigned failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("ctl", suite_init, suite_clean);
	if (!suite)
		goto fail;
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			goto fail;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS)
		goto fail;
	failures = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failures ? 1 : 0;
fail:
	CU_cleanup_registry();
	return 1;
}
