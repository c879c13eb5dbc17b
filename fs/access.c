/*
 * fs/access.c - the policy and audit seams.
 *
 * Every operation asks fs_decide() before it touches data, and every
 * open, change, listing and denial goes through fs_audit(); nothing else
 * in fs/ calls policy_decide() or audit_append(). Keeping both here lets
 * a reviewer check "deny by default, record everything" in one file.
 *
 * A department mount serves only the callers the policy maps to its
 * department by their own uid, gid or groups (DESIGN.md "Identity"):
 * anyone else is denied every decision here, before the policy is asked
 * about the path. Metadata reads and denials are recorded through the
 * coalescer (coalesce.c): repeats within a second become one record with
 * a count, written within about a second rather than before the reply.
 */
#include "fs/fs.h"
#include "fs/access.h"
#include "fs/coalesce.h"
#include "fs/dirbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/strcopy.h"
#include "common/metrics.h"

#define FS_MAX_GROUPS 256

_Static_assert(sizeof(gid_t) == sizeof(uint32_t), "gid_t is 32 bits");

static const char *const reserved_names[] = { ".versions", ".snapshots", ".poolfs" };

void fs_policy_load(struct fs *fs)
{
	struct strbuf doc = STRBUF_INIT;
	struct perr e = PERR_INIT;
	struct policy *p = NULL;
	uint64_t v = 0;
	int err;

	if (fs->allow_all) {
		log_warn("mounted with allow_all: every caller may read and write everything raw");
		fs->policy = policy_allow_all();
		return;
	}
	/* fail closed: a pool without a usable policy denies every request */
	err = store_policy_get(fs->store, 0, &doc, &v);
	if (err == -ENOENT)
		log_warn("the pool has no policy yet: every request is denied");
	else if (err < 0)
		log_err("cannot read the policy: %s: every request is denied", strerror(-err));
	else if ((err = policy_parse(doc.buf, doc.len, &p, &e)) < 0)
		log_err("policy version %llu: %s: every request is denied",
			(unsigned long long)v, perr_msg(&e, -err));
	fs->policy = p;
	strbuf_release(&doc);
}

struct policy *fs_policy_swap(struct fs *fs, struct policy *p)
{
	struct policy *old;

	pthread_mutex_lock(&fs->policy_lock);
	old = fs->policy;
	fs->policy = p;
	__atomic_add_fetch(&fs->policy_gen, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&fs->policy_lock);
	return old;
}

unsigned long fs_policy_gen(struct fs *fs)
{
	return __atomic_load_n(&fs->policy_gen, __ATOMIC_SEQ_CST);
}

/*
 * Loading the pointer and taking a reference must happen together, or a
 * swap could drop the last reference in between; the lock covers only
 * those two steps, so requests never wait on each other for long.
 */
static struct policy *policy_ref(struct fs *fs)
{
	struct policy *p;

	pthread_mutex_lock(&fs->policy_lock);
	p = fs->policy ? policy_get(fs->policy) : NULL;
	pthread_mutex_unlock(&fs->policy_lock);
	return p;
}

static void caller_init(fuse_req_t req, struct fs *fs, struct policy_caller *c,
			gid_t *groups)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	memset(c, 0, sizeof(*c));
	c->uid = ctx->uid;
	c->gid = ctx->gid;
	c->pid = ctx->pid;
	c->mount_dept = fs->dept;
	c->groups = (const uint32_t *)groups;	/* read by caller_groups */
}

/*
 * Reads the caller's supplementary groups into the array caller_init
 * gave c. Groups cost a read of /proc and only a pool mount maps callers
 * to departments by group, after uid and gid: decide() reads them only
 * when those two settle nothing (policy_groups_moot), not at every
 * lookup of a listing. Missing groups can only take rights away.
 */
static void caller_groups(fuse_req_t req, struct fs *fs, struct policy_caller *c)
{
	int n;

	if (fs->dept || fs->allow_all || c->ngroups || !req)
		return;
	n = fuse_req_getgroups(req, FS_MAX_GROUPS, (gid_t *)c->groups);
	if (n < 0)
		n = 0;
	else if (n > FS_MAX_GROUPS)
		n = FS_MAX_GROUPS;
	c->ngroups = n;
}

/*
 * Whether the caller of req (c, on a department mount) is one the mount
 * serves: its own uid, gid or groups map it to the mount's department.
 * Else fills d's reason. Groups are read only when uid and gid do not
 * map (they come last in the policy's order anyway) or a role is held by
 * group (it takes the department away).
 */
static bool mount_serves(fuse_req_t req, const struct policy *p,
			 const struct policy_caller *c, struct policy_decision *d)
{
	struct policy_caller own = *c;
	struct policy_decision who;
	gid_t groups[FS_MAX_GROUPS];
	time_t now = time(NULL);
	int n;

	own.mount_dept = NULL;
	if (policy_decide(p, &own, "/", POLICY_LOOKUP, now, &who) < 0)
		who.dept[0] = '\0';
	if ((!who.dept[0] || !policy_groups_moot(p, own.uid, own.gid)) && own.ngroups == 0 &&
	    req) {
		n = fuse_req_getgroups(req, FS_MAX_GROUPS, groups);
		if (n > 0) {
			own.groups = (const uint32_t *)groups;
			own.ngroups = n > FS_MAX_GROUPS ? FS_MAX_GROUPS : n;
			if (policy_decide(p, &own, "/", POLICY_LOOKUP, now, &who) < 0)
				who.dept[0] = '\0';
		}
	}
	if (who.dept[0] && !strcmp(who.dept, c->mount_dept))
		return true;
	snprintf(d->reason, sizeof(d->reason), "uid %u gid %u (%s%.64s) is not served by "
		 "the mount of department \"%.64s\"", c->uid, c->gid,
		 who.dept[0] ? "department " : "no department", who.dept, c->mount_dept);
	return false;
}

/*
 * The decision for caller c of req, with the fail-closed rules applied.
 * d->view is kept only for a caller that holds the policy it points
 * into: with keep, an allowed decision hands the reference over in *keep.
 */
static void decide(fuse_req_t req, struct fs *fs, struct policy_caller *c,
		   const char *path, enum policy_action action,
		   struct policy_decision *d, struct policy **keep)
{
	struct policy *p = policy_ref(fs);
	int err;

	if (p && !policy_groups_moot(p, c->uid, c->gid))
		caller_groups(req, fs, c);
	memset(d, 0, sizeof(*d));
	if (keep)
		*keep = NULL;
	if (!p) {
		d->err = -EACCES;
		snprintf(d->reason, sizeof(d->reason), "no policy loaded");
	} else if (fs->dept && !fs->allow_all && !mount_serves(req, p, c, d)) {
		d->allow = 0;
		d->err = -EACCES;
	} else if ((err = policy_decide(p, c, path, action, time(NULL), d)) < 0) {
		d->allow = 0;
		d->err = err;
		if (!d->reason[0])
			snprintf(d->reason, sizeof(d->reason), "policy error: %s",
				 strerror(-err));
	}
	if (keep && d->allow) {
		*keep = p;
		p = NULL;
	} else {
		d->view = NULL;
	}
	if (p)
		policy_put(p);
	if (!d->allow && d->err >= 0)
		d->err = -EACCES;
}

int fs_decide_keep(fuse_req_t req, const char *op, const char *path,
		   enum policy_action action, struct policy_decision *d,
		   struct policy **keep)
{
	gid_t groups[FS_MAX_GROUPS];
	struct policy_caller c;

	caller_init(req, fs_of(req), &c, groups);
	decide(req, fs_of(req), &c, path, action, d, keep);
	if (d->allow)
		return 0;
	if (fs_audit_meta(req, op, path, d->err, d) < 0)
		return -EIO;
	return d->err;
}

bool fs_may(fuse_req_t req, const char *path, enum policy_action action)
{
	gid_t groups[FS_MAX_GROUPS];
	struct policy_decision d;
	struct policy_caller c;

	caller_init(req, fs_of(req), &c, groups);
	decide(req, fs_of(req), &c, path, action, &d, NULL);
	return d.allow;
}

/*
 * Whether c runs the mount: root, or a holder of system_admin by uid,
 * primary gid or any group. A department mount reads no groups for its
 * decisions (caller_init), so they are read here; a role given to a
 * group must open df to its members on every mount.
 */
static bool runs_mount(fuse_req_t req, const struct policy *p, const struct policy_caller *c)
{
	gid_t groups[FS_MAX_GROUPS];
	uint32_t gid = c->gid;
	int n;

	if (c->uid == 0)
		return true;
	if (!p)
		return false;
	if (policy_role_has(p, c->uid, &gid, 1, "system_admin") == 1)
		return true;
	if (c->ngroups)
		return policy_role_has(p, c->uid, c->groups, c->ngroups, "system_admin") == 1;
	n = fuse_req_getgroups(req, FS_MAX_GROUPS, groups);
	if (n <= 0)
		return false;
	return policy_role_has(p, c->uid, (const uint32_t *)groups,
			       n > FS_MAX_GROUPS ? FS_MAX_GROUPS : n, "system_admin") == 1;
}

int fs_decide_root(fuse_req_t req, const char *op, struct policy_decision *d)
{
	struct fs *fs = fs_of(req);
	gid_t groups[FS_MAX_GROUPS];
	struct policy_caller c;
	struct policy *p;

	caller_init(req, fs, &c, groups);
	decide(req, fs, &c, "/", POLICY_LOOKUP, d, NULL);
	if (d->allow)
		return 0;
	/*
	 * Running the mount is no data right: the root's attributes only.
	 * Root needs no policy for it, so df and mountpoint work on a pool
	 * that has none yet or whose policy does not load.
	 */
	p = policy_ref(fs);
	if (runs_mount(req, p, &c)) {
		d->allow = 1;
		d->err = 0;
		snprintf(d->reason, sizeof(d->reason), "the mount root, for %s",
			 c.uid == 0 ? "root" : "system_admin");
	}
	if (p)
		policy_put(p);
	if (d->allow)
		return 0;
	if (fs_audit_meta(req, op, "/", d->err, d) < 0)
		return -EIO;
	return d->err;
}

int fs_decide(fuse_req_t req, const char *op, const char *path,
	      enum policy_action action, struct policy_decision *d)
{
	return fs_decide_keep(req, op, path, action, d, NULL);
}

struct policy *fs_policy_get(struct fs *fs)
{
	return policy_ref(fs);
}

int fs_policy_call(fuse_req_t req, fs_policy_fn *fn, void *arg)
{
	struct policy *p = policy_ref(fs_of(req));
	gid_t groups[FS_MAX_GROUPS];
	struct policy_caller c;
	int err;

	if (!p)
		return -EACCES;
	caller_init(req, fs_of(req), &c, groups);
	caller_groups(req, fs_of(req), &c);
	err = fn(p, &c, arg);
	policy_put(p);
	return err;
}

int fs_filter_dir(fuse_req_t req, struct fs_dir *d, size_t first)
{
	struct strbuf path = STRBUF_INIT;
	gid_t groups[FS_MAX_GROUPS];
	struct policy_decision dec;
	struct policy_caller c;
	size_t k = first;

	caller_init(req, fs_of(req), &c, groups);
	for (size_t i = first; i < d->n; i++) {
		strbuf_reset(&path);
		fs_path_join(&path, d->path.buf, d->ents[i].name);
		decide(req, fs_of(req), &c, path.buf, POLICY_LOOKUP, &dec, NULL);
		if (dec.allow)
			d->ents[k++] = d->ents[i];
		else
			free(d->ents[i].name);
	}
	d->n = k;
	strbuf_release(&path);
	return 0;
}

int fs_deny(fuse_req_t req, const char *op, const char *path, int err,
	    const char *reason)
{
	struct policy_decision d;

	memset(&d, 0, sizeof(d));
	d.err = err;
	snprintf(d.reason, sizeof(d.reason), "%s", reason);
	if (fs_audit_meta(req, op, path, err, &d) < 0)
		return -EIO;
	return err;
}

/* The name of the process behind a request; "" when it is gone. */
static void read_comm(uint32_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	if (!pid)
		return;
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0) {
		buf[0] = '\0';
		return;
	}
	buf[n] = '\0';
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
}

/* fs_who_init() but for the process name, which costs a read of /proc. */
static void who_init(fuse_req_t req, const struct policy_decision *d, struct fs_who *w)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct fs *fs = fs_of(req);

	memset(w, 0, sizeof(*w));
	w->uid = ctx->uid;
	w->gid = ctx->gid;
	w->pid = ctx->pid;
	if (d && d->dept[0])
		str_copy(w->dept, sizeof(w->dept), d->dept);
	else if (fs->dept)
		str_copy(w->dept, sizeof(w->dept), fs->dept);
	if (d)
		str_copy(w->user, sizeof(w->user), d->user);
}

void fs_who_init(fuse_req_t req, const struct policy_decision *d, struct fs_who *w)
{
	who_init(req, d, w);
	read_comm(w->pid, w->comm, sizeof(w->comm));
}

void fs_who_writer(const struct fs_who *w, struct store_writer *out)
{
	out->uid = w->uid;
	out->gid = w->gid;
	out->pid = w->pid;
	out->dept = w->dept[0] ? w->dept : NULL;
	out->user = w->user[0] ? w->user : NULL;
}

void fs_audit_rec(struct audit_rec *r, const struct fs_who *w, const char *op,
		  const char *path, int result, const struct policy_decision *d)
{
	memset(r, 0, sizeof(*r));
	r->uid = w->uid;
	r->gid = w->gid;
	r->pid = w->pid;
	r->comm = w->comm;
	r->dept = w->dept;
	r->user = w->user;
	r->op = op;
	r->path = path;
	r->result = result;
	/* every denial gets its record built here, coalesced or not */
	if (result == -EACCES || result == -EPERM)
		metric_add(METRIC_DENIALS, 1);
	if (d) {
		r->code = d->code;
		r->grant = d->grant;
		r->reason = d->reason;
		/* content is served at open; fs_audit_view() names the view there */
		r->view = d->allow ? "raw" : "";
	}
}

/* Appends r; a record that cannot be written is EIO for the operation. */
static int append_or_eio(struct fs *fs, struct audit_rec *r)
{
	int err = audit_append(fs->store, r);

	if (err < 0) {
		log_err("audit record for %s of \"%s\" not written: %s", r->op, r->path,
			strerror(-err));
		return -EIO;
	}
	return 0;
}

int fs_audit_view(struct fs *fs, const struct fs_who *w, const char *op,
		  const char *path, int result, const struct policy_decision *d,
		  const char *view, uint64_t version, uint64_t bytes)
{
	struct audit_rec r;

	fs_audit_rec(&r, w, op, path, result, d);
	if (view && view[0])
		r.view = view;
	r.version = version;
	r.bytes = bytes;
	return append_or_eio(fs, &r);
}

int fs_audit_who(struct fs *fs, const struct fs_who *w, const char *op,
		 const char *path, int result, const struct policy_decision *d,
		 uint64_t version, uint64_t bytes)
{
	return fs_audit_view(fs, w, op, path, result, d, NULL, version, bytes);
}

/*
 * read_comm() remembered per thread for a second: `ls -l` or a stat loop
 * asks about many names for one process, and a read of /proc for each
 * would cost about as much as the request.
 */
static void comm_cached(uint32_t pid, char *buf, size_t len)
{
	static __thread uint32_t last_pid;
	static __thread time_t last_time;
	static __thread char last[32];
	time_t now = time(NULL);

	if (pid != last_pid || now != last_time) {
		read_comm(pid, last, sizeof(last));
		last_pid = pid;
		last_time = now;
	}
	snprintf(buf, len, "%s", last);
}

int fs_audit_meta(fuse_req_t req, const char *op, const char *path, int result,
		  const struct policy_decision *d)
{
	struct fs *fs = fs_of(req);
	struct audit_rec r;
	struct fs_who w;

	who_init(req, d, &w);
	fs_audit_rec(&r, &w, op, path, result, d);
	/* the view a stat's size was of (d->view is set only while it is valid) */
	if (d && d->allow && d->view)
		r.view = policy_view_fingerprint(d->view);
	r.comm = NULL;
	/* a repeat costs a lookup; only the first of a second reads /proc */
	if (fs_coalesce_bump(fs, &r) == 0)
		return 0;
	comm_cached(w.pid, w.comm, sizeof(w.comm));
	r.comm = w.comm;
	if (fs_coalesce_add(fs, &r) == 0)
		return 0;
	/* fail closed: what cannot be counted is written at once */
	return append_or_eio(fs, &r);
}

int fs_audit(fuse_req_t req, const char *op, const char *path, int result,
	     const struct policy_decision *d, uint64_t version, uint64_t bytes)
{
	struct fs_who w;

	fs_who_init(req, d, &w);
	return fs_audit_who(fs_of(req), &w, op, path, result, d, version, bytes);
}

void fs_change_init(fuse_req_t req, const char *op, const char *path,
		    const struct policy_decision *d, struct fs_change *c)
{
	fs_who_init(req, d, &c->who);
	c->d = d;
	fs_audit_rec(&c->rec, &c->who, op, path, 0, d);
}

int fs_change_end(struct fs *fs, struct fs_change *c, int err)
{
	struct audit_rec r;

	if (err == 0)
		return 0;
	fs_audit_rec(&r, &c->who, c->rec.op, c->rec.path, err, c->d);
	r.version = c->rec.version;
	r.bytes = c->rec.bytes;
	append_or_eio(fs, &r);
	return err;
}

int fs_check_name(const char *name)
{
	return strlen(name) > STORE_NAME_MAX ? -ENAMETOOLONG : 0;
}

int fs_check_new_name(const char *name)
{
	int err = fs_check_name(name);

	if (err)
		return err;
	for (size_t i = 0; i < sizeof(reserved_names) / sizeof(reserved_names[0]); i++)
		if (!strcmp(name, reserved_names[i]))
			return -EPERM;
	return 0;
}
