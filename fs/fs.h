/*
 * fs/fs.h - what the files of the daemon share: the mount's state
 * (struct fs), the inode and open-file types, and the fs_ll_* operations
 * main.c puts in the ops table. Each module's functions are in its own
 * header: inode.h, node.h, lookup.h, dirbuf.h, access.h (the policy and
 * audit seams), meta.h, file.h, ops_dir.h, stage.h, orphan.h, view.h,
 * coalesce.h, notify.h, control.h, locks.h.
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
	struct fs_inode *rnext;		/* in fs->rbuckets; table lock */
	uint64_t rseq;			/* when it joined them: the newest
					 * alias of a view wins; table lock */
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
	struct fs_inode **rbuckets;	/* entries with a redirect, hashed by
					 * where it points (fs_redirects);
					 * nbuckets of them; table_lock */
	uint64_t next_rseq;		/* table_lock */
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
	struct fs_locks *locks;		/* locks.c; set before the loop starts */
	struct ctl_server *ctl;		/* control.c; set after mounting */
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
struct fs_locks;			/* locks.c */
struct fs_vseg;				/* vseg.c */

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
	struct fs_vseg *vseg;		/* else that view in segments, when too
					 * large to cache (vseg.c); set at open */
	char view[65];			/* fingerprint of the opener's view, ""
					 * raw; immutable after open */
	bool private_cache;		/* who reads decides the bytes: the stage
					 * is read with direct I/O (fs_open_flags);
					 * set at open */
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

/* Takes fh off n->files; the caller holds n->lock. */
static inline void fs_file_unlist(struct fs_inode *n, struct fs_file *fh)
{
	if (fh->prev)
		fh->prev->next = fh->next;
	else
		n->files = fh->next;
	if (fh->next)
		fh->next->prev = fh->prev;
	fh->next = fh->prev = NULL;
}

static inline struct fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

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

#endif
