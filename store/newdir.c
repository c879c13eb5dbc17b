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
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strbuf.h"

static int check_one(const char *dir, const char *what, struct perr *e)
{
	struct stat st;
	int fd, ret = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return perr_set(e, errno, "%s: %s", dir, errno == ELOOP ?
				"a symbolic link, not a directory" : strerror(errno));
	if (fstat(fd, &st))
		ret = perr_set(e, errno, "%s: %s", dir, strerror(errno));
	else if (st.st_uid != geteuid())
		ret = perr_set(e, EACCES, "%s: %s is owned by uid %u, who could swap the files written there for their own",
			       what, dir, (unsigned)st.st_uid);
	else if (st.st_mode & 022)
		ret = perr_set(e, EACCES, "%s: %s may be written by others (mode %04o), who could swap the files written there for their own",
			       what, dir, (unsigned)(st.st_mode & 07777));
	close(fd);
	return ret;
}

/* Whether only this user or root may rename what is in dir (st). */
static int check_way(const char *dir, const struct stat *st, const char *what,
		     struct perr *e)
{
	if (st->st_uid != geteuid() && st->st_uid != 0)
		return perr_set(e, EACCES, "%s: %s on the way to it is owned by uid %u, who could move what is in it and put a directory of theirs in its place",
				what, dir, (unsigned)st->st_uid);
	if ((st->st_mode & 022) && !(st->st_mode & S_ISVTX))
		return perr_set(e, EACCES, "%s: %s on the way to it may be written by others (mode %04o), who could move what is in it and put a directory of theirs in its place",
				what, dir, (unsigned)(st->st_mode & 07777));
	return 0;
}

/*
 * Every directory in which a name of path is looked up, links followed
 * as the kernel follows them, from / (or the working directory's path):
 * the pool is written by path after this check, so a name on the way
 * that another user may rename, in any ancestor and not only the parent,
 * could then lead to a directory of theirs.
 */
static int check_way_to(const char *path, const char *what, struct perr *e)
{
	struct strbuf cur = STRBUF_INIT, rest = STRBUF_INIT, tmp = STRBUF_INIT;
	char target[PATH_MAX];
	int links = 0, ret = 0;
	size_t pos = 0;

	if (path[0] != '/') {
		char *cwd = getcwd(NULL, 0);

		if (!cwd)
			return perr_set(e, errno, "%s: the working directory: %s", path,
					strerror(errno));
		strbuf_addf(&rest, "%s/", cwd);
		free(cwd);
	}
	strbuf_addstr(&rest, path);
	strbuf_addch(&cur, '/');
	for (;;) {
		struct stat st;
		size_t n, end;
		ssize_t len;

		pos += strspn(rest.buf + pos, "/");
		if (!rest.buf[pos])
			break;
		n = strcspn(rest.buf + pos, "/");
		end = pos + n;
		/* the name is looked up in cur: who may rename it there */
		if (stat(cur.buf, &st)) {
			ret = perr_set(e, errno, "%s: %s: %s", what, cur.buf, strerror(errno));
			break;
		}
		ret = check_way(cur.buf, &st, what, e);
		if (ret)
			break;
		if (n == 1 && rest.buf[pos] == '.') {
			pos = end;
			continue;
		}
		if (n == 2 && !strncmp(rest.buf + pos, "..", 2)) {
			/* cur holds no link: its parent is the one walked through */
			char *slash = strrchr(cur.buf, '/');

			strbuf_setlen(&cur, slash == cur.buf ? 1 : (size_t)(slash - cur.buf));
			pos = end;
			continue;
		}
		strbuf_reset(&tmp);
		strbuf_addf(&tmp, "%s%s%.*s", cur.buf, cur.len > 1 ? "/" : "", (int)n,
			    rest.buf + pos);
		/* dir itself (the last name) is opened without following: check_one */
		if (!rest.buf[end + strspn(rest.buf + end, "/")])
			break;
		if (lstat(tmp.buf, &st)) {
			ret = perr_set(e, errno, "%s: %s: %s", what, tmp.buf, strerror(errno));
			break;
		}
		if (!S_ISLNK(st.st_mode)) {
			strbuf_reset(&cur);
			strbuf_add(&cur, tmp.buf, tmp.len);
			pos = end;
			continue;
		}
		len = readlink(tmp.buf, target, sizeof(target) - 1);
		if (len < 0 || ++links > 40) {
			ret = perr_set(e, len < 0 ? errno : ELOOP, "%s: %s: %s", what, tmp.buf,
				       strerror(len < 0 ? errno : ELOOP));
			break;
		}
		/* the link's target in place of its name, walked on from cur or / */
		strbuf_reset(&tmp);
		strbuf_add(&tmp, target, (size_t)len);
		strbuf_addf(&tmp, "/%s", rest.buf + end);
		strbuf_reset(&rest);
		strbuf_add(&rest, tmp.buf, tmp.len);
		pos = 0;
		if (target[0] == '/')
			strbuf_setlen(&cur, 1);
	}
	strbuf_release(&cur);
	strbuf_release(&rest);
	strbuf_release(&tmp);
	return ret;
}

int store_newdir_check(const char *dir, const char *what, struct perr *e)
{
	int ret;

	ret = check_one(dir, what, e);
	if (!ret)
		ret = check_way_to(dir, what, e);
	return ret;
}
