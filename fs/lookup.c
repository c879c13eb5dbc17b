/*
 * fs/lookup.c - the children of a kernel inode for one caller: name
 * lookup and directory listings, of store directories and of the
 * virtual trees (.versions, .snapshots, /.poolfs), each name decided for
 * the caller and each file's kernel inode the one of the caller's view.
 */
#include "fs/lookup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs/access.h"
#include "fs/inode.h"
#include "fs/meta.h"
#include "fs/node.h"
#include "fs/view.h"
#include "fs/dirbuf.h"

static const char snap_fmt[] = "%Y-%m-%dT%H:%M:%SZ";

/* Whether key stands for a directory (whose kernel inode is per department). */
static bool vkey_is_dir(struct fs *fs, const struct fs_vkey *k)
{
	struct store_attr a;

	switch (k->kind) {
	case FS_VERSIONS:
	case FS_VERSION_LIST:
	case FS_SNAP_ROOT:
	case FS_META_DIR:
		return true;
	case FS_SNAP:
		return store_getattr(fs->store, k->sino, &a) == 0 && a.type == STORE_DIR;
	default:
		return false;
	}
}

/* "2026-11-22T10:00:00Z", canonical and not in the future, to an instant. */
static int parse_snap_time(const char *name, struct timespec *ts)
{
	char back[32];
	struct tm tm;
	const char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	end = strptime(name, snap_fmt, &tm);
	if (!end || *end)
		return -ENOENT;
	t = timegm(&tm);
	/* one name per instant: "2026-1-2T..." would alias "2026-01-02T..." */
	if (t == (time_t)-1 || !gmtime_r(&t, &tm) ||
	    !strftime(back, sizeof(back), snap_fmt, &tm) || strcmp(back, name))
		return -ENOENT;
	/* a snapshot of the future would change under the reader */
	if (t > time(NULL))
		return -ENOENT;
	ts->tv_sec = t;
	ts->tv_nsec = 0;
	return 0;
}

/* "1", "2", ...: no sign, no leading zero, no junk. */
static int parse_version(const char *name, uint64_t *v)
{
	char *end;

	if (name[0] < '1' || name[0] > '9')
		return -ENOENT;
	errno = 0;
	*v = strtoull(name, &end, 10);
	return errno || *end ? -ENOENT : 0;
}

/* The pool path a child of virtual dir stands for. */
static const char *virtual_child_path(const struct fs_inode *dir, const char *dpath,
				      const char *cpath)
{
	switch (dir->key.kind) {
	case FS_VERSION_LIST:
		return dpath;
	case FS_SNAP_ROOT:
		return "/";
	default:
		return cpath;
	}
}

/* History seen from a snapshot stops at the snapshot's time. */
static const struct timespec *as_of(const struct fs_vkey *k)
{
	return k->as_of.tv_sec || k->as_of.tv_nsec ? &k->as_of : NULL;
}

static bool later(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/* Resolves name under virtual dir to the key of the child. */
static int virtual_child(struct fs *fs, const struct fs_inode *dir,
			 const char *name, struct fs_vkey *key)
{
	struct store_version_info vi;
	struct store_attr a;
	int err = 0;

	memset(&a, 0, sizeof(a));
	key->sino = dir->key.sino;
	key->as_of = dir->key.as_of;
	switch (dir->key.kind) {
	case FS_VERSIONS:
		if (as_of(&dir->key))
			err = store_lookup_at(fs->store, dir->key.sino, name, as_of(&dir->key), &a);
		else
			err = store_lookup(fs->store, dir->key.sino, name, &a);
		if (err == 0 && a.type != STORE_REG)
			err = -ENOENT;
		key->kind = FS_VERSION_LIST;
		key->sino = a.ino;
		break;
	case FS_VERSION_LIST:
		err = parse_version(name, &key->version);
		if (err == 0)
			err = store_version_get(fs->store, dir->key.sino, key->version, &vi);
		if (err == 0 && as_of(&dir->key) && later(&vi.time, as_of(&dir->key)))
			err = -ENOENT;
		key->kind = FS_VERSION_FILE;
		break;
	case FS_SNAP_ROOT:
		err = parse_snap_time(name, &key->as_of);
		key->kind = FS_SNAP;
		break;
	case FS_SNAP:
		key->as_of = dir->key.as_of;
		err = store_lookup_at(fs->store, dir->key.sino, name, &key->as_of, &a);
		key->kind = FS_SNAP;
		key->sino = a.ino;
		break;
	case FS_META_DIR:
		err = fs_meta_child(name, key);
		break;
	default:
		err = -ENOTDIR;
		break;
	}
	return err;
}

int fs_lookup_child(fuse_req_t req, struct fs_inode *dir, const char *dpath,
		    const char *name, struct fuse_entry_param *e)
{
	struct fs *fs = fs_of(req);
	struct strbuf cpath = STRBUF_INIT;
	struct policy_decision d;
	struct policy *pol = NULL;	/* keeps d.view valid */
	struct fs_inode *n = NULL, *data;
	struct store_attr a;
	struct fs_vkey key;
	const char *vpath = NULL;
	bool private = false;		/* who reads it decides its bytes (view.c) */
	int err;

	memset(e, 0, sizeof(*e));
	memset(&key, 0, sizeof(key));
	err = fs_check_name(name);
	if (err)
		goto out;
	fs_path_join(&cpath, dpath, name);
	if ((dir->key.kind == FS_REAL || dir->key.kind == FS_SNAP) &&
	    !strcmp(name, ".versions")) {
		key.kind = FS_VERSIONS;
		key.sino = dir->key.sino;
		key.as_of = dir->key.as_of;
		vpath = dpath;
	} else if (dir->key.kind == FS_REAL && !strcmp(name, ".snapshots") &&
		   dir->key.sino == STORE_ROOT_INO) {
		key.kind = FS_SNAP_ROOT;
		key.sino = STORE_ROOT_INO;
		vpath = "/";
	} else if (dir->key.kind == FS_REAL && !strcmp(name, ".poolfs") &&
		   dir->key.sino == STORE_ROOT_INO) {
		key.kind = FS_META_DIR;
		key.sino = STORE_ROOT_INO;
		vpath = "/.poolfs";
	} else if (dir->key.kind == FS_REAL && !strcmp(name, ".poolfs")) {
		err = -ENOENT;
		goto out;
	}

	if (dir->key.kind == FS_REAL && !vpath) {
		err = fs_decide_keep(req, "lookup", cpath.buf, POLICY_LOOKUP, &d, &pol);
		if (err == 0) {
			err = store_lookup(fs->store, dir->key.sino, name, &a);
			/* a row that fails its check is tampering: on the record, not only EIO */
			if (err == -EIO)
				(void)fs_audit_meta(req, "lookup", cpath.buf, err, &d);
		}
		if (err < 0)
			goto out;
		uint32_t vid = a.type != STORE_REG ? 0 :
			       fs_view_kid(fs, pol, d.view, cpath.buf, &private);
		uint32_t dept = a.type != STORE_DIR ? 0 : fs_dept_kid(fs, d.dept);

		n = vid == FS_VID_NONE || dept == FS_VID_NONE ? NULL :
		    fs_inode_get_view(fs, a.ino, vid, dept);
	} else {
		bool known = vpath != NULL;

		if (!known)
			vpath = virtual_child_path(dir, dpath, cpath.buf);
		/* decide before looking, so a hidden name and a missing one look alike */
		err = fs_decide_keep(req, "lookup", vpath, POLICY_LOOKUP, &d, &pol);
		if (err == 0 && !known)
			err = virtual_child(fs, dir, name, &key);
		if (err < 0)
			goto out;
		if (key.kind == FS_VERSION_FILE || (key.kind == FS_SNAP &&
		    store_getattr(fs->store, key.sino, &a) == 0 && a.type == STORE_REG))
			key.vid = fs_view_kid(fs, pol, d.view, vpath, &private);
		if (vkey_is_dir(fs, &key))
			key.dept = fs_dept_kid(fs, d.dept);
		n = key.vid == FS_VID_NONE || key.dept == FS_VID_NONE ? NULL :
		    fs_vnode_get(fs, &key, vpath, true);
	}
	if (!n) {
		err = -ENOMEM;
		goto out;
	}
	e->attr_timeout = n->key.kind == FS_META_FILE ? FS_META_TIMEOUT : fs_cache_timeout(fs);
	/* an alias shows the file it redirects to */
	err = fs_node_pin(fs, n->ino, &data);
	if (err == 0) {
		err = fs_node_stat(fs, data, &e->attr);
		if (err == 0 && data->key.kind == FS_META_FILE)
			err = fs_meta_stat(req, data, NULL, &e->attr);
		if (err == 0)
			fs_view_attr(req, data, n->ino, NULL, vpath ? vpath : cpath.buf, pol,
				     d.view, &e->attr, &e->attr_timeout);
		if (err == 0)
			fs_dir_attr(req, vpath ? vpath : cpath.buf, &e->attr);
		fs_inode_put(fs, data);
	}
	if (err < 0) {
		fs_inode_forget(fs, n->ino, 1);
		goto out;
	}
	e->ino = n->ino;
	/* a dentry must not lead one caller to another's view */
	e->entry_timeout = private ? 0 : fs_cache_timeout(fs);
out:
	if (pol)
		policy_put(pol);
	strbuf_release(&cpath);
	return err;
}

struct list_ctx {
	struct fs_dir *d;
	bool files_only;
};

static int list_entry(void *arg, const struct store_dirent *e)
{
	struct list_ctx *c = arg;

	if (c->files_only && e->type != STORE_REG)
		return 0;
	return fs_dir_add(c->d, e->name, e->ino, e->type);
}

static int list_version(void *arg, const struct store_version_info *v)
{
	struct list_ctx *c = arg;
	const struct timespec *t = as_of(&c->d->node->key);
	char name[24];

	if (t && later(&v->time, t))
		return 0;
	snprintf(name, sizeof(name), "%llu", (unsigned long long)v->version);
	return fs_dir_add(c->d, name, c->d->node->key.sino, STORE_REG);
}

int fs_list_dir(fuse_req_t req, struct fs_dir *d)
{
	struct fs *fs = fs_of(req);
	const struct fs_vkey *k = &d->node->key;
	struct list_ctx c = { d, false };
	size_t first;
	int err;

	err = fs_dir_add(d, ".", d->node->ino, STORE_DIR);
	if (err == 0)
		err = fs_dir_add(d, "..", d->node->ino, STORE_DIR);
	if (err < 0)
		return err;
	first = d->n;
	switch (k->kind) {
	case FS_REAL:
		err = store_readdir(fs->store, k->sino, NULL, list_entry, &c);
		break;
	case FS_VERSIONS:
		c.files_only = true;
		err = store_readdir(fs->store, k->sino, as_of(k), list_entry, &c);
		break;
	case FS_VERSION_LIST:
		/* opendir decided on the file itself; its versions add nothing */
		return store_versions(fs->store, k->sino, list_version, &c);
	case FS_SNAP_ROOT:
		/* snapshots are reached by name only: any instant is one */
		return 0;
	case FS_SNAP:
		if (fs_node_type(fs, d->node) != STORE_DIR)
			return -ENOTDIR;
		err = store_readdir(fs->store, k->sino, &k->as_of, list_entry, &c);
		break;
	case FS_META_DIR:
		err = fs_meta_list(d);
		break;
	case FS_VERSION_FILE:
	case FS_META_FILE:
		return -ENOTDIR;
	}
	if (err < 0)
		return err;
	return fs_filter_dir(req, d, first);
}
