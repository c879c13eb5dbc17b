/*
 * tests/test_status.c - "poolctl status": through the control socket of a
 * daemon without a mount (the fixture's hooks) and of one with a mount
 * (a mount_info hook), the audit head it reports is the log's, the last
 * backup is the newest "backup" record (none before one), views and free
 * space come out in the table and as JSON.
 */
#include "tests/ctl_util.h"
#include "tests/unit_main.h"

#include "store/status.h"

static int fake_mount_info(void *data, struct ctl_mount_info *out)
{
	memset(out, 0, sizeof(*out));
	out->mountpoint = "/srv/poolfs/mnt/gongan";
	out->dept = "gongan";
	out->pid = 4321;
	out->started = 1796400000;
	out->metrics = "/var/lib/node-exporter/poolfs.prom";
	return 0;
}

static const struct ctl_hooks mount_hooks = { .mount_info = fake_mount_info };

/* status --json run as root in the daemon, with hooks; the parsed document */
static json_t *status_json(const struct ctl_hooks *hooks, struct ctl_ctx *ctx)
{
	json_t *doc;

	ctl_ctx_init_remote(ctx, pool, hooks, 0, 0, getpid());
	CU_ASSERT_EQUAL(RUN(ctx, "status", "--json"), 0);
	CU_ASSERT_EQUAL(ctx->err.len, 0);
	doc = json_loads(ctx->out.buf, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL(doc);
	return doc;
}

static int append_backup_record(int result, const char *reason)
{
	struct audit_rec r;

	memset(&r, 0, sizeof(r));
	r.comm = "poolctl";
	r.op = "backup";
	r.path = "/";
	r.result = result;
	r.reason = reason;
	return audit_append(pool, &r);
}

static void test_status_no_mount(void)
{
	struct store_audit_head h;
	struct ctl_reply r;
	struct ctl_ctx ctx;
	json_t *doc, *head;

	/* through the socket, as poolctl: the fixture's hooks know no mount */
	ctl_reply_init(&r);
	CU_ASSERT_EQUAL(CALL(&r, "status"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "mount         none (no poolfs serves this pool)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "policy        none applied\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "last backup   none\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out.buf, "free space    "));
	CU_ASSERT_EQUAL(CALL(&r, "status", "extra"), 2);
	ctl_reply_release(&r);

	doc = status_json(NULL, &ctx);
	if (doc) {
		CU_ASSERT_TRUE(json_is_null(json_object_get(doc, "mount")));
		CU_ASSERT_TRUE(json_is_null(json_object_get(doc, "last_backup")));
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(doc, "policy_version")), 0);
		CU_ASSERT_TRUE(json_integer_value(json_object_get(doc, "total_bytes")) > 0);
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(doc, "view_budget")),
				STORE_VIEW_BUDGET_DEFAULT);
		head = json_object_get(doc, "audit_head");
		CU_ASSERT_EQUAL_FATAL(store_audit_head(pool, &h), 0);
		/* the head it saw, before status's own record (commands.c) */
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(head, "seq")), (json_int_t)h.seq - 1);
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(head, "algo")), "sha256");
		CU_ASSERT_EQUAL(strlen(json_string_value(json_object_get(head, "hash"))), 64);
		json_decref(doc);
	}
	ctl_ctx_release(&ctx);
}

static void test_status_mount_and_backup(void)
{
	struct store_audit_head h;
	struct ctl_ctx ctx;
	json_t *doc, *m, *b;

	CU_ASSERT_EQUAL_FATAL(append_backup_record(0, "backup 1 to /backup, audit head 3"), 0);
	CU_ASSERT_EQUAL_FATAL(append_backup_record(-EIO, "backup to /backup failed: disk full"), 0);
	CU_ASSERT_EQUAL_FATAL(append_backup_record(0, "backup 2 to /backup, audit head 9"), 0);
	doc = status_json(&mount_hooks, &ctx);
	if (doc) {
		m = json_object_get(doc, "mount");
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(m, "mountpoint")),
				       "/srv/poolfs/mnt/gongan");
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(m, "dept")), "gongan");
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(m, "pid")), 4321);
		b = json_object_get(doc, "last_backup");
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(b, "reason")),
				       "backup 2 to /backup, audit head 9");
		CU_ASSERT_TRUE(json_is_true(json_object_get(b, "ok")));
		/* the head moved with the three records */
		CU_ASSERT_EQUAL_FATAL(store_audit_head(pool, &h), 0);
		CU_ASSERT_TRUE(h.seq >= 3);
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_object_get(doc, "audit_head"),
								   "seq")), (json_int_t)h.seq - 1);
		json_decref(doc);
	}
	ctl_ctx_release(&ctx);

	ctl_ctx_init_remote(&ctx, pool, &mount_hooks, 0, 0, getpid());
	CU_ASSERT_EQUAL(RUN(&ctx, "status"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(ctx.out.buf, "mount         /srv/poolfs/mnt/gongan "
				      "(department gongan), pid 4321, since "));
	CU_ASSERT_PTR_NOT_NULL(strstr(ctx.out.buf, "metrics       /var/lib/node-exporter/poolfs.prom\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(ctx.out.buf, " ok: backup 2 to /backup, audit head 9\n"));
	ctl_ctx_release(&ctx);

	/* a failed backup after the good one is the last one */
	CU_ASSERT_EQUAL_FATAL(append_backup_record(-EIO, "backup to /backup failed: disk full"), 0);
	ctl_ctx_init_remote(&ctx, pool, &mount_hooks, 0, 0, getpid());
	CU_ASSERT_EQUAL(RUN(&ctx, "status"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(ctx.out.buf, " failed: backup to /backup failed: disk full\n"));
	ctl_ctx_release(&ctx);

	/* a reason naming a file whoever holds DEST named: one line, no escape sent */
	CU_ASSERT_EQUAL_FATAL(append_backup_record(-EIO, "backup to /b failed: /b/x\n"
						   "\x1b[2Jforged \xc2\x9b" "2J"), 0);
	ctl_ctx_init_remote(&ctx, pool, &mount_hooks, 0, 0, getpid());
	CU_ASSERT_EQUAL(RUN(&ctx, "status"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(ctx.out.buf, " failed: backup to /b failed: /b/x\\x0a"
				      "\\x1b[2Jforged \\xc2\\x9b2J\n"));
	ctl_ctx_release(&ctx);
}

/*
 * The last backup with a long log after it: status walks back from the
 * head to the newest backup record (store/audit_query.c), and names it,
 * not an older one nor one of the records after it.
 */
#define STATUS_FILL 200000

static void test_status_backup_under_many(void)
{
	static struct audit_rec r[1000];
	struct timespec t0, t1;
	struct ctl_ctx ctx;
	size_t done;

	CU_ASSERT_EQUAL_FATAL(append_backup_record(0, "backup 3 to /backup, before many"), 0);
	CU_ASSERT_EQUAL_FATAL(append_backup_record(0, "backup 4 to /backup, newest"), 0);
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].comm = "cat";
		r[i].dept = "gongan";
		r[i].op = i % 3 ? "read" : "backup_check";
		r[i].path = "/backup/data.csv";
		r[i].reason = "backup 5 is not one";
	}
	for (size_t k = 0; k < STATUS_FILL / 1000; k++) {
		CU_ASSERT_EQUAL_FATAL(audit_append_many(pool, r, 1000, &done), 0);
		CU_ASSERT_EQUAL_FATAL(done, 1000);
	}
	ctl_ctx_init_remote(&ctx, pool, NULL, 0, 0, getpid());
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CU_ASSERT_EQUAL(RUN(&ctx, "status"), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CU_ASSERT_PTR_NOT_NULL(strstr(ctx.out.buf, " ok: backup 4 to /backup, newest\n"));
	CU_ASSERT_PTR_NULL(strstr(ctx.out.buf, "backup 5"));
	/* measured for the record, not asserted: the machine's load varies */
	printf("\n  status over %d records after the last backup: %.3f s\n", STATUS_FILL,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	ctl_ctx_release(&ctx);
}

static void test_status_role(void)
{
	struct ctl_ctx ctx;

	/* no policy: only root holds a role */
	ctl_ctx_init_remote(&ctx, pool, NULL, 4242, 4242, getpid());
	CU_ASSERT_EQUAL(RUN(&ctx, "status"), 1);
	CU_ASSERT_EQUAL(ctx.out.len, 0);
	ctl_ctx_release(&ctx);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "status without a mount", test_status_no_mount },
		{ "status of a mount, last backup", test_status_mount_and_backup },
		{ "last backup under 200k later records", test_status_backup_under_many },
		{ "status needs a role", test_status_role },
	};

	return unit_tests_run("status", suite_init, suite_clean, tests, UNIT_COUNT(tests));
}
