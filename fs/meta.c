/*
 * fs/meta.c - what the pool says about itself: /.poolfs/catalog.json and
 * /.poolfs/whoami, and the user.catalog.* attributes of entry directories.
 *
 * A /.poolfs file is written for the caller at hand, so one kernel inode
 * shows each caller different bytes. It is served with direct I/O and
 * its attributes are never cached (FS_META_TIMEOUT): no caller's text
 * can reach another through the page cache, and stat() reports the size
 * a read by the same caller returns, for programs that read st_size
 * bytes. The text is made again for every getattr (it is small) and once
 * per open; a handle keeps its own, so reads at any offset agree with
 * each other and with fstat() through it.
 *
 * Catalog attributes come from the policy in force, never from the store:
 * only a policy apply changes them (setting them is EPERM, ops_entry.c).
 */
#include "common/alloc.h"
#include "fs/fs.h"
#include "fs/access.h"
#include "fs/dirbuf.h"
#include "fs/file.h"
#include "fs/inode.h"
#include "fs/meta.h"
#include "fs/node.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct meta_file {
	const char *name;
	int (*make)(const struct policy *p, const struct policy_caller *c,
		    struct strbuf *out);
};

static int make_catalog(const struct policy *p, const struct policy_caller *c,
			struct strbuf *out)
{
	return policy_catalog_json(p, c, time(NULL), out);
}

static int make_whoami(const struct policy *p, const struct policy_caller *c,
		       struct strbuf *out)
{
	return policy_whoami_json(p, c, out);
}

/* key.version of an FS_META_FILE is its index here plus one */
static const struct meta_file meta_files[] = {
	{ "catalog.json", make_catalog },
	{ "whoami", make_whoami },
};

#define NMETA (sizeof(meta_files) / sizeof(meta_files[0]))

static const struct meta_file *meta_file_of(const struct fs_inode *n)
{
	uint64_t i = n->key.version;

	if (n->key.kind != FS_META_FILE || i < 1 || i > NMETA)
		return NULL;
	return &meta_files[i - 1];
}

int fs_meta_child(const char *name, struct fs_vkey *key)
{
	for (size_t i = 0; i < NMETA; i++) {
		if (strcmp(name, meta_files[i].name))
			continue;
		key->kind = FS_META_FILE;
		key->sino = STORE_ROOT_INO;
		key->version = i + 1;
		return 0;
	}
	return -ENOENT;
}

int fs_meta_list(struct fs_dir *d)
{
	int err = 0;

	/* readdir shows d's own number: only a lookup makes the files' inodes */
	for (size_t i = 0; i < NMETA && err == 0; i++)
		err = fs_dir_add(d, meta_files[i].name, d->node->ino, STORE_REG);
	return err;
}

struct make_ctx {
	const struct meta_file *file;
	struct strbuf *out;
};

static int make_cb(const struct policy *p, const struct policy_caller *c, void *arg)
{
	struct make_ctx *m = arg;

	return m->file->make(p, c, m->out);
}

/* Appends the text of /.poolfs file n for req's caller to out. */
static int meta_make(fuse_req_t req, const struct fs_inode *n, struct strbuf *out)
{
	struct make_ctx m = { meta_file_of(n), out };

	if (!m.file)
		return -ENOENT;
	return fs_policy_call(req, make_cb, &m);
}

int fs_meta_stat(fuse_req_t req, const struct fs_inode *n,
		 const struct fuse_file_info *fi, struct stat *st)
{
	const struct fs_file *fh = fi && fi->fh ? (const struct fs_file *)(uintptr_t)fi->fh : NULL;
	struct strbuf text = STRBUF_INIT;
	size_t size;
	int err = 0;

	if (fh && fh->meta) {
		size = fh->meta->len;
	} else {
		err = meta_make(req, n, &text);
		size = text.len;
	}
	if (err == 0) {
		st->st_size = (off_t)size;
		st->st_blocks = (blkcnt_t)((size + 511) / 512);
	}
	strbuf_release(&text);
	return err;
}

/* The handle for an open of n by req's caller, its text made; takes over the pin on n. */
static int meta_handle(fuse_req_t req, struct fs_inode *n, const char *path,
		       const struct policy_decision *d, struct fs_file **out)
{
	struct fs *fs = fs_of(req);
	struct fs_file *fh;
	int err;

	*out = NULL;
	err = fs_file_new(req, n, path, d, &fh);
	if (err < 0)
		return err;
	fh->meta = xmalloc(sizeof(*fh->meta));
	strbuf_init(fh->meta, 0);
	err = meta_make(req, n, fh->meta);
	if (err < 0)
		goto err_out;
	*out = fh;
	return 0;

err_out:
	fs_file_free(fs, fh);
	return err;
}

void fs_meta_open(fuse_req_t req, struct fs_inode *n, const char *path,
		  struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct policy_decision d;
	struct fs_file *fh = NULL;
	int err;

	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		err = fs_deny(req, "open", path, -EROFS, "pool metadata is read-only");
		goto out;
	}
	err = fs_decide(req, "open", path, POLICY_READ, &d);
	if (err < 0)
		goto out;
	err = meta_handle(req, n, path, &d, &fh);
	n = NULL;
	/* logged like the open of a file, also when the text could not be made */
	if (fs_audit(req, "open", path, err, &d, 0, 0) < 0 && err == 0)
		err = -EIO;
	if (err < 0)
		goto out;
	/* the text is the caller's own: it must never land in the shared page cache */
	fi->direct_io = 1;
	fi->keep_cache = 0;
	fi->fh = (uintptr_t)fh;
	if (fuse_reply_open(req, fi) == 0)
		fh = NULL;
	err = 0;
out:
	/* a handle left here was opened but never reached the kernel: no release comes */
	if (fh && err == 0)
		fs_meta_release(fs, fh);
	else
		fs_file_free(fs, fh);
	fs_inode_put(fs, n);
	if (err < 0)
		fuse_reply_err(req, -err);
}

void fs_meta_read(fuse_req_t req, struct fs_file *fh, size_t size, off_t off)
{
	struct fs *fs = fs_of(req);
	unsigned long gen = fs_policy_gen(fs);
	struct policy_decision d;
	bool fresh;
	size_t len = fh->meta->len;
	char *copy;
	int err;

	/* a policy that dropped the caller's department stops reads of an open file too */
	pthread_mutex_lock(&fh->lock);
	fresh = fh->policy_gen == gen;
	pthread_mutex_unlock(&fh->lock);
	if (!fresh) {
		err = fs_decide(req, "read", fh->path.buf, POLICY_READ, &d);
		if (err < 0) {
			fuse_reply_err(req, -err);
			return;
		}
		pthread_mutex_lock(&fh->lock);
		fh->policy_gen = gen;
		pthread_mutex_unlock(&fh->lock);
	}
	if (off < 0 || (uint64_t)off >= len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > len - (size_t)off)
		size = len - (size_t)off;
	__atomic_add_fetch(&fh->bytes_read, (uint64_t)size, __ATOMIC_RELAXED);
	/*
	 * Replied from a copy: once the kernel has the bytes, the reader may
	 * close and the release free fh while fuse_reply_buf() is still
	 * returning (AddressSanitizer's writev() check reads the buffer
	 * after the call, and caught exactly that).
	 */
	copy = xmalloc(size);
	memcpy(copy, fh->meta->buf + off, size);
	fuse_reply_buf(req, copy, size);
	free(copy);
}

void fs_meta_release(struct fs *fs, struct fs_file *fh)
{
	/* release cannot fail; a lost record is in the daemon's log at least */
	fs_audit_who(fs, &fh->who, "release", fh->path.buf, 0, &fh->dec, 0,
		     __atomic_load_n(&fh->bytes_read, __ATOMIC_RELAXED));
	fs_file_free(fs, fh);
}

/* ---- user.catalog.* ---- */

static const char catalog_prefix[] = "user.catalog.";
#define CATALOG_PREFIX_LEN (sizeof(catalog_prefix) - 1)

/* In listxattr order; an empty value is no attribute. */
static const char *const catalog_attrs[] = { "code", "title", "provider", "share", "level" };

int fs_is_catalog_xattr(const char *name)
{
	return strncmp(name, catalog_prefix, CATALOG_PREFIX_LEN) == 0;
}

/*
 * The catalog entry whose directory n is. History (snapshots, .versions)
 * carries no catalog: its paths stand for the current tree, not for the
 * entry as it was. -ENODATA when n is no entry directory.
 */
static int entry_of(struct fs *fs, const struct fs_inode *n, const char *path,
		    struct policy_entry_info *e)
{
	struct policy *p;
	int err;

	if (n->key.kind != FS_REAL)
		return -ENODATA;
	p = fs_policy_get(fs);
	if (!p)
		return -ENODATA;
	err = policy_entry_for_path(p, path, e);
	policy_put(p);
	if (err == -ENOENT || (err == 0 && !e->is_root))
		return -ENODATA;
	if (err == 0 && fs_node_type(fs, n) != STORE_DIR)
		err = -ENODATA;
	return err;
}

/* Appends attribute attr (without the prefix) of e to out; -ENODATA when it has none. */
static int catalog_value(const struct policy_entry_info *e, const char *attr,
			 struct strbuf *out)
{
	const char *v = NULL;
	char level[16] = "";

	if (!strcmp(attr, "code")) {
		v = e->code;
	} else if (!strcmp(attr, "title")) {
		v = e->title;
	} else if (!strcmp(attr, "provider")) {
		v = e->provider;
	} else if (!strcmp(attr, "share")) {
		v = e->share;
	} else if (!strcmp(attr, "level")) {
		if (e->level > 0)
			snprintf(level, sizeof(level), "%d", e->level);
		v = level;
	}
	if (!v || !v[0])
		return -ENODATA;
	strbuf_addstr(out, v);
	return 0;
}

int fs_catalog_xattr(fuse_req_t req, const struct fs_inode *n, const char *path,
		     const char *name, struct strbuf *out)
{
	struct policy_entry_info e;
	struct policy_decision d;
	int err;

	if (!fs_is_catalog_xattr(name))
		return -ENODATA;
	err = fs_decide(req, "getxattr", path, POLICY_LOOKUP, &d);
	if (err == 0)
		err = entry_of(fs_of(req), n, path, &e);
	if (err == 0)
		err = catalog_value(&e, name + CATALOG_PREFIX_LEN, out);
	return err;
}

int fs_catalog_xattr_names(struct fs *fs, const struct fs_inode *n, const char *path,
			   struct strbuf *out)
{
	struct strbuf value = STRBUF_INIT;
	struct policy_entry_info e;
	int err;

	err = entry_of(fs, n, path, &e);
	if (err == -ENODATA)
		return 0;
	for (size_t i = 0; err == 0 && i < sizeof(catalog_attrs) / sizeof(catalog_attrs[0]); i++) {
		strbuf_reset(&value);
		if (catalog_value(&e, catalog_attrs[i], &value) < 0)
			continue;
		strbuf_addstr(out, catalog_prefix);
		strbuf_add(out, catalog_attrs[i], strlen(catalog_attrs[i]) + 1);
	}
	strbuf_release(&value);
	return err;
}
