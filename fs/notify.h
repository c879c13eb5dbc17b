/*
 * fs/notify.h - kernel cache invalidation (fs/notify.c), sent from a
 * thread of its own because a handler must not wait for the kernel.
 */
#ifndef POOL_FS_NOTIFY_H
#define POOL_FS_NOTIFY_H

#include "fs/fs.h"

int fs_notify_start(struct fs *fs);
/* Sends what is queued and stops the thread. */
void fs_notify_stop(struct fs *fs);
/* Queues dropping the kernel's cached attributes and pages of kernel inode kino. */
int fs_notify_inode(struct fs *fs, uint64_t kino);
/* Queues dropping the kernel's cached entry parent/name. */
int fs_notify_entry(struct fs *fs, uint64_t parent, const char *name);
/* Waits until what was queued before the call has been sent; never from a handler. */
void fs_notify_wait(struct fs *fs);

#endif
