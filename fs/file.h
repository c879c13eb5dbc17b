/*
 * fs/file.h - open-file handles (fs/file.c): making and freeing one,
 * what fstat() through one shows, and the end of those still open at
 * unmount.
 */
#ifndef POOL_FS_FILE_H
#define POOL_FS_FILE_H

#include "fs/fs.h"

/*
 * A new handle for an open of n under path by req's caller with decision
 * d; takes over the caller's pin on n, even on error (-ENOMEM).
 */
int fs_file_new(fuse_req_t req, struct fs_inode *n, const char *path,
		const struct policy_decision *d, struct fs_file **out);
/* Frees fh and what it holds (content, view, metadata text), unpins its node. */
void fs_file_free(struct fs *fs, struct fs_file *fh);

/* A reader keeps the version it opened: fstat() through its handle shows it. */
void fs_file_stat(struct fs *fs, const struct fs_file *fh, struct stat *st);

/*
 * At unmount: records the end of each session still open on n (the
 * kernel sends no release for them), with the bytes so far. Takes
 * n->lock; the handles stay, as nothing comes after the unmount.
 */
void fs_file_each_at_exit(struct fs *fs, struct fs_inode *n);

#endif
