/*
 * tools/commands.c - the one table of poolctl commands and its dispatch.
 *
 * The table lives in the library rather than in poolctl.c because the
 * daemon's control server dispatches through it too: a command behaves
 * the same whether poolctl runs it or a live mount does.
 */
#include "tools/cmd.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

#define CMD_LOCAL	0x1	/* needs no store; never run by the daemon */

struct cmd {
	const char *name;
	int (*fn)(struct ctl_ctx *ctx, int argc, char **argv);
	unsigned flags;
	const char *summary;
};

static const struct cmd commands[] = {
	{ "init",     cmd_init,     CMD_LOCAL, "create a pool directory (RocksDB + keys)" },
	{ "versions", cmd_versions, 0,         "list the versions of a file" },
	{ "restore",  cmd_restore,  0,         "make an old version current again" },
	{ "stats",    cmd_stats,    0,         "files, versions, bytes logical/stored, views" },
	/* policy apply|export|check: with the policy model (policy/policy.c) */
	/* explain: with the decision engine, "why may uid U read PATH" */
	/* audit query|verify|export: with the audit chain (store/audit.c) */
	/* scan: with the format engines, check stored files against the catalog */
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

void ctl_usage(struct strbuf *sb)
{
	strbuf_addstr(sb,
		"usage: poolctl [-s STORE] COMMAND [ARGS]\n"
		"       poolctl init STORE\n"
		"       poolctl --help | --version\n"
		"\n"
		"commands:\n");
	for (size_t i = 0; i < NR_COMMANDS; i++)
		strbuf_addf(sb, "  %-10s %s\n", commands[i].name, commands[i].summary);
	strbuf_addstr(sb,
		"\n"
		"Each command takes --help. Exit codes: 0 ok, 1 the answer is no,\n"
		"2 usage, input or store error.\n");
}

static bool has_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return false;
		if (!strcmp(argv[i], "--help"))
			return true;
	}
	return false;
}

bool ctl_runs_locally(int argc, char **argv)
{
	const struct cmd *c;

	if (argc < 1)
		return true;
	c = find_cmd(argv[0]);
	return !c || (c->flags & CMD_LOCAL) || has_help(argc, argv);
}

int ctl_run(struct ctl_ctx *ctx, int argc, char **argv)
{
	const struct cmd *c;

	if (argc < 1)
		return cmd_error(ctx, CTL_EXIT_USAGE, "no command given (see poolctl --help)");
	c = find_cmd(argv[0]);
	if (!c)
		return cmd_error(ctx, CTL_EXIT_USAGE,
				 "\"%s\": unknown command (see poolctl --help)", argv[0]);
	/* the daemon runs as root: it must never create pools where told */
	if (ctx->remote && (c->flags & CMD_LOCAL))
		return cmd_error(ctx, CTL_EXIT_USAGE,
				 "\"%s\": not available over the control socket", c->name);
	return c->fn(ctx, argc, argv);
}

static void ctx_init_common(struct ctl_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	strbuf_init(&ctx->out, 0);
	strbuf_init(&ctx->err, 0);
}

void ctl_ctx_init_local(struct ctl_ctx *ctx, const char *store_dir)
{
	ctx_init_common(ctx);
	ctx->store_dir = store_dir;
	ctx->uid = (uint32_t)getuid();
	ctx->gid = (uint32_t)getgid();
	ctx->pid = (int32_t)getpid();
	snprintf(ctx->comm, sizeof(ctx->comm), "poolctl");
}

static void read_comm(int32_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(buf, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	else
		snprintf(buf, len, "?");
	fclose(f);
}

void ctl_ctx_init_remote(struct ctl_ctx *ctx, struct store *s,
			 const struct ctl_hooks *hooks,
			 uint32_t uid, uint32_t gid, int32_t pid)
{
	ctx_init_common(ctx);
	ctx->store = s;
	ctx->store_dir = store_dir(s);
	ctx->remote = true;
	ctx->hooks = hooks;
	ctx->uid = uid;
	ctx->gid = gid;
	ctx->pid = pid;
	read_comm(pid, ctx->comm, sizeof(ctx->comm));
}

void ctl_ctx_release(struct ctl_ctx *ctx)
{
	if (ctx->own_store && ctx->store)
		store_close(ctx->store);
	ctx->store = NULL;
	ctx->own_store = false;
	strbuf_release(&ctx->out);
	strbuf_release(&ctx->err);
}
