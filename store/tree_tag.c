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
 * pool. Pools made before tags, and pools converted by an older
 * `poolctl encrypt`, are tagged at their first read-write open
 * (tree_retag()); until then they hold untagged rows that nothing checks.
 *
 *   meta  "tree_retag"  present while a re-tagging is under way: the rows
 *                       are partly tagged but meta "crypt" does not say
 *                       so yet, and a read-only open must not read them
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
#include "store/audit.h"

#define META_RETAG	"tree_retag"
#define RETAG_BATCH	(4u << 20)

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

/* Whether v, read under key, ends in a tag that holds (put by a run cut short). */
static bool tag_holds(struct store *s, const void *key, size_t klen, const char *v, size_t vlen)
{
	uint8_t *ad, none;
	size_t adlen, n;
	int ret;

	if (vlen < CRYPT_OVERHEAD)
		return false;
	n = vlen - CRYPT_OVERHEAD;
	ad = tag_ad(key, klen, v, n, &adlen);
	ret = store_check_to(s, CF_TREE, ad, adlen, (const uint8_t *)v + n, CRYPT_OVERHEAD, &none);
	free(ad);
	return !ret;
}

static int retag_seen(void *arg, const char *json, const struct audit_rec *r)
{
	(void)json;
	if (r->result)
		return 0;
	*(uint64_t *)arg = r->seq;
	return 1;
}

/*
 * A pool is tagged once: its log's store.retag record says so for good.
 * Meta "crypt" is a row the disk holder may put back as it was before the
 * tagging (from a backup, wrapped with the same master key); a tagging
 * run then would tag whatever rows they edited meanwhile. The log cannot
 * be rolled back past the auditor's anchor, so it is the one to believe.
 */
static int retag_done_before(struct store *s, struct perr *e)
{
	struct audit_filter f = AUDIT_FILTER_INIT;
	uint64_t seq = 0;
	int ret;

	f.op = "store.retag";
	f.limit = 1;
	ret = audit_query_newest(s, &f, retag_seen, &seq);
	if (ret < 0)
		return perr_set(e, -ret, "%s: cannot read the audit log for an earlier tagging "
				"of the tree: %s", s->dir, strerror(-ret));
	if (!seq)
		return 0;
	log_err("%s: meta \"crypt\" says the tree is not tagged, but audit record %llu "
		"recorded its tagging", s->dir, (unsigned long long)seq);
	return perr_set(e, EKEYREJECTED, "%s: refused: the tree was tagged (audit record %llu) "
			"but meta \"crypt\" says it is not: the key record was put back from "
			"before the tagging", s->dir, (unsigned long long)seq);
}

/* Tags every row not tagged yet, a batch at a time, each naming the run. */
static int retag_rows(struct store *s, uint64_t *n)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropt, s->cf[CF_TREE]);
	rocksdb_writebatch_t *b = rocksdb_writebatch_create();
	size_t pending = 0;
	int ret = 0, iret;

	for (rocksdb_iter_seek_to_first(it); !ret && rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);
		const char *v = rocksdb_iter_value(it, &vlen);

		if (tag_holds(s, k, klen, v, vlen))
			continue;
		if (!pending)
			rocksdb_writebatch_put_cf(b, s->cf[CF_META], META_RETAG, strlen(META_RETAG),
						  "", 0);
		tree_put(s, b, k, klen, v, vlen);
		pending += klen + vlen + CRYPT_OVERHEAD;
		(*n)++;
		if (pending >= RETAG_BATCH) {
			ret = store_write(s, b, false);
			rocksdb_writebatch_clear(b);
			pending = 0;
		}
	}
	iret = store_iter_end(s, it, "tree", 0);
	if (!ret)
		ret = iret;
	if (!ret && pending)
		ret = store_write(s, b, false);
	rocksdb_writebatch_destroy(b);
	return ret;
}

int tree_retag(struct store *s, uint64_t *n, struct perr *e)
{
	rocksdb_writebatch_t *b = NULL;
	struct strbuf meta = STRBUF_INIT;
	int ret;

	*n = 0;
	/* POOLFS_TEST_UNTAGGED: an untagged pool used as releases before tags did */
	if (!s->crypt || s->tree_tag || getenv("POOLFS_TEST_UNTAGGED"))
		return 0;
	ret = retag_done_before(s, e);
	if (ret)
		return ret;
	if (s->flags & STORE_OPEN_RDONLY) {
		ret = store_get(s, CF_META, META_RETAG, strlen(META_RETAG), &meta);
		strbuf_release(&meta);
		if (ret == -ENOENT)
			return 0;
		return perr_set(e, ret ? -ret : EAGAIN, "%s: the tagging of the tree's rows was "
				"cut short; open the pool read-write once (poolfs, or a poolctl "
				"command that records) to finish it", s->dir);
	}
	/* tree_put() tags while the flag is up; meta "crypt" says so only at the end */
	s->tree_tag = true;
	ret = retag_rows(s, n);
	if (ret) {
		ret = perr_set(e, -ret, "%s: cannot tag the tree's rows: %s", s->dir,
			       strerror(-ret));
		goto out;
	}
	s->crypt->tree_tag = true;
	ret = crypt_store_meta(s->crypt, &meta);
	if (ret) {
		ret = perr_set(e, -ret, "%s: cannot rewrap the keyset for tagged tree rows", s->dir);
		goto out;
	}
	b = rocksdb_writebatch_create();
	rocksdb_writebatch_put_cf(b, s->cf[CF_META], "crypt", 5, meta.buf, meta.len);
	rocksdb_writebatch_delete_cf(b, s->cf[CF_META], META_RETAG, strlen(META_RETAG));
	ret = store_write(s, b, true);
	if (ret)
		ret = perr_set(e, -ret, "%s: cannot record that the tree's rows are tagged", s->dir);
out:
	if (ret) {
		s->tree_tag = false;
		s->crypt->tree_tag = false;
	}
	if (b)
		rocksdb_writebatch_destroy(b);
	strbuf_release(&meta);
	return ret;
}

void tree_tag_from_meta(struct store *s, const char *json, size_t len)
{
	json_t *o = json_loadb(json, len, 0, NULL);
	const char *t = json_string_value(json_object_get(o, "tree"));

	s->tree_tag = t && !strcmp(t, "tag");
	json_decref(o);
}
