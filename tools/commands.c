/*
 * tools/commands.c - the one table of poolctl commands and its dispatch.
 *
 * The table lives in the library rather than in poolctl.c because the
 * daemon's control server dispatches through it too: a command behaves
 * the same whether poolctl runs it or a live mount does, and the role it
 * needs is checked in one place, ctl_run(), for both.
 */
#include "tools/cmd.h"
#include "common/alloc.h"
#include "tools/cmd_backup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/audit.h"
#include "store/store.h"
#include "tools/cmd_status.h"
#include "tools/cmd_convert.h"
#include "tools/cmd_crypt.h"

static const struct cmd commands[] = {
	{ "init", NULL, "init", cmd_init, CMD_LOCAL, CTL_ROLE_NONE,
	  "create a pool directory (RocksDB + keys)" },
	{ "policy", "apply", "policy apply", cmd_policy_apply, CMD_INPUT, CTL_ROLE_SECURITY,
	  "validate a policy, show the diff, apply it atomically" },
	{ "policy", "export", "policy export", cmd_policy_export, 0, CTL_ROLE_ADMIN,
	  "print the policy in force (or --version N) as applied" },
	{ "policy", "check", "policy check", cmd_policy_check, CMD_INPUT, CTL_ROLE_ADMIN,
	  "validate a policy file only; errors name the JSON path" },
	{ "explain", NULL, "explain", cmd_explain, 0, CTL_ROLE_ADMIN,
	  "the decision for a reader: allow/deny, grant, fields, masks" },
	{ "versions", NULL, "versions", cmd_versions, 0, CTL_ROLE_ADMIN,
	  "list the versions of a file" },
	{ "restore", NULL, "restore", cmd_restore, 0, CTL_ROLE_SYSTEM,
	  "make an old version current again" },
	{ "stats", NULL, "stats", cmd_stats, 0, CTL_ROLE_ADMIN,
	  "files, versions, bytes logical/stored, views" },
	{ "status", NULL, "status", cmd_status, 0, CTL_ROLE_ADMIN,
	  "mount, policy, audit head, views, last backup, free space" },
	{ "audit", "query", "audit query", cmd_audit_query, 0, CTL_ROLE_AUDITOR,
	  "search the audit log by time, department, uid, path, operation" },
	{ "audit", "verify", "audit verify", cmd_audit_verify, CMD_INPUT, CTL_ROLE_AUDITOR,
	  "check the audit chain; exit 1 naming the first broken record" },
	{ "audit", "anchor", "audit anchor", cmd_audit_anchor, 0, CTL_ROLE_AUDITOR,
	  "print the verified chain head, to keep outside the store" },
	{ "audit", "export", "audit export", cmd_audit_export, 0, CTL_ROLE_AUDITOR,
	  "write audit records as JSON lines or RFC 5424 syslog" },
	{ "audit", "pubkey", "audit pubkey", cmd_audit_pubkey, 0, CTL_ROLE_AUDITOR,
	  "print the public key that checks the audit log's signatures" },
	{ "key", "rotate", "key rotate", cmd_key_rotate, 0, CTL_ROLE_SYSTEM,
	  "make a new data key for new writes (old values keep theirs)" },
	{ "key", "reencrypt", "key reencrypt", cmd_key_reencrypt, CMD_LOCAL, CTL_ROLE_NONE,
	  "offline: re-seal values of older data keys under the current one" },
	{ "encrypt", NULL, "encrypt", cmd_encrypt, CMD_LOCAL, CTL_ROLE_NONE,
	  "offline: convert an unencrypted pool into an encrypted one" },
	{ "scrub", NULL, "scrub", cmd_scrub, 0, CTL_ROLE_SYSTEM,
	  "read back every chunk, view and audit record; report damage" },
	{ "crypto", NULL, "crypto", cmd_crypto, 0, CTL_ROLE_ADMIN,
	  "which algorithms protect the pool, and where its key is" },
	{ "scan", NULL, "scan", cmd_scan, 0, CTL_ROLE_ADMIN,
	  "columns of a file that look like personal data, and their tags" },
	{ "backup", "create", "backup create", cmd_backup_create, 0, CTL_ROLE_SYSTEM,
	  "back the pool up into DEST, online and incremental" },
	{ "backup", "list", "backup list", cmd_backup_list, CMD_LOCAL, CTL_ROLE_NONE,
	  "the backups in DEST: id, time, policy version, audit head, size" },
	{ "backup", "verify", "backup verify", cmd_backup_verify, CMD_LOCAL, CTL_ROLE_NONE,
	  "re-read a backup: checksums, audit chain, every version" },
	{ "backup", "restore", "backup restore", cmd_backup_restore, CMD_LOCAL, CTL_ROLE_NONE,
	  "restore a backup as a new pool (never overwrites)" },
	{ "backup", "prune", "backup prune", cmd_backup_prune, CMD_LOCAL, CTL_ROLE_NONE,
	  "keep only the newest N backups in DEST" },
	{ "share", NULL, "share", cmd_share, 0, CTL_ROLE_SYSTEM,
	  "Samba or NFS-Ganesha configuration that serves the departments" },
};

/* the words of a command kept in its record; a path fits, a flood does not */
#define AUDIT_CMD_WORDS_MAX	512

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

const struct cmd *cmd_find(int argc, char **argv, int *shift, bool *group)
{
	*shift = 1;
	*group = false;
	if (argc < 1)
		return NULL;
	for (size_t i = 0; i < NR_COMMANDS; i++) {
		const struct cmd *c = &commands[i];

		if (strcmp(c->name, argv[0]))
			continue;
		if (!c->sub)
			return c;
		*group = true;
		if (argc >= 2 && !strcmp(c->sub, argv[1])) {
			*shift = 2;
			*group = false;
			return c;
		}
	}
	return NULL;
}

void ctl_usage(struct strbuf *sb)
{
	strbuf_addstr(sb,
		"usage: poolctl [-s STORE] COMMAND [ARGS]\n"
		"       poolctl [--key-file FILE | --passphrase-file FILE] -s STORE COMMAND [ARGS]\n"
		"       poolctl init STORE [--cipher aes-256-gcm|sm4|none]\n"
		"                          [--key-file FILE | --passphrase-file FILE]\n"
		"                          [--audit-hash sha256|sm3] [--sign ed25519|sm2]\n"
		"                          [--packs on|off]\n"
		"       poolctl --help | --version\n"
		"\n"
		"commands:\n");
	for (size_t i = 0; i < NR_COMMANDS; i++)
		strbuf_addf(sb, "  %-14s %s\n", commands[i].full, commands[i].summary);
	strbuf_addstr(sb,
		"\n"
		"Each command takes --help. Exit codes: 0 ok, 1 the answer is no\n"
		"(denied, permission denied), 2 usage, input or store error.\n");
}

static void group_usage(const char *name, struct strbuf *sb)
{
	strbuf_addf(sb, "usage: poolctl -s STORE %s SUB-COMMAND [ARGS]\n\n", name);
	for (size_t i = 0; i < NR_COMMANDS; i++)
		if (commands[i].sub && !strcmp(commands[i].name, name))
			strbuf_addf(sb, "  %-14s %s\n", commands[i].full, commands[i].summary);
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
	bool group;
	int shift;

	c = cmd_find(argc, argv, &shift, &group);
	return !c || (c->flags & CMD_LOCAL) || has_help(argc, argv);
}

void ctl_refusal_message(int argc, char **argv, struct strbuf *out)
{
	const struct cmd *c;
	bool group;
	int shift;

	c = cmd_find(argc, argv, &shift, &group);
	if (c && c->role != CTL_ROLE_NONE)
		strbuf_addf(out, "poolctl: permission denied: %s needs %s\n", c->full,
			    cmd_role_text(c->role));
	else
		strbuf_addf(out, "poolctl: permission denied: the control socket needs %s\n",
			    cmd_role_text(CTL_ROLE_ADMIN));
}

/*
 * The record of a command that wrote none itself (status, stats, crypto,
 * share, scrub, policy check, and every command that failed before its
 * own record): each admin action is in the log, allowed or not, with
 * who, the words given and how it ended. Like the commands' own records
 * it is written before the answer, and an answer the log does not show
 * is withheld.
 */
static int audit_command(struct ctl_ctx *ctx, const struct cmd *c, const char *words,
			 int code)
{
	struct strbuf why = STRBUF_INIT, op = STRBUF_INIT;
	struct audit_rec rec;
	size_t nl;
	int rc;

	/* root's own poolctl that never opened the pool touched nothing */
	if (!ctx->store)
		return code;
	/*
	 * "admin.restore", never "restore": verify and status read meaning
	 * into a command's own ops (a restore's commit, the policy in force)
	 */
	strbuf_addf(&op, "admin.%s", c->full);
	for (size_t i = 0; i < op.len; i++)
		if (op.buf[i] == ' ')
			op.buf[i] = '.';
	cmd_audit_init(ctx, &rec, op.buf, "");
	strbuf_addf(&why, "%s: %s; exit %d", rec.reason, words, code);
	/* its message is one line (cmd_error) */
	if (code && ctx->err.len) {
		nl = strcspn(ctx->err.buf, "\n");
		strbuf_addf(&why, ": %.*s", (int)(nl < 300 ? nl : 300), ctx->err.buf);
	}
	rec.result = code == CTL_EXIT_USAGE ? -EINVAL : 0;
	rec.reason = why.buf;
	rc = audit_append(ctx->store, &rec);
	strbuf_release(&why);
	strbuf_release(&op);
	if (!rc)
		return code;
	strbuf_reset(&ctx->out);
	return cmd_error(ctx, CTL_EXIT_USAGE, "%s: cannot write the audit record", c->full);
}

int ctl_run(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct strbuf words = STRBUF_INIT;
	const struct cmd *c;
	bool group;
	int shift, rc;

	if (argc < 1)
		return cmd_error(ctx, CTL_EXIT_USAGE, "no command given (see poolctl --help)");
	c = cmd_find(argc, argv, &shift, &group);
	if (!c && group && has_help(argc, argv)) {
		group_usage(argv[0], &ctx->out);
		return CTL_EXIT_OK;
	}
	if (!c && group && (argc < 2 || argv[1][0] == '-'))
		return cmd_error(ctx, CTL_EXIT_USAGE, "%s: expected a sub-command (see poolctl %s --help)",
				 argv[0], argv[0]);
	if (!c && group)
		return cmd_error(ctx, CTL_EXIT_USAGE,
				 "%s: unknown sub-command \"%s\" (see poolctl %s --help)",
				 argv[0], argv[1], argv[0]);
	if (!c)
		return cmd_error(ctx, CTL_EXIT_USAGE,
				 "\"%s\": unknown command (see poolctl --help)", argv[0]);
	/* the daemon runs as root: it must never create pools where told */
	if (ctx->remote && (c->flags & CMD_LOCAL))
		return cmd_error(ctx, CTL_EXIT_USAGE,
				 "\"%s\": not available over the control socket", c->full);
	ctx->cmd = c->full;
	/* --help touches no pool, so it needs no role */
	if (has_help(argc - shift + 1, argv + shift - 1))
		return c->fn(ctx, argc - shift + 1, argv + shift - 1);
	rc = cmd_check_role(ctx, c);
	if (rc)
		return rc;
	/* the command permutes argv: its words as given, for the record */
	for (int i = 0; i < argc && words.len < AUDIT_CMD_WORDS_MAX; i++)
		strbuf_addf(&words, "%s%.*s", i ? " " : "",
			    (int)(AUDIT_CMD_WORDS_MAX - words.len), argv[i]);
	ctx->audited = false;
	rc = c->fn(ctx, argc - shift + 1, argv + shift - 1);
	if (!ctx->audited)
		rc = audit_command(ctx, c, words.buf, rc);
	strbuf_release(&words);
	return rc;
}

static void ctx_init_common(struct ctl_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	strbuf_init(&ctx->out, 0);
	strbuf_init(&ctx->err, 0);
	strbuf_init(&ctx->input, 0);
}

static void local_groups(struct ctl_ctx *ctx)
{
	gid_t *g;
	int n;

	n = getgroups(0, NULL);
	if (n <= 0)
		return;
	g = xcalloc((size_t)n, sizeof(*g));
	ctx->groups = xcalloc((size_t)n, sizeof(*ctx->groups));
	n = getgroups(n, g);

	/* no groups known means fewer roles, never more */
	for (int i = 0; i < n; i++)
		ctx->groups[i] = (uint32_t)g[i];
	ctx->ngroups = n > 0 ? n : 0;
	free(g);
}

void ctl_ctx_init_local(struct ctl_ctx *ctx, const char *store_dir)
{
	ctx_init_common(ctx);
	ctx->store_dir = store_dir;
	ctx->uid = (uint32_t)getuid();
	ctx->gid = (uint32_t)getgid();
	ctx->pid = (int32_t)getpid();
	local_groups(ctx);
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
	cmd_stored_policy_release(&ctx->stored);
	if (ctx->own_store && ctx->store)
		store_close(ctx->store);
	ctx->store = NULL;
	ctx->own_store = false;
	free(ctx->groups);
	ctx->groups = NULL;
	ctx->ngroups = 0;
	strbuf_release(&ctx->input);
	ctx->has_input = false;
	strbuf_release(&ctx->out);
	strbuf_release(&ctx->err);
}
