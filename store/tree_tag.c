/*
 * store/tree_tag.c - the tree family's rows (inode records, directory
 * entries, ended entries) authenticated in an encrypted pool.
 *
 * The rows stay plain (a lookup must not decrypt, and a backup is
 * checked without keys), but whoever edits one decides what a name
 * serves: an entry pointed at another file's inode serves that file
 * under this name and its catalog entry's rules, an inode record set
 * back to an older version serves the older content as current. So a
 * pool made with tags ends each row with the envelope of an empty value
 * sealed with the pool's data key (store/crypt_store.c), the associated
 * data being the family, the row's key and its plain value:
 *
 *   value = plain row || envelope (CRYPT_OVERHEAD bytes)
 *
 * A row edited, or moved under another key, fails its check: EIO and a
 * log line, as a sealed value does. Whether a pool tags is in meta
 * "crypt" ("tree": "tag"), and that record's keyset is wrapped with the
 * flag in its associated data, so deleting the flag does not open the
 * pool. Pools made before tags, and pools converted by `poolctl
 * encrypt`, keep untagged rows (docs/encryption.md).
 */
#include "store/tree_tag.h"
#include "store/crypt_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/alloc.h"
#include "common/codec.h"
#include "common/log.h"

/* be16 key length || key || value: the "key" make_ad() binds. */
static uint8_t *tag_ad(const void *key, size_t klen, const void *v, size_t vlen, size_t *len)
{
	uint8_t *p = xmalloc(2 + klen + vlen + 1);

	p[0] = (uint8_t)(klen >> 8);
	p[1] = (uint8_t)klen;
	memcpy(p + 2, key, klen);
	if (vlen)
		memcpy(p + 2 + klen, v, vlen);
	*len = 2 + klen + vlen;
	return p;
}

void tree_put(struct store *s, rocksdb_writebatch_t *b, const void *key, size_t klen,
	      const void *v, size_t vlen)
{
	struct strbuf out = STRBUF_INIT;
	uint8_t *ad, none = 0;
	size_t adlen;

	if (!s->tree_tag || !s->crypt) {
		rocksdb_writebatch_put_cf(b, s->cf[CF_TREE], key, klen, v, vlen);
		return;
	}
	ad = tag_ad(key, klen, v, vlen, &adlen);
	strbuf_grow(&out, vlen + CRYPT_OVERHEAD);
	strbuf_add(&out, v, vlen);
	if (store_seal_to(s, CF_TREE, ad, adlen, &none, 0, (uint8_t *)out.buf + vlen)) {
		/* a seal fails only when OpenSSL has no memory or no randomness */
		fprintf(stderr, "poolfs: cannot tag a tree row\n");
		abort();
	}
	rocksdb_writebatch_put_cf(b, s->cf[CF_TREE], key, klen, out.buf, vlen + CRYPT_OVERHEAD);
	free(ad);
	strbuf_release(&out);
}

int tree_open(struct store *s, const void *key, size_t klen, const void *v, size_t *vlen)
{
	uint8_t *ad, none;
	size_t adlen, n;
	int ret;

	if (!s->tree_tag)
		return 0;
	if (*vlen < CRYPT_OVERHEAD) {
		ret = -EBADMSG;
		goto bad;
	}
	n = *vlen - CRYPT_OVERHEAD;
	if (!s->crypt) {
		*vlen = n;
		return 0;
	}
	ad = tag_ad(key, klen, v, n, &adlen);
	ret = store_check_to(s, CF_TREE, ad, adlen, (const uint8_t *)v + n, CRYPT_OVERHEAD, &none);
	free(ad);
	if (!ret) {
		*vlen = n;
		return 0;
	}
bad:
	{
		char hex[2 * 33 + 1];

		hex_encode(key, klen > 33 ? 33 : klen, hex);
		log_err("%s: tree row %s fails its check: %s", s->dir, hex,
			ret == -ENOKEY ? "tagged with a key this pool does not hold" :
			"edited, or moved from another key");
	}
	return -EIO;
}

void tree_tag_from_meta(struct store *s, const char *json, size_t len)
{
	json_t *o = json_loadb(json, len, 0, NULL);
	const char *t = json_string_value(json_object_get(o, "tree"));

	s->tree_tag = t && !strcmp(t, "tag");
	json_decref(o);
}
