/*
 * store/crypt_int.h - what store/crypt.c shares with the scratch files'
 * sealing (store/crypt_scratch.c): the fetched ciphers and keyed MACs.
 */
#ifndef POOL_STORE_CRYPT_INT_H
#define POOL_STORE_CRYPT_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "store/crypt.h"

/* The fetched cipher: "gcm" (AES-256-GCM), "sm4" (SM4-CTR), else AES-256-CTR. */
const EVP_CIPHER *crypt_evp_cipher(const char *name);

/* An HMAC context of the profile's hash (SHA-256, or SM3 for sm4), keyed with key. */
EVP_MAC_CTX *crypt_mac_new(enum crypt_cipher c, const uint8_t *key, size_t klen);

/* Up to three pieces MACed with ctx (keyed); out gets 32 bytes. */
int crypt_mac_run(EVP_MAC_CTX *ctx, const void *a, size_t alen, const void *b, size_t blen,
		  const void *c, size_t clen, uint8_t out[32]);

#endif
