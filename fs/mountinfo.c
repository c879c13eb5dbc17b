/*
 * fs/mountinfo.c - finding a mount in /proc/self/mountinfo, and the
 * read-ahead of the daemon's own mount.
 *
 * Why the daemon sets its read-ahead: the kernel reads a FUSE file's
 * pages ahead in windows of the backing device's read_ahead_kb (128 KiB
 * by default) and sends one READ per window, so a 1 MiB read() becomes
 * eight 128 KiB requests, each a round trip through the daemon, with at
 * most a window or two in flight. INIT's max_readahead can only lower
 * that value; /sys/class/bdi/MAJOR:MINOR/read_ahead_kb raises it, and
 * the windows are then cut into requests of max_pages (1 MiB, from
 * max_write). With 4 MiB a sequential read is four 1 MiB requests in
 * flight: a third less daemon CPU per byte (bench/RESULTS.md "Sequential
 * read"). Random reads do not ramp the window up, so they read no more
 * than before. Only root may write there; without it the mount keeps
 * the kernel's value and says so at debug level.
 */
#include "fs/mountinfo.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"

static struct {
	char *mountpoint;
	unsigned kb;
	pthread_once_t once;
} ra = { NULL, 0, PTHREAD_ONCE_INIT };

/* Unescapes mountinfo's octal escapes ("\040" for a space) in place. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

int fs_mount_find(const char *path, unsigned *major, unsigned *minor, bool *fuse)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, *fstype, *mp;
	size_t cap = 0;
	unsigned ma = 0, mi = 0;
	int ret = -ENOENT;

	if (!f)
		return -errno;
	/* a later line is mounted over an earlier one: the last match is on top */
	while (getline(&line, &cap, f) > 0) {
		/* id parent major:minor root MOUNTPOINT options [tags] - FSTYPE ... */
		int pos = -1;

		fstype = strstr(line, " - ");
		if (!fstype || sscanf(line, "%*u %*u %u:%u %*s %n", &ma, &mi, &pos) != 2 ||
		    pos < 0)
			continue;
		fstype += 3;
		mp = line + pos;
		mp[strcspn(mp, " ")] = '\0';
		unescape_octal(mp);
		if (strcmp(mp, path))
			continue;
		ret = 0;
		if (major)
			*major = ma;
		if (minor)
			*minor = mi;
		if (fuse)
			*fuse = !strncmp(fstype, "fuse.", 5) || !strncmp(fstype, "fuse ", 5);
	}
	free(line);
	fclose(f);
	return ret;
}

void fs_readahead_init(const char *mountpoint, unsigned kb)
{
	free(ra.mountpoint);
	ra.mountpoint = mountpoint ? xstrdup(mountpoint) : NULL;
	ra.kb = kb;
}

static void readahead_set(void)
{
	char path[64], cur[32];
	unsigned major, minor;
	bool fuse = false;
	FILE *f;
	int err;

	if (!ra.mountpoint || !ra.kb)
		return;
	err = fs_mount_find(ra.mountpoint, &major, &minor, &fuse);
	/* never another filesystem's device: ours is a FUSE mount on an anonymous one */
	if (err == 0 && (!fuse || major != 0))
		err = -ENODEV;
	if (err < 0)
		goto out;
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", major, minor);
	f = fopen(path, "r+e");
	if (!f) {
		err = -errno;
		goto out;
	}
	/* an administrator's larger value stays */
	if (fgets(cur, sizeof(cur), f) && strtoul(cur, NULL, 10) < ra.kb) {
		rewind(f);
		if (fprintf(f, "%u\n", ra.kb) < 0)
			err = -EIO;
	}
	if (fclose(f) != 0 && err == 0)
		err = -errno;
out:
	if (err < 0)
		log_debug("%s: read-ahead stays the kernel's: %s", ra.mountpoint, strerror(-err));
	free(ra.mountpoint);
	ra.mountpoint = NULL;
}

void fs_readahead_apply(void)
{
	pthread_once(&ra.once, readahead_set);
}
