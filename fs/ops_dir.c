/*
 * fs/ops_dir.c - names: mkdir, mknod, symlink, readlink, link, unlink,
 * rmdir and rename (listings are fs/ops_list.c).
 *
 * History (virtual directories) is read-only: every change under it
 * gets EROFS.
 */
#include "common/alloc.h"
#include "fs/fs.h"
#include "fs/access.h"
#include "fs/dirbuf.h"
#include "fs/inode.h"
#include "fs/node.h"
#include "fs/ops_dir.h"
#include "fs/orphan.h"
#include "fs/stage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define LINK_DEPTH	40	/* links followed in one resolution, as the kernel's */

/* Moves the first component of *p (after slashes) to comp; false at the end. */
static bool next_comp(const char **p, const char **comp, size_t *len)
{
	*p += strspn(*p, "/");
	if (!**p)
		return false;
	*comp = *p;
	*len = strcspn(*p, "/");
	*p += *len;
	return true;
}

/*
 * Whether following target from directory dir (a pool path) stays in the
 * pool, resolved the way the kernel resolves it (DESIGN.md "Bad input"):
 * a ".." leaves where the walk got to so far, which after a symlink is
 * the link's target, not the link's directory; so a link that is fine
 * alone (up -> ../../..) makes another fine alone (up/../x) escape.
 * Links met on the way are followed through the store; a name that does
 * not exist (yet) is taken for a directory, and fs_ll_readlink() asks
 * again at every follow, so links made or moved later are judged then.
 * Returns 0, or -EPERM (out of the pool: an absolute target, ".." above
 * the root), -ELOOP (more than LINK_DEPTH links), -ENOMEM.
 */
static int link_resolve(struct store *s, const char *dir, const char *target)
{
	struct strbuf todo = STRBUF_INIT, rest = STRBUF_INIT, t2 = STRBUF_INIT, swap;
	uint64_t *stack = NULL;
	size_t depth = 0, alloc = 0, len;
	const char *p, *comp;
	struct store_attr a;
	int links = 0, err = 0;

	if (target[0] == '/')
		return -EPERM;
	strbuf_addstr(&todo, dir);
	strbuf_addch(&todo, '/');
	/* the directory is a real one: its own components are walked alike */
	strbuf_addstr(&todo, target);
	p = todo.buf;
	while (next_comp(&p, &comp, &len)) {
		uint64_t parent = depth ? stack[depth - 1] : STORE_ROOT_INO, ino = 0;
		char name[STORE_NAME_MAX + 1];

		if (len == 1 && comp[0] == '.')
			continue;
		if (len == 2 && comp[0] == '.' && comp[1] == '.') {
			if (depth == 0) {
				err = -EPERM;
				break;
			}
			depth--;
			continue;
		}
		if (len <= STORE_NAME_MAX && parent) {
			memcpy(name, comp, len);
			name[len] = '\0';
			if (store_lookup(s, parent, name, &a) == 0)
				ino = a.ino;
		}
		if (ino && a.type == STORE_LNK) {
			if (++links > LINK_DEPTH) {
				err = -ELOOP;
				break;
			}
			strbuf_reset(&t2);
			if (store_readlink(s, ino, &t2) < 0 || t2.buf[0] == '/') {
				err = -EPERM;
				break;
			}
			/* the rest of the walk goes on from the link's target */
			strbuf_reset(&rest);
			strbuf_add(&rest, t2.buf, t2.len);
			strbuf_addch(&rest, '/');
			strbuf_addstr(&rest, p);
			swap = todo;
			todo = rest;
			rest = swap;
			p = todo.buf;
			continue;
		}
		ALLOC_GROW(stack, depth + 1, alloc);
		stack[depth++] = ino;
	}
	free(stack);
	strbuf_release(&todo);
	strbuf_release(&rest);
	strbuf_release(&t2);
	return err;
}

/*
 * Whether a walk's result means out of the pool. A loop does not: the
 * kernel follows at most as many links as the walk did (it counts the
 * links before this one too), so it ends in ELOOP before reaching
 * whatever lies past the loop, and every readlink on its way is judged
 * again. POSIX wants ELOOP there, not EPERM.
 */
static bool walk_escapes(int walk)
{
	return walk < 0 && walk != -ELOOP;
}

/* link_resolve() for the link at pool path path, with target. */
static int link_walk(struct fs *fs, const char *path, const char *target)
{
	struct strbuf dir = STRBUF_INIT;
	const char *slash = strrchr(path, '/');
	int walk;

	strbuf_add(&dir, path, slash ? (size_t)(slash - path) : 0);
	walk = link_resolve(fs->store, dir.buf, target);
	strbuf_release(&dir);
	return walk;
}

/* Pins parent and fills its pool path; history refuses changes (op). */
static int pin_parent(fuse_req_t req, fuse_ino_t parent, const char *op,
		      struct fs_inode **n, struct strbuf *path)
{
	struct fs *fs = fs_of(req);
	int err = fs_node_pin(fs, parent, n);

	if (err == 0)
		err = fs_node_path(fs, *n, path);
	if (err == 0 && fs_node_virtual(*n))
		err = fs_deny(req, op, path->buf, -EROFS, "history is read-only");
	if (err < 0) {
		fs_inode_put(fs, *n);
		*n = NULL;
	}
	return err;
}

/* The checks every new name goes through; the refusal is logged. */
static int check_new_name(fuse_req_t req, const char *op, const char *path,
			  const char *name)
{
	int err = fs_check_new_name(name);

	if (err == 0 && strlen(path) > STORE_PATH_MAX)
		err = -ENAMETOOLONG;
	if (err == -EPERM)
		err = fs_deny(req, op, path, err, "reserved name");
	return err;
}

int fs_make_node(fuse_req_t req, fuse_ino_t parent, const char *name, uint32_t type,
		 mode_t mode, const char *target, const char *op,
		 struct fuse_entry_param *e, struct strbuf *path,
		 struct policy_decision *d)
{
	struct fs *fs = fs_of(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct strbuf dpath = STRBUF_INIT;
	struct fs_inode *dir = NULL, *n;
	struct fs_change ch;
	struct store_attr a;
	uint32_t dept;
	int err;

	memset(e, 0, sizeof(*e));
	err = pin_parent(req, parent, op, &dir, &dpath);
	if (err < 0)
		goto out;
	fs_path_join(path, dpath.buf, name);
	err = check_new_name(req, op, path->buf, name);
	if (err < 0)
		goto out;
	if (target && !target[0]) {
		err = -ENOENT;
		goto out;
	}
	if (target && walk_escapes(link_resolve(fs->store, dpath.buf, target))) {
		err = fs_deny(req, op, path->buf, -EPERM, "symlink points out of the pool");
		goto out;
	}
	err = fs_decide(req, op, path->buf, POLICY_CREATE, d);
	if (err < 0)
		goto out;
	fs_change_init(req, op, path->buf, d, &ch);
	err = store_mknode(fs->store, dir->key.sino, name, type, mode & 07777,
			   ctx->uid, ctx->gid, target, &a, &ch.rec);
	err = fs_change_end(fs, &ch, err);
	if (err < 0)
		goto out;
	/* a new directory is its maker's department's, as at a lookup */
	dept = type == STORE_DIR ? fs_dept_kid(fs, d->dept) : 0;
	n = dept == FS_VID_NONE ? NULL : fs_inode_get_view(fs, a.ino, 0, dept);
	if (!n) {
		err = -ENOMEM;
		goto out;
	}
	err = fs_node_stat(fs, n, &e->attr);
	if (err < 0) {
		fs_inode_forget(fs, n->ino, 1);
		goto out;
	}
	e->ino = n->ino;
	e->attr_timeout = fs_cache_timeout(fs);
	e->entry_timeout = fs_cache_timeout(fs);
out:
	fs_inode_put(fs, dir);
	strbuf_release(&dpath);
	return err;
}

static void reply_made(fuse_req_t req, int err, const struct fuse_entry_param *e)
{
	if (err < 0)
		fuse_reply_err(req, -err);
	else if (fuse_reply_entry(req, e))
		fs_inode_forget(fs_of(req), e->ino, 1);
}

void fs_ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct strbuf path = STRBUF_INIT;
	struct policy_decision d;
	struct fuse_entry_param e;
	int err;

	err = fs_make_node(req, parent, name, STORE_DIR, mode, NULL, "mkdir", &e, &path, &d);
	strbuf_release(&path);
	reply_made(req, err, &e);
}

void fs_ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		 dev_t rdev)
{
	struct strbuf path = STRBUF_INIT;
	struct policy_decision d;
	struct fuse_entry_param e;
	int err;

	if (S_ISREG(mode)) {
		err = fs_make_node(req, parent, name, STORE_REG, mode, NULL, "create",
				   &e, &path, &d);
	} else {
		strbuf_addstr(&path, name);
		err = fs_deny(req, "mknod", path.buf, -EPERM,
			      "devices, fifos and sockets are not allowed");
	}
	strbuf_release(&path);
	reply_made(req, err, &e);
}

void fs_ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		   const char *name)
{
	struct strbuf path = STRBUF_INIT;
	struct policy_decision d;
	struct fuse_entry_param e;
	int err;

	err = fs_make_node(req, parent, name, STORE_LNK, 0777, link, "symlink", &e, &path, &d);
	strbuf_release(&path);
	reply_made(req, err, &e);
}

void fs_ll_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fs *fs = fs_of(req);
	struct strbuf path = STRBUF_INIT, target = STRBUF_INIT;
	struct policy_decision d;
	struct fs_inode *n = NULL;
	int err, walk = 0;

	err = fs_node_pin(fs, ino, &n);
	if (err == 0)
		err = fs_node_path(fs, n, &path);
	if (err == 0 && fs_node_type(fs, n) != STORE_LNK)
		err = -EINVAL;
	if (err == 0)
		err = fs_decide(req, "readlink", path.buf, POLICY_READ, &d);
	if (err == 0)
		err = store_readlink(fs->store, n->key.sino, &target);
	/* a link may have been moved (or its directory) to where it escapes */
	if (err == 0)
		walk = link_walk(fs, path.buf, target.buf);
	if (err == 0 && walk_escapes(walk)) {
		err = fs_deny(req, "readlink", path.buf, -EPERM, "symlink points out of the pool");
	} else if (err == 0) {
		/* a loop answers ELOOP, to the path walk that follows it too */
		err = fs_audit_meta(req, "readlink", path.buf, walk, &d);
		if (err == 0)
			err = walk;
	}
	if (err < 0)
		fuse_reply_err(req, -err);
	else
		fuse_reply_readlink(req, target.buf);
	fs_inode_put(fs, n);
	strbuf_release(&path);
	strbuf_release(&target);
}

/*
 * The catalog area of path: 1 with the entry's directory in *entry when
 * path is inside an entry (the directory itself included), 0 outside
 * every entry, -EXDEV for the tree the catalog defines (the root, the
 * directories above entries, /.poolfs).
 */
static int move_area(const struct policy *p, const char *path, const char **entry,
		     struct policy_entry_info *info)
{
	switch (policy_path_kind(p, path)) {
	case POLICY_PATH_OUTSIDE:
		*entry = "";
		return 0;
	case POLICY_PATH_ENTRY:
	case POLICY_PATH_INSIDE:
		if (policy_entry_for_path(p, path, info) < 0)
			return -EXDEV;
		*entry = info->path;
		return 1;
	default:
		return -EXDEV;
	}
}

/*
 * -EXDEV (logged as op) unless from and to lie in one catalog area: a
 * file keeps its entry, so its provider, its rules and its history, for
 * life (DESIGN.md "Writes and versions"). Across entries mv copies,
 * through the mover's view. An entry's own directory never moves.
 */
static int same_area(fuse_req_t req, const char *op, const char *from, const char *to)
{
	struct policy *p = fs_policy_get(fs_of(req));
	struct policy_entry_info i1, i2;
	const char *e1 = "", *e2 = "";
	int a1, a2, err = 0;

	/* fail closed: with no policy nothing may move */
	if (!p)
		return fs_deny(req, op, from, -EACCES, "no policy loaded");
	a1 = move_area(p, from, &e1, &i1);
	a2 = move_area(p, to, &e2, &i2);
	if (a1 < 0 || a2 < 0 || a1 != a2 || strcmp(e1, e2) ||
	    (a1 == 1 && (i1.is_root || i2.is_root)))
		err = fs_deny(req, op, from, -EXDEV, a1 == 1 && i1.is_root ?
			      "the directory of a catalog entry does not move" :
			      "a name does not move out of its catalog entry");
	policy_put(p);
	return err;
}

void fs_ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		const char *newname)
{
	struct fs *fs = fs_of(req);
	struct strbuf path = STRBUF_INIT, dpath = STRBUF_INIT, to = STRBUF_INIT;
	struct fs_inode *n = NULL, *dir = NULL;
	int err;

	/* one parent per inode keeps paths, policy and history unambiguous */
	err = fs_node_pin(fs, ino, &n);
	if (err == 0)
		err = fs_node_path(fs, n, &path);
	if (err == 0)
		err = pin_parent(req, newparent, "link", &dir, &dpath);
	if (err < 0)
		goto out;
	fs_path_join(&to, dpath.buf, newname);
	/* EXDEV first: ln and cp -l then copy instead, through the caller's view */
	err = same_area(req, "link", path.buf, to.buf);
	if (err == 0)
		err = fs_deny(req, "link", path.buf, -EPERM, "hard links are not allowed");
out:
	fs_inode_put(fs, n);
	fs_inode_put(fs, dir);
	strbuf_release(&path);
	strbuf_release(&dpath);
	strbuf_release(&to);
	fuse_reply_err(req, -err);
}

struct rename_args {
	uint64_t p1, p2;
	const char *n1, *n2;
	unsigned flags;
	const struct store_writer *w;
	const struct audit_rec *audit;
	uint64_t target;
};

/* arg: the unlink's audit record */
static int unlink_op(struct fs *fs, uint64_t parent, const char *name, void *arg)
{
	return store_unlink(fs->store, parent, name, arg);
}

static int rename_op(struct fs *fs, uint64_t parent, const char *name, void *arg)
{
	struct rename_args *r = arg;

	return store_rename(fs->store, r->p1, r->n1, r->p2, r->n2, r->flags, r->w,
			    &r->target, r->audit);
}

/*
 * Runs op, which ends the name parent/name, so that handles still open
 * on the file there keep the old file to themselves (see orphan.c).
 */
static int orphaning(fuse_req_t req, uint64_t parent, const char *name, const char *path,
		     int (*op)(struct fs *, uint64_t, const char *, void *), void *arg)
{
	struct fs *fs = fs_of(req);
	struct store_attr a;

	if (store_lookup(fs->store, parent, name, &a) < 0 || a.type != STORE_REG)
		return op(fs, parent, name, arg);
	return fs_inode_end_name(fs, &a, path, op, parent, name, arg);
}

static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
			 const char *op, bool dir)
{
	struct fs *fs = fs_of(req);
	struct strbuf dpath = STRBUF_INIT, path = STRBUF_INIT;
	struct policy_decision d;
	struct fs_inode *pn = NULL;
	struct fs_change ch;
	int err;

	err = fs_check_name(name);
	if (err == 0)
		err = pin_parent(req, parent, op, &pn, &dpath);
	if (err < 0)
		goto out;
	fs_path_join(&path, dpath.buf, name);
	err = fs_decide(req, op, path.buf, POLICY_DELETE, &d);
	if (err < 0)
		goto out;
	fs_change_init(req, op, path.buf, &d, &ch);
	if (dir)
		err = store_rmdir(fs->store, pn->key.sino, name, &ch.rec);
	else
		err = orphaning(req, pn->key.sino, name, path.buf, unlink_op, &ch.rec);
	err = fs_change_end(fs, &ch, err);
out:
	fs_inode_put(fs, pn);
	strbuf_release(&dpath);
	strbuf_release(&path);
	fuse_reply_err(req, -err);
}

void fs_ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, "unlink", false);
}

void fs_ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, "rmdir", true);
}

/*
 * The decisions a rename needs: it takes from out of its place and puts
 * it at to; an exchange also does the reverse, and replacing a file
 * writes a new version of it.
 */
static int rename_decide(fuse_req_t req, uint64_t p2, const char *n2,
			 const char *from, const char *to, unsigned flags,
			 struct policy_decision *d)
{
	struct store_attr a;
	int err;

	err = fs_decide(req, "rename", from, POLICY_DELETE, d);
	if (err == 0)
		err = fs_decide(req, "rename", to, POLICY_CREATE, d);
	if (err == 0 && (flags & STORE_RENAME_EXCHANGE)) {
		err = fs_decide(req, "rename", to, POLICY_DELETE, d);
		if (err == 0)
			err = fs_decide(req, "rename", from, POLICY_CREATE, d);
	} else if (err == 0 && store_lookup(fs_of(req)->store, p2, n2, &a) == 0) {
		/* a file renamed over gets a version; anything else is removed */
		err = fs_decide(req, "rename", to, a.type == STORE_REG ? POLICY_WRITE :
				POLICY_DELETE, d);
	}
	return err;
}

/*
 * Gets what is about to move from parent/name ready: pending writes of a
 * file are committed first, a symlink must not escape from its new place
 * (to). *ino is the file's inode, 0 for anything else.
 */
static int ready_to_move(fuse_req_t req, uint64_t parent, const char *name,
			 const char *path, const char *to, uint64_t *ino)
{
	struct strbuf target = STRBUF_INIT;
	struct store_attr a;
	int err = 0;

	*ino = 0;
	if (store_lookup(fs_of(req)->store, parent, name, &a) < 0)
		return 0;
	if (a.type == STORE_REG) {
		*ino = a.ino;
		return fs_commit_ino(req, a.ino, path);
	}
	if (a.type == STORE_LNK &&
	    store_readlink(fs_of(req)->store, a.ino, &target) == 0 &&
	    walk_escapes(link_walk(fs_of(req), to, target.buf)))
		err = fs_deny(req, "rename", path, -EPERM,
			      "the symlink would point out of the pool");
	strbuf_release(&target);
	return err;
}

/*
 * Renaming a file over another writes the target (and, for an exchange,
 * the source): fs_check_replace() for the file whose content changes.
 */
static int replace_check(fuse_req_t req, uint64_t p1, const char *n1, const char *from,
			 uint64_t p2, const char *n2, const char *to, unsigned flags)
{
	struct store *s = fs_of(req)->store;
	struct store_attr a1, a2;
	int err;

	if (store_lookup(s, p1, n1, &a1) < 0 || store_lookup(s, p2, n2, &a2) < 0 ||
	    a1.type != STORE_REG || a2.type != STORE_REG)
		return 0;
	err = fs_check_replace(req, to, a2.ino, a1.ino);
	if (err == 0 && (flags & STORE_RENAME_EXCHANGE))
		err = fs_check_replace(req, from, a1.ino, a2.ino);
	return err;
}

void fs_ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		  fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct fs *fs = fs_of(req);
	struct strbuf d1 = STRBUF_INIT, d2 = STRBUF_INIT;
	struct strbuf from = STRBUF_INIT, to = STRBUF_INIT;
	struct fs_inode *p1 = NULL, *p2 = NULL;
	struct policy_decision d;
	struct rename_args ra;
	struct store_writer sw;
	struct fs_change ch;
	uint64_t src = 0, dst = 0, target = 0;
	int err;

	if (flags & ~(unsigned)(STORE_RENAME_NOREPLACE | STORE_RENAME_EXCHANGE)) {
		err = -EINVAL;
		goto out;
	}
	err = fs_check_name(name);
	if (err == 0)
		err = pin_parent(req, parent, "rename", &p1, &d1);
	if (err == 0)
		err = pin_parent(req, newparent, "rename", &p2, &d2);
	if (err < 0)
		goto out;
	fs_path_join(&from, d1.buf, name);
	fs_path_join(&to, d2.buf, newname);
	err = check_new_name(req, "rename", to.buf, newname);
	if (err == 0)
		err = same_area(req, "rename", from.buf, to.buf);
	if (err == 0)
		err = rename_decide(req, p2->key.sino, newname, from.buf, to.buf, flags, &d);
	if (err == 0)
		err = ready_to_move(req, p1->key.sino, name, from.buf, to.buf, &src);
	if (err == 0 && (flags & STORE_RENAME_EXCHANGE))
		err = ready_to_move(req, p2->key.sino, newname, to.buf, from.buf, &dst);
	if (err == 0)
		err = replace_check(req, p1->key.sino, name, from.buf, p2->key.sino, newname,
				    to.buf, flags);
	if (err < 0)
		goto out;
	snprintf(d.reason, sizeof(d.reason), "to %s", to.buf);
	fs_change_init(req, "rename", from.buf, &d, &ch);
	fs_who_writer(&ch.who, &sw);
	ra.p1 = p1->key.sino;
	ra.n1 = name;
	ra.p2 = p2->key.sino;
	ra.n2 = newname;
	ra.flags = flags;
	ra.w = &sw;
	ra.audit = &ch.rec;
	/* a file renamed over is gone for its open handles too; an exchange keeps both */
	if (flags & STORE_RENAME_EXCHANGE)
		err = rename_op(fs, 0, NULL, &ra);
	else
		err = orphaning(req, p2->key.sino, newname, to.buf, rename_op, &ra);
	target = ra.target;
	err = fs_change_end(fs, &ch, err);
	/*
	 * The file now lives on in the target's inode: the kernel still
	 * knows it by its own, and its open handles go on writing it.
	 */
	if (err == 0 && src && target && target != src) {
		fs_inode_redirect(fs, src, target);
		fs_forward_handles(fs, src, target);
	}
out:
	/*
	 * The target's own kernel inode is not invalidated: the kernel now
	 * reaches the name through the moved inode, and whoever still has
	 * the old file open keeps reading the version they opened.
	 */
	fs_inode_put(fs, p1);
	fs_inode_put(fs, p2);
	fuse_reply_err(req, -err);
	strbuf_release(&d1);
	strbuf_release(&d2);
	strbuf_release(&from);
	strbuf_release(&to);
}
