/*
 * tools/cmd_status.c - "poolctl status": is the pool served, and is it
 * well, in one screen for an operator or one JSON document for a monitor.
 *
 * Everything here costs time that does not grow with the data: the mount
 * comes from the daemon that runs the command (none when poolctl opened
 * the store itself, which it can only do when no daemon holds it), the
 * audit head from memory, the views from their use rows. The last backup
 * is the newest "backup" record of the audit log in the last
 * STATUS_BACKUP_DAYS days, found walking back from the head and stopping
 * at the first one, so the lookup reads the records since that backup,
 * not the 30 days; an older backup shows as none, which is what an
 * operator with a daily timer needs to hear. It is read from the
 * authenticated records (audit verify covers them), not kept in a meta
 * row a holder of the disk could rewrite unnoticed.
 */
#include "tools/cmd_status.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/statvfs.h>

#include "common/esc.h"
#include "store/audit.h"
#include "store/status.h"
#include "store/store.h"
#include "tools/cmd.h"

#define STATUS_BACKUP_DAYS	30

static const char status_usage[] =
	"usage: poolctl -s STORE status [--json]\n"
	"\n"
	"Prints the mount that serves the pool (when a poolfs runs on it),\n"
	"the policy version in force, the audit log's head, the cached views\n"
	"against their budget, the last backup recorded in the audit log in\n"
	"the last 30 days, and the free space of the store's filesystem.\n"
	"\n"
	"  --json    one JSON document instead of the table\n";

struct last_backup {
	bool found;
	int64_t time_ns;
	int result;
	char reason[512];
};

static int backup_row(void *arg, const char *json, const struct audit_rec *r)
{
	struct last_backup *b = arg;

	b->found = true;
	b->time_ns = r->time_ns;
	b->result = r->result;
	snprintf(b->reason, sizeof(b->reason), "%s", r->reason ? r->reason : "");
	return 0;
}

static int find_last_backup(struct store *s, struct last_backup *b)
{
	struct audit_filter f = AUDIT_FILTER_INIT;
	int ret;

	memset(b, 0, sizeof(*b));
	f.since_ns = cmd_now_ns() - (int64_t)STATUS_BACKUP_DAYS * 86400 * 1000000000;
	f.op = "backup";
	f.limit = 1;
	ret = audit_query_newest(s, &f, backup_row, b);
	return ret < 0 ? ret : 0;
}

struct status {
	bool mounted;
	struct ctl_mount_info mount;
	uint64_t policy_version;
	const char *policy_problem;	/* the stored policy does not load */
	struct store_audit_head head;
	uint64_t views, view_bytes, view_budget;
	struct last_backup backup;
	uint64_t total, avail;
};

static void hex32(const uint8_t h[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static json_t *time_json(int64_t ns)
{
	char buf[32];

	cmd_format_time(ns / 1000000000, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *status_json(const struct ctl_ctx *ctx, const struct status *st)
{
	json_t *mount = json_null(), *backup = json_null(), *head;
	char hash[65];

	if (st->mounted) {
		char since[32];

		cmd_format_time(st->mount.started, since, sizeof(since));
		mount = json_pack("{s:s, s:o, s:b, s:I, s:s, s:o}",
				  "mountpoint", st->mount.mountpoint,
				  "dept", st->mount.dept ? json_string(st->mount.dept) : json_null(),
				  "allow_all", st->mount.allow_all,
				  "pid", (json_int_t)st->mount.pid,
				  "since", since,
				  "metrics", st->mount.metrics ? json_string(st->mount.metrics)
							      : json_null());
	}
	if (st->backup.found)
		backup = json_pack("{s:o, s:b, s:s}", "time", time_json(st->backup.time_ns),
				   "ok", st->backup.result == 0, "reason", st->backup.reason);
	hex32(st->head.hash, hash);
	head = json_pack("{s:I, s:s, s:s, s:o}", "seq", (json_int_t)st->head.seq,
			 "algo", st->head.algo, "hash", hash,
			 "time", st->head.seq ? time_json(st->head.time_ns) : json_null());
	return json_pack("{s:s, s:o, s:I, s:o, s:o, s:I, s:I, s:I, s:o, s:I, s:I}",
			 "store", ctx->store_dir ? ctx->store_dir : "",
			 "mount", mount,
			 "policy_version", (json_int_t)st->policy_version,
			 "policy_error", st->policy_problem ? json_string(st->policy_problem)
							    : json_null(),
			 "audit_head", head,
			 "views", (json_int_t)st->views,
			 "view_bytes", (json_int_t)st->view_bytes,
			 "view_budget", (json_int_t)st->view_budget,
			 "last_backup", backup,
			 "free_bytes", (json_int_t)st->avail,
			 "total_bytes", (json_int_t)st->total);
}

static void status_table(struct strbuf *out, const struct status *st)
{
	char when[32], hash[65];

	if (st->mounted) {
		cmd_format_time(st->mount.started, when, sizeof(when));
		strbuf_addf(out, "%-13s %s (%s%s%s), pid %" PRId32 ", since %s\n", "mount",
			    st->mount.mountpoint, st->mount.dept ? "department " : "pool mount",
			    st->mount.dept ? st->mount.dept : "",
			    st->mount.allow_all ? ", allow_all" : "", st->mount.pid, when);
		if (st->mount.metrics)
			strbuf_addf(out, "%-13s %s\n", "metrics", st->mount.metrics);
	} else {
		strbuf_addf(out, "%-13s none (no poolfs serves this pool)\n", "mount");
	}
	/* the problem quotes the policy's text, a backup's reason DEST's files: one line */
	if (st->policy_problem) {
		strbuf_addf(out, "%-13s version %" PRIu64 ", does not load: ", "policy",
			    st->policy_version);
		esc_add(out, st->policy_problem);
		strbuf_addch(out, '\n');
	} else if (st->policy_version) {
		strbuf_addf(out, "%-13s version %" PRIu64 "\n", "policy", st->policy_version);
	} else {
		strbuf_addf(out, "%-13s none applied\n", "policy");
	}
	hex32(st->head.hash, hash);
	if (st->head.seq) {
		cmd_format_time(st->head.time_ns / 1000000000, when, sizeof(when));
		strbuf_addf(out, "%-13s #%" PRIu64 " %s:%s at %s\n", "audit head", st->head.seq,
			    st->head.algo, hash, when);
	} else {
		strbuf_addf(out, "%-13s no records\n", "audit head");
	}
	strbuf_addf(out, "%-13s %" PRIu64 " views, %" PRIu64 " of %" PRIu64 " bytes\n",
		    "view cache", st->views, st->view_bytes, st->view_budget);
	if (st->backup.found) {
		cmd_format_time(st->backup.time_ns / 1000000000, when, sizeof(when));
		strbuf_addf(out, "%-13s %s %s: ", "last backup", when,
			    st->backup.result ? "failed" : "ok");
		esc_add(out, st->backup.reason);
		strbuf_addch(out, '\n');
	} else {
		strbuf_addf(out, "%-13s none\n", "last backup");
	}
	strbuf_addf(out, "%-13s %" PRIu64 " of %" PRIu64 " bytes (%.0f%%)\n", "free space",
		    st->avail, st->total,
		    st->total ? 100.0 * (double)st->avail / (double)st->total : 0.0);
}

int cmd_status(struct ctl_ctx *ctx, int argc, char **argv)
{
	bool json = false;
	struct cmd_opt opts[] = {
		{ "--json", CMD_OPT_BOOL, &json, false },
		CMD_OPT_END
	};
	struct status st;
	struct statvfs sv;
	int n, rc;

	n = cmd_parse(ctx, status_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n)
		return cmd_error(ctx, CTL_EXIT_USAGE, "status: unexpected argument \"%s\"", argv[0]);
	rc = cmd_need_store(ctx);
	if (rc)
		return rc;
	memset(&st, 0, sizeof(st));
	if (ctx->hooks && ctx->hooks->mount_info &&
	    ctx->hooks->mount_info(ctx->hooks->data, &st.mount) == 0)
		st.mounted = true;
	cmd_load_policy(ctx);
	st.policy_version = ctx->stored.version;
	if (ctx->stored.rc && ctx->stored.version)
		st.policy_problem = perr_msg(&ctx->stored.err, ctx->stored.rc);
	rc = store_audit_head(ctx->store, &st.head);
	if (rc == 0)
		rc = store_view_usage(ctx->store, &st.views, &st.view_bytes);
	if (rc == 0)
		rc = store_view_budget(ctx->store, &st.view_budget);
	if (rc == 0)
		rc = find_last_backup(ctx->store, &st.backup);
	if (rc < 0)
		return cmd_fail(ctx, rc, NULL, "status");
	if (statvfs(store_dir(ctx->store), &sv) < 0)
		return cmd_fail(ctx, -errno, NULL, store_dir(ctx->store));
	st.total = (uint64_t)sv.f_blocks * sv.f_frsize;
	st.avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (json)
		return cmd_print_json(ctx, status_json(ctx, &st));
	status_table(&ctx->out, &st);
	return CTL_EXIT_OK;
}
