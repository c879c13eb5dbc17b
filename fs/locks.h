/*
 * fs/locks.h - advisory locks (fcntl POSIX and OFD locks, flock) kept by
 * the daemon, in one lock space per file and department (fs/locks.c).
 *
 * Left to the kernel, locks live on a kernel inode, and a file's kernel
 * inode is shared by every caller of one view: raw readers and writers
 * of several departments use the store inode's own. Through it F_GETLK
 * named another department's process holding the file, and a department
 * that may only read held a lock that stopped another's writer. Here a
 * lock conflicts with, and is seen by, its own department's callers only
 * (docs/filesystem.md "Locks").
 */
#ifndef POOL_FS_LOCKS_H
#define POOL_FS_LOCKS_H

#include "fs/fs.h"

/* Makes fs->locks and starts the thread that answers interrupted waits. */
int fs_locks_start(struct fs *fs);
/* Stops it, answers every waiting request EINTR, frees the spaces. NULL-safe. */
void fs_locks_stop(struct fs *fs);

void fs_ll_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		 struct flock *lock);
void fs_ll_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		 struct flock *lock, int sleep);
void fs_ll_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op);

/* A close (FUSE flush): owner's POSIX locks on fh's file go. */
void fs_locks_flush(struct fs *fs, const struct fs_file *fh, uint64_t owner);
/* The last close of fh's open file description: every lock taken through it goes. */
void fs_locks_release(struct fs *fs, const struct fs_file *fh);

#endif
