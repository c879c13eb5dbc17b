/*
 * fs/stage.h - writes and commits (fs/stage.c): a file's stage of
 * uncommitted writes, its author, the commit that makes it a durable
 * version (store_commit), and handles moved by a rename over a file.
 * Unless said otherwise the caller holds n->lock.
 */
#ifndef POOL_FS_STAGE_H
#define POOL_FS_STAGE_H

#include "fs/fs.h"

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
/*
 * After a new version of store inode sino became current (commit,
 * restore): readers that opened an older one keep it, on a kernel inode
 * of their own, and every other kernel cache of it is dropped. Call with
 * no lock held.
 */
void fs_changed(struct fs *fs, uint64_t sino);
/*
 * Runs op(arg), which gives store inode sino a new current version from
 * outside any handle (restore), as one step with the marking of its
 * kernel inodes (fs_kinode_change), then does what fs_changed does.
 * Returns op's result. Call with no lock held.
 */
int fs_changed_by(struct fs *fs, uint64_t sino, int (*op)(void *), void *arg);
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
