/*
 * fs/view_handle.c - a reader's handle and its view (fs/view.h): the
 * decision that picks the view at open, the view attached to the handle,
 * its reads, and the recheck that denies a handle whose caller now gets
 * another view than the one it serves.
 */
#include "fs/view.h"
#include "fs/access.h"
#include "fs/vseg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

int fs_view_decide(fuse_req_t req, const char *op, const char *path,
		   enum policy_action action, struct policy_decision *d,
		   struct fs_view_pick *vp)
{
	int err;

	memset(vp, 0, sizeof(*vp));
	err = fs_decide_keep(req, op, path, action, d, &vp->policy);
	if (err < 0)
		return err;
	vp->view = d->view;
	d->view = NULL;
	vp->vid = fs_view_kid(fs_of(req), vp->policy, vp->view, path, &vp->private_cache);
	return 0;
}

void fs_view_pick_release(struct fs_view_pick *vp)
{
	if (vp->policy)
		policy_put(vp->policy);
	memset(vp, 0, sizeof(*vp));
}

int fs_view_attach(fuse_req_t req, struct fs_file *fh, const struct fs_view_pick *vp,
		   const struct policy_decision *d)
{
	struct fs *fs = fs_of(req);
	struct policy_decision failed;
	struct strbuf map = STRBUF_INIT;
	struct perr e = PERR_INIT;
	uint8_t cid[32];
	int err;

	/* a snapshot from before the file's first version reads as empty */
	if (!vp->view || !fh->content)
		return 0;
	err = fs_view_open(fs, fh->content, vp->view, fh->path.buf, &fh->vcontent, &map, &e);
	if (err == 0 && !fh->vcontent) {
		store_content_id(fh->content, cid);
		err = fs_vseg_open(fs, vp->policy, policy_view_rules(vp->view),
				   fh->node->key.sino, store_content_version(fh->content), cid,
				   &map, &fh->vseg, &e);
		if (err < 0)
			err = -EIO;
	}
	strbuf_release(&map);
	if (err == 0)
		return 0;
	failed = *d;
	snprintf(failed.reason, sizeof(failed.reason), "view not built: %s",
		 perr_msg(&e, -err));
	log_warn("\"%s\": %s", fh->path.buf, failed.reason);
	if (fs_audit_view(fs, &fh->who, "open", fh->path.buf, err, &failed, fh->view,
			  fh->version, 0) < 0)
		return -EIO;
	return err;
}

/* Audits a failed read of a view served in segments, with its reason. */
static ssize_t vseg_failed(fuse_req_t req, struct fs_file *fh, const struct perr *pe,
			   ssize_t r)
{
	struct policy_decision failed;
	struct perr e = *pe;

	failed = fh->dec;
	snprintf(failed.reason, sizeof(failed.reason), "view segment not made: %s",
		 perr_msg(&e, (int)-r));
	log_warn("\"%s\": %s", fh->path.buf, failed.reason);
	fs_audit_view(fs_of(req), &fh->who, "read", fh->path.buf, -EIO, &failed, fh->view,
		      fh->version, 0);
	return -EIO;
}

static ssize_t vseg_read(fuse_req_t req, struct fs_file *fh, void *buf, size_t size,
			 uint64_t off)
{
	struct perr e = PERR_INIT;
	ssize_t r = fs_vseg_read(fh->vseg, buf, size, off, &e);

	return r >= 0 ? r : vseg_failed(req, fh, &e, r);
}

ssize_t fs_view_readv(fuse_req_t req, struct fs_file *fh, struct fs_vseg_iov *rv,
		      size_t size, uint64_t off)
{
	struct perr e = PERR_INIT;
	ssize_t r = fs_vseg_readv(fh->vseg, rv, size, off, &e);

	return r >= 0 ? r : vseg_failed(req, fh, &e, r);
}

/*
 * Every failure is recorded here, once: the caller records none for a
 * handle with a view.
 */
ssize_t fs_view_read(fuse_req_t req, struct fs_file *fh, void *buf, size_t size,
		     uint64_t off)
{
	ssize_t r;

	if (fh->vseg)
		return vseg_read(req, fh, buf, size, off);
	/* a writer's O_RDWR handle reads the view of the version it opened */
	if (!fh->writable || fh->vcontent) {
		r = fh->vcontent ? store_content_read(fh->vcontent, buf, size, off) : 0;
		/* stored bytes that fail their check (a flipped byte, a moved value) */
		if (r == -EIO)
			fs_audit_view(fs_of(req), &fh->who, "read", fh->path.buf, -EIO, &fh->dec,
				      fh->view, fh->version, 0);
		return r;
	}
	/* fail closed: else a writer's handle reads the stage, which is raw */
	return fs_deny(req, "read", fh->path.buf, -EACCES, "the caller's view is "
		       "desensitized: a handle open for writing cannot read");
}

int fs_view_recheck(fuse_req_t req, const struct fs_file *fh, const char *op,
		    const char *path, enum policy_action action)
{
	struct policy_decision d;
	struct fs_view_pick vp;
	const char *now;
	int err;

	err = fs_view_decide(req, op, path, action, &d, &vp);
	if (err == 0 && action == POLICY_READ) {
		now = vp.view ? policy_view_fingerprint(vp.view) : "";
		/*
		 * The handle serves the old view: the caller must open the
		 * file again. Coalesced like every denial: a reader that goes
		 * on reading the stale handle must not write one synced
		 * record per read for every other department to wait behind.
		 */
		if (strcmp(now, fh->view)) {
			snprintf(d.reason, sizeof(d.reason), "the reader's view of version "
				 "%llu changed since open (%.12s to %.12s)",
				 (unsigned long long)fh->version, fh->view[0] ? fh->view : "raw",
				 now[0] ? now : "raw");
			d.allow = 0;
			d.err = -EACCES;
			err = fs_audit_meta(req, op, path, -EACCES, &d) < 0 ? -EIO : -EACCES;
		}
	}
	fs_view_pick_release(&vp);
	return err;
}
