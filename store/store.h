/*
 * store/store.h - the pool store: tree, content chunks, versions, policy
 * versions and the audit log, kept in one RocksDB database.
 *
 * This is the only interface the rest of poolfs has to storage; no RocksDB
 * type appears here, so a second backend (librados) can sit behind it.
 *
 * Conventions: every function returns 0 (or a count) or a negative errno.
 * Read functions are safe from any thread. Mutations of the tree and
 * commits are serialized inside the store (one mutation lock); callers
 * need no lock of their own except around a struct store_stage, which is
 * not thread-safe (the daemon keeps one per inode under the inode's lock).
 *
 * Nothing is ever physically removed: unlink and rmdir end a directory
 * entry's life (kept as history for snapshots) and a file keeps every
 * version it ever had.
 */
#ifndef POOL_STORE_H
#define POOL_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/error.h"
#include "common/strbuf.h"

struct store;			/* opaque */
struct store_content;		/* opaque: one immutable file version */
struct store_stage;		/* opaque: a file being written */
struct audit_rec;		/* store/audit.h */

#define STORE_ROOT_INO	1
#define STORE_NAME_MAX	255
/*
 * Longest pool path a new name may get. The store keys entries by parent
 * and name, so this is no format limit: it bounds what one request
 * builds, 8x PATH_MAX, since a caller reaches any depth by chdir.
 */
#define STORE_PATH_MAX	32768

enum store_ftype { STORE_REG = 1, STORE_DIR = 2, STORE_LNK = 3 };

struct store_attr {
	uint64_t ino;
	uint32_t type;			/* enum store_ftype */
	uint32_t mode;			/* permission bits only (07777) */
	uint32_t uid, gid;
	uint32_t nlink;
	uint64_t size;			/* REG: current version's size; LNK: target length */
	uint64_t version;		/* REG: current version number, 0 = never written */
	struct timespec atime, mtime, ctime, btime;
};

/* Who made a change; recorded in version records. */
struct store_writer {
	uint32_t uid, gid, pid;
	const char *dept;		/* may be NULL */
	const char *user;		/* may be NULL */
};

/* ---- pool lifetime ---- */

/*
 * Creates a new pool in directory dir (created if missing, must be empty):
 * the database, the format version and fresh secrets (hash and signing
 * keys, mode 0600). Fails with -EEXIST if dir already holds a pool.
 */
int store_create(const char *dir, struct perr *e);

#define STORE_OPEN_RDONLY 0x1

/*
 * Opens the pool in dir. Refuses (-EINVAL, with a one-line message) a
 * directory that is not a pool or whose format version is not understood,
 * and (-EBUSY) a pool another process holds open for writing.
 */
int store_open(const char *dir, unsigned flags, struct store **out, struct perr *e);
void store_close(struct store *s);

/* The pool directory; owned by the store. */
const char *store_dir(const struct store *s);

/*
 * Reads a per-store secret ("hash" for the masking HMAC key, "sign" for
 * audit checkpoints) into buf. Returns its length or a negative errno.
 * The secret never leaves the store directory except into this buffer.
 */
ssize_t store_secret(struct store *s, const char *name, uint8_t *buf, size_t len);

#define STORE_HASH_KEY_LEN	32
#define STORE_HASH_KEY_VERSION	1	/* the derivation hash masks use now */

/*
 * The hash mask's key for reading department dept, derivation version
 * (store/hashkey.c), into out. Returns 0, -EINVAL for an empty dept or a
 * version this store cannot derive, or the error reading the secret.
 */
int store_hash_key(struct store *s, const char *dept, unsigned version,
		   uint8_t out[STORE_HASH_KEY_LEN]);

/* ---- the tree ---- */

int store_getattr(struct store *s, uint64_t ino, struct store_attr *a);
/* -ENOENT when parent has no live entry called name. */
int store_lookup(struct store *s, uint64_t parent, const char *name, struct store_attr *a);

/*
 * The tree changes below take an optional audit record (NULL: none) that
 * is written in the change's own synced batch: a change is never on disk
 * without its record, nor its record without it. A failed change writes
 * no record; the caller records the failure.
 *
 * Creates a file, directory or symlink (target for STORE_LNK, else NULL)
 * under parent. -EEXIST, -ENOTDIR, -ENAMETOOLONG, -EINVAL for "", ".",
 * "..", or a name holding '/' or NUL. A new regular file has version 0.
 */
int store_mknode(struct store *s, uint64_t parent, const char *name,
		 uint32_t type, uint32_t mode, uint32_t uid, uint32_t gid,
		 const char *link_target, struct store_attr *out,
		 const struct audit_rec *audit);

/*
 * Creates the directory at absolute pool path and any missing parents
 * (mode, uid, gid for the new ones), like mkdir -p. Existing directories
 * are left alone; a non-directory in the way is -ENOTDIR. Each directory
 * made is an "mkdir" record like audit, with its own path: a tree change
 * without its record would look undone to `audit verify` once the name
 * had a record before (store/tree_mark.c).
 */
int store_mkdirs(struct store *s, const char *path, uint32_t mode, uint32_t uid, uint32_t gid,
		 const struct audit_rec *audit);

/* Removes a non-directory entry; history is kept. -EISDIR for a dir. */
int store_unlink(struct store *s, uint64_t parent, const char *name,
		 const struct audit_rec *audit);
/* Removes an empty directory. -ENOTEMPTY, -ENOTDIR. */
int store_rmdir(struct store *s, uint64_t parent, const char *name,
		const struct audit_rec *audit);

#define STORE_RENAME_NOREPLACE	0x1	/* same values as RENAME_* in linux/fs.h */
#define STORE_RENAME_EXCHANGE	0x2

/*
 * Renames p1/n1 to p2/n2. When a regular file replaces a regular file the
 * target keeps its inode and history and gets the source's current
 * content as a new version (written by w); the source inode then ends.
 * When the target is a directory it must be empty. A directory cannot be
 * moved below itself (-EINVAL). On success *replaced_ino is the inode
 * that now sits at p2/n2 (the target's when a file replaced a file).
 */
int store_rename(struct store *s, uint64_t p1, const char *n1,
		 uint64_t p2, const char *n2, unsigned flags,
		 const struct store_writer *w, uint64_t *target_ino,
		 const struct audit_rec *audit);

int store_readlink(struct store *s, uint64_t ino, struct strbuf *out);

#define STORE_SET_MODE	0x01
#define STORE_SET_UID	0x02
#define STORE_SET_GID	0x04
#define STORE_SET_ATIME	0x08
#define STORE_SET_MTIME	0x10
/* Records mode, owner and times (size changes go through a stage). */
int store_setattr(struct store *s, uint64_t ino, const struct store_attr *a, unsigned what,
		  const struct audit_rec *audit);

struct store_dirent {
	const char *name;		/* valid during the callback only */
	uint64_t ino;
	uint32_t type;
};

/*
 * Calls cb for each live entry of dir in name order, or, when as_of is
 * not NULL, for each entry that existed at that time. cb returning
 * non-zero stops the walk and that value is returned.
 */
int store_readdir(struct store *s, uint64_t dir, const struct timespec *as_of,
		  int (*cb)(void *arg, const struct store_dirent *d), void *arg);

/* Like store_lookup, as of a past time (for /.snapshots). */
int store_lookup_at(struct store *s, uint64_t parent, const char *name,
		    const struct timespec *as_of, struct store_attr *a);

/* Resolves an absolute pool path ("/a/b") to its live inode. */
int store_resolve(struct store *s, const char *path, struct store_attr *a);
/*
 * Appends the absolute pool path of live inode ino ("/" for the root) to
 * out. Every inode has exactly one parent (no hard links), so this is a
 * walk up parent pointers.
 */
int store_path(struct store *s, uint64_t ino, struct strbuf *out);

/* ---- versions ---- */

struct store_version_info {
	uint64_t version;
	struct timespec time;		/* commit time */
	uint64_t size;
	uint32_t uid, gid;
	char writer[128];		/* "dept/user", or "uid:N" when unknown */
	uint8_t content_id[32];		/* SHA-256 over the chunk list: equal content, equal id */
};

#define STORE_CONTENT_TAG_HEX	32	/* hex digits of a content tag */

/*
 * What an admin is shown of a content id: a MAC of it under the pool's
 * audit key (16 bytes in hex), equal for equal content in this pool. In
 * a plain pool the content id itself is a hash of the bytes anyone can
 * compute, so printing it would let an admin without data rights
 * confirm a guess of a file's content.
 */
int store_content_tag(struct store *s, const uint8_t cid[32],
		      char hex[STORE_CONTENT_TAG_HEX + 1]);

/* Calls cb for each version of ino, oldest first. */
int store_versions(struct store *s, uint64_t ino,
		   int (*cb)(void *arg, const struct store_version_info *v), void *arg);
int store_version_get(struct store *s, uint64_t ino, uint64_t version,
		      struct store_version_info *v);
/* The version current at time t; -ENOENT when the file had none then. */
int store_version_at(struct store *s, uint64_t ino, const struct timespec *t,
		     uint64_t *version);

/* Makes version as current again by committing it as a new version. */
int store_restore(struct store *s, uint64_t ino, uint64_t version,
		  const struct store_writer *w, const struct audit_rec *audit,
		  uint64_t *new_version);

/* ---- reading content ---- */

/*
 * Opens version of ino (0 = current) for reading. A file never written
 * reads as empty. The handle is immutable and may be read from many
 * threads at once; it stays valid whatever later commits do.
 */
int store_content_open(struct store *s, uint64_t ino, uint64_t version,
		       struct store_content **out);
uint64_t store_content_size(const struct store_content *c);
uint64_t store_content_version(const struct store_content *c);
void store_content_id(const struct store_content *c, uint8_t id[32]);
/* Reads up to len bytes at off; returns the count (0 at end) or -errno. */
ssize_t store_content_read(struct store_content *c, void *buf, size_t len, uint64_t off);
void store_content_close(struct store_content *c);

/* ---- writing content ---- */

/*
 * A stage holds a file's uncommitted changes: the version it started from
 * plus dirty extents kept in a sparse spill file under STORE/staging, so
 * a 10 GiB write never sits in memory. Not thread-safe.
 */
int store_stage_open(struct store *s, uint64_t ino, struct store_stage **out);
int store_stage_write(struct store_stage *st, const void *buf, size_t len, uint64_t off);
ssize_t store_stage_read(struct store_stage *st, void *buf, size_t len, uint64_t off);
int store_stage_truncate(struct store_stage *st, uint64_t size);
uint64_t store_stage_size(const struct store_stage *st);
bool store_stage_dirty(const struct store_stage *st);

/*
 * Commits the stage as a new version in one synced write batch together
 * with audit (may be NULL). Only chunks around changed bytes are hashed
 * and stored: cost follows the bytes changed, not the file size. A clean
 * stage commits nothing and sets *version to the current one. On error
 * (-ENOSPC, -EIO) the file stays at its previous version and the stage
 * keeps its changes.
 */
int store_stage_commit(struct store_stage *st, const struct store_writer *w,
		       const struct audit_rec *audit, uint64_t *version);
/* Discards uncommitted changes and frees the stage. */
void store_stage_close(struct store_stage *st);

/* ---- cached views ---- */

/*
 * A view is the desensitized content of one file version for one set of
 * rules, cached under (the version's content id, the rules' 32-byte
 * fingerprint). It is stored like file content (chunks shared with
 * identical views and files) and read through a struct store_content.
 * Views are a cache: they may be evicted whenever no handle holds them.
 * store_stats() counts them in views and sums their sizes (before
 * dedupe) in view_bytes; their unique chunks count in stored_bytes.
 */
struct store_view_writer;	/* opaque: a view being built; not thread-safe */

/* The budget when none was set: 1 GiB of view sizes. */
#define STORE_VIEW_BUDGET_DEFAULT	(1ULL << 30)

/*
 * Opens the cached view; -ENOENT when there is none. The handle reads as
 * store_content_read/size/close do (store_content_version() gives 0,
 * store_content_id() the view's own content id), and the view is not
 * evicted while it is open. Marks the view used (an unsynced write).
 */
int store_view_open(struct store *s, const uint8_t content_id[32], const uint8_t fp[32],
		    struct store_content **out);
/* The cached view's size, read from its record alone; -ENOENT when there is none. */
int store_view_size(struct store *s, const uint8_t content_id[32], const uint8_t fp[32],
		    uint64_t *size);

/*
 * Builds a view from a stream of writes: content is chunked and stored as
 * it arrives (on a second thread once it passes 1 MiB), its bytes held
 * in at most about 13 MiB of buffers whatever its size. Any number of
 * writers may run at once, also for the same view.
 */
int store_view_begin(struct store *s, struct store_view_writer **out);
int store_view_write(struct store_view_writer *w, const void *buf, size_t len);
/*
 * Makes the written content the view of (content_id, fp) in one synced
 * batch, after evicting least recently used views (not open ones) until
 * it fits in the budget. If the view is cached already (another writer
 * won) this changes nothing and returns 0. -EFBIG when the view alone is
 * larger than the budget (nothing is cached). Frees w in every case.
 */
int store_view_commit(struct store_view_writer *w, const uint8_t content_id[32],
		      const uint8_t fp[32]);
/* Drops what w wrote and frees it. */
void store_view_abort(struct store_view_writer *w);

/*
 * Sets the budget (bytes of view sizes, kept in the store) and evicts
 * down to it at once. 0 caches nothing; UINT64_MAX never evicts.
 */
int store_view_set_budget(struct store *s, uint64_t bytes);
int store_view_budget(struct store *s, uint64_t *bytes);

/* ---- policy versions ---- */

/*
 * Stores json as the next policy version with audit (its version 0: the
 * new one) in one batch; *version gets its number. audit verify holds
 * the versions stored to the policy.apply records: a version stored
 * without one (audit NULL, another op) makes the pool fail it.
 */
int store_policy_put(struct store *s, const char *json, size_t len,
		     const struct store_writer *w, const struct audit_rec *audit,
		     uint64_t *version);
/* Reads policy version (0 = latest) into out. -ENOENT when none. */
int store_policy_get(struct store *s, uint64_t version, struct strbuf *out,
		     uint64_t *got_version);

/* ---- statistics ---- */

struct store_stats {
	uint64_t files;			/* live regular files */
	uint64_t dirs;			/* live directories */
	uint64_t versions;		/* file versions ever committed */
	uint64_t logical_bytes;		/* sum of the sizes of all versions */
	uint64_t stored_bytes;		/* bytes of unique chunks */
	uint64_t chunks;		/* unique chunks */
	uint64_t views;			/* cached desensitized views */
	uint64_t view_bytes;
	bool writes_packs;		/* the pool's setting (docs/storage.md "Packs") */
	uint64_t packs;			/* pack files */
	uint64_t pack_bytes;		/* their size on disk */
	uint64_t pack_live;		/* of which refs rows count (records) */
	uint64_t pack_garbage;		/* the rest, but for the packs' headers */
};

int store_stats(struct store *s, struct store_stats *st);

#endif
