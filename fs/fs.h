/*
 * fs/fs.h - what the files of the daemon share: the mount's state, the
 * inode table, open-file and directory handles, and the two seams every
 * operation goes through (fs_decide for policy, fs_audit for the log).
 *
 * fs/ is the FUSE edge: it translates store/ and policy/ results into
 * replies and never touches RocksDB. Helpers return 0 or a negative
 * errno; only the fs_ll_* operations reply, flipping the sign once.
 */
#ifndef POOL_FS_H
#define POOL_FS_H

#define FUSE_USE_VERSION 314	/* libfuse 3.14 */
#include <fuse_lowlevel.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "common/strbuf.h"
#include "policy/policy.h"
#include "store/audit.h"
#include "store/store.h"

/* Inode numbers with this bit are virtual (.versions, .snapshots, .poolfs). */
#define FS_VIRT_BIT	(UINT64_C(1) << 62)
/* ... and with this one, a second kernel inode for a store inode (inode.c). */
#define FS_ALIAS_BIT	(UINT64_C(1) << 61)
/* fs_view_kid() and fs_dept_kid() name no kernel inode (out of memory) */
#define FS_VID_NONE	UINT32_MAX

#define FS_TIMEOUT	1.0		/* entry and attr cache, seconds, where
					 * the kernel may cache (fs_cache_timeout) */
#define FS_MAX_WRITE	(1024 * 1024)
#define FS_CACHE_UNKNOWN UINT64_MAX	/* no version known to be in the page cache */

enum fs_kind {
	FS_REAL,		/* a store inode */
	FS_VERSIONS,		/* DIR/.versions: the files of DIR */
	FS_VERSION_LIST,	/* DIR/.versions/NAME: 1, 2, ... */
	FS_VERSION_FILE,	/* DIR/.versions/NAME/N: version N, read-only */
	FS_SNAP_ROOT,		/* /.snapshots: empty, lookup by UTC time */
	FS_SNAP,		/* a store inode as it was at as_of, read-only */
	FS_META_DIR,		/* /.poolfs */
	FS_META_FILE,		/* /.poolfs/catalog.json, whoami: made per caller */
};

/* What a virtual inode stands for; equal keys share one inode. */
struct fs_vkey {
	enum fs_kind kind;
	uint64_t sino;
	uint64_t version;		/* FS_VERSION_FILE; FS_META_FILE: which file */
	struct timespec as_of;		/* FS_SNAP_ROOT's children and FS_SNAP */
	uint32_t vid;			/* the view a file's kernel inode shows
					 * (fs_view_kid), 0: raw or everyone's */
	uint32_t dept;			/* the department whose callers reach a
					 * directory's kernel inode (fs_dept_kid),
					 * 0: everyone's */
};

struct fs_inode {
	uint64_t ino;			/* kernel node id; immutable */
	struct fs_inode *next;		/* hash chain; protected by table lock */
	struct fs_inode *vnext;		/* virtual-key chain; protected by table lock */
	uint64_t nlookup;		/* kernel references; protected by table lock */
	unsigned pins;			/* handles and requests in flight; table lock */
	uint64_t redirect;		/* store inode that replaced this one by
					 * rename, 0 if none; atomic, written under
					 * the table lock */
	struct fs_inode *rnext;		/* in fs->redirected; table lock */
	bool orphaned;			/* its file lost the name, or readers of an
					 * older version keep it; table lock */
	struct fs_orphan *orphan;	/* that file's open handles; table lock */
	uint64_t kversion;		/* the version it shows its readers, 0:
					 * the current one; table lock */
	bool kept;			/* shows kversion (0: empty) to readers who
					 * keep it, not the name (kinode.h); table lock */
	struct fs_kept_attr {		/* when kept: what it shows; table lock */
		uint64_t sino;		/* the store inode of kversion */
		uint64_t size;
		struct timespec mtime;
	} kattr;
	bool gone;			/* its file lost the name: st_nlink 0; table lock */

	/* immutable after creation */
	struct fs_vkey key;		/* FS_REAL: key.sino is the store inode it
					 * was made for, ino itself but for aliases */
	char *vpath;			/* virtual: pool path behind it */

	pthread_mutex_t lock;
	struct store_stage *stage;	/* uncommitted writes; protected by lock */
	struct fs_file *files;		/* open handles on it; protected by lock */
	struct fs_inode *forward;	/* where its handles went when its file was
					 * renamed over another; pinned; set once,
					 * atomic */
	unsigned writers, readers;	/* open handles; protected by lock */
	uint64_t cache_version;		/* version the page cache may hold; lock */
	uint64_t cache_kino;		/* ... of this kernel inode; lock */
	bool writing_soon;		/* a writer or truncate is on its way in:
					 * readers follow the stage; lock */
	struct timespec wtime;		/* last write into stage; protected by lock */
	uint64_t staged_bytes;		/* written since the last commit; lock */
	int stage_err;			/* a write or commit failed: the stage is
					 * dropped at the last close; lock */
	unsigned pending_set;		/* STORE_SET_* times set while staged; lock */
	struct store_attr pending;	/* their values; protected by lock */
	struct fs_author *author;	/* who changed the stage; NULL: nobody
					 * yet; protected by lock */
	uint64_t keep;			/* leading bytes of the version the stage
					 * started from that may still be in it,
					 * unchanged; protected by lock */
};

struct fs {
	struct store *store;
	struct fuse_session *se;
	char *dept;			/* -o dept=ID, NULL for a pool mount */
	int allow_all;			/* -o allow_all */

	pthread_mutex_t policy_lock;
	struct policy *policy;		/* NULL: deny all; protected by policy_lock */
	unsigned long policy_gen;	/* bumped on every swap; atomic */

	pthread_mutex_t table_lock;
	struct fs_inode **buckets;	/* protected by table_lock */
	struct fs_inode **vbuckets;	/* protected by table_lock */
	size_t nbuckets, count;		/* protected by table_lock */
	struct fs_inode *redirected;	/* entries with a redirect; table_lock */
	uint64_t next_vino;		/* protected by table_lock */
	uint64_t next_alias;		/* protected by table_lock */
	char (*depts)[64];		/* fs_dept_kid() - 1 to department ids;
					 * protected by table_lock */
	size_t ndepts, adepts;		/* protected by table_lock */
	uint8_t ino_key[16];		/* keys the inode numbers callers see
					 * (fs_ino_public); set before the loop */

	struct fs_notifier *notifier;	/* notify.c; set before the loop starts */
	struct fs_views *views;		/* view.c; set before the loop starts */
	struct fs_coalesce *coalesce;	/* coalesce.c; set before the loop starts */
};

/* Who a request acts for; copied into handles for later records. */
struct fs_who {
	uint32_t uid, gid, pid;
	char comm[32];
	char dept[64];
	char user[64];
};

/* The one caller whose changes a stage holds; its commit is theirs. */
struct fs_author {
	struct fs_who who;
	struct policy_decision dec;	/* dec.view is never kept */
	bool restricted;		/* may not read the file raw */
};

struct fs_orphan;			/* orphan.c */

struct fs_file {
	struct fs_inode *node;		/* pinned; where the open went (the node
					 * serving it: fs_file_node) */
	struct fs_file *next, *prev;	/* in node->files; node's lock */
	struct fs_orphan *orphan;	/* the old file once its name went away;
					 * set once under node's lock, atomic */
	struct store_content *content;	/* version read by a reader; NULL else */
	struct store_content *vcontent;	/* the opener's view of content, which
					 * its reads serve (view.c); NULL: raw,
					 * or nothing to read; set at open */
	char view[65];			/* fingerprint of the opener's view, ""
					 * raw; immutable after open */
	bool private_cache;		/* who reads decides the bytes: no page
					 * cache (fs_open_flags); set at open */
	bool writable;			/* holds a writer count on node */
	bool restricted;		/* a writer who may not read the file raw
					 * (DESIGN.md "Reads and views"); set at open */
	bool append;			/* O_APPEND; set at open */
	bool follow_stage;		/* opened while written: reads see the stage;
					 * cleared once under node's lock (kinode.h) */
	uint64_t kino;			/* the kernel inode opened; immutable */
	struct strbuf path;		/* pool path at open */
	struct fs_who who;		/* the opener */
	struct policy_decision dec;	/* at open; dec.view is never kept */
	uint64_t version;		/* the version opened */
	pthread_mutex_t lock;
	unsigned long policy_gen;	/* of dec; protected by lock */
	time_t decided;			/* when dec was made; protected by lock */
	uint64_t bytes_read;		/* atomic */
	uint64_t bytes_written;		/* atomic */
	struct strbuf *meta;		/* a /.poolfs file: its content for the
					 * opener (meta.c); NULL for the others */
};

struct fs_dirent {
	char *name;
	uint64_t ino;			/* 0 when only a lookup can tell */
	uint32_t type;			/* enum store_ftype */
};

struct fs_dir {
	struct fs_inode *node;		/* pinned */
	struct strbuf path;
	struct fs_dirent *ents;		/* ".", "..", then the listing at opendir */
	size_t n, alloc;
};

static inline struct fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* ---- inode table (inode.c) ---- */

int fs_table_init(struct fs *fs);
/* Frees every entry; stages still open are closed uncommitted. */
void fs_table_release(struct fs *fs);
/*
 * Returns the entry of real inode ino, creating it, with one kernel
 * reference (lookup) or one pin (!lookup). NULL on out of memory.
 */
struct fs_inode *fs_inode_get(struct fs *fs, uint64_t ino, bool lookup);
/*
 * The kernel inode to show for store inode sino, with one kernel
 * reference: its own, unless that one stands for the file's previous
 * life (orphaned); then one that redirects to it (see fs_inode_orphaned).
 */
struct fs_inode *fs_inode_get_live(struct fs *fs, uint64_t sino);
/*
 * fs_inode_get_live() for callers who see view vid of sino, or for the
 * callers of department class dept (fs_dept_kid) of a directory (both
 * 0: as the above): a kernel inode of theirs alone, redirecting to sino,
 * so the page cache, size, dentries and inotify watches the kernel keeps
 * per inode are one view's or one department's.
 */
struct fs_inode *fs_inode_get_view(struct fs *fs, uint64_t sino, uint32_t vid,
				   uint32_t dept);
/*
 * The department class directories' kernel inodes of callers of dept are
 * keyed by in a pool mount: a number standing for dept for the life of
 * the mount; 0 where every caller acts alike (allow_all, department
 * mounts). FS_VID_NONE when dept is "" or memory ran out: no inode.
 */
uint32_t fs_dept_kid(struct fs *fs, const char *dept);
/*
 * The inode number callers see for kernel inode ino: a keyed permutation,
 * so numbers say nothing about the order or count of creations.
 */
uint64_t fs_ino_public(const struct fs *fs, uint64_t ino);
/* Sets fs->ino_key from the pool's secret; before the loop. */
int fs_ino_key_init(struct fs *fs);
/*
 * Entry and attribute timeout for replies: the kernel's caches serve every
 * caller alike, so only a mount where every caller is answered alike
 * (allow_all) lets them keep anything.
 */
double fs_cache_timeout(const struct fs *fs);
/* The view kernel inode ino shows (its key's vid), 0 when none or unknown. */
uint32_t fs_inode_vid(struct fs *fs, uint64_t ino);
/*
 * Marks the kernel inodes of store inode sino as standing for the file
 * that just lost its name (a: its attributes then): those its handles
 * that o took over were opened on answer o's size, the others keep the
 * version they showed. A kernel inode marked before stays as it was.
 */
void fs_inode_orphaned(struct fs *fs, uint64_t sino, struct fs_orphan *o,
			const struct store_attr *a);
/* The version kernel inode ino keeps (kinode.h), 0 if the current. */
uint64_t fs_inode_kversion(struct fs *fs, uint64_t ino);
/* The orphan of kernel inode ino with a reference, or NULL. */
struct fs_orphan *fs_inode_orphan(struct fs *fs, uint64_t ino);
/* The entry of ino pinned, or NULL when the table has none. */
struct fs_inode *fs_inode_find(struct fs *fs, uint64_t ino);
/* The virtual inode for key (path: its pool path), as fs_inode_get. */
struct fs_inode *fs_vnode_get(struct fs *fs, const struct fs_vkey *key,
			      const char *path, bool lookup);
void fs_inode_put(struct fs *fs, struct fs_inode *n);
void fs_inode_forget(struct fs *fs, uint64_t ino, uint64_t nlookup);
/* Records that store inode to now stands where the file of ino stood. */
void fs_inode_redirect(struct fs *fs, uint64_t ino, uint64_t to);
/*
 * The kernel node ids showing store inode sino (its own and aliases);
 * *out is malloc'd, caller frees.
 */
int fs_inode_views(struct fs *fs, uint64_t sino, uint64_t **out, size_t *n);
/* Drops the kernel caches of every kernel inode showing store inode sino. */
void fs_invalidate_sino(struct fs *fs, uint64_t sino);
/* The kernel node ids in the table; *out is malloc'd, caller frees. */
int fs_inode_list(struct fs *fs, uint64_t **out, size_t *n);
/* Calls fn on every entry with a stage; the table lock is held. */
void fs_inode_each_staged(struct fs *fs, void (*fn)(struct fs *, struct fs_inode *));

/* ---- nodes, attributes and virtual inodes (node.c) ---- */

/*
 * Pins and returns in *out the node that serves kernel inode ino: its
 * own entry, or the replacing file's after a rename over it.
 */
int fs_node_pin(struct fs *fs, uint64_t ino, struct fs_inode **out);
/* Appends n's pool path to out. */
int fs_node_path(struct fs *fs, const struct fs_inode *n, struct strbuf *out);
int fs_node_stat(struct fs *fs, struct fs_inode *n, struct stat *st);
/*
 * Clears the times of directory st (pool path path) for a caller who may
 * not list it: they say when names came and went in it.
 */
void fs_dir_attr(fuse_req_t req, const char *path, struct stat *st);
/*
 * The version n shows: current for a real file, N for .versions/F/N, the
 * one current at the snapshot's time (0: none, reads empty).
 */
int fs_node_version(struct fs *fs, const struct fs_inode *n, uint64_t *version);
static inline bool fs_node_virtual(const struct fs_inode *n)
{
	return n->key.kind != FS_REAL;
}
/* The node's store type (enum store_ftype); 0 on error. */
uint32_t fs_node_type(struct fs *fs, const struct fs_inode *n);
/*
 * Looks name up in dir (path dpath) for req's caller and fills e with
 * one kernel reference taken. The decision is made and denials logged.
 */
int fs_lookup_child(fuse_req_t req, struct fs_inode *dir, const char *dpath,
		    const char *name, struct fuse_entry_param *e);
/* Fills d (node and path set) with its listing for req's caller. */
int fs_list_dir(fuse_req_t req, struct fs_dir *d);
int fs_dir_add(struct fs_dir *d, const char *name, uint64_t ino, uint32_t type);
void fs_dir_free(struct fs_dir *d);
void fs_path_join(struct strbuf *out, const char *dir, const char *name);

/* ---- policy and audit seams (access.c) ---- */

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

/* -ENAMETOOLONG, -EPERM for a reserved name, else 0. */
int fs_check_new_name(const char *name);
int fs_check_name(const char *name);

/*
 * Creates name under parent as type (target for a symlink) for req's
 * caller after the checks and decision for op; fills e with one kernel
 * reference taken, path with the new pool path and d with the decision.
 */
int fs_make_node(fuse_req_t req, fuse_ino_t parent, const char *name, uint32_t type,
		 mode_t mode, const char *target, const char *op,
		 struct fuse_entry_param *e, struct strbuf *path,
		 struct policy_decision *d);

/* ---- pool metadata: /.poolfs and catalog attributes (meta.c) ---- */

/* The key of name in /.poolfs; -ENOENT for a name that is not there. */
int fs_meta_child(const char *name, struct fs_vkey *key);
/* Adds the files of /.poolfs to d. */
int fs_meta_list(struct fs_dir *d);
/*
 * Sets st's size to what req's caller reads from /.poolfs file n (through
 * handle fi when given), which the kernel must not cache: see
 * FS_META_TIMEOUT.
 */
int fs_meta_stat(fuse_req_t req, const struct fs_inode *n,
		 const struct fuse_file_info *fi, struct stat *st);
#define FS_META_TIMEOUT	0.0	/* attr timeout of a file made per caller */
/* Opens /.poolfs file n (path) for req's caller; takes over the pin on n, replies. */
void fs_meta_open(fuse_req_t req, struct fs_inode *n, const char *path,
		  struct fuse_file_info *fi);
void fs_meta_read(fuse_req_t req, struct fs_file *fh, size_t size, off_t off);
/* Logs the end of the read session and frees fh. */
void fs_meta_release(struct fs *fs, struct fs_file *fh);
static inline bool fs_file_is_meta(const struct fs_file *fh)
{
	return fh->meta != NULL;
}

/* 1 when name is a catalog attribute (user.catalog.*), else 0. */
int fs_is_catalog_xattr(const char *name);
/*
 * Appends the value of catalog attribute name of n (path) to out, for
 * req's caller: needs LOOKUP (a denial is logged); -ENODATA when n is no
 * catalog entry's directory or the policy gives no such value.
 */
int fs_catalog_xattr(fuse_req_t req, const struct fs_inode *n, const char *path,
		     const char *name, struct strbuf *out);
/* Appends the NUL-terminated names of n's catalog attributes to out. */
int fs_catalog_xattr_names(struct fs *fs, const struct fs_inode *n, const char *path,
			   struct strbuf *out);

/* ---- files (ops_file.c) ---- */

/* ---- stages (stage.c); the caller holds n->lock ---- */

/* Opens n's stage from its current version if it has none. */
int fs_stage_ensure(struct fs *fs, struct fs_inode *n);
/* Records a change to the stage: its time, and that it beats an earlier utimens. */
void fs_stage_touched(struct fs_inode *n);
/* Poisons the stage after errors that may have left part of a write in it. */
void fs_stage_failed(struct fs_inode *n, int err);
/* Drops n's stage and what the daemon kept about it. */
void fs_stage_discard(struct fs_inode *n);
/*
 * Commits n's stage as a new version (when dirty) and closes it; the
 * caller holds n->lock and must call fs_changed(fs, n->key.sino) after
 * dropping it when *committed. On error the stage is poisoned.
 */
int fs_commit_locked(struct fs *fs, struct fs_inode *n, const struct fs_who *w,
		     const char *op, const char *path, uint64_t bytes,
		     const struct policy_decision *d, bool *committed);
/* A reader keeps the version it opened: fstat() through its handle shows it. */
void fs_file_stat(struct fs *fs, const struct fs_file *fh, struct stat *st);
/*
 * After a new version of store inode sino became current (commit,
 * restore): readers that opened an older one keep it, on a kernel inode
 * of their own, and every other kernel cache of it is dropped. Call with
 * no lock held.
 */
void fs_changed(struct fs *fs, uint64_t sino);
/* Commits any open stage of store inode sino (before a rename moves it). */
int fs_commit_ino(fuse_req_t req, uint64_t sino, const char *path);
/*
 * Makes w (decision d; restricted: fs_reads_raw() said no) the author of
 * n's stage before it changes it, opening the stage if needed. A stage
 * holds one author's changes: another's are committed first, as theirs
 * (*committed as for fs_commit_locked). Caller holds n->lock.
 */
int fs_stage_author(struct fs *fs, struct fs_inode *n, const struct fs_who *w,
		    const struct policy_decision *d, bool restricted, const char *path,
		    bool *committed);
/* Whether req's caller may read path raw (asks silently: decide first). */
bool fs_reads_raw(fuse_req_t req, const char *path);
/*
 * For a rename of store inode src over dst (pool path path) by req's
 * caller: -EACCES (logged) when the caller may not read path raw and
 * src's content would change how the engine reads it (write_check.h).
 */
int fs_check_replace(fuse_req_t req, const char *path, uint64_t dst, uint64_t src);

/* ---- handles whose name went away (orphan.c) ---- */

/*
 * Unlink and rename-over end a name while handles may still write to the
 * file behind it. POSIX gives those handles the old file, privately;
 * the store would put their writes under the name. So, with n->lock held
 * around the store operation: fs_orphan_prepare() before it (keeps the
 * old content in a stage; *out holds the caller's reference, or is NULL
 * when no handle needs it), then fs_orphan_detach() and fs_orphan_put()
 * when it succeeded, or fs_orphan_abort() when it failed.
 */
int fs_orphan_prepare(struct fs *fs, struct fs_inode *n, const char *path,
		      struct fs_orphan **out);
/* The pool path the old file had; owned by o. */
const char *fs_orphan_path(const struct fs_orphan *o);
void fs_orphan_detach(struct fs_inode *n, struct fs_orphan *o);
void fs_orphan_abort(struct fs_orphan *o);
static inline struct fs_orphan *fs_file_orphan(const struct fs_file *fh)
{
	return __atomic_load_n(&fh->orphan, __ATOMIC_ACQUIRE);
}
ssize_t fs_orphan_read(struct fs_orphan *o, void *buf, size_t size, uint64_t off);
/* append: at the end, whatever *off says; *off is where it went */
int fs_orphan_write(struct fs_orphan *o, const void *buf, size_t size, uint64_t *off,
		    bool append);
int fs_orphan_truncate(struct fs_orphan *o, uint64_t size);
uint64_t fs_orphan_size(struct fs_orphan *o);
void fs_orphan_get(struct fs_orphan *o);
/* Drops a reference; the last one discards the old file. */
void fs_orphan_put(struct fs_orphan *o);

/* ---- control seam (control.c) ---- */

int fs_control_start(struct fs *fs);
void fs_control_stop(struct fs *fs);
/*
 * For the control server: store inode ino has a new current version
 * (restore); the mount shows it at once (fs_changed).
 */
int fs_invalidate_inode(uint64_t ino);

/* ---- coalesced audit records (coalesce.c) ---- */

/* Starts the thread that writes coalesced records; before the loop. */
int fs_coalesce_start(struct fs *fs);
/* Writes what is left and stops it; after the loop. */
void fs_coalesce_stop(struct fs *fs);
/*
 * Counts r (who, op, path, result and decision; strings copied) in the
 * current second's record for the same key. 0, or a negative errno when
 * it could not be kept (the caller then appends r itself).
 */
int fs_coalesce_add(struct fs *fs, const struct audit_rec *r);
/*
 * Counts r in an existing record of the current second (r->comm is not
 * part of the key); -ENOENT when there is none (then fs_coalesce_add()).
 */
int fs_coalesce_bump(struct fs *fs, const struct audit_rec *r);

/* ---- kernel cache invalidation (notify.c) ---- */

int fs_notify_start(struct fs *fs);
/* Sends what is queued and stops the thread. */
void fs_notify_stop(struct fs *fs);
/* Queues dropping the kernel's cached attributes and pages of kernel inode kino. */
int fs_notify_inode(struct fs *fs, uint64_t kino);
/* Queues dropping the kernel's cached entry parent/name. */
int fs_notify_entry(struct fs *fs, uint64_t parent, const char *name);
/* Waits until what was queued before the call has been sent; never from a handler. */
void fs_notify_wait(struct fs *fs);
/* Makes p the live policy (taking the caller's reference) and drops every
 * cached page, since views may have changed. */
int fs_set_policy(struct policy *p);

/* ---- operations (fs_ll_*: each replies to req exactly once) ---- */

void fs_ll_init(void *userdata, struct fuse_conn_info *conn);
void fs_ll_destroy(void *userdata);
void fs_ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void fs_ll_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *f);
void fs_ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		   struct fuse_file_info *fi);
void fs_ll_access(fuse_req_t req, fuse_ino_t ino, int mask);
void fs_ll_statfs(fuse_req_t req, fuse_ino_t ino);
void fs_ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void fs_ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void fs_ll_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		    const char *value, size_t size, int flags);
void fs_ll_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

void fs_ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi);
void fs_ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi);
void fs_ll_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_ll_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		    struct fuse_file_info *fi);
void fs_ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);
void fs_ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		 dev_t rdev);
void fs_ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		   const char *name);
void fs_ll_readlink(fuse_req_t req, fuse_ino_t ino);
void fs_ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		const char *newname);
void fs_ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		  fuse_ino_t newparent, const char *newname, unsigned int flags);

void fs_ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_ll_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode, struct fuse_file_info *fi);
void fs_ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi);
void fs_ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		 off_t off, struct fuse_file_info *fi);
void fs_ll_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		 struct fuse_file_info *fi);

/*
 * The node serving fh: its own, or the one its file's handles moved to
 * by a rename over another file. fs_file_lock() returns it locked.
 */
struct fs_inode *fs_file_node(const struct fs_file *fh);
struct fs_inode *fs_file_lock(const struct fs_file *fh);
/* Moves the open handles of store inode from to the node of to (rename over). */
void fs_forward_handles(struct fs *fs, uint64_t from, uint64_t to);

/* Truncates n (a real file) to size through its stage; setattr's helper. */
int fs_truncate(fuse_req_t req, struct fs_inode *n, const char *path, uint64_t size,
		const struct policy_decision *d);

#endif
