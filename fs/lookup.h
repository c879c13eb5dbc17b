/*
 * fs/lookup.h - the children of a kernel inode for one caller
 * (fs/lookup.c): name lookup and directory listing, virtual trees
 * (.versions, .snapshots, /.poolfs) included.
 */
#ifndef POOL_FS_LOOKUP_H
#define POOL_FS_LOOKUP_H

#include "fs/dirbuf.h"
#include "fs/fs.h"

/*
 * Looks name up in dir (path dpath) for req's caller and fills e with
 * one kernel reference taken. The decision is made and denials logged.
 */
int fs_lookup_child(fuse_req_t req, struct fs_inode *dir, const char *dpath,
		    const char *name, struct fuse_entry_param *e);
/* Fills d (node and path set) with its listing for req's caller. */
int fs_list_dir(fuse_req_t req, struct fs_dir *d);

#endif
