/*
 * tools/cmd_init.c - "poolctl init STORE": create an empty pool.
 *
 * Always runs in poolctl itself: there is no daemon for a pool that does
 * not exist yet, and a daemon running as root must not create directories
 * wherever a request names.
 */
#include "tools/cmd.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store/audit.h"
#include "store/crypt.h"
#include "store/store.h"

static const char init_usage[] =
	"usage: poolctl init STORE [--cipher aes-256-gcm|sm4|none]\n"
	"                          [--key-file FILE | --passphrase-file FILE]\n"
	"                          [--audit-hash sha256|sm3] [--sign ed25519|sm2]\n"
	"                          [--packs on|off]\n"
	"\n"
	"Creates a pool in the directory STORE (created if missing, must be\n"
	"empty): the database, its format version and fresh secrets.\n"
	"\n"
	"  --cipher C       encryption at rest: aes-256-gcm (the default), sm4\n"
	"                   (SM4-CTR + HMAC-SM3), or none (an unencrypted pool)\n"
	"  --key-file FILE  the master key: FILE when it exists (32 bytes), else\n"
	"                   a new FILE (mode 0400); default\n"
	"                   /etc/poolfs/keys/POOL-ID.key. Keep it off the store's disk\n"
	"  --passphrase-file FILE  the master key from a passphrase, the content of\n"
	"                   FILE (\"-\": standard input; one trailing newline is\n"
	"                   dropped) through scrypt with a random salt; the salt and\n"
	"                   the cost are kept in the store. Never on the command line\n"
	"  --audit-hash H   the hash of the audit chain: sha256 (the default) or\n"
	"                   sm3 (GB/T 32905); fixed for the life of the pool\n"
	"  --sign S         the audit checkpoints' signatures: ed25519 (the default,\n"
	"                   head MAC HMAC-SHA512) or sm2 (GB/T 32918 with SM3, head\n"
	"                   MAC HMAC-SM3); fixed for the life of the pool\n"
	"  --packs on|off   on (the default): the chunks of large writes go to pack\n"
	"                   files beside the database (STORE/packs), the fast path;\n"
	"                   off: every chunk inside the database, as pools made\n"
	"                   before packs existed\n";

/*
 * The chain's algorithm can only be chosen while the log is empty, so it
 * is set right after creation, before anything can write a record.
 */
static int set_audit_hash(struct ctl_ctx *ctx, const char *dir, const char *algo,
			  const char *sign)
{
	struct perr e = PERR_INIT;
	struct strbuf subject = STRBUF_INIT;
	struct store *s;
	char why[128], reason[128];
	int rc;

	rc = store_open(dir, 0, &s, &e);
	if (rc) {
		strbuf_addf(&subject, "\"%s\"", dir);
		rc = cmd_fail(ctx, rc, &e, subject.buf);
		goto out;
	}
	rc = audit_init_store(s, algo);
	if (!rc)
		rc = audit_sign_set(s, sign);
	if (!rc) {
		struct audit_rec r;

		/* the keys were made by store_create: the first record says so */
		cmd_audit_init(ctx, &r, "init", "");
		snprintf(reason, sizeof(reason), "pool created; keys generated; audit hash %s; "
			 "audit signatures %s", algo, sign);
		r.reason = reason;
		rc = audit_append(s, &r);
	}
	store_close(s);
	if (rc) {
		ctl_strerror(rc, why, sizeof(why));
		rc = cmd_error(ctx, CTL_EXIT_USAGE, "\"%s\": pool created, but its audit hash "
			       "and signatures cannot be set to %s and %s: %s (remove the pool "
			       "and try again)", dir, algo, sign, why);
	}
out:
	strbuf_release(&subject);
	return rc;
}

/* Says where the master key is: without it the pool does not open. */
static void print_key(struct ctl_ctx *ctx, const char *dir, enum crypt_cipher c)
{
	struct store_crypto_info info;
	struct store *s;

	if (store_open(dir, STORE_OPEN_RDONLY, &s, NULL))
		return;
	store_crypto_info(s, &info);
	if (info.kdf[0])
		strbuf_addf(&ctx->out, "encrypted with %s; master key from the passphrase (%s); "
			    "without the passphrase the pool does not open\n",
			    crypt_cipher_name(c), info.kdf);
	else
		strbuf_addf(&ctx->out, "encrypted with %s; master key \"%s\" (keep it, and keep "
			    "it off this disk)\n", crypt_cipher_name(c), info.key_file);
	store_close(s);
}

int cmd_init(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *algo = "sha256", *cipher = "aes-256-gcm", *key_file = NULL, *sign = "ed25519";
	const char *pass_file = NULL, *packs = "on";
	struct strbuf pass = STRBUF_INIT;
	struct cmd_opt opts[] = {
		{ "--audit-hash", CMD_OPT_STRING, &algo, false },
		{ "--sign", CMD_OPT_STRING, &sign, false },
		{ "--cipher", CMD_OPT_STRING, &cipher, false },
		{ "--key-file", CMD_OPT_STRING, &key_file, false },
		{ "--passphrase-file", CMD_OPT_STRING, &pass_file, false },
		{ "--packs", CMD_OPT_STRING, &packs, false },
		CMD_OPT_END
	};
	struct store_crypt_opts co = { CRYPT_PLAIN, NULL, NULL };
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
	/* checked before anything is created, so a typo leaves no pool behind */
	if (strcmp(algo, "sha256") && strcmp(algo, "sm3"))
		return cmd_error(ctx, CTL_EXIT_USAGE, "init: --audit-hash \"%s\": expected sha256 "
				 "or sm3", algo);
	if (strcmp(sign, "ed25519") && strcmp(sign, "sm2"))
		return cmd_error(ctx, CTL_EXIT_USAGE, "init: --sign \"%s\": expected ed25519 or sm2",
				 sign);
	if (strcmp(packs, "on") && strcmp(packs, "off"))
		return cmd_error(ctx, CTL_EXIT_USAGE, "init: --packs \"%s\": expected on or off",
				 packs);
	if (crypt_cipher_parse(cipher, &co.cipher))
		return cmd_error(ctx, CTL_EXIT_USAGE, "init: --cipher \"%s\": expected "
				 "aes-256-gcm, sm4 or none", cipher);
	if (co.cipher == CRYPT_PLAIN && key_file)
		return cmd_error(ctx, CTL_EXIT_USAGE, "init: --key-file with --cipher none: an "
				 "unencrypted pool has no key");
	if (pass_file && (co.cipher == CRYPT_PLAIN || key_file))
		return cmd_error(ctx, CTL_EXIT_USAGE, "init: --passphrase-file with %s",
				 key_file ? "--key-file: give one of them" :
					    "--cipher none: an unencrypted pool has no key");
	co.key_file = key_file;
	if (pass_file) {
		rc = crypt_passphrase_read(pass_file, &pass, &e);
		if (rc) {
			rc = cmd_fail(ctx, rc, &e, "init");
			goto out;
		}
		co.passphrase = &pass;
		/* the opens below (audit setup, the summary) need it too */
		store_set_passphrase(&pass);
	}

	rc = store_create_packs(dir, &co, !strcmp(packs, "on"), &e);
	if (rc) {
		strbuf_addf(&subject, "\"%s\"", dir);
		rc = cmd_fail(ctx, rc, &e, subject.buf);
		goto out;
	}
	rc = set_audit_hash(ctx, dir, algo, sign);
	if (rc)
		goto out;
	strbuf_addf(&ctx->out, "created pool \"%s\" (audit hash %s)\n", dir, algo);
	if (co.cipher != CRYPT_PLAIN)
		print_key(ctx, dir, co.cipher);
	else
		strbuf_addstr(&ctx->out, "not encrypted (--cipher none)\n");
	if (strcmp(packs, "on"))
		strbuf_addstr(&ctx->out, "no pack files: every chunk in the database (--packs off)\n");
out:
	OPENSSL_cleanse(pass.buf, pass.alloc);
	strbuf_release(&pass);
	strbuf_release(&subject);
	return rc;
}
