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
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "common/codec.h"
#include "common/log.h"

#define SEAL_FMT	1
#define SIGNED_OFF	1
#define SIGNED_LEN	48
#define SIGN_INFO	"poolfs audit ed25519 v1"
#define MAC_INFO	"poolfs audit head mac v1"
#define SM2_INFO	"poolfs audit sm2 v1"
#define SM2_ID		"1234567812345678"	/* GB/T 32918's default signer id */

static const char *const domains[] = {
	[AUDIT_SEAL_HEAD] = "poolfs audit head v1",
	[AUDIT_SEAL_CP] = "poolfs audit checkpoint v1",
	[AUDIT_SEAL_ANCHOR] = "poolfs audit anchor v1",
	[AUDIT_SEAL_BACKUP] = "poolfs audit backup v1",
};

/* Which kinds are MACs (the head key); the others are signatures. */
static bool is_mac(enum audit_seal_kind kind)
{
	return kind == AUDIT_SEAL_HEAD || kind == AUDIT_SEAL_ANCHOR;
}

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
	char digest[8] = "SHA512";

	if (k->sm2)
		memcpy(digest, "SM3", 4);
	OSSL_PARAM params[2];
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
	params[1] = OSSL_PARAM_construct_end();

	k->mac = mac ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac);	/* the context holds its own reference */
	if (!k->mac || EVP_MAC_init(k->mac, key, 32, params) != 1)
		return -EIO;
	return 0;
}

/*
 * An SM2 key pair from a 32-byte seed: d = seed mod (n - 1) + 1, P = dG.
 * Derived, like the Ed25519 key, so sign.key stays the one secret.
 */
static EVP_PKEY *sm2_key(const uint8_t seed[32])
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_sm2);
	BN_CTX *bc = BN_CTX_new();
	BIGNUM *d = BN_bin2bn(seed, 32, NULL), *n1 = NULL;
	EC_POINT *p = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pc = NULL;
	EVP_PKEY *key = NULL;
	uint8_t pub[65];
	char group[] = "SM2";

	if (!g || !bc || !d || !(n1 = BN_dup(EC_GROUP_get0_order(g))) || !BN_sub_word(n1, 1) ||
	    !BN_mod(d, d, n1, bc) || !BN_add_word(d, 1) || !(p = EC_POINT_new(g)) ||
	    !EC_POINT_mul(g, p, d, NULL, NULL, bc) ||
	    EC_POINT_point2oct(g, p, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof(pub), bc) !=
		    sizeof(pub))
		goto out;
	bld = OSSL_PARAM_BLD_new();
	if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)))
		goto out;
	pc = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
	if (!pc || EVP_PKEY_fromdata_init(pc) != 1 ||
	    EVP_PKEY_fromdata(pc, &key, EVP_PKEY_KEYPAIR, params) != 1)
		key = NULL;
out:
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EC_POINT_free(p);
	BN_clear_free(d);
	BN_free(n1);
	BN_CTX_free(bc);
	EC_GROUP_free(g);
	return key;
}

/* Whether the pool signs with SM2 (meta "audit_sign"). */
static int sign_is_sm2(struct store *s, bool *sm2)
{
	struct strbuf v = STRBUF_INIT;
	int ret = store_get(s, CF_META, AUDIT_META_SIGN, strlen(AUDIT_META_SIGN), &v);

	*sm2 = false;
	if (ret == -ENOENT)
		ret = 0;
	else if (!ret && v.len == 3 && !memcmp(v.buf, "sm2", 3))
		*sm2 = true;
	else if (!ret)
		ret = -EINVAL;
	strbuf_release(&v);
	return ret;
}

int audit_sign_set(struct store *s, const char *sign)
{
	rocksdb_writebatch_t *b;
	rocksdb_iterator_t *it;
	bool empty;
	int ret;

	if (!strcmp(sign, "ed25519"))
		return 0;
	if (strcmp(sign, "sm2"))
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	it = rocksdb_create_iterator_cf(s->db, s->ropt, s->cf[CF_AUDIT]);
	rocksdb_iter_seek_to_first(it);
	empty = !rocksdb_iter_valid(it) && !(audit_log_of(s) && audit_log_of(s)->seq);
	rocksdb_iter_destroy(it);
	ret = -EEXIST;
	if (empty) {
		b = rocksdb_writebatch_create();
		rocksdb_writebatch_put_cf(b, s->cf[CF_META], AUDIT_META_SIGN,
					  strlen(AUDIT_META_SIGN), "sm2", 3);
		ret = store_write(s, b, true);
		rocksdb_writebatch_destroy(b);
	}
	/* the open log keeps its keys: reload them for the first record */
	if (!ret && audit_log_of(s) && audit_log_of(s)->keys.sign) {
		struct audit_keys nk;

		ret = audit_keys_load(s, &nk);
		if (!ret) {
			audit_keys_release(&audit_log_of(s)->keys);
			audit_log_of(s)->keys = nk;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int audit_keys_load(struct store *s, struct audit_keys *k)
{
	uint8_t secret[64], seed[32], mac_key[32];
	ssize_t len;
	int ret;

	memset(k, 0, sizeof(*k));
	ret = sign_is_sm2(s, &k->sm2);
	if (ret) {
		log_err("%s: audit log: unknown signature algorithm", s->dir);
		return ret;
	}
	len = store_secret(s, "sign", secret, sizeof(secret));
	ret = len < 0 ? (int)len : len < 16 ? -EINVAL : 0;
	if (!ret)
		ret = derive(secret, (size_t)len, k->sm2 ? SM2_INFO : SIGN_INFO, seed);
	if (!ret)
		ret = derive(secret, (size_t)len, MAC_INFO, mac_key);
	if (!ret)
		ret = head_mac_init(k, mac_key);
	if (!ret) {
		k->sign = k->sm2 ? sm2_key(seed) :
			  EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
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

int audit_keys_pub_raw(const struct audit_keys *k, uint8_t pub[65], size_t *len)
{
	size_t n = k->sm2 ? 65 : 32;

	if (k->sm2 ? EVP_PKEY_get_octet_string_param(k->sign, OSSL_PKEY_PARAM_PUB_KEY, pub,
						     65, &n) != 1 || n != 65 :
		     EVP_PKEY_get_raw_public_key(k->sign, pub, &n) != 1 || n != 32)
		return -EIO;
	*len = n;
	return 0;
}

int audit_keys_public(bool sm2, const uint8_t *pub, size_t len, struct audit_keys *k)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pc = NULL;
	char group[] = "SM2";

	memset(k, 0, sizeof(*k));
	k->sm2 = sm2;
	if (!sm2) {
		if (len != 32)
			return -EINVAL;
		k->sign = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, len);
		return k->sign ? 0 : -EINVAL;
	}
	if (len != 65)
		return -EINVAL;
	bld = OSSL_PARAM_BLD_new();
	if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, len) &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) &&
	    (pc = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL)) &&
	    EVP_PKEY_fromdata_init(pc) == 1)
		if (EVP_PKEY_fromdata(pc, &k->sign, EVP_PKEY_PUBLIC_KEY, params) != 1)
			k->sign = NULL;
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return k->sign ? 0 : -EINVAL;
}

int audit_public_key(struct store *s, char *hex, const char **algo)
{
	struct audit_keys k;
	uint8_t pub[65];
	size_t n;
	int ret;

	ret = audit_keys_load(s, &k);
	if (ret)
		return ret;
	*algo = k.sm2 ? "sm2" : "ed25519";
	ret = audit_keys_pub_raw(&k, pub, &n);
	if (!ret)
		hex_encode(pub, n, hex);
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
	static const uint8_t half[2] = { 0, 1 };
	size_t n = 0;

	if (!k->mac)
		return -EIO;
	if (!k->sm2) {
		if (EVP_MAC_init(k->mac, NULL, 0, NULL) != 1 ||
		    EVP_MAC_update(k->mac, msg, len) != 1 ||
		    EVP_MAC_final(k->mac, mac, &n, 64) != 1 || n != 64)
			return -EIO;
		return 0;
	}
	/* HMAC-SM3 has 32 bytes: two, over the message and a half number, fill 64 */
	for (int i = 0; i < 2; i++)
		if (EVP_MAC_init(k->mac, NULL, 0, NULL) != 1 ||
		    EVP_MAC_update(k->mac, msg, len) != 1 ||
		    EVP_MAC_update(k->mac, half + i, 1) != 1 ||
		    EVP_MAC_final(k->mac, mac + 32 * i, &n, 32) != 1 || n != 32)
			return -EIO;
	return 0;
}

/* An SM2 signature as the seal keeps it: r || s, 32 bytes each, from DER and back. */
static int sm2_sig_pack(const uint8_t *der, size_t len, uint8_t out[64])
{
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &der, (long)len);
	int ok = sig && BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, 32) == 32 &&
		 BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + 32, 32) == 32;

	ECDSA_SIG_free(sig);
	return ok ? 0 : -EIO;
}

static int sm2_sig_der(const uint8_t in[64], uint8_t *der, size_t *len)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(in, 32, NULL), *s = BN_bin2bn(in + 32, 32, NULL);
	uint8_t *p = der;
	int n = -1;

	if (sig && r && s && ECDSA_SIG_set0(sig, r, s)) {
		r = s = NULL;
		n = i2d_ECDSA_SIG(sig, NULL);
		if (n > 0 && (size_t)n <= *len)
			n = i2d_ECDSA_SIG(sig, &p);
		else
			n = -1;
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	if (n <= 0)
		return -EBADMSG;
	*len = (size_t)n;
	return 0;
}

/* The md context does not own the key context it was given: both go. */
static void sm2_ctx_free(EVP_MD_CTX *ctx)
{
	EVP_PKEY_CTX *pc = ctx ? EVP_MD_CTX_get_pkey_ctx(ctx) : NULL;

	EVP_MD_CTX_free(ctx);
	EVP_PKEY_CTX_free(pc);
}

/* An SM2 digest-sign context with the signer id set (SM2(7)). */
static EVP_MD_CTX *sm2_ctx(EVP_PKEY *key, bool sign)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(key, NULL);

	if (!ctx || !pc || EVP_PKEY_CTX_set1_id(pc, SM2_ID, strlen(SM2_ID)) <= 0)
		goto fail;
	EVP_MD_CTX_set_pkey_ctx(ctx, pc);
	if ((sign ? EVP_DigestSignInit(ctx, NULL, EVP_sm3(), NULL, key) :
		    EVP_DigestVerifyInit(ctx, NULL, EVP_sm3(), NULL, key)) != 1) {
		EVP_MD_CTX_free(ctx);
		EVP_PKEY_CTX_free(pc);
		return NULL;
	}
	return ctx;
fail:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_CTX_free(pc);
	return NULL;
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
	if (is_mac(kind))
		return head_mac(k, msg, len, c->sig);
	if (k->sm2) {
		uint8_t der[80];
		size_t dlen = sizeof(der);

		ctx = sm2_ctx(k->sign, true);
		if (!ctx || EVP_DigestSign(ctx, der, &dlen, msg, len) != 1 ||
		    sm2_sig_pack(der, dlen, c->sig))
			ret = -EIO;
		sm2_ctx_free(ctx);
		return ret;
	}
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
	if (is_mac(kind)) {
		ret = head_mac(k, msg, len, mac);
		if (!ret && CRYPTO_memcmp(mac, c->sig, 64))
			ret = -EBADMSG;
		return ret;
	}
	if (k->sm2) {
		uint8_t der[80];
		size_t dlen = sizeof(der);

		if (sm2_sig_der(c->sig, der, &dlen))
			return -EBADMSG;
		ctx = sm2_ctx(k->sign, false);
		if (!ctx)
			ret = -EIO;
		else if (EVP_DigestVerify(ctx, der, dlen, msg, len) == 1)
			ret = 0;
		sm2_ctx_free(ctx);
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
