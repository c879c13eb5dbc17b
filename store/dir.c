/*
 * store/dir.c - reading the tree: listings now and as of a past time
 * (for /.snapshots), lookups as of a past time, and path resolution.
 */
#include "common/alloc.h"
#include "store/dent.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/log.h"

/* ---- listing ---- */

static int check_dir(struct store *s, uint64_t ino)
{
	struct inode_rec r;
	int ret;

	inode_rec_init(&r);
	ret = inode_load(s, ino, &r);
	if (!ret && r.attr.type != STORE_DIR)
		ret = -ENOTDIR;
	inode_rec_release(&r);
	return ret;
}

/* Streams the live rows: their key order is name order. */
static int readdir_live(struct store *s, uint64_t dir,
			int (*cb)(void *arg, const struct store_dirent *d), void *arg)
{
	struct strbuf name = STRBUF_INIT;
	struct store_dirent de;
	struct inode_rec r;
	struct tree_scan sc;
	struct dent d;
	uint8_t prefix[9];
	const char *k, *v;
	size_t klen, vlen;
	int ret = 0, err;

	inode_rec_init(&r);

	tree_scan_start(s, &sc, prefix, dent_prefix(prefix, 'd', dir));
	for (; rocksdb_iter_valid(sc.it); rocksdb_iter_next(sc.it)) {
		k = rocksdb_iter_key(sc.it, &klen);
		v = rocksdb_iter_value(sc.it, &vlen);
		if (klen <= 9 || dent_decode(s, k, klen, v, vlen, &d)) {
			ret = -EIO;
			break;
		}
		strbuf_reset(&name);
		strbuf_add(&name, k + 9, klen - 9);
		/* a listed name must lead to its own file, as a lookup's does */
		if (s->tree_tag) {
			inode_rec_release(&r);
			inode_rec_init(&r);
			ret = dent_resolve(s, dir, name.buf, &d, &r);
			if (ret == -ENOENT) {
				ret = 0;	/* gone since the scan began */
				continue;
			}
			if (ret)
				break;
		}
		de.name = name.buf;
		de.ino = d.child;
		de.type = d.type;
		ret = cb(arg, &de);
		if (ret)
			break;
	}
	err = tree_scan_end(s, &sc);
	strbuf_release(&name);
	inode_rec_release(&r);
	return ret ? ret : err;
}

struct past_ent {
	char *name;
	struct dent d;
};

struct past_list {
	struct past_ent *v;
	size_t n, alloc;
};

static void past_add(struct past_list *l, const char *name, size_t len, const struct dent *d)
{
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	l->v[l->n].name = xstrndup(name, len);
	l->v[l->n++].d = *d;
}

static int past_cmp(const void *a, const void *b)
{
	const struct past_ent *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->d.born < y->d.born ? -1 : x->d.born > y->d.born;
}

/*
 * Collects the entries alive at t: 'd' rows born by then and 'h' rows
 * born by then that died after. 'h' keys carry a fixed 8-byte tail, so
 * the name is what lies between the prefix and the tail.
 */
static int collect_past(struct store *s, uint64_t dir, int64_t t, struct past_list *l)
{
	static const char tags[] = { 'd', 'h' };
	struct tree_scan sc;
	struct dent d;
	uint8_t prefix[9];
	const char *k, *v;
	size_t klen, vlen, tail;
	int ret = 0;

	for (size_t i = 0; i < sizeof(tags) && !ret; i++) {
		tail = tags[i] == 'h' ? 8 : 0;
		tree_scan_start(s, &sc, prefix, dent_prefix(prefix, tags[i], dir));
		for (; rocksdb_iter_valid(sc.it); rocksdb_iter_next(sc.it)) {
			k = rocksdb_iter_key(sc.it, &klen);
			v = rocksdb_iter_value(sc.it, &vlen);
			if (klen <= 9 + tail || dent_decode(s, k, klen, v, vlen, &d)) {
				ret = -EIO;
				break;
			}
			if (d.born > t)
				continue;
			if (tail && (int64_t)get_be64((const uint8_t *)k + klen - 8) <= t)
				continue;
			past_add(l, k + 9, klen - 9 - tail, &d);
		}
		if (tree_scan_end(s, &sc))
			ret = -EIO;
	}
	return ret;
}

static int readdir_past(struct store *s, uint64_t dir, int64_t t,
			int (*cb)(void *arg, const struct store_dirent *d), void *arg)
{
	struct past_list l = { NULL, 0, 0 };
	struct store_dirent de;
	int ret;

	ret = collect_past(s, dir, t, &l);
	if (!ret && l.n)
		qsort(l.v, l.n, sizeof(*l.v), past_cmp);
	for (size_t i = 0; !ret && i < l.n; i++) {
		/* one name, several lives at t only if the clock went back: take the last */
		if (i + 1 < l.n && !strcmp(l.v[i].name, l.v[i + 1].name))
			continue;
		de.name = l.v[i].name;
		de.ino = l.v[i].d.child;
		de.type = l.v[i].d.type;
		ret = cb(arg, &de);
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i].name);
	free(l.v);
	return ret;
}

int store_readdir(struct store *s, uint64_t dir, const struct timespec *as_of,
		  int (*cb)(void *arg, const struct store_dirent *d), void *arg)
{
	int ret = check_dir(s, dir);

	if (ret)
		return ret;
	if (as_of)
		return readdir_past(s, dir, timespec_to_ns(as_of), cb, arg);
	return readdir_live(s, dir, cb, arg);
}

/* Finds the entry parent/name alive at t, live or in history. */
static int dent_get_at(struct store *s, uint64_t parent, const char *name, int64_t t,
		       struct dent *out)
{
	uint8_t prefix[KEY_MAX];
	const char *k, *v;
	size_t klen, vlen, plen, nlen = strlen(name);
	struct tree_scan sc;
	struct dent d;
	int ret;

	ret = dent_get(s, parent, name, &d);
	if (!ret && d.born <= t) {
		*out = d;
		return 0;
	}
	if (ret && ret != -ENOENT)
		return ret;

	plen = dent_prefix(prefix, 'h', parent);
	memcpy(prefix + plen, name, nlen);
	plen += nlen;
	ret = -ENOENT;
	tree_scan_start(s, &sc, prefix, plen);
	for (; rocksdb_iter_valid(sc.it); rocksdb_iter_next(sc.it)) {
		k = rocksdb_iter_key(sc.it, &klen);
		/* longer names share the prefix; only ours is exactly name + tail */
		if (klen != plen + 8)
			continue;
		v = rocksdb_iter_value(sc.it, &vlen);
		if (dent_decode(s, k, klen, v, vlen, &d)) {
			ret = -EIO;
			break;
		}
		if (d.born <= t && (int64_t)get_be64((const uint8_t *)k + plen) > t) {
			*out = d;
			ret = 0;
			break;
		}
	}
	if (tree_scan_end(s, &sc))
		ret = -EIO;
	return ret;
}

int store_lookup_at(struct store *s, uint64_t parent, const char *name,
		    const struct timespec *as_of, struct store_attr *a)
{
	struct dent d;
	int ret;

	if (!as_of)
		return store_lookup(s, parent, name, a);
	if (strlen(name) > STORE_NAME_MAX)
		return -ENAMETOOLONG;
	ret = dent_get_at(s, parent, name, timespec_to_ns(as_of), &d);
	if (ret)
		return ret;
	ret = store_getattr(s, d.child, a);
	if (ret == -ENOENT)
		ret = -EIO;	/* an entry without its inode */
	/* a dead inode was alive then */
	if (!ret && !a->nlink)
		a->nlink = a->type == STORE_DIR ? 2 : 1;
	return ret;
}

/* ---- paths ---- */

/* The next component of path *p into comp, moving *p past it; false at the end. */
static bool path_next(const char **p, struct strbuf *comp)
{
	const char *end;

	while (**p == '/')
		(*p)++;
	if (!**p)
		return false;
	end = strchrnul(*p, '/');
	strbuf_reset(comp);
	strbuf_add(comp, *p, (size_t)(end - *p));
	*p = end;
	return true;
}

int store_resolve(struct store *s, const char *path, struct store_attr *a)
{
	struct strbuf comp = STRBUF_INIT;
	const char *p = path;
	int ret;

	if (*p != '/')
		return -EINVAL;
	ret = store_getattr(s, STORE_ROOT_INO, a);
	while (!ret && path_next(&p, &comp)) {
		if (!strcmp(comp.buf, "."))
			continue;
		/* fail closed: a pool path never climbs */
		if (!strcmp(comp.buf, "..")) {
			ret = -EINVAL;
			break;
		}
		if (a->type != STORE_DIR) {
			ret = -ENOTDIR;
			break;
		}
		ret = store_lookup(s, a->ino, comp.buf, a);
	}
	strbuf_release(&comp);
	return ret;
}

int store_mkdirs(struct store *s, const char *path, uint32_t mode, uint32_t uid, uint32_t gid,
		 const struct audit_rec *audit)
{
	struct strbuf comp = STRBUF_INIT, sofar = STRBUF_INIT;
	struct audit_rec rec;
	struct store_attr a;
	const char *p = path;
	uint64_t parent;
	int ret;

	if (*p != '/')
		return -EINVAL;
	ret = store_getattr(s, STORE_ROOT_INO, &a);
	while (!ret && path_next(&p, &comp)) {
		if (a.type != STORE_DIR) {
			ret = -ENOTDIR;
			break;
		}
		parent = a.ino;
		strbuf_addf(&sofar, "/%s", comp.buf);
		ret = store_lookup(s, parent, comp.buf, &a);
		if (ret != -ENOENT)
			continue;
		if (audit) {
			rec = *audit;
			rec.op = "mkdir";
			rec.path = sofar.buf;
		}
		ret = store_mknode(s, parent, comp.buf, STORE_DIR, mode, uid, gid, NULL, &a,
				   audit ? &rec : NULL);
	}
	if (!ret && a.type != STORE_DIR)
		ret = -ENOTDIR;
	strbuf_release(&sofar);
	strbuf_release(&comp);
	return ret;
}

int store_path(struct store *s, uint64_t ino, struct strbuf *out)
{
	struct strbuf path = STRBUF_INIT, tmp = STRBUF_INIT;
	struct inode_rec r;
	int depth = 0, ret = 0;

	inode_rec_init(&r);
	while (ino != STORE_ROOT_INO) {
		if (++depth > DEPTH_MAX) {
			ret = -ELOOP;
			break;
		}
		ret = inode_load(s, ino, &r);
		if (!ret && (r.dead || !r.parent))
			ret = -ENOENT;
		if (ret)
			break;
		strbuf_reset(&tmp);
		strbuf_addch(&tmp, '/');
		strbuf_add(&tmp, r.name.buf, r.name.len);
		strbuf_add(&tmp, path.buf, path.len);
		strbuf_reset(&path);
		strbuf_add(&path, tmp.buf, tmp.len);
		ino = r.parent;
	}
	if (!ret)
		strbuf_addstr(out, path.len ? path.buf : "/");
	inode_rec_release(&r);
	strbuf_release(&tmp);
	strbuf_release(&path);
	return ret;
}
