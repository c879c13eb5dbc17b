/*
 * policy/policy.h - the sharing policy and the one question the daemon asks:
 * "may this caller do this to this path, and which view do they get?"
 *
 * A struct policy is immutable once parsed and reference counted, so the
 * daemon can swap in a new one atomically while requests still hold the
 * old one. Nothing here knows about FUSE.
 */
#ifndef POOL_POLICY_H
#define POOL_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/error.h"

struct policy;			/* opaque, immutable, refcounted */
struct policy_view;		/* opaque: rules for one reader's view; owned by the policy */

/*
 * Parses and validates a policy document. Errors name the JSON path and
 * the reason in e, e.g. `grants[2].entry: no catalog entry with code "X"`.
 * The result holds one reference.
 */
int policy_parse(const char *json, size_t len, struct policy **out, struct perr *e);

/*
 * The built-in allow-all policy: everyone may do everything and reads are
 * raw. Only tests and the demo of the foundation use it (mount option
 * -o allow_all); a pool with a real policy never falls back to it.
 */
struct policy *policy_allow_all(void);

struct policy *policy_get(struct policy *p);	/* takes a reference */
void policy_put(struct policy *p);		/* drops one; frees at zero */

enum policy_action {
	POLICY_LOOKUP,		/* see that a name exists, stat it */
	POLICY_LIST,		/* readdir */
	POLICY_READ,		/* open for reading, read, readlink, getxattr */
	POLICY_WRITE,		/* open for writing, truncate, setattr */
	POLICY_CREATE,		/* create, mkdir, symlink, rename into */
	POLICY_DELETE,		/* unlink, rmdir, rename out of */
};

struct policy_caller {
	uint32_t uid, gid;
	const uint32_t *groups;		/* supplementary groups */
	int ngroups;
	int32_t pid;
	const char *mount_dept;		/* -o dept=ID, or NULL for a pool mount */
};

struct policy_decision {
	int allow;			/* 1 allow, 0 deny */
	int err;			/* when denied: -EACCES, -ENOENT (hidden), -EIO */
	char dept[64];			/* resolved department id, "" if none */
	char user[64];			/* resolved user name, "" if none */
	char grant[64];			/* grant id behind an allow, "" for provider/raw */
	char code[64];			/* catalog code of the entry holding path, "" if none */
	char reason[256];		/* one line: why */
	const struct policy_view *view;	/* NULL: raw content; else the view rules */
};

/*
 * Decides action on path (an absolute pool path) for caller at time now.
 * Deny by default. d->view is valid while the caller holds a reference
 * on p. Returns 0 (the decision is in d) or a negative errno when the
 * question itself could not be answered (then d says deny).
 */
int policy_decide(const struct policy *p, const struct policy_caller *c,
		  const char *path, enum policy_action action, time_t now,
		  struct policy_decision *d);

#endif
