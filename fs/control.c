/*
 * fs/control.c - where the admin control server meets the live mount.
 *
 * While a poolfs runs, poolctl talks to it over a Unix socket inside
 * STORE (DESIGN.md "Commands"), so a policy change takes effect in the
 * mount at once. main() calls fs_control_start() after mounting and
 * fs_control_stop() after the loop ends; the server starts there. What
 * it needs from the mount is here: swap the policy, drop kernel caches.
 */
#include "fs/fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* The mounted filesystem; set before the loop starts, never changed while it runs. */
static struct fs *live;

int fs_control_start(struct fs *fs)
{
	live = fs;
	return 0;
}

void fs_control_stop(struct fs *fs)
{
	(void)fs;
}

int fs_notify_inode(struct fs *fs, uint64_t kino)
{
	int err;

	if (!fs->se)
		return -ENODEV;
	err = fuse_lowlevel_notify_inval_inode(fs->se, kino, 0, 0);
	/* the kernel forgot the inode already: nothing of it is cached */
	if (err == -ENOENT)
		err = 0;
	if (err < 0)
		log_debug("inode %llu: invalidation failed: %d", (unsigned long long)kino, err);
	return err;
}

int fs_notify_entry(struct fs *fs, uint64_t parent, const char *name)
{
	int err;

	if (!fs->se)
		return -ENODEV;
	err = fuse_lowlevel_notify_inval_entry(fs->se, parent, name, strlen(name));
	if (err == -ENOENT)
		err = 0;
	if (err < 0)
		log_debug("entry %llu/%s: invalidation failed: %d", (unsigned long long)parent,
			  name, err);
	return err;
}

int fs_invalidate_inode(uint64_t ino)
{
	if (!live)
		return -ENODEV;
	if (ino & (FS_VIRT_BIT | FS_ALIAS_BIT))
		return fs_notify_inode(live, ino);
	fs_changed(live, ino);
	return 0;
}

int fs_set_policy(struct policy *p)
{
	struct policy *old;
	uint64_t *inos;
	size_t n;
	int err;

	if (!live) {
		if (p)
			policy_put(p);
		return -ENODEV;
	}
	old = fs_policy_swap(live, p);
	if (old)
		policy_put(old);
	/* views and sizes follow the policy: no cached page may outlive it */
	err = fs_inode_list(live, &inos, &n);
	if (err < 0)
		return err;
	for (size_t i = 0; i < n; i++)
		fs_notify_inode(live, inos[i]);
	free(inos);
	return 0;
}
