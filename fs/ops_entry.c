/*
 * fs/ops_entry.c - operations on an inode as a whole: lookup, forget,
 * attributes, access checks, extended attributes and statfs.
 *
 * Mode bits are recorded and reported but never decide anything: the
 * policy does (DESIGN.md "Identity"), so access() asks it too.
 *
 * What these operations tell (a name exists, a view's size, a version,
 * a link's target) is recorded like any read, through the coalescer:
 * an `ls -l` or a stat loop costs a record per name and second, not one
 * per request (fs_audit_meta).
 */
#include "fs/fs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/log.h"
#include "fs/kinode.h"
#include "fs/view.h"
#include "fs/access.h"
#include "fs/dirbuf.h"
#include "fs/file.h"
#include "fs/inode.h"
#include "fs/lookup.h"
#include "fs/meta.h"
#include "fs/node.h"
#include "fs/orphan.h"
#include "fs/stage.h"

static const char version_xattr[] = "user.poolfs.version";
static const char user_prefix[] = "user.";

/* The record of an allowed lookup of dpath/name (denials are recorded by the decision). */
static int lookup_record(fuse_req_t req, const char *dpath, const char *name)
{
	struct strbuf path = STRBUF_INIT;
	struct policy_decision d;
	int err;

	memset(&d, 0, sizeof(d));
	d.allow = 1;
	fs_path_join(&path, dpath, name);
	err = fs_audit_meta(req, "lookup", path.buf, 0, &d);
	strbuf_release(&path);
	return err;
}

void fs_ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);
	struct strbuf dpath = STRBUF_INIT;
	struct fuse_entry_param e;
	struct fs_inode *dir = NULL;
	int err;

	err = fs_node_pin(fs, parent, &dir);
	if (err == 0)
		err = fs_node_path(fs, dir, &dpath);
	if (err == 0)
		err = fs_lookup_child(req, dir, dpath.buf, name, &e);
	fs_inode_put(fs, dir);
	/* a lookup's reply carries the attributes: recorded like a getattr */
	if (err == 0 && lookup_record(req, dpath.buf, name) < 0) {
		fs_inode_forget(fs, e.ino, 1);
		err = -EIO;
	}
	strbuf_release(&dpath);
	if (err < 0)
		fuse_reply_err(req, -err);
	else if (fuse_reply_entry(req, &e))
		fs_inode_forget(fs, e.ino, 1);
}

void fs_ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	fs_inode_forget(fs_of(req), ino, nlookup);
	fuse_reply_none(req);
}

void fs_ll_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *f)
{
	for (size_t i = 0; i < count; i++)
		fs_inode_forget(fs_of(req), f[i].ino, f[i].nlookup);
	fuse_reply_none(req);
}

/* The path an open handle on n was opened under, for a file whose name went away. */
static int path_of_open(struct fs_inode *n, struct strbuf *path)
{
	int err = -ENOENT;

	pthread_mutex_lock(&n->lock);
	if (n->files) {
		strbuf_reset(path);
		strbuf_addstr(path, n->files->path.buf);
		err = 0;
	}
	pthread_mutex_unlock(&n->lock);
	return err;
}

/*
 * Pins the node behind ino and appends its pool path. An open file that
 * was unlinked has no path any more; its handles remember the one it
 * was opened under, and *gone tells the caller (its st_nlink is 0).
 */
static int pin_path_gone(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
			 struct fs_inode **n, struct strbuf *path, bool *gone)
{
	struct fs *fs = fs_of(req);
	int err = fs_node_pin(fs, ino, n);

	*gone = false;
	if (err < 0)
		return err;
	err = fs_node_path(fs, *n, path);
	*gone = err < 0;
	if (err < 0 && fi && fi->fh) {
		const struct fs_file *fh = (const struct fs_file *)(uintptr_t)fi->fh;

		strbuf_reset(path);
		strbuf_addstr(path, fh->path.buf);
		err = 0;
	} else if (err < 0) {
		/* fstat() of an unlinked file comes without its handle */
		struct fs_orphan *o = fs_inode_orphan(fs, ino);

		if (o) {
			strbuf_reset(path);
			strbuf_addstr(path, fs_orphan_path(o));
			fs_orphan_put(o);
			err = 0;
		} else if ((*n)->key.kind == FS_REAL) {
			/* a reader's handle needs no orphan: it keeps its version */
			err = path_of_open(*n, path) == 0 ? 0 : err;
		}
	}
	if (err < 0) {
		fs_inode_put(fs, *n);
		*n = NULL;
	}
	return err;
}

static int pin_with_path(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
			 struct fs_inode **n, struct strbuf *path)
{
	bool gone;

	return pin_path_gone(req, ino, fi, n, path, &gone);
}
/*
 * What a handle sees may not be what the name shows: a reader keeps its
 * version, the handles of an unlinked or replaced file keep the old one.
 * fstat() comes without a handle, so then the kernel inode says whose
 * (kinode.h); its handles all see the same.
 */
static void stat_for_handle(struct fs *fs, fuse_ino_t ino, uint64_t sino,
			    struct fuse_file_info *fi, struct stat *st)
{
	struct fs_kinode_state ks;
	struct fs_orphan *o;

	fs_kinode_state(fs, ino, &ks);
	/* POSIX: the file lives on while open, with no name */
	if (ks.gone)
		st->st_nlink = 0;
	if (fi && fi->fh) {
		fs_file_stat(fs, (const struct fs_file *)(uintptr_t)fi->fh, st);
		return;
	}
	o = fs_inode_orphan(fs, ino);
	if (o) {
		st->st_size = (off_t)fs_orphan_size(o);
		st->st_blocks = (blkcnt_t)((st->st_size + 511) / 512);
		fs_orphan_put(o);
		return;
	}
	if (!ks.kept)
		return;
	st->st_size = (off_t)ks.attr.size;
	st->st_blocks = (blkcnt_t)((ks.attr.size + 511) / 512);
	st->st_mtim = st->st_ctim = ks.attr.mtime;
}

/* n's attributes as fi (or the kernel inode ino) sees them; gone: no name left */
static int handle_stat(struct fs *fs, struct fs_inode *n, fuse_ino_t ino,
		       struct fuse_file_info *fi, bool gone, struct stat *st)
{
	int err = fs_node_stat(fs, n, st);

	if (err)
		return err;
	stat_for_handle(fs, ino, n->key.sino, fi, st);
	if (gone)
		st->st_nlink = 0;
	return 0;
}

void fs_ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct strbuf path = STRBUF_INIT;
	struct policy_decision d;
	struct policy *pol = NULL;	/* keeps d.view valid */
	struct fs_inode *n = NULL;
	double timeout = fs_cache_timeout(fs);
	struct stat st;
	bool gone;
	int err;

	err = pin_path_gone(req, ino, fi, &n, &path, &gone);
	/* root and system_admin may stat the mount root without any data right */
	if (err == 0 && ino == FUSE_ROOT_ID)
		err = fs_decide_root(req, "getattr", &d);
	else if (err == 0)
		err = fs_decide_keep(req, "getattr", path.buf, POLICY_LOOKUP, &d, &pol);
	if (err == 0) {
		err = handle_stat(fs, n, ino, fi, gone, &st);
		/* a row that fails its check is tampering: on the record, not only EIO */
		if (err == -EIO)
			(void)fs_audit_meta(req, "getattr", path.buf, err, &d);
	}
	if (err == 0 && n->key.kind == FS_META_FILE) {
		err = fs_meta_stat(req, n, fi, &st);
		timeout = FS_META_TIMEOUT;
	}
	if (err == 0)
		fs_view_attr(req, n, ino, fi && fi->fh ? (struct fs_file *)(uintptr_t)fi->fh : NULL,
			     path.buf, pol, d.view, &st, &timeout);
	if (err == 0)
		fs_dir_attr(req, path.buf, &st);
	/* the size is the caller's view's: as telling as a read's open */
	if (err == 0)
		err = fs_audit_meta(req, "getattr", path.buf, 0, &d);
	if (pol)
		policy_put(pol);
	fs_inode_put(fs, n);
	strbuf_release(&path);
	if (err < 0)
		fuse_reply_err(req, -err);
	else
		fuse_reply_attr(req, &st, timeout);
}

static void time_of(const struct stat *attr, int to_set, int flag, int now_flag,
		    const struct timespec *given, struct timespec *out)
{
	if (to_set & now_flag)
		clock_gettime(CLOCK_REALTIME, out);
	else if (to_set & flag)
		*out = *given;
}

/* Whether req's caller has gid as its group or among its groups. */
static bool caller_in_group(fuse_req_t req, gid_t gid)
{
	gid_t groups[256];
	int n;

	if (fuse_req_ctx(req)->gid == gid)
		return true;
	n = fuse_req_getgroups(req, (int)(sizeof(groups) / sizeof(groups[0])), groups);
	if (n > (int)(sizeof(groups) / sizeof(groups[0])))
		n = (int)(sizeof(groups) / sizeof(groups[0]));
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/*
 * The mode bits a chmod by req's caller sets on n: POSIX has a caller
 * other than root, outside the file's group, lose S_ISGID (the kernel
 * leaves this to us without default_permissions). Informational only,
 * like every mode bit here, but tools and pjdfstest expect it.
 */
static int chmod_bits(fuse_req_t req, struct fs *fs, const struct fs_inode *n,
		      const struct stat *attr, int to_set, mode_t *mode)
{
	struct store_attr cur;
	gid_t gid;
	int err;

	*mode = attr->st_mode & 07777;
	if (!(*mode & S_ISGID) || fuse_req_ctx(req)->uid == 0)
		return 0;
	if (to_set & FUSE_SET_ATTR_GID) {
		gid = attr->st_gid;
	} else {
		err = store_getattr(fs->store, n->key.sino, &cur);
		if (err < 0)
			return err;
		gid = cur.gid;
	}
	if (!caller_in_group(req, gid))
		*mode &= ~(mode_t)S_ISGID;
	return 0;
}

/*
 * 0 when req's caller may make the owner change attr and to_set ask of
 * n, else -EPERM: POSIX's restricted chown for every caller but root.
 * The owner keeps the file and may move it to a group of its own; nobody
 * else changes owner or group. Ownership grants nothing here ("Mode
 * bits"), but a file given away makes the kernel refuse its old owner
 * the calls it checks by owner itself (an ACL set, which `cp -a` and
 * `cp -p` make after their chown: they ignore the chown's EPERM, not
 * that one).
 */
static int chown_allowed(fuse_req_t req, struct fs *fs, const struct fs_inode *n,
			 const struct stat *attr, int to_set)
{
	uid_t uid = fuse_req_ctx(req)->uid;
	struct store_attr cur;
	int err;

	if (!(to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) || uid == 0)
		return 0;
	err = store_getattr(fs->store, n->key.sino, &cur);
	if (err < 0)
		return err;
	if (uid != cur.uid || ((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != cur.uid))
		return -EPERM;
	if ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != cur.gid &&
	    !caller_in_group(req, attr->st_gid))
		return -EPERM;
	return 0;
}

#define META_ATTRS (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID | \
		    FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW | \
		    FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)

/*
 * Records mode, owner and times with audit in the same batch. Times set on a file being written are
 * also kept on the node, so the commit that ends the writing (which
 * stamps its own mtime) does not undo `cp -p` or `touch -d`.
 */
static int set_meta(fuse_req_t req, struct fs *fs, struct fs_inode *n,
		    const struct stat *attr, int to_set, const struct audit_rec *audit)
{
	struct store_attr a;
	unsigned what = 0;
	int err;

	memset(&a, 0, sizeof(a));
	if (to_set & FUSE_SET_ATTR_MODE) {
		err = chmod_bits(req, fs, n, attr, to_set, &a.mode);
		if (err < 0)
			return err;
		what |= STORE_SET_MODE;
	}
	if (to_set & FUSE_SET_ATTR_UID) {
		a.uid = attr->st_uid;
		what |= STORE_SET_UID;
	}
	if (to_set & FUSE_SET_ATTR_GID) {
		a.gid = attr->st_gid;
		what |= STORE_SET_GID;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW)) {
		time_of(attr, to_set, FUSE_SET_ATTR_ATIME, FUSE_SET_ATTR_ATIME_NOW,
			&attr->st_atim, &a.atime);
		what |= STORE_SET_ATIME;
	}
	if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)) {
		time_of(attr, to_set, FUSE_SET_ATTR_MTIME, FUSE_SET_ATTR_MTIME_NOW,
			&attr->st_mtim, &a.mtime);
		what |= STORE_SET_MTIME;
	}
	if (!what)
		return 0;
	pthread_mutex_lock(&n->lock);
	if (n->stage && (what & (STORE_SET_ATIME | STORE_SET_MTIME))) {
		n->pending_set |= what & (STORE_SET_ATIME | STORE_SET_MTIME);
		if (what & STORE_SET_ATIME)
			n->pending.atime = a.atime;
		if (what & STORE_SET_MTIME)
			n->pending.mtime = n->wtime = a.mtime;
	}
	pthread_mutex_unlock(&n->lock);
	return store_setattr(fs->store, n->key.sino, &a, what, audit);
}

void fs_ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		   struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct strbuf path = STRBUF_INIT;
	struct policy_decision d;
	struct policy *pol = NULL;	/* keeps d.view valid */
	struct fs_inode *n = NULL;
	double timeout = fs_cache_timeout(fs);
	struct fs_change ch;
	struct stat st;
	bool gone;
	int err;

	err = pin_path_gone(req, ino, fi, &n, &path, &gone);
	if (err < 0)
		goto out;
	if (fs_node_virtual(n)) {
		err = fs_deny(req, "setattr", path.buf, -EROFS, "history is read-only");
		goto out;
	}
	err = fs_decide_keep(req, "setattr", path.buf, POLICY_WRITE, &d, &pol);
	if (err < 0)
		goto out;
	err = chown_allowed(req, fs, n, attr, to_set);
	if (err == -EPERM)
		err = fs_deny(req, "setattr", path.buf, err,
			      "chown: only root gives a file away or changes another's; "
			      "the owner may change the group to one of its own");
	if (err < 0)
		goto out;
	if (to_set & FUSE_SET_ATTR_SIZE) {
		struct fs_file *fh = fi && fi->fh ? (struct fs_file *)(uintptr_t)fi->fh : NULL;
		uint32_t type = fs_node_type(fs, n);

		if (type != STORE_REG) {
			err = type == STORE_DIR ? -EISDIR : -EINVAL;
		} else if (attr->st_size < 0) {
			err = -EINVAL;
		} else if (fh && fs_file_orphan(fh)) {
			err = fs_orphan_truncate(fs_file_orphan(fh), (uint64_t)attr->st_size);
		} else {
			/* by path: readers of the version keep it on a kernel inode of theirs */
			if (!fh)
				err = fs_kinode_claim(fs, n, ino);
			if (err == 0)
				err = fs_truncate(req, n, path.buf, (uint64_t)attr->st_size, &d);
		}
		/* the kernel looks the name up again and retries: nothing happened */
		if (err == -ESTALE)
			goto out;
	}
	fs_change_init(req, "setattr", path.buf, &d, &ch);
	if (to_set & FUSE_SET_ATTR_SIZE)
		ch.rec.bytes = (uint64_t)attr->st_size;
	if (err == 0 && (to_set & META_ATTRS))
		err = fs_change_end(fs, &ch, set_meta(req, fs, n, attr, to_set, &ch.rec));
	else if (fs_audit(req, "setattr", path.buf, err, &d, 0, ch.rec.bytes) < 0 && !err)
		err = -EIO;	/* a truncate's version was recorded by its commit */
	if (err == 0)
		err = handle_stat(fs, n, ino, fi, gone, &st);
	if (err == 0)
		fs_view_attr(req, n, ino, fi && fi->fh ? (struct fs_file *)(uintptr_t)fi->fh : NULL,
			     path.buf, pol, d.view, &st, &timeout);
out:
	if (pol)
		policy_put(pol);
	fs_inode_put(fs, n);
	strbuf_release(&path);
	if (err < 0)
		fuse_reply_err(req, -err);
	else
		fuse_reply_attr(req, &st, timeout);
}

/* access(2) and chdir: the policy answers, not the mode bits. */
void fs_ll_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct fs *fs = fs_of(req);
	struct strbuf path = STRBUF_INIT;
	struct policy_decision d;
	struct fs_inode *n = NULL;
	struct stat st;
	bool dir;
	int err;

	err = pin_with_path(req, ino, NULL, &n, &path);
	if (err == 0)
		err = fs_node_stat(fs, n, &st);
	if (err < 0)
		goto out;
	dir = S_ISDIR(st.st_mode);
	err = fs_decide(req, "access", path.buf, POLICY_LOOKUP, &d);
	if (err == 0 && (mask & W_OK)) {
		if (fs_node_virtual(n))
			err = -EROFS;
		else
			err = fs_decide(req, "access", path.buf,
					dir ? POLICY_CREATE : POLICY_WRITE, &d);
	}
	if (err == 0 && (mask & R_OK))
		err = fs_decide(req, "access", path.buf,
				dir ? POLICY_LIST : POLICY_READ, &d);
	if (err == 0 && (mask & X_OK) && !dir) {
		/* running a file reads it; the x bits only say it is a program */
		err = fs_decide(req, "access", path.buf, POLICY_READ, &d);
		if (err == 0 && !(st.st_mode & 0111))
			err = fs_deny(req, "access", path.buf, -EACCES, "not executable");
	}
	if (err == 0)
		err = fs_audit_meta(req, "access", path.buf, 0, &d);
out:
	fs_inode_put(fs, n);
	strbuf_release(&path);
	fuse_reply_err(req, -err);
}

#define STATFS_GRAIN	(UINT64_C(1) << 30)	/* bytes: what a department sees of space */

/*
 * The store's disk, as df and monitoring need it. Free space and file
 * counts move with every write of every department: a caller acting for
 * a department sees space in whole GiB and no file counts (0: unknown,
 * as many FUSE filesystems report); root and system_admin, when they act
 * for none, see the disk as it is.
 */
void fs_ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct policy_decision d;
	struct statvfs sv;
	uint64_t grain;
	int err;

	err = fs_decide_root(req, "statfs", &d);
	if (err == 0 && statvfs(store_dir(fs_of(req)->store), &sv) < 0)
		err = -errno;
	if (err == 0)
		err = fs_audit_meta(req, "statfs", "/", 0, &d);
	if (err < 0) {
		fuse_reply_err(req, -err);
		return;
	}
	sv.f_namemax = STORE_NAME_MAX;
	if (d.dept[0] && !fs_of(req)->allow_all) {
		grain = sv.f_frsize ? STATFS_GRAIN / sv.f_frsize : 1;
		if (!grain)
			grain = 1;
		sv.f_blocks -= sv.f_blocks % grain;
		sv.f_bfree -= sv.f_bfree % grain;
		sv.f_bavail -= sv.f_bavail % grain;
		sv.f_files = sv.f_ffree = sv.f_favail = 0;
	}
	fuse_reply_statfs(req, &sv);
}

/* Replies value to a getxattr/listxattr of size size (0: just the length). */
static void reply_xattr_value(fuse_req_t req, const char *value, size_t len, size_t size)
{
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, value, len);
}

/* Records an allowed getxattr of path that answered err (0 or "no such attribute"). */
static int xattr_record(fuse_req_t req, const char *path, int err)
{
	struct policy_decision d;

	memset(&d, 0, sizeof(d));
	d.allow = 1;
	return fs_audit_meta(req, "getxattr", path, err, &d);
}

/* The catalog's attributes of an entry directory: see meta.c. */
static void catalog_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct strbuf path = STRBUF_INIT, value = STRBUF_INIT;
	struct fs_inode *n = NULL;
	int err;

	err = pin_with_path(req, ino, NULL, &n, &path);
	if (err == 0)
		err = fs_catalog_xattr(req, n, path.buf, name, &value);
	if (err == 0 || err == -ENODATA)
		err = xattr_record(req, path.buf, err) < 0 ? -EIO : err;
	fs_inode_put(fs_of(req), n);
	if (err < 0)
		fuse_reply_err(req, -err);
	else
		reply_xattr_value(req, value.buf, value.len, size);
	strbuf_release(&path);
	strbuf_release(&value);
}

/*
 * Any name but ours: ACLs and security labels (every name outside
 * user.) are not supported, as setxattr says too; another user. name is
 * just not there. EOPNOTSUPP rather than ENODATA because ls -l asks for
 * security.selinux and system.posix_acl_access on every file, the kernel
 * sends both here for every inode it has not cached (ACL reads stay in
 * the kernel only for a daemon with no getxattr at all), and ls stops
 * asking on a device that answered "unsupported" once: two round trips
 * per listed file saved. Decided first all the same: a dentry cached for
 * one caller brings another here, and the answer must not tell a hidden
 * name from a missing one.
 */
static void other_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct strbuf path = STRBUF_INIT;
	struct policy_decision d;
	struct fs_inode *n = NULL;
	int err;

	err = pin_with_path(req, ino, NULL, &n, &path);
	if (err == 0)
		err = fs_decide(req, "getxattr", path.buf, POLICY_LOOKUP, &d);
	if (err == 0)
		err = strncmp(name, user_prefix, sizeof(user_prefix) - 1) ? -EOPNOTSUPP : -ENODATA;
	if (err == -EOPNOTSUPP || err == -ENODATA)
		err = xattr_record(req, path.buf, err) < 0 ? -EIO : err;
	fs_inode_put(fs_of(req), n);
	strbuf_release(&path);
	fuse_reply_err(req, -err);
}

void fs_ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct fs *fs = fs_of(req);
	struct strbuf path = STRBUF_INIT;
	struct policy_decision d;
	struct fs_inode *n = NULL;
	uint64_t version = 0;
	char value[24];
	int err;

	if (fs_is_catalog_xattr(name)) {
		catalog_getxattr(req, ino, name, size);
		return;
	}
	if (strcmp(name, version_xattr)) {
		other_getxattr(req, ino, name);
		return;
	}
	err = pin_with_path(req, ino, NULL, &n, &path);
	if (err < 0)
		goto out;
	if (fs_node_type(fs, n) != STORE_REG) {
		/* decided all the same: a hidden directory must look like a missing one */
		err = fs_decide(req, "getxattr", path.buf, POLICY_LOOKUP, &d);
		if (err == 0)
			err = xattr_record(req, path.buf, -ENODATA) < 0 ? -EIO : -ENODATA;
		goto out;
	}
	err = fs_decide(req, "getxattr", path.buf, POLICY_READ, &d);
	if (err == 0)
		err = fs_node_version(fs, n, &version);
	if (err == 0)
		err = fs_audit_meta(req, "getxattr", path.buf, 0, &d);
out:
	fs_inode_put(fs, n);
	strbuf_release(&path);
	if (err < 0) {
		fuse_reply_err(req, -err);
		return;
	}
	snprintf(value, sizeof(value), "%llu", (unsigned long long)version);
	reply_xattr_value(req, value, strlen(value), size);
}

void fs_ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct fs *fs = fs_of(req);
	struct strbuf path = STRBUF_INIT, names = STRBUF_INIT;
	struct policy_decision d;
	struct fs_inode *n = NULL;
	int err;

	err = pin_with_path(req, ino, NULL, &n, &path);
	if (err == 0)
		err = fs_decide(req, "listxattr", path.buf, POLICY_LOOKUP, &d);
	if (err == 0 && fs_node_type(fs, n) == STORE_REG && n->key.kind != FS_META_FILE)
		strbuf_add(&names, version_xattr, sizeof(version_xattr));
	else if (err == 0)
		err = fs_catalog_xattr_names(fs, n, path.buf, &names);
	if (err == 0)
		err = fs_audit_meta(req, "listxattr", path.buf, 0, &d);
	fs_inode_put(fs, n);
	strbuf_release(&path);
	if (err < 0)
		fuse_reply_err(req, -err);
	else
		reply_xattr_value(req, names.buf, names.len, size);
	strbuf_release(&names);
}

/*
 * Our own attributes are the catalog's and the store's: nobody sets them
 * here (EPERM, logged). Others, ACLs included, are not supported: cp -a
 * and rsync -X take EOPNOTSUPP as "nothing to preserve" where EPERM
 * would fail the whole copy.
 */
static void refuse_xattr_change(fuse_req_t req, fuse_ino_t ino, const char *name,
				const char *op)
{
	struct fs *fs = fs_of(req);
	struct strbuf path = STRBUF_INIT;
	struct fs_inode *n = NULL;
	int err;

	err = pin_with_path(req, ino, NULL, &n, &path);
	if (err < 0)
		goto out;
	if (fs_node_virtual(n))
		err = fs_deny(req, op, path.buf, -EROFS, "history is read-only");
	else if (strncmp(name, "user.poolfs.", 12) && strncmp(name, "user.catalog.", 13))
		err = -EOPNOTSUPP;
	else
		err = fs_deny(req, op, path.buf, -EPERM,
			      "extended attributes are set through the policy");
out:
	fs_inode_put(fs, n);
	strbuf_release(&path);
	fuse_reply_err(req, -err);
}

void fs_ll_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		    const char *value, size_t size, int flags)
{
	refuse_xattr_change(req, ino, name, "setxattr");
}

void fs_ll_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	refuse_xattr_change(req, ino, name, "removexattr");
}
