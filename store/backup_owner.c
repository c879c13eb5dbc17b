/*
 * store/backup_owner.c - a DEST holds the backups of one pool.
 *
 * BackupEngine and the pack pieces (store/backup_pack.c) share files
 * between the backups of a DEST by name: pack pieces by pack number,
 * offset, length and CRC-32C, a run of them reused when its first and
 * last 4 KiB match. Two pools in one DEST have packs of the same numbers,
 * so one pool's backup could list the other's piece under a name they
 * share, and its restore would fail with EIO. Rather than names that can
 * never collide (a hash of every piece, a read of every pack per backup),
 * a DEST belongs to the first pool that backs up into it:
 *
 *   DEST/poolfs/pool   "poolfs-backup-pool v1 pubkey=<hex> source=<path>"
 *
 * the pool's audit public key (keys/sign.key, random per pool, kept by a
 * restore: a restored pool is the same pool going on) and the store it
 * was first seen at. create compares it, under DEST's lock and before
 * BackupEngine or poolfs writes anything, and refuses another pool in
 * one line naming DEST and both. A DEST made before the file existed is
 * claimed when the seals of its backups all carry this pool's key (a
 * backup from before seals cannot say, and is taken as this pool's).
 */
#include "store/audit.h"
#include "store/backup_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "store/internal.h"

#define OWNER_FILE	"pool"
#define OWNER_TAG	"poolfs-backup-pool v1 "

/* The value of " name=" in line (up to a blank or the end) into out; false: absent. */
static bool field(const char *line, const char *name, struct strbuf *out)
{
	size_t n = strlen(name);
	const char *p = line, *end;

	while ((p = strstr(p, name)) && !((p == line || p[-1] == ' ') && p[n] == '='))
		p += n;
	if (!p)
		return false;
	p += n + 1;
	end = p + strcspn(p, strcmp(name, "source") ? " \n" : "\n");
	strbuf_reset(out);
	strbuf_add(out, p, (size_t)(end - p));
	return true;
}

/* The public key the seal of dest/poolfs/<name> carries into key; false: none. */
static bool seal_key(const char *meta, const char *name, struct strbuf *key)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	bool ok;

	strbuf_addf(&path, "%s/%s/" BACKUP_SEAL_FILE, meta, name);
	ok = !backup_read_small(path.buf, &text) && field(text.buf, "pubkey", key);
	strbuf_release(&text);
	strbuf_release(&path);
	return ok;
}

static int write_owner(const char *path, const char *key, const char *source,
		       struct perr *e)
{
	struct strbuf tmp = STRBUF_INIT, line = STRBUF_INIT;
	int fd, ret = 0;

	strbuf_addf(&tmp, "%s.tmp", path);
	strbuf_addf(&line, OWNER_TAG "pubkey=%s source=%s\n", key, source);
	unlink(tmp.buf);
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		ret = -errno;
	} else {
		errno = EIO;	/* a short write sets none */
		if (write(fd, line.buf, line.len) != (ssize_t)line.len || fsync(fd))
			ret = -errno;
		if (close(fd) && !ret)
			ret = -errno;
	}
	if (!ret && rename(tmp.buf, path))
		ret = -errno;
	if (ret) {
		unlink(tmp.buf);
		ret = perr_set(e, -ret, "%s: cannot record the pool: %s", path, strerror(-ret));
	}
	strbuf_release(&line);
	strbuf_release(&tmp);
	return ret;
}

static int refuse(struct perr *e, const char *dest, const char *other, const char *from,
		  const char *key, const char *dir)
{
	return perr_set(e, EEXIST, "%s: holds the backups of another pool (audit key %.16s..., "
			"first backed up from %s), not of %s (audit key %.16s...): give each pool "
			"a DEST of its own", dest, other, from, dir, key);
}

int backup_dest_claim(const char *dest, struct store *s, struct perr *e)
{
	struct strbuf meta = STRBUF_INIT, path = STRBUF_INIT, text = STRBUF_INIT,
		      other = STRBUF_INIT, from = STRBUF_INIT;
	char key[AUDIT_PUBKEY_HEX];
	const char *algo = NULL, *self;
	char *abs = realpath(store_dir(s), NULL);
	struct dirent *de;
	DIR *dir = NULL;
	int ret;

	self = abs ? abs : store_dir(s);

	ret = audit_public_key(s, key, &algo);
	if (ret) {
		ret = perr_set(e, -ret, "%s/keys/sign.key: cannot derive the pool's audit key: %s",
			       store_dir(s), strerror(-ret));
		goto out;
	}
	strbuf_addf(&meta, "%s/" BACKUP_META_DIR, dest);
	strbuf_addf(&path, "%s/" OWNER_FILE, meta.buf);
	ret = backup_read_small(path.buf, &text);
	if (!ret) {
		if (strncmp(text.buf, OWNER_TAG, strlen(OWNER_TAG)) ||
		    !field(text.buf, "pubkey", &other) || !field(text.buf, "source", &from)) {
			ret = perr_set(e, EBADMSG, "%s: not a pool line: refusing to back up into %s",
				       path.buf, dest);
			goto out;
		}
		if (strcmp(other.buf, key))
			ret = refuse(e, dest, other.buf, from.buf, key, self);
		goto out;
	}
	if (ret != -ENOENT) {
		ret = perr_set(e, -ret, "%s: %s", path.buf, strerror(-ret));
		goto out;
	}
	/* a DEST from before the file: its backups' seals say whose they are */
	dir = opendir(meta.buf);
	if (!dir) {
		ret = perr_set(e, errno, "%s: %s", meta.buf, strerror(errno));
		goto out;
	}
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' || !seal_key(meta.buf, de->d_name, &other) ||
		    !strcmp(other.buf, key))
			continue;
		strbuf_reset(&from);
		strbuf_addf(&from, "the pool of backup %s", de->d_name);
		ret = refuse(e, dest, other.buf, from.buf, key, self);
		goto out;
	}
	ret = write_owner(path.buf, key, self, e);
	if (!ret && store_fsync_path(meta.buf))
		ret = perr_set(e, errno, "%s: %s", meta.buf, strerror(errno));
out:
	free(abs);
	if (dir)
		closedir(dir);
	strbuf_release(&meta);
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&other);
	strbuf_release(&from);
	return ret;
}
