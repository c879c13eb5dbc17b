/*
 * fs/view.h - desensitized views served by the daemon (DESIGN.md "Reads
 * and views"): what a caller reads of a file version, the size stat()
 * shows it, whether the kernel may cache the file's pages, and views
 * built ahead of the first read after a commit.
 *
 * A view is built once per (content id, rules fingerprint): the raw
 * version streams through policy/desens into the store's view cache, and
 * a second caller asking for a view being built waits for the first.
 * Fail closed: a view that cannot be built is EIO (EACCES for rules the
 * engine refuses) with the engine's reason in the audit log, never raw
 * bytes.
 */
#ifndef POOL_FS_VIEW_H
#define POOL_FS_VIEW_H

#include "fs/fs.h"

struct fs_views;		/* opaque: builds in flight, sizes, worker */

/* What an open needs to know about the caller's view of a path. */
struct fs_view_pick {
	struct policy *policy;		/* keeps view valid; NULL after a denial */
	const struct policy_view *view;	/* NULL: raw */
	bool private_cache;		/* the file's bytes depend on the caller */
	uint32_t vid;			/* the kernel inode it must come through */
};

/* Reads the hash key, starts the precompute worker; before the loop. */
int fs_views_start(struct fs *fs);
/* Stops the worker (what is queued is dropped) and frees; after the loop. */
void fs_views_stop(struct fs *fs);

/*
 * fs_decide() for an open or a recheck that also fills vp; release it
 * with fs_view_pick_release() whatever the result. d->view is cleared:
 * vp->view is the one to use, while vp->policy is held.
 */
int fs_view_decide(fuse_req_t req, const char *op, const char *path,
		   enum policy_action action, struct policy_decision *d,
		   struct fs_view_pick *vp);
void fs_view_pick_release(struct fs_view_pick *vp);

/* Whether the bytes of path depend on who reads it (in a pool mount). */
bool fs_view_private(struct fs *fs, const char *path);

/*
 * The view id kernel inodes of file path are keyed by (fs_vkey.vid) for
 * a caller with view v of policy p: 0 when path reads alike for every
 * caller or v is raw, else a number standing for v's fingerprint for
 * the life of the mount. *private (may be NULL) says whether path's
 * bytes depend on the caller. FS_VID_NONE (no memory) names no inode:
 * the caller fails with ENOMEM rather than share another view's inode.
 */
uint32_t fs_view_kid(struct fs *fs, struct policy *p, const struct policy_view *v,
		     const char *path, bool *private);

/*
 * Opens view v of raw version raw (of pool path path), building it when
 * the cache has none (an audit record, op view.build, names path);
 * store_content_close() *out. A view larger than the view cache budget
 * leaves *out NULL and its segment map in map instead (fs/vseg.h).
 * Returns 0, -EIO (input the engine cannot parse, or a store error) or
 * -EACCES (rules the engine refuses), with a one-line reason in e (not
 * NULL).
 */
int fs_view_open(struct fs *fs, struct store_content *raw, const struct policy_view *v,
		 const char *path, struct store_content **out, struct strbuf *map,
		 struct perr *e);

/*
 * Gives reader fh, opened under decision d with vp, its view. When that
 * fails, logs the failed open with the engine's reason and returns the
 * errno for the reader.
 */
int fs_view_attach(fuse_req_t req, struct fs_file *fh, const struct fs_view_pick *vp,
		   const struct policy_decision *d);

/*
 * Reads for a handle with a view (fh->view set): its view, or EACCES
 * (logged) for a handle open for writing, which would read raw bytes.
 */
ssize_t fs_view_read(fuse_req_t req, struct fs_file *fh, void *buf, size_t size,
		     uint64_t off);
/* The same for a view served in segments (fh->vseg), into rv without a copy. */
struct fs_vseg_iov;
ssize_t fs_view_readv(fuse_req_t req, struct fs_file *fh, struct fs_vseg_iov *rv,
		      size_t size, uint64_t off);

/*
 * Makes st, the attributes of node n (kernel inode ino, through handle
 * fh or NULL, pool path path) what req's caller sees under view (NULL:
 * raw) of policy p: the size of its view, and *timeout 0 when sizes
 * depend on the caller in a pool mount. A view that cannot be built
 * shows size 0; the open says why.
 */
void fs_view_attr(fuse_req_t req, struct fs_inode *n, uint64_t ino,
		  const struct fs_file *fh, const char *path, struct policy *p,
		  const struct policy_view *view, struct stat *st, double *timeout);

/*
 * The decision recheck() asks for a handle: denied (and logged) when the
 * caller may no longer do action, or now gets another view than the one
 * the handle serves.
 */
int fs_view_recheck(fuse_req_t req, const struct fs_file *fh, const char *op,
		    const char *path, enum policy_action action);

/* Store inode sino has a new version: queues building its views; never waits. */
void fs_view_committed(struct fs *fs, uint64_t sino);

#endif
