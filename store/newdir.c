/*
 * store/newdir.c - a directory that gets a new pool or backups must be
 * its writer's alone. An empty directory is taken as the place for a
 * pool (init, restore), and an owner or writer other than the one making
 * the pool could rename db/ or keys/ away and put their own in their
 * place (a pool root then mounts, serving their data under their keys),
 * or move the whole directory into one they read; in a backup directory
 * they could swap a directory checked private for one of theirs while
 * BackupEngine writes its 0644 tables. 0711 and 0755 stay allowed: what
 * is below (db/, keys/, BackupEngine's directories) is 0700.
 */
#include "store/newdir.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"

static int check_one(const char *dir, const char *what, bool parent, struct perr *e)
{
	struct stat st;
	int fd, ret = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return perr_set(e, errno, "%s: %s", dir, errno == ELOOP ?
				"a symbolic link, not a directory" : strerror(errno));
	if (fstat(fd, &st))
		ret = perr_set(e, errno, "%s: %s", dir, strerror(errno));
	else if (st.st_uid != geteuid() && (!parent || st.st_uid != 0))
		ret = perr_set(e, EACCES, "%s: %s is owned by uid %u, who could swap the files written there for their own",
			       what, dir, (unsigned)st.st_uid);
	else if ((st.st_mode & 022) && (!parent || !(st.st_mode & S_ISVTX)))
		ret = perr_set(e, EACCES, "%s: %s may be written by others (mode %04o), who could swap the files written there for their own",
			       what, dir, (unsigned)(st.st_mode & 07777));
	close(fd);
	return ret;
}

int store_newdir_check(const char *dir, const char *what, struct perr *e)
{
	char *copy = xstrdup(dir), *up;
	int ret;

	ret = check_one(dir, what, false, e);
	up = dirname(copy);
	if (!ret)
		ret = check_one(up, "the directory holding it", true, e);
	free(copy);
	return ret;
}
