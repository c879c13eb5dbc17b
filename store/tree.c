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
 * its rows in one synced batch, with the operation's audit record when
 * the caller gives one: a crash leaves the tree before or after the
 * operation and its record, never between. Reads take no lock.
 *
 * There are no hard links, so an inode has exactly one parent and its
 * record says which; store_path and the rename loop check walk up that.
 */
#include "store/commit_mark.h"
#include "store/dent.h"
#include "store/tree_mark.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/log.h"

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
	*a = ns_to_timespec(now);
	if (b)
		*b = *a;
}

/*
 * Writes b synced with audit (may be NULL) in it; caller holds s->lock.
 * The record is a copy: audit_add() stamps its sequence and time.
 */
static int write_audited(struct store *s, rocksdb_writebatch_t *b, const struct audit_rec *audit)
{
	struct audit_rec a;
	int ret;

	if (audit) {
		a = *audit;
		ret = audit_add(s, b, &a);
		if (ret)
			return ret;
	}
	ret = store_write(s, b, true);
	if (ret && audit)
		audit_rollback(s);
	return ret;
}

/* write_audited() with the record naming the entries t holds, marked (store/tree_mark.c) */
static int write_audited_tree(struct store *s, rocksdb_writebatch_t *b,
			      const struct audit_rec *audit, struct strbuf *t)
{
	struct audit_rec a;
	int ret;

	if (!audit)
		return write_audited(s, b, NULL);
	ret = tree_mark_seal(s, t);
	if (ret)
		return ret;
	a = *audit;
	a.tree = t->buf;
	return write_audited(s, b, &a);
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
	ret = dent_resolve(s, parent, name, &d, &r);
	if (ret == -ENOENT) {
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
		 const char *link_target, struct store_attr *out,
		 const struct audit_rec *audit)
{
	rocksdb_writebatch_t *b = NULL;
	struct inode_rec dir, node;
	struct strbuf t = STRBUF_INIT;
	struct dent d;
	uint8_t next[8];
	int64_t now;
	int ret;

	ret = dent_check_name(name);
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
	dent_add(s, b, parent, name, &d);
	put_be64(next, s->next_ino + 1);
	rocksdb_writebatch_put_cf(b, s->cf[CF_META], "next_ino", 8, (const char *)next, 8);
	touch(&dir.attr.mtime, &dir.attr.ctime, now);
	if (type == STORE_DIR)
		dir.attr.nlink++;
	inode_put(s, b, &dir);
	tree_mark_entry(&t, true, parent, name, node.attr.ino);
	ret = tree_mark_attr(s, &t, &node);
	if (!ret)
		ret = write_audited_tree(s, b, audit, &t);
	if (ret)
		goto out;
	s->next_ino++;
	if (out)
		*out = node.attr;
out:
	pthread_mutex_unlock(&s->lock);
	if (b)
		rocksdb_writebatch_destroy(b);
	strbuf_release(&t);
	inode_rec_release(&node);
	inode_rec_release(&dir);
	return ret;
}

/* unlink (want_dir false) and rmdir (want_dir true) */
static int remove_entry(struct store *s, uint64_t parent, const char *name, bool want_dir,
			const struct audit_rec *audit)
{
	rocksdb_writebatch_t *b = NULL;
	struct inode_rec dir, node;
	struct strbuf t = STRBUF_INIT;
	struct dent d;
	int64_t now;
	int ret;

	ret = dent_check_name(name);
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
		ret = dent_dir_empty(s, d.child);
	if (!ret)
		ret = inode_load(s, d.child, &node);
	if (ret)
		goto out;

	now = store_now_ns();
	b = rocksdb_writebatch_create();
	dent_end(s, b, parent, name, &d, now);
	node.dead = true;
	node.attr.nlink = 0;
	touch(&node.attr.ctime, NULL, now);
	inode_put(s, b, &node);
	touch(&dir.attr.mtime, &dir.attr.ctime, now);
	if (want_dir)
		dir.attr.nlink--;
	inode_put(s, b, &dir);
	tree_mark_entry(&t, false, parent, name, d.child);
	ret = write_audited_tree(s, b, audit, &t);
out:
	pthread_mutex_unlock(&s->lock);
	if (b)
		rocksdb_writebatch_destroy(b);
	strbuf_release(&t);
	inode_rec_release(&node);
	inode_rec_release(&dir);
	return ret;
}

int store_unlink(struct store *s, uint64_t parent, const char *name,
		 const struct audit_rec *audit)
{
	return remove_entry(s, parent, name, false, audit);
}

int store_rmdir(struct store *s, uint64_t parent, const char *name,
		const struct audit_rec *audit)
{
	return remove_entry(s, parent, name, true, audit);
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
	uint8_t cid[32];		/* and the content id of the version it got */
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

	dent_end(op->s, op->b, op->p1, op->n1, &op->ds, op->now);
	dent_add(op->s, op->b, op->p2, op->n2, &d);
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
		ret = dent_dir_empty(op->s, op->dd.child);
		if (ret)
			return ret;
	}
	if (op->ds.type == STORE_REG && op->dd.type == STORE_REG) {
		/* the target keeps its inode and history; the source ends */
		ret = version_add_from(op->s, op->b, &op->dst, op->src.attr.ino, w, op->cid);
		if (ret)
			return ret;
		/*
		 * The history is the target's, the file is the source's: a
		 * 0600 temp file renamed over a 0644 one stays 0600, and
		 * rsync, cp -p and editors find the mtime they set.
		 */
		op->dst.attr.mode = op->src.attr.mode;
		op->dst.attr.uid = op->src.attr.uid;
		op->dst.attr.gid = op->src.attr.gid;
		op->dst.attr.atime = op->src.attr.atime;
		op->dst.attr.mtime = op->src.attr.mtime;
		touch(&op->dst.attr.ctime, NULL, op->now);
		inode_put(op->s, op->b, &op->dst);
		dent_end(op->s, op->b, op->p1, op->n1, &op->ds, op->now);
		kill_inode(op, &op->src);
		op->kept_dst = true;
		return 0;
	}
	dent_end(op->s, op->b, op->p2, op->n2, &op->dd, op->now);
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

	dent_end(op->s, op->b, op->p1, op->n1, &op->ds, op->now);
	dent_end(op->s, op->b, op->p2, op->n2, &op->dd, op->now);
	dent_add(op->s, op->b, op->p1, op->n1, &d1);
	dent_add(op->s, op->b, op->p2, op->n2, &d2);
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
		 const struct store_writer *w, uint64_t *target_ino,
		 const struct audit_rec *audit)
{
	struct rename_op op = { .s = s, .p1 = p1, .p2 = p2, .n1 = n1, .n2 = n2 };
	struct strbuf t = STRBUF_INIT;
	struct audit_rec a;
	char mark[COMMIT_MARK_HEX + 1];
	int ret;

	if ((flags & ~(STORE_RENAME_NOREPLACE | STORE_RENAME_EXCHANGE)) ||
	    flags == (STORE_RENAME_NOREPLACE | STORE_RENAME_EXCHANGE))
		return -EINVAL;
	ret = dent_check_name(n1);
	if (!ret)
		ret = dent_check_name(n2);
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
		/* a name renamed onto itself: nothing moves, the record still goes */
		ret = 0;
		if (audit) {
			op.b = rocksdb_writebatch_create();
			ret = write_audited(s, op.b, audit);
		}
		if (!ret && target_ino)
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
	if (audit && op.kept_dst) {
		/* the target's new version is a commit: its record names it, marked */
		a = *audit;
		a.version = op.dst.attr.version;
		ret = commit_audit_mark(s, &a, &op.dst, op.cid, mark);
		audit = &a;
	}
	/* what each name leads to now */
	if (flags & STORE_RENAME_EXCHANGE)
		tree_mark_entry(&t, true, p1, n1, op.dst.attr.ino);
	else
		tree_mark_entry(&t, false, p1, n1, op.src.attr.ino);
	tree_mark_entry(&t, true, p2, n2, op.kept_dst ? op.dst.attr.ino : op.src.attr.ino);
	if (!ret && op.kept_dst)
		ret = tree_mark_attr(s, &t, &op.dst);	/* the source's mode and owner */
	if (!ret)
		ret = write_audited_tree(s, op.b, audit, &t);
	if (!ret && target_ino)
		*target_ino = op.kept_dst ? op.dst.attr.ino : op.src.attr.ino;
out:
	pthread_mutex_unlock(&s->lock);
	if (op.b)
		rocksdb_writebatch_destroy(op.b);
	strbuf_release(&t);
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

int store_setattr(struct store *s, uint64_t ino, const struct store_attr *a, unsigned what,
		  const struct audit_rec *audit)
{
	rocksdb_writebatch_t *b = NULL;
	struct strbuf t = STRBUF_INIT;
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
	/* mode and owner are held to the log; times are not (docs/audit.md) */
	ret = tree_mark_attr(s, &t, &r);
	if (!ret)
		ret = write_audited_tree(s, b, audit, &t);
out:
	pthread_mutex_unlock(&s->lock);
	if (b)
		rocksdb_writebatch_destroy(b);
	strbuf_release(&t);
	inode_rec_release(&r);
	return ret;
}
