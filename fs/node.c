/*
 * fs/node.c - what a kernel inode stands for: a store inode, or one of
 * the virtual, read-only views of history (.versions, .snapshots) or of
 * the pool's metadata (/.poolfs, meta.c); its attributes, its children
 * and its listing.
 *
 * Virtual paths never reach the policy: a node remembers the pool path
 * of what it shows, so DIR/.versions/f/2 is decided as DIR/f and
 * /.snapshots/T/a/b as /a/b, under the policy in force now.
 */
#include "common/alloc.h"
#include "fs/fs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/view.h"

#define FS_REDIRECT_MAX 8

static const char snap_fmt[] = "%Y-%m-%dT%H:%M:%SZ";

void fs_path_join(struct strbuf *out, const char *dir, const char *name)
{
	strbuf_addstr(out, dir);
	if (out->len == 0 || out->buf[out->len - 1] != '/')
		strbuf_addch(out, '/');
	strbuf_addstr(out, name);
}

int fs_node_pin(struct fs *fs, uint64_t ino, struct fs_inode **out)
{
	struct fs_inode *n = fs_inode_find(fs, ino), *t;
	uint64_t to;

	if (!n) {
		if (ino & (FS_VIRT_BIT | FS_ALIAS_BIT))
			return -ESTALE;
		n = fs_inode_get(fs, ino, false);
		if (!n)
			return -ENOMEM;
	}
	/* a file renamed over keeps serving, as the file that replaced it */
	for (int i = 0; i < FS_REDIRECT_MAX; i++) {
		to = __atomic_load_n(&n->redirect, __ATOMIC_ACQUIRE);
		if (!to)
			break;
		t = fs_inode_get(fs, to, false);
		fs_inode_put(fs, n);
		if (!t)
			return -ENOMEM;
		n = t;
	}
	*out = n;
	return 0;
}

int fs_node_path(struct fs *fs, const struct fs_inode *n, struct strbuf *out)
{
	if (fs_node_virtual(n)) {
		strbuf_addstr(out, n->vpath);
		return 0;
	}
	return store_path(fs->store, n->key.sino, out);
}

uint32_t fs_node_type(struct fs *fs, const struct fs_inode *n)
{
	struct store_attr a;

	switch (n->key.kind) {
	case FS_VERSIONS:
	case FS_VERSION_LIST:
	case FS_SNAP_ROOT:
	case FS_META_DIR:
		return STORE_DIR;
	case FS_VERSION_FILE:
	case FS_META_FILE:
		return STORE_REG;
	case FS_REAL:
	case FS_SNAP:
		break;
	}
	return store_getattr(fs->store, n->key.sino, &a) < 0 ? 0 : a.type;
}

static void attr_to_stat(const struct store_attr *a, uint64_t ino, struct stat *st)
{
	mode_t type = a->type == STORE_DIR ? S_IFDIR :
		      a->type == STORE_LNK ? S_IFLNK : S_IFREG;

	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = type | (a->mode & 07777);
	/*
	 * A directory's count of subdirectories would tell a caller how many
	 * it may not see; 1 is what btrfs and many FUSE filesystems report
	 * for "not counted", and find(1) and fts take it as such.
	 */
	st->st_nlink = a->type == STORE_DIR ? 1 : a->nlink ? a->nlink : 1;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_size = (off_t)a->size;
	st->st_blocks = (blkcnt_t)((a->size + 511) / 512);
	/* cp and friends size their buffers by this; match max_write */
	st->st_blksize = FS_MAX_WRITE;
	st->st_atim = a->atime;
	st->st_mtim = a->mtime;
	st->st_ctim = a->ctime;
}

/* The version of snapshot file n at its time; 0 when it had none. */
static int snap_version(struct fs *fs, const struct fs_inode *n,
			struct store_version_info *vi)
{
	uint64_t v = 0;
	int err = store_version_at(fs->store, n->key.sino, &n->key.as_of, &v);

	memset(vi, 0, sizeof(*vi));
	if (err == -ENOENT)
		return 0;
	if (err < 0)
		return err;
	return store_version_get(fs->store, n->key.sino, v, vi);
}

int fs_node_version(struct fs *fs, const struct fs_inode *n, uint64_t *version)
{
	struct store_version_info vi;
	struct store_attr a;
	int err;

	switch (n->key.kind) {
	case FS_REAL:
		err = store_getattr(fs->store, n->key.sino, &a);
		*version = err < 0 ? 0 : a.version;
		return err;
	case FS_VERSION_FILE:
		*version = n->key.version;
		return 0;
	case FS_SNAP:
		err = snap_version(fs, n, &vi);
		*version = vi.version;
		return err;
	case FS_META_FILE:
		/* made per caller: it has no versions */
		*version = 0;
		return -ENODATA;
	default:
		*version = 0;
		return -EISDIR;
	}
}

static int real_stat(struct fs *fs, struct fs_inode *n, struct store_attr *a)
{
	int err;

	/* under the lock, so a commit in flight is either all seen or not at all */
	pthread_mutex_lock(&n->lock);
	err = store_getattr(fs->store, n->key.sino, a);
	/* a file being written shows its staged size to everyone */
	if (err == 0 && a->type == STORE_REG && n->stage && !n->stage_err) {
		a->size = store_stage_size(n->stage);
		if (n->wtime.tv_sec)
			a->mtime = a->ctime = n->wtime;
	}
	pthread_mutex_unlock(&n->lock);
	return err;
}

int fs_node_stat(struct fs *fs, struct fs_inode *n, struct stat *st)
{
	struct store_version_info vi;
	struct store_attr a;
	int err;

	if (n->key.kind == FS_REAL) {
		err = real_stat(fs, n, &a);
		goto out;
	}
	err = store_getattr(fs->store, n->key.sino, &a);
	if (err < 0)
		goto out;
	switch (n->key.kind) {
	case FS_VERSION_FILE:
		err = store_version_get(fs->store, n->key.sino, n->key.version, &vi);
		if (err < 0)
			goto out;
		a.type = STORE_REG;
		a.nlink = 1;
		a.size = vi.size;
		a.uid = vi.uid;
		a.gid = vi.gid;
		a.mtime = a.ctime = vi.time;
		break;
	case FS_SNAP:
		if (a.type == STORE_REG) {
			err = snap_version(fs, n, &vi);
			if (err < 0)
				goto out;
			a.size = vi.size;
			if (vi.version)
				a.mtime = a.ctime = vi.time;
		}
		break;
	case FS_META_FILE:
		/* the size is the caller's: fs_meta_stat() */
		a.type = STORE_REG;
		a.mode = 0444;
		a.nlink = 1;
		a.size = 0;
		break;
	default:
		a.type = STORE_DIR;
		a.mode = 0555;
		a.nlink = 2;
		a.size = 0;
		break;
	}
	/* history is read-only, whatever the bits said then */
	a.mode &= ~0222u;
out:
	if (err == 0)
		attr_to_stat(&a, fs_ino_public(fs, n->ino), st);
	return err;
}

void fs_dir_attr(fuse_req_t req, const char *path, struct stat *st)
{
	struct fs *fs = fs_of(req);

	if (!S_ISDIR(st->st_mode) || fs->allow_all || fs_may(req, path, POLICY_LIST))
		return;
	/* when names came and went in it is for those who may list it */
	memset(&st->st_atim, 0, sizeof(st->st_atim));
	memset(&st->st_mtim, 0, sizeof(st->st_mtim));
	memset(&st->st_ctim, 0, sizeof(st->st_ctim));
}

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
		if (err == 0)
			err = store_lookup(fs->store, dir->key.sino, name, &a);
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

int fs_dir_add(struct fs_dir *d, const char *name, uint64_t ino, uint32_t type)
{
	ALLOC_GROW(d->ents, d->n + 1, d->alloc);
	d->ents[d->n].name = xstrdup(name);
	d->ents[d->n].ino = ino;
	d->ents[d->n].type = type;
	d->n++;
	return 0;
}

void fs_dir_free(struct fs_dir *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->ents[i].name);
	free(d->ents);
	strbuf_release(&d->path);
	free(d);
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
