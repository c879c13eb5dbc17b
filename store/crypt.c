/*
 * store/crypt.c - keysets, sealed values and keyed chunk ids (formats
 * drawn in store/crypt.h), with OpenSSL 3 EVP only. Wrapping keysets and
 * secrets with the master key is store/crypt_wrap.c, master key files
 * and passphrases store/crypt_master.c.
 *
 * Why these choices:
 *   - Random 96-bit nonces, never counters: a counter kept in the store
 *     restarts with a crash or a restored backup and repeats a nonce;
 *     2^32 seals per key keep the collision chance below 2^-32 (NIST
 *     SP 800-38D), and rotation starts a fresh key long before that.
 *   - Every key in use is derived from a raw key and a label (HMAC with
 *     the profile's hash), so the SM4 profile's encryption and MAC keys
 *     are independent and no raw key is used for two purposes.
 *   - Readers never lock: keys sit in a fixed array that only grows,
 *     published by a release store of the count.
 *   - OpenSSL contexts are keyed once and kept (struct ctx_pool): a new
 *     one per value would run the key schedule, GCM's table and HMAC's
 *     pads again for every chunk. Each key has its own pool, so a
 *     rotation cannot seal with a context of the old key.
 *   - Nonces come from a reservoir filled by RAND_bytes a few KiB at a
 *     time: each RAND_bytes call reseeds part of the DRBG's state, a
 *     cost per call that one nonce a chunk made a fifth of the sealing.
 *     The bytes are as random and each is handed out once; a forked
 *     child drops what it inherited.
 */
#include "store/crypt.h"
#include "store/crypt_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "common/alloc.h"
#include "common/codec.h"
#include "common/error.h"
#include "common/strbuf.h"

#define NONCE_LEN	12

/*
 * Contexts keyed for one key, free for the next caller: taken and given
 * back under the lock, so each is used by one thread at a time; at most
 * CTX_KEEP are kept (one per thread sealing at once is enough).
 */
#define CTX_KEEP	8

struct ctx_pool {
	pthread_mutex_t lock;
	int n;
	void *ctx[CTX_KEEP];
};

int crypt_cipher_parse(const char *name, enum crypt_cipher *c)
{
	if (!strcmp(name, "aes-256-gcm"))
		*c = CRYPT_AES_GCM;
	else if (!strcmp(name, "sm4"))
		*c = CRYPT_SM4;
	else if (!strcmp(name, "none"))
		*c = CRYPT_PLAIN;
	else
		return -EINVAL;
	return 0;
}

const char *crypt_cipher_name(enum crypt_cipher c)
{
	switch (c) {
	case CRYPT_AES_GCM:
		return "aes-256-gcm";
	case CRYPT_SM4:
		return "sm4";
	default:
		return "none";
	}
}

/*
 * Ciphers fetched once: EVP_aes_256_gcm() and friends fetch the
 * provider's implementation again on every init, a lock and a lookup per
 * sealed value.
 */
static EVP_CIPHER *gcm, *sm4ctr, *aesctr;
static pthread_once_t fetched = PTHREAD_ONCE_INIT;

static void fetch_ciphers(void)
{
	gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	sm4ctr = EVP_CIPHER_fetch(NULL, "SM4-CTR", NULL);
	aesctr = EVP_CIPHER_fetch(NULL, "AES-256-CTR", NULL);
}

const EVP_CIPHER *crypt_evp_cipher(const char *name)
{
	pthread_once(&fetched, fetch_ciphers);
	if (!strcmp(name, "gcm"))
		return gcm ? gcm : EVP_aes_256_gcm();
	if (!strcmp(name, "sm4"))
		return sm4ctr ? sm4ctr : EVP_sm4_ctr();
	return aesctr ? aesctr : EVP_aes_256_ctr();
}

/* ---- kept contexts and nonces ---- */

static struct ctx_pool *pool_new(void)
{
	struct ctx_pool *p = xcalloc(1, sizeof(*p));

	pthread_mutex_init(&p->lock, NULL);
	return p;
}

static void *pool_take(struct ctx_pool *p)
{
	void *ctx = NULL;

	pthread_mutex_lock(&p->lock);
	if (p->n)
		ctx = p->ctx[--p->n];
	pthread_mutex_unlock(&p->lock);
	return ctx;
}

/* Keeps ctx for the next caller; false when the pool is full (the caller frees it). */
static bool pool_give(struct ctx_pool *p, void *ctx)
{
	bool kept = false;

	pthread_mutex_lock(&p->lock);
	if (p->n < CTX_KEEP) {
		p->ctx[p->n++] = ctx;
		kept = true;
	}
	pthread_mutex_unlock(&p->lock);
	return kept;
}

static void pool_free(struct ctx_pool *p, void (*release)(void *))
{
	if (!p)
		return;
	for (int i = 0; i < p->n; i++)
		release(p->ctx[i]);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static void cipher_release(void *ctx)
{
	EVP_CIPHER_CTX_free(ctx);	/* cleanses the key schedule */
}

static void mac_release(void *ctx)
{
	EVP_MAC_CTX_free(ctx);
}

/* A copy of the keyed template tpl from pool p, ready for EVP_MAC_init(ctx, NULL, ...). */
static EVP_MAC_CTX *mac_take(struct ctx_pool *p, EVP_MAC_CTX *tpl)
{
	EVP_MAC_CTX *ctx = pool_take(p);

	return ctx ? ctx : EVP_MAC_CTX_dup(tpl);
}

/* Gives ctx back after a use that went well; a failed one is not trusted again. */
static void mac_give(struct ctx_pool *p, EVP_MAC_CTX *ctx, bool ok)
{
	if (!ok || !pool_give(p, ctx))
		EVP_MAC_CTX_free(ctx);
}

#define NONCE_STOCK	(NONCE_LEN * 340)	/* 4080 bytes: one RAND_bytes call */

static pthread_mutex_t nonce_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t nonce_stock[NONCE_STOCK];
static size_t nonce_left;		/* the unused bytes end nonce_stock */

static void nonce_prefork(void)
{
	pthread_mutex_lock(&nonce_lock);
}

static void nonce_parent(void)
{
	pthread_mutex_unlock(&nonce_lock);
}

/* a child would hand out the nonces its parent is about to use */
static void nonce_child(void)
{
	OPENSSL_cleanse(nonce_stock, sizeof(nonce_stock));
	nonce_left = 0;
	pthread_mutex_unlock(&nonce_lock);
}

static pthread_once_t nonce_once = PTHREAD_ONCE_INIT;

static void nonce_init(void)
{
	pthread_atfork(nonce_prefork, nonce_parent, nonce_child);
}

/* A fresh random nonce, each of the reservoir's bytes handed out once. */
static int nonce_take(uint8_t out[NONCE_LEN])
{
	int ret = 0;

	pthread_once(&nonce_once, nonce_init);
	pthread_mutex_lock(&nonce_lock);
	if (nonce_left < NONCE_LEN) {
		if (RAND_bytes(nonce_stock, sizeof(nonce_stock)) != 1) {
			ret = -EIO;
			goto out;
		}
		nonce_left = sizeof(nonce_stock);
	}
	memcpy(out, nonce_stock + sizeof(nonce_stock) - nonce_left, NONCE_LEN);
	/* a nonce handed out is gone: nothing can give it twice */
	OPENSSL_cleanse(nonce_stock + sizeof(nonce_stock) - nonce_left, NONCE_LEN);
	nonce_left -= NONCE_LEN;
out:
	pthread_mutex_unlock(&nonce_lock);
	return ret;
}

static const char *md_name(enum crypt_cipher c)
{
	return c == CRYPT_SM4 ? "SM3" : "SHA256";
}

/* ---- HMAC ---- */

EVP_MAC_CTX *crypt_mac_new(enum crypt_cipher c, const uint8_t *key, size_t klen)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[2];

	EVP_MAC_free(mac);
	if (!ctx)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)md_name(c), 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, key, klen, params)) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Up to three pieces MACed with ctx (keyed); out gets 32 bytes. */
int crypt_mac_run(EVP_MAC_CTX *ctx, const void *a, size_t alen, const void *b, size_t blen,
		   const void *c, size_t clen, uint8_t out[32])
{
	size_t olen = 0;
	int ok;

	if (!ctx)
		return -ENOMEM;
	ok = EVP_MAC_init(ctx, NULL, 0, NULL) && EVP_MAC_update(ctx, a, alen) &&
	     (!blen || EVP_MAC_update(ctx, b, blen)) && (!clen || EVP_MAC_update(ctx, c, clen)) &&
	     EVP_MAC_final(ctx, out, &olen, 32) && olen == 32;
	return ok ? 0 : -EIO;
}

/* crypt_mac_run() with a kept copy of tpl from p. */
static int mac_pooled(struct ctx_pool *p, EVP_MAC_CTX *tpl, const void *a, size_t alen,
		      const void *b, size_t blen, const void *c, size_t clen, uint8_t out[32])
{
	EVP_MAC_CTX *ctx = mac_take(p, tpl);
	int ret = crypt_mac_run(ctx, a, alen, b, blen, c, clen, out);

	if (ctx)
		mac_give(p, ctx, !ret);
	return ret;
}

/* out = HMAC(raw, label), the profile's hash. */
static int derive(enum crypt_cipher c, const uint8_t raw[CRYPT_KEY_LEN], const char *label,
		  uint8_t out[32])
{
	EVP_MAC_CTX *ctx = crypt_mac_new(c, raw, CRYPT_KEY_LEN);
	int ret;

	if (!ctx)
		return -EIO;
	ret = crypt_mac_run(ctx, label, strlen(label), NULL, 0, NULL, 0, out);
	EVP_MAC_CTX_free(ctx);
	return ret;
}

/* ---- data keys ---- */

void dkey_clear(struct dkey *d)
{
	pool_free(d->ciphers, cipher_release);
	pool_free(d->macs, mac_release);
	EVP_MAC_CTX_free(d->mac);
	OPENSSL_cleanse(d, sizeof(*d));
}

int dkey_set(enum crypt_cipher c, struct dkey *d, uint32_t id, const uint8_t raw[32])
{
	uint8_t mk[32];
	int ret;

	memset(d, 0, sizeof(*d));
	d->id = id;
	memcpy(d->raw, raw, CRYPT_KEY_LEN);
	d->ciphers = pool_new();
	ret = derive(c, raw, "poolfs enc", d->enc);
	if (!ret && c == CRYPT_SM4) {
		d->macs = pool_new();
		ret = derive(c, raw, "poolfs mac", mk);
		if (!ret && !(d->mac = crypt_mac_new(c, mk, sizeof(mk))))
			ret = -EIO;
	}
	OPENSSL_cleanse(mk, sizeof(mk));
	if (ret)
		dkey_clear(d);
	return ret;
}

struct crypt *crypt_alloc(enum crypt_cipher c, const uint8_t idkey[32])
{
	struct crypt *k;

	if (c != CRYPT_AES_GCM && c != CRYPT_SM4)
		return NULL;
	k = xcalloc(1, sizeof(*k));
	k->cipher = c;
	memcpy(k->idkey, idkey, CRYPT_KEY_LEN);
	k->idmac = crypt_mac_new(c, idkey, CRYPT_KEY_LEN);
	if (!k->idmac) {
		free(k);
		return NULL;
	}
	k->idmacs = pool_new();
	/* the aes profile's id is HMAC-SHA256, which a batch runs side by side */
	if (c == CRYPT_AES_GCM && hmac_sha256_multi_key(&k->idhm, idkey, CRYPT_KEY_LEN)) {
		crypt_free(k);
		return NULL;
	}
	return k;
}

void crypt_free(struct crypt *k)
{
	if (!k)
		return;
	for (uint32_t i = 0; i < CRYPT_MAX_KEYS; i++)
		if (k->keys[i].id)
			dkey_clear(&k->keys[i]);
	pool_free(k->idmacs, mac_release);
	EVP_MAC_CTX_free(k->idmac);
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

int crypt_new(enum crypt_cipher c, struct crypt **out)
{
	uint8_t idkey[32], raw[32];
	struct crypt *k = NULL;
	int ret = -EIO;

	*out = NULL;
	if (RAND_bytes(idkey, sizeof(idkey)) != 1 || RAND_bytes(raw, sizeof(raw)) != 1)
		goto out;
	k = crypt_alloc(c, idkey);
	if (!k) {
		ret = c == CRYPT_PLAIN ? -EINVAL : -ENOMEM;
		goto out;
	}
	ret = dkey_set(c, &k->keys[0], 1, raw);
	if (ret)
		goto out;
	__atomic_store_n(&k->nkeys, 1, __ATOMIC_SEQ_CST);
	*out = k;
	k = NULL;
out:
	crypt_free(k);
	OPENSSL_cleanse(idkey, sizeof(idkey));
	OPENSSL_cleanse(raw, sizeof(raw));
	return ret;
}

enum crypt_cipher crypt_cipher_of(const struct crypt *k)
{
	return k->cipher;
}

uint32_t crypt_current(const struct crypt *k)
{
	return k->keys[__atomic_load_n(&k->current, __ATOMIC_SEQ_CST)].id;
}

uint32_t crypt_nkeys(const struct crypt *k)
{
	return __atomic_load_n(&k->nkeys, __ATOMIC_SEQ_CST);
}

int crypt_stage_key(struct crypt *k)
{
	uint32_t n = __atomic_load_n(&k->nkeys, __ATOMIC_SEQ_CST);
	uint8_t raw[32];
	int ret;

	if (k->staged)
		return 0;
	if (n >= CRYPT_MAX_KEYS)
		return -ENOSPC;
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -EIO;
	ret = dkey_set(k->cipher, &k->keys[n], k->keys[n - 1].id + 1, raw);
	OPENSSL_cleanse(raw, sizeof(raw));
	if (!ret)
		k->staged = true;
	return ret;
}

void crypt_commit_key(struct crypt *k)
{
	uint32_t n = __atomic_load_n(&k->nkeys, __ATOMIC_SEQ_CST);

	if (!k->staged)
		return;
	k->staged = false;
	__atomic_store_n(&k->nkeys, n + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&k->current, n, __ATOMIC_RELEASE);
}

void crypt_drop_staged(struct crypt *k)
{
	if (!k->staged)
		return;
	dkey_clear(&k->keys[__atomic_load_n(&k->nkeys, __ATOMIC_SEQ_CST)]);
	k->staged = false;
}

static const struct dkey *key_by_id(const struct crypt *k, uint32_t id)
{
	uint32_t n = __atomic_load_n(&k->nkeys, __ATOMIC_ACQUIRE);

	/* ids are dense from 1 in a keyset this code made; search in case not */
	if (id >= 1 && id <= n && k->keys[id - 1].id == id)
		return &k->keys[id - 1];
	for (uint32_t i = 0; i < n; i++)
		if (k->keys[i].id == id)
			return &k->keys[i];
	return NULL;
}

/* ---- the AEAD ---- */

/* A context keyed with d's key for cipher name ("gcm", "sm4"): a kept one or a new one. */
static EVP_CIPHER_CTX *cipher_take(const struct dkey *d, const char *name)
{
	EVP_CIPHER_CTX *ctx = pool_take(d->ciphers);

	if (ctx)
		return ctx;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx && !EVP_EncryptInit_ex(ctx, crypt_evp_cipher(name), NULL, d->enc, NULL)) {
		EVP_CIPHER_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

/* Gives ctx back after a use that went well; a failed one is not trusted again. */
static void cipher_give(const struct dkey *d, EVP_CIPHER_CTX *ctx, bool ok)
{
	if (!ok || !pool_give(d->ciphers, ctx))
		EVP_CIPHER_CTX_free(ctx);
}

/*
 * be32(adlen) || ad: the length keeps (ad, header) pairs unambiguous.
 * The kept context is keyed; each use sets only its nonce.
 */
static int aes_seal(const struct dkey *d, const void *ad, size_t adlen, const uint8_t *plain,
		    size_t len, uint8_t *out, bool open, const uint8_t *in)
{
	EVP_CIPHER_CTX *ctx = cipher_take(d, "gcm");
	uint8_t alen[4];
	int n, ok;

	if (!ctx)
		return -ENOMEM;
	put_be32(alen, (uint32_t)adlen);
	if (!open) {
		ok = EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, out + 5) &&
		     EVP_EncryptUpdate(ctx, NULL, &n, alen, 4) &&
		     (!adlen || EVP_EncryptUpdate(ctx, NULL, &n, ad, (int)adlen)) &&
		     EVP_EncryptUpdate(ctx, NULL, &n, out, 5) &&
		     (!len || EVP_EncryptUpdate(ctx, out + CRYPT_HDR_LEN, &n, plain, (int)len)) &&
		     EVP_EncryptFinal_ex(ctx, out + CRYPT_HDR_LEN + len, &n) &&
		     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPT_TAG_LEN,
					 out + CRYPT_HDR_LEN + len);
		cipher_give(d, ctx, ok);
		return ok ? 0 : -EIO;
	}
	ok = EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, in + 5) &&
	     EVP_DecryptUpdate(ctx, NULL, &n, alen, 4) &&
	     (!adlen || EVP_DecryptUpdate(ctx, NULL, &n, ad, (int)adlen)) &&
	     EVP_DecryptUpdate(ctx, NULL, &n, in, 5) &&
	     (!len || EVP_DecryptUpdate(ctx, out, &n, in + CRYPT_HDR_LEN, (int)len)) &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPT_TAG_LEN,
				 (void *)(in + CRYPT_HDR_LEN + len));
	if (ok)
		ok = EVP_DecryptFinal_ex(ctx, out + len, &n) > 0 ? 1 : -1;
	cipher_give(d, ctx, ok > 0);
	return ok > 0 ? 0 : ok < 0 ? -EBADMSG : -EIO;
}

static int sm4_ctr(const struct dkey *d, const uint8_t nonce[NONCE_LEN], const uint8_t *src,
		   size_t len, uint8_t *dst)
{
	EVP_CIPHER_CTX *ctx = cipher_take(d, "sm4");
	uint8_t iv[16] = { 0 };
	int n, ok;

	if (!ctx)
		return -ENOMEM;
	memcpy(iv, nonce, NONCE_LEN);
	/* setting the IV restarts the counter, and the key stream with it */
	ok = EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv) &&
	     (!len || EVP_EncryptUpdate(ctx, dst, &n, src, (int)len)) &&
	     EVP_EncryptFinal_ex(ctx, dst + len, &n);
	cipher_give(d, ctx, ok);
	return ok ? 0 : -EIO;
}

/* tag = HMAC-SM3(mac key, be32(adlen) || ad || header || ciphertext)[0..16] */
static int sm4_tag(const struct dkey *d, const void *ad, size_t adlen, const uint8_t *env,
		   size_t len, uint8_t tag[32])
{
	uint8_t alen[4];

	put_be32(alen, (uint32_t)adlen);
	return mac_pooled(d->macs, d->mac, alen, 4, ad, adlen, env, CRYPT_HDR_LEN + len, tag);
}

int seal_with(enum crypt_cipher c, const struct dkey *d, const void *ad, size_t adlen,
	      const void *plain, size_t len, uint8_t *out)
{
	uint8_t tag[32];
	int ret;

	if (len > INT32_MAX - CRYPT_OVERHEAD)
		return -EFBIG;
	out[0] = ENVELOPE_FMT;
	put_be32(out + 1, d->id);
	if (nonce_take(out + 5))
		return -EIO;
	if (c == CRYPT_AES_GCM)
		return aes_seal(d, ad, adlen, plain, len, out, false, NULL);
	ret = sm4_ctr(d, out + 5, plain, len, out + CRYPT_HDR_LEN);
	if (!ret)
		ret = sm4_tag(d, ad, adlen, out, len, tag);
	if (!ret)
		memcpy(out + CRYPT_HDR_LEN + len, tag, CRYPT_TAG_LEN);
	return ret;
}

int open_with(enum crypt_cipher c, const struct dkey *d, const void *ad, size_t adlen,
	      const uint8_t *in, size_t len, uint8_t *out)
{
	size_t plen = len - CRYPT_OVERHEAD;
	uint8_t tag[32];
	int ret;

	if (c == CRYPT_AES_GCM)
		return aes_seal(d, ad, adlen, NULL, plen, out, true, in);
	ret = sm4_tag(d, ad, adlen, in, plen, tag);
	if (ret)
		return ret;
	/* the MAC is checked before a byte is decrypted (encrypt-then-MAC) */
	if (CRYPTO_memcmp(tag, in + CRYPT_HDR_LEN + plen, CRYPT_TAG_LEN))
		return -EBADMSG;
	return sm4_ctr(d, in + 5, in + CRYPT_HDR_LEN, plen, out);
}

int crypt_seal(const struct crypt *k, const void *ad, size_t adlen,
	       const void *plain, size_t len, uint8_t *out)
{
	uint32_t cur = __atomic_load_n(&k->current, __ATOMIC_ACQUIRE);

	return seal_with(k->cipher, &k->keys[cur], ad, adlen, plain, len, out);
}

uint32_t crypt_key_of(const uint8_t *in, size_t len)
{
	if (len < CRYPT_OVERHEAD || in[0] != ENVELOPE_FMT)
		return 0;
	return get_be32(in + 1);
}

int crypt_open(const struct crypt *k, const void *ad, size_t adlen,
	       const uint8_t *in, size_t len, uint8_t *out)
{
	const struct dkey *d;

	if (len < CRYPT_OVERHEAD || in[0] != ENVELOPE_FMT || len - CRYPT_OVERHEAD > INT32_MAX)
		return -EBADMSG;
	d = key_by_id(k, get_be32(in + 1));
	if (!d)
		return -ENOKEY;
	return open_with(k->cipher, d, ad, adlen, in, len, out);
}

int crypt_chunk_id(const struct crypt *k, const void *data, size_t len, uint8_t id[32])
{
	return mac_pooled(k->idmacs, k->idmac, data, len, NULL, 0, NULL, 0, id);
}

void crypt_chunk_ids(const struct crypt *k, size_t n, const uint8_t *const data[],
		     const size_t len[], uint8_t id[][32], int ret[])
{
	if (k->cipher == CRYPT_AES_GCM) {
		hmac_sha256_multi(&k->idhm, n, data, len, id);
		for (size_t i = 0; i < n; i++)
			ret[i] = 0;
		return;
	}
	for (size_t i = 0; i < n; i++)
		ret[i] = crypt_chunk_id(k, data[i], len[i], id[i]);
}
