/*
 * store/backup_int.h - what store/backup.c (create, list, prune) and
 * store/backup_restore.c (restore, verify) share. Never included outside
 * store/.
 */
#ifndef POOL_BACKUP_INT_H
#define POOL_BACKUP_INT_H

#include <rocksdb/c.h>

#include "store/backup.h"

#define BACKUP_META_DIR	"poolfs"
#define BACKUP_PENDING	"pending"

/*
 * Opens BackupEngine on dest, and takes flock(dest/poolfs/lock), shared
 * or exclusive; rate_limit (bytes a second, 0: none) bounds a backup's
 * copy. create makes dest and dest/poolfs (0700) when missing.
 */
struct backup_dest {
	char *dir;
	int lockfd;
	rocksdb_env_t *env;
	rocksdb_backup_engine_options_t *opts;
	rocksdb_backup_engine_t *be;
};

int backup_dest_open(struct backup_dest *d, const char *dest, bool exclusive, bool create,
		     uint64_t rate_limit, struct perr *e);
void backup_dest_close(struct backup_dest *d);

/* Fills *out (allocated) with BackupEngine's backups merged with poolfs's info. */
int backup_dest_list(struct backup_dest *d, struct backup_info **out, size_t *n,
		     struct perr *e);

/* The backup id in d into *out; -ENOENT (said in e) when d has none. */
int backup_dest_find(struct backup_dest *d, uint32_t id, struct backup_info *out,
		     struct perr *e);

/* Removes path and everything under it, not following symlinks. */
int backup_rmtree(const char *path);

/*
 * Copies the regular files of directory from into to (made 0700), each
 * 0600 and synced. 0 or a negative errno with a message.
 */
int backup_copy_keys(const char *from, const char *to, struct perr *e);

#endif
