/*
 * tools/cmd_explain.c - "poolctl explain": what the policy in force
 * answers a given reader for a path, and why.
 *
 * The reader is described, not impersonated: the answer comes from
 * policy_explain() on the stored policy, the one a mount of this pool
 * runs, so it holds with and without a daemon. Without --gid/--groups
 * the reader's account on this machine supplies them, as a login would.
 */
#include "tools/cmd.h"
#include "common/alloc.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/policy.h"
#include "policy/view.h"
#include "store/audit.h"

#define GID_NONE	UINT32_MAX	/* (gid_t)-1 is never a real group */
#define MAX_GROUPS	65536		/* NGROUPS_MAX */

static const char explain_usage[] =
	"usage: poolctl -s STORE explain --uid U [--gid G] [--groups G1,G2]\n"
	"                [--dept D] [--action A] [--at TIME] [--json] PATH\n"
	"\n"
	"Prints the decision the policy in force makes for that reader on the\n"
	"pool path PATH: allow or deny, department, catalog entry, grant,\n"
	"fields, masks, row filter, view fingerprint and why. Exit 0 when\n"
	"allowed, 1 when denied.\n"
	"\n"
	"  --uid U        the reader's uid (required)\n"
	"  --gid G        primary gid (default: the account's; none without one)\n"
	"  --groups LIST  supplementary gids, comma-separated (default: the account's)\n"
	"  --dept D       as a caller on a department mount (-o dept=D)\n"
	"  --action A     lookup, list, read (default), write, create or delete\n"
	"  --at TIME      2026-11-22, 2026-11-22T10:00:00Z, +08:00 offsets, @SECONDS,\n"
	"                 now or a span back from now: -90s, -15m, -1h, -7d, -2w\n"
	"                 (default: now)\n"
	"  --json         one JSON document instead of the text\n";

static const char *const action_names[] = {
	[POLICY_LOOKUP] = "lookup", [POLICY_LIST] = "list", [POLICY_READ] = "read",
	[POLICY_WRITE] = "write", [POLICY_CREATE] = "create", [POLICY_DELETE] = "delete",
};

static const char *const format_names[] = {
	[VIEW_CSV] = "csv", [VIEW_TSV] = "tsv", [VIEW_JSONL] = "jsonl",
	[VIEW_JSON] = "json", [VIEW_OTHER] = "other",
};

struct reader {
	uint32_t uid, gid;
	uint32_t *groups;		/* malloc'd */
	int ngroups;
	char account[64];		/* "" when the uid has none here */
};

static int parse_action(const char *s, enum policy_action *a)
{
	for (size_t i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++)
		if (!strcmp(s, action_names[i])) {
			*a = (enum policy_action)i;
			return 0;
		}
	return -EINVAL;
}

static int parse_groups(const char *s, struct reader *r)
{
	const char *p = s;
	char *e;
	unsigned long long v;

	r->groups = xcalloc(strlen(s) / 2 + 1, sizeof(*r->groups));
	while (*p) {
		errno = 0;
		v = strtoull(p, &e, 10);
		if (errno || e == p || v >= GID_NONE || (*e && *e != ',') || r->ngroups >= MAX_GROUPS)
			return -EINVAL;
		r->groups[r->ngroups++] = (uint32_t)v;
		p = *e ? e + 1 : e;
		if (*e && !*p)
			return -EINVAL;
	}
	return 0;
}

/* Fills what --gid/--groups left open from the uid's account. */
static void account_defaults(struct reader *r, bool want_gid, bool want_groups)
{
	struct passwd pw, *found = NULL;
	char buf[4096];
	gid_t *g;
	int n = 64;

	if (getpwuid_r((uid_t)r->uid, &pw, buf, sizeof(buf), &found) || !found)
		return;
	snprintf(r->account, sizeof(r->account), "%s", pw.pw_name);
	if (want_gid)
		r->gid = (uint32_t)pw.pw_gid;
	if (!want_groups)
		return;
	g = xcalloc((size_t)n, sizeof(*g));
	if (getgrouplist(pw.pw_name, pw.pw_gid, g, &n) < 0 && n > 64) {
		free(g);
		g = xcalloc((size_t)n, sizeof(*g));
		if (getgrouplist(pw.pw_name, pw.pw_gid, g, &n) < 0)
			n = 0;
	}
	r->groups = xcalloc((size_t)n + 1, sizeof(*r->groups));
	for (int i = 0; i < n; i++)

		if ((uint32_t)g[i] != r->gid)	/* getgrouplist repeats the primary */
			r->groups[r->ngroups++] = (uint32_t)g[i];
	free(g);
}

static const char *errno_name(int err)
{
	switch (err) {
	case -EACCES:
		return "EACCES";
	case -ENOENT:
		return "ENOENT";
	case -EIO:
		return "EIO";
	case -EPERM:
		return "EPERM";
	default:
		return "EINVAL";
	}
}

static json_t *rows_json(const struct row_filter *f)
{
	static const char *const ops[] = {
		[ROW_EQ] = "eq", [ROW_NE] = "ne", [ROW_IN] = "in", [ROW_PREFIX] = "prefix",
		[ROW_ALL] = "all", [ROW_ANY] = "any",
	};
	json_t *arg;

	if (f->op == ROW_ALL || f->op == ROW_ANY) {
		arg = json_array();
		for (size_t i = 0; arg && i < f->nsubs; i++)
			if (json_array_append_new(arg, rows_json(&f->subs[i]))) {
				json_decref(arg);
				arg = NULL;
			}
		return arg ? json_pack("{s:o}", ops[f->op], arg) : NULL;
	}
	if (f->op == ROW_IN) {
		arg = json_array();
		for (size_t i = 0; arg && i < f->nvalues; i++)
			if (json_array_append_new(arg, json_string(f->values[i]))) {
				json_decref(arg);
				arg = NULL;
			}
	} else {
		arg = f->nvalues ? json_string(f->values[0]) : json_null();
	}
	return arg ? json_pack("{s:{s:o}}", f->field, ops[f->op], arg) : NULL;
}

static json_t *view_json(const struct policy_view *v)
{
	const struct view_rules *r;
	json_t *fields = NULL, *masks = json_object();
	char mask[32];

	if (!v)
		return json_null();
	r = policy_view_rules(v);
	if (r->drop_unlisted)
		fields = json_array();
	for (size_t i = 0; masks && i < r->nfields; i++) {
		const struct view_field *f = &r->fields[i];
		int bad = 0;

		if (fields && f->mask.kind != MASK_DROP)
			bad |= json_array_append_new(fields, json_string(f->name));
		if (f->mask.kind != MASK_NONE) {
			mask_spec_format(&f->mask, mask, sizeof(mask));
			bad |= json_object_set_new(masks, f->name, json_string(mask));
		}
		if (bad) {
			json_decref(masks);
			masks = NULL;
		}
	}
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}",
			 "fingerprint", policy_view_fingerprint(v),
			 "format", format_names[r->format],
			 "encoding", r->encoding ? r->encoding : "utf-8",
			 "fields", fields ? fields : json_null(), "masks", masks,
			 "rows", r->rows ? rows_json(r->rows) : json_null(),
			 "hash_key", r->hash_dept ? json_pack("{s:I, s:s}", "version",
				(json_int_t)r->hash_key_version, "department", r->hash_dept) :
				json_null());
}

static json_t *opt_str(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

static int print_json(struct ctl_ctx *ctx, const struct reader *r, const char *path,
		      enum policy_action action, const char *dept, time_t at,
		      const struct policy_decision *d)
{
	json_t *groups = json_array(), *caller;
	char when[32];

	for (int i = 0; groups && i < r->ngroups; i++)
		if (json_array_append_new(groups, json_integer(r->groups[i]))) {
			json_decref(groups);
			groups = NULL;
		}
	caller = json_pack("{s:I, s:o, s:o, s:o, s:o}", "uid", (json_int_t)r->uid,
			   "gid", r->gid == GID_NONE ? json_null() : json_integer(r->gid),
			   "groups", groups, "account", opt_str(r->account),
			   "mount_dept", opt_str(dept));
	cmd_format_time((int64_t)at, when, sizeof(when));
	return cmd_print_json(ctx, json_pack(
		"{s:o, s:s, s:s, s:I, s:o, s:s, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:s}",
		"path", ctl_json_bytes(path, strlen(path)), "action", action_names[action],
		"at", when, "policy_version", (json_int_t)ctx->stored.version, "caller", caller,
		"decision", d->allow ? "allow" : "deny", "allow", d->allow,
		"error", d->allow ? json_null() : json_string(errno_name(d->err)),
		"department", opt_str(d->dept), "user", opt_str(d->user),
		"grant", opt_str(d->grant), "code", opt_str(d->code),
		"view", d->allow ? view_json(d->view) : json_null(), "reason", d->reason));
}

static int audit_explain(struct ctl_ctx *ctx, const char *path, const struct reader *r,
			 const struct policy_decision *d)
{
	struct strbuf why = STRBUF_INIT;
	struct audit_rec rec;
	int rc;

	strbuf_addf(&why, "explain for uid %u (%s): %s%s%s", r->uid, d->dept[0] ? d->dept : "no department",
		    d->allow ? "allow" : "deny", d->grant[0] ? " via grant " : "", d->grant);
	cmd_audit_init(ctx, &rec, "explain", path);
	rec.code = d->code;
	rec.grant = d->grant;
	rec.version = ctx->stored.version;
	rec.reason = why.buf;
	rc = audit_append(ctx->store, &rec);
	strbuf_release(&why);
	return rc;
}

int cmd_explain(struct ctl_ctx *ctx, int argc, char **argv)
{
	uint64_t uid = 0, gid = 0;
	const char *groups = NULL, *dept = NULL, *action_s = "read", *at_s = "now";
	bool json = false;
	struct cmd_opt opts[] = {
		{ "--uid", CMD_OPT_U64, &uid, false },
		{ "--gid", CMD_OPT_U64, &gid, false },
		{ "--groups", CMD_OPT_STRING, &groups, false },
		{ "--dept", CMD_OPT_STRING, &dept, false },
		{ "--action", CMD_OPT_STRING, &action_s, false },
		{ "--at", CMD_OPT_STRING, &at_s, false },
		{ "--json", CMD_OPT_BOOL, &json, false },
		CMD_OPT_END
	};
	struct reader r = { 0, GID_NONE, NULL, 0, "" };
	struct strbuf text = STRBUF_INIT;
	struct policy_caller c;
	struct policy_decision d;
	enum policy_action action;
	const char *path;
	time_t at;
	int64_t at_ns;
	int n, rc;

	n = cmd_parse(ctx, explain_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n != 1)
		return cmd_error(ctx, CTL_EXIT_USAGE, "explain: expected one PATH, got %d", n);
	path = argv[0];
	if (!opts[0].seen)
		return cmd_error(ctx, CTL_EXIT_USAGE, "explain: \"--uid U\" is required");
	if (uid >= UINT32_MAX || (opts[1].seen && gid >= GID_NONE))
		return cmd_error(ctx, CTL_EXIT_USAGE, "explain: --uid and --gid take 0 to %u",
				 UINT32_MAX - 1);
	if (parse_action(action_s, &action))
		return cmd_error(ctx, CTL_EXIT_USAGE, "explain: --action \"%s\": expected lookup, "
				 "list, read, write, create or delete", action_s);
	if (cmd_parse_time(at_s, cmd_now_ns(), &at_ns))
		return cmd_error(ctx, CTL_EXIT_USAGE, "explain: --at \"%s\": expected a date "
				 "(2026-11-22), a UTC time (2026-11-22T10:00:00Z), @SECONDS, "
				 "now or a span back from now (-1h)", at_s);
	/* whole seconds, rounded down: the policy's validity ends are seconds */
	at = (time_t)(at_ns / 1000000000LL - (at_ns < 0 && at_ns % 1000000000LL));
	if (path[0] != '/')
		return cmd_error(ctx, CTL_EXIT_USAGE,
				 "\"%s\": not a pool path (pool paths start with /)", path);
	r.uid = (uint32_t)uid;
	if (opts[1].seen)
		r.gid = (uint32_t)gid;
	if (groups && parse_groups(groups, &r)) {
		rc = cmd_error(ctx, CTL_EXIT_USAGE, "explain: --groups \"%s\": expected gids "
			       "separated by commas", groups);
		goto out;
	}
	account_defaults(&r, !opts[1].seen, !groups);
	rc = cmd_need_policy(ctx);
	if (rc)
		goto out;

	c = (struct policy_caller){ r.uid, r.gid, r.groups, r.ngroups, 0, dept };
	rc = policy_explain(ctx->stored.policy, &c, path, action, at, &d, &text);
	if (rc) {
		rc = cmd_error(ctx, CTL_EXIT_USAGE, "\"%s\": %s", path, d.reason);
		goto out;
	}
	if (audit_explain(ctx, path, &r, &d)) {
		rc = cmd_error(ctx, CTL_EXIT_USAGE, "\"%s\": cannot write the audit record", path);
		goto out;
	}
	if (json) {
		rc = print_json(ctx, &r, path, action, dept, at, &d);
	} else {
		strbuf_add(&ctx->out, text.buf, text.len);
		strbuf_addf(&ctx->out, "policy: version %" PRIu64 "\n", ctx->stored.version);
	}
	if (!rc)
		rc = d.allow ? CTL_EXIT_OK : CTL_EXIT_NO;
out:
	free(r.groups);
	strbuf_release(&text);
	return rc;
}
