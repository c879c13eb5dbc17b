/*
 * tools/cmd_audit.c - "poolctl audit query|verify|export|pubkey|anchor":
 * the auditor's view of the log (操作留痕).
 *
 * Reading the log is recorded like reading data (audit.query,
 * audit.verify, audit.export, audit.pubkey, audit.anchor): who searched for what is
 * as visible as who read what. Each record is written once the answer is
 * built, so it can say what was found, and before any of it reaches the
 * caller: an answer that cannot be recorded is dropped.
 */
#include "tools/cmd.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/codec.h"
#include "common/esc.h"
#include "store/audit.h"

#define NS_PER_SEC	1000000000LL

/*
 * The daemon answers with one frame of at most CTL_MAX_REPLY bytes, and
 * JSON-escaping the text can double it (hex for bytes that are not
 * UTF-8): stop well before that rather than build a reply nobody gets.
 */
#define AUDIT_MAX_REMOTE_OUT	(CTL_MAX_REPLY / 4)

#define FILTER_USAGE \
	"  --since T     records at or after T\n" \
	"  --until T     records at or before T\n" \
	"  --dept D      records of department D\n" \
	"  --uid U       records of uid U\n" \
	"  --path P      records of pool path P or anything below it\n" \
	"  --op OP       records of operation OP (lookup, list, open, release,\n" \
	"                create, write, unlink, rename, admin.denied, policy.apply,\n" \
	"                audit.query, ...)\n" \
	"  --denied      denials only (permission denied)\n" \
	"  --limit N     stop after N records (0: no limit)\n" \
	"\n" \
	"T is 2026-11-22 (00:00 UTC), 2026-11-22T10:00:00Z, an RFC 3339 time\n" \
	"with an offset (2026-11-22T18:00:00+08:00), @SECONDS, now, or a span\n" \
	"back from now: -90s, -15m, -1h, -7d, -2w.\n"

static const char query_usage[] =
	"usage: poolctl -s STORE audit query [--since T] [--until T] [--dept D]\n"
	"                [--uid U] [--path P] [--op OP] [--denied] [--limit N] [--json]\n"
	"\n"
	"Prints the audit records that match every filter given, oldest first,\n"
	"one line each: time (UTC), #seq, uid, gid, pid, process, department,\n"
	"operation, path, result and the rest of the record. Exits 0 also when\n"
	"nothing matches. A record with count=N stands for N repeats of one\n"
	"operation (metadata reads and denials are coalesced per second).\n"
	"\n"
	FILTER_USAGE
	"  --json        the records as stored, one JSON object per line\n";

static const char export_usage[] =
	"usage: poolctl -s STORE audit export [--format jsonl|syslog] [--since T]\n"
	"                [--until T] [--dept D] [--uid U] [--path P] [--op OP]\n"
	"                [--denied] [--limit N]\n"
	"\n"
	"Writes the matching records to standard output for another system:\n"
	"jsonl (the default) is each record as stored, its chain hash included;\n"
	"syslog is one RFC 5424 line each (facility log audit). Through a live\n"
	"daemon the export travels in one reply of at most 256 MiB: narrow a\n"
	"larger one with --since/--until, or run it with the daemon stopped.\n"
	"\n"
	FILTER_USAGE;

static const char verify_usage[] =
	"usage: poolctl -s STORE audit verify [--anchor FILE] [--json]\n"
	"\n"
	"Checks the whole chain: it starts at the pool's init record, every\n"
	"record's hash and link, sequence numbers, times, and the signed\n"
	"checkpoints and head. Exits 0 and prints \"audit log intact: N records,\n"
	"last seq S\" when it holds; exits 1 and prints the first record that\n"
	"cannot be trusted, and why, when not.\n"
	"\n"
	"  --anchor FILE  also require the log to reach the head that \"audit\n"
	"                 anchor\" printed into FILE (- for standard input): the\n"
	"                 anchored record still there with the same chain hash\n"
	"                 and time. Fails, one line naming the first problem,\n"
	"                 when the log was wiped, cut short, rolled back or\n"
	"                 rebuilt, or the anchor is not this pool's\n"
	"  --json         {\"intact\", \"records\", \"last_seq\"} or\n"
	"                 {\"intact\": false, \"seq\", \"error\", \"record\"}\n";

static const char anchor_usage[] =
	"usage: poolctl -s STORE audit anchor [--json]\n"
	"\n"
	"Verifies the whole log and prints its head, one line: sequence number,\n"
	"time and chain hash of the last record, and an HMAC under the pool's\n"
	"audit key. Keep it outside the store (paper, another machine, a ticket):\n"
	"\"audit verify --anchor FILE\" later fails if the log no longer reaches\n"
	"that record unchanged. The chain hash needs no key, so the comparison\n"
	"holds even against someone who holds the store and its keys; the HMAC\n"
	"only shows which pool made the anchor. Exits 1 without an anchor when\n"
	"the log is not intact.\n"
	"\n"
	"  --json    {\"seq\", \"time\", \"algo\", \"hash\", \"mac\", \"anchor\": the line}\n";

static const char pubkey_usage[] =
	"usage: poolctl -s STORE audit pubkey [--json]\n"
	"\n"
	"Prints the Ed25519 public key (64 hex digits; SM2: 130) that checks the log's\n"
	"signed checkpoints. Keep a copy outside the pool: with it, a copy of\n"
	"the log can be checked without trusting the pool's own keys.\n"
	"\n"
	"  --json    {\"algorithm\": \"ed25519\", \"public_key\": \"...\"}\n";

/* ---- times ---- */

static void add_time(struct strbuf *sb, int64_t ns)
{
	char when[32];

	cmd_format_time(ns / NS_PER_SEC - (ns < 0 && ns % NS_PER_SEC), when, sizeof(when));
	strbuf_addstr(sb, when);
}

/* ---- query and export ---- */

struct filter_args {
	const char *since, *until, *dept, *path, *op;
	uint64_t uid, limit;
	bool denied, json;
	const char *format;		/* export's --format */
};

enum { O_SINCE, O_UNTIL, O_DEPT, O_UID, O_PATH, O_OP, O_DENIED, O_LIMIT, O_OUT, O_END, NR_OPTS };

static void filter_opts(struct filter_args *a, struct cmd_opt *o, bool export)
{
	o[O_SINCE] = (struct cmd_opt){ "--since", CMD_OPT_STRING, &a->since, false };
	o[O_UNTIL] = (struct cmd_opt){ "--until", CMD_OPT_STRING, &a->until, false };
	o[O_DEPT] = (struct cmd_opt){ "--dept", CMD_OPT_STRING, &a->dept, false };
	o[O_UID] = (struct cmd_opt){ "--uid", CMD_OPT_U64, &a->uid, false };
	o[O_PATH] = (struct cmd_opt){ "--path", CMD_OPT_STRING, &a->path, false };
	o[O_OP] = (struct cmd_opt){ "--op", CMD_OPT_STRING, &a->op, false };
	o[O_DENIED] = (struct cmd_opt){ "--denied", CMD_OPT_BOOL, &a->denied, false };
	o[O_LIMIT] = (struct cmd_opt){ "--limit", CMD_OPT_U64, &a->limit, false };
	o[O_OUT] = export ? (struct cmd_opt){ "--format", CMD_OPT_STRING, &a->format, false }
			  : (struct cmd_opt){ "--json", CMD_OPT_BOOL, &a->json, false };
	o[O_END] = (struct cmd_opt)CMD_OPT_END;
}

static int bad_time(struct ctl_ctx *ctx, const char *opt, const char *value)
{
	return cmd_error(ctx, CTL_EXIT_USAGE, "%s: %s \"%s\": expected a date (2026-11-22), "
			 "a time (2026-11-22T10:00:00Z, +08:00 offsets), @SECONDS, now or a "
			 "span such as -1h", ctx->cmd, opt, value);
}

/* Turns the parsed options into f; 0 or an exit code with the message. */
static int filter_build(struct ctl_ctx *ctx, const struct filter_args *a,
			const struct cmd_opt *o, struct audit_filter *f)
{
	int64_t now = cmd_now_ns();

	*f = (struct audit_filter)AUDIT_FILTER_INIT;
	if (a->since && cmd_parse_time(a->since, now, &f->since_ns))
		return bad_time(ctx, "--since", a->since);
	if (a->until && cmd_parse_time(a->until, now, &f->until_ns))
		return bad_time(ctx, "--until", a->until);
	/* 0 means "to the end" to audit_query(); the epoch itself means none */
	if (a->until && !f->until_ns)
		f->until_ns = -1;
	if (o[O_UID].seen && a->uid > UINT32_MAX)
		return cmd_error(ctx, CTL_EXIT_USAGE, "%s: --uid takes 0 to %u", ctx->cmd, UINT32_MAX);
	if (o[O_UID].seen)
		f->uid = (int64_t)a->uid;
	if (a->path && a->path[0] != '/')
		return cmd_error(ctx, CTL_EXIT_USAGE, "%s: --path \"%s\": not a pool path "
				 "(pool paths start with /)", ctx->cmd, a->path);
	if (a->format && strcmp(a->format, "jsonl") && strcmp(a->format, "syslog"))
		return cmd_error(ctx, CTL_EXIT_USAGE, "%s: --format \"%s\": expected jsonl or syslog",
				 ctx->cmd, a->format);
	f->dept = a->dept;
	f->path = a->path;
	f->op = a->op;
	f->denied = a->denied;
	f->limit = a->limit;
	return 0;
}

/* What the query asked, for its own audit record. */
static void filter_describe(const struct audit_filter *f, const char *format,
			    struct strbuf *sb)
{
	size_t start = sb->len;

	if (format)
		strbuf_addf(sb, " format=%s", format);
	if (f->since_ns) {
		strbuf_addstr(sb, " since=");
		add_time(sb, f->since_ns);
	}
	if (f->until_ns) {
		strbuf_addstr(sb, " until=");
		add_time(sb, f->until_ns);
	}
	if (f->dept)
		strbuf_addf(sb, " dept=%s", f->dept);
	if (f->uid >= 0)
		strbuf_addf(sb, " uid=%" PRId64, f->uid);
	if (f->path)
		strbuf_addf(sb, " path=%s", f->path);
	if (f->op)
		strbuf_addf(sb, " op=%s", f->op);
	if (f->denied)
		strbuf_addstr(sb, " denied");
	if (f->limit)
		strbuf_addf(sb, " limit=%" PRIu64, f->limit);
	if (sb->len == start)
		strbuf_addstr(sb, " all records");
}

struct query_walk {
	struct ctl_ctx *ctx;
	const char *format;
	int err;			/* audit_format()'s, stops the walk */
	bool too_big;
};

static int add_record(void *arg, const char *json, const struct audit_rec *r)
{
	struct query_walk *w = arg;

	w->err = audit_format(w->format, json, r, &w->ctx->out);
	if (w->err)
		return 1;
	if (w->ctx->remote && w->ctx->out.len > AUDIT_MAX_REMOTE_OUT) {
		w->too_big = true;
		return 1;
	}
	return 0;
}

/*
 * Appends the audit record of an audit command; on failure drops the
 * answer (an unrecorded look at the log must not reach the caller) and
 * returns the exit code, else returns code.
 */
static int audit_self(struct ctl_ctx *ctx, const char *op, int result, uint64_t bytes,
		      const char *what, int code)
{
	struct strbuf why = STRBUF_INIT;
	struct audit_rec rec;
	int rc;

	cmd_audit_init(ctx, &rec, op, "");
	strbuf_addf(&why, "%s: %s", rec.reason, what);
	rec.result = result;
	rec.bytes = bytes;
	rec.reason = why.buf;
	rc = audit_append(ctx->store, &rec);
	strbuf_release(&why);
	if (!rc)
		return code;
	strbuf_reset(&ctx->out);
	return cmd_error(ctx, CTL_EXIT_USAGE, "%s: cannot write the audit record", ctx->cmd);
}

static int query_failed(struct ctl_ctx *ctx, int err)
{
	char why[128];

	ctl_strerror(err, why, sizeof(why));
	return cmd_error(ctx, CTL_EXIT_USAGE, "%s: cannot read the audit log: %s", ctx->cmd, why);
}

static int run_query(struct ctl_ctx *ctx, int argc, char **argv, bool export)
{
	struct filter_args a = { NULL, NULL, NULL, NULL, NULL, 0, 0, false, false, NULL };
	struct cmd_opt opts[NR_OPTS];
	struct strbuf what = STRBUF_INIT;
	struct audit_filter f;
	struct query_walk w = { ctx, NULL, 0, false };
	int n, rc, code;

	filter_opts(&a, opts, export);
	n = cmd_parse(ctx, export ? export_usage : query_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n)
		return cmd_error(ctx, CTL_EXIT_USAGE, "%s: unexpected argument \"%s\" (see poolctl %s "
				 "--help)", ctx->cmd, argv[0], ctx->cmd);
	code = filter_build(ctx, &a, opts, &f);
	if (code)
		return code;
	code = cmd_need_store(ctx);
	if (code)
		return code;

	w.format = export ? (a.format ? a.format : "jsonl") : a.json ? "jsonl" : "text";
	rc = audit_query(ctx->store, &f, add_record, &w);
	filter_describe(&f, export ? w.format : NULL, &what);
	if (rc >= 0 && !w.err && !w.too_big) {
		strbuf_addf(&what, "; %d record%s", rc, rc == 1 ? "" : "s");
		code = CTL_EXIT_OK;
	} else {
		strbuf_reset(&ctx->out);
		if (w.too_big)
			code = cmd_error(ctx, CTL_EXIT_USAGE, "%s: more than %u MiB, too much for one "
					 "reply of the daemon: narrow it with --since/--until or run "
					 "it with the daemon stopped", ctx->cmd,
					 AUDIT_MAX_REMOTE_OUT >> 20);
		else if (w.err)
			code = cmd_error(ctx, CTL_EXIT_USAGE, "%s: cannot format a record as %s",
					 ctx->cmd, w.format);
		else
			code = query_failed(ctx, rc);
		strbuf_addstr(&what, "; failed");
		rc = w.too_big ? -EFBIG : w.err ? w.err : rc;
	}
	code = audit_self(ctx, export ? "audit.export" : "audit.query", rc < 0 ? rc : 0,
			  ctx->out.len, what.buf + 1, code);
	strbuf_release(&what);
	return code;
}

int cmd_audit_query(struct ctl_ctx *ctx, int argc, char **argv)
{
	return run_query(ctx, argc, argv, false);
}

int cmd_audit_export(struct ctl_ctx *ctx, int argc, char **argv)
{
	return run_query(ctx, argc, argv, true);
}

/* ---- verify ---- */

/* 1 when record seq exists, 0 when not, or a negative errno. */
static int has_record(struct store *s, uint64_t seq)
{
	struct strbuf v = STRBUF_INIT;
	int rc;

	rc = audit_record(s, seq, &v);
	strbuf_release(&v);
	return rc == -ENOENT ? 0 : rc ? rc : 1;
}

/*
 * The last seq of a log whose records are 1..S without gaps: S point
 * reads by doubling then halving, instead of a walk over the log.
 */
static int last_seq(struct store *s, uint64_t *last)
{
	uint64_t lo = 0, hi = 1, mid;	/* record lo exists (or lo is 0), record hi not */
	int rc;

	while ((rc = has_record(s, hi)) == 1) {
		lo = hi;
		if (hi > UINT64_MAX / 2)
			return -EOVERFLOW;
		hi *= 2;
	}
	while (rc >= 0 && hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		rc = has_record(s, mid);
		if (rc == 1)
			lo = mid;
		else if (rc == 0)
			hi = mid;
	}
	*last = lo;
	return rc < 0 ? rc : 0;
}

/* The broken record as JSON when it parses, as its bytes when not, or null. */
static json_t *record_json(const struct strbuf *rec, bool found)
{
	json_t *o;

	if (!found)
		return json_null();
	o = json_loadb(rec->buf, rec->len, 0, NULL);
	return o ? o : ctl_json_bytes(rec->buf, rec->len);
}

static int print_broken(struct ctl_ctx *ctx, uint64_t bad, const struct perr *e, bool json)
{
	struct strbuf rec = STRBUF_INIT;
	bool found;
	int rc;

	found = !audit_record(ctx->store, bad, &rec);
	if (json) {
		rc = cmd_print_json(ctx, json_pack("{s:b, s:I, s:s, s:o}", "intact", 0,
						   "seq", (json_int_t)bad, "error", e->msg,
						   "record", record_json(&rec, found)));
	} else {
		strbuf_addf(&ctx->out, "%s\n", e->msg);
		if (found)
			strbuf_addf(&ctx->out, "record %" PRIu64 ": %s\n", bad, rec.buf);
		else
			strbuf_addf(&ctx->out, "record %" PRIu64 ": none stored\n", bad);
		rc = CTL_EXIT_OK;
	}
	strbuf_release(&rec);
	return rc ? rc : CTL_EXIT_NO;
}

/* The anchor FILE's content, parsed; 0 or an exit code with the message. */
static int load_anchor(struct ctl_ctx *ctx, const char *name, struct audit_anchor *a)
{
	struct perr e = PERR_INIT;
	int code;

	code = cmd_need_input(ctx, name);
	if (code)
		return code;
	if (audit_anchor_parse(ctx->input.buf, ctx->input.len, a, &e))
		return cmd_error(ctx, CTL_EXIT_USAGE, "audit verify: --anchor \"%s\": %s", name,
				 e.msg);
	return 0;
}

/*
 * The backup restores the log holds. A pool put back from a backup has a
 * chain intact from its init record through the restore's own record, so
 * "intact" alone would hide that whatever the source logged after the
 * backup is gone: each restore is named with its reason (the backup, its
 * time, the source and its anchor) for the auditor to hold against the
 * anchors kept outside.
 */
struct restores {
	struct strbuf *out;
	json_t *list;		/* NULL for text */
	uint64_t n, last;
};

static int restore_row(void *arg, const char *json, const struct audit_rec *r)
{
	struct restores *w = arg;
	const char *why = r->reason ? r->reason : "";
	char when[32];

	(void)json;
	w->n++;
	w->last = r->seq;
	if (w->list)
		return json_array_append_new(w->list, json_pack("{s:I, s:I, s:o}",
						"seq", (json_int_t)r->seq, "time_ns", (json_int_t)r->time_ns,
						"reason", ctl_json_bytes(why, strlen(why)))) ? -ENOMEM : 0;
	cmd_format_time(r->time_ns / NS_PER_SEC, when, sizeof(when));
	strbuf_addf(w->out, "rolled back at seq %" PRIu64 " (%s): ", r->seq, when);
	esc_add(w->out, why);
	strbuf_addch(w->out, '\n');
	return 0;
}

static int find_restores(struct ctl_ctx *ctx, struct restores *w)
{
	struct audit_filter f = AUDIT_FILTER_INIT;
	int rc;

	f.op = "backup_restore";
	rc = audit_query(ctx->store, &f, restore_row, w);
	return rc < 0 ? rc : 0;
}

int cmd_audit_verify(struct ctl_ctx *ctx, int argc, char **argv)
{
	bool json = false;
	const char *anchor = NULL;
	struct cmd_opt opts[] = {
		{ "--anchor", CMD_OPT_STRING, &anchor, false },
		{ "--json", CMD_OPT_BOOL, &json, false },
		CMD_OPT_END
	};
	struct perr e = PERR_INIT;
	struct strbuf what = STRBUF_INIT;
	struct strbuf rolled = STRBUF_INIT;
	struct restores back = { &rolled, NULL, 0, 0 };
	struct audit_anchor want;
	uint64_t last = 0, bad = 0;
	char why[128];
	int n, rc, code;

	n = cmd_parse(ctx, verify_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n)
		return cmd_error(ctx, CTL_EXIT_USAGE, "audit verify: unexpected argument \"%s\"",
				 argv[0]);
	if (anchor) {
		code = load_anchor(ctx, anchor, &want);
		if (code)
			return code;
	}
	code = cmd_need_store(ctx);
	if (code)
		return code;

	/*
	 * Counted before verifying: verify reads a later snapshot, so every
	 * record counted is one it checked, while records appended meanwhile
	 * are checked but not claimed.
	 */
	rc = last_seq(ctx->store, &last);
	if (!rc)
		rc = anchor ? audit_verify_anchor(ctx->store, &want, &bad, &e)
			    : audit_verify(ctx->store, &bad, &e);
	if (!rc && json && !(back.list = json_array()))
		rc = -ENOMEM;
	if (!rc)
		rc = find_restores(ctx, &back);
	if (!rc) {
		strbuf_addf(&what, "intact through seq %" PRIu64, last);
		if (anchor)
			strbuf_addf(&what, ", reaching the anchor at seq %" PRIu64, want.seq);
		if (back.n)
			strbuf_addf(&what, "; rolled back to a backup %" PRIu64 " time%s, last at seq %"
				    PRIu64, back.n, back.n == 1 ? "" : "s", back.last);
		if (json)
			code = cmd_print_json(ctx, json_pack("{s:b, s:I, s:I, s:O}", "intact", 1,
							     "records", (json_int_t)last,
							     "last_seq", (json_int_t)last,
							     "restores", back.list));
		else
			strbuf_addf(&ctx->out, "audit log intact: %" PRIu64 " record%s, last seq %"
				    PRIu64 "\n%s", last, last == 1 ? "" : "s", last, rolled.buf);
	} else if (rc == -EBADMSG && anchor && !json) {
		/* against an anchor the answer is one line: the first problem */
		strbuf_addstr(&what, e.msg);
		strbuf_addf(&ctx->out, "%s\n", e.msg);
		code = CTL_EXIT_NO;
	} else if (rc == -EBADMSG) {
		strbuf_addstr(&what, e.msg);
		code = print_broken(ctx, bad, &e, json);
	} else {
		ctl_strerror(rc, why, sizeof(why));
		if (!e.code)
			perr_set(&e, rc, "audit log: cannot read it: %s", why);
		strbuf_addf(&what, "cannot verify: %s", e.msg);
		code = cmd_error(ctx, CTL_EXIT_USAGE, "%s", e.msg);
	}
	code = audit_self(ctx, "audit.verify", rc, 0, what.buf, code);
	json_decref(back.list);
	strbuf_release(&rolled);
	strbuf_release(&what);
	return code;
}

/* ---- anchor ---- */

int cmd_audit_anchor(struct ctl_ctx *ctx, int argc, char **argv)
{
	bool json = false;
	struct cmd_opt opts[] = {
		{ "--json", CMD_OPT_BOOL, &json, false },
		CMD_OPT_END
	};
	struct perr e = PERR_INIT;
	struct strbuf what = STRBUF_INIT, line = STRBUF_INIT;
	struct audit_anchor a;
	uint64_t bad = 0;
	char why[128], hash[65], mac[129], when[32];
	int n, rc, code;

	n = cmd_parse(ctx, anchor_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n)
		return cmd_error(ctx, CTL_EXIT_USAGE, "audit anchor: unexpected argument \"%s\"",
				 argv[0]);
	code = cmd_need_store(ctx);
	if (code)
		return code;

	rc = audit_anchor_take(ctx->store, &a, &bad, &e);
	if (!rc) {
		audit_anchor_format(&a, &line);
		hex_encode(a.hash, sizeof(a.hash), hash);
		hex_encode(a.mac, sizeof(a.mac), mac);
		cmd_format_time(a.time_ns / NS_PER_SEC, when, sizeof(when));
		strbuf_addf(&what, "anchor at seq %" PRIu64 " hash %.16s", a.seq, hash);
		if (json)
			code = cmd_print_json(ctx, json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:s}",
							     "seq", (json_int_t)a.seq, "time", when,
							     "time_ns", (json_int_t)a.time_ns,
							     "algo", a.algo, "hash", hash, "mac", mac,
							     "anchor", line.buf));
		else
			strbuf_addf(&ctx->out, "%s\n", line.buf);
	} else if (rc == -EBADMSG) {
		strbuf_addf(&what, "no anchor: %s", e.msg);
		strbuf_addf(&ctx->out, "%s\n", e.msg);
		code = CTL_EXIT_NO;
	} else {
		ctl_strerror(rc, why, sizeof(why));
		if (!e.code)
			perr_set(&e, rc, "audit log: cannot read it: %s", why);
		strbuf_addf(&what, "cannot anchor: %s", e.msg);
		code = cmd_error(ctx, CTL_EXIT_USAGE, "%s", e.msg);
	}
	code = audit_self(ctx, "audit.anchor", rc, 0, what.buf, code);
	strbuf_release(&what);
	strbuf_release(&line);
	return code;
}

/* ---- pubkey ---- */

int cmd_audit_pubkey(struct ctl_ctx *ctx, int argc, char **argv)
{
	bool json = false;
	struct cmd_opt opts[] = {
		{ "--json", CMD_OPT_BOOL, &json, false },
		CMD_OPT_END
	};
	char hex[AUDIT_PUBKEY_HEX], why[128];
	const char *algo = "ed25519";
	int n, rc, code;

	n = cmd_parse(ctx, pubkey_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n)
		return cmd_error(ctx, CTL_EXIT_USAGE, "audit pubkey: unexpected argument \"%s\"",
				 argv[0]);
	code = cmd_need_store(ctx);
	if (code)
		return code;

	rc = audit_public_key(ctx->store, hex, &algo);
	if (rc) {
		ctl_strerror(rc, why, sizeof(why));
		code = cmd_error(ctx, CTL_EXIT_USAGE, "\"%s/keys/sign.key\": cannot derive the "
				 "public key: %s", ctx->store_dir, why);
	} else if (json) {
		code = cmd_print_json(ctx, json_pack("{s:s, s:s}", "algorithm", algo,
						     "public_key", hex));
	} else {
		strbuf_addf(&ctx->out, "%s\n", hex);
	}
	return audit_self(ctx, "audit.pubkey", rc, 0, rc ? "failed" : !strcmp(algo, "sm2") ?
			  "sm2 public key" : "ed25519 public key", code);
}
