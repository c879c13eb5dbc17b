/*
 * tools/cmd_convert.c - "poolctl encrypt" and "poolctl key reencrypt":
 * the offline conversions of store/convert.c. Both run in poolctl only
 * (CMD_LOCAL): they rewrite the whole database and must hold it alone,
 * so a pool a poolfs serves is refused (its database lock is taken).
 *
 * Progress goes to standard error while it is a terminal, one line
 * rewritten in place; the summary goes to standard output.
 */
#include "tools/cmd.h"
#include "tools/cmd_convert.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "store/audit.h"
#include "store/convert.h"
#include "store/crypt.h"
#include "store/store.h"

struct shown {
	bool tty, any;
};

static void show_progress(void *arg, const char *phase, uint64_t done, uint64_t total)
{
	struct shown *sh = arg;

	if (!sh->tty)
		return;
	fprintf(stderr, "\r\033[K%s: %" PRIu64 "/%" PRIu64 " (%d%%)", phase, done, total,
		total ? (int)(done * 100 / total) : 100);
	fflush(stderr);
	sh->any = true;
}

static void progress_end(struct shown *sh)
{
	if (sh->any)
		fputc('\n', stderr);
}

static const char encrypt_usage[] =
	"usage: poolctl -s STORE encrypt [--cipher aes-256-gcm|sm4]\n"
	"                                [--key-file FILE | --passphrase-file FILE]\n"
	"\n"
	"Converts an unencrypted pool into an encrypted one, offline (refused\n"
	"while a poolfs serves it). Every version, chunk list, chunk, policy\n"
	"version and audit record is sealed; chunk ids become keyed; cached\n"
	"views are dropped and made again on first read. The audit chain is\n"
	"kept and says when the conversion began and ended. The new database\n"
	"is built in STORE/convert and swapped in at the end, so an\n"
	"interrupted run leaves the pool as it was and a new run goes on; the\n"
	"old database's files are then deleted (not overwritten).\n"
	"\n"
	"  --cipher C       aes-256-gcm (the default) or sm4\n"
	"  --key-file FILE  the master key, as for poolctl init: FILE when it\n"
	"                   exists (32 bytes), else a new FILE (mode 0400);\n"
	"                   default /etc/poolfs/keys/POOL-ID.key\n"
	"  --passphrase-file FILE  the master key from a passphrase (scrypt)\n";

int cmd_encrypt(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *cipher = "aes-256-gcm", *key_file = NULL, *pass_file = NULL;
	struct cmd_opt opts[] = {
		{ "--cipher", CMD_OPT_STRING, &cipher, false },
		{ "--key-file", CMD_OPT_STRING, &key_file, false },
		{ "--passphrase-file", CMD_OPT_STRING, &pass_file, false },
		CMD_OPT_END
	};
	struct store_crypt_opts o = { 0 };
	struct strbuf pass = STRBUF_INIT;
	struct store_convert_counts c;
	struct perr e = PERR_INIT;
	struct shown sh = { isatty(2) == 1, false };
	struct audit_rec r;
	struct store *s = NULL;
	char reason[256];
	int n, rc;

	n = cmd_parse(ctx, encrypt_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n)
		return cmd_error(ctx, CTL_EXIT_USAGE, "encrypt: unexpected argument \"%s\"", argv[0]);
	if (!ctx->store_dir)
		return cmd_error(ctx, CTL_EXIT_USAGE, "no pool given: use poolctl -s STORE encrypt");
	if (!strcmp(cipher, "aes"))
		cipher = "aes-256-gcm";
	if (crypt_cipher_parse(cipher, &o.cipher) || o.cipher == CRYPT_PLAIN)
		return cmd_error(ctx, CTL_EXIT_USAGE, "encrypt: --cipher \"%s\": use aes-256-gcm "
				 "or sm4", cipher);
	if (key_file && pass_file)
		return cmd_error(ctx, CTL_EXIT_USAGE, "encrypt: give --key-file or "
				 "--passphrase-file, not both");
	o.key_file = key_file;
	if (pass_file) {
		rc = crypt_passphrase_read(pass_file, &pass, &e);
		if (rc) {
			rc = cmd_fail(ctx, rc, &e, "encrypt");
			goto out;
		}
		o.passphrase = &pass;
		/* a run that goes on, and the open at the end, derive it again */
		store_set_passphrase(&pass);
	}
	cmd_audit_init(ctx, &r, "store.encrypt", "");
	snprintf(reason, sizeof(reason), "offline conversion to %s begun",
		 crypt_cipher_name(o.cipher));
	r.reason = reason;
	rc = store_encrypt(ctx->store_dir, &o, &r, show_progress, &sh, &c, &e);
	progress_end(&sh);
	if (rc == -EBUSY) {
		rc = cmd_error(ctx, CTL_EXIT_USAGE, "\"%s\": a poolfs serves the pool: unmount it "
			       "first (encrypt runs offline)", ctx->store_dir);
		goto out;
	}
	if (rc) {
		rc = cmd_fail(ctx, rc, &e, "encrypt");
		goto out;
	}
	if (key_file)
		store_set_key_file(key_file);
	rc = store_open(ctx->store_dir, 0, &s, &e);
	if (rc) {
		rc = cmd_fail(ctx, rc, &e, "encrypt: the converted pool does not open");
		goto out;
	}
	cmd_audit_init(ctx, &r, "store.encrypt", "");
	snprintf(reason, sizeof(reason), "pool encrypted with %s%s: %" PRIu64 " versions, %"
		 PRIu64 " chunks (%" PRIu64 " bytes), %" PRIu64 " audit records sealed; "
		 "views dropped", crypt_cipher_name(o.cipher), c.resumed ? " (resumed)" : "",
		 c.versions, c.chunks, c.bytes, c.records);
	r.reason = reason;
	if (audit_append(s, &r)) {
		rc = cmd_error(ctx, CTL_EXIT_USAGE, "encrypt: the pool is encrypted, but the audit "
			       "record of it was lost");
		goto out;
	}
	strbuf_addf(&ctx->out, "%s: encrypted with %s%s: %" PRIu64 " versions, %" PRIu64
		    " chunks (%" PRIu64 " bytes), %" PRIu64 " audit records\n", ctx->store_dir,
		    crypt_cipher_name(o.cipher), c.resumed ? " (resumed)" : "", c.versions,
		    c.chunks, c.bytes, c.records);
	rc = CTL_EXIT_OK;
out:
	store_close(s);
	OPENSSL_cleanse(pass.buf, pass.alloc);
	strbuf_release(&pass);
	return rc;
}

static const char reencrypt_usage[] =
	"usage: poolctl -s STORE key reencrypt [--rate MB]\n"
	"\n"
	"Re-seals every value sealed with an older data key (chunks, chunk\n"
	"lists, versions, views, policy versions, audit records) under the\n"
	"current one, then compacts so the old ciphertexts leave the disk.\n"
	"Offline: refused while a poolfs serves the pool. Killed midway, it\n"
	"goes on where it stopped when run again.\n"
	"\n"
	"  --rate MB        at most MB megabytes a second (default: no limit)\n";

/* The re-encryption itself, audited; ctx->store is open. */
static int reencrypt(struct ctl_ctx *ctx, uint64_t rate)
{
	struct store_convert_counts c;
	struct perr e = PERR_INIT;
	struct shown sh = { isatty(2) == 1, false };
	struct audit_rec r;
	char reason[160];
	int rc;

	rc = store_reencrypt(ctx->store, rate << 20, show_progress, &sh, &c, &e);
	progress_end(&sh);
	cmd_audit_init(ctx, &r, "key.reencrypt", "");
	snprintf(reason, sizeof(reason), rc ? "failed after %" PRIu64 " values" :
		 "%" PRIu64 " values re-sealed under the current key", c.records);
	r.reason = reason;
	r.result = rc;
	if (audit_append(ctx->store, &r) && !rc)
		return cmd_error(ctx, CTL_EXIT_USAGE, "key reencrypt: done, but the audit record "
				 "was lost");
	if (rc)
		return cmd_fail(ctx, rc, &e, "key reencrypt");
	strbuf_addf(&ctx->out, "%" PRIu64 " values (%" PRIu64 " bytes) re-sealed under the "
		    "current key\n", c.records, c.bytes);
	return CTL_EXIT_OK;
}

int cmd_key_reencrypt(struct ctl_ctx *ctx, int argc, char **argv)
{
	uint64_t rate = 0;
	struct cmd_opt opts[] = {
		{ "--rate", CMD_OPT_U64, &rate, false },
		CMD_OPT_END
	};
	int n, rc;

	n = cmd_parse(ctx, reencrypt_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n)
		return cmd_error(ctx, CTL_EXIT_USAGE, "key reencrypt: unexpected argument \"%s\"",
				 argv[0]);
	rc = cmd_need_store(ctx);
	if (rc)
		return rc;
	return reencrypt(ctx, rate);
}

int cmd_key_rotate_reencrypt(struct ctl_ctx *ctx)
{
	if (ctx->remote)
		return cmd_error(ctx, CTL_EXIT_USAGE, "key rotate --reencrypt: a poolfs serves the "
				 "pool; re-encryption runs offline (unmount, then poolctl key "
				 "reencrypt)");
	return reencrypt(ctx, 0);
}
