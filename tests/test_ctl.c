/*
 * tests/test_ctl.c - poolctl's commands and the control protocol.
 *
 * A control server runs in-process on a temporary pool; the tests talk to
 * it as poolctl does (ctl_client_call) and as a hostile peer would (raw
 * frames), and check after every bad request that it still serves.
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
#include <unistd.h>

#include "common/codec.h"
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

static const struct ctl_hooks test_hooks = {
	.invalidate_inode = test_invalidate,
	.authorize = test_authorize,
};

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

/* Runs argv through the daemon at dir; returns ctl_client_call's result. */
static int client_v(const char *dir, struct ctl_reply *r, const char *first, ...)
{
	struct perr e = PERR_INIT;
	struct targs t;
	va_list ap;
	int rc;

	va_start(ap, first);
	targs_vset(&t, first, ap);
	va_end(ap);
	ctl_reply_release(r);
	ctl_reply_init(r);
	rc = ctl_client_call(dir, t.argc, t.argv, r, &e);
	if (rc && rc != -ENOENT && rc != -ECONNREFUSED)
		fprintf(stderr, "ctl_client_call: %s\n", perr_msg(&e, rc));
	targs_free(&t);
	return rc;
}

/* Runs argv through the test daemon; returns the exit code, or -100 - errno. */
#define CALL(r, ...) call_exit(client_v(pool_dir, (r), __VA_ARGS__, (const char *)NULL), (r))
#define CLIENT(dir, r, ...) client_v((dir), (r), __VA_ARGS__, (const char *)NULL)

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
