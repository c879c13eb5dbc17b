/*
 * tests/ctl_util.h - the fixture test_ctl.c and test_ctl_proto.c share: a
 * temporary pool with an in-process control server whose hooks record
 * what the "daemon" was handed, the DESIGN.md example policy, and argv
 * helpers that run commands as poolctl (CALL), as ctl_run() for a peer
 * (RUN) and ask where they would run (LOCALLY).
 *
 * Header-only (static inline) because the Makefile links each
 * tests/test_*.c on its own against libpool.a.
 */
#ifndef POOL_TEST_CTL_UTIL_H
#define POOL_TEST_CTL_UTIL_H

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
static int invalidated;			/* change_inode calls */
static uint64_t invalidated_ino;

static inline int test_authorize(void *data, uint32_t uid, uint32_t gid, int32_t pid)
{
	return __atomic_load_n(&deny_all, __ATOMIC_SEQ_CST) ? -EACCES : 0;
}

static inline int test_change(void *data, uint64_t ino, int (*op)(void *arg), void *arg)
{
	__atomic_add_fetch(&invalidated, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&invalidated_ino, ino, __ATOMIC_SEQ_CST);
	return op(arg);
}

/* What the "daemon" was handed by policy apply; atomics, like the above. */
static int set_policy_calls;
static int set_policy_fail;
static struct policy *live_policy;

static inline int test_set_policy(void *data, struct policy *p)
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
	.change_inode = test_change,
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
static inline char *policy_edit(const char *find, const char *replace)
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
static inline int put_version(const char *name, const char *data)
{
	struct store_writer w = { 0, 0, 1, "test", "tester" };
	struct store_stage *st;
	struct store_attr a;
	uint64_t v;
	int rc;

	rc = store_lookup(pool, STORE_ROOT_INO, name, &a);
	if (rc == -ENOENT)
		rc = store_mknode(pool, STORE_ROOT_INO, name, STORE_REG, 0644, 0, 0, NULL, &a, NULL);
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

static inline int suite_init(void)
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
			 &(struct store_attr){ 0 }, NULL))
		return -1;
	if (ctl_server_start(pool, &test_hooks, &server, &e)) {
		fprintf(stderr, "test_ctl: %s\n", perr_msg(&e, EIO));
		return -1;
	}
	return 0;
}

static inline int suite_clean(void)
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

static inline struct targs *targs_vset(struct targs *t, const char *first, va_list ap)
{
	t->argc = 0;
	for (const char *a = first; a && t->argc < 15; a = va_arg(ap, const char *))
		t->argv[t->argc] = t->own[t->argc] = strdup(a), t->argc++;
	t->argv[t->argc] = NULL;
	return t;
}

static inline void targs_free(struct targs *t)
{
	for (int i = 0; i < t->argc; i++)
		free(t->own[i]);
	t->argc = 0;
}

/*
 * Runs argv through the daemon at dir, sending input (NULL: none) as the
 * FILE's content; returns ctl_client_call's result.
 */
static inline int client_v(const char *dir, struct ctl_reply *r, const char *input,
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

static inline int call_exit(int rc, const struct ctl_reply *r)
{
	return rc ? -100 + rc : r->exit;
}

/* ctl_run() of the NULL-terminated arguments first, ap... in ctx. */
static inline int run_va(struct ctl_ctx *ctx, const char *first, va_list ap)
{
	struct targs t;
	int code;

	targs_vset(&t, first, ap);
	code = ctl_run(ctx, t.argc, t.argv);
	targs_free(&t);
	return code;
}

static inline int run_v(struct ctl_ctx *ctx, const char *first, ...)
{
	va_list ap;
	int code;

	va_start(ap, first);
	code = run_va(ctx, first, ap);
	va_end(ap);
	return code;
}

#define RUN(ctx, ...) run_v((ctx), __VA_ARGS__, (const char *)NULL)

static inline bool locally_v(const char *first, ...)
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

#endif
