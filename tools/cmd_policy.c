/*
 * tools/cmd_policy.c - "poolctl policy apply|export|check".
 *
 * A policy is stored as the exact bytes the admin applied, one version
 * per apply, with its audit record in the same write batch; export gives
 * those bytes back. The document always comes from ctx->input (poolctl
 * read it): the daemon never opens a file a caller names. The store is
 * written before the live mount switches, so a mount never runs a policy
 * the store does not hold.
 */
#include "tools/cmd.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "policy/policy.h"
#include "store/audit.h"
#include "store/store.h"

static const char apply_usage[] =
	"usage: poolctl -s STORE policy apply [--dry-run] [--json] FILE.json\n"
	"\n"
	"Validates FILE.json (\"-\" reads standard input), prints what changes\n"
	"against the policy in force, one line each (+ added, - removed,\n"
	"~ changed), and stores the document as the next policy version; a\n"
	"live mount switches to it at once. Needs the security_admin role.\n"
	"\n"
	"  --dry-run   print the changes only; apply nothing\n"
	"  --json      print {\"applied\", \"version\", \"previous\", \"changes\", ...}\n";

static const char export_usage[] =
	"usage: poolctl -s STORE policy export [--version N]\n"
	"\n"
	"Prints the policy in force, or version N, byte for byte as it was\n"
	"applied. Exit 2 when no policy was ever applied.\n"
	"\n"
	"  --version N   an earlier policy version (1, 2, ...)\n";

static const char check_usage[] =
	"usage: poolctl [-s STORE] policy check [--json] FILE.json\n"
	"\n"
	"Validates FILE.json (\"-\" reads standard input) without applying it.\n"
	"Prints \"ok\" and what it holds, or exits 2 with one line naming the\n"
	"JSON path of the first error. Warnings (\"warning: PATH: ...\" on standard\n"
	"error) name what is legal but likely not meant: row-filter values a file\n"
	"may spell otherwise, grants whose lapse changes a view. Needs no pool.\n"
	"\n"
	"  --json    print {\"ok\", \"departments\", \"entries\", \"grants\", \"warnings\"}\n";

struct doc_counts {
	size_t depts, entries, grants;
};

/* Parses ctx->input as the policy in name; an exit code or 0 with *out. */
static int parse_input(struct ctl_ctx *ctx, const char *name, struct policy **out)
{
	struct perr e = PERR_INIT;
	int rc;

	rc = cmd_need_input(ctx, name);
	if (rc)
		return rc;
	rc = policy_parse(ctx->input.buf, ctx->input.len, out, &e);
	if (rc)
		return cmd_error(ctx, CTL_EXIT_USAGE, "%s: %s", name, perr_msg(&e, rc));
	return 0;
}

/* The policy's warnings: to standard error, or as a "warnings" array. */
static int add_warnings(struct ctl_ctx *ctx, const struct policy *p, json_t *o)
{
	const char *w = policy_warnings(p), *nl;
	json_t *arr;

	if (!o) {
		strbuf_addstr(&ctx->err, w);
		return 0;
	}
	arr = json_array();
	for (; arr && *w; w = nl + 1) {
		nl = strchr(w, '\n');
		if (!nl)
			break;
		if (json_array_append_new(arr, ctl_json_bytes(w, (size_t)(nl - w)))) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr ? json_object_set_new(o, "warnings", arr) : -1;
}

/* What a parsed policy holds (not the document parsed again: a third of a check). */
static void count_doc(const struct policy *p, struct doc_counts *n)
{
	policy_counts(p, &n->depts, &n->entries, &n->grants);
}

static void counts_text(const struct doc_counts *n, struct strbuf *out)
{
	strbuf_addf(out, "%zu department%s, %zu entr%s, %zu grant%s", n->depts,
		    n->depts == 1 ? "" : "s", n->entries, n->entries == 1 ? "y" : "ies",
		    n->grants, n->grants == 1 ? "" : "s");
}

static int counts_json(json_t *o, const struct doc_counts *n)
{
	return json_object_set_new(o, "departments", json_integer((json_int_t)n->depts)) |
	       json_object_set_new(o, "entries", json_integer((json_int_t)n->entries)) |
	       json_object_set_new(o, "grants", json_integer((json_int_t)n->grants));
}

int cmd_policy_check(struct ctl_ctx *ctx, int argc, char **argv)
{
	bool json = false;
	struct cmd_opt opts[] = {
		{ "--json", CMD_OPT_BOOL, &json, false },
		CMD_OPT_END
	};
	struct policy *p = NULL;
	struct doc_counts n;
	json_t *o;
	int rc;

	rc = cmd_parse(ctx, check_usage, opts, argc, argv);
	if (rc < 0)
		return cmd_parse_exit(rc);
	if (rc != 1)
		return cmd_error(ctx, CTL_EXIT_USAGE, "policy check: expected one FILE.json, got %d",
				 rc);
	rc = parse_input(ctx, argv[0], &p);
	if (rc)
		return rc;
	count_doc(p, &n);
	if (!json) {
		strbuf_addstr(&ctx->out, "ok: ");
		counts_text(&n, &ctx->out);
		strbuf_addch(&ctx->out, '\n');
		add_warnings(ctx, p, NULL);
		policy_put(p);
		return CTL_EXIT_OK;
	}
	o = json_pack("{s:b}", "ok", 1);
	if (o && (counts_json(o, &n) || add_warnings(ctx, p, o))) {
		json_decref(o);
		o = NULL;
	}
	policy_put(p);
	return cmd_print_json(ctx, o);
}

int cmd_policy_export(struct ctl_ctx *ctx, int argc, char **argv)
{
	uint64_t version = 0, got = 0;
	struct cmd_opt opts[] = {
		{ "--version", CMD_OPT_U64, &version, false },
		CMD_OPT_END
	};
	struct strbuf doc = STRBUF_INIT;
	struct audit_rec rec;
	int n, rc;

	n = cmd_parse(ctx, export_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n)
		return cmd_error(ctx, CTL_EXIT_USAGE, "policy export: unexpected argument \"%s\"",
				 argv[0]);
	if (opts[0].seen && !version)
		return cmd_error(ctx, CTL_EXIT_USAGE, "policy export: --version N needs N >= 1");
	rc = cmd_need_store(ctx);
	if (rc)
		return rc;
	rc = store_policy_get(ctx->store, version, &doc, &got);
	if (rc == -ENOENT && version) {
		rc = cmd_error(ctx, CTL_EXIT_USAGE, "no policy version %" PRIu64, version);
		goto out;
	}
	if (rc == -ENOENT) {
		rc = cmd_error(ctx, CTL_EXIT_USAGE, "no policy applied");
		goto out;
	}
	if (rc) {
		rc = cmd_fail(ctx, rc, NULL, "policy export");
		goto out;
	}
	cmd_audit_init(ctx, &rec, "policy.export", "");
	rec.version = got;
	/* the policy names who may read what: reading it is recorded too */
	if (audit_append(ctx->store, &rec)) {
		rc = cmd_error(ctx, CTL_EXIT_USAGE, "policy export: cannot write the audit record");
		goto out;
	}
	strbuf_add(&ctx->out, doc.buf, doc.len);
out:
	strbuf_release(&doc);
	return rc;
}

/* The policy in force, for the diff: *old NULL when none or unusable. */
static int current_policy(struct ctl_ctx *ctx, struct strbuf *doc, uint64_t *version,
			  struct policy **old, struct strbuf *notes)
{
	struct perr e = PERR_INIT;
	int rc;

	*old = NULL;
	*version = 0;
	rc = store_policy_get(ctx->store, 0, doc, version);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return cmd_fail(ctx, rc, NULL, "policy apply: the policy in force");
	rc = policy_parse(doc->buf, doc->len, old, &e);
	if (rc) {
		*old = NULL;
		strbuf_addf(notes, "! policy version %" PRIu64 " in force does not parse (%s); "
			    "changes are shown against an empty policy\n", *version,
			    perr_msg(&e, rc));
	}
	return 0;
}

/* Hands p to the live mount; an exit code, 0 when there is none to tell. */
static int tell_daemon(struct ctl_ctx *ctx, struct policy *p, uint64_t version)
{
	char why[128];
	int rc;

	if (!ctx->hooks || !ctx->hooks->set_policy)
		return 0;
	rc = ctx->hooks->set_policy(ctx->hooks->data, policy_get(p));
	if (!rc)
		return 0;
	ctl_strerror(rc, why, sizeof(why));
	return cmd_error(ctx, CTL_EXIT_USAGE, "policy version %" PRIu64 " is stored but the live "
			 "mount did not switch to it: %s; it takes effect at the next mount",
			 version, why);
}

/*
 * Separation of duties for the applier itself: a security_admin that
 * drops its own role and joins a department in one apply (or joins by a
 * group only the host knows) would grant itself data; the checker sees
 * neither, the caller's credentials show both. Root is outside the
 * roles' claim (it holds the daemon's memory, docs/threat-model.md).
 */
static int applier_joins(struct ctl_ctx *ctx, const char *name, const struct policy *np)
{
	struct policy_caller c = { ctx->uid, ctx->gid, ctx->groups, ctx->ngroups, 0, NULL };
	struct policy_decision d;

	if (ctx->uid == 0)
		return 0;
	if (policy_decide(np, &c, "/", POLICY_LOOKUP, time(NULL), &d) < 0 || !d.dept[0])
		return 0;
	return cmd_error(ctx, CTL_EXIT_USAGE, "%s: the applying uid %u would be a member of "
			 "department \"%.64s\" (separation of duties: an admin never grants "
			 "itself data)", name, ctx->uid, d.dept);
}

struct apply_result {
	bool applied;
	uint64_t previous, version;
	int changes;
};

static int apply_json(struct ctl_ctx *ctx, bool dry_run, const struct apply_result *a,
		      const struct strbuf *diff, const struct doc_counts *n,
		      const struct policy *np)
{
	json_t *o, *lines = json_array();
	const char *end = diff->buf + diff->len, *p, *nl;

	for (p = diff->buf; lines && p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (json_array_append_new(lines, ctl_json_bytes(p, (size_t)(nl - p)))) {
			json_decref(lines);
			lines = NULL;
		}
	}
	o = json_pack("{s:b, s:b, s:I, s:o, s:o}", "applied", a->applied, "dry_run", dry_run,
		      "version", (json_int_t)a->version,
		      "previous", a->previous ? json_integer((json_int_t)a->previous) : json_null(),
		      "changes", lines);
	if (o && (counts_json(o, n) || add_warnings(ctx, np, o))) {
		json_decref(o);
		o = NULL;
	}
	return cmd_print_json(ctx, o);
}

static int mkdir_entry(const char *path, void *arg)
{
	struct ctl_ctx *ctx = arg;
	struct audit_rec rec;
	int rc;

	/* each directory made has its record, as a mkdir through the mount has */
	cmd_audit_init(ctx, &rec, "mkdir", path);
	rec.reason = "a catalog entry of the policy";
	rc = store_mkdirs(ctx->store, path, 0755, 0, 0, &rec);

	if (rc)
		strbuf_addf(&ctx->err, "poolctl: catalog entry \"%s\": cannot create its "
			    "directory: %s\n", path, strerror(-rc));
	return rc;
}

/*
 * Catalog entries are directories from the moment the policy names them,
 * so a provider can publish with a plain cp into a fresh pool.
 */
static int make_entry_dirs(struct ctl_ctx *ctx, const struct policy *p)
{
	int rc = policy_entry_paths(p, mkdir_entry, ctx);

	return rc ? CTL_EXIT_USAGE : 0;
}

/* Stores ctx->input as the next version with its audit record. */
static int store_input(struct ctl_ctx *ctx, const char *name, struct apply_result *a)
{
	struct store_writer w = { ctx->uid, ctx->gid, (uint32_t)ctx->pid, NULL, NULL };
	struct strbuf why = STRBUF_INIT;
	struct audit_rec rec;
	int rc;

	if (a->previous)
		strbuf_addf(&why, "policy version %" PRIu64 " -> %" PRIu64, a->previous,
			    a->previous + 1);
	else
		strbuf_addf(&why, "no policy -> policy version 1");
	strbuf_addf(&why, " (%d change%s) from %s", a->changes, a->changes == 1 ? "" : "s", name);
	cmd_audit_init(ctx, &rec, "policy.apply", "");
	rec.version = a->previous + 1;
	rec.reason = why.buf;
	rc = store_policy_put(ctx->store, ctx->input.buf, ctx->input.len, &w, &rec, &a->version);
	if (rc) {
		/* rec goes in with the version only */
		ctx->audited = false;
		rc = cmd_fail(ctx, rc, NULL, name);
	} else {
		a->applied = true;
	}
	strbuf_release(&why);
	return rc;
}

int cmd_policy_apply(struct ctl_ctx *ctx, int argc, char **argv)
{
	bool json = false, dry_run = false;
	struct cmd_opt opts[] = {
		{ "--json", CMD_OPT_BOOL, &json, false },
		{ "--dry-run", CMD_OPT_BOOL, &dry_run, false },
		CMD_OPT_END
	};
	struct strbuf cur = STRBUF_INIT, diff = STRBUF_INIT, notes = STRBUF_INIT;
	struct policy *np = NULL, *old = NULL;
	struct apply_result a = { false, 0, 0, 0 };
	struct doc_counts n;
	const char *name;
	int rc;

	rc = cmd_parse(ctx, apply_usage, opts, argc, argv);
	if (rc < 0)
		return cmd_parse_exit(rc);
	if (rc != 1)
		return cmd_error(ctx, CTL_EXIT_USAGE, "policy apply: expected one FILE.json, got %d",
				 rc);
	name = argv[0];
	rc = parse_input(ctx, name, &np);
	if (rc)
		return rc;
	rc = applier_joins(ctx, name, np);
	if (!rc)
		rc = cmd_need_store(ctx);
	if (rc)
		goto out;
	rc = current_policy(ctx, &cur, &a.previous, &old, &notes);
	if (rc)
		goto out;
	a.changes = policy_diff(old, np, &diff);
	count_doc(np, &n);
	a.version = a.previous;

	if (!dry_run && a.previous && cur.len == ctx->input.len &&
	    !memcmp(cur.buf, ctx->input.buf, cur.len)) {
		/* nothing to store, but a mount that missed it may catch up */
		rc = make_entry_dirs(ctx, np);
		if (!rc)
			rc = tell_daemon(ctx, np, a.version);
		if (rc)
			goto out;
		if (json)
			rc = apply_json(ctx, dry_run, &a, &diff, &n, np);
		else
			strbuf_addf(&ctx->out, "unchanged: policy version %" PRIu64
				    " is this document\n", a.version);
		goto out;
	}
	if (!dry_run) {
		rc = make_entry_dirs(ctx, np);
		if (!rc)
			rc = store_input(ctx, name, &a);
		if (!rc)
			rc = tell_daemon(ctx, np, a.version);
	}
	if (json) {
		if (!rc)
			rc = apply_json(ctx, dry_run, &a, &diff, &n, np);
		goto out;
	}
	strbuf_add(&ctx->out, notes.buf, notes.len);
	strbuf_add(&ctx->out, diff.buf, diff.len);
	add_warnings(ctx, np, NULL);
	if (dry_run && a.previous)
		strbuf_addf(&ctx->out, "dry run: %d change%s against policy version %" PRIu64
			    "; nothing applied\n", a.changes, a.changes == 1 ? "" : "s", a.previous);
	else if (dry_run)
		strbuf_addf(&ctx->out, "dry run: %d change%s, no policy applied yet; nothing "
			    "applied\n", a.changes, a.changes == 1 ? "" : "s");
	else if (a.applied) {
		strbuf_addf(&ctx->out, "applied policy version %" PRIu64 " (%d change%s): ",
			    a.version, a.changes, a.changes == 1 ? "" : "s");
		counts_text(&n, &ctx->out);
		strbuf_addch(&ctx->out, '\n');
	}
out:
	if (old)
		policy_put(old);
	policy_put(np);
	strbuf_release(&notes);
	strbuf_release(&diff);
	strbuf_release(&cur);
	return rc;
}
