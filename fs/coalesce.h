/*
 * fs/coalesce.h - metadata reads and denials counted into one audit
 * record per second and key (fs/coalesce.c).
 */
#ifndef POOL_FS_COALESCE_H
#define POOL_FS_COALESCE_H

#include "fs/fs.h"
#include "store/audit.h"

/* Starts the thread that writes coalesced records; before the loop. */
int fs_coalesce_start(struct fs *fs);
/* Writes what is left and stops it; after the loop. */
void fs_coalesce_stop(struct fs *fs);
/*
 * Counts r (who, op, path, result and decision; strings copied) in the
 * current second's record for the same key. 0, or a negative errno when
 * it could not be kept (the caller then appends r itself).
 */
int fs_coalesce_add(struct fs *fs, const struct audit_rec *r);
/*
 * Counts r in an existing record of the current second (r->comm is not
 * part of the key); -ENOENT when there is none (then fs_coalesce_add()).
 */
int fs_coalesce_bump(struct fs *fs, const struct audit_rec *r);

#endif
