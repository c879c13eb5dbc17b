/*
 * fs/control.h - the daemon's side of the control socket (fs/control.c):
 * the server in tools/ctl_server.c runs in the daemon and reaches it
 * through these.
 */
#ifndef POOL_FS_CONTROL_H
#define POOL_FS_CONTROL_H

#include "fs/fs.h"

int fs_control_start(struct fs *fs);
void fs_control_stop(struct fs *fs);
/*
 * For the control server: store inode ino has a new current version
 * (restore); the mount shows it at once (fs_changed).
 */
int fs_invalidate_inode(uint64_t ino);

/* Makes p the live policy (taking the caller's reference) and drops every
 * cached page, since views may have changed. */
int fs_set_policy(struct policy *p);

#endif
