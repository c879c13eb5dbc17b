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

/* Fills the who-part of an audit record from the caller in ctx. */
void cmd_audit_init(const struct ctl_ctx *ctx, struct audit_rec *r,
		    const char *op, const char *path);

/* Formats t as UTC ISO-8601 ("2026-11-22T10:00:00Z") into buf (>= 21). */
void cmd_format_time(int64_t sec, char *buf, size_t len);

/*
 * Appends doc to ctx->out as one indented JSON document and drops the
 * reference. A NULL doc (a failed json_pack) is reported. Returns an
 * exit code.
 */
int cmd_print_json(struct ctl_ctx *ctx, json_t *doc);

#endif
