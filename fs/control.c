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

#include "common/log.h"
#include "fs/service.h"
#include "tools/ctl.h"

/* The mounted filesystem; set before the loop starts, never changed while it runs. */
static struct fs *live;
static struct ctl_server *ctl;

static int hook_invalidate(void *data, uint64_t ino)
{
	return fs_invalidate_inode(ino);
}

static int hook_set_policy(void *data, struct policy *p)
{
	return fs_set_policy(p);
}

static int hook_mount_info(void *data, struct ctl_mount_info *out)
{
	return fs_service_info(out);
}

int fs_control_start(struct fs *fs)
{
	static const struct ctl_hooks hooks = {
		.invalidate_inode = hook_invalidate,
		.set_policy = hook_set_policy,
		.authorize = NULL,	/* the built-in gate: root and role holders */
		.mount_info = hook_mount_info,
	};
	struct perr e = PERR_INIT;
	int err;

	live = fs;
	err = ctl_server_start(fs->store, &hooks, &ctl, &e);
	if (err < 0)
		log_err("%s", perr_msg(&e, err));
	return err;
}

void fs_control_stop(struct fs *fs)
{
	ctl_server_stop(ctl);
	ctl = NULL;
}

int fs_invalidate_inode(uint64_t ino)
{
	if (!live)
		return -ENODEV;
	if (ino & (FS_VIRT_BIT | FS_ALIAS_BIT))
		fs_notify_inode(live, ino);
	else
		fs_changed(live, ino);
	/* the restore returns once the mount shows it */
	fs_notify_wait(live);
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
	fs_notify_wait(live);
	return 0;
}
