/*
 * fs/ops_file.c - open files: open, create, read, write, flush, release
 * and fsync. When a stage is committed is decided here (see stage.c for
 * what a commit does):
 *
 * All writers of a file share the inode's one stage. It is committed
 * when the last writer closes and on fsync. close() is where a failed
 * commit can still be reported, but FUSE sends a flush for every close()
 * of a descriptor, also while dups of it stay open: a shell's `cmd > f`
 * opens f, dup2()s it and closes the original before cmd writes a byte.
 * So a flush commits only when the last writer has written since the
 * last commit, and release commits whatever is left.
 *
 * A reader that opened before the writing began keeps the version it
 * opened; a reader that opened during it reads through the stage, as a
 * writer does, until a new writing begins after it (kinode.h).
 */
#include "fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/metrics.h"
#include "fs/kinode.h"
#include "fs/view.h"
#include "fs/access.h"
#include "fs/file.h"
#include "fs/inode.h"
#include "fs/locks.h"
#include "fs/meta.h"
#include "fs/mountinfo.h"
#include "fs/node.h"
#include "fs/notify.h"
#include "fs/ops_dir.h"
#include "fs/orphan.h"
#include "fs/stage.h"
#include "fs/vseg.h"
#include "store/rdvec.h"

/*
 * The one place that decides how the kernel may cache a file's pages;
 * caller holds n->lock. History never changes, so its pages stay; a
 * reader keeps the page cache when it opens the version that filled it.
 *
 * The page cache is the kernel inode's. In a pool mount a file whose
 * bytes depend on the caller (fh->private_cache) has a kernel inode per
 * view (fs_view_kid), and an open through another view's is ESTALE: the
 * pages and the size of one are those of one view (raw, for the
 * store inode's own) of one version (kinode.h), so its readers use the
 * page cache, mmap(MAP_SHARED) and readahead like any reader
 * (docs/filesystem.md "Views and the page cache"). What reads the stage
 * there (writers, readers that follow a writing) stays direct I/O, as a
 * writer on a view's kernel inode must not fill pages its readers use.
 */
static void fs_open_flags(struct fs_inode *n, const struct fs_file *fh, uint64_t version,
			  struct fuse_file_info *fi)
{
	fi->direct_io = 0;
	fi->keep_cache = 0;
	if (fs_node_virtual(n)) {
		fi->keep_cache = 1;
		return;
	}
	if (fh->writable || fh->follow_stage || fs_file_orphan(fh)) {
		fi->direct_io = fh->private_cache;
		n->cache_version = FS_CACHE_UNKNOWN;
		return;
	}
	/* the page cache is the kernel inode's, and a file has several */
	if (n->cache_version == version && n->cache_kino == fh->kino)
		fi->keep_cache = 1;
	n->cache_version = version;
	n->cache_kino = fh->kino;
}

/*
 * Makes the handle for an open of n through kernel inode kino under path
 * with decision d and the caller's view vp, sets fi and returns in
 * *version the version opened. Takes over the caller's pin on n, even
 * on error, and its reference to o: the old file whose writers kino
 * serves (read-only opens only), which the handle then reads too.
 */
static int open_node(fuse_req_t req, struct fs_inode *n, uint64_t kino, const char *path,
		     const struct policy_decision *d, const struct fs_view_pick *vp,
		     struct fs_orphan *o, struct fuse_file_info *fi, struct fs_file **out,
		     uint64_t *version)
{
	struct fs *fs = fs_of(req);
	int acc = fi->flags & O_ACCMODE;
	struct fs_file *fh;
	int err;

	*out = NULL;
	err = fs_file_new(req, n, path, d, &fh);
	if (err < 0) {
		if (o)
			fs_orphan_put(o);
		return err;
	}
	fh->kino = kino;
	fh->writable = acc != O_RDONLY || (fi->flags & O_TRUNC);
	fh->private_cache = vp->private_cache;
	if (vp->view)
		snprintf(fh->view, sizeof(fh->view), "%s", policy_view_fingerprint(vp->view));

	/*
	 * The kernel inode's pages and size are the old file's, which its
	 * writers still write: the reader reads that file with them, not
	 * whatever the name (if any) shows now (orphan.c).
	 */
	if (o) {
		*version = 0;
		fh->version = 0;
		__atomic_store_n(&fh->orphan, o, __ATOMIC_RELEASE);
		fs_open_flags(n, fh, 0, fi);
		*out = fh;
		return 0;
	}
	err = fs_node_version(fs, n, version);
	if (err < 0)
		goto err_out;
	/* under the lock: a commit in progress decides which version this is */
	if (fh->writable) {
		pthread_mutex_lock(&n->lock);
		err = fs_stage_ensure(fs, n);
		if (err == 0) {
			n->writers++;
			n->writing_soon = false;
		}
	} else if (!fs_node_virtual(n)) {
		uint64_t ksino, kept;

		if (fs_kinode_reader(fs, n, kino, &ksino, &kept)) {
			/* a kernel inode that keeps a version for its readers */
			err = store_content_open(fs->store, ksino, kept, &fh->content);
			*version = kept;
		} else if (!fh->view[0] && (n->stage || n->writers || n->writing_soon)) {
			/* opened while written: reads see the stage, not a version */
			fh->follow_stage = true;
		} else {
			err = store_content_open(fs->store, n->key.sino, 0, &fh->content);
			if (err == 0)
				*version = store_content_version(fh->content);
		}
		if (err == 0)
			n->readers++;
	} else {
		pthread_mutex_lock(&n->lock);
		/* a snapshot of a file not yet written reads as empty: no content */
		if (*version)
			err = store_content_open(fs->store, n->key.sino, *version, &fh->content);
		if (err == 0 && fh->content)
			*version = store_content_version(fh->content);
		if (err == 0)
			n->readers++;
	}
	if (err == 0) {
		fh->next = n->files;
		if (n->files)
			n->files->prev = fh;
		n->files = fh;
		fs_open_flags(n, fh, *version, fi);
	}
	pthread_mutex_unlock(&n->lock);
	if (err < 0) {
		fh->writable = false;
		goto err_out;
	}
	fh->version = *version;
	*out = fh;
	return 0;

err_out:
	fs_file_free(fs, fh);
	return err;
}

/*
 * Ends the handle's open: drops its count on the node, commits after the
 * last writer (release's fallback), logs the session when it was opened
 * (opened), frees the handle.
 */
static void close_file(struct fs *fs, struct fs_file *fh, bool opened)
{
	struct fs_inode *n;
	struct fs_orphan *o;
	bool committed = false;
	uint64_t bytes, version = fh->version;
	int err = 0;

	n = fs_file_lock(fh);
	o = fs_file_orphan(fh);
	if (!o)
		fs_file_unlist(n, fh);
	if (o) {
		/* counted on the orphan since the name went away */
	} else if (fh->writable) {
		if (--n->writers == 0 && n->stage) {
			err = fs_commit_locked(fs, n, &fh->who, "write", fh->path.buf, 0,
					       &fh->dec, &committed);
			/* the writer was told at write, flush or fsync; nobody is left to retry */
			if (err < 0)
				fs_stage_discard(n);
		}
	} else {
		n->readers--;
	}
	pthread_mutex_unlock(&n->lock);
	if (o)
		fs_orphan_put(o);
	if (committed)
		fs_changed(fs, n->key.sino);
	if (err < 0)
		log_err("\"%s\": closed with changes not committed: %s", fh->path.buf,
			strerror(-err));
	if (fh->writable && !o && fs_node_version(fs, n, &version) < 0)
		version = fh->version;
	bytes = fh->writable ? __atomic_load_n(&fh->bytes_written, __ATOMIC_RELAXED) :
			       __atomic_load_n(&fh->bytes_read, __ATOMIC_RELAXED);
	/* release cannot fail; a lost record is in the daemon's log at least */
	if (opened)
		fs_audit_view(fs, &fh->who, "release", fh->path.buf, err, &fh->dec,
			      fh->view, version, bytes);
	fs_file_free(fs, fh);
}

static int truncate_open(struct fs *fs, struct fs_file *fh)
{
	bool committed = false;
	struct fs_inode *n;
	int err;

	n = fs_file_lock(fh);
	err = n->stage_err;
	if (err == 0)
		err = fs_stage_author(fs, n, &fh->who, &fh->dec, fh->restricted,
				      fh->path.buf, &committed);
	if (err == 0)
		err = store_stage_truncate(n->stage, 0);
	if (err == 0) {
		fs_stage_touched(n);
		n->keep = 0;
	} else {
		fs_stage_failed(n, err);
	}
	pthread_mutex_unlock(&n->lock);
	if (committed)
		fs_changed(fs, n->key.sino);
	return err;
}

/*
 * Sets what a writer handle may change: one that may not read the file
 * raw writes only past the records it keeps (write_check.h). Every
 * O_APPEND handle appends at the stage's end (fs_ll_write).
 */
static void writer_rules(fuse_req_t req, struct fs_file *fh, const struct fs_view_pick *vp,
			 int flags)
{
	int acc = flags & O_ACCMODE;

	if (!fh->writable)
		return;
	fh->append = (flags & O_APPEND) != 0;
	fh->restricted = acc != O_WRONLY ? vp->view != NULL : !fs_reads_raw(req, fh->path.buf);
}

void fs_ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct strbuf path = STRBUF_INIT;
	struct policy_decision d;
	struct fs_view_pick vp = { NULL, NULL, false, 0 };
	struct fs_inode *n = NULL;
	struct fs_file *fh = NULL;
	struct fs_orphan *o = NULL;
	int acc = fi->flags & O_ACCMODE;
	bool wr = acc != O_RDONLY || (fi->flags & O_TRUNC);
	uint64_t version = 0;
	int err;

	fs_readahead_apply();
	err = fs_node_pin(fs, ino, &n);
	/* a kernel inode whose old file's writers went on privately (orphan.c) */
	if (err == 0 && n->key.kind == FS_REAL)
		o = fs_inode_orphan(fs, ino);
	/* the path that file had decides, as for its other handles */
	if (err == 0 && o)
		strbuf_addstr(&path, fs_orphan_path(o));
	else if (err == 0)
		err = fs_node_path(fs, n, &path);
	if (err < 0)
		goto out;
	if (n->key.kind == FS_META_FILE) {
		/* made per caller, not stored: meta.c takes the pin and replies */
		fs_meta_open(req, n, path.buf, fi);
		n = NULL;
		goto out;
	}
	if (wr && fs_node_virtual(n)) {
		err = fs_deny(req, "open", path.buf, -EROFS, "history is read-only");
		goto out;
	}
	/* the view is the read decision's; a write-only handle never reads */
	err = fs_view_decide(req, "open", path.buf,
			     acc != O_WRONLY ? POLICY_READ : POLICY_WRITE, &d, &vp);
	if (err == 0 && wr && acc != O_WRONLY)
		err = fs_decide(req, "open", path.buf, POLICY_WRITE, &d);
	/*
	 * A name whose bytes depend on the caller leads each view to a kernel
	 * inode of its own; a dentry another caller left makes the kernel
	 * look the name up again and retry on ESTALE.
	 */
	if (err == 0 && vp.vid == FS_VID_NONE)
		err = -ENOMEM;
	else if (err == 0 && fs_inode_vid(fs, ino) != vp.vid)
		err = -ESTALE;
	/*
	 * Through an orphan's kernel inode only a raw reader joins its
	 * writers; a writer would write the name's file through the old
	 * one's pages: ESTALE, as through a kept kernel inode (kinode.h).
	 */
	if (err == 0 && o && (wr || vp.view))
		err = -ESTALE;
	/* before it changes the file, readers of the version get their own kernel inode */
	if (err == 0 && wr && !fs_node_virtual(n))
		err = fs_kinode_claim(fs, n, ino);
	if (err < 0)
		goto out;
	err = open_node(req, n, ino, path.buf, &d, &vp, o, fi, &fh, &version);
	n = NULL;
	o = NULL;
	if (err == 0)
		writer_rules(req, fh, &vp, fi->flags);
	/* a masked O_RDWR handle reads its view of the version it opened, not the stage */
	if (err == 0 && fh->writable && acc == O_RDWR && vp.view && !fs_node_virtual(fh->node))
		err = store_content_open(fs->store, fh->node->key.sino, 0, &fh->content);
	if (err == 0 && fh->content && fh->writable && !store_content_version(fh->content)) {
		store_content_close(fh->content);
		fh->content = NULL;
	}
	if (err == 0)
		err = fs_view_attach(req, fh, &vp, &d);
	if (err == 0)
		err = fs_audit_view(fs, &fh->who, "open", path.buf, 0, &d, fh->view,
				    version, 0);
	/* only an open that is logged may truncate */
	if (err == 0 && (fi->flags & O_TRUNC))
		err = truncate_open(fs, fh);
	if (err < 0)
		goto out;
	fi->fh = (uintptr_t)fh;
	if (fuse_reply_open(req, fi) == 0)
		fh = NULL;
	err = 0;
out:
	if (fh)
		close_file(fs, fh, err == 0);
	if (o)
		fs_orphan_put(o);
	fs_view_pick_release(&vp);
	fs_inode_put(fs, n);
	strbuf_release(&path);
	if (err < 0)
		fuse_reply_err(req, -err);
}

void fs_ll_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct strbuf path = STRBUF_INIT;
	struct policy_decision d;
	struct fs_view_pick vp = { NULL, NULL, false, 0 };
	struct fuse_entry_param e;
	struct fs_inode *n;
	struct fs_file *fh = NULL;
	uint64_t version;
	int err;

	err = fs_make_node(req, parent, name, STORE_REG, mode, NULL, "create", &e, &path, &d);
	if (err < 0)
		goto out;
	/* a new file reads only what its creator writes: no view, but maybe no cache */
	vp.private_cache = fs_view_private(fs, path.buf);
	if (vp.private_cache)
		e.attr_timeout = 0;
	n = fs_inode_find(fs, e.ino);
	err = n ? open_node(req, n, e.ino, path.buf, &d, &vp, NULL, fi, &fh, &version) :
		  -ENOMEM;
	if (err < 0) {
		fs_inode_forget(fs, e.ino, 1);
		goto out;
	}
	writer_rules(req, fh, &vp, fi->flags);
	fi->fh = (uintptr_t)fh;
	if (fuse_reply_create(req, &e, fi) == 0)
		fh = NULL;
	else
		fs_inode_forget(fs, e.ino, 1);
	err = 0;
out:
	if (fh)
		close_file(fs, fh, true);
	strbuf_release(&path);
	if (err < 0)
		fuse_reply_err(req, -err);
}

/*
 * A revoked grant must stop the next read of a file already open, not
 * only the next open; ask again when the policy changed, and once a
 * second since grants have validity windows.
 */
static int recheck(fuse_req_t req, struct fs_file *fh, const char *op,
		   enum policy_action action)
{
	struct fs *fs = fs_of(req);
	unsigned long gen = fs_policy_gen(fs);
	struct strbuf path = STRBUF_INIT;
	time_t now = time(NULL);
	bool fresh;
	int err;

	pthread_mutex_lock(&fh->lock);
	fresh = fh->policy_gen == gen && fh->decided == now;
	pthread_mutex_unlock(&fh->lock);
	if (fresh)
		return 0;
	if (fs_node_path(fs, fs_file_node(fh), &path) < 0) {
		strbuf_reset(&path);
		strbuf_addstr(&path, fh->path.buf);
	}
	err = fs_view_recheck(req, fh, op, path.buf, action);
	strbuf_release(&path);
	if (err < 0)
		return err;
	pthread_mutex_lock(&fh->lock);
	fh->policy_gen = gen;
	fh->decided = now;
	pthread_mutex_unlock(&fh->lock);
	return 0;
}

int fs_file_keep(struct fs *fs, struct fs_inode *n, struct fs_file *fh, uint64_t version)
{
	struct store_content *c;
	int err;

	if (!fs_file_follows(fh))
		return 0;
	if (!fh->content || store_content_version(fh->content) != version) {
		err = store_content_open(fs->store, n->key.sino, version, &c);
		if (err < 0)
			return err;
		if (fh->content)
			store_content_close(fh->content);
		fh->content = c;
	}
	/* fs_ll_read() reads fh->content without the lock once this is seen */
	__atomic_store_n(&fh->follow_stage, false, __ATOMIC_RELEASE);
	return 0;
}

/*
 * Reads for a handle that sees what the name shows: the stage while the
 * file is being written, else the current version. Under the node's
 * lock: a follower's content changes with the commits.
 */
static ssize_t read_following(struct fs *fs, struct fs_file *fh, void *buf,
			      size_t size, uint64_t off)
{
	struct store_content *c;
	struct store_attr a;
	struct fs_inode *n;
	ssize_t r = 0;

	n = fs_file_lock(fh);
	if (fs_file_orphan(fh)) {
		pthread_mutex_unlock(&n->lock);
		return fs_orphan_read(fs_file_orphan(fh), buf, size, off);
	}
	if (fh->writable)
		r = fs_stage_ensure(fs, n);
	if (r == 0 && n->stage && (fh->writable || fs_file_follows(fh))) {
		r = store_stage_read(n->stage, buf, size, off);
		goto out;
	}
	if (r == 0 && fs_file_follows(fh)) {
		r = store_getattr(fs->store, n->key.sino, &a);
		if (r == 0 && (!fh->content || store_content_version(fh->content) != a.version)) {
			r = store_content_open(fs->store, n->key.sino, 0, &c);
			if (r == 0) {
				if (fh->content)
					store_content_close(fh->content);
				fh->content = c;
			}
		}
	}
	/* else it keeps a version since it began (fs_file_keep) */
	if (r == 0 && fh->content)
		r = store_content_read(fh->content, buf, size, off);
out:
	pthread_mutex_unlock(&n->lock);
	return r;
}

void fs_ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	struct fs_file *fh = (struct fs_file *)(uintptr_t)fi->fh;
	struct store_rdvec v = STORE_RDVEC_INIT;
	struct fs_vseg_iov sv = FS_VSEG_IOV_INIT;
	struct fs *fs = fs_of(req);
	ssize_t r = 0;
	char *buf = NULL;
	int err;

	if (fs_file_is_meta(fh)) {
		fs_meta_read(req, fh, size, off);
		return;
	}
	err = recheck(req, fh, "read", POLICY_READ);
	if (err < 0) {
		fuse_reply_err(req, -err);
		return;
	}

	/* a view is immutable: its reader keeps it whatever happens to the name */
	if (fh->vseg)
		r = fs_view_readv(req, fh, &sv, size, (uint64_t)off);
	else if (fh->view[0])
		r = fs_view_read(req, fh, buf = xmalloc(size), size, (uint64_t)off);
	else if (fs_file_orphan(fh))
		r = fs_orphan_read(fs_file_orphan(fh), buf = xmalloc(size), size, (uint64_t)off);
	else if (fh->writable || fs_file_follows(fh))
		r = read_following(fs, fh, buf = xmalloc(size), size, (uint64_t)off);
	/* a version's bytes go out from RocksDB's buffers, not copied once more */
	else if (fh->content)
		r = store_content_readv(fh->content, &v, size, (uint64_t)off);
	/* stored bytes that fail their check; fs_view_read() records its own */
	if (r == -EIO && !fh->view[0])
		fs_audit_view(fs, &fh->who, "read", fh->path.buf, (int)r, &fh->dec, fh->view,
			      fh->version, 0);
	if (r < 0) {
		fuse_reply_err(req, (int)-r);
	} else {
		__atomic_add_fetch(&fh->bytes_read, (uint64_t)r, __ATOMIC_RELAXED);
		metric_add(METRIC_READ_BYTES, (uint64_t)r);
		if (buf)
			fuse_reply_buf(req, buf, (size_t)r);
		else if (sv.n)
			fuse_reply_iov(req, sv.iov, (int)sv.n);
		else
			fuse_reply_iov(req, v.iov, (int)v.n);
	}
	fs_vseg_iov_release(&sv);
	store_rdvec_release(&v);
	free(buf);
}

/*
 * Every O_APPEND write goes at the end of the stage, under the node's
 * lock (POSIX: each one atomically at the end of the file), not at off.
 * Without writeback cache the kernel sends off = its inode's i_size,
 * and that size is not always the stage's: the kernel keeps one per
 * inode for every handle, and an attribute reply for a reader's handle
 * that keeps an older version (its lseek(SEEK_END), its read past the
 * end) sets the version's size there; a writer who may not read the
 * file raw sees its view's size. Appends at off would overwrite the
 * records written since, or leave a hole of NUL bytes.
 */
void fs_ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		 off_t off, struct fuse_file_info *fi)
{
	struct fs_file *fh = (struct fs_file *)(uintptr_t)fi->fh;
	struct fs *fs = fs_of(req);
	bool committed = false, inplace = false;
	uint64_t at = (uint64_t)off;
	struct fs_inode *n;
	int err;

	if (!fh->writable) {
		fuse_reply_err(req, EBADF);
		return;
	}
	err = recheck(req, fh, "write", POLICY_WRITE);
	if (err < 0) {
		fuse_reply_err(req, -err);
		return;
	}
	n = fs_file_lock(fh);
	if (fs_file_orphan(fh)) {
		err = fs_orphan_write(fs_file_orphan(fh), buf, size, &at, fh->append);
		goto unlock;
	}
	err = n->stage_err;
	if (err == 0)
		err = fs_stage_author(fs, n, &fh->who, &fh->dec, fh->restricted,
				      fh->path.buf, &committed);
	/* see the comment above fs_ll_write: the end is the stage's, not the kernel's */
	if (err == 0 && fh->append)
		at = store_stage_size(n->stage);
	/* fail closed: it would write over bytes it cannot see (write_check.h) */
	inplace = err == 0 && fh->restricted && at < n->keep;
	if (inplace)
		err = -EACCES;
	else if (err == 0)
		err = store_stage_write(n->stage, buf, size, at);
	if (err == 0) {
		fs_stage_touched(n);
		n->staged_bytes += size;
	} else if (!inplace) {
		fs_stage_failed(n, err);
	}
unlock:
	pthread_mutex_unlock(&n->lock);
	if (committed)
		fs_changed(fs, n->key.sino);
	if (inplace)
		err = fs_deny(req, "write", fh->path.buf, -EACCES, "a writer who may not "
			      "read the file raw writes only past the records it keeps");
	if (err < 0) {
		fuse_reply_err(req, -err);
		return;
	}
	/* the kernel cached the bytes at off and believes the file ends there */
	if (at != (uint64_t)off && fs_notify_inode(fs, ino) < 0)
		log_warn("\"%s\": kernel cache of an append not dropped", fh->path.buf);
	__atomic_add_fetch(&fh->bytes_written, size, __ATOMIC_RELAXED);
	metric_add(METRIC_WRITE_BYTES, size);
	fuse_reply_write(req, size);
}

void fs_ll_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_file *fh = (struct fs_file *)(uintptr_t)fi->fh;
	struct fs *fs = fs_of(req);
	bool committed = false;
	struct fs_inode *n;
	uint64_t sino;
	int err = 0;

	/* see the top of the file: only a last writer that wrote commits here */
	n = fs_file_lock(fh);
	sino = n->key.sino;
	if (fh->writable && !fs_file_orphan(fh) && n->writers == 1 &&
	    (n->staged_bytes || n->stage_err))
		err = fs_commit_locked(fs, n, &fh->who, "write", fh->path.buf, 0,
				       &fh->dec, &committed);
	pthread_mutex_unlock(&n->lock);
	/* after the commit: whoever waited for the writer's lock reads its version */
	fs_locks_flush(fs, fh, fi->lock_owner);
	fuse_reply_err(req, -err);
	/* after the reply the close may have released fh and freed n */
	if (committed)
		fs_changed(fs, sino);
}

void fs_ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_file *fh = (struct fs_file *)(uintptr_t)fi->fh;

	fs_locks_release(fs_of(req), fh);
	if (fs_file_is_meta(fh))
		fs_meta_release(fs_of(req), fh);
	else
		close_file(fs_of(req), fh, true);
	fuse_reply_err(req, 0);
}

void fs_ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		 struct fuse_file_info *fi)
{
	struct fs_file *fh = (struct fs_file *)(uintptr_t)fi->fh;
	struct fs *fs = fs_of(req);
	bool committed = false;
	struct fs_inode *n;
	uint64_t sino;
	int err;

	/*
	 * Only a handle open for writing commits: a reader's fsync() (`sync
	 * FILE` opens read-only) would make a version of someone else's
	 * half-written file, recorded as its own write.
	 */
	if (fs_file_is_meta(fh) || !fh->writable) {
		fuse_reply_err(req, 0);
		return;
	}
	n = fs_file_lock(fh);
	sino = n->key.sino;
	/* the old file of an orphan is never committed: nothing to sync */
	err = fs_file_orphan(fh) ? 0 :
	      fs_commit_locked(fs, n, &fh->who, "write", fh->path.buf, 0, &fh->dec,
			       &committed);
	pthread_mutex_unlock(&n->lock);
	fuse_reply_err(req, -err);
	/* after the reply a close may have released fh and freed n */
	if (committed)
		fs_changed(fs, sino);
}
