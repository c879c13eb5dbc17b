/*
 * tools/poolctl.c - the admin tool: global options, then one command
 * from the table in tools/commands.c, run by the daemon when one serves
 * the pool and by this process otherwise.
 *
 * A FILE argument (policy apply FILE.json) is read here, as the user who
 * runs poolctl, and travels as bytes: the daemon never opens it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/error.h"
#include "common/esc.h"
#include "common/nocore.h"
#include "common/strbuf.h"
#include "store/crypt.h"
#include "tools/cmd_backup.h"
#include "tools/ctl.h"

struct globals {
	const char *store_dir;
	int cmd_index;			/* argv index of the command name */
	struct strbuf input;		/* the FILE argument's content */
	bool has_input;
};

/*
 * "poolctl: MSG" on one line, as cmd_error() writes the commands' own:
 * a path or name given here that holds a newline or an escape sequence
 * is shown with its control bytes as \xNN, never sent to the terminal.
 */
static void print_error(const char *msg)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "poolctl: ");
	esc_add(&sb, msg);
	strbuf_addch(&sb, '\n');
	fputs(sb.buf, stderr);
	strbuf_release(&sb);
}

static int usage_error(const char *fmt, const char *arg)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, fmt, arg);
	print_error(sb.buf);
	strbuf_release(&sb);
	return CTL_EXIT_USAGE;
}

/* Reads the passphrase in path for the store this process opens. */
static int set_passphrase(const char *path)
{
	struct perr e = PERR_INIT;
	int ret = store_set_passphrase_file(path, &e);

	if (ret)
		print_error(e.msg);
	return ret;
}

/* Returns -1 to go on, else the exit code (after --help, --version, errors). */
static int parse_globals(int argc, char **argv, struct globals *g)
{
	struct strbuf sb = STRBUF_INIT;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-s") || !strcmp(a, "--store")) {
			if (++i >= argc)
				return usage_error("\"%s\" needs a STORE directory", a);
			g->store_dir = argv[i];
		} else if (!strncmp(a, "--store=", 8)) {
			g->store_dir = a + 8;
		} else if (!strncmp(a, "-s", 2)) {
			g->store_dir = a + 2;
		} else if (!strcmp(a, "--key-file")) {
			/* for a store this process opens; a running daemon has its key */
			if (++i >= argc || !argv[i][0])
				return usage_error("\"%s\" needs a FILE", a);
			store_set_key_file(argv[i]);
		} else if (!strncmp(a, "--key-file=", 11) && a[11]) {
			store_set_key_file(a + 11);
		} else if (!strcmp(a, "--passphrase-file") ||
			   (!strncmp(a, "--passphrase-file=", 18) && a[18])) {
			/* read now, as the caller; "-" is standard input */
			const char *f = a[17] == '=' ? a + 18 : (++i < argc ? argv[i] : "");

			if (!f[0])
				return usage_error("\"%s\" needs a FILE", a);
			if (set_passphrase(f))
				return CTL_EXIT_USAGE;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			ctl_usage(&sb);
			fputs(sb.buf, stdout);
			strbuf_release(&sb);
			return CTL_EXIT_OK;
		} else if (!strcmp(a, "--version")) {
			puts("poolctl " POOLCTL_VERSION);
			return CTL_EXIT_OK;
		} else {
			return usage_error("unknown option \"%s\" (see poolctl --help)", a);
		}
	}
	if (i >= argc)
		return usage_error("%s", "no command given (see poolctl --help)");
	if (g->store_dir && !g->store_dir[0])
		return usage_error("%s", "-s: empty STORE directory");
	g->cmd_index = i;
	return -1;
}

static int emit(const struct strbuf *out, const struct strbuf *err, int code)
{
	if (fwrite(err->buf, 1, err->len, stderr) != err->len)
		code = CTL_EXIT_USAGE;
	if (fwrite(out->buf, 1, out->len, stdout) != out->len || fflush(stdout)) {
		fprintf(stderr, "poolctl: standard output: %s\n", strerror(errno));
		code = CTL_EXIT_USAGE;
	}
	return code;
}

static int run_local(const struct globals *g, int argc, char **argv)
{
	struct ctl_ctx ctx;
	int code;

	ctl_ctx_init_local(&ctx, g->store_dir);
	if (g->has_input) {
		strbuf_add(&ctx.input, g->input.buf, g->input.len);
		ctx.has_input = true;
	}
	code = ctl_run(&ctx, argc, argv);
	code = emit(&ctx.out, &ctx.err, code);
	ctl_ctx_release(&ctx);
	return code;
}

/* Returns the exit code, or -1 when no daemon serves the pool. */
static int run_remote(const struct globals *g, int argc, char **argv)
{
	struct ctl_reply r;
	struct perr e = PERR_INIT;
	int rc;

	ctl_reply_init(&r);
	rc = ctl_client_call(g->store_dir, argc, argv, g->has_input ? &g->input : NULL,
			     &r, &e);
	if (rc == -ENOENT || rc == -ECONNREFUSED) {
		rc = -1;
	} else if (rc) {
		print_error(perr_msg(&e, rc));
		rc = CTL_EXIT_USAGE;
	} else {
		if (r.refused) {
			strbuf_reset(&r.err);
			ctl_refusal_message(argc, argv, &r.err);
		}
		rc = emit(&r.out, &r.err, r.exit);
	}
	ctl_reply_release(&r);
	return rc;
}

int main(int argc, char **argv)
{
	struct globals g = { NULL, 0, STRBUF_INIT, false };
	struct perr e = PERR_INIT;
	struct backup_progress *progress = NULL;
	char **cmd_argv;
	int cmd_argc, code;

	/* it opens stores with their keys when no daemon runs */
	if (nocore())
		return CTL_EXIT_USAGE;
	code = parse_globals(argc, argv, &g);
	if (code >= 0)
		return code;
	cmd_argc = argc - g.cmd_index;
	cmd_argv = argv + g.cmd_index;
	if (ctl_read_input(cmd_argc, cmd_argv, &g.input, &g.has_input, &e)) {
		print_error(e.msg);
		code = CTL_EXIT_USAGE;
		goto out;
	}
	progress = backup_progress_start(cmd_argc, cmd_argv, g.store_dir);
	if (g.store_dir && !ctl_runs_locally(cmd_argc, cmd_argv)) {
		code = run_remote(&g, cmd_argc, cmd_argv);
		if (code >= 0)
			goto out;
	}
	code = run_local(&g, cmd_argc, cmd_argv);
out:
	backup_progress_stop(progress);
	strbuf_release(&g.input);
	return code;
}
