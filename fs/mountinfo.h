/*
 * fs/mountinfo.h - what the daemon reads and sets of mounts outside
 * FUSE: finding a mount in /proc/self/mountinfo, and the read-ahead of
 * its own mount's backing device (fs/mountinfo.c).
 */
#ifndef POOL_FS_MOUNTINFO_H
#define POOL_FS_MOUNTINFO_H

#include <stdbool.h>

#define FS_READ_AHEAD_KB	4096	/* -o read_ahead_kb default */

/*
 * The topmost mount at path (absolute, no symlinks): 0 and its device
 * in *major, *minor (either may be NULL) and whether it is a FUSE mount
 * in *fuse (may be NULL); -ENOENT when nothing is mounted there.
 */
int fs_mount_find(const char *path, unsigned *major, unsigned *minor, bool *fuse);

/*
 * Remembers the mountpoint and the read-ahead (KiB, 0: the kernel's)
 * for fs_readahead_apply(); called before the loop starts.
 */
void fs_readahead_init(const char *mountpoint, unsigned kb);

/*
 * Raises the mount's read-ahead to what fs_readahead_init() was given,
 * once; every later call returns at once. Must run after the kernel's
 * INIT was answered (its reply lowers the read-ahead to the daemon's
 * max_readahead, which cannot be raised there): any request handler.
 */
void fs_readahead_apply(void);

#endif
