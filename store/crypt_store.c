/*
 * store/crypt_store.c - a pool's keys and the seal/open pair for its
 * values (which values: store/crypt_store.h).
 *
 *   CF    key      value
 *   ----  -------  ----------------------------------------------------
 *   meta  "crypt"  JSON {"cipher", "pool_id", "key_file", "keyset": hex
 *                  of the keyset sealed with the master key}; a pool
 *                  keyed by a passphrase has key_file "" and "kdf":
 *                  {"name": "scrypt", "salt": hex, "n", "r", "p"}
 *
 * meta "format" is 2 in an encrypted pool, so a poolfs that predates
 * encryption refuses it instead of reading ciphertext as records; a
 * plain pool keeps format 1.
 *
 * keys/hash.key and keys/sign.key hold their secrets sealed with the
 * master key (label "poolfs secret POOL-ID NAME"); they are opened once
 * at open and kept in memory, like the keyset. The master key stays in
 * memory too, for rotation through a running daemon.
 */
#include "store/audit_int.h"
#include "store/crypt_store.h"
#include "store/tree_tag.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "common/alloc.h"
#include "common/codec.h"
#include "common/log.h"

#define META_CRYPT	"crypt"

static char *key_file_override;
static struct strbuf passphrase = STRBUF_INIT;
static bool have_passphrase;

void store_set_passphrase(const struct strbuf *pass)
{
	if (passphrase.alloc)
		OPENSSL_cleanse(passphrase.buf, passphrase.alloc);
	strbuf_reset(&passphrase);
	have_passphrase = pass != NULL;
	if (pass)
		strbuf_add(&passphrase, pass->buf, pass->len);
}

int store_set_passphrase_file(const char *path, struct perr *e)
{
	struct strbuf pass = STRBUF_INIT;
	int ret;

	ret = crypt_passphrase_read(path, &pass, e);
	if (!ret)
		store_set_passphrase(&pass);
	OPENSSL_cleanse(pass.buf, pass.alloc);
	strbuf_release(&pass);
	return ret;
}

void store_set_key_file(const char *path)
{
	free(key_file_override);
	key_file_override = path ? xstrdup(path) : NULL;
}

bool store_key_given(void)
{
	return key_file_override || have_passphrase;
}

void crypt_store_free(struct store_crypt *c)
{
	if (!c)
		return;
	crypt_free(c->k);
	free(c->key_file);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

void crypt_secret_label(const struct store_crypt *c, const char *name, char *out, size_t len)
{
	snprintf(out, len, "poolfs secret %s %s", c->pool_id, name);
}

/*
 * What the keyset's wrap is bound to: the pool id, and the tree flag, so
 * a record whose "tree" was deleted no longer opens (store/tree_tag.c).
 */
static void wrap_label(const struct store_crypt *c, char *out, size_t len)
{
	snprintf(out, len, "%s%s", c->pool_id, c->tree_tag ? " tree-tag" : "");
}

/* The meta "crypt" record for c's keyset (staged key included). */
int crypt_store_meta(const struct store_crypt *c, struct strbuf *out)
{
	struct strbuf blob = STRBUF_INIT;
	json_t *o = NULL;
	char *hex = NULL, *txt = NULL;
	char label[64];
	int ret;

	wrap_label(c, label, sizeof(label));
	ret = crypt_wrap(c->k, c->master, label, &blob);
	if (ret)
		goto out;
	hex = xmalloc(2 * blob.len + 1);
	hex_encode((const uint8_t *)blob.buf, blob.len, hex);
	o = json_pack("{s:s, s:s, s:s, s:s}", "cipher", crypt_cipher_name(crypt_cipher_of(c->k)),
		      "pool_id", c->pool_id, "key_file", c->key_file, "keyset", hex);
	if (o && c->tree_tag && json_object_set_new(o, "tree", json_string("tag"))) {
		json_decref(o);
		o = NULL;
	}
	if (o && c->has_kdf) {
		char salt[2 * sizeof(c->kdf.salt) + 1];

		hex_encode(c->kdf.salt, sizeof(c->kdf.salt), salt);
		if (json_object_set_new(o, "kdf", json_pack("{s:s, s:s, s:I, s:I, s:I}",
							   "name", "scrypt", "salt", salt,
							   "n", (json_int_t)c->kdf.n,
							   "r", (json_int_t)c->kdf.r,
							   "p", (json_int_t)c->kdf.p))) {
			json_decref(o);
			o = NULL;
		}
	}
	txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (!txt) {
		ret = -ENOMEM;
		goto out;
	}
	strbuf_reset(out);
	strbuf_addstr(out, txt);
out:
	free(txt);
	json_decref(o);
	free(hex);
	strbuf_release(&blob);
	return ret;
}

/* Reads keys/NAME.key and opens it into out (32 bytes). */
static int secret_load(struct store *s, struct store_crypt *c, const char *name, uint8_t out[32],
		       struct perr *e)
{
	struct strbuf path = STRBUF_INIT;
	uint8_t buf[128];
	char label[128];
	ssize_t n;
	int fd, ret = 0;

	strbuf_addf(&path, "%s/keys/%s.key", s->dir, name);
	fd = open(path.buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = perr_set(e, errno, "%s: %s", path.buf, strerror(errno));
		goto out;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	crypt_secret_label(c, name, label, sizeof(label));
	if (n >= 0)
		n = crypt_unwrap_secret(crypt_cipher_of(c->k), c->master, label, buf,
					(size_t)n, out, 32);
	if (n != 32)
		ret = perr_set(e, EKEYREJECTED, "%s: does not open with the pool's master key",
			       path.buf);
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	strbuf_release(&path);
	return ret;
}

/* The master key from the process's passphrase and the pool's kdf record. */
static int passphrase_master(struct store *s, struct store_crypt *c, json_t *kdf,
			     struct perr *e)
{
	const char *name = NULL, *salt = NULL;
	json_int_t n = 0, r = 0, p = 0;
	int ret;

	if (json_unpack(kdf, "{s:s, s:s, s:I, s:I, s:I}", "name", &name, "salt", &salt,
			"n", &n, "r", &r, "p", &p) || strcmp(name, "scrypt") ||
	    strlen(salt) != 2 * sizeof(c->kdf.salt) ||
	    hex_decode(salt, c->kdf.salt, sizeof(c->kdf.salt)) || n <= 0 || r <= 0 || p <= 0 ||
	    r > UINT32_MAX || p > UINT32_MAX)
		return perr_set(e, EINVAL, "%s: the pool's key record is damaged (kdf)", s->dir);
	c->has_kdf = true;
	c->kdf.n = (uint64_t)n;
	c->kdf.r = (uint32_t)r;
	c->kdf.p = (uint32_t)p;
	if (!have_passphrase)
		return perr_set(e, ENOKEY, "%s: encrypted pool keyed by a passphrase: give it "
				"with --passphrase-file or -o passphrase_file", s->dir);
	ret = crypt_kdf_derive(&c->kdf, passphrase.buf, passphrase.len, c->master);
	if (ret == -EINVAL)
		return perr_set(e, EINVAL, "%s: the pool's key record is damaged (scrypt cost "
				"out of range)", s->dir);
	if (ret)
		return perr_set(e, -ret, "%s: scrypt failed", s->dir);
	return 0;
}

int crypt_store_load(struct store *s, struct perr *e)
{
	struct strbuf v = STRBUF_INIT;
	struct store_crypt *c = NULL;
	json_error_t jerr;
	json_t *o = NULL, *kdf, *tree;
	const char *cipher = NULL, *pool_id = NULL, *key_file = NULL, *keyset = NULL, *path;
	enum crypt_cipher ci;
	uint8_t *blob = NULL;
	size_t blen;
	char label[64];
	int ret;

	ret = store_get(s, CF_META, META_CRYPT, strlen(META_CRYPT), &v);
	if (ret) {
		ret = perr_set(e, ret == -ENOENT ? EINVAL : -ret,
			       "%s: encrypted pool without its key record", s->dir);
		goto out;
	}
	o = json_loadb(v.buf, v.len, 0, &jerr);
	if (!o || json_unpack(o, "{s:s, s:s, s:s, s:s}", "cipher", &cipher, "pool_id", &pool_id,
			      "key_file", &key_file, "keyset", &keyset) ||
	    crypt_cipher_parse(cipher, &ci) || ci == CRYPT_PLAIN || strlen(pool_id) != 32 ||
	    strlen(keyset) % 2) {
		ret = perr_set(e, EINVAL, "%s: the pool's key record is damaged", s->dir);
		goto out;
	}
	c = xcalloc(1, sizeof(*c));
	blen = strlen(keyset) / 2;
	blob = xmalloc(blen ? blen : 1);
	c->key_file = xstrdup(key_file);
	memcpy(c->pool_id, pool_id, 33);
	if (hex_decode(keyset, blob, blen)) {
		ret = perr_set(e, EINVAL, "%s: the pool's key record is damaged", s->dir);
		goto out;
	}
	tree = json_object_get(o, "tree");
	c->tree_tag = tree != NULL;
	if (tree && (!json_is_string(tree) || strcmp(json_string_value(tree), "tag"))) {
		ret = perr_set(e, EINVAL, "%s: the pool's key record is damaged (tree)", s->dir);
		goto out;
	}
	wrap_label(c, label, sizeof(label));
	kdf = json_object_get(o, "kdf");
	if (kdf) {
		ret = passphrase_master(s, c, kdf, e);
		if (ret)
			goto out;
		path = "the passphrase";
		ret = crypt_unwrap(ci, blob, blen, c->master, label, &c->k);
		if (ret == -EKEYREJECTED) {
			ret = perr_set(e, EKEYREJECTED, "%s: the passphrase does not open this "
				       "pool (wrong passphrase)", s->dir);
			goto out;
		}
	} else {
		path = key_file_override ? key_file_override : key_file;
		ret = crypt_master_load(path, c->master, NULL);
		if (ret) {
			ret = perr_set(e, -ret, "%s: encrypted pool: key file \"%s\": %s (give the "
				       "key with --key-file or -o key_file)", s->dir, path,
				       strerror(-ret));
			goto out;
		}
		ret = crypt_unwrap(ci, blob, blen, c->master, label, &c->k);
		if (ret == -EKEYREJECTED) {
			ret = perr_set(e, EKEYREJECTED, "%s: key file \"%s\" does not open this "
				       "pool (wrong key)", s->dir, path);
			goto out;
		}
	}
	if (ret) {
		ret = perr_set(e, -ret, "%s: the pool's keyset is damaged", s->dir);
		goto out;
	}
	ret = secret_load(s, c, "hash", c->hash_key, e);
	if (!ret)
		ret = secret_load(s, c, "sign", c->sign_key, e);
	if (ret)
		goto out;
	s->tree_tag = c->tree_tag;
	s->crypt = c;
	c = NULL;
out:
	crypt_store_free(c);
	free(blob);
	json_decref(o);
	strbuf_release(&v);
	return ret;
}

/* ---- values ---- */

bool store_sealed(const struct store *s, enum store_cf cf, const void *key, size_t klen)
{
	if (!s->crypt)
		return false;
	switch (cf) {
	case CF_CHUNKS:
	case CF_VERSIONS:
	case CF_POLICY:
		return true;
	case CF_VIEWS:
		/* views, and segment maps: their offsets and line numbers are the content's */
		return klen > 0 && (((const uint8_t *)key)[0] == 'v' ||
				    ((const uint8_t *)key)[0] == 'm');
	default:
		return false;
	}
}

/* "poolfs" 0 family 0 key, in buf when it fits, else malloc'd into *heap. */
static const uint8_t *make_ad(enum store_cf cf, const void *key, size_t klen, uint8_t *buf,
			      size_t cap, uint8_t **heap, size_t *adlen)
{
	const char *name = store_cf_names[cf];
	size_t nlen = strlen(name), len = 7 + nlen + 1 + klen;
	uint8_t *p = buf;

	*heap = NULL;
	if (len > cap) {
		p = *heap = xmalloc(len);
	}
	memcpy(p, "poolfs", 7);
	memcpy(p + 7, name, nlen + 1);
	memcpy(p + 8 + nlen, key, klen);
	*adlen = len;
	return p;
}

static void log_damage(struct store *s, enum store_cf cf, const void *key, size_t klen, int why)
{
	char hex[2 * 65 + 1];
	size_t n = klen > 65 ? 65 : klen;

	hex_encode(key, n, hex);
	log_err("%s: %s value %s fails its check: %s", s->dir, store_cf_names[cf], hex,
		why == -ENOKEY ? "sealed with a key this pool does not hold" :
		"damaged, or moved from another key");
}

/* Seals (seal true) or opens in[0..n) into out, bound to family cf and key. */
static int with_ad(struct store *s, enum store_cf cf, const void *key, size_t klen,
		   bool seal, const void *in, size_t n, uint8_t *out)
{
	uint8_t buf[128], *heap;
	size_t adlen;
	const uint8_t *ad = make_ad(cf, key, klen, buf, sizeof(buf), &heap, &adlen);
	int ret = seal ? crypt_seal(s->crypt->k, ad, adlen, in, n, out) :
			 crypt_open(s->crypt->k, ad, adlen, in, n, out);

	free(heap);
	return ret;
}

int store_seal_to(struct store *s, enum store_cf cf, const void *key, size_t klen,
		  const void *data, size_t n, uint8_t *out)
{
	return with_ad(s, cf, key, klen, true, data, n, out);
}

int store_check_to(struct store *s, enum store_cf cf, const void *key, size_t klen,
		   const void *v, size_t vlen, uint8_t *out)
{
	return with_ad(s, cf, key, klen, false, v, vlen, out);
}

int store_open_to(struct store *s, enum store_cf cf, const void *key, size_t klen,
		  const void *v, size_t vlen, uint8_t *out)
{
	int ret = store_check_to(s, cf, key, klen, v, vlen, out);

	if (ret) {
		log_damage(s, cf, key, klen, ret);
		ret = -EIO;
	}
	return ret;
}

void store_put_value(struct store *s, rocksdb_writebatch_t *b, enum store_cf cf,
		     const void *key, size_t klen, const void *v, size_t vlen)
{
	struct strbuf sealed = STRBUF_INIT;

	if (!store_sealed(s, cf, key, klen)) {
		rocksdb_writebatch_put_cf(b, s->cf[cf], key, klen, v, vlen);
		return;
	}
	strbuf_grow(&sealed, vlen + CRYPT_OVERHEAD);
	if (store_seal_to(s, cf, key, klen, v, vlen, (uint8_t *)sealed.buf)) {
		/* a seal fails only when OpenSSL has no memory or no randomness */
		fprintf(stderr, "poolfs: cannot seal a value\n");
		abort();
	}
	rocksdb_writebatch_put_cf(b, s->cf[cf], key, klen, sealed.buf, vlen + CRYPT_OVERHEAD);
	strbuf_release(&sealed);
}

int store_open_value(struct store *s, enum store_cf cf, const void *key, size_t klen,
		     const void *v, size_t vlen, struct strbuf *out)
{
	int ret;

	strbuf_reset(out);
	if (!store_sealed(s, cf, key, klen)) {
		strbuf_add(out, v, vlen);
		return 0;
	}
	if (vlen < CRYPT_OVERHEAD) {
		log_damage(s, cf, key, klen, -EBADMSG);
		return -EIO;
	}
	strbuf_grow(out, vlen - CRYPT_OVERHEAD);
	ret = store_open_to(s, cf, key, klen, v, vlen, (uint8_t *)out->buf);
	strbuf_setlen(out, ret ? 0 : vlen - CRYPT_OVERHEAD);
	return ret;
}

int store_get_value(struct store *s, enum store_cf cf, const void *key, size_t klen,
		    struct strbuf *val)
{
	struct strbuf raw = STRBUF_INIT;
	int ret;

	if (!store_sealed(s, cf, key, klen))
		return store_get(s, cf, key, klen, val);
	strbuf_reset(val);
	ret = store_get(s, cf, key, klen, &raw);
	if (!ret)
		ret = store_open_value(s, cf, key, klen, raw.buf, raw.len, val);
	strbuf_release(&raw);
	return ret;
}

/* ---- audit values ---- */

int audit_value_seal(struct store *s, uint64_t seq, char **value, size_t *len)
{
	uint8_t key[8], *out;
	int ret;

	if (!s->crypt)
		return 0;
	out = xmalloc(8 + *len + CRYPT_OVERHEAD);
	put_be64(key, seq);
	memcpy(out, key, 8);
	ret = store_seal_to(s, CF_AUDIT, key, 8, *value, *len, out + 8);
	if (ret) {
		free(out);
		return ret;
	}
	free(*value);
	*value = (char *)out;
	*len += 8 + CRYPT_OVERHEAD;
	return 0;
}

int audit_value_open(struct store *s, uint64_t want, const char *v, size_t vlen,
		     struct strbuf *tmp, const char **p, size_t *len)
{
	const uint8_t *u = (const uint8_t *)v;

	if (!s->crypt) {
		*p = v;
		*len = vlen;
		return 0;
	}
	if (vlen < 8 + CRYPT_OVERHEAD || (want && get_be64(u) != want))
		return -EBADMSG;
	strbuf_reset(tmp);
	strbuf_grow(tmp, vlen);
	if (store_open_to(s, CF_AUDIT, u, 8, u + 8, vlen - 8, (uint8_t *)tmp->buf))
		return -EBADMSG;
	strbuf_setlen(tmp, vlen - 8 - CRYPT_OVERHEAD);
	*p = tmp->buf;
	*len = tmp->len;
	return 0;
}

/* ---- information and rotation ---- */

void store_crypto_info(struct store *s, struct store_crypto_info *info)
{
	memset(info, 0, sizeof(*info));
	if (audit_algo_load(s, NULL, info->audit_hash))
		snprintf(info->audit_hash, sizeof(info->audit_hash), "unknown");
	{
		struct strbuf v = STRBUF_INIT;
		bool sm2 = !store_get(s, CF_META, AUDIT_META_SIGN, strlen(AUDIT_META_SIGN), &v) &&
			   v.len == 3 && !memcmp(v.buf, "sm2", 3);

		snprintf(info->audit_sign, sizeof(info->audit_sign), "%s",
			 sm2 ? "sm2 checkpoints, hmac-sm3 head" :
			       "ed25519 checkpoints, hmac-sha512 head");
		strbuf_release(&v);
	}
	if (!s->crypt)
		return;
	info->cipher = crypt_cipher_of(s->crypt->k);
	memcpy(info->pool_id, s->crypt->pool_id, sizeof(info->pool_id));
	snprintf(info->key_file, sizeof(info->key_file), "%s", s->crypt->key_file);
	if (s->crypt->has_kdf)
		snprintf(info->kdf, sizeof(info->kdf), "scrypt N=%llu r=%u p=%u",
			 (unsigned long long)s->crypt->kdf.n, s->crypt->kdf.r, s->crypt->kdf.p);
	info->key_id = crypt_current(s->crypt->k);
	info->nkeys = crypt_nkeys(s->crypt->k);
}

int store_key_rotate(struct store *s, uint32_t *key_id, struct perr *e)
{
	rocksdb_writebatch_t *b;
	struct strbuf meta = STRBUF_INIT;
	int ret;

	if (!s->crypt)
		return perr_set(e, EINVAL, "%s: the pool is not encrypted", s->dir);
	if (s->flags & STORE_OPEN_RDONLY)
		return perr_set(e, EROFS, "%s: opened read-only", s->dir);
	b = rocksdb_writebatch_create();
	pthread_mutex_lock(&s->lock);
	ret = crypt_stage_key(s->crypt->k);
	if (!ret)
		ret = crypt_store_meta(s->crypt, &meta);
	if (!ret) {
		rocksdb_writebatch_put_cf(b, s->cf[CF_META], META_CRYPT, strlen(META_CRYPT),
					  meta.buf, meta.len);
		/* durable before the key seals anything: a crash leaves either keyset */
		ret = store_write(s, b, true);
	}
	if (ret) {
		crypt_drop_staged(s->crypt->k);
		perr_set(e, -ret, "%s: cannot store the new key: %s", s->dir, strerror(-ret));
	} else {
		crypt_commit_key(s->crypt->k);
		*key_id = crypt_current(s->crypt->k);
	}
	pthread_mutex_unlock(&s->lock);
	rocksdb_writebatch_destroy(b);
	strbuf_release(&meta);
	return ret;
}
