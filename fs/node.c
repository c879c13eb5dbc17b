/*
 * fs/node.c - what a kernel inode stands for: a store inode, or one of
 * the virtual, read-only views of history (.versions, .snapshots) or of
 * the pool's metadata (/.poolfs, meta.c); its path, version, type and
 * attributes. Its children and listing are fs/lookup.c's.
 *
 * Virtual paths never reach the policy: a node remembers the pool path
 * of what it shows, so DIR/.versions/f/2 is decided as DIR/f and
 * /.snapshots/T/a/b as /a/b, under the policy in force now.
 */
#include "fs/node.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/access.h"
#include "fs/inode.h"

#define FS_REDIRECT_MAX 8

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
