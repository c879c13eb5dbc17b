/*
 * fs/stage.c - the stage of a file being written and the commit that
 * turns it into a version; which node serves a handle.
 *
 * A write or commit that fails poisons the stage: later writes, flushes
 * and fsyncs return the error and the last close drops the stage, so the
 * file keeps its previous version and the spill space comes back.
 * Everything here runs under the node's lock unless it says otherwise.
 *
 * A version is one caller's: whoever changed the stage is its author and
 * the commit is recorded as theirs, whichever handle or request happens
 * to end it (a close, an fsync, a rename). When another caller changes a
 * stage that holds changes, those are committed first. The commit of an
 * author who may not read the file raw is checked (write_check.h).
 */
#include "fs/fs.h"
#include "common/alloc.h"


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/metrics.h"
#include "fs/kinode.h"
#include "fs/view.h"
#include "fs/access.h"
#include "fs/inode.h"
#include "fs/notify.h"
#include "fs/stage.h"
#include "policy/desens/write_check.h"
#include "store/limits.h"

#define CHECK_IO	(1024 * 1024)	/* bytes read per step of a write check */

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
	free(n->author);
	n->author = NULL;
	/* fail closed: a stage opened but by fs_stage_ensure() keeps everything */
	n->keep = UINT64_MAX;
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

/* Reads the new content for a write check: a stage or a version. */
struct check_src {
	struct store_stage *stage;
	struct store_content *content;
};

static ssize_t src_read(struct check_src *s, void *buf, size_t len, uint64_t off)
{
	return s->stage ? store_stage_read(s->stage, buf, len, off) :
	       store_content_read(s->content, buf, len, off);
}

/*
 * Whether new content (src) may replace the current version of store
 * inode sino (pool path path) for a writer who may not read it raw;
 * keep as in write_check_new(). -EACCES with the reason in e, or
 * another errno when the contents could not be read.
 */
static int write_check(struct fs *fs, const char *path, uint64_t sino, uint64_t keep,
		       struct check_src *src, struct perr *e)
{
	struct policy *p = fs_policy_get(fs);
	struct store_content *old = NULL;
	struct write_check *w = NULL;
	struct policy_entry_info info;
	uint64_t off = 0;
	char *buf = NULL;
	ssize_t r;
	int err;

	/* fail closed: a writer restricted by rules we can no longer find is refused */
	if (!p || policy_entry_for_path(p, path, &info) < 0) {
		err = perr_set(e, EACCES, "no catalog entry holds the file");
		goto out;
	}
	buf = xmalloc(CHECK_IO);
	err = store_content_open(fs->store, sino, 0, &old);
	if (err == 0 && keep > store_content_size(old))
		keep = store_content_size(old);
	if (err == 0)
		err = write_check_new(info.format, info.encoding, keep, &w, e);
	/* the previous content's header is all the check keeps of it */
	if (err == 0 && store_content_version(old)) {
		r = store_content_read(old, buf, CHECK_IO, 0);
		err = r < 0 ? (int)r : write_check_old(w, buf, (size_t)r);
	}
	while (err == 0 && (r = src_read(src, buf, CHECK_IO, off)) != 0) {
		if (r < 0 || store_stop_due()) {
			err = r < 0 ? (int)r : -ECANCELED;
			break;
		}
		err = write_check_feed(w, buf, (size_t)r);
		off += (uint64_t)r;
	}
	if (err == 0)
		err = write_check_finish(w, e);
	else if (err != -EACCES)
		perr_set(e, -err, "cannot read the file to check the write: %s", strerror(-err));
out:
	write_check_free(w);
	if (old)
		store_content_close(old);
	if (p)
		policy_put(p);
	free(buf);
	return err;
}

/* Logs a commit refused to w (decision d) with the reason in e; returns err or -EIO. */
static int refused(struct fs *fs, const struct fs_who *w, const char *op, const char *path,
		   const struct policy_decision *d, int err, const struct perr *e)
{
	struct policy_decision r;

	if (d)
		r = *d;
	else
		memset(&r, 0, sizeof(r));
	r.view = NULL;
	r.allow = 0;
	r.err = err;
	snprintf(r.reason, sizeof(r.reason), "write refused: %s", perr_msg(e, -err));
	log_warn("\"%s\": %s", path, r.reason);
	if (fs_audit_who(fs, w, op, path, err, &r, 0, 0) < 0)
		return -EIO;
	return err;
}

/*
 * A truncate to the size the file has (`: > f` of an empty f, O_TRUNC
 * or truncate(1) to the same length) changes no byte, so the stage ends
 * without a version, but POSIX and Linux mark the file modified: make's
 * `: > stamp` idiom needs the new mtime. Stamps the truncate's time
 * (n->wtime, the stage's last change) on the inode; the open or setattr
 * that truncated has its audit record. Called with n->lock held.
 */
static int keep_truncate_time(struct fs *fs, struct fs_inode *n, const char *path)
{
	struct store_attr a;
	int err;

	if (!n->wtime.tv_sec)
		return 0;
	memset(&a, 0, sizeof(a));
	a.mtime = n->wtime;
	err = store_setattr(fs->store, n->key.sino, &a, STORE_SET_MTIME, NULL);
	if (err < 0)
		log_err("\"%s\": the time of a truncate was lost: %s", path, strerror(-err));
	return err;
}

int fs_commit_locked(struct fs *fs, struct fs_inode *n, const struct fs_who *w,
		     const char *op, const char *path, uint64_t bytes,
		     const struct policy_decision *d, bool *committed)
{
	struct perr pe = PERR_INIT;
	struct check_src src;
	struct store_writer sw;
	struct fs_who nobody;
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
		err = keep_truncate_time(fs, n, path);
		fs_stage_discard(n);
		return err;
	}
	/* the version is its author's, whoever ends the stage */
	if (n->author) {
		w = &n->author->who;
		d = &n->author->dec;
	} else if (!w) {
		memset(&nobody, 0, sizeof(nobody));
		snprintf(nobody.comm, sizeof(nobody.comm), "poolfs");
		w = &nobody;
	}
	err = store_getattr(fs->store, n->key.sino, &a);
	if (err < 0)
		return err;
	if (n->author && n->author->restricted) {
		src.stage = n->stage;
		src.content = NULL;
		err = write_check(fs, path, n->key.sino, n->keep, &src, &pe);
		if (err < 0) {
			/* poisoned: every handle on it hears, the last close drops it */
			n->stage_err = err == -EACCES ? err : -EIO;
			return refused(fs, w, op, path, d, n->stage_err, &pe);
		}
	}
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
	metric_add(METRIC_COMMITS, 1);
	n->cache_version = FS_CACHE_UNKNOWN;
	if (n->pending_set) {
		err = store_setattr(fs->store, n->key.sino, &n->pending, n->pending_set, NULL);
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
	int err;

	if (!n)
		return 0;
	/* the changes are their author's, not the renamer's */
	pthread_mutex_lock(&n->lock);
	err = fs_commit_locked(fs, n, NULL, "write", path, 0, NULL, &committed);
	pthread_mutex_unlock(&n->lock);
	if (committed)
		fs_changed(fs, n->key.sino);
	fs_inode_put(fs, n);
	return err;
}

/* Opens n's stage if it has none; caller holds n->lock. */
int fs_stage_ensure(struct fs *fs, struct fs_inode *n)
{
	int err;

	if (n->stage)
		return 0;
	err = store_stage_open(fs->store, n->key.sino, &n->stage);
	if (err == 0)
		n->keep = store_stage_size(n->stage);
	return err;
}

static bool same_author(const struct fs_author *a, const struct fs_who *w, bool restricted)
{
	return a->who.uid == w->uid && !strcmp(a->who.dept, w->dept) &&
	       a->restricted == restricted;
}

int fs_stage_author(struct fs *fs, struct fs_inode *n, const struct fs_who *w,
		    const struct policy_decision *d, bool restricted, const char *path,
		    bool *committed)
{
	int err;

	*committed = false;
	if (n->author && !same_author(n->author, w, restricted)) {
		err = fs_commit_locked(fs, n, NULL, "write", path, 0, NULL, committed);
		/*
		 * Changes refused (and logged) as their author's do not stop
		 * the next author; theirs will not parse on their own either.
		 */
		if (err == -EACCES && n->author->restricted)
			fs_stage_discard(n);
		else if (err < 0)
			return err;
	}
	err = fs_stage_ensure(fs, n);
	if (err < 0 || n->author)
		return err;
	n->author = xcalloc(1, sizeof(*n->author));
	n->author->who = *w;
	if (d)
		n->author->dec = *d;
	n->author->dec.view = NULL;
	n->author->restricted = restricted;
	return 0;
}

static int reads_raw(const struct policy *p, const struct policy_caller *c, void *arg)
{
	struct policy_decision d;

	if (policy_decide(p, c, arg, POLICY_READ, time(NULL), &d) < 0)
		return 0;
	return d.allow && !d.view;
}

bool fs_reads_raw(fuse_req_t req, const char *path)
{
	return fs_policy_call(req, reads_raw, (void *)path) == 1;
}

int fs_check_replace(fuse_req_t req, const char *path, uint64_t dst, uint64_t src)
{
	struct fs *fs = fs_of(req);
	struct check_src cs = { NULL, NULL };
	struct perr pe = PERR_INIT;
	struct fs_who who;
	int err;

	if (fs_reads_raw(req, path))
		return 0;
	err = store_content_open(fs->store, src, 0, &cs.content);
	if (err == 0)
		err = write_check(fs, path, dst, 0, &cs, &pe);
	if (cs.content)
		store_content_close(cs.content);
	if (err == 0)
		return 0;
	fs_who_init(req, NULL, &who);
	return refused(fs, &who, "rename", path, NULL, err == -EACCES ? err : -EIO, &pe);
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
	bool restricted = !fs_reads_raw(req, path), before = false, committed = false;
	bool cut = false;
	struct fs_who who;
	int err;

	fs_who_init(req, d, &who);
	pthread_mutex_lock(&n->lock);
	err = n->stage_err;
	if (err == 0)
		err = fs_stage_author(fs, n, &who, d, restricted, path, &before);
	/* cutting into records it cannot see would re-cut them (write_check.h) */
	cut = err == 0 && restricted && size && size < n->keep;
	if (cut)
		err = -EACCES;
	else if (err == 0)
		err = store_stage_truncate(n->stage, size);
	if (err == 0) {
		fs_stage_touched(n);
		if (size < n->keep)
			n->keep = size;
	} else if (!cut) {
		fs_stage_failed(n, err);
	}
	/* fs_kinode_claim() made way for this truncate */
	n->writing_soon = false;
	/* with nobody writing, nobody would ever commit or drop it */
	if (n->writers == 0) {
		if (err == 0)
			err = fs_commit_locked(fs, n, &who, "truncate", path, 0, d, &committed);
		if (err < 0)
			fs_stage_discard(n);
	}
	pthread_mutex_unlock(&n->lock);
	if (committed || before)
		fs_changed(fs, n->key.sino);
	if (cut)
		err = fs_deny(req, "truncate", path, -EACCES, "a writer who may not read "
			      "the file raw truncates only to 0 or past the records it keeps");
	return err;
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

/* count: how many of sino's kernel inodes became kept. */
static void changed(struct fs *fs, uint64_t sino, size_t count)
{
	/*
	 * A writer's claim gave readers of older versions their own kernel
	 * inodes (kinode.h); a restore did not: the name gets a new one.
	 */
	if (count)
		relookup(fs, sino);
	fs_invalidate_sino(fs, sino);
	/* masked reads of the new version should cost what plain ones do */
	fs_view_committed(fs, sino);
}

void fs_changed(struct fs *fs, uint64_t sino)
{
	changed(fs, sino, fs_kinode_changed(fs, sino));
}

int fs_changed_by(struct fs *fs, uint64_t sino, int (*op)(void *), void *arg)
{
	size_t count;
	int err = fs_kinode_change(fs, sino, op, arg, &count);

	if (err == 0)
		changed(fs, sino, count);
	return err;
}
