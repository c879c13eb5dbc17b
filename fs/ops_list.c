/*
 * fs/ops_list.c - directory listings: opendir, readdir, readdirplus,
 * releasedir and fsyncdir.
 *
 * A listing is taken whole at opendir and served from the handle, so the
 * offset of an entry is its index and a concurrent change never makes
 * readdir skip or repeat a name. The right to its names is not taken
 * with it: each readdir is decided again (dir_recheck).
 */
#include "common/alloc.h"
#include "fs/fs.h"
#include "fs/access.h"
#include "fs/dirbuf.h"
#include "fs/inode.h"
#include "fs/lookup.h"
#include "fs/node.h"
#include "fs/view_defer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static mode_t type_mode(uint32_t type)
{
	return type == STORE_DIR ? S_IFDIR : type == STORE_LNK ? S_IFLNK : S_IFREG;
}

static bool is_dot(const char *name)
{
	return !strcmp(name, ".") || !strcmp(name, "..");
}

void fs_ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct policy_decision d;
	struct fs_dir *dir;
	enum policy_action action = POLICY_LIST;
	int err;

	dir = xcalloc(1, sizeof(*dir));
	strbuf_init(&dir->path, 0);
	err = fs_node_pin(fs, ino, &dir->node);
	if (err == 0)
		err = fs_node_path(fs, dir->node, &dir->path);
	if (err < 0)
		goto err_out;
	if (fs_node_type(fs, dir->node) != STORE_DIR) {
		err = -ENOTDIR;
		goto err_out;
	}
	/* .versions/F lists F's versions: a question about F, not a directory */
	if (dir->node->key.kind == FS_VERSION_LIST)
		action = POLICY_LOOKUP;
	if (ino == FUSE_ROOT_ID && !fs_may(req, "/", action)) {
		/*
		 * Root and system_admin may open the mount root without a
		 * list right, and get no names: an NFS server (Ganesha's
		 * FSAL_VFS) holds this descriptor to resolve file handles
		 * for its clients, who are then decided one by one.
		 */
		err = fs_decide_root(req, "list", &d);
		if (err < 0)
			goto err_out;
		dir->unlisted = true;
		if (fs_audit_meta(req, "opendir", "/", 0, &d) < 0) {
			err = -EIO;
			goto err_out;
		}
		goto opened;
	}
	dir->action = (int)action;
	dir->policy_gen = fs_policy_gen(fs);
	dir->decided = time(NULL);
	err = fs_decide(req, "list", dir->path.buf, action, &d);
	if (err < 0)
		goto err_out;
	err = fs_list_dir(req, dir);
	if (fs_audit(req, "list", dir->path.buf, err, &d, 0, 0) < 0 && err == 0)
		err = -EIO;
	if (err < 0)
		goto err_out;
opened:
	fi->fh = (uintptr_t)dir;
	if (fuse_reply_open(req, fi) == 0)
		return;
	err = 0;
err_out:
	fs_inode_put(fs, dir->node);
	fs_dir_free(dir);
	if (err < 0)
		fuse_reply_err(req, -err);
}

/* Adds entry i of dir to buf; returns its size, more than room if it did not fit. */
static size_t add_entry(fuse_req_t req, struct fs_dir *dir, size_t i, bool plus,
			char *buf, size_t room, uint64_t *ino, int *err)
{
	struct fs_dirent *ent = &dir->ents[i];
	struct fuse_entry_param e;
	size_t n;

	*err = 0;
	memset(&e, 0, sizeof(e));
	e.attr.st_ino = fs_ino_public(fs_of(req), ent->ino);
	e.attr.st_mode = type_mode(ent->type);
	if (!plus)
		return fuse_add_direntry(req, buf, room, ent->name, &e.attr, (off_t)i + 1);
	if (!is_dot(ent->name)) {
		*err = fs_lookup_child(req, dir->node, dir->path.buf, ent->name, &e);
		if (*err < 0)
			return 0;
	}
	n = fuse_add_direntry_plus(req, buf, room, ent->name, &e, (off_t)i + 1);
	if (n > room && e.ino)
		fs_inode_forget(fs_of(req), e.ino, 1);
	if (n <= room)
		*ino = e.ino;
	return n;
}

/*
 * A grant revoked or lapsed since opendir must stop the next readdir of
 * a handle held across it, as it stops the next read of an open file
 * (ops_file.c, recheck): the list right is asked again when the policy
 * changed and once a second, and after a policy change each name the
 * caller may no longer look up is left out (offsets stay indices).
 */
static int dir_recheck(fuse_req_t req, struct fs_dir *dir)
{
	struct fs *fs = fs_of(req);
	unsigned long gen = fs_policy_gen(fs);
	struct strbuf path = STRBUF_INIT, cpath = STRBUF_INIT, tmp;
	struct policy_decision d;
	time_t now = time(NULL);
	int err;

	if (dir->policy_gen == gen && dir->decided == now)
		return 0;
	/* a directory removed since opendir is decided where it was */
	if (fs_node_path(fs, dir->node, &path) < 0) {
		strbuf_reset(&path);
		strbuf_addstr(&path, dir->path.buf);
	}
	err = fs_decide(req, "list", path.buf, (enum policy_action)dir->action, &d);
	if (err < 0)
		goto out;
	/* a directory renamed since opendir: its names are joined to where it is */
	tmp = dir->path;
	dir->path = path;
	path = tmp;
	if (dir->policy_gen != gen) {
		for (size_t i = 0; i < dir->n; i++) {
			if (dir->ents[i].hidden || is_dot(dir->ents[i].name))
				continue;
			strbuf_reset(&cpath);
			fs_path_join(&cpath, dir->path.buf, dir->ents[i].name);
			dir->ents[i].hidden = !fs_may(req, cpath.buf, POLICY_LOOKUP);
		}
	}
	dir->policy_gen = gen;
	dir->decided = now;
out:
	strbuf_release(&cpath);
	strbuf_release(&path);
	return err;
}

static void do_readdir(fuse_req_t req, size_t size, off_t off,
		       struct fuse_file_info *fi, bool plus)
{
	struct fs_dir *dir = (struct fs_dir *)(uintptr_t)fi->fh;
	struct fs_view_defer df;
	uint64_t *inos = NULL;		/* entries given a lookup count in buf */
	size_t ninos = 0, ainos = 0;
	char *buf = xmalloc(size);
	size_t used = 0;
	int err;

	if (dir->unlisted) {
		err = fs_deny(req, "list", "/", -EACCES, "the mount root opens for root and "
			      "system_admin, who list nothing without a data right");
		free(buf);
		fuse_reply_err(req, -err);
		return;
	}
	err = dir_recheck(req, dir);
	if (err < 0) {
		free(buf);
		fuse_reply_err(req, -err);
		return;
	}
	/* the sizes of a reply's masked files: their view builds' records in one write */
	if (plus)
		fs_view_defer_begin(&df);
	for (size_t i = off < 0 ? 0 : (size_t)off; i < dir->n; i++) {
		uint64_t ino = 0;
		size_t n;

		if (dir->ents[i].hidden)
			continue;
		n = add_entry(req, dir, i, plus, buf + used, size - used, &ino, &err);

		/* a name gone or hidden since opendir is left out, not an error */
		if (err < 0)
			continue;
		if (n > size - used)
			break;
		used += n;
		if (ino) {
			ALLOC_GROW(inos, ninos + 1, ainos);
			inos[ninos++] = ino;
		}
	}
	if (plus && fs_view_defer_end(fs_of(req), &df) < 0) {
		/* fail closed: no size of a build the log does not hold */
		for (size_t i = 0; i < ninos; i++)
			fs_inode_forget(fs_of(req), inos[i], 1);
		free(inos);
		free(buf);
		fuse_reply_err(req, EIO);
		return;
	}
	free(inos);
	fuse_reply_buf(req, buf, used);
	free(buf);
}

void fs_ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	do_readdir(req, size, off, fi, false);
}

void fs_ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	do_readdir(req, size, off, fi, true);
}

void fs_ll_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_dir *dir = (struct fs_dir *)(uintptr_t)fi->fh;

	fs_inode_put(fs_of(req), dir->node);
	fs_dir_free(dir);
	fuse_reply_err(req, 0);
}

void fs_ll_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		    struct fuse_file_info *fi)
{
	/* directory changes are synced by the store as they happen */
	fuse_reply_err(req, 0);
}
