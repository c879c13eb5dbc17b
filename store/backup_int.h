/*
 * store/backup_int.h - what store/backup_dest.c (the destination, list),
 * store/backup.c (create, prune) and store/backup_restore.c (restore,
 * verify) share. Never included outside store/.
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
 * copy. create (the pool backing up; NULL: none) makes dest and
 * dest/poolfs (0700) when missing, and claims dest for that pool
 * (backup_dest_claim) before anything else is written.
 */
struct backup_dest {
	char *dir;
	int lockfd;
	rocksdb_env_t *env;
	rocksdb_backup_engine_options_t *opts;
	rocksdb_backup_engine_t *be;
};

int backup_dest_open(struct backup_dest *d, const char *dest, bool exclusive,
		     struct store *create, uint64_t rate_limit, struct perr *e);

/*
 * dest's backups are s's (store/backup_owner.c): 0, recording s as
 * dest's pool when none is; -EEXIST (said in e) when they are another
 * pool's; another negative errno when it cannot tell.
 */
int backup_dest_claim(const char *dest, struct store *s, struct perr *e);
void backup_dest_close(struct backup_dest *d);

/* Fills *out (allocated) with BackupEngine's backups merged with poolfs's info. */
int backup_dest_list(struct backup_dest *d, struct backup_info **out, size_t *n,
		     struct perr *e);

/* The backup id in d into *out; -ENOENT (said in e) when d has none. */
int backup_dest_find(struct backup_dest *d, uint32_t id, struct backup_info *out,
		     struct perr *e);

/* Appends the file at path (not followed when a symlink) to out; -errno. */
int backup_read_small(const char *path, struct strbuf *out);

/* Removes path and everything under it, not following symlinks. */
int backup_rmtree(const char *path);

/* The errno a RocksDB error message stands for: ENOSPC, EACCES, else EIO. */
int backup_rocks_errno(const char *err);
/* mkdir 0700; one that exists is fine. */
int backup_make_dir(const char *path, struct perr *e);
/*
 * PATH a directory of this user that no one else may enter: made 0700
 * when missing (make), closed when it is open to others; a link, or
 * another user's directory, is refused. -ENOENT when !make and missing.
 */
int backup_private_dir(const char *path, bool make, struct perr *e);
/* Writes path (0600, not through a symlink) whole and syncs it. */
int backup_write_file(const char *path, const void *buf, size_t len, struct perr *e);

/*
 * Copies the regular files of directory from into to (made 0700), each
 * 0600 and synced. 0 or a negative errno with a message.
 */
int backup_copy_keys(const char *from, const char *to, struct perr *e);

/* ---- the seal (store/backup_seal.c) ---- */

struct audit_keys;

struct backup_seal {
	uint64_t seq;			/* the anchor's */
	int64_t time_ns;
	char algo[16];
	uint8_t chain[32];		/* over the stored audit values 1..seq */
	bool sm2;			/* else Ed25519 */
	uint8_t pub[65];
	size_t publen;
	uint8_t sig[64];
};

#define BACKUP_SEAL_FILE	"seal"

/*
 * The chain over the audit family's values as stored (seal file comment),
 * from record 1 up: *last gets the last seq. -EBADMSG when the keys are
 * not 1, 2, ..., -EIO when the family cannot be read.
 */
int backup_stored_chain(rocksdb_t *db, rocksdb_column_family_handle_t *audit,
			const char *algo, uint64_t *last, uint8_t chain[32]);
/* Signs the seal of anchor a and chain with s's audit key, into *b. */
int backup_seal_make(struct store *s, const struct audit_anchor *a, const uint8_t chain[32],
		     struct backup_seal *b, struct perr *e);
void backup_seal_format(const struct backup_seal *b, struct strbuf *out);
/* -EINVAL when line is not a seal line. */
int backup_seal_parse(const char *line, struct backup_seal *b);
/* 0 when b is anchor a's and its signature holds under pub; else -EBADMSG. */
int backup_seal_check(const struct backup_seal *b, const struct audit_anchor *a,
		      struct audit_keys *pub);

/* ---- checks that need no key (store/backup_keyless.c) ---- */

struct backup_keyless {
	bool encrypted;
	bool sealed;			/* the backup has a seal and it held */
	char pubkey[131];		/* hex, of the seal */
	uint64_t records, checkpoints, files, versions, chunks;
};

/*
 * Checks the pool laid out in dir (backup bi) without opening a sealed
 * value: every block's checksum, the stored audit chain against the seal
 * (pin: hex public key it must carry, or NULL), every checkpoint's
 * signature, the head against the anchor, every version the tree names
 * and every chunk and page the refs name present, chunks of the length
 * counted. 0 with *r filled, -EBADMSG naming the first problem in e, or
 * another negative errno when the check could not run.
 */
int backup_keyless_check(const char *dest, const char *dir, const struct backup_info *bi,
			 const char *pin, struct backup_keyless *r, struct perr *e);

#endif
