/*
 * tools/cmd_restore.c - "poolctl restore PATH --version N".
 *
 * Restoring never rewrites history: version N's content is committed as
 * a new version, so the restore itself can be undone the same way and the
 * audit log shows who went back to what.
 */
#include "tools/cmd.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <time.h>

#include "common/log.h"
#include "store/audit.h"
#include "store/store.h"

static const char restore_usage[] =
	"usage: poolctl -s STORE restore [--json] PATH --version N\n"
	"\n"
	"Makes version N of the pool file PATH current again by committing\n"
	"its content as a new version, and prints the new version's number.\n"
	"A live mount shows the restored content at once.\n"
	"\n"
	"  --version N   the version to restore (see poolctl versions PATH)\n"
	"  --json        print {\"path\", \"restored\", \"version\"} instead\n";

struct restore_op {
	struct ctl_ctx *ctx;
	uint64_t ino, version, new_version;
	struct store_writer *w;
	struct audit_rec *rec;
};

/*
 * POOLFS_TEST_RESTORE_PAUSE_MS (tests only): a pause after the store's
 * change, inside the step the mount makes of it, so that a test can
 * open the file there (tests/mount/readers.py restore-reader).
 */
static void test_pause(void)
{
	const char *env = getenv("POOLFS_TEST_RESTORE_PAUSE_MS");
	long ms = env ? strtol(env, NULL, 10) : 0;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	if (ms > 0 && ms < 10000)
		nanosleep(&ts, NULL);
}

static int restore_op(void *arg)
{
	struct restore_op *r = arg;
	int rc = store_restore(r->ctx->store, r->ino, r->version, r->w, r->rec, &r->new_version);

	if (rc == 0)
		test_pause();
	return rc;
}

int cmd_restore(struct ctl_ctx *ctx, int argc, char **argv)
{
	bool json = false;
	uint64_t version = 0, ino;
	struct cmd_opt opts[] = {
		{ "--json", CMD_OPT_BOOL, &json, false },
		{ "--version", CMD_OPT_U64, &version, false },
		CMD_OPT_END
	};
	struct store_writer w = { 0 };
	struct strbuf subject = STRBUF_INIT;
	struct audit_rec rec;
	struct restore_op r;
	const char *path;
	int n, rc;

	n = cmd_parse(ctx, restore_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n != 1)
		return cmd_error(ctx, CTL_EXIT_USAGE, "restore: expected one PATH, got %d", n);
	if (!opts[1].seen || !version)
		return cmd_error(ctx, CTL_EXIT_USAGE, "restore: \"--version N\" is required, N >= 1");
	path = argv[0];
	rc = cmd_need_store(ctx);
	if (rc)
		return rc;
	rc = cmd_resolve_file(ctx, path, &ino);
	if (rc)
		return rc;

	w.uid = ctx->uid;
	w.gid = ctx->gid;
	w.pid = (uint32_t)ctx->pid;
	cmd_audit_init(ctx, &rec, "restore", path);
	rec.version = version;
	r = (struct restore_op){ .ctx = ctx, .ino = ino, .version = version, .w = &w, .rec = &rec };
	/* a live mount marks its kernel inodes in the same step (ctl.h) */
	if (ctx->hooks && ctx->hooks->change_inode)
		rc = ctx->hooks->change_inode(ctx->hooks->data, ino, restore_op, &r);
	else
		rc = restore_op(&r);
	/* the store writes rec only with the restored version */
	if (rc)
		ctx->audited = false;
	if (rc == -ENOENT) {
		rc = cmd_error(ctx, CTL_EXIT_USAGE, "\"%s\": no version %" PRIu64
			       " (see poolctl versions)", path, version);
		goto out;
	}
	if (rc) {
		strbuf_addf(&subject, "\"%s\" version %" PRIu64, path, version);
		rc = cmd_fail(ctx, rc, NULL, subject.buf);
		goto out;
	}
	if (json)
		rc = cmd_print_json(ctx, json_pack("{s:o, s:I, s:I}",
						   "path", ctl_json_bytes(path, strlen(path)),
						   "restored", (json_int_t)version,
						   "version", (json_int_t)r.new_version));
	else
		strbuf_addf(&ctx->out, "%" PRIu64 "\n", r.new_version);
out:
	strbuf_release(&subject);
	return rc;
}
