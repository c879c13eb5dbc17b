/*
 * store/crypt_scratch.c - sealing the blocks of a scratch file (a stage's
 * spill file) with a key that lives only in memory (store/crypt.h).
 */
#include "store/crypt.h"
#include "store/crypt_int.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/alloc.h"
#include "common/codec.h"
#include "common/search.h"

/* ---- scratch files ---- */

/*
 * Blocks of a scratch file are sealed one by one: IV = be64(block) ||
 * be32(the block's write count), so an IV never repeats under the key;
 * the tag (12 bytes) and the count stay in memory, where whoever can
 * write the file cannot reach them, so a block changed, moved or
 * replayed from an earlier write fails its check. 16 bytes of memory a
 * 4 KiB block, kept in pages of 256 blocks (1 MiB of file) found by a
 * binary search over the pages in use.
 */
#define SCRATCH_TAG	12
#define SCRATCH_PAGE	256
#define SCRATCH_VALID	0x80000000u

struct scratch_ent {
	uint32_t gen;			/* SCRATCH_VALID | writes of the block so far */
	uint8_t tag[SCRATCH_TAG];
};

struct scratch_page {
	uint64_t index;			/* block / SCRATCH_PAGE */
	struct scratch_ent *ent;
};

struct crypt_scratch {
	enum crypt_cipher cipher;
	uint8_t key[CRYPT_KEY_LEN];
	uint8_t mackey[CRYPT_KEY_LEN];	/* sm4: the HMAC-SM3 key */
	EVP_CIPHER_CTX *ctx;		/* keyed once; each block sets its IV */
	EVP_MAC_CTX *mac;		/* sm4 */
	struct scratch_page *pages;	/* sorted by index */
	size_t npages, pages_alloc;
};

int crypt_scratch_new(enum crypt_cipher c, struct crypt_scratch **out)
{
	struct crypt_scratch *x = xcalloc(1, sizeof(*x));
	bool ok;

	*out = NULL;
	x->cipher = c;
	ok = RAND_bytes(x->key, sizeof(x->key)) == 1 &&
	     RAND_bytes(x->mackey, sizeof(x->mackey)) == 1;
	x->ctx = ok ? EVP_CIPHER_CTX_new() : NULL;
	if (x->ctx && c == CRYPT_SM4) {
		x->mac = crypt_mac_new(c, x->mackey, sizeof(x->mackey));
		ok = x->mac && EVP_EncryptInit_ex(x->ctx, crypt_evp_cipher("sm4"), NULL, x->key, NULL);
	} else if (x->ctx) {
		/* the plain profile uses GCM for its tag only (GMAC): the file stays plain */
		ok = EVP_EncryptInit_ex(x->ctx, crypt_evp_cipher("gcm"), NULL, x->key, NULL);
	}
	if (!x->ctx || !ok) {
		crypt_scratch_free(x);
		return -EIO;
	}
	*out = x;
	return 0;
}

static struct scratch_ent *scratch_ent(struct crypt_scratch *x, uint64_t blk, bool make)
{
	uint64_t idx = blk / SCRATCH_PAGE;
	size_t lo = search_u64_first(x->pages, x->npages, sizeof(*x->pages),
				     offsetof(struct scratch_page, index), idx);

	if (lo < x->npages && x->pages[lo].index == idx)
		return &x->pages[lo].ent[blk % SCRATCH_PAGE];
	if (!make)
		return NULL;
	ALLOC_GROW(x->pages, x->npages + 1, x->pages_alloc);
	memmove(x->pages + lo + 1, x->pages + lo, (x->npages - lo) * sizeof(*x->pages));
	x->npages++;
	x->pages[lo].index = idx;
	x->pages[lo].ent = xcalloc(SCRATCH_PAGE, sizeof(struct scratch_ent));
	return &x->pages[lo].ent[blk % SCRATCH_PAGE];
}

/* HMAC-SM3 of iv[0..12) || the block's ciphertext, for the sm4 profile */
static int scratch_mac(struct crypt_scratch *x, const uint8_t iv[16], const uint8_t *buf,
		       uint8_t tag[32])
{
	/* a scratch file has one user at a time: its own context, reset per block */
	return crypt_mac_run(x->mac, iv, 12, buf, CRYPT_SCRATCH_BLOCK, NULL, 0, tag);
}

/*
 * Seals (seal) or opens block blk, written for the gen-th time, in buf:
 * sealing fills tag; opening checks buf against tag and then decrypts it.
 * -EBADMSG when the check fails.
 */
static int scratch_run(struct crypt_scratch *x, uint64_t blk, uint32_t gen, uint8_t *buf,
		       bool seal, uint8_t tag[32])
{
	uint8_t iv[16] = { 0 }, mine[32];
	int n, ok, ret;

	put_be64(iv, blk);
	put_be32(iv + 8, gen);
	switch (x->cipher) {
	case CRYPT_SM4:
		if (seal) {
			ok = EVP_EncryptInit_ex(x->ctx, NULL, NULL, NULL, iv) &&
			     EVP_EncryptUpdate(x->ctx, buf, &n, buf, CRYPT_SCRATCH_BLOCK);
			return ok ? scratch_mac(x, iv, buf, tag) : -EIO;
		}
		ret = scratch_mac(x, iv, buf, mine);
		if (ret)
			return ret;
		if (CRYPTO_memcmp(mine, tag, SCRATCH_TAG))
			return -EBADMSG;
		ok = EVP_EncryptInit_ex(x->ctx, NULL, NULL, NULL, iv) &&
		     EVP_EncryptUpdate(x->ctx, buf, &n, buf, CRYPT_SCRATCH_BLOCK);
		return ok ? 0 : -EIO;
	case CRYPT_PLAIN:
		/* GMAC: the block is the associated data, nothing is encrypted */
		ok = EVP_EncryptInit_ex(x->ctx, NULL, NULL, NULL, iv) &&
		     EVP_EncryptUpdate(x->ctx, NULL, &n, buf, CRYPT_SCRATCH_BLOCK) &&
		     EVP_EncryptFinal_ex(x->ctx, mine, &n) &&
		     EVP_CIPHER_CTX_ctrl(x->ctx, EVP_CTRL_GCM_GET_TAG, 16, mine);
		if (!ok)
			return -EIO;
		if (seal)
			memcpy(tag, mine, SCRATCH_TAG);
		return seal || !CRYPTO_memcmp(mine, tag, SCRATCH_TAG) ? 0 : -EBADMSG;
	default:
		break;
	}
	if (seal) {
		ok = EVP_EncryptInit_ex(x->ctx, NULL, NULL, NULL, iv) &&
		     EVP_EncryptUpdate(x->ctx, buf, &n, buf, CRYPT_SCRATCH_BLOCK) &&
		     EVP_EncryptFinal_ex(x->ctx, mine, &n) &&
		     EVP_CIPHER_CTX_ctrl(x->ctx, EVP_CTRL_GCM_GET_TAG, 16, tag);
		return ok ? 0 : -EIO;
	}
	/* a truncated GCM tag is the prefix of the full one */
	ok = EVP_DecryptInit_ex(x->ctx, NULL, NULL, NULL, iv) &&
	     EVP_DecryptUpdate(x->ctx, buf, &n, buf, CRYPT_SCRATCH_BLOCK) &&
	     EVP_CIPHER_CTX_ctrl(x->ctx, EVP_CTRL_GCM_SET_TAG, SCRATCH_TAG, tag);
	if (!ok)
		return -EIO;
	return EVP_DecryptFinal_ex(x->ctx, mine, &n) > 0 ? 0 : -EBADMSG;
}

int crypt_scratch_seal(struct crypt_scratch *x, uint64_t blk, uint8_t *buf)
{
	struct scratch_ent *e = scratch_ent(x, blk, true);
	uint32_t gen = (e->gen & ~SCRATCH_VALID) + 1;
	uint8_t tag[32];
	int ret;

	if (gen & SCRATCH_VALID)
		return -EOVERFLOW;	/* 2^31 writes of one block: the IVs would repeat */
	ret = scratch_run(x, blk, gen, buf, true, tag);
	/* counted even when it failed: an IV is never used twice */
	e->gen = gen | (ret ? 0 : SCRATCH_VALID);
	if (!ret)
		memcpy(e->tag, tag, SCRATCH_TAG);
	return ret;
}

int crypt_scratch_xor(struct crypt_scratch *x, uint8_t *buf, size_t len, uint64_t off)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t iv[16] = { 0 }, skip[16];
	size_t lead = (size_t)(off % 16);
	int n, ok;

	if (!len)
		return 0;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	/* the counter block of byte off: offsets are below 2^63, so no wrap */
	put_be64(iv + 8, off / 16);
	ok = EVP_EncryptInit_ex(ctx, crypt_evp_cipher(x->cipher == CRYPT_SM4 ? "sm4" : "aes"),
				NULL, x->key, iv);
	memset(skip, 0, sizeof(skip));
	/* CTR keeps its place within a block: spend the lead bytes first */
	if (ok && lead)
		ok = EVP_EncryptUpdate(ctx, skip, &n, skip, (int)lead);
	while (ok && len) {
		int step = len > (1u << 30) ? 1 << 30 : (int)len;

		ok = EVP_EncryptUpdate(ctx, buf, &n, buf, step);
		buf += step;
		len -= (size_t)step;
	}
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

int crypt_scratch_open(struct crypt_scratch *x, uint64_t blk, uint8_t *buf)
{
	struct scratch_ent *e = scratch_ent(x, blk, false);
	uint8_t tag[32];

	if (!e || !(e->gen & SCRATCH_VALID))
		return 1;
	memcpy(tag, e->tag, SCRATCH_TAG);
	return scratch_run(x, blk, e->gen & ~SCRATCH_VALID, buf, false, tag);
}

void crypt_scratch_forget(struct crypt_scratch *x, uint64_t from)
{
	for (size_t i = 0; i < x->npages; i++) {
		struct scratch_page *p = &x->pages[i];

		if ((p->index + 1) * SCRATCH_PAGE <= from)
			continue;
		/* the counts stay: a block written again never reuses an IV */
		for (uint64_t b = 0; b < SCRATCH_PAGE; b++)
			if (p->index * SCRATCH_PAGE + b >= from)
				p->ent[b].gen &= ~SCRATCH_VALID;
	}
}

void crypt_scratch_free(struct crypt_scratch *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->npages; i++)
		free(x->pages[i].ent);
	free(x->pages);
	EVP_CIPHER_CTX_free(x->ctx);
	EVP_MAC_CTX_free(x->mac);
	OPENSSL_cleanse(x, sizeof(*x));
	free(x);
}
