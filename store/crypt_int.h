/*
 * store/crypt_int.h - what store/crypt.c shares with the scratch files'
 * sealing (store/crypt_scratch.c): the fetched ciphers and keyed MACs;
 * and with the master key's wrapping (store/crypt_wrap.c): the keyset,
 * its keys and the sealing with one key.
 */
#ifndef POOL_STORE_CRYPT_INT_H
#define POOL_STORE_CRYPT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "store/crypt.h"
#include "store/sha256_multi.h"

/* The fetched cipher: "gcm" (AES-256-GCM), "sm4" (SM4-CTR), else AES-256-CTR. */
const EVP_CIPHER *crypt_evp_cipher(const char *name);

/* An HMAC context of the profile's hash (SHA-256, or SM3 for sm4), keyed with key. */
EVP_MAC_CTX *crypt_mac_new(enum crypt_cipher c, const uint8_t *key, size_t klen);

/* Up to three pieces MACed with ctx (keyed); out gets 32 bytes. */
int crypt_mac_run(EVP_MAC_CTX *ctx, const void *a, size_t alen, const void *b, size_t blen,
		  const void *c, size_t clen, uint8_t out[32]);

#define ENVELOPE_FMT	1

struct ctx_pool;		/* kept OpenSSL contexts of one key (crypt.c) */

struct dkey {
	uint32_t id;
	uint8_t raw[CRYPT_KEY_LEN];
	uint8_t enc[CRYPT_KEY_LEN];	/* AES key, or SM4 key in the first 16 bytes */
	EVP_MAC_CTX *mac;		/* sm4: HMAC-SM3 keyed, the template of macs */
	struct ctx_pool *ciphers;	/* EVP_CIPHER_CTX keyed with enc (GCM or SM4-CTR) */
	struct ctx_pool *macs;		/* sm4: EVP_MAC_CTX copies of mac */
};

struct crypt {
	enum crypt_cipher cipher;
	uint8_t idkey[CRYPT_KEY_LEN];
	EVP_MAC_CTX *idmac;		/* HMAC keyed with idkey, the template of idmacs */
	struct ctx_pool *idmacs;
	struct hmac_sha256_multi idhm;	/* aes: the same HMAC for batches of chunks */
	struct dkey keys[CRYPT_MAX_KEYS];
	uint32_t nkeys;			/* keys[0..nkeys) are published; atomic */
	uint32_t current;		/* index into keys; atomic */
	bool staged;			/* keys[nkeys] is made, not published */
};

/* Frees d's contexts and cleanses it. */
void dkey_clear(struct dkey *d);
/* Makes d key id from raw: its derived keys and contexts; d cleared on failure. */
int dkey_set(enum crypt_cipher c, struct dkey *d, uint32_t id, const uint8_t raw[32]);
/* A keyset with chunk-id key idkey and no data key yet; NULL for CRYPT_PLAIN or no MAC. */
struct crypt *crypt_alloc(enum crypt_cipher c, const uint8_t idkey[32]);
/* crypt_seal() and crypt_open() (store/crypt.h) with key d. */
int seal_with(enum crypt_cipher c, const struct dkey *d, const void *ad, size_t adlen,
	      const void *plain, size_t len, uint8_t *out);
int open_with(enum crypt_cipher c, const struct dkey *d, const void *ad, size_t adlen,
	      const uint8_t *in, size_t len, uint8_t *out);

#endif
