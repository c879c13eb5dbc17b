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
#include "policy/window.h"
#include "tools/ctl.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

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

/* Drops every kernel inode's pages and attributes; returns when done. */
static void drop_all(struct fs *fs)
{
	uint64_t *inos;
	size_t n;

	fs_inode_list(fs, &inos, &n);
	for (size_t i = 0; i < n; i++)
		fs_notify_inode(fs, inos[i]);
	free(inos);
	fs_notify_wait(fs);
}

/*
 * A grant's window that opens or closes changes views as an apply does,
 * but nobody applies anything: without a drop then, handles opened
 * before a grant ended (and maps) would read on what the kernel cached
 * under it. One thread sleeps until the next such instant of the live
 * policy and drops every page then; an apply wakes it to look again.
 */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* CLOCK_MONOTONIC: an apply, or stop */
	pthread_t th;
	bool started, stop, changed;	/* mu */
} lapse = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void *lapse_main(void *arg)
{
	struct fs *fs = arg;
	struct policy *p;
	struct timespec at, wall;
	int64_t next, left;

	pthread_mutex_lock(&lapse.mu);
	while (!lapse.stop) {
		lapse.changed = false;
		p = fs_policy_get(fs);
		next = policy_next_window_change(p, (int64_t)time(NULL));
		if (p)
			policy_put(p);
		/*
		 * Wall clock instants, slept in monotonic steps of at most a
		 * minute, to the nanosecond: from the instant on, a read the
		 * daemon refuses would still be served from pages the kernel
		 * keeps, so a wake rounded to whole seconds (up to one late)
		 * left a lapsed grant's maps readable for that long.
		 */
		while (!lapse.stop && !lapse.changed) {
			clock_gettime(CLOCK_REALTIME, &wall);
			if (wall.tv_sec >= next)
				break;
			left = next - wall.tv_sec > 60 ? (int64_t)60 * 1000000000 :
			       (next - wall.tv_sec) * 1000000000 - wall.tv_nsec;
			clock_gettime(CLOCK_MONOTONIC, &at);
			left += at.tv_nsec;
			at.tv_sec += (time_t)(left / 1000000000);
			at.tv_nsec = (long)(left % 1000000000);
			pthread_cond_timedwait(&lapse.cv, &lapse.mu, &at);
		}
		if (lapse.stop || lapse.changed)
			continue;
		pthread_mutex_unlock(&lapse.mu);
		log_info("a grant's validity window opened or closed: dropping cached pages");
		drop_all(fs);
		pthread_mutex_lock(&lapse.mu);
	}
	pthread_mutex_unlock(&lapse.mu);
	return NULL;
}

static int lapse_start(struct fs *fs)
{
	pthread_condattr_t ca;
	int err;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&lapse.cv, &ca);
	pthread_condattr_destroy(&ca);
	lapse.stop = false;
	err = pthread_create(&lapse.th, NULL, lapse_main, fs);
	if (err) {
		log_err("cannot start the grant window thread: %s", strerror(err));
		pthread_cond_destroy(&lapse.cv);
		return -err;
	}
	lapse.started = true;
	return 0;
}

static void lapse_stop(void)
{
	if (!lapse.started)
		return;
	pthread_mutex_lock(&lapse.mu);
	lapse.stop = true;
	pthread_cond_signal(&lapse.cv);
	pthread_mutex_unlock(&lapse.mu);
	pthread_join(lapse.th, NULL);
	pthread_cond_destroy(&lapse.cv);
	lapse.started = false;
}

/*
 * Makes p the live policy (taking the caller's reference) and drops
 * every cached page, since views may have changed.
 */
static int hook_set_policy(void *data, struct policy *p)
{
	struct fs *fs = data;
	struct policy *old;

	old = fs_policy_swap(fs, p);
	if (old)
		policy_put(old);
	/* views and sizes follow the policy: no cached page may outlive it */
	drop_all(fs);
	/* its windows are others */
	pthread_mutex_lock(&lapse.mu);
	lapse.changed = true;
	if (lapse.started)
		pthread_cond_signal(&lapse.cv);
	pthread_mutex_unlock(&lapse.mu);
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
	if (err < 0) {
		log_err("%s", perr_msg(&e, err));
		return err;
	}
	err = lapse_start(fs);
	if (err < 0) {
		ctl_server_stop(fs->ctl);
		fs->ctl = NULL;
	}
	return err;
}

void fs_control_stop(struct fs *fs)
{
	ctl_server_stop(fs->ctl);
	fs->ctl = NULL;
	lapse_stop();
}
