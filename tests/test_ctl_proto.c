/*
 * tests/test_ctl_proto.c - the control socket: the role gate on peer
 * credentials (from a forked child that drops to another uid, the
 * kernel's SO_PEERCRED), FILE input sent by poolctl, refusals, malformed
 * and hostile frames after each of which the server must still serve,
 * non-UTF-8 arguments, running locally beside a stale socket, and a
 * STORE path too long for a socket address.
 *
 * Same in-process server and pool as tests/test_ctl.c (tests/ctl_util.h).
 */
#include "tests/ctl_util.h"
#include "tests/unit_main.h"

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
	CU_ASSERT_EQUAL(RUN(&ctx, "init", dir, "--cipher", "none"), 0);
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
	static const struct unit_test tests[] = {
		{ "the role gate on the socket", test_gate },
		{ "FILE read by poolctl", test_read_input },
		{ "refusals", test_refusals },
		{ "malformed requests", test_malformed },
		{ "non-UTF-8 arguments", test_non_utf8 },
		{ "local run and stale socket", test_local },
		{ "long STORE path", test_long_path },
	};

	return unit_tests_run("ctl protocol", suite_init, suite_clean, tests, UNIT_COUNT(tests));
}
