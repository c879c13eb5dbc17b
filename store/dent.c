/*
 * store/dent.c - directory-entry rows and prefix scans over the tree
 * column family, shared by the tree's mutations (tree.c) and its reads
 * (dir.c). internal.h draws the key layout.
 */
#include "store/dent.h"
#include "store/inode_cache.h"
#include "store/tree_tag.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/log.h"

int dent_check_name(const char *name)
{
	size_t len = strlen(name);

	if (!len || !strcmp(name, ".") || !strcmp(name, "..") || strchr(name, '/'))
		return -EINVAL;
	if (len > STORE_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

struct timespec ns_to_timespec(int64_t ns)
{
	struct timespec t = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };

	return t;
}

int64_t timespec_to_ns(const struct timespec *t)
{
	if (t->tv_sec >= INT64_MAX / 1000000000)
		return INT64_MAX;
	if (t->tv_sec < 0)
		return 0;
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* ---- keys and rows ---- */

size_t dent_prefix(uint8_t *k, char tag, uint64_t parent)
{
	k[0] = (uint8_t)tag;
	put_be64(k + 1, parent);
	return 9;
}

/* 'd' be64(parent) name; name already checked against STORE_NAME_MAX */
size_t dent_key(uint8_t *k, uint64_t parent, const char *name)
{
	size_t len = strlen(name);

	dent_prefix(k, 'd', parent);
	memcpy(k + 9, name, len);
	return 9 + len;
}

size_t dent_hist_key(uint8_t *k, uint64_t parent, const char *name, int64_t died)
{
	size_t len = strlen(name);

	dent_prefix(k, 'h', parent);
	memcpy(k + 9, name, len);
	put_be64(k + 9 + len, (uint64_t)died);
	return 17 + len;
}

void dent_encode(uint8_t v[DENT_LEN], const struct dent *d)
{
	put_be64(v, d->child);
	v[8] = (uint8_t)d->type;
	put_be64(v + 9, (uint64_t)d->born);
}

int dent_decode(struct store *s, const void *key, size_t klen, const char *v, size_t len,
		struct dent *d)
{
	const uint8_t *p = (const uint8_t *)v;

	if (tree_open(s, key, klen, v, &len))
		return -EIO;
	if (len != DENT_LEN)
		return -EIO;
	d->child = get_be64(p);
	d->type = p[8];
	d->born = (int64_t)get_be64(p + 9);
	return 0;
}

int dent_get(struct store *s, uint64_t parent, const char *name, struct dent *d)
{
	struct strbuf v = STRBUF_INIT;
	uint8_t key[KEY_MAX];
	uint64_t gen;
	size_t klen;
	int ret;

	if (strlen(name) > STORE_NAME_MAX)
		return -ENAMETOOLONG;
	gen = inode_cache_gen(s->inodes);
	if (inode_cache_dent_get(s->inodes, parent, name, d))
		return 0;
	klen = dent_key(key, parent, name);
	ret = store_get(s, CF_TREE, key, klen, &v);
	if (!ret)
		ret = dent_decode(s, key, klen, v.buf, v.len, d);
	if (!ret)
		inode_cache_dent_put(s->inodes, gen, parent, name, d);
	strbuf_release(&v);
	return ret;
}

void dent_add(struct store *s, rocksdb_writebatch_t *b, uint64_t parent,
		      const char *name, const struct dent *d)
{
	uint8_t key[KEY_MAX], v[DENT_LEN];

	dent_encode(v, d);
	tree_put(s, b, key, dent_key(key, parent, name), v, sizeof(v));
}

/* Turns the live row of parent/name into history that died at died. */
void dent_end(struct store *s, rocksdb_writebatch_t *b, uint64_t parent,
		      const char *name, const struct dent *d, int64_t died)
{
	uint8_t key[KEY_MAX], v[DENT_LEN];

	rocksdb_writebatch_delete_cf(b, s->cf[CF_TREE], (const char *)key,
				     dent_key(key, parent, name));
	dent_encode(v, d);
	tree_put(s, b, key, dent_hist_key(key, parent, name, died), v, sizeof(v));
}

int dent_child_check(struct store *s, uint64_t parent, const char *name, const struct dent *d,
		     const struct inode_rec *r)
{
	if (!r->dead && r->parent == parent && r->name.len == strlen(name) &&
	    !memcmp(r->name.buf, name, r->name.len) && r->attr.type == d->type)
		return 0;
	log_err("%s: entry \"%s\" of directory %llu leads to inode %llu, which is not that "
		"entry's (edited, or an inode number used again)", s->dir, name,
		(unsigned long long)parent, (unsigned long long)d->child);
	return -EIO;
}

int dent_resolve(struct store *s, uint64_t parent, const char *name, struct dent *d,
		 struct inode_rec *r)
{
	struct dent again;
	int ret;

	/* the two reads are not one snapshot: a rename between them is retried */
	for (int i = 0; i < 3; i++) {
		ret = dent_get(s, parent, name, d);
		if (ret)
			return ret;
		ret = inode_load(s, d->child, r);
		if (ret == -ENOENT)
			ret = -EIO;	/* an entry without its inode */
		if (ret)
			return ret;
		if (!r->dead && r->parent == parent && r->name.len == strlen(name) &&
		    !memcmp(r->name.buf, name, r->name.len) && r->attr.type == d->type)
			return 0;
		ret = dent_get(s, parent, name, &again);
		if (ret && ret != -ENOENT)
			return ret;
		if (!ret && again.child == d->child && again.type == d->type &&
		    again.born == d->born)
			break;
	}
	/* the same entry twice, or renamed three times in a row: refused */
	return dent_child_check(s, parent, name, d, r);
}

/* ---- prefix scans ---- */


void tree_scan_start(struct store *s, struct tree_scan *sc, const uint8_t *prefix, size_t len)
{
	size_t n = len;

	sc->ro = rocksdb_readoptions_create();
	memcpy(sc->hi, prefix, len);
	/* the upper bound is the prefix's successor: stop at the last match */
	while (n && sc->hi[n - 1] == 0xff)
		n--;
	if (n) {
		sc->hi[n - 1]++;
		rocksdb_readoptions_set_iterate_upper_bound(sc->ro, (const char *)sc->hi, n);
	}
	sc->it = rocksdb_create_iterator_cf(s->db, sc->ro, s->cf[CF_TREE]);
	rocksdb_iter_seek(sc->it, (const char *)prefix, len);
}

int tree_scan_end(struct store *s, struct tree_scan *sc)
{
	int ret = store_iter_end(s, sc->it, "tree scan failed", 0);

	rocksdb_readoptions_destroy(sc->ro);
	return ret;
}

/* 0 when dir has no live entry, else -ENOTEMPTY (or -EIO). */
int dent_dir_empty(struct store *s, uint64_t dir)
{
	struct tree_scan sc;
	uint8_t prefix[9];
	int ret;

	tree_scan_start(s, &sc, prefix, dent_prefix(prefix, 'd', dir));
	ret = rocksdb_iter_valid(sc.it) ? -ENOTEMPTY : 0;
	if (tree_scan_end(s, &sc))
		ret = -EIO;
	return ret;
}
