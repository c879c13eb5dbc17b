/*
 * fs/access.h - the two seams every operation goes through (fs/access.c):
 * fs_decide() asks the policy whether a read or write is allowed, and
 * fs_audit*() write the record; plus who a request acts for and the
 * names the pool reserves.
 */
#ifndef POOL_FS_ACCESS_H
#define POOL_FS_ACCESS_H

#include "fs/fs.h"
#include "fs/dirbuf.h"

/* Loads the pool's latest policy (or allow-all); never fails: an absent
 * or broken policy leaves the mount denying everything. */
void fs_policy_load(struct fs *fs);
/* Installs p (the table takes the caller's reference); returns the old one. */
struct policy *fs_policy_swap(struct fs *fs, struct policy *p);
unsigned long fs_policy_gen(struct fs *fs);
/* A reference on the live policy, or NULL (deny all); policy_put() it. */
struct policy *fs_policy_get(struct fs *fs);
typedef int fs_policy_fn(const struct policy *p, const struct policy_caller *c,
			 void *arg);
/*
 * Calls fn with the live policy, referenced for the call, and req's
 * caller as fs_decide() sees it. -EACCES when no policy is loaded, else
 * what fn returns. Decide first: this asks nothing.
 */
int fs_policy_call(fuse_req_t req, fs_policy_fn *fn, void *arg);

/*
 * Asks the policy whether req's caller may do action on path. Returns 0
 * with d filled when allowed, else logs the denial as op and returns the
 * errno to reply with (-EIO when the record could not be written).
 */
int fs_decide(fuse_req_t req, const char *op, const char *path,
	      enum policy_action action, struct policy_decision *d);
/*
 * fs_decide() that keeps d->view: when allowed, *keep holds a reference
 * on the policy it points into (policy_put() it); else *keep is NULL.
 */
int fs_decide_keep(fuse_req_t req, const char *op, const char *path,
		   enum policy_action action, struct policy_decision *d,
		   struct policy **keep);
/*
 * Drops from d the entries from index first on that req's caller may not
 * look up. Hidden entries are not logged: the listing's record stands
 * for them.
 */
int fs_filter_dir(fuse_req_t req, struct fs_dir *d, size_t first);
/* Whether req's caller may do action on path; asks quietly (nothing logged). */
bool fs_may(fuse_req_t req, const char *path, enum policy_action action);
/*
 * fs_decide() of LOOKUP on the mount root for getattr and statfs (op):
 * also allowed to root and the system_admin role, which have no data
 * rights but run the mount (df, mountpoint, monitoring).
 */
int fs_decide_root(fuse_req_t req, const char *op, struct policy_decision *d);
/*
 * Records a metadata read (getattr, lookup, getxattr, readlink, ...) or
 * a denial through the coalescer (coalesce.c); 0 or -EIO.
 */
int fs_audit_meta(fuse_req_t req, const char *op, const char *path, int result,
		  const struct policy_decision *d);
/* Logs an operation refused before any policy question (EPERM, EROFS). */
int fs_deny(fuse_req_t req, const char *op, const char *path, int err,
	    const char *reason);

void fs_who_init(fuse_req_t req, const struct policy_decision *d, struct fs_who *w);
void fs_who_writer(const struct fs_who *w, struct store_writer *out);
/* Fills r from w and d (d may be NULL); strings stay owned by the callers. */
void fs_audit_rec(struct audit_rec *r, const struct fs_who *w, const char *op,
		  const char *path, int result, const struct policy_decision *d);
/* Appends a record; 0 or -EIO, after which the operation must fail. */
int fs_audit_who(struct fs *fs, const struct fs_who *w, const char *op,
		 const char *path, int result, const struct policy_decision *d,
		 uint64_t version, uint64_t bytes);
/* fs_audit_who() naming view (a fingerprint; NULL or "": as decided) as the one served. */
int fs_audit_view(struct fs *fs, const struct fs_who *w, const char *op,
		  const char *path, int result, const struct policy_decision *d,
		  const char *view, uint64_t version, uint64_t bytes);
int fs_audit(fuse_req_t req, const char *op, const char *path, int result,
	     const struct policy_decision *d, uint64_t version, uint64_t bytes);

/*
 * The record of a tree change (create, mkdir, unlink, rename, chmod...):
 * made before the change, handed to the store as &c->rec so that it is
 * written in the change's own batch, then ended. A change that failed
 * wrote nothing; fs_change_end() records the failure separately.
 */
struct fs_change {
	struct fs_who who;
	const struct policy_decision *d;
	struct audit_rec rec;		/* points into who: do not copy the struct */
};
void fs_change_init(fuse_req_t req, const char *op, const char *path,
		    const struct policy_decision *d, struct fs_change *c);
/* err is the change's result: 0 means c->rec was written with it. Returns err. */
int fs_change_end(struct fs *fs, struct fs_change *c, int err);

/* -ENAMETOOLONG, -EPERM for a reserved name, else 0. */
int fs_check_new_name(const char *name);
int fs_check_name(const char *name);

#endif
