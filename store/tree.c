/*
 * store/tree.c - directories, names and inode attributes.
 *
 * A directory entry is a 'd' row in the tree column family (internal.h
 * draws the keys). Removing or replacing an entry never deletes its
 * history: the 'd' row becomes an 'h' row stamped with the time it died,
 * so /.snapshots can list any directory as it was at any time, and the
 * inode record stays, marked dead, because its versions are still there.
 *
 * Every mutation runs under s->lock, reads what it needs, and writes all
 * its rows in one synced batch: a crash leaves the tree before or after
 * the operation, never between. Reads take no lock.
 *
 * There are no hard links, so an inode has exactly one parent and its
 * record says which; store_path and the rename loop check walk up that.
 */
#include "store/internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/log.h"

#define DENT_LEN	17
#define KEY_MAX		(1 + 8 + STORE_NAME_MAX + 8)
#define DEPTH_MAX	4096

/* What a 'd' or 'h' row holds. */
struct dent {
	uint64_t child;
	uint32_t type;
	int64_t born;
};

static int check_name(const char *name)
{
	size_t len = strlen(name);

	if (!len || !strcmp(name, ".") || !strcmp(name, "..") || strchr(name, '/'))
		return -EINVAL;
	if (len > STORE_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static struct timespec ns_to_ts(int64_t ns)
{
	struct timespec t = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };

	return t;
}

static int64_t ts_to_ns(const struct timespec *t)
{
	if (t->tv_sec >= INT64_MAX / 1000000000)
		return INT64_MAX;
	if (t->tv_sec < 0)
		return 0;
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* ---- keys and rows ---- */

static size_t dir_prefix(uint8_t *k, char tag, uint64_t parent)
{
	k[0] = (uint8_t)tag;
	put_be64(k + 1, parent);
	return 9;
}

/* 'd' be64(parent) name; name already checked against STORE_NAME_MAX */
static size_t dkey(uint8_t *k, uint64_t parent, const char *name)
{
	size_t len = strlen(name);

	dir_prefix(k, 'd', parent);
	memcpy(k + 9, name, len);
	return 9 + len;
}

static size_t hkey(uint8_t *k, uint64_t parent, const char *name, int64_t died)
{
	size_t len = strlen(name);

	dir_prefix(k, 'h', parent);
	memcpy(k + 9, name, len);
	put_be64(k + 9 + len, (uint64_t)died);
	return 17 + len;
}

static void dent_encode(uint8_t v[DENT_LEN], const struct dent *d)
{
	put_be64(v, d->child);
	v[8] = (uint8_t)d->type;
	put_be64(v + 9, (uint64_t)d->born);
}

static int dent_decode(const char *v, size_t len, struct dent *d)
{
	const uint8_t *p = (const uint8_t *)v;

	if (len != DENT_LEN)
		return -EIO;
	d->child = get_be64(p);
	d->type = p[8];
	d->born = (int64_t)get_be64(p + 9);
	return 0;
}

static int dent_get(struct store *s, uint64_t parent, const char *name, struct dent *d)
{
	struct strbuf v = STRBUF_INIT;
	uint8_t key[KEY_MAX];
	int ret;

	if (strlen(name) > STORE_NAME_MAX)
		return -ENAMETOOLONG;
	ret = store_get(s, CF_TREE, key, dkey(key, parent, name), &v);
	if (!ret)
		ret = dent_decode(v.buf, v.len, d);
	strbuf_release(&v);
	return ret;
}

static void add_entry(struct store *s, rocksdb_writebatch_t *b, uint64_t parent,
		      const char *name, const struct dent *d)
{
	uint8_t key[KEY_MAX], v[DENT_LEN];

	dent_encode(v, d);
	rocksdb_writebatch_put_cf(b, s->cf[CF_TREE], (const char *)key,
				  dkey(key, parent, name), (const char *)v, sizeof(v));
}

/* Turns the live row of parent/name into history that died at died. */
static void end_entry(struct store *s, rocksdb_writebatch_t *b, uint64_t parent,
		      const char *name, const struct dent *d, int64_t died)
{
	uint8_t key[KEY_MAX], v[DENT_LEN];

	rocksdb_writebatch_delete_cf(b, s->cf[CF_TREE], (const char *)key,
				     dkey(key, parent, name));
	dent_encode(v, d);
	rocksdb_writebatch_put_cf(b, s->cf[CF_TREE], (const char *)key,
				  hkey(key, parent, name, died), (const char *)v, sizeof(v));
}

/* ---- prefix scans ---- */

struct scan {
	rocksdb_readoptions_t *ro;
	rocksdb_iterator_t *it;
	uint8_t hi[KEY_MAX];		/* RocksDB keeps a pointer to the bound */
};

static void scan_start(struct store *s, struct scan *sc, const uint8_t *prefix, size_t len)
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

static int scan_end(struct store *s, struct scan *sc)
{
	char *err = NULL;
	int ret = 0;

	rocksdb_iter_get_error(sc->it, &err);
	if (err) {
		log_err("%s: tree scan failed: %s", s->dir, err);
		rocksdb_free(err);
		ret = -EIO;
	}
	rocksdb_iter_destroy(sc->it);
	rocksdb_readoptions_destroy(sc->ro);
	return ret;
}

/* 0 when dir has no live entry, else -ENOTEMPTY (or -EIO). */
static int dir_empty(struct store *s, uint64_t dir)
{
	struct scan sc;
	uint8_t prefix[9];
	int ret;

	scan_start(s, &sc, prefix, dir_prefix(prefix, 'd', dir));
	ret = rocksdb_iter_valid(sc.it) ? -ENOTEMPTY : 0;
	if (scan_end(s, &sc))
		ret = -EIO;
	return ret;
}

/* ---- inodes ---- */

/* Loads a live directory: -ENOENT when gone, -ENOTDIR when not a dir. */
static int load_dir(struct store *s, uint64_t ino, struct inode_rec *r)
{
	int ret = inode_load(s, ino, r);

	if (!ret && r->dead)
		ret = -ENOENT;
	if (!ret && r->attr.type != STORE_DIR)
		ret = -ENOTDIR;
	return ret;
}

static void touch(struct timespec *a, struct timespec *b, int64_t now)
{
	*a = ns_to_ts(now);
	if (b)
		*b = *a;
}

int store_getattr(struct store *s, uint64_t ino, struct store_attr *a)
{
	struct inode_rec r;
	int ret;

	inode_rec_init(&r);
	ret = inode_load(s, ino, &r);
	if (!ret)
		*a = r.attr;
	inode_rec_release(&r);
	return ret;
}

int store_lookup(struct store *s, uint64_t parent, const char *name, struct store_attr *a)
{
	struct inode_rec r;
	struct dent d;
	int ret;

	inode_rec_init(&r);
	ret = dent_get(s, parent, name, &d);
	if (!ret) {
		ret = inode_load(s, d.child, &r);
		if (ret == -ENOENT)
			ret = -EIO;	/* an entry without its inode */
	} else if (ret == -ENOENT) {
		/* only a miss pays for telling ENOENT from ENOTDIR */
		ret = load_dir(s, parent, &r);
		if (!ret)
			ret = -ENOENT;
	}
	if (!ret)
		*a = r.attr;
	inode_rec_release(&r);
	return ret;
}

int store_mknode(struct store *s, uint64_t parent, const char *name,
		 uint32_t type, uint32_t mode, uint32_t uid, uint32_t gid,
		 const char *link_target, struct store_attr *out)
{
	rocksdb_writebatch_t *b = NULL;
	struct inode_rec dir, node;
	struct dent d;
	uint8_t next[8];
	int64_t now;
	int ret;

	ret = check_name(name);
	if (ret)
		return ret;
	if (type != STORE_REG && type != STORE_DIR && type != STORE_LNK)
		return -EINVAL;
	if (type == STORE_LNK && (!link_target || !*link_target))
		return -EINVAL;
	if (type == STORE_LNK && strlen(link_target) >= PATH_MAX)
		return -ENAMETOOLONG;

	inode_rec_init(&dir);
	inode_rec_init(&node);
	pthread_mutex_lock(&s->lock);
	ret = load_dir(s, parent, &dir);
	if (ret)
		goto out;
	ret = dent_get(s, parent, name, &d);
	if (ret != -ENOENT) {
		if (!ret)
			ret = -EEXIST;
		goto out;
	}

	now = store_now_ns();
	node.attr.ino = s->next_ino;
	node.attr.type = type;
	node.attr.mode = mode & 07777;
	node.attr.uid = uid;
	node.attr.gid = gid;
	node.attr.nlink = type == STORE_DIR ? 2 : 1;
	touch(&node.attr.atime, &node.attr.mtime, now);
	node.attr.ctime = node.attr.btime = node.attr.atime;
	node.parent = parent;
	strbuf_addstr(&node.name, name);
	if (type == STORE_LNK) {
		strbuf_addstr(&node.target, link_target);
		node.attr.size = node.target.len;
	}
	d.child = node.attr.ino;
	d.type = type;
	d.born = now;

	b = rocksdb_writebatch_create();
	inode_put(s, b, &node);
	add_entry(s, b, parent, name, &d);
	put_be64(next, s->next_ino + 1);
	rocksdb_writebatch_put_cf(b, s->cf[CF_META], "next_ino", 8, (const char *)next, 8);
	touch(&dir.attr.mtime, &dir.attr.ctime, now);
	if (type == STORE_DIR)
		dir.attr.nlink++;
	inode_put(s, b, &dir);
	ret = store_write(s, b, true);
	if (ret)
		goto out;
	s->next_ino++;
	if (out)
		*out = node.attr;
out:
	pthread_mutex_unlock(&s->lock);
	if (b)
		rocksdb_writebatch_destroy(b);
	inode_rec_release(&node);
	inode_rec_release(&dir);
	return ret;
}

/* unlink (want_dir false) and rmdir (want_dir true) */
static int remove_entry(struct store *s, uint64_t parent, const char *name, bool want_dir)
{
	rocksdb_writebatch_t *b = NULL;
	struct inode_rec dir, node;
	struct dent d;
	int64_t now;
	int ret;

	ret = check_name(name);
	if (ret)
		return ret;
	inode_rec_init(&dir);
	inode_rec_init(&node);
	pthread_mutex_lock(&s->lock);
	ret = load_dir(s, parent, &dir);
	if (!ret)
		ret = dent_get(s, parent, name, &d);
	if (ret)
		goto out;
	if (want_dir && d.type != STORE_DIR)
		ret = -ENOTDIR;
	else if (!want_dir && d.type == STORE_DIR)
		ret = -EISDIR;
	else if (want_dir)
		ret = dir_empty(s, d.child);
	if (!ret)
		ret = inode_load(s, d.child, &node);
	if (ret)
		goto out;

	now = store_now_ns();
	b = rocksdb_writebatch_create();
	end_entry(s, b, parent, name, &d, now);
	node.dead = true;
	node.attr.nlink = 0;
	touch(&node.attr.ctime, NULL, now);
	inode_put(s, b, &node);
	touch(&dir.attr.mtime, &dir.attr.ctime, now);
	if (want_dir)
		dir.attr.nlink--;
	inode_put(s, b, &dir);
	ret = store_write(s, b, true);
out:
	pthread_mutex_unlock(&s->lock);
	if (b)
		rocksdb_writebatch_destroy(b);
	inode_rec_release(&node);
	inode_rec_release(&dir);
	return ret;
}

int store_unlink(struct store *s, uint64_t parent, const char *name)
{
	return remove_entry(s, parent, name, false);
}

int store_rmdir(struct store *s, uint64_t parent, const char *name)
{
	return remove_entry(s, parent, name, true);
}

/* ---- rename ---- */

/* What a rename works on; every record is loaded before anything is written. */
struct rename_op {
	struct store *s;
	rocksdb_writebatch_t *b;
	int64_t now;
	uint64_t p1, p2;
	const char *n1, *n2;
	struct inode_rec dir1, dir2, src, dst;
	struct inode_rec *pd2;		/* &dir1 when p1 == p2, else &dir2 */
	struct dent ds, dd;
	bool have_dst;
	bool kept_dst;			/* a file replaced a file: dst stays */
};

/* -EINVAL when dir is anc or lies below it. */
static int check_not_below(struct store *s, uint64_t dir, uint64_t anc)
{
	struct inode_rec r;
	int depth = 0, ret = 0;

	inode_rec_init(&r);
	while (dir && !ret) {
		if (dir == anc) {
			ret = -EINVAL;
			break;
		}
		if (++depth > DEPTH_MAX) {
			ret = -ELOOP;
			break;
		}
		ret = inode_load(s, dir, &r);
		dir = r.parent;
	}
	inode_rec_release(&r);
	return ret;
}

static void set_place(struct inode_rec *r, uint64_t parent, const char *name, int64_t now)
{
	r->parent = parent;
	strbuf_reset(&r->name);
	strbuf_addstr(&r->name, name);
	touch(&r->attr.ctime, NULL, now);
}

static void kill_inode(struct rename_op *op, struct inode_rec *r)
{
	r->dead = true;
	r->attr.nlink = 0;
	touch(&r->attr.ctime, NULL, op->now);
	inode_put(op->s, op->b, r);
}

/* src moves to p2/n2, which is free (or was just ended in this batch). */
static void rename_move(struct rename_op *op)
{
	struct dent d = { op->ds.child, op->ds.type, op->now };

	end_entry(op->s, op->b, op->p1, op->n1, &op->ds, op->now);
	add_entry(op->s, op->b, op->p2, op->n2, &d);
	set_place(&op->src, op->p2, op->n2, op->now);
	inode_put(op->s, op->b, &op->src);
	if (op->ds.type == STORE_DIR && op->p1 != op->p2) {
		op->dir1.attr.nlink--;
		op->pd2->attr.nlink++;
	}
}

static int rename_replace(struct rename_op *op, const struct store_writer *w)
{
	int ret;

	if (op->ds.type == STORE_DIR && op->dd.type != STORE_DIR)
		return -ENOTDIR;
	if (op->ds.type != STORE_DIR && op->dd.type == STORE_DIR)
		return -EISDIR;
	if (op->dd.type == STORE_DIR) {
		ret = dir_empty(op->s, op->dd.child);
		if (ret)
			return ret;
	}
	if (op->ds.type == STORE_REG && op->dd.type == STORE_REG) {
		/* the target keeps its inode and history; the source ends */
		ret = version_add_from(op->s, op->b, &op->dst, op->src.attr.ino, w);
		if (ret)
			return ret;
		touch(&op->dst.attr.ctime, NULL, op->now);
		inode_put(op->s, op->b, &op->dst);
		end_entry(op->s, op->b, op->p1, op->n1, &op->ds, op->now);
		kill_inode(op, &op->src);
		op->kept_dst = true;
		return 0;
	}
	end_entry(op->s, op->b, op->p2, op->n2, &op->dd, op->now);
	kill_inode(op, &op->dst);
	if (op->dd.type == STORE_DIR)
		op->pd2->attr.nlink--;
	rename_move(op);
	return 0;
}

static void rename_exchange(struct rename_op *op)
{
	struct dent d1 = { op->dd.child, op->dd.type, op->now };
	struct dent d2 = { op->ds.child, op->ds.type, op->now };

	end_entry(op->s, op->b, op->p1, op->n1, &op->ds, op->now);
	end_entry(op->s, op->b, op->p2, op->n2, &op->dd, op->now);
	add_entry(op->s, op->b, op->p1, op->n1, &d1);
	add_entry(op->s, op->b, op->p2, op->n2, &d2);
	set_place(&op->src, op->p2, op->n2, op->now);
	set_place(&op->dst, op->p1, op->n1, op->now);
	inode_put(op->s, op->b, &op->src);
	inode_put(op->s, op->b, &op->dst);
	if (op->p1 != op->p2 && op->ds.type != op->dd.type) {
		int delta = op->ds.type == STORE_DIR ? 1 : op->dd.type == STORE_DIR ? -1 : 0;

		op->dir1.attr.nlink -= delta;
		op->pd2->attr.nlink += delta;
	}
}

/* Loads and checks everything; 1 when the rename is a no-op. */
static int rename_prepare(struct rename_op *op, unsigned flags)
{
	struct store *s = op->s;
	int ret;

	ret = load_dir(s, op->p1, &op->dir1);
	if (!ret && op->p2 != op->p1)
		ret = load_dir(s, op->p2, &op->dir2);
	if (!ret)
		ret = dent_get(s, op->p1, op->n1, &op->ds);
	if (ret)
		return ret;
	if (op->p1 == op->p2 && !strcmp(op->n1, op->n2))
		return 1;
	ret = dent_get(s, op->p2, op->n2, &op->dd);
	if (ret && ret != -ENOENT)
		return ret;
	op->have_dst = !ret;
	if ((flags & STORE_RENAME_NOREPLACE) && op->have_dst)
		return -EEXIST;
	if ((flags & STORE_RENAME_EXCHANGE) && !op->have_dst)
		return -ENOENT;
	ret = inode_load(s, op->ds.child, &op->src);
	if (!ret && op->have_dst)
		ret = inode_load(s, op->dd.child, &op->dst);
	if (!ret && op->ds.type == STORE_DIR && op->p1 != op->p2)
		ret = check_not_below(s, op->p2, op->ds.child);
	if (!ret && (flags & STORE_RENAME_EXCHANGE) && op->dd.type == STORE_DIR &&
	    op->p1 != op->p2)
		ret = check_not_below(s, op->p1, op->dd.child);
	return ret;
}

int store_rename(struct store *s, uint64_t p1, const char *n1,
		 uint64_t p2, const char *n2, unsigned flags,
		 const struct store_writer *w, uint64_t *target_ino)
{
	struct rename_op op = { .s = s, .p1 = p1, .p2 = p2, .n1 = n1, .n2 = n2 };
	int ret;

	if ((flags & ~(STORE_RENAME_NOREPLACE | STORE_RENAME_EXCHANGE)) ||
	    flags == (STORE_RENAME_NOREPLACE | STORE_RENAME_EXCHANGE))
		return -EINVAL;
	ret = check_name(n1);
	if (!ret)
		ret = check_name(n2);
	if (ret)
		return ret;

	inode_rec_init(&op.dir1);
	inode_rec_init(&op.dir2);
	inode_rec_init(&op.src);
	inode_rec_init(&op.dst);
	op.pd2 = p1 == p2 ? &op.dir1 : &op.dir2;
	pthread_mutex_lock(&s->lock);
	ret = rename_prepare(&op, flags);
	if (ret == 1) {
		ret = 0;
		if (target_ino)
			*target_ino = op.ds.child;
		goto out;
	}
	if (ret)
		goto out;

	op.now = store_now_ns();
	op.b = rocksdb_writebatch_create();
	if (flags & STORE_RENAME_EXCHANGE)
		rename_exchange(&op);
	else if (op.have_dst)
		ret = rename_replace(&op, w);
	else
		rename_move(&op);
	if (ret)
		goto out;
	touch(&op.dir1.attr.mtime, &op.dir1.attr.ctime, op.now);
	inode_put(s, op.b, &op.dir1);
	if (op.pd2 != &op.dir1) {
		touch(&op.dir2.attr.mtime, &op.dir2.attr.ctime, op.now);
		inode_put(s, op.b, &op.dir2);
	}
	ret = store_write(s, op.b, true);
	if (!ret && target_ino)
		*target_ino = op.kept_dst ? op.dst.attr.ino : op.src.attr.ino;
out:
	pthread_mutex_unlock(&s->lock);
	if (op.b)
		rocksdb_writebatch_destroy(op.b);
	inode_rec_release(&op.dst);
	inode_rec_release(&op.src);
	inode_rec_release(&op.dir2);
	inode_rec_release(&op.dir1);
	return ret;
}

/* ---- links and attributes ---- */

int store_readlink(struct store *s, uint64_t ino, struct strbuf *out)
{
	struct inode_rec r;
	int ret;

	inode_rec_init(&r);
	ret = inode_load(s, ino, &r);
	if (!ret && r.attr.type != STORE_LNK)
		ret = -EINVAL;
	if (!ret)
		strbuf_add(out, r.target.buf, r.target.len);
	inode_rec_release(&r);
	return ret;
}

int store_setattr(struct store *s, uint64_t ino, const struct store_attr *a, unsigned what)
{
	rocksdb_writebatch_t *b = NULL;
	struct inode_rec r;
	int ret;

	inode_rec_init(&r);
	pthread_mutex_lock(&s->lock);
	/* dead inodes too: fchmod() on an open, unlinked file is allowed */
	ret = inode_load(s, ino, &r);
	if (ret)
		goto out;
	if (what & STORE_SET_MODE)
		r.attr.mode = a->mode & 07777;
	if (what & STORE_SET_UID)
		r.attr.uid = a->uid;
	if (what & STORE_SET_GID)
		r.attr.gid = a->gid;
	if (what & STORE_SET_ATIME)
		r.attr.atime = a->atime;
	if (what & STORE_SET_MTIME)
		r.attr.mtime = a->mtime;
	touch(&r.attr.ctime, NULL, store_now_ns());
	b = rocksdb_writebatch_create();
	inode_put(s, b, &r);
	ret = store_write(s, b, true);
out:
	pthread_mutex_unlock(&s->lock);
	if (b)
		rocksdb_writebatch_destroy(b);
	inode_rec_release(&r);
	return ret;
}

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
	struct scan sc;
	struct dent d;
	uint8_t prefix[9];
	const char *k, *v;
	size_t klen, vlen;
	int ret = 0, err;

	scan_start(s, &sc, prefix, dir_prefix(prefix, 'd', dir));
	for (; rocksdb_iter_valid(sc.it); rocksdb_iter_next(sc.it)) {
		k = rocksdb_iter_key(sc.it, &klen);
		v = rocksdb_iter_value(sc.it, &vlen);
		if (klen <= 9 || dent_decode(v, vlen, &d)) {
			ret = -EIO;
			break;
		}
		strbuf_reset(&name);
		strbuf_add(&name, k + 9, klen - 9);
		de.name = name.buf;
		de.ino = d.child;
		de.type = d.type;
		ret = cb(arg, &de);
		if (ret)
			break;
	}
	err = scan_end(s, &sc);
	strbuf_release(&name);
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
	if (l->n == l->alloc) {
		size_t alloc = l->alloc ? 2 * l->alloc : 64;
		struct past_ent *v = realloc(l->v, alloc * sizeof(*v));

		if (!v)
			abort();	/* as strbuf: out of memory is fatal */
		l->v = v;
		l->alloc = alloc;
	}
	l->v[l->n].name = strndup(name, len);
	if (!l->v[l->n].name)
		abort();
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
	struct scan sc;
	struct dent d;
	uint8_t prefix[9];
	const char *k, *v;
	size_t klen, vlen, tail;
	int ret = 0;

	for (size_t i = 0; i < sizeof(tags) && !ret; i++) {
		tail = tags[i] == 'h' ? 8 : 0;
		scan_start(s, &sc, prefix, dir_prefix(prefix, tags[i], dir));
		for (; rocksdb_iter_valid(sc.it); rocksdb_iter_next(sc.it)) {
			k = rocksdb_iter_key(sc.it, &klen);
			v = rocksdb_iter_value(sc.it, &vlen);
			if (klen <= 9 + tail || dent_decode(v, vlen, &d)) {
				ret = -EIO;
				break;
			}
			if (d.born > t)
				continue;
			if (tail && (int64_t)get_be64((const uint8_t *)k + klen - 8) <= t)
				continue;
			past_add(l, k + 9, klen - 9 - tail, &d);
		}
		if (scan_end(s, &sc))
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
		return readdir_past(s, dir, ts_to_ns(as_of), cb, arg);
	return readdir_live(s, dir, cb, arg);
}

/* Finds the entry parent/name alive at t, live or in history. */
static int dent_get_at(struct store *s, uint64_t parent, const char *name, int64_t t,
		       struct dent *out)
{
	uint8_t prefix[KEY_MAX];
	const char *k, *v;
	size_t klen, vlen, plen, nlen = strlen(name);
	struct scan sc;
	struct dent d;
	int ret;

	ret = dent_get(s, parent, name, &d);
	if (!ret && d.born <= t) {
		*out = d;
		return 0;
	}
	if (ret && ret != -ENOENT)
		return ret;

	plen = dir_prefix(prefix, 'h', parent);
	memcpy(prefix + plen, name, nlen);
	plen += nlen;
	ret = -ENOENT;
	scan_start(s, &sc, prefix, plen);
	for (; rocksdb_iter_valid(sc.it); rocksdb_iter_next(sc.it)) {
		k = rocksdb_iter_key(sc.it, &klen);
		/* longer names share the prefix; only ours is exactly name + tail */
		if (klen != plen + 8)
			continue;
		v = rocksdb_iter_value(sc.it, &vlen);
		if (dent_decode(v, vlen, &d)) {
			ret = -EIO;
			break;
		}
		if (d.born <= t && (int64_t)get_be64((const uint8_t *)k + plen) > t) {
			*out = d;
			ret = 0;
			break;
		}
	}
	if (scan_end(s, &sc))
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
	ret = dent_get_at(s, parent, name, ts_to_ns(as_of), &d);
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

int store_resolve(struct store *s, const char *path, struct store_attr *a)
{
	struct strbuf comp = STRBUF_INIT;
	const char *p = path, *end;
	int ret;

	if (*p != '/')
		return -EINVAL;
	ret = store_getattr(s, STORE_ROOT_INO, a);
	while (!ret) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		end = strchrnul(p, '/');
		strbuf_reset(&comp);
		strbuf_add(&comp, p, (size_t)(end - p));
		p = end;
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
