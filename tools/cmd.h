/*
 * tools/cmd.h - what poolctl's cmd_<name>() functions share: their
 * prototypes, a small option parser and helpers that write messages and
 * JSON in the one format the contract promises.
 *
 * A command returns an exit code (CTL_EXIT_*), never prints: it appends
 * to ctx->out and ctx->err so the same code answers a local poolctl and a
 * request on the control socket. Commands must not keep state between
 * calls and must not use getopt (the server runs them on its own thread).
 */
#ifndef POOL_CMD_H
#define POOL_CMD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "tools/ctl.h"
#include "tools/ctl_proto.h"

struct audit_rec;

int cmd_init(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_versions(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_restore(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_stats(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_policy_apply(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_policy_export(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_policy_check(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_explain(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_scan(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_share(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_audit_query(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_audit_verify(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_audit_export(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_audit_pubkey(struct ctl_ctx *ctx, int argc, char **argv);
int cmd_audit_anchor(struct ctl_ctx *ctx, int argc, char **argv);

#define CMD_LOCAL	0x1	/* needs no store; never run by the daemon */
#define CMD_INPUT	0x2	/* its FILE argument is read by poolctl (ctl_read_input);
				 * such a command takes boolean options only, or one
				 * string option whose value is the FILE (audit
				 * verify --anchor FILE), so its first non-option
				 * argument is the FILE */

struct cmd {
	const char *name;		/* "policy" */
	const char *sub;		/* "apply", or NULL */
	const char *full;		/* "policy apply": messages and usage */
	int (*fn)(struct ctl_ctx *ctx, int argc, char **argv);
	unsigned flags;
	enum ctl_role role;
	const char *summary;
};

/*
 * The command argv names, or NULL. *shift is how many words named it
 * (2 for "policy apply"): the command gets argv + *shift - 1, so its
 * argv[0] is its last word. *group is set when argv[0] names a group
 * ("policy") but argv[1] none of its sub-commands.
 */
const struct cmd *cmd_find(int argc, char **argv, int *shift, bool *group);

/* "the security_admin role", "an admin role (...)": for messages. */
const char *cmd_role_text(enum ctl_role role);

/*
 * 1 when ctx's caller (uid, gid or a supplementary group) holds role
 * under ctx->stored.policy, 0 when not, -ENOMEM.
 */
int cmd_caller_has_role(const struct ctl_ctx *ctx, enum ctl_role role);

/*
 * Checks that the caller may run c; 0 or an exit code with the message
 * in ctx (exit 1, recorded in the audit log as "admin.denied").
 */
int cmd_check_role(struct ctl_ctx *ctx, const struct cmd *c);

/*
 * Brings sp up to the latest policy stored in s: reads it, and parses it
 * unless sp already holds that version. A pool with no policy yields
 * policy NULL, version 0 and rc 0. For the server's cache and for ctx.
 */
void cmd_stored_policy_load(struct store *s, struct ctl_stored_policy *sp);
/* Makes dst a second holder of src's policy (one more reference). */
void cmd_stored_policy_copy(struct ctl_stored_policy *dst, const struct ctl_stored_policy *src);
void cmd_stored_policy_release(struct ctl_stored_policy *sp);

/* Loads ctx->stored once per request (needs ctx->store). */
void cmd_load_policy(struct ctl_ctx *ctx);

/*
 * For commands that decide with the policy (explain): 0 with
 * ctx->stored.policy set, or an exit code with the message written ("no policy
 * applied", or why the stored one is unusable).
 */
int cmd_need_policy(struct ctl_ctx *ctx);

enum cmd_opt_type { CMD_OPT_BOOL, CMD_OPT_STRING, CMD_OPT_U64 };

struct cmd_opt {
	const char *name;		/* "--json" */
	enum cmd_opt_type type;
	void *value;			/* bool *, const char ** or uint64_t * */
	bool seen;			/* set by cmd_parse */
};

#define CMD_OPT_END { NULL, CMD_OPT_BOOL, NULL, false }

#define CMD_HELP	(-1)		/* --help was given; usage is in ctx->out */
#define CMD_BAD		(-2)		/* usage error; the message is in ctx->err */

/*
 * Parses argv[1..argc) against opts (a CMD_OPT_END-terminated array);
 * "--name VALUE" and "--name=VALUE" both work, "--" ends options.
 * Messages name the command as ctx->cmd ("policy apply"), else argv[0].
 * Positional arguments are moved to argv[0..n) and n is returned, or
 * CMD_HELP, or CMD_BAD.
 */
int cmd_parse(struct ctl_ctx *ctx, const char *usage, struct cmd_opt *opts,
	      int argc, char **argv);

/* Turns a cmd_parse() result below zero into the exit code. */
int cmd_parse_exit(int n);

/* Appends "poolctl: <fmt>\n" to ctx->err and returns code. */
int cmd_error(struct ctl_ctx *ctx, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Reports a failed call: e's message when one was set, else
 * "<subject>: <strerror(err)>" in lower case. Returns CTL_EXIT_USAGE.
 */
int cmd_fail(struct ctl_ctx *ctx, int err, const struct perr *e, const char *subject);

/* Opens ctx->store when running locally. Returns 0 or an exit code. */
int cmd_need_store(struct ctl_ctx *ctx);

/*
 * Checks that path is an absolute pool path and resolves it to a live
 * regular file. Returns 0 or an exit code (message written).
 */
int cmd_resolve_file(struct ctl_ctx *ctx, const char *path, uint64_t *ino);

/*
 * The FILE argument's content for a CMD_INPUT command, or an exit code
 * with the message written when poolctl sent none. Never opens name.
 */
int cmd_need_input(struct ctl_ctx *ctx, const char *name);

/*
 * Fills the who-part of an audit record from the caller in ctx, and
 * marks ctx as recording its own command (else ctl_run() records it):
 * a command whose record is then not written clears ctx->audited.
 */
void cmd_audit_init(struct ctl_ctx *ctx, struct audit_rec *r,
		    const char *op, const char *path);

/*
 * Parses a time typed by an admin into nanoseconds since the epoch:
 * 2026-11-22 (00:00 UTC), 2026-11-22T10:00[:00[.5]][Z|+08:00], @SECONDS,
 * now, or a span back from now_ns: -90s, -15m, -1h, -7d, -2w. Returns 0,
 * -EINVAL, or -ERANGE for a time outside the years 1678 to 2261.
 */
int cmd_parse_time(const char *s, int64_t now_ns, int64_t *out);
int64_t cmd_now_ns(void);

/* Formats t as UTC ISO-8601 ("2026-11-22T10:00:00Z") into buf (>= 21). */
void cmd_format_time(int64_t sec, char *buf, size_t len);

/*
 * Appends doc to ctx->out as one indented JSON document and drops the
 * reference. A NULL doc (a failed json_pack) is reported. Returns an
 * exit code.
 */
int cmd_print_json(struct ctl_ctx *ctx, json_t *doc);

#endif
