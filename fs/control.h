/*
 * fs/control.h - the daemon's side of the control socket (fs/control.c).
 * The server (tools/ctl_server.c, in libpool.a) runs in the daemon and
 * reaches the mount only through the hooks fs_control_start() gives it.
 */
#ifndef POOL_FS_CONTROL_H
#define POOL_FS_CONTROL_H

#include "fs/fs.h"

/*
 * Starts the control server on STORE/control.sock with hooks that reach
 * fs (restore invalidates the kernel caches, policy apply swaps the
 * live policy); after mounting. 0 or a negative errno, logged.
 */
int fs_control_start(struct fs *fs);
/* Stops the server; after the loop ends. */
void fs_control_stop(struct fs *fs);

#endif
