/*
 * store/crypt_bind.c - an encrypted pool cannot be opened as plain by
 * editing meta.
 *
 * meta "format" (2: encrypted) and meta "crypt" are plain rows: whoever
 * holds the disk can set "format" to 1 and delete "crypt", and the pool
 * would open without its key, serving whatever plain rows were put in
 * beside the sealed ones. What an encrypted pool leaves that the
 * holder cannot make plain without rewriting it whole is checked here:
 * no key record, keys/hash.key and keys/sign.key of a plain key's 32
 * bytes (sealed ones are longer), the first audit record and the first
 * version record plain. A store rewritten whole as a plain pool is a new
 * pool: its log is rebuilt, which the auditor's anchor shows, and a
 * poolfs given a key (-o key_file, -o passphrase_file) refuses a plain
 * pool (fs/main.c).
 */
#include "store/crypt_bind.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/codec.h"
#include "store/content.h"

#define PLAIN_SECRET_LEN	32

static int secret_plain(struct store *s, const char *name, struct perr *e)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	int ret = 0;

	strbuf_addf(&path, "%s/keys/%s.key", s->dir, name);
	/* a missing key is the audit log's error at open, not a sign of encryption */
	if (!stat(path.buf, &st) && st.st_size != PLAIN_SECRET_LEN)
		ret = perr_set(e, EKEYREJECTED, "%s: refused: meta \"format\" says plain, but %s "
			       "holds %lld bytes, not a plain key's %d (an encrypted pool edited to "
			       "look plain?)", s->dir, path.buf, (long long)st.st_size,
			       PLAIN_SECRET_LEN);
	strbuf_release(&path);
	return ret;
}

/* The first row of cf, into k and v; -ENOENT when there is none. */
static int first_row(struct store *s, enum store_cf cf, struct strbuf *k, struct strbuf *v)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropt, s->cf[cf]);
	int ret = -ENOENT;

	rocksdb_iter_seek_to_first(it);
	if (rocksdb_iter_valid(it)) {
		size_t klen, vlen;
		const char *key = rocksdb_iter_key(it, &klen);
		const char *val = rocksdb_iter_value(it, &vlen);

		strbuf_reset(k);
		strbuf_add(k, key, klen);
		strbuf_reset(v);
		strbuf_add(v, val, vlen);
		ret = 0;
	}
	return store_iter_end(s, it, store_cf_names[cf], ret);
}

int crypt_bind_plain(struct store *s, struct perr *e)
{
	struct strbuf k = STRBUF_INIT, v = STRBUF_INIT;
	struct version_rec vr;
	int ret;

	ret = store_get(s, CF_META, "crypt", 5, &v);
	if (ret != -ENOENT) {
		ret = perr_set(e, ret ? -ret : EKEYREJECTED, "%s: refused: meta \"format\" says "
			       "plain, but the pool has a key record (meta \"crypt\"): an encrypted "
			       "pool edited to look plain?", s->dir);
		goto out;
	}
	ret = secret_plain(s, "hash", e);
	if (!ret)
		ret = secret_plain(s, "sign", e);
	if (ret)
		goto out;
	/* a plain record is JSON; a sealed one starts with its be64 seq */
	ret = first_row(s, CF_AUDIT, &k, &v);
	if (!ret && (!v.len || v.buf[0] != '{')) {
		ret = perr_set(e, EKEYREJECTED, "%s: refused: meta \"format\" says plain, but audit "
			       "record %llu is sealed or damaged (an encrypted pool edited to look "
			       "plain?)", s->dir,
			       k.len == 8 ? (unsigned long long)get_be64((const uint8_t *)k.buf) : 0);
		goto out;
	}
	if (ret && ret != -ENOENT)
		goto io;
	ret = first_row(s, CF_VERSIONS, &k, &v);
	if (!ret && version_decode((const uint8_t *)v.buf, v.len, &vr)) {
		ret = perr_set(e, EKEYREJECTED, "%s: refused: meta \"format\" says plain, but the "
			       "first version record is sealed or damaged (an encrypted pool "
			       "edited to look plain?)", s->dir);
		goto out;
	}
	if (ret && ret != -ENOENT)
		goto io;
	ret = 0;
	goto out;
io:
	ret = perr_set(e, -ret, "%s: cannot read the store: %s", s->dir, strerror(-ret));
out:
	strbuf_release(&k);
	strbuf_release(&v);
	return ret;
}
