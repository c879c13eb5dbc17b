/*
 * store/hashkey.c - the keys of the hash mask, one per reading department.
 *
 * One pool-wide key would let a department that can plant values where it
 * reads them hashed build a dictionary valid for every other department's
 * tokens. Each department's key is derived from keys/hash.key, which is
 * never used raw:
 *
 *   key(dept, v1) = HMAC-SHA256(hash.key, "poolfs hash mask v1" NUL dept id)
 *
 * The version is part of every hashed view's fingerprint and of the audit
 * records that name the view, so a token made under an older derivation
 * stays explainable; a new derivation adds a version, never changes one.
 */
#include "store/store.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/strbuf.h"

#define HASH_SECRET_MAX	64

int store_hash_key(struct store *s, const char *dept, unsigned version,
		   uint8_t out[STORE_HASH_KEY_LEN])
{
	struct strbuf info = STRBUF_INIT;
	uint8_t secret[HASH_SECRET_MAX];
	ssize_t len;
	size_t n = 0;
	int ret = -EIO;

	if (!dept || !*dept || version != STORE_HASH_KEY_VERSION)
		return -EINVAL;
	len = store_secret(s, "hash", secret, sizeof(secret));
	if (len <= 0) {
		ret = len < 0 ? (int)len : -ENOKEY;
		goto out;
	}
	strbuf_addf(&info, "poolfs hash mask v%u", version);
	strbuf_add(&info, "", 1);
	strbuf_addstr(&info, dept);
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, (size_t)len,
		      (const unsigned char *)info.buf, info.len, out,
		      STORE_HASH_KEY_LEN, &n) && n == STORE_HASH_KEY_LEN)
		ret = 0;
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	strbuf_release(&info);
	if (ret)
		OPENSSL_cleanse(out, STORE_HASH_KEY_LEN);
	return ret;
}
