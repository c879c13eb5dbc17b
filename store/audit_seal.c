/*
 * store/audit_seal.c - seals over the audit chain.
 *
 * A hash chain alone shows a changed record, but anyone who can write
 * the database can recompute every hash after the one they changed. A
 * seal says, with a key that never enters the database, "record SEQ had
 * chain hash H", so a rewritten chain, a forged tail or a cut-off tail no
 * longer matches. Two keys are derived from keys/sign.key, so the stored
 * secret is never used raw:
 *
 *   Ed25519 seed = HMAC-SHA256(sign.key, "poolfs audit ed25519 v1")
 *   head MAC key = HMAC-SHA256(sign.key, "poolfs audit head mac v1")
 *
 * Checkpoints are Ed25519 signatures: anyone holding only the public key
 * (audit_public_key()) can check them. The head is rewritten with every
 * synced write, and an Ed25519 signature costs ~45 us against ~1 us for
 * HMAC-SHA512, most of an append on fast storage; against an intruder
 * who has the database but not keys/, a MAC proves the same.
 *
 * Seal value (head in meta "audit_head", checkpoints in meta
 * "audit_cp" be64(seq)):
 *
 *   off  size  field
 *   0    1     seal format (1)
 *   1    8     seq of the last record covered
 *   9    8     that record's time (ns)
 *   17   32    that record's chain hash
 *   49   64    over (domain NUL algo NUL bytes 1..48): Ed25519
 *              signature (checkpoint) or HMAC-SHA512 (head)
 *
 * The domain ("poolfs audit head v1", "poolfs audit checkpoint v1" or
 * "poolfs audit anchor v1", the auditor's copy of a head: see
 * store/audit_anchor.c) keeps one kind from being replayed as another; the
 * algorithm is signed so flipping meta "audit_hash" cannot pass.
 */
#include "store/audit_int.h"

#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include "common/codec.h"
#include "common/log.h"

#define SEAL_FMT	1
#define SIGNED_OFF	1
#define SIGNED_LEN	48
#define SIGN_INFO	"poolfs audit ed25519 v1"
#define MAC_INFO	"poolfs audit head mac v1"

static const char *const domains[] = {
	[AUDIT_SEAL_HEAD] = "poolfs audit head v1",
	[AUDIT_SEAL_CP] = "poolfs audit checkpoint v1",
	[AUDIT_SEAL_ANCHOR] = "poolfs audit anchor v1",
};

static int derive(const uint8_t *secret, size_t len, const char *info, uint8_t out[32])
{
	size_t n = 0;

	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, len,
		       (const unsigned char *)info, strlen(info), out, 32, &n) || n != 32)
		return -EIO;
	return 0;
}

/*
 * Keys an HMAC-SHA512 context once: the head is sealed on every synced
 * write, and fetching the MAC and digest anew each time cost more than
 * the MAC itself.
 */
static int head_mac_init(struct audit_keys *k, const uint8_t key[32])
{
	char digest[] = "SHA512";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);

	k->mac = mac ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac);	/* the context holds its own reference */
	if (!k->mac || EVP_MAC_init(k->mac, key, 32, params) != 1)
		return -EIO;
	return 0;
}

int audit_keys_load(struct store *s, struct audit_keys *k)
{
	uint8_t secret[64], seed[32], mac_key[32];
	ssize_t len;
	int ret;

	memset(k, 0, sizeof(*k));
	len = store_secret(s, "sign", secret, sizeof(secret));
	ret = len < 0 ? (int)len : len < 16 ? -EINVAL : 0;
	if (!ret)
		ret = derive(secret, (size_t)len, SIGN_INFO, seed);
	if (!ret)
		ret = derive(secret, (size_t)len, MAC_INFO, mac_key);
	if (!ret)
		ret = head_mac_init(k, mac_key);
	if (!ret) {
		k->sign = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
		ret = k->sign ? 0 : -EIO;
	}
	if (ret) {
		log_err("%s: audit log: cannot load the signing key: %s", s->dir,
			strerror(-ret));
		audit_keys_release(k);
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(seed, sizeof(seed));
	OPENSSL_cleanse(mac_key, sizeof(mac_key));
	return ret;
}

void audit_keys_release(struct audit_keys *k)
{
	EVP_PKEY_free(k->sign);
	EVP_MAC_CTX_free(k->mac);
	memset(k, 0, sizeof(*k));
}

int audit_public_key(struct store *s, char hex[65])
{
	struct audit_keys k;
	uint8_t pub[32];
	size_t n = sizeof(pub);
	int ret;

	ret = audit_keys_load(s, &k);
	if (ret)
		return ret;
	if (EVP_PKEY_get_raw_public_key(k.sign, pub, &n) != 1 || n != sizeof(pub))
		ret = -EIO;
	else
		hex_encode(pub, sizeof(pub), hex);
	audit_keys_release(&k);
	return ret;
}

void audit_seal_encode(const struct audit_seal *c, uint8_t out[AUDIT_SEAL_LEN])
{
	out[0] = SEAL_FMT;
	put_be64(out + 1, c->seq);
	put_be64(out + 9, (uint64_t)c->time_ns);
	memcpy(out + 17, c->hash, 32);
	memcpy(out + 49, c->sig, 64);
}

int audit_seal_decode(const void *v, size_t len, struct audit_seal *c)
{
	const uint8_t *p = v;

	if (len != AUDIT_SEAL_LEN || p[0] != SEAL_FMT)
		return -EBADMSG;
	c->seq = get_be64(p + 1);
	c->time_ns = (int64_t)get_be64(p + 9);
	memcpy(c->hash, p + 17, 32);
	memcpy(c->sig, p + 49, 64);
	return 0;
}

void audit_cp_key(uint8_t key[AUDIT_CP_KEY_LEN], uint64_t seq)
{
	memcpy(key, AUDIT_META_CP, AUDIT_CP_PREFIX_LEN);
	put_be64(key + AUDIT_CP_PREFIX_LEN, seq);
}

/* The bytes a seal signs; returns their length. */
static size_t seal_message(const char *algo, enum audit_seal_kind kind,
			   const struct audit_seal *c, uint8_t *msg, size_t size)
{
	uint8_t enc[AUDIT_SEAL_LEN];
	size_t dl = strlen(domains[kind]) + 1, al = strlen(algo) + 1;

	if (dl + al + SIGNED_LEN > size)
		return 0;
	audit_seal_encode(c, enc);
	memcpy(msg, domains[kind], dl);
	memcpy(msg + dl, algo, al);
	memcpy(msg + dl + al, enc + SIGNED_OFF, SIGNED_LEN);
	return dl + al + SIGNED_LEN;
}

/* k->mac is re-initialized in place: callers seal one at a time (audit.c). */
static int head_mac(const struct audit_keys *k, const uint8_t *msg, size_t len,
		    uint8_t mac[64])
{
	size_t n = 0;

	if (!k->mac || EVP_MAC_init(k->mac, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(k->mac, msg, len) != 1 ||
	    EVP_MAC_final(k->mac, mac, &n, 64) != 1 || n != 64)
		return -EIO;
	return 0;
}

int audit_seal_sign(const struct audit_keys *k, const char *algo, enum audit_seal_kind kind,
		    struct audit_seal *c)
{
	uint8_t msg[128];
	size_t len = seal_message(algo, kind, c, msg, sizeof(msg)), siglen = 64;
	EVP_MD_CTX *ctx;
	int ret = 0;

	if (!len)
		return -EINVAL;
	if (kind != AUDIT_SEAL_CP)
		return head_mac(k, msg, len, c->sig);
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->sign) != 1 ||
	    EVP_DigestSign(ctx, c->sig, &siglen, msg, len) != 1 || siglen != 64)
		ret = -EIO;
	EVP_MD_CTX_free(ctx);
	return ret;
}

int audit_seal_check(const struct audit_keys *k, const char *algo, enum audit_seal_kind kind,
		     const struct audit_seal *c)
{
	uint8_t msg[128], mac[64];
	size_t len = seal_message(algo, kind, c, msg, sizeof(msg));
	EVP_MD_CTX *ctx;
	int ret = -EBADMSG;

	if (!len)
		return -EINVAL;
	if (kind != AUDIT_SEAL_CP) {
		ret = head_mac(k, msg, len, mac);
		if (!ret && CRYPTO_memcmp(mac, c->sig, 64))
			ret = -EBADMSG;
		return ret;
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->sign) != 1)
		ret = -EIO;
	else if (EVP_DigestVerify(ctx, c->sig, 64, msg, len) == 1)
		ret = 0;
	EVP_MD_CTX_free(ctx);
	return ret;
}
