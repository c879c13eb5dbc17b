/*
 * fs/kinode.c - which version each kernel inode of a file shows
 * (fs/kinode.h): marking them when the name ends, when a writer comes,
 * and when a restore changes the current version, each in one step with
 * the change under the inode table's lock (fs/inode.c).
 */
#include "fs/kinode.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "fs/fs.h"
#include "fs/inode.h"
#include "fs/notify.h"
#include "fs/orphan.h"
#include "fs/view.h"

/*
 * Caller holds the table lock. A kernel inode that stands for an
 * earlier life of the file already (a rename over it before) keeps it.
 */
static void mark_gone(struct fs_inode *k, struct fs_orphan *o, const struct store_attr *a)
{
	if (k->gone)
		return;
	k->gone = true;
	k->orphaned = true;
	if (o && fs_orphan_serves(o, k->ino)) {
		k->orphan = o;
		fs_orphan_get(o);
	} else if (!k->kept) {
		/* readers there keep what it showed */
		k->kept = true;
		k->kversion = a->version;
		k->kattr.sino = a->ino;
		k->kattr.size = a->size;
		k->kattr.mtime = a->mtime;
	}
}

int fs_inode_end_name(struct fs *fs, const struct store_attr *a, const char *path,
		      int (*op)(struct fs *, uint64_t, const char *, void *),
		      uint64_t parent, const char *name, void *arg)
{
	struct fs_orphan *o = NULL;
	struct fs_inode *n, *k;
	int err = 0;

	pthread_mutex_lock(&fs->table_lock);
	n = fs_table_find(fs, a->ino);
	if (n) {
		n->pins++;
		pthread_mutex_lock(&n->lock);
		err = fs_orphan_prepare(fs, n, path, &o);
	}
	if (err == 0)
		err = op(fs, parent, name, arg);
	if (err < 0) {
		fs_orphan_abort(o);
		o = NULL;
	} else if (n) {
		fs_orphan_detach(n, o);
	}
	if (err == 0) {
		/* the kernel inodes of the name now stand for the old file */
		if (n)
			mark_gone(n, o, a);
		for (k = fs_redirects(fs, a->ino); k; k = k->rnext)
			if (k->redirect == a->ino)
				mark_gone(k, o, a);
	}
	if (n)
		pthread_mutex_unlock(&n->lock);
	pthread_mutex_unlock(&fs->table_lock);
	if (n)
		fs_inode_put(fs, n);
	if (o)
		fs_orphan_put(o);
	return err;
}

/* A file's kernel inode that shows the name, raw; caller holds the table lock. */
static bool live_raw(const struct fs_inode *k)
{
	return k && k->key.kind == FS_REAL && !k->orphaned && !k->key.vid && !k->key.dept;
}

/* Caller holds the table lock; a: the attributes of the version kept. */
static void keep_kinode(struct fs_inode *k, const struct store_attr *a)
{
	k->orphaned = true;
	k->kept = true;
	k->kversion = a->version;
	k->kattr.sino = a->ino;
	k->kattr.size = a->size;
	k->kattr.mtime = a->mtime;
}

/* A handle that reads the raw file by itself (not a view, not an orphan). */
static bool raw_reader(const struct fs_file *fh)
{
	return !fh->writable && !fs_file_orphan(fh) && !fh->view[0];
}

/* A handle that reads its view of one version (a masked O_RDWR writer's too). */
static bool view_reader(const struct fs_file *fh)
{
	return fh->view[0] && fh->content && !fs_file_orphan(fh);
}

/* A file's kernel inode that shows the name, through any view. */
static bool live_file(const struct fs_inode *k)
{
	return k && k->key.kind == FS_REAL && !k->orphaned && !k->key.dept;
}

int fs_kinode_claim(struct fs *fs, struct fs_inode *n, uint64_t kino)
{
	struct fs_inode *k;
	struct fs_file *fh;
	struct store_attr a;
	bool split = false;
	int err = 0;

	pthread_mutex_lock(&fs->table_lock);
	pthread_mutex_lock(&n->lock);
	/* readers that opened while the file was written follow that writing */
	if (n->writers || n->stage || n->key.kind != FS_REAL)
		goto out;
	err = store_getattr(fs->store, n->key.sino, &a);
	/* a new writing begins: every reader of a live kernel inode keeps what it sees */
	for (fh = n->files; fh && err == 0; fh = fh->next)
		if (raw_reader(fh) && live_raw(fs_table_find(fs, fh->kino)))
			err = fs_file_keep(fs, n, fh, a.version);
	for (fh = n->files; fh && err == 0; fh = fh->next) {
		k = raw_reader(fh) ? fs_table_find(fs, fh->kino) : NULL;
		if (live_raw(k)) {
			keep_kinode(k, &a);
			split = true;
		}
	}
	if (split)
		n->cache_version = FS_CACHE_UNKNOWN;
out:
	if (err == 0)
		n->writing_soon = true;
	k = fs_table_find(fs, kino);
	/* the name has another kernel inode now: the kernel retries there */
	if (err == 0 && k && k->kept && !k->gone)
		err = -ESTALE;
	pthread_mutex_unlock(&n->lock);
	pthread_mutex_unlock(&fs->table_lock);
	return err;
}

bool fs_kinode_reader(struct fs *fs, struct fs_inode *n, uint64_t kino, uint64_t *sino,
		      uint64_t *version)
{
	struct fs_inode *k;
	bool kept;

	pthread_mutex_lock(&fs->table_lock);
	k = fs_table_find(fs, kino);
	kept = k && k->kept;
	*version = kept ? k->kversion : 0;
	*sino = kept ? k->kattr.sino : n->key.sino;
	/* held from here: no claim can make kino kept before the reader is counted */
	pthread_mutex_lock(&n->lock);
	pthread_mutex_unlock(&fs->table_lock);
	return kept;
}

/* cur as of the version fh reads: its size, and its time when known */
static void attr_as_read(struct fs *fs, uint64_t sino, const struct store_attr *cur,
			 const struct fs_file *fh, struct store_attr *old)
{
	struct store_version_info vi;

	*old = *cur;
	old->version = store_content_version(fh->content);
	old->size = store_content_size(fh->content);
	if (store_version_get(fs->store, sino, old->version, &vi) == 0)
		old->mtime = vi.time;
}

/*
 * After node n (locked, as the table) got a new current version: live
 * kernel inodes whose readers keep an older one become kept; with before
 * (the attributes the kernel inodes showed), every live one does.
 */
static size_t changed_locked(struct fs *fs, struct fs_inode *n, const struct store_attr *before)
{
	uint64_t sino = n->key.sino;
	struct store_attr a, old;
	struct fs_inode *k;
	struct fs_file *fh;
	size_t count = 0;

	if (store_getattr(fs->store, sino, &a) < 0)
		return 0;
	for (fh = n->files; fh; fh = fh->next) {
		if (!raw_reader(fh) || fs_file_follows(fh) || !fh->content)
			continue;
		attr_as_read(fs, sino, &a, fh, &old);
		k = fs_table_find(fs, fh->kino);
		if (old.version != a.version && live_raw(k)) {
			keep_kinode(k, &old);
			count++;
		}
	}
	/*
	 * A view's kernel inode holds the pages and size of one version of
	 * it (its readers may map it shared): one with readers of an older
	 * version keeps that, and the name gets another.
	 */
	for (fh = n->files; fh; fh = fh->next) {
		if (!view_reader(fh) || store_content_version(fh->content) == a.version)
			continue;
		k = fs_table_find(fs, fh->kino);
		if (!live_file(k))
			continue;
		attr_as_read(fs, sino, &a, fh, &old);
		keep_kinode(k, &old);
		count++;
	}
	/*
	 * An open through a kernel inode the kernel still gives the old size
	 * must not get the new version: it keeps what it shows. Readers that
	 * follow a writing read the stage, which the change did not touch.
	 */
	if (before && before->version != a.version && !n->writers && !n->stage) {
		if (live_raw(n)) {
			keep_kinode(n, before);
			count++;
		}
		for (k = fs_redirects(fs, sino); k; k = k->rnext)
			if (k->redirect == sino && live_raw(k)) {
				keep_kinode(k, before);
				count++;
			}
	}
	/* readers that followed there keep what they saw; fail closed: EIO */
	for (fh = n->files; fh && count; fh = fh->next) {
		k = raw_reader(fh) && fs_file_follows(fh) ? fs_table_find(fs, fh->kino) : NULL;
		if (k && k->kept && fs_file_keep(fs, n, fh, k->kversion) < 0)
			log_err("inode %llu: a reader could not keep its version",
				(unsigned long long)sino);
	}
	if (count)
		n->cache_version = FS_CACHE_UNKNOWN;
	return count;
}

size_t fs_kinode_changed(struct fs *fs, uint64_t sino)
{
	struct fs_inode *n;
	size_t count = 0;

	pthread_mutex_lock(&fs->table_lock);
	n = fs_table_find(fs, sino);
	if (n && n->key.kind == FS_REAL) {
		pthread_mutex_lock(&n->lock);
		count = changed_locked(fs, n, NULL);
		pthread_mutex_unlock(&n->lock);
	}
	pthread_mutex_unlock(&fs->table_lock);
	return count;
}

int fs_kinode_change(struct fs *fs, uint64_t sino, int (*op)(void *), void *arg,
		     size_t *count)
{
	struct store_attr before;
	struct fs_inode *n;
	int err = 0;

	*count = 0;
	pthread_mutex_lock(&fs->table_lock);
	n = fs_table_find(fs, sino);
	if (n && n->key.kind != FS_REAL)
		n = NULL;
	if (n) {
		pthread_mutex_lock(&n->lock);
		err = store_getattr(fs->store, sino, &before);
	}
	if (err == 0)
		err = op(arg);
	if (err == 0 && n)
		*count = changed_locked(fs, n, &before);
	if (n)
		pthread_mutex_unlock(&n->lock);
	pthread_mutex_unlock(&fs->table_lock);
	return err;
}

void fs_kinode_state(struct fs *fs, uint64_t ino, struct fs_kinode_state *st)
{
	struct fs_inode *k;

	pthread_mutex_lock(&fs->table_lock);
	k = fs_table_find(fs, ino);
	st->kept = k && k->kept;
	st->gone = k && k->gone;
	st->version = k ? k->kversion : 0;
	if (st->kept)
		st->attr = k->kattr;
	pthread_mutex_unlock(&fs->table_lock);
}

