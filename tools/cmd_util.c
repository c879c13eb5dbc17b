/*
 * tools/cmd_util.c - option parsing, messages and output shared by the
 * cmd_<name>() functions.
 *
 * Hand-rolled instead of getopt: getopt keeps global state and the
 * control server runs commands on its own thread inside the daemon.
 */
#include "tools/cmd.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/esc.h"
#include "common/json.h"
#include "store/audit.h"
#include "store/store.h"

static struct cmd_opt *find_opt(struct cmd_opt *opts, const char *arg, size_t len)
{
	for (; opts->name; opts++)
		if (strlen(opts->name) == len && !strncmp(opts->name, arg, len))
			return opts;
	return NULL;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int set_opt(struct ctl_ctx *ctx, const char *cmd, struct cmd_opt *o,
		   const char *value)
{
	switch (o->type) {
	case CMD_OPT_BOOL:
		if (value)
			return cmd_error(ctx, CMD_BAD, "%s: \"%s\" takes no value", cmd, o->name);
		*(bool *)o->value = true;
		break;
	case CMD_OPT_STRING:
		*(const char **)o->value = value;
		break;
	case CMD_OPT_U64:
		if (parse_u64(value, o->value))
			return cmd_error(ctx, CMD_BAD, "%s: %s \"%s\": not a non-negative number",
					 cmd, o->name, value);
		break;
	}
	o->seen = true;
	return 0;
}

int cmd_parse(struct ctl_ctx *ctx, const char *usage, struct cmd_opt *opts,
	      int argc, char **argv)
{
	const char *cmd = ctx->cmd ? ctx->cmd : argv[0];
	bool only_positional = false;
	int n = 0;

	for (int i = 1; i < argc; i++) {
		char *arg = argv[i];
		const char *eq, *value = NULL;
		struct cmd_opt *o;
		size_t len;

		if (only_positional || arg[0] != '-' || !arg[1]) {
			argv[n++] = arg;
			continue;
		}
		if (!strcmp(arg, "--")) {
			only_positional = true;
			continue;
		}
		if (!strcmp(arg, "--help")) {
			strbuf_addstr(&ctx->out, usage);
			return CMD_HELP;
		}
		eq = strchr(arg, '=');
		len = eq ? (size_t)(eq - arg) : strlen(arg);
		o = find_opt(opts, arg, len);
		if (!o)
			return cmd_error(ctx, CMD_BAD, "%s: unknown option \"%.*s\" (see poolctl %s --help)",
					 cmd, (int)len, arg, cmd);
		if (eq)
			value = eq + 1;
		else if (o->type != CMD_OPT_BOOL) {
			if (i + 1 >= argc)
				return cmd_error(ctx, CMD_BAD, "%s: \"%s\" needs a value", cmd, o->name);
			value = argv[++i];
		}
		if (set_opt(ctx, cmd, o, value))
			return CMD_BAD;
	}
	return n;
}

int cmd_parse_exit(int n)
{
	return n == CMD_HELP ? CTL_EXIT_OK : CTL_EXIT_USAGE;
}

int cmd_error(struct ctl_ctx *ctx, int code, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	/*
	 * One line, whatever the caller gave: a path or value that holds a
	 * newline or an escape sequence would otherwise print a second,
	 * forged line (or move the cursor) on the admin's terminal.
	 */
	strbuf_addstr(&ctx->err, "poolctl: ");
	esc_add(&ctx->err, msg.buf);
	strbuf_addch(&ctx->err, '\n');
	strbuf_release(&msg);
	return code;
}

int cmd_fail(struct ctl_ctx *ctx, int err, const struct perr *e, const char *subject)
{
	char why[128];

	if (e && e->code && e->msg[0])
		return cmd_error(ctx, CTL_EXIT_USAGE, "%s", e->msg);
	ctl_strerror(err, why, sizeof(why));
	return cmd_error(ctx, CTL_EXIT_USAGE, "%s: %s", subject, why);
}

static void remove_stale_socket(struct ctl_ctx *ctx)
{
	struct strbuf path = STRBUF_INIT;
	char why[128];

	/* we hold the store's lock, so no daemon is serving this socket */
	strbuf_addf(&path, "%s/%s", ctx->store_dir, CTL_SOCKET_NAME);
	if (unlink(path.buf) && errno != ENOENT) {
		ctl_strerror(-errno, why, sizeof(why));
		cmd_error(ctx, 0, "warning: cannot remove stale \"%s\": %s", path.buf, why);
	}
	strbuf_release(&path);
}

int cmd_need_store(struct ctl_ctx *ctx)
{
	struct perr e = PERR_INIT;
	struct strbuf subject = STRBUF_INIT;
	struct store *s;
	int rc;

	if (ctx->store)
		return 0;
	if (!ctx->store_dir)
		return cmd_error(ctx, CTL_EXIT_USAGE, "no pool given: use poolctl -s STORE ...");
	rc = store_open(ctx->store_dir, 0, &s, &e);
	if (rc) {
		strbuf_addf(&subject, "\"%s\"", ctx->store_dir);
		rc = cmd_fail(ctx, rc, &e, subject.buf);
		strbuf_release(&subject);
		return rc;
	}
	ctx->store = s;
	ctx->own_store = true;
	remove_stale_socket(ctx);
	return 0;
}

static bool has_dotdot(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")); p += 2)
		if (p[-1] == '/' && (p[2] == '/' || !p[2]))
			return true;
	return false;
}

int cmd_resolve_file(struct ctl_ctx *ctx, const char *path, uint64_t *ino)
{
	struct store_attr a;
	struct strbuf subject = STRBUF_INIT;
	int rc;

	if (path[0] != '/')
		return cmd_error(ctx, CTL_EXIT_USAGE,
				 "\"%s\": not a pool path (pool paths start with /)", path);
	if (has_dotdot(path))
		return cmd_error(ctx, CTL_EXIT_USAGE, "\"%s\": \"..\" is not allowed in a pool path",
				 path);
	rc = store_resolve(ctx->store, path, &a);
	if (rc) {
		strbuf_addf(&subject, "\"%s\"", path);
		rc = cmd_fail(ctx, rc, NULL, subject.buf);
		strbuf_release(&subject);
		return rc;
	}
	if (a.type != STORE_REG)
		return cmd_error(ctx, CTL_EXIT_USAGE, "\"%s\": not a regular file", path);
	*ino = a.ino;
	return 0;
}

int cmd_need_input(struct ctl_ctx *ctx, const char *name)
{
	/* the daemon is root: a path from the caller is never opened here */
	if (!ctx->has_input)
		return cmd_error(ctx, CTL_EXIT_USAGE,
				 "%s: no content for \"%s\" in the request (poolctl reads FILE and sends it)",
				 ctx->cmd ? ctx->cmd : "command", name);
	return 0;
}

void cmd_audit_init(struct ctl_ctx *ctx, struct audit_rec *r,
		    const char *op, const char *path)
{
	ctx->audited = true;
	memset(r, 0, sizeof(*r));
	r->uid = ctx->uid;
	r->gid = ctx->gid;
	r->pid = (uint32_t)ctx->pid;
	r->comm = ctx->comm;
	r->op = op;
	r->path = path;
	r->view = "";
	r->reason = ctx->remote ? "poolctl via control socket" : "poolctl";
}

void cmd_format_time(int64_t sec, char *buf, size_t len)
{
	time_t t = (time_t)sec;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "@%lld", (long long)sec);
}

int cmd_print_json(struct ctl_ctx *ctx, json_t *doc)
{
	if (json_pretty(doc, &ctx->out))
		return cmd_error(ctx, CTL_EXIT_USAGE, "cannot format the JSON output: out of memory");
	return CTL_EXIT_OK;
}
