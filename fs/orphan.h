/*
 * fs/orphan.h - handles whose name went away (fs/orphan.c).
 */
#ifndef POOL_FS_ORPHAN_H
#define POOL_FS_ORPHAN_H

#include "fs/fs.h"

/*
 * Unlink and rename-over end a name while handles may still write to the
 * file behind it. POSIX gives those handles the old file, privately;
 * the store would put their writes under the name. So, with n->lock held
 * around the store operation: fs_orphan_prepare() before it (keeps the
 * old content in a stage; *out holds the caller's reference, or is NULL
 * when no handle needs it), then fs_orphan_detach() and fs_orphan_put()
 * when it succeeded, or fs_orphan_abort() when it failed.
 */
int fs_orphan_prepare(struct fs *fs, struct fs_inode *n, const char *path,
		      struct fs_orphan **out);
/* The pool path the old file had; owned by o. */
const char *fs_orphan_path(const struct fs_orphan *o);
void fs_orphan_detach(struct fs_inode *n, struct fs_orphan *o);
void fs_orphan_abort(struct fs_orphan *o);
static inline struct fs_orphan *fs_file_orphan(const struct fs_file *fh)
{
	return __atomic_load_n(&fh->orphan, __ATOMIC_ACQUIRE);
}
ssize_t fs_orphan_read(struct fs_orphan *o, void *buf, size_t size, uint64_t off);
/* append: at the end, whatever *off says; *off is where it went */
int fs_orphan_write(struct fs_orphan *o, const void *buf, size_t size, uint64_t *off,
		    bool append);
int fs_orphan_truncate(struct fs_orphan *o, uint64_t size);
uint64_t fs_orphan_size(struct fs_orphan *o);
void fs_orphan_get(struct fs_orphan *o);
/* Drops a reference; the last one discards the old file. */
void fs_orphan_put(struct fs_orphan *o);

#endif
