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
#include "fs/access.h"
#include "fs/control.h"
#include "fs/inode.h"
#include "fs/notify.h"
#include "fs/stage.h"

#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "fs/service.h"
#include "tools/ctl.h"

/*
 * op gives store inode ino a new current version (restore): the mount
 * shows it before the command returns.
 */
static int hook_change(void *data, uint64_t ino, int (*op)(void *arg), void *arg)
{
	struct fs *fs = data;
	int err;

	if (ino & (FS_VIRT_BIT | FS_ALIAS_BIT)) {
		err = op(arg);
		if (err == 0)
			fs_notify_inode(fs, ino);
	} else {
		err = fs_changed_by(fs, ino, op, arg);
	}
	/* the restore returns once the mount shows it */
	if (err == 0)
		fs_notify_wait(fs);
	return err;
}

/*
 * Makes p the live policy (taking the caller's reference) and drops
 * every cached page, since views may have changed.
 */
static int hook_set_policy(void *data, struct policy *p)
{
	struct fs *fs = data;
	struct policy *old;
	uint64_t *inos;
	size_t n;


	old = fs_policy_swap(fs, p);
	if (old)
		policy_put(old);
	/* views and sizes follow the policy: no cached page may outlive it */
	fs_inode_list(fs, &inos, &n);
	for
 (size_t i = 0; i < n; i++)
		fs_notify_inode(fs, inos[i]);
	free(inos);
	fs_notify_wait(fs);
	return 0;
}

static int hook_mount_info(void *data, struct ctl_mount_info *out)
{
	return fs_service_info(out);
}

int fs_control_start(struct fs *fs)
{
	const struct ctl_hooks hooks = {
		.data = fs,
		.change_inode = hook_change,
		.set_policy = hook_set_policy,
		.authorize = NULL,	/* the built-in gate: root and role holders */
		.mount_info = hook_mount_info,
	};
	struct perr e = PERR_INIT;
	int err;

	err = ctl_server_start(fs->store, &hooks, &fs->ctl, &e);
	if (err < 0)
		log_err("%s", perr_msg(&e, err));
	return err;
}

void fs_control_stop(struct fs *fs)
{
	ctl_server_stop(fs->ctl);
	fs->ctl = NULL;
}
