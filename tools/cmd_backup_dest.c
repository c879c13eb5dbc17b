/*
 * tools/cmd_backup_dest.c - whether the daemon, writing as root, may take
 * a backup into a DEST named by a caller who is not root.
 *
 * Owner and mode say who may change a directory only on a file system
 * whose metadata the kernel keeps: a FUSE file system answers them from a
 * process of whoever mounted it (fusermount lets any user mount one on a
 * directory they may write, and with user_allow_other root's writes go
 * there), and a medium a user brought (udisks, an fstab "user" mount)
 * says what its holder wrote on it. Such mounts are refused without
 * asking them anything: the file system type comes from the kernel's
 * mount table, and each step is opened with O_NOFOLLOW from the one
 * before, so what is checked is what the path names.
 *
 * The path is resolved the same way, not with realpath(): realpath()
 * lstat()s every component, so a caller naming a path inside a FUSE file
 * system of its own would hold the control server (one thread for every
 * admin) for as long as that file system chose not to answer. Here each
 * mount reached is judged from the kernel's table before anything in it
 * is looked up.
 */
#include "tools/cmd.h"
#include "common/alloc.h"
#include "tools/cmd_backup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Why mount mnt_id may not hold root's backup (a static string), or NULL
 * when it may (fuse_only: only a FUSE file system is refused, for a mount
 * a path merely passes through); *err a negative errno when the mount
 * table cannot say.
 */
static const char *mount_refused(uint64_t mnt_id, bool fuse_only, int *err)
{
	const char *why = NULL;
	char *line = NULL, *opts, *fstype, *sep;
	size_t cap = 0;
	bool found = false;
	FILE *f;

	*err = 0;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f) {
		*err = -errno;
		return NULL;
	}
	while (!found && getline(&line, &cap, f) > 0) {
		uint64_t id;
		char o[512];

		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER */
		if (sscanf(line, "%" SCNu64 " %*s %*s %*s %*s %511s", &id, o) != 2 ||
		    id != mnt_id)
			continue;
		found = true;
		sep = strstr(line, " - ");
		if (!sep) {
			*err = -EIO;
			break;
		}
		fstype = sep + 3;
		fstype[strcspn(fstype, " ")] = '\0';
		opts = o;
		if (!strcmp(fstype, "fuse") || !strcmp(fstype, "fuseblk") ||
		    !strncmp(fstype, "fuse.", 5))
			why = "is on a FUSE file system, whose owners and modes its mounter's process makes up";
		/*
		 * nosuid and nodev together are what fusermount, udisks and
		 * fstab's "user" put on a medium a user brought; tmpfs holds
		 * only what this kernel wrote into it
		 */
		else if (!fuse_only && strcmp(fstype, "tmpfs") && strstr(opts, "nosuid") &&
			 strstr(opts, "nodev"))
			why = "is on a file system mounted nosuid,nodev (as a medium a user brings is), whose owners its holder may have written";
	}
	if (!found && !*err)
		*err = -ENOENT;
	free(line);
	fclose(f);
	return why;
}

/*
 * fd's mount id and attributes as the kernel has them cached: a FUSE
 * file system is not asked (it could answer anything, or never).
 */
static int quiet_stat(int fd, struct statx *sx)
{
	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID | STATX_TYPE, sx))
		return -errno;
	if (!(sx->stx_mask & STATX_MNT_ID) || !(sx->stx_mask & STATX_TYPE))
		return -ENOSYS;
	return 0;
}

#define DEST_MAX_LINKS	40	/* as the kernel's own walk (ELOOP) */

/*
 * Resolves the absolute path dest as realpath() would (links followed,
 * "." and ".." taken), opening each step with O_PATH|O_NOFOLLOW from the
 * one before and refusing a FUSE mount as soon as it is reached, before
 * anything in it is asked: its process could answer never. A link's
 * target is read only from a file system that is not FUSE. Returns 0 and
 * *real (the caller frees it), or a cmd_error exit code.
 */
static int dest_resolve(struct ctl_ctx *ctx, const char *dest, char **real)
{
	struct strbuf todo = STRBUF_INIT, res = STRBUF_INIT, next = STRBUF_INIT, swap;
	uint64_t mnt = 0;
	int fd, nfd = -1, links = 0, err = 0, rc = 0;
	const char *why = NULL;
	char link[PATH_MAX];
	size_t pos = 0;

	*real = NULL;
	strbuf_addstr(&todo, dest);
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		err = errno;
	while (!err && pos < todo.len) {
		struct statx sx;
		char *name = todo.buf + pos;
		size_t n = strcspn(name, "/");
		ssize_t len;

		name[n] = '\0';
		pos += n + 1 > todo.len - pos ? todo.len - pos : n + 1;
		if (!*name || !strcmp(name, "."))
			continue;
		/* ".." the kernel takes from its own tables, asking no file system */
		nfd = openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 || (err = -quiet_stat(nfd, &sx))) {
			err = err ? err : errno;
			break;
		}
		if (sx.stx_mnt_id != mnt) {
			why = mount_refused(sx.stx_mnt_id, true, &err);
			if (why)
				strbuf_addf(&res, "/%s", name);
			if ((err = -err) || why)
				break;
			mnt = sx.stx_mnt_id;
		}
		if (S_ISLNK(sx.stx_mode)) {
			/* the link's own file system is not FUSE: reading it is safe */
			len = readlinkat(nfd, "", link, sizeof(link));
			if (len <= 0 || (size_t)len == sizeof(link) || ++links > DEST_MAX_LINKS) {
				err = len < 0 ? errno : len == 0 ? ENOENT :
				      (size_t)len == sizeof(link) ? ENAMETOOLONG : ELOOP;
				break;
			}
			link[len] = '\0';
			strbuf_reset(&next);
			strbuf_addf(&next, "%s/%s", link, pos < todo.len ? todo.buf + pos : "");
			swap = todo, todo = next, next = swap;
			pos = 0;
			close(nfd);
			nfd = -1;
			if (link[0] == '/') {
				close(fd);
				fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
				if (fd < 0)
					err = errno;
				strbuf_reset(&res);
				mnt = 0;
			}
			continue;
		}
		if (!S_ISDIR(sx.stx_mode)) {
			err = ENOTDIR;
			break;
		}
		if (!strcmp(name, "..")) {
			char *slash = strrchr(res.buf, '/');

			strbuf_setlen(&res, slash ? (size_t)(slash - res.buf) : 0);
		} else {
			strbuf_addf(&res, "/%s", name);
		}
		close(fd);
		fd = nfd;
		nfd = -1;
	}
	if (err || why) {
		rc = why ? cmd_error(ctx, CTL_EXIT_NO, "backup create: \"%s\": %s %s", dest,
				     res.buf, why) :
			   cmd_error(ctx, CTL_EXIT_USAGE, "backup create: \"%s\": %s", dest,
				     strerror(err));
		goto out;
	}
	*real = res.len ? strbuf_detach(&res, NULL) : xstrdup("/");
out:
	if (nfd >= 0)
		close(nfd);
	if (fd >= 0)
		close(fd);
	strbuf_release(&todo);
	strbuf_release(&res);
	strbuf_release(&next);
	return rc;
}

int backup_remote_dest(struct ctl_ctx *ctx, const char *dest, char **real)
{
	struct strbuf seen = STRBUF_INIT;
	uint64_t mnt = 0;
	char *r = NULL, *p, *next;
	int fd = -1, nfd, rc = 0, err;
	bool last;

	*real = NULL;
	rc = dest_resolve(ctx, dest, &r);
	if (rc)
		return rc;
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	p = r + 1;
	for (;;) {
		struct statx sx;
		struct stat st;
		const char *why;
		const char *at = seen.len ? seen.buf : "/";

		if (fd < 0 || (err = quiet_stat(fd, &sx))) {
			err = fd < 0 ? errno : -err;
			rc = cmd_error(ctx, CTL_EXIT_USAGE, "backup create: \"%s\": %s: %s", dest, at,
				       strerror(err));
			goto out;
		}
		last = !*p;
		/* a mount crossed: its type from the kernel, before trusting its owners */
		if (sx.stx_mnt_id != mnt) {
			why = mount_refused(sx.stx_mnt_id, false, &err);
			if (err || why) {
				rc = err ? cmd_error(ctx, CTL_EXIT_USAGE, "backup create: \"%s\": %s: mount %" PRIu64 " not in the mount table: %s",
						     dest, at, (uint64_t)sx.stx_mnt_id, strerror(-err)) :
					   cmd_error(ctx, CTL_EXIT_NO, "backup create: \"%s\": %s %s", dest,
						     at, why);
				goto out;
			}
			mnt = sx.stx_mnt_id;
		}
		if (fstat(fd, &st)) {
			rc = cmd_error(ctx, CTL_EXIT_USAGE, "backup create: \"%s\": %s: %s", dest, at,
				       strerror(errno));
			goto out;
		}
		if (!S_ISDIR(st.st_mode) || st.st_uid != 0 ||
		    ((st.st_mode & 022) && (last || !(st.st_mode & S_ISVTX)))) {
			rc = cmd_error(ctx, CTL_EXIT_NO, last ?
				       "backup create: \"%s\": must be a directory owned by root and writable by no one else" :
				       "backup create: \"%s\": %s on the way to it may be changed by others than root",
				       dest, at);
			goto out;
		}
		if (last)
			break;
		next = strchr(p, '/');
		if (next)
			*next = '\0';
		strbuf_addf(&seen, "/%s", p);
		/* a link put here since the path was resolved is not followed: refused */
		nfd = openat(fd, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = nfd;
		if (next)
			*next = '/';
		p = next ? next + 1 : p + strlen(p);
	}
	*real = r;
	r = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(r);
	strbuf_release(&seen);
	return rc;
}
