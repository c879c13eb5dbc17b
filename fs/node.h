/*
 * fs/node.h - what a kernel inode shows (fs/node.c): its pool path,
 * attributes, version and type, virtual inodes included.
 */
#ifndef POOL_FS_NODE_H
#define POOL_FS_NODE_H

#include "fs/fs.h"

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

#endif
