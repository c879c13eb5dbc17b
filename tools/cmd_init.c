/*
 * tools/cmd_init.c - "poolctl init STORE": create an empty pool.
 *
 * Always runs in poolctl itself: there is no daemon for a pool that does
 * not exist yet, and a daemon running as root must not create directories
 * wherever a request names.
 */
#include "tools/cmd.h"

#include "store/store.h"

static const char init_usage[] =
	"usage: poolctl init STORE\n"
	"\n"
	"Creates a pool in the directory STORE (created if missing, must be\n"
	"empty): the database, its format version and fresh secrets.\n";

int cmd_init(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct cmd_opt opts[] = { CMD_OPT_END };
	struct perr e = PERR_INIT;
	struct strbuf subject = STRBUF_INIT;
	const char *dir;
	int n, rc;

	n = cmd_parse(ctx, init_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n > 1)
		return cmd_error(ctx, CTL_EXIT_USAGE, "init: expected one STORE, got %d", n);
	dir = n == 1 ? argv[0] : ctx->store_dir;
	if (!dir)
		return cmd_error(ctx, CTL_EXIT_USAGE, "init: no STORE given (see poolctl init --help)");

	rc = store_create(dir, &e);
	if (rc) {
		strbuf_addf(&subject, "\"%s\"", dir);
		rc = cmd_fail(ctx, rc, &e, subject.buf);
		goto out;
	}
	strbuf_addf(&ctx->out, "created pool \"%s\"\n", dir);
out:
	strbuf_release(&subject);
	return rc;
}
