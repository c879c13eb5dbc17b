/*
 * tools/cmd_crypt.c - "poolctl key rotate", "poolctl scrub" and
 * "poolctl crypto": the pool's keys, a read-back of everything it keeps,
 * and which algorithms protect it (docs/encryption.md).
 */
#include "tools/cmd.h"
#include "tools/cmd_convert.h"
#include "tools/cmd_crypt.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "store/audit.h"
#include "store/crypt.h"
#include "store/scrub.h"
#include "store/store.h"

static const char rotate_usage[] =
	"usage: poolctl -s STORE key rotate [--reencrypt] [--json]\n"
	"\n"
	"Makes a new data key for everything written from now on. Values\n"
	"written before keep the key they were sealed with (each names its\n"
	"key), so nothing is rewritten. The new keyset is durable before the\n"
	"key seals anything: a crash leaves the old keyset or the new one.\n"
	"\n"
	"  --reencrypt      then re-seal the old values under the new key, as\n"
	"                   poolctl key reencrypt does (offline only)\n";

int cmd_key_rotate(struct ctl_ctx *ctx, int argc, char **argv)
{
	bool json = false, again = false;
	struct cmd_opt opts[] = {
		{ "--json", CMD_OPT_BOOL, &json, false },
		{ "--reencrypt", CMD_OPT_BOOL, &again, false },
		CMD_OPT_END
	};
	struct perr e = PERR_INIT;
	struct audit_rec r;
	uint32_t id = 0;
	char reason[64];
	int n, rc;

	n = cmd_parse(ctx, rotate_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n)
		return cmd_error(ctx, CTL_EXIT_USAGE, "key rotate: unexpected argument \"%s\"",
				 argv[0]);
	if (again && ctx->remote)
		return cmd_key_rotate_reencrypt(ctx);
	rc = cmd_need_store(ctx);
	if (rc)
		return rc;
	rc = store_key_rotate(ctx->store, &id, &e);
	cmd_audit_init(ctx, &r, "key.rotate", "");
	snprintf(reason, sizeof(reason), rc ? "failed" : "data key %" PRIu32 " for new writes", id);
	r.reason = reason;
	r.result = rc;
	if (audit_append(ctx->store, &r) && !rc)
		return cmd_error(ctx, CTL_EXIT_USAGE, "key rotate: key %" PRIu32 " made, but the "
				 "audit record was lost", id);
	if (rc)
		return cmd_fail(ctx, rc, &e, "key rotate");
	if (json)
		return cmd_print_json(ctx, json_pack("{s:I}", "key_id", (json_int_t)id));
	strbuf_addf(&ctx->out, "data key %" PRIu32 " seals new writes\n", id);
	return again ? cmd_key_rotate_reencrypt(ctx) : CTL_EXIT_OK;
}

static const char scrub_usage[] =
	"usage: poolctl -s STORE scrub\n"
	"\n"
	"Reads back every file version (record, chunk lists, chunks), every\n"
	"cached view, every audit record and policy version, and checks each:\n"
	"its tag in an encrypted pool, its hash in a plain one, its length.\n"
	"Prints one line per damaged item, naming the file by path and\n"
	"version, then a summary. Exit 1 when anything is damaged.\n";

static void scrub_damage(void *arg, const char *line)
{
	struct ctl_ctx *ctx = arg;

	strbuf_addf(&ctx->out, "damaged: %s\n", line);
}

int cmd_scrub(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct cmd_opt opts[] = { CMD_OPT_END };
	struct store_scrub_counts c;
	int n, rc;

	n = cmd_parse(ctx, scrub_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n)
		return cmd_error(ctx, CTL_EXIT_USAGE, "scrub: unexpected argument \"%s\"", argv[0]);
	rc = cmd_need_store(ctx);
	if (rc)
		return rc;
	rc = store_scrub(ctx->store, scrub_damage, NULL, ctx, &c);
	if (rc)
		return cmd_fail(ctx, rc, NULL, "scrub");
	strbuf_addf(&ctx->out, "scrubbed %" PRIu64 " versions, %" PRIu64 " chunks (%" PRIu64
		    " bytes), %" PRIu64 " views, %" PRIu64 " audit records, %" PRIu64
		    " policy versions: %" PRIu64 " damaged\n", c.versions, c.chunks, c.bytes,
		    c.views, c.audit, c.policies, c.damaged);
	return c.damaged ? CTL_EXIT_NO : CTL_EXIT_OK;
}

static const char crypto_usage[] =
	"usage: poolctl -s STORE crypto [--json]\n"
	"\n"
	"Which algorithms protect the pool: the cipher of its values, its\n"
	"chunk ids, the audit chain's hash and signatures, and where its\n"
	"master key file is recorded (or the scrypt cost of its passphrase).\n";

int cmd_crypto(struct ctl_ctx *ctx, int argc, char **argv)
{
	bool json = false;
	struct cmd_opt opts[] = {
		{ "--json", CMD_OPT_BOOL, &json, false },
		CMD_OPT_END
	};
	struct store_crypto_info in;
	const char *cipher, *ids;
	int n, rc;

	n = cmd_parse(ctx, crypto_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n)
		return cmd_error(ctx, CTL_EXIT_USAGE, "crypto: unexpected argument \"%s\"", argv[0]);
	rc = cmd_need_store(ctx);
	if (rc)
		return rc;
	store_crypto_info(ctx->store, &in);
	cipher = in.cipher == CRYPT_AES_GCM ? "aes-256-gcm" :
		 in.cipher == CRYPT_SM4 ? "sm4-ctr+hmac-sm3" : "none";
	ids = in.cipher == CRYPT_AES_GCM ? "hmac-sha256" :
	      in.cipher == CRYPT_SM4 ? "hmac-sm3" : "sha256";
	if (json)
		return cmd_print_json(ctx, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}",
			"cipher", cipher, "chunk_ids", ids, "audit_hash", in.audit_hash,
			"audit_sign", in.audit_sign, "key_file", in.key_file, "kdf", in.kdf,
			"pool_id", in.pool_id, "key_id", (json_int_t)in.key_id,
			"keys", (json_int_t)in.nkeys));
	strbuf_addf(&ctx->out, "%-12s %s\n", "cipher", cipher);
	strbuf_addf(&ctx->out, "%-12s %s\n", "chunk ids", ids);
	strbuf_addf(&ctx->out, "%-12s %s\n", "audit hash", in.audit_hash);
	strbuf_addf(&ctx->out, "%-12s %s\n", "audit sign", in.audit_sign);
	if (in.cipher != CRYPT_PLAIN) {
		if (in.kdf[0])
			strbuf_addf(&ctx->out, "%-12s passphrase, %s\n", "master key", in.kdf);
		else
			strbuf_addf(&ctx->out, "%-12s %s\n", "key file", in.key_file);
		strbuf_addf(&ctx->out, "%-12s %" PRIu32 " of %" PRIu32 "\n", "data key",
			    in.key_id, in.nkeys);
		strbuf_addf(&ctx->out, "%-12s %s\n", "pool id", in.pool_id);
	}
	return CTL_EXIT_OK;
}
