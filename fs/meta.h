/*
 * fs/meta.h - pool metadata (fs/meta.c): the /.poolfs files made per
 * caller and the user.catalog.* attributes.
 */
#ifndef POOL_FS_META_H
#define POOL_FS_META_H

#include "fs/fs.h"
#include "fs/dirbuf.h"

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

#endif
