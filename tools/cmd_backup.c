/*
 * tools/cmd_backup.c - "poolctl backup create|list|verify|restore|prune".
 *
 * create needs the pool and runs where the pool is open: in the daemon
 * when one serves it (on its own open database, online), else here. The
 * others need only DEST and always run in poolctl, as the user who runs
 * it: a backup holds the pool's raw data, so reading one is a matter of
 * DEST's permissions, never of the daemon's.
 */
#include "tools/cmd.h"
#include "common/alloc.h"
#include "tools/cmd_backup.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/codec.h"
#include "store/audit.h"
#include "store/backup.h"
#include "store/store.h"

static const char create_usage[] =
	"usage: poolctl -s STORE backup create [--json] [--rate-limit MIB] DEST\n"
	"\n"
	"Backs the pool up into directory DEST (made 0700 when missing), online:\n"
	"a running poolfs takes it on its open store and keeps serving. The\n"
	"backup holds everything committed when it starts (data, every version,\n"
	"the policy history, the audit log and its signed anchor) and the files\n"
	"of STORE/keys. Files DEST already holds are not copied again, so a\n"
	"backup after a small change stores about the change. Progress shows on\n"
	"stderr when it is a terminal. Prints the new backup's id.\n"
	"\n"
	"Through a daemon a caller other than root needs a DEST that root owns\n"
	"and nobody else may write, reached through directories that only root\n"
	"may change (the daemon writes there as root).\n"
	"\n"
	"  --json            print the backup as JSON (as backup list --json)\n"
	"  --rate-limit MIB  copy at most MIB MiB a second (a standby's disk is\n"
	"                    the pool's disk's neighbour); default: no limit\n";

static const char list_usage[] =
	"usage: poolctl backup list [--json] DEST\n"
	"\n"
	"Lists the backups in DEST, oldest first: id, time (the commit it holds),\n"
	"policy version, audit head (seq:hash), size (its files, shared ones\n"
	"included). An incomplete backup (a create killed at its very end) shows\n"
	"as such until the next create mends it.\n"
	"\n"
	"  --json    one JSON array instead of the table\n";

static const char verify_usage[] =
	"usage: poolctl [--key-file FILE | --passphrase-file FILE] backup verify DEST [--id N]\n"
	"       [--pubkey HEX]\n"
	"\n"
	"Checks backup N (default: every backup) in DEST: re-reads every file\n"
	"against its checksum by restoring it into a private directory under\n"
	"DEST/poolfs, reads every block, checks the audit records as stored\n"
	"against the backup's signed seal and the checkpoints' signatures (public\n"
	"key only), and that every version and chunk is there. Then, for a plain\n"
	"pool or with the master key, the audit chain up to the backup's anchor\n"
	"and every version of every file read back. Without the key an encrypted\n"
	"backup gets every check that needs no plaintext, and the line says\n"
	"which it skipped. Exit 0 when all holds; 1 naming the first damaged file\n"
	"or record; 2 when it cannot run (or the key given does not open it).\n"
	"\n"
	"  --id N        only backup N\n"
	"  --pubkey HEX  the audit public key the seal must carry (poolctl audit\n"
	"                pubkey, kept elsewhere); default: the backup's own\n";

static const char restore_usage[] =
	"usage: poolctl backup restore DEST --id N [--pubkey HEX] NEWSTORE\n"
	"\n"
	"Restores backup N of DEST as a new pool in NEWSTORE, which must not\n"
	"exist or be empty: restore never overwrites. The new pool's first new\n"
	"audit record (op backup_restore) names the backup, its time and anchor,\n"
	"so a rollback shows in the log. Before that the log is checked as verify\n"
	"checks it (seal, chain, ending at the anchor): a backup whose pieces do not\n"
	"belong together is refused, exit 1. Mount it with poolfs NEWSTORE MNT.\n"
	"\n"
	"  --id N        the backup to restore (see poolctl backup list)\n"
	"  --pubkey HEX  the audit public key the seal must carry (as for verify)\n";

static const char prune_usage[] =
	"usage: poolctl backup prune DEST --keep N\n"
	"\n"
	"Deletes all but the newest N backups in DEST and the files only they\n"
	"used.\n"
	"\n"
	"  --keep N  how many backups to keep, N >= 1\n";

/* ---- output ---- */

static void format_ns(int64_t ns, char *buf, size_t len)
{
	cmd_format_time(ns / 1000000000, buf, len);
}

static json_t *info_json(const struct backup_info *bi)
{
	struct strbuf anchor = STRBUF_INIT;
	char when[32], hash[65];
	json_t *o;

	format_ns(bi->time_ns, when, sizeof(when));
	if (!bi->complete)
		return json_pack("{s:I, s:s, s:I, s:I, s:b}", "id", (json_int_t)bi->id,
				 "time", when, "size", (json_int_t)bi->size,
				 "files", (json_int_t)bi->files, "complete", 0);
	hex_encode(bi->anchor.hash, sizeof(bi->anchor.hash), hash);
	audit_anchor_format(&bi->anchor, &anchor);
	o = json_pack("{s:I, s:s, s:I, s:I, s:{s:I, s:s}, s:s, s:I, s:I, s:s, s:b}",
		      "id", (json_int_t)bi->id, "time", when,
		      "time_ns", (json_int_t)bi->time_ns,
		      "policy_version", (json_int_t)bi->policy_version,
		      "audit_head", "seq", (json_int_t)bi->anchor.seq, "hash", hash,
		      "anchor", anchor.buf,
		      "size", (json_int_t)bi->size, "files", (json_int_t)bi->files,
		      "source", bi->source, "complete", 1);
	strbuf_release(&anchor);
	return o;
}

static void size_text(uint64_t n, char *buf, size_t len)
{
	if (n >= 10ull << 30)
		snprintf(buf, len, "%" PRIu64 "G", n >> 30);
	else if (n >= 10ull << 20)
		snprintf(buf, len, "%" PRIu64 "M", n >> 20);
	else if (n >= 10ull << 10)
		snprintf(buf, len, "%" PRIu64 "K", n >> 10);
	else
		snprintf(buf, len, "%" PRIu64, n);
}

static void info_line(struct strbuf *out, const struct backup_info *bi)
{
	char when[32], hash[65], size[24];

	format_ns(bi->time_ns, when, sizeof(when));
	size_text(bi->size, size, sizeof(size));
	if (!bi->complete) {
		strbuf_addf(out, "%-5" PRIu32 " %-20s %-7s %-28s %7s  incomplete\n", bi->id, when,
			    "-", "-", size);
		return;
	}
	hex_encode(bi->anchor.hash, sizeof(bi->anchor.hash), hash);
	hash[16] = '\0';
	strbuf_addf(out, "%-5" PRIu32 " %-20s %-7" PRIu64 " %10" PRIu64 ":%-17s %7s\n", bi->id,
		    when, bi->policy_version, bi->anchor.seq, hash, size);
}

/* ---- create ---- */

/*
 * A daemon writes DEST as root. A caller who is not root gets that only
 * for a directory root prepared (tools/cmd_backup_dest.c). *real: the
 * path to use (the caller frees it).
 */
static int check_remote_dest(struct ctl_ctx *ctx, const char *dest, char **real)
{
	*real = NULL;
	if (dest[0] != '/')
		return cmd_error(ctx, CTL_EXIT_USAGE, "backup create: \"%s\": the daemon needs an absolute DEST",
				 dest);
	if (ctx->uid == 0) {
		*real = xstrdup(dest);
		return 0;
	}
	return backup_remote_dest(ctx, dest, real);
}

int cmd_backup_create(struct ctl_ctx *ctx, int argc, char **argv)
{
	bool json = false;
	uint64_t mib = 0;
	struct cmd_opt opts[] = {
		{ "--json", CMD_OPT_BOOL, &json, false },
		{ "--rate-limit", CMD_OPT_U64, &mib, false },
		CMD_OPT_END
	};
	struct strbuf reason = STRBUF_INIT;
	struct perr e = PERR_INIT;
	struct backup_info bi;
	struct audit_rec rec;
	const char *dest;
	char *real = NULL;
	int n, rc, ret;

	n = cmd_parse(ctx, create_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n != 1)
		return cmd_error(ctx, CTL_EXIT_USAGE, "backup create: expected one DEST, got %d", n);
	dest = argv[0];
	if (mib > (UINT64_MAX >> 20))
		return cmd_error(ctx, CTL_EXIT_USAGE, "backup create: --rate-limit %" PRIu64 ": too large", mib);
	if (ctx->remote) {
		rc = check_remote_dest(ctx, dest, &real);
		if (rc)
			return rc;
		dest = real;
	}
	rc = cmd_need_store(ctx);
	if (rc)
		goto out;
	ret = backup_create(ctx->store, dest, mib << 20, &bi, &e);

	cmd_audit_init(ctx, &rec, "backup", "/");
	rec.result = ret;
	if (ret) {
		strbuf_addf(&reason, "backup to %s failed: %s", dest, perr_msg(&e, -ret));
	} else {
		rec.version = bi.id;
		strbuf_addf(&reason, "backup %" PRIu32 " to %s, audit head %" PRIu64, bi.id, dest,
			    bi.anchor.seq);
	}
	rec.reason = reason.buf;
	rc = audit_append(ctx->store, &rec);
	if (ret) {
		rc = cmd_fail(ctx, ret, &e, dest);
		goto out;
	}
	/* fail closed: a backup the log does not show must not pass unnoticed */
	if (rc) {
		rc = cmd_error(ctx, CTL_EXIT_USAGE, "backup %" PRIu32 " made, but recording it in the audit log failed: %s",
			       bi.id, strerror(-rc));
		goto out;
	}
	if (json)
		rc = cmd_print_json(ctx, info_json(&bi));
	else
		strbuf_addf(&ctx->out, "%" PRIu32 "\n", bi.id);
out:
	free(real);
	strbuf_release(&reason);
	return rc;
}

/* ---- list, verify, restore, prune ---- */

int cmd_backup_list(struct ctl_ctx *ctx, int argc, char **argv)
{
	bool json = false;
	struct cmd_opt opts[] = {
		{ "--json", CMD_OPT_BOOL, &json, false },
		CMD_OPT_END
	};
	struct perr e = PERR_INIT;
	struct backup_info *v = NULL;
	size_t nv;
	json_t *arr;
	int n, rc;

	n = cmd_parse(ctx, list_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n != 1)
		return cmd_error(ctx, CTL_EXIT_USAGE, "backup list: expected one DEST, got %d", n);
	rc = backup_list(argv[0], &v, &nv, &e);
	if (rc)
		return cmd_fail(ctx, rc, &e, argv[0]);
	if (json) {
		arr = json_array();
		for (size_t i = 0; arr && i < nv; i++)
			if (json_array_append_new(arr, info_json(&v[i]))) {
				json_decref(arr);
				arr = NULL;
			}
		rc = cmd_print_json(ctx, arr);
	} else {
		strbuf_addf(&ctx->out, "%-5s %-20s %-7s %-28s %7s\n", "ID", "TIME", "POLICY",
			    "AUDIT HEAD", "SIZE");
		for (size_t i = 0; i < nv; i++)
			info_line(&ctx->out, &v[i]);
	}
	free(v);
	return rc;
}

static int parse_id(struct ctl_ctx *ctx, uint64_t id, uint32_t *out)
{
	if (!id || id > UINT32_MAX)
		return cmd_error(ctx, CTL_EXIT_USAGE, "%s: --id %" PRIu64 ": not a backup id", ctx->cmd,
				 id);
	*out = (uint32_t)id;
	return 0;
}

/* A --pubkey pin is an ed25519 (64 hex digits) or SM2 (130) public key. */
static int check_pin(struct ctl_ctx *ctx, const char *pin)
{
	if (pin && strlen(pin) != 64 && strlen(pin) != 130)
		return cmd_error(ctx, CTL_EXIT_USAGE, "%s: --pubkey: 64 or 130 hex digits (poolctl "
				 "audit pubkey)", ctx->cmd);
	return 0;
}

int cmd_backup_verify(struct ctl_ctx *ctx, int argc, char **argv)
{
	uint64_t id = 0;
	const char *pin = NULL;
	struct cmd_opt opts[] = {
		{ "--id", CMD_OPT_U64, &id, false },
		{ "--pubkey", CMD_OPT_STRING, &pin, false },
		CMD_OPT_END
	};
	struct strbuf report = STRBUF_INIT;
	struct perr e = PERR_INIT;
	uint32_t bid = 0;
	int n, rc;

	n = cmd_parse(ctx, verify_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n != 1)
		return cmd_error(ctx, CTL_EXIT_USAGE, "backup verify: expected one DEST, got %d", n);
	if ((opts[0].seen && (rc = parse_id(ctx, id, &bid))) || (rc = check_pin(ctx, pin)))
		return rc;
	rc = backup_verify(argv[0], bid, pin, &report, &e);
	if (rc == -EBADMSG)
		rc = cmd_error(ctx, CTL_EXIT_NO, "%s: %s", argv[0], perr_msg(&e, -rc));
	else if (rc)
		rc = cmd_fail(ctx, rc, &e, argv[0]);
	else
		strbuf_add(&ctx->out, report.buf, report.len);
	strbuf_release(&report);
	return rc;
}

int cmd_backup_restore(struct ctl_ctx *ctx, int argc, char **argv)
{
	uint64_t id = 0;
	const char *pin = NULL;
	struct cmd_opt opts[] = {
		{ "--id", CMD_OPT_U64, &id, false },
		{ "--pubkey", CMD_OPT_STRING, &pin, false },
		CMD_OPT_END
	};
	struct strbuf reason = STRBUF_INIT, anchor = STRBUF_INIT;
	struct perr e = PERR_INIT;
	struct backup_info bi;
	struct audit_rec rec;
	char when[32];
	uint32_t bid = 0;
	int n, rc;

	n = cmd_parse(ctx, restore_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n != 2)
		return cmd_error(ctx, CTL_EXIT_USAGE, "backup restore: expected DEST and NEWSTORE, got %d argument(s)",
				 n);
	if (!opts[0].seen)
		return cmd_error(ctx, CTL_EXIT_USAGE, "backup restore: \"--id N\" is required (see poolctl backup list)");
	rc = parse_id(ctx, id, &bid);
	if (!rc)
		rc = check_pin(ctx, pin);
	if (rc)
		return rc;
	rc = backup_get(argv[0], bid, &bi, &e);
	if (rc)
		return cmd_fail(ctx, rc, &e, argv[0]);
	if (!bi.complete)
		return cmd_error(ctx, CTL_EXIT_USAGE, "%s: backup %" PRIu32 " is incomplete (see poolctl backup list)",
				 argv[0], bid);
	format_ns(bi.time_ns, when, sizeof(when));
	audit_anchor_format(&bi.anchor, &anchor);
	strbuf_addf(&reason, "restored from backup %" PRIu32 " of %s taken %s from %s; anchor: %s",
		    bid, argv[0], when, bi.source, anchor.buf);
	cmd_audit_init(ctx, &rec, "backup_restore", "/");
	rec.version = bid;
	rec.reason = reason.buf;
	rc = backup_restore(argv[0], bid, argv[1], pin, &rec, &e);
	if (rc == -EBADMSG)
		rc = cmd_error(ctx, CTL_EXIT_NO, "%s: %s", argv[0], perr_msg(&e, -rc));
	else if (rc)
		rc = cmd_fail(ctx, rc, &e, argv[1]);
	else
		strbuf_addf(&ctx->out, "restored backup %" PRIu32 " (%s) into %s\n", bid, when,
			    argv[1]);
	strbuf_release(&reason);
	strbuf_release(&anchor);
	return rc;
}

int cmd_backup_prune(struct ctl_ctx *ctx, int argc, char **argv)
{
	uint64_t keep = 0;
	struct cmd_opt opts[] = {
		{ "--keep", CMD_OPT_U64, &keep, false },
		CMD_OPT_END
	};
	struct perr e = PERR_INIT;
	int n, rc;

	n = cmd_parse(ctx, prune_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n != 1)
		return cmd_error(ctx, CTL_EXIT_USAGE, "backup prune: expected one DEST, got %d", n);
	if (!opts[0].seen || !keep || keep > UINT32_MAX)
		return cmd_error(ctx, CTL_EXIT_USAGE, "backup prune: \"--keep N\" is required, N >= 1");
	rc = backup_prune(argv[0], (uint32_t)keep, &e);
	if (rc)
		return cmd_fail(ctx, rc, &e, argv[0]);
	return CTL_EXIT_OK;
}

/* ---- progress, for poolctl ---- */

struct backup_progress {
	char *dest;			/* absolute; argv points here */
	uint64_t total;			/* bytes of STORE/db, 0 when unknown */
	uint64_t start;			/* bytes under dest at the start */
	pthread_t thread;
	bool running;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool stop;			/* mu */
};

static _Thread_local uint64_t tree_bytes;

static int add_bytes(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_F)
		tree_bytes += (uint64_t)st->st_size;
	return 0;
}

static uint64_t du(const char *path)
{
	tree_bytes = 0;
	nftw(path, add_bytes, 16, FTW_PHYS);
	return tree_bytes;
}

static void show(struct backup_progress *p, double secs)
{
	uint64_t now = du(p->dest), done = now > p->start ? now - p->start : 0;
	double mib = (double)done / (1 << 20);

	if (p->total)
		fprintf(stderr, "\rbackup: %.1f MiB copied (pool %.1f MiB), %.0f s, %.1f MiB/s ",
			mib, (double)p->total / (1 << 20), secs, secs > 0 ? mib / secs : 0.0);
	else
		fprintf(stderr, "\rbackup: %.1f MiB copied, %.0f s ", mib, secs);
	fflush(stderr);
}

static void *progress_main(void *arg)
{
	struct backup_progress *p = arg;
	struct timespec t0, now, until;
	bool stop;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 500000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		while (!p->stop && pthread_cond_timedwait(&p->cond, &p->mu, &until) != ETIMEDOUT)
			;
		stop = p->stop;
		pthread_mutex_unlock(&p->mu);
		clock_gettime(CLOCK_MONOTONIC, &now);
		show(p, (double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9);
		if (stop)
			break;
		pthread_mutex_lock(&p->mu);
	}
	fputc('\n', stderr);
	return NULL;
}

static char *absolute(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char *cwd;

	if (path[0] == '/')
		return xstrdup(path);
	cwd = getcwd(NULL, 0);
	if (!cwd)
		return xstrdup(path);
	strbuf_addf(&sb, "%s/%s", cwd, path);
	free(cwd);
	return strbuf_detach(&sb, NULL);
}

struct backup_progress *backup_progress_start(int argc, char **argv, const char *store_dir)
{
	struct backup_progress *p;
	struct strbuf db = STRBUF_INIT;
	int i;

	if (argc < 3 || strcmp(argv[0], "backup") || strcmp(argv[1], "create"))
		return NULL;
	for (i = 2; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--rate-limit"))
			i++;	/* its value */
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc || !argv[i][0])
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->dest = absolute(argv[i]);

	argv[i] = p->dest;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (!isatty(STDERR_FILENO) || !store_dir)
		return p;
	strbuf_addf(&db, "%s/db", store_dir);
	p->total = du(db.buf);
	strbuf_release(&db);
	p->start = du(p->dest);
	p->running = !pthread_create(&p->thread, NULL, progress_main, p);
	return p;
}

void backup_progress_stop(struct backup_progress *p)
{
	if (!p)
		return;
	if (p->running) {
		pthread_mutex_lock(&p->mu);
		p->stop = true;
		pthread_cond_signal(&p->cond);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->thread, NULL);
	}
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->mu);
	free(p->dest);
	free(p);
}
