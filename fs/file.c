/*
 * fs/file.c - open-file handles: making and freeing one, what fstat()
 * through one shows, and the end of those still open at unmount (see
 * fs/file.h). The operations on them are fs/ops_file.c's.
 */
#include "fs/file.h"
#include "fs/kinode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/alloc.h"
#include "fs/access.h"
#include "fs/inode.h"
#include "fs/node.h"
#include "fs/orphan.h"
#include "fs/vseg.h"

int fs_file_new(fuse_req_t req, struct fs_inode *n, const char *path,
		const struct policy_decision *d, struct fs_file **out)
{
	struct fs *fs = fs_of(req);
	struct fs_file *fh = xcalloc(1, sizeof(*fh));

	*out = NULL;
	if (pthread_mutex_init(&fh->lock, NULL)) {
		free(fh);
		fs_inode_put(fs, n);
		return -ENOMEM;
	}
	fh->node = n;
	strbuf_init(&fh->path, 0);
	strbuf_addstr(&fh->path, path);
	fs_who_init(req, d, &fh->who);
	fh->dec = *d;
	fh->policy_gen = fs_policy_gen(fs);
	fh->decided = time(NULL);
	*out = fh;
	return 0;
}

void fs_file_free(struct fs *fs, struct fs_file *fh)
{
	if (!fh)
		return;
	if (fh->meta) {
		strbuf_release(fh->meta);
		free(fh->meta);
	}
	if (fh->vcontent)
		store_content_close(fh->vcontent);
	fs_vseg_close(fh->vseg);
	if (fh->content)
		store_content_close(fh->content);
	fs_inode_put(fs, fh->node);
	strbuf_release(&fh->path);
	pthread_mutex_destroy(&fh->lock);
	free(fh);
}

void fs_file_stat(struct fs *fs, const struct fs_file *fh, struct stat *st)
{
	struct store_version_info vi;
	struct fs_orphan *o = fs_file_orphan(fh);
	uint64_t size, v;

	if (o) {
		size = fs_orphan_size(o);
		st->st_size = (off_t)size;
		st->st_blocks = (blkcnt_t)((size + 511) / 512);
		return;
	}
	if (fh->writable || fs_file_follows(fh) || !fh->content || fs_node_virtual(fh->node))
		return;
	size = fh->vseg ? fs_vseg_size(fh->vseg) :
	       store_content_size(fh->vcontent ? fh->vcontent : fh->content);
	v = store_content_version(fh->content);
	st->st_size = (off_t)size;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
	if (v && store_version_get(fs->store, fh->node->key.sino, v, &vi) == 0)
		st->st_mtim = st->st_ctim = vi.time;
}

void fs_file_each_at_exit(struct fs *fs, struct fs_inode *n)
{
	struct policy_decision d;
	uint64_t version, bytes;

	pthread_mutex_lock(&n->lock);
	for (struct fs_file *fh = n->files; fh; fh = fh->next) {
		if (!fh->writable || fs_node_version(fs, n, &version) < 0)
			version = fh->version;
		bytes = fh->writable ? __atomic_load_n(&fh->bytes_written, __ATOMIC_RELAXED) :
				       __atomic_load_n(&fh->bytes_read, __ATOMIC_RELAXED);
		d = fh->dec;
		snprintf(d.reason, sizeof(d.reason), "still open when the mount went away");
		/* a lost record is in the daemon's log (append_or_eio) */
		fs_audit_view(fs, &fh->who, "release", fh->path.buf, 0, &d, fh->view, version,
			      bytes);
	}
	pthread_mutex_unlock(&n->lock);
}
