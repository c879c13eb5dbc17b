/*
 * tests/test_ctl_audit.c - poolctl's audit commands: query filters and
 * time forms, verify on an intact and on a tampered log, export formats,
 * the public key, the auditor role, and init --audit-hash.
 *
 * Commands run through an in-process control server, as poolctl talks to
 * a live daemon, and through ctl_run() as a given peer for the roles.
 * Tampering edits RocksDB directly, as an intruder without the keys
 * would, so this file includes store/internal.h (white-box, like
 * tests/test_audit.c).
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/codec.h"
#include "store/internal.h"
#include "tools/ctl.h"
#include "tests/unit_main.h"

static char tmp_root[] = "/tmp/test_ctl_audit.XXXXXX";
static char pool_dir[512];
static struct store *pool;
static struct ctl_server *server;
static int64_t batch_split;		/* a time between the two batches of records */

static int allow_all(void *data, uint32_t uid, uint32_t gid, int32_t pid)
{
	return 0;
}

static const struct ctl_hooks hooks = { .authorize = allow_all };

/*
 * uid 1500 security_admin, 1501 and gid 2090 auditor, 1502 system_admin;
 * the uid running the tests is an auditor too, for its calls on the socket.
 */
static const char policy_fmt[] =
	"{\"version\": 1,\n"
	" \"roles\": {\"security_admin\": {\"uids\": [0, 1500]},\n"
	"           \"auditor\": {\"uids\": [0, 1501, %u], \"gids\": [2090]},\n"
	"           \"system_admin\": {\"uids\": [0, 1502]}},\n"
	" \"departments\": [\n"
	"  {\"id\": \"gongan\", \"name\": \"市公安局\", \"members\": {\"uids\": [1001]}}],\n"
	" \"catalog\": [], \"grants\": []}\n";

/* ---- the test records: every filtered field varies with i ---- */

#define NREC	60
#define NSPLIT	24		/* records 0..NSPLIT-1 come before batch_split */

static const char *const depts[] = { "gongan", "renshe", "weijian" };
static const char *const ops[] = { "open", "release", "create", "unlink" };

static const char *rec_dept(int i) { return depts[i % 3]; }
static uint32_t rec_uid(int i) { return 1000 + (uint32_t)(i % 4); }
static const char *rec_op(int i) { return ops[i % 5 % 4]; }
static int rec_result(int i) { return i % 6 == 0 ? -EACCES : i % 6 == 1 ? -EPERM : i % 6 == 2 ? -EIO : 0; }

static void rec_path(int i, char *buf, size_t len)
{
	snprintf(buf, len, i % 5 == 0 ? "/a/%d" : i % 5 == 1 ? "/ab/%d" : "/基础库/人口/%d.csv", i);
}

static int append_rec(int i)
{
	struct audit_rec r;
	char path[64];

	memset(&r, 0, sizeof(r));
	rec_path(i, path, sizeof(path));
	r.uid = rec_uid(i);
	r.gid = r.uid;
	r.pid = 4000 + (uint32_t)i;
	r.comm = "cat";
	r.dept = rec_dept(i);
	r.op = rec_op(i);
	r.path = path;
	r.result = rec_result(i);
	r.reason = "test";
	return audit_append(pool, &r);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ns as RFC 3339 with nanoseconds, shifted to offset_h hours east of UTC. */
static void rfc3339(int64_t ns, int offset_h, char *buf, size_t len)
{
	time_t sec = (time_t)(ns / 1000000000) + offset_h * 3600;
	struct tm tm;
	char base[32], zone[8] = "Z";

	gmtime_r(&sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (offset_h)
		snprintf(zone, sizeof(zone), "%+03d:00", offset_h);
	snprintf(buf, len, "%s.%09lld%s", base, (long long)(ns % 1000000000), zone);
}

static int suite_init(void)
{
	struct perr e = PERR_INIT;
	char policy[1024];
	uint64_t v;

	if (!mkdtemp(tmp_root) || chmod(tmp_root, 0755))
		return -1;
	snprintf(pool_dir, sizeof(pool_dir), "%s/pool", tmp_root);
	snprintf(policy, sizeof(policy), policy_fmt, (unsigned)getuid());
	/* the log starts at the pool's init record, as poolctl init writes it */
	if (store_create(pool_dir, &e) || store_open(pool_dir, 0, &pool, &e) ||
	    audit_append(pool, &(struct audit_rec){ .comm = "poolctl", .op = "init",
						    .path = "", .reason = "pool created" }) ||
	    /* a policy version comes with its record, or audit verify fails */
	    store_policy_put(pool, policy, strlen(policy), NULL,
			     &(struct audit_rec){ .comm = "poolctl", .op = "policy.apply",
						  .path = "" }, &v)) {
		fprintf(stderr, "test_ctl_audit: %s\n", perr_msg(&e, EIO));
		return -1;
	}
	for (int i = 0; i < NREC; i++) {
		if (i == NSPLIT) {
			usleep(2000);
			batch_split = now_ns();
			usleep(2000);
		}
		if (append_rec(i))
			return -1;
	}
	if (ctl_server_start(pool, &hooks, &server, &e)) {
		fprintf(stderr, "test_ctl_audit: %s\n", perr_msg(&e, EIO));
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

/* ---- running commands ---- */

struct targs {
	int argc;
	char *argv[24];
};

static void targs_vset(struct targs *t, const char *first, va_list ap)
{
	t->argc = 0;
	for (const char *a = first; a && t->argc < 23; a = va_arg(ap, const char *))
		t->argv[t->argc++] = strdup(a);
	t->argv[t->argc] = NULL;
}

static void targs_free(struct targs *t)
{
	for (int i = 0; i < t->argc; i++)
		free(t->argv[i]);
}

static struct ctl_reply reply;

/* Runs argv through the in-process daemon; the exit code, or -100 + errno. */
static int call_v(const char *first, ...)
{
	struct perr e = PERR_INIT;
	struct targs t;
	char *argv[24];
	va_list ap;
	int rc;

	va_start(ap, first);
	targs_vset(&t, first, ap);
	va_end(ap);
	memcpy(argv, t.argv, sizeof(argv));
	ctl_reply_release(&reply);
	ctl_reply_init(&reply);
	rc = ctl_client_call(pool_dir, t.argc, argv, NULL, &reply, &e);
	if (rc)
		fprintf(stderr, "ctl_client_call: %s\n", perr_msg(&e, rc));
	targs_free(&t);
	return rc ? -100 + rc : reply.exit;
}

#define CALL(...) call_v(__VA_ARGS__, (const char *)NULL)

/* Runs argv in ctx (set up by the caller); returns the exit code. */
static int run_v(struct ctl_ctx *ctx, const char *first, ...)
{
	struct targs t;
	char *argv[24];
	va_list ap;
	int code;

	va_start(ap, first);
	targs_vset(&t, first, ap);
	va_end(ap);
	memcpy(argv, t.argv, sizeof(argv));
	code = ctl_run(ctx, t.argc, argv);
	targs_free(&t);
	return code;
}

#define RUN(ctx, ...) run_v((ctx), __VA_ARGS__, (const char *)NULL)

/* Runs argv as the daemon would for a peer of uid/gid, in ctx (re-initialized). */
#define RUN_AS(ctx, uid, gid, ...) \
	(ctl_ctx_release(ctx), ctl_ctx_init_remote((ctx), pool, &hooks, (uid), (gid), 77), \
	 RUN((ctx), __VA_ARGS__))

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* How many test records (i in [from, to)) pass pred. */
static int expect(int from, int to, bool (*pred)(int i))
{
	int n = 0;

	for (int i = from; i < to; i++)
		n += pred(i);
	return n;
}

static bool is_renshe(int i) { return !strcmp(rec_dept(i), "renshe"); }
static bool is_gongan(int i) { return !strcmp(rec_dept(i), "gongan"); }
static bool is_uid1001(int i) { return rec_uid(i) == 1001; }
static bool is_open(int i) { return !strcmp(rec_op(i), "open"); }
static bool under_a(int i) { return i % 5 == 0; }
static bool under_base(int i) { return i % 5 >= 2; }
static bool renshe_uid1001(int i) { return is_renshe(i) && is_uid1001(i); }
static bool is_denied(int i) { return rec_result(i) == -EACCES || rec_result(i) == -EPERM; }
static bool gongan_denied_open(int i) { return is_gongan(i) && is_denied(i) && is_open(i); }

/* The last record of op, as stored JSON (caller decrefs), or NULL. */
static int last_cb(void *arg, const char *json, const struct audit_rec *r)
{
	json_t **o = arg;

	json_decref(*o);
	*o = json_loads(json, 0, NULL);
	return 0;
}

static json_t *last_record(struct store *s, const char *op)
{
	struct audit_filter f = AUDIT_FILTER_INIT;
	json_t *o = NULL;

	f.op = op;
	audit_query(s, &f, last_cb, &o);
	return o;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* ---- tests ---- */

static void test_query_filters(void)
{
	char since[64], east[64];
	json_t *o;

	CU_ASSERT_EQUAL(CALL("audit", "query", "--dept", "renshe"), 0);
	CU_ASSERT_EQUAL(count_lines(reply.out.buf), expect(0, NREC, is_renshe));
	CU_ASSERT_PTR_NOT_NULL(strstr(reply.out.buf, " dept=renshe "));
	CU_ASSERT_PTR_NULL(strstr(reply.out.buf, " dept=gongan "));
	CU_ASSERT_EQUAL(reply.err.len, 0);
	CU_ASSERT_EQUAL(CALL("audit", "query", "--uid", "1001", "--dept", "renshe"), 0);
	CU_ASSERT_EQUAL(count_lines(reply.out.buf), expect(0, NREC, renshe_uid1001));
	CU_ASSERT_EQUAL(CALL("audit", "query", "--uid", "1001"), 0);
	CU_ASSERT_EQUAL(count_lines(reply.out.buf), expect(0, NREC, is_uid1001));
	CU_ASSERT_EQUAL(CALL("audit", "query", "--op", "open"), 0);
	CU_ASSERT_EQUAL(count_lines(reply.out.buf), expect(0, NREC, is_open));
	/* "/a" is /a and below, not /ab */
	CU_ASSERT_EQUAL(CALL("audit", "query", "--path", "/a"), 0);
	CU_ASSERT_EQUAL(count_lines(reply.out.buf), expect(0, NREC, under_a));
	CU_ASSERT_EQUAL(CALL("audit", "query", "--path", "/基础库"), 0);
	CU_ASSERT_EQUAL(count_lines(reply.out.buf), expect(0, NREC, under_base));
	CU_ASSERT_EQUAL(CALL("audit", "query", "--dept", "gongan", "--denied", "--op", "open"), 0);
	CU_ASSERT_EQUAL(count_lines(reply.out.buf), expect(0, NREC, gongan_denied_open));
	CU_ASSERT_PTR_NOT_NULL(strstr(reply.out.buf, "result=denied("));
	CU_ASSERT_EQUAL(CALL("audit", "query", "--dept", "renshe", "--limit", "3"), 0);
	CU_ASSERT_EQUAL(count_lines(reply.out.buf), 3);

	/* no match is still an answer */
	CU_ASSERT_EQUAL(CALL("audit", "query", "--dept", "nobody"), 0);
	CU_ASSERT_EQUAL(reply.out.len, 0);

	/* times: absolute with nanoseconds, an offset, relative */
	rfc3339(batch_split, 0, since, sizeof(since));
	rfc3339(batch_split, 8, east, sizeof(east));
	CU_ASSERT_EQUAL(CALL("audit", "query", "--dept", "renshe", "--since", since), 0);
	CU_ASSERT_EQUAL(count_lines(reply.out.buf), expect(NSPLIT, NREC, is_renshe));
	CU_ASSERT_EQUAL(CALL("audit", "query", "--dept", "renshe", "--since", east), 0);
	CU_ASSERT_EQUAL(count_lines(reply.out.buf), expect(NSPLIT, NREC, is_renshe));
	CU_ASSERT_EQUAL(CALL("audit", "query", "--dept", "renshe", "--until", since), 0);
	CU_ASSERT_EQUAL(count_lines(reply.out.buf), expect(0, NSPLIT, is_renshe));
	CU_ASSERT_EQUAL(CALL("audit", "query", "--dept", "renshe", "--since", "-1h"), 0);
	CU_ASSERT_EQUAL(count_lines(reply.out.buf), expect(0, NREC, is_renshe));
	CU_ASSERT_EQUAL(CALL("audit", "query", "--dept", "renshe", "--until", "-1h"), 0);
	CU_ASSERT_EQUAL(reply.out.len, 0);
	CU_ASSERT_EQUAL(CALL("audit", "query", "--dept", "renshe", "--since", "2000-01-01",
			     "--until", "now"), 0);
	CU_ASSERT_EQUAL(count_lines(reply.out.buf), expect(0, NREC, is_renshe));
	CU_ASSERT_EQUAL(CALL("audit", "query", "--dept", "renshe", "--since", "@4102444800"), 0);
	CU_ASSERT_EQUAL(reply.out.len, 0);

	/* the query itself is recorded, with what it asked, in UTC */
	CU_ASSERT_EQUAL(CALL("audit", "query", "--since", "2026-01-01T08:00:00+08:00",
			     "--until", "2026-01-02", "--op", "nothing"), 0);
	o = last_record(pool, "audit.query");
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_PTR_NOT_NULL(strstr(jstr(o, "reason"), "since=2026-01-01T00:00:00Z "
				      "until=2026-01-02T00:00:00Z op=nothing; 0 records"));
	CU_ASSERT_PTR_NOT_NULL(strstr(jstr(o, "reason"), "control socket"));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "uid")), (json_int_t)getuid());
	json_decref(o);
}


/*
 * Parses every line of buf as JSON: returns how many lines there are,
 * *match how many have key equal to want (want NULL: any valid record).
 */
static int json_lines(const char *buf, const char *key, const char *want, int *match)
{
	const char *p = buf, *nl;
	int n = 0;

	*match = 0;
	for (; *p; p = nl + 1, n++) {
		json_t *o;

		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p) - 1;
		o = json_loadb(p, (size_t)(nl - p), 0, NULL);
		*match += o && strlen(jstr(o, "hash")) == 64 &&
			  (!want || !strcmp(jstr(o, key), want));
		json_decref(o);
	}
	return n;
}

static void test_query_json(void)
{
	int match;

	CU_ASSERT_EQUAL(CALL("audit", "query", "--json", "--dept", "weijian"), 0);
	CU_ASSERT_EQUAL(json_lines(reply.out.buf, "dept", "weijian", &match), NREC / 3);
	CU_ASSERT_EQUAL(match, NREC / 3);
	CU_ASSERT_EQUAL(CALL("audit", "query", "--json", "--dept", "weijian", "--op", "create"), 0);
	CU_ASSERT_EQUAL(json_lines(reply.out.buf, "comm", "cat", &match), match);
	CU_ASSERT_TRUE(match > 0);
}

static void test_query_usage(void)
{
	static const char *const bad[][2] = {
		{ "--since", "yesterday" }, { "--since", "2026-13-01" }, { "--since", "2026-02-30" },
		{ "--until", "2026-01-01T25:00Z" }, { "--since", "-1y" }, { "--since", "-h" },
		{ "--since", "2026-01-01T10:00:00+8" }, { "--since", "9999-01-01" },
		{ "--since", "2026-1-01" }, { "--since", "@x" }, { "--since", "-1hh" },
		{ "--uid", "4294967296" }, { "--uid", "-1" }, { "--limit", "x" },
		{ "--path", "a/b" }, { "--frob", "1" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(CALL("audit", "query", bad[i][0], bad[i][1]), 2);
		CU_ASSERT_EQUAL(count_lines(reply.err.buf), 1);
		CU_ASSERT_EQUAL(strncmp(reply.err.buf, "poolctl: audit query: ", 22), 0);
		CU_ASSERT_EQUAL(reply.out.len, 0);
	}
	CU_ASSERT_EQUAL(CALL("audit", "query", "--since", "2026-02-29"), 2);
	CU_ASSERT_EQUAL(CALL("audit", "query", "--since", "2028-02-29T23:59:60.5z"), 0);
	CU_ASSERT_EQUAL(CALL("audit", "query", "extra"), 2);
	CU_ASSERT_EQUAL(CALL("audit", "query", "--since"), 2);
	CU_ASSERT_EQUAL(CALL("audit", "export", "--format", "xml"), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(reply.err.buf, "expected jsonl or syslog"));
	CU_ASSERT_EQUAL(CALL("audit", "verify", "x"), 2);
	CU_ASSERT_EQUAL(CALL("audit", "pubkey", "--frob"), 2);
	CU_ASSERT_EQUAL(CALL("audit"), 2);
	CU_ASSERT_EQUAL(CALL("audit", "frob"), 2);
	CU_ASSERT_EQUAL(CALL("audit", "query", "--help"), 0);
	CU_ASSERT_EQUAL(strncmp(reply.out.buf, "usage: poolctl", 14), 0);
	CU_ASSERT_EQUAL(CALL("audit", "--help"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(reply.out.buf, "audit verify"));
}

static void test_export(void)
{
	json_t *o;
	int match;

	CU_ASSERT_EQUAL(CALL("audit", "export", "--dept", "gongan"), 0);
	CU_ASSERT_EQUAL(json_lines(reply.out.buf, "dept", "gongan", &match),
			expect(0, NREC, is_gongan));
	CU_ASSERT_EQUAL(match, expect(0, NREC, is_gongan));
	CU_ASSERT_EQUAL(CALL("audit", "export", "--format=jsonl", "--path", "/a", "--limit", "2"), 0);
	CU_ASSERT_EQUAL(json_lines(reply.out.buf, NULL, NULL, &match), 2);
	CU_ASSERT_EQUAL(match, 2);

	CU_ASSERT_EQUAL(CALL("audit", "export", "--format", "syslog", "--dept", "gongan",
			     "--denied", "--op", "open"), 0);
	CU_ASSERT_EQUAL(count_lines(reply.out.buf), expect(0, NREC, gongan_denied_open));
	CU_ASSERT_EQUAL(strncmp(reply.out.buf, "<108>1 ", 7), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(reply.out.buf, "[poolfs@32473 seq=\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(reply.out.buf, " denied\n"));

	o = last_record(pool, "audit.export");
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_PTR_NOT_NULL(strstr(jstr(o, "reason"), "format=syslog dept=gongan op=open denied"));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "bytes")), (json_int_t)reply.out.len);
	json_decref(o);
}

static int count_cb(void *arg, const char *json, const struct audit_rec *r)
{
	(*(int *)arg)++;
	return 0;
}

static int count_records(struct store *s, const char *op)
{
	struct audit_filter f = AUDIT_FILTER_INIT;
	int n = 0;

	f.op = op;
	return audit_query(s, &f, count_cb, &n) < 0 ? -1 : n;
}

static void test_verify_intact(void)
{
	char want[96];
	json_t *doc, *o;
	int n = count_records(pool, NULL);

	CU_ASSERT_EQUAL(CALL("audit", "verify"), 0);
	snprintf(want, sizeof(want), "audit log intact: %d records, last seq %d\n", n, n);
	CU_ASSERT_STRING_EQUAL(reply.out.buf, want);
	o = last_record(pool, "audit.verify");
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "result")), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(jstr(o, "reason"), "intact"));
	json_decref(o);

	CU_ASSERT_EQUAL(CALL("audit", "verify", "--json"), 0);
	doc = json_loads(reply.out.buf, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_TRUE(json_is_true(json_object_get(doc, "intact")));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(doc, "records")), n + 1);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(doc, "last_seq")), n + 1);
	json_decref(doc);
}

static void test_pubkey(void)
{
	char hex[AUDIT_PUBKEY_HEX], want[AUDIT_PUBKEY_HEX + 16];
	const char *algo;
	json_t *doc;
	int before = count_records(pool, "audit.pubkey");

	CU_ASSERT_EQUAL_FATAL(audit_public_key(pool, hex, &algo), 0);
	snprintf(want, sizeof(want), "%s\n", hex);
	CU_ASSERT_EQUAL(CALL("audit", "pubkey"), 0);
	CU_ASSERT_STRING_EQUAL(reply.out.buf, want);
	CU_ASSERT_EQUAL(CALL("audit", "pubkey", "--json"), 0);
	doc = json_loads(reply.out.buf, 0, NULL);
	CU_ASSERT_STRING_EQUAL(jstr(doc, "public_key"), hex);
	CU_ASSERT_STRING_EQUAL(jstr(doc, "algorithm"), "ed25519");
	json_decref(doc);
	CU_ASSERT_EQUAL(count_records(pool, "audit.pubkey"), before + 2);
}

static void test_roles(void)
{
	static const char *const subs[] = { "query", "verify", "export", "pubkey" };
	struct ctl_ctx ctx;
	char want[128];
	json_t *o;
	int denied = count_records(pool, "admin.denied");

	ctl_ctx_init_local(&ctx, NULL);
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		snprintf(want, sizeof(want), "poolctl: permission denied: audit %s needs the "
			 "auditor role\n", subs[i]);
		/* security_admin and system_admin alone may not look */
		CU_ASSERT_EQUAL(RUN_AS(&ctx, 1500, 1500, "audit", subs[i]), 1);
		CU_ASSERT_STRING_EQUAL(ctx.err.buf, want);
		CU_ASSERT_EQUAL(ctx.out.len, 0);
		CU_ASSERT_EQUAL(RUN_AS(&ctx, 1502, 1502, "audit", subs[i]), 1);
		CU_ASSERT_STRING_EQUAL(ctx.err.buf, want);
		CU_ASSERT_EQUAL(RUN_AS(&ctx, 1234, 1234, "audit", subs[i], "--json"), 1);
		/* the auditor, by uid or by gid, and root may */
		CU_ASSERT_EQUAL(RUN_AS(&ctx, 1501, 1501, "audit", subs[i]), 0);
		CU_ASSERT_EQUAL(RUN_AS(&ctx, 1234, 2090, "audit", subs[i]), 0);
		CU_ASSERT_EQUAL(RUN_AS(&ctx, 0, 0, "audit", subs[i]), 0);
		CU_ASSERT_EQUAL(RUN_AS(&ctx, 1234, 1234, "audit", subs[i], "--help"), 0);
	}
	CU_ASSERT_EQUAL(count_records(pool, "admin.denied"), denied + 12);
	o = last_record(pool, "admin.denied");
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "uid")), 1234);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "result")), -EACCES);
	CU_ASSERT_STRING_EQUAL(jstr(o, "reason"), "audit pubkey needs the auditor role");
	json_decref(o);
	o = last_record(pool, "audit.pubkey");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "uid")), 0);
	json_decref(o);
	ctl_ctx_release(&ctx);
}

/* ---- a tampered pool ---- */

/* Makes ctx a fresh request of root against s, as the daemon of s would run it. */
static struct ctl_ctx *root_of(struct ctl_ctx *ctx, struct store *s)
{
	ctl_ctx_release(ctx);
	ctl_ctx_init_remote(ctx, s, NULL, 0, 0, 77);
	return ctx;
}

/* Replaces from by to in record seq, leaving its hash as it was. */
static void edit_record(struct store *s, uint64_t seq, const char *from, const char *to)
{
	struct strbuf v = STRBUF_INIT, n = STRBUF_INIT;
	uint8_t key[8];
	char *at, *err = NULL;

	put_be64(key, seq);
	CU_ASSERT_EQUAL_FATAL(audit_drain(s), 0);
	CU_ASSERT_EQUAL_FATAL(store_get(s, CF_AUDIT, key, sizeof(key), &v), 0);
	at = strstr(v.buf, from);
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	strbuf_add(&n, v.buf, (size_t)(at - v.buf));
	strbuf_addstr(&n, to);
	strbuf_addstr(&n, at + strlen(from));
	rocksdb_put_cf(s->db, s->wopt_sync, s->cf[CF_AUDIT], (const char *)key, sizeof(key),
		       n.buf, n.len, &err);
	CU_ASSERT_PTR_NULL(err);
	rocksdb_free(err);
	strbuf_release(&v);
	strbuf_release(&n);
}

static void delete_record(struct store *s, uint64_t seq)
{
	uint8_t key[8];
	char *err = NULL;

	put_be64(key, seq);
	CU_ASSERT_EQUAL_FATAL(audit_drain(s), 0);
	rocksdb_delete_cf(s->db, s->wopt_sync, s->cf[CF_AUDIT], (const char *)key, sizeof(key),
			  &err);
	CU_ASSERT_PTR_NULL(err);
	rocksdb_free(err);
}

/* A new pool of dir with n plain records (the first its init record), open in *s. */
static void small_pool(const char *name, int n, char *dir, size_t len, struct store **s)
{
	struct perr e = PERR_INIT;
	struct audit_rec r;

	snprintf(dir, len, "%s/%s", tmp_root, name);
	CU_ASSERT_EQUAL_FATAL(store_create(dir, &e), 0);
	CU_ASSERT_EQUAL_FATAL(store_open(dir, 0, s, &e), 0);
	for (int i = 0; i < n; i++) {
		memset(&r, 0, sizeof(r));
		r.uid = 1001;
		r.comm = "cat";
		r.op = i ? "open" : "init";	/* where a pool's log starts */
		r.path = "/x";
		CU_ASSERT_EQUAL_FATAL(audit_append(*s, &r), 0);
	}
}

static void test_verify_tampered(void)
{
	static const char broken17[] = "audit log broken at seq 17: record 17 does not match "
		"its hash (changed)\nrecord 17: {";
	struct ctl_ctx ctx;
	char dir[600];
	struct store *s;
	json_t *doc, *o;

	small_pool("tampered", 30, dir, sizeof(dir), &s);
	ctl_ctx_init_local(&ctx, NULL);
	CU_ASSERT_EQUAL(RUN(root_of(&ctx, s), "audit", "verify"), 0);
	CU_ASSERT_STRING_EQUAL(ctx.out.buf, "audit log intact: 30 records, last seq 30\n");

	edit_record(s, 17, "\"comm\":\"cat\"", "\"comm\":\"dog\"");
	CU_ASSERT_EQUAL(RUN(root_of(&ctx, s), "audit", "verify"), 1);
	CU_ASSERT_EQUAL(strncmp(ctx.out.buf, broken17, strlen(broken17)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(ctx.out.buf, "\"comm\":\"dog\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(ctx.out.buf, "\"seq\":17,"));
	CU_ASSERT_EQUAL(ctx.err.len, 0);
	CU_ASSERT_EQUAL(count_records(s, "audit.verify"), 2);
	o = last_record(s, "audit.verify");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(o, "result")), -EBADMSG);
	CU_ASSERT_PTR_NOT_NULL(strstr(jstr(o, "reason"), "broken at seq 17"));
	json_decref(o);

	/* an earlier, missing record is the first break */
	delete_record(s, 9);
	CU_ASSERT_EQUAL(RUN(root_of(&ctx, s), "audit", "verify", "--json"), 1);
	doc = json_loads(ctx.out.buf, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_TRUE(json_is_false(json_object_get(doc, "intact")));
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(doc, "seq")), 9);
	CU_ASSERT_PTR_NOT_NULL(strstr(jstr(doc, "error"), "broken at seq 9: record 9 is missing"));
	CU_ASSERT_TRUE(json_is_null(json_object_get(doc, "record")));
	json_decref(doc);
	CU_ASSERT_EQUAL(RUN(root_of(&ctx, s), "audit", "verify"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(ctx.out.buf, "\nrecord 9: none stored\n"));
	ctl_ctx_release(&ctx);
	store_close(s);
}

/* ---- init --audit-hash ---- */

static void meta_hash(const char *dir, char *algo, size_t len)
{
	struct strbuf v = STRBUF_INIT;
	struct perr e = PERR_INIT;
	struct store *s;
	int rc;

	snprintf(algo, len, "?");
	CU_ASSERT_EQUAL_FATAL(store_open(dir, 0, &s, &e), 0);
	rc = store_get(s, CF_META, "audit_hash", strlen("audit_hash"), &v);
	if (rc == -ENOENT)
		snprintf(algo, len, "(absent)");
	else if (!rc)
		snprintf(algo, len, "%s", v.buf);
	strbuf_release(&v);
	store_close(s);
}

static void test_init_hash(void)
{
	struct ctl_ctx ctx;
	struct perr e = PERR_INIT;
	struct audit_rec r;
	struct store *s;
	struct stat st;
	char dir[600], algo[32];

	ctl_ctx_init_local(&ctx, NULL);
	snprintf(dir, sizeof(dir), "%s/sm3", tmp_root);
	CU_ASSERT_EQUAL(RUN(&ctx, "init", dir, "--audit-hash", "sm3", "--cipher", "none"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(ctx.out.buf, "(audit hash sm3)"));
	meta_hash(dir, algo, sizeof(algo));
	CU_ASSERT_STRING_EQUAL(algo, "sm3");

	/* an SM3 chain verifies like any other */
	CU_ASSERT_EQUAL_FATAL(store_open(dir, 0, &s, &e), 0);
	memset(&r, 0, sizeof(r));
	r.op = "open";
	for (int i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(audit_append(s, &r), 0);
	CU_ASSERT_EQUAL(RUN(root_of(&ctx, s), "audit", "verify"), 0);
	/* 1 (init: the pool and its keys) + 5 */
	CU_ASSERT_STRING_EQUAL(ctx.out.buf, "audit log intact: 6 records, last seq 6\n");
	ctl_ctx_release(&ctx);
	store_close(s);

	/* without a daemon, poolctl opens the pool itself (root: no policy needed) */
	if (geteuid() == 0) {
		ctl_ctx_init_local(&ctx, dir);
		CU_ASSERT_EQUAL(RUN(&ctx, "audit", "verify"), 0);
		CU_ASSERT_STRING_EQUAL(ctx.out.buf, "audit log intact: 7 records, last seq 7\n");
		ctl_ctx_release(&ctx);
	}

	ctl_ctx_init_local(&ctx, NULL);
	snprintf(dir, sizeof(dir), "%s/sha", tmp_root);
	CU_ASSERT_EQUAL(RUN(&ctx, "init", dir, "--cipher", "none"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(ctx.out.buf, "(audit hash sha256)"));
	meta_hash(dir, algo, sizeof(algo));
	CU_ASSERT_TRUE(!strcmp(algo, "sha256") || !strcmp(algo, "(absent)"));
	ctl_ctx_release(&ctx);
	ctl_ctx_init_local(&ctx, NULL);
	CU_ASSERT_EQUAL(RUN(&ctx, "init", dir, "--audit-hash", "sm3"), 2);

	/* a bad name leaves no pool behind */
	ctl_ctx_release(&ctx);
	ctl_ctx_init_local(&ctx, NULL);
	snprintf(dir, sizeof(dir), "%s/md5", tmp_root);
	CU_ASSERT_EQUAL(RUN(&ctx, "init", dir, "--audit-hash", "md5"), 2);
	CU_ASSERT_STRING_EQUAL(ctx.err.buf, "poolctl: init: --audit-hash \"md5\": expected "
			       "sha256 or sm3\n");
	CU_ASSERT_NOT_EQUAL(stat(dir, &st), 0);
	ctl_ctx_release(&ctx);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "query filters and times", test_query_filters },
		{ "query --json", test_query_json },
		{ "usage errors exit 2", test_query_usage },
		{ "export jsonl and syslog", test_export },
		{ "verify an intact log", test_verify_intact },
		{ "pubkey", test_pubkey },
		{ "auditor role", test_roles },
		{ "verify a tampered log", test_verify_tampered },
		{ "init --audit-hash", test_init_hash },
	};
	int ret;

	ctl_reply_init(&reply);
	ret = unit_tests_run("ctl_audit", suite_init, suite_clean, tests, UNIT_COUNT(tests));
	ctl_reply_release(&reply);
	return ret;
}
