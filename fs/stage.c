/*
 * fs/stage.c - the stage of a file being written and the commit that
 * turns it into a version; which node serves a handle.
 *
 * A write or commit that fails poisons the stage: later writes, flushes
 * and fsyncs return the error and the last close drops the stage, so the
 * file keeps its previous version and the spill space comes back.
 * Everything here runs under the node's lock unless it says otherwise.
 */
#include "fs/fs.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "fs/view.h"

/* Drops n's stage and what the daemon kept about it; caller holds n->lock. */
void fs_stage_discard(struct fs_inode *n)
{
	if (n->stage)
		store_stage_close(n->stage);
	n->stage = NULL;
	n->staged_bytes = 0;
	n->stage_err = 0;
	n->pending_set = 0;
	n->wtime.tv_sec = n->wtime.tv_nsec = 0;
}

/* Errors after which the stage may hold part of a write. */
void fs_stage_failed(struct fs_inode *n, int err)
{
	if (err == -ENOSPC || err == -EDQUOT || err == -EIO)
		n->stage_err = err;
}

struct fs_inode *fs_file_node(const struct fs_file *fh)
{
	struct fs_inode *n = fh->node, *next;

	while ((next = __atomic_load_n(&n->forward, __ATOMIC_ACQUIRE)))
		n = next;
	return n;
}

struct fs_inode *fs_file_lock(const struct fs_file *fh)
{
	struct fs_inode *n = fh->node, *next;

	pthread_mutex_lock(&n->lock);
	/* every node on the way is pinned by the one before it */
	while ((next = n->forward)) {
		pthread_mutex_unlock(&n->lock);
		pthread_mutex_lock(&next->lock);
		n = next;
	}
	return n;
}

void fs_forward_handles(struct fs *fs, uint64_t from, uint64_t to)
{
	struct fs_inode *s = fs_inode_find(fs, from), *t;
	struct fs_file *fh;

	if (!s)
		return;
	t = fs_inode_get(fs, to, false);
	if (!t) {
		fs_inode_put(fs, s);
		return;
	}
	pthread_mutex_lock(&s->lock);
	pthread_mutex_lock(&t->lock);
	while ((fh = s->files)) {
		s->files = fh->next;
		fh->prev = NULL;
		fh->next = t->files;
		if (t->files)
			t->files->prev = fh;
		t->files = fh;
	}
	t->writers += s->writers;
	t->readers += s->readers;
	s->writers = s->readers = 0;
	/* committed before the rename; anything staged since is the old inode's */
	fs_stage_discard(s);
	/* the pin taken on t above now belongs to s */
	__atomic_store_n(&s->forward, t, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&t->lock);
	pthread_mutex_unlock(&s->lock);
	fs_inode_put(fs, s);
}

int fs_commit_locked(struct fs *fs, struct fs_inode *n, const struct fs_who *w,
		     const char *op, const char *path, uint64_t bytes,
		     const struct policy_decision *d, bool *committed)
{
	struct store_writer sw;
	struct store_attr a;
	struct audit_rec r;
	uint64_t version = 0;
	int err;

	*committed = false;
	if (!n->stage)
		return 0;
	if (n->stage_err)
		return n->stage_err;
	if (!store_stage_dirty(n->stage)) {
		fs_stage_discard(n);
		return 0;
	}
	err = store_getattr(fs->store, n->key.sino, &a);
	if (err < 0)
		return err;
	fs_who_writer(w, &sw);
	fs_audit_rec(&r, w, op, path, 0, d);
	/* the record names the version the commit makes; commits are serialized per inode here */
	r.version = a.version + 1;
	r.bytes = bytes ? bytes : n->staged_bytes;
	err = store_stage_commit(n->stage, &sw, &r, &version);
	if (err < 0) {
		log_err("commit of \"%s\" failed: %s", path, strerror(-err));
		n->stage_err = err;
		/* best effort: the store that refused the commit may refuse this too */
		fs_audit_who(fs, w, op, path, err, d, a.version, r.bytes);
		return err;
	}
	*committed = true;
	n->cache_version = FS_CACHE_UNKNOWN;
	if (n->pending_set) {
		err = store_setattr(fs->store, n->key.sino, &n->pending, n->pending_set);
		if (err < 0)
			log_warn("\"%s\": times set while writing were lost: %s", path,
				 strerror(-err));
	}
	/* a later write opens a fresh stage from the version just made */
	fs_stage_discard(n);
	return 0;
}

int fs_commit_ino(fuse_req_t req, uint64_t sino, const char *path)
{
	struct fs *fs = fs_of(req);
	struct fs_inode *n = fs_inode_find(fs, sino);
	bool committed = false;
	struct fs_who who;
	int err;

	if (!n)
		return 0;
	fs_who_init(req, NULL, &who);
	pthread_mutex_lock(&n->lock);
	err = fs_commit_locked(fs, n, &who, "write", path, 0, NULL, &committed);
	pthread_mutex_unlock(&n->lock);
	if (committed)
		fs_changed(fs, n->key.sino);
	fs_inode_put(fs, n);
	return err;
}

/* Opens n's stage if it has none; caller holds n->lock. */
int fs_stage_ensure(struct fs *fs, struct fs_inode *n)
{
	if (n->stage)
		return 0;
	return store_stage_open(fs->store, n->key.sino, &n->stage);
}

void fs_stage_touched(struct fs_inode *n)
{
	clock_gettime(CLOCK_REALTIME, &n->wtime);
	/* data written after a utimens wins over the time it set */
	n->pending_set &= ~(unsigned)STORE_SET_MTIME;
}

int fs_truncate(fuse_req_t req, struct fs_inode *n, const char *path, uint64_t size,
		const struct policy_decision *d)
{
	struct fs *fs = fs_of(req);
	bool committed = false;
	struct fs_who who;
	int err;

	fs_who_init(req, d, &who);
	pthread_mutex_lock(&n->lock);
	err = n->stage_err;
	if (err == 0)
		err = fs_stage_ensure(fs, n);
	if (err == 0)
		err = store_stage_truncate(n->stage, size);
	if (err == 0)
		fs_stage_touched(n);
	else
		fs_stage_failed(n, err);
	/* with nobody writing, nobody would ever commit or drop it */
	if (n->writers == 0) {
		if (err == 0)
			err = fs_commit_locked(fs, n, &who, "truncate", path, 0, d, &committed);
		if (err < 0)
			fs_stage_discard(n);
	}
	pthread_mutex_unlock(&n->lock);
	if (committed)
		fs_changed(fs, n->key.sino);
	return err;
}

/*
 * Which version readers of sino hold that is not the current one; 0 when
 * none does, or when writers are still at it (they share the kernel
 * inode with the readers and must see the file as it is).
 */
static uint64_t older_readers(struct fs *fs, uint64_t sino)
{
	struct fs_inode *n = fs_inode_find(fs, sino);
	const struct fs_file *fh;
	struct store_attr a;
	uint64_t old = 0, v;

	if (!n)
		return 0;
	if (store_getattr(fs->store, sino, &a) == 0) {
		pthread_mutex_lock(&n->lock);
		for (fh = n->files; fh && !n->writers; fh = fh->next) {
			if (fh->writable || !fh->content)
				continue;
			v = store_content_version(fh->content);
			if (v != a.version)
				old = v;
		}
		pthread_mutex_unlock(&n->lock);
	}
	fs_inode_put(fs, n);
	return old;
}

/* Makes the kernel look the name of sino up again. */
static void relookup(struct fs *fs, uint64_t sino)
{
	struct strbuf path = STRBUF_INIT;
	struct store_attr parent;
	char *slash;

	if (store_path(fs->store, sino, &path) < 0)
		goto out;
	slash = strrchr(path.buf, '/');
	if (!slash || !slash[1])
		goto out;
	*slash = '\0';
	if (store_resolve(fs->store, path.len && path.buf[0] ? path.buf : "/", &parent) == 0)
		fs_notify_entry(fs, parent.ino, slash + 1);
out:
	strbuf_release(&path);
}

void fs_changed(struct fs *fs, uint64_t sino)
{
	uint64_t old = older_readers(fs, sino);

	/*
	 * The kernel keeps one size and one page cache per inode: readers
	 * of the old version keep theirs, the name gets a new one.
	 */
	if (old && fs_inode_split(fs, sino, old))
		relookup(fs, sino);
	fs_invalidate_sino(fs, sino);
	/* masked reads of the new version should cost what plain ones do */
	fs_view_committed(fs, sino);
}
