/*
 * fs/ops_dir.h - what the directory operations (fs/ops_dir.c) share
 * with create in fs/ops_file.c.
 */
#ifndef POOL_FS_OPS_DIR_H
#define POOL_FS_OPS_DIR_H

#include "fs/fs.h"

/*
 * Creates name under parent as type (target for a symlink) for req's
 * caller after the checks and decision for op; fills e with one kernel
 * reference taken, path with the new pool path and d with the decision.
 */
int fs_make_node(fuse_req_t req, fuse_ino_t parent, const char *name, uint32_t type,
		 mode_t mode, const char *target, const char *op,
		 struct fuse_entry_param *e, struct strbuf *path,
		 struct policy_decision *d);

#endif
