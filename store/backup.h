/*
 * store/backup.h - backups of a pool on RocksDB's BackupEngine: online,
 * consistent at a commit, incremental by shared table and blob files.
 *
 * A backup directory DEST holds BackupEngine's own layout (meta/,
 * private/, shared_checksum/) and poolfs's beside it:
 *
 *   DEST/poolfs/            0700
 *   DEST/poolfs/lock        flock(): create and prune exclusive, others shared
 *   DEST/poolfs/N/          0700, one per complete backup N
 *   DEST/poolfs/N/info.json id, time, source, policy version, anchor
 *   DEST/poolfs/N/anchor    the signed audit head, one line (audit anchor)
 *   DEST/poolfs/N/keys/     0700; the files of STORE/keys/, 0600
 *   DEST/poolfs/pending/    the next backup's, renamed to N once it exists
 *
 * The database, with every column family (tree, chunks, versions, policy
 * history, audit log), is what BackupEngine copies. Nothing outside
 * STORE/keys/ is copied: no master key is kept in a store.
 */
#ifndef POOL_BACKUP_H
#define POOL_BACKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "store/audit.h"

struct store;

struct backup_info {
	uint32_t id;
	int64_t time_ns;		/* the commit boundary it holds */
	uint64_t size;			/* bytes of its files, shared ones included */
	uint32_t files;
	bool complete;			/* poolfs's part is there (info, keys) */
	uint64_t policy_version;	/* 0: no policy was applied */
	struct audit_anchor anchor;	/* the audit head it holds */
	char source[256];		/* the store it was taken from */
	bool encrypted;			/* the pool was (unknown: false) */
	bool passphrase;		/* its master key comes from a passphrase */
	char key_file[256];		/* else from this file, as the pool records it */
};

/*
 * Backs s up into dest (created 0700 when missing). Holds s's mutation
 * lock only while the audit log settles and a checkpoint of the database
 * is linked (a flush and hard links), then lets BackupEngine copy from
 * the checkpoint, so writers wait for milliseconds, not for the copy.
 * The backup holds exactly what was committed when the lock was taken;
 * its audit log ends at *out's anchor. Files already in dest are not
 * copied again; rate_limit (bytes a second, 0: none) keeps the copy from
 * taking the disk from the pool. Returns 0 with *out filled, or a negative errno with a
 * message in e; a failure or a kill leaves earlier backups as they were.
 */
int backup_create(struct store *s, const char *dest, uint64_t rate_limit,
		  struct backup_info *out, struct perr *e);

/*
 * The backups in dest, oldest first, in *out (caller frees) and *n.
 * -ENOENT (message) when dest holds no backups at all.
 */
int backup_list(const char *dest, struct backup_info **out, size_t *n, struct perr *e);

/*
 * Checks backup id (0: every backup): BackupEngine's check of its files,
 * then a restore into a private directory under dest/poolfs that
 * re-reads every file against its checksum, then what needs no key
 * (store/backup_keyless.c): every block, the audit values as stored
 * against the backup's signed seal (pin: the hex public key it must
 * carry, or NULL), the checkpoints' signatures, every version and chunk
 * present. Then, when the pool opens (plain, or its key at hand), the
 * audit chain up to the anchor and no further, and every version read
 * back whole. Appends one line per backup to report, saying for an
 * encrypted backup checked without its key what was skipped. Returns 0
 * when all holds, -EBADMSG with the first problem in e (naming the file
 * or record), or another negative errno when the check could not run
 * (a key given that does not open the backup, too).
 */
int backup_verify(const char *dest, uint32_t id, const char *pin, struct strbuf *report,
		  struct perr *e);

/*
 * Restores backup id of dest as a new pool in newstore, which must not
 * exist or be an empty directory of this user's that no one else may
 * write (-EEXIST / -ENOTEMPTY / -EACCES). Before the pool is handed
 * over, verify's checks of the log: the seal (pin as in backup_verify),
 * the head against the anchor, the chain up to the anchor and no
 * further (-EBADMSG naming what failed). Then appends rec (the caller
 * fills who; reason says where the pool came from) as the restored
 * pool's first new audit record. On failure nothing that looks like a
 * pool is left in newstore.
 */
int backup_restore(const char *dest, uint32_t id, const char *newstore, const char *pin,
		   struct audit_rec *rec, struct perr *e);

/* Deletes all but the newest keep backups (keep >= 1) and their files. */
int backup_prune(const char *dest, uint32_t keep, struct perr *e);

/* Looks up backup id in dest into *out. -ENOENT (message) when none. */
int backup_get(const char *dest, uint32_t id, struct backup_info *out, struct perr *e);

#endif
