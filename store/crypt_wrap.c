/*
 * store/crypt_wrap.c - a pool's keyset and secrets sealed with its master
 * key (formats drawn in store/crypt.h), and opened again at start.
 */
#include "store/crypt.h"
#include "store/crypt_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/alloc.h"
#include "common/codec.h"
#include "common/strbuf.h"

#define KEYSET_FMT	1
#define WRAP_KEY_ID	0		/* the id sealed values of the master key carry */

static int master_key(enum crypt_cipher c, const uint8_t master[32], struct dkey *d)
{
	return dkey_set(c, d, WRAP_KEY_ID, master);
}

/*
 * Keyset, before wrapping: u8 format (1), u8 cipher, be32 current key id,
 * 32 chunk-id key, be32 n, n x (be32 id, 32 raw key).
 */
int crypt_wrap(const struct crypt *k, const uint8_t master[CRYPT_KEY_LEN], const char *pool_id,
	       struct strbuf *out)
{
	uint32_t n = __atomic_load_n(&k->nkeys, __ATOMIC_SEQ_CST), cur = __atomic_load_n(&k->current, __ATOMIC_SEQ_CST);
	struct strbuf plain = STRBUF_INIT, ad = STRBUF_INIT;
	struct dkey mk;
	uint8_t h[10];
	int ret;

	if (k->staged) {
		cur = n;
		n++;
	}
	h[0] = KEYSET_FMT;
	h[1] = (uint8_t)k->cipher;
	put_be32(h + 2, k->keys[cur].id);
	strbuf_add(&plain, h, 6);
	strbuf_add(&plain, k->idkey, CRYPT_KEY_LEN);
	put_be32(h, n);
	strbuf_add(&plain, h, 4);
	for (uint32_t i = 0; i < n; i++) {
		put_be32(h, k->keys[i].id);
		strbuf_add(&plain, h, 4);
		strbuf_add(&plain, k->keys[i].raw, CRYPT_KEY_LEN);
	}
	strbuf_addf(&ad, "poolfs keyset %s", pool_id);
	ret = master_key(k->cipher, master, &mk);
	if (ret)
		goto out;
	strbuf_grow(out, plain.len + CRYPT_OVERHEAD);
	ret = seal_with(k->cipher, &mk, ad.buf, ad.len, plain.buf, plain.len,
			(uint8_t *)out->buf + out->len);
	if (!ret)
		strbuf_setlen(out, out->len + plain.len + CRYPT_OVERHEAD);
	dkey_clear(&mk);
out:
	OPENSSL_cleanse(plain.buf, plain.len);
	strbuf_release(&plain);
	strbuf_release(&ad);
	return ret;
}

static int keyset_decode(enum crypt_cipher c, const uint8_t *p, size_t len, struct crypt **out)
{
	struct crypt *k = NULL;
	uint32_t n, cur;
	int ret = -EBADMSG;

	if (len < 42 || p[0] != KEYSET_FMT || p[1] != (uint8_t)c)
		goto out;
	cur = get_be32(p + 2);
	n = get_be32(p + 38);
	if (n == 0 || n > CRYPT_MAX_KEYS || len != 42 + (size_t)n * 36)
		goto out;
	k = crypt_alloc(c, p + 6);
	if (!k) {
		ret = -ENOMEM;
		goto out;
	}
	ret = 0;
	for (uint32_t i = 0; i < n && !ret; i++) {
		const uint8_t *e = p + 42 + (size_t)i * 36;

		ret = get_be32(e) ? dkey_set(c, &k->keys[i], get_be32(e), e + 4) : -EBADMSG;
		if (!ret && get_be32(e) == cur)
			__atomic_store_n(&k->current, i, __ATOMIC_SEQ_CST);
	}
	if (!ret && k->keys[__atomic_load_n(&k->current, __ATOMIC_SEQ_CST)].id != cur)
		ret = -EBADMSG;
	if (ret)
		goto out;
	__atomic_store_n(&k->nkeys, n, __ATOMIC_SEQ_CST);
	*out = k;
	k = NULL;
out:
	crypt_free(k);
	return ret;
}

int crypt_unwrap(enum crypt_cipher c, const uint8_t *blob, size_t len,
		 const uint8_t master[CRYPT_KEY_LEN], const char *pool_id, struct crypt **out)
{
	struct strbuf ad = STRBUF_INIT;
	uint8_t *plain = NULL;
	struct dkey mk;
	int ret;

	*out = NULL;
	if (len < CRYPT_OVERHEAD || blob[0] != ENVELOPE_FMT || get_be32(blob + 1) != WRAP_KEY_ID)
		return -EBADMSG;
	plain = xmalloc(len);
	strbuf_addf(&ad, "poolfs keyset %s", pool_id);
	ret = master_key(c, master, &mk);
	if (!ret) {
		ret = open_with(c, &mk, ad.buf, ad.len, blob, len, plain);
		dkey_clear(&mk);
	}
	if (ret == -EBADMSG)
		ret = -EKEYREJECTED;
	if (!ret)
		ret = keyset_decode(c, plain, len - CRYPT_OVERHEAD, out);
	OPENSSL_cleanse(plain, len);
	free(plain);
	strbuf_release(&ad);
	return ret;
}

int crypt_wrap_secret(enum crypt_cipher c, const uint8_t master[CRYPT_KEY_LEN],
		      const char *label, const uint8_t *secret, size_t len, struct strbuf *out)
{
	struct dkey mk;
	int ret = master_key(c, master, &mk);

	if (ret)
		return ret;
	strbuf_grow(out, len + CRYPT_OVERHEAD);
	ret = seal_with(c, &mk, label, strlen(label), secret, len,
			(uint8_t *)out->buf + out->len);
	if (!ret)
		strbuf_setlen(out, out->len + len + CRYPT_OVERHEAD);
	dkey_clear(&mk);
	return ret;
}

ssize_t crypt_unwrap_secret(enum crypt_cipher c, const uint8_t master[CRYPT_KEY_LEN],
			    const char *label, const uint8_t *in, size_t len,
			    uint8_t *out, size_t cap)
{
	struct dkey mk;
	uint8_t *tmp;
	int ret;

	if (len < CRYPT_OVERHEAD || in[0] != ENVELOPE_FMT || get_be32(in + 1) != WRAP_KEY_ID)
		return -EKEYREJECTED;
	if (len - CRYPT_OVERHEAD > cap)
		return -ENOSPC;
	tmp = xmalloc(len);
	ret = master_key(c, master, &mk);
	if (!ret) {
		ret = open_with(c, &mk, label, strlen(label), in, len, tmp);
		dkey_clear(&mk);
	}
	if (ret == -EBADMSG)
		ret = -EKEYREJECTED;
	if (!ret)
		memcpy(out, tmp, len - CRYPT_OVERHEAD);
	OPENSSL_cleanse(tmp, len);
	free(tmp);
	return ret ? ret : (ssize_t)(len - CRYPT_OVERHEAD);
}
