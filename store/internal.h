/*
 * store/internal.h - what the files of store/ share: the RocksDB handles,
 * the key layout and a few helpers. Never included outside store/.
 *
 * Column families and key layout (integers big-endian, so bytewise order
 * is numeric order):
 *
 *   CF        key                               value
 *   --------  --------------------------------  -------------------------------
 *   default   (unused)
 *   meta      "format"                          be32 STORE_FORMAT_VERSION (or _CRYPT)
 *   meta      "crypt"                           cipher, key file, wrapped keyset (crypt_store.c)
 *   meta      "next_ino"                        be64 next inode number
 *   meta      "pack" be32(n)                    be64 live bytes of pack n (store/pack.c)
 *   meta      "write_packs"                     u8 1: large commits go to packs, 0 or
 *                                               absent: inline (store/pack_mode.c)
 *   meta      "audit_hash"                      "sha256" or "sm3" (absent: sha256)
 *   meta      "audit_head"                      latest seq/hash, MAC-sealed (audit_seal.c)
 *   meta      "audit_cp" be64(seq)              Ed25519-signed checkpoint
 *   tree      'i' be64(ino)                     inode record (inode_encode)
 *   tree      'd' be64(parent) name             be64(child) u8(type) be64(born_ns)
 *   tree      'h' be64(parent) name be64(died)  be64(child) u8(type) be64(born_ns)
 *   chunks    'c' sha256                        chunk bytes (BlobDB value), or a
 *                                               pack locator (store/pack.h)
 *   chunks    'p' sha256                        chunk-list page
 *   refs      'c' sha256                        be64 reference count, be32 chunk length
 *   refs      'p' sha256                        be64 reference count
 *   versions  be64(ino) be64(version)           version record
 *   views     'v' / 'a' content_id fp, 'b', 't'  the view cache (store/view.c)
 *   audit     be64(seq)                         audit record
 *   policy    be64(version)                     policy document and who applied it
 *
 * 'h' rows are ended directory entries, kept so /.snapshots can list a
 * directory as it was at any time. In a pool that tags them, every tree
 * value is followed by its tag (store/tree_tag.c).
 */
#ifndef POOL_STORE_INTERNAL_H
#define POOL_STORE_INTERNAL_H

#include <pthread.h>
#include <rocksdb/c.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/uio.h>

#include "store/audit.h"
#include "store/inode_rec.h"
#include "store/store.h"

#define STORE_FORMAT_VERSION 1
#define STORE_FORMAT_CRYPT 2	/* an encrypted pool (store/crypt_store.c) */
/*
 * backup create's checkpoint of the database (store/backup.c), and
 * RocksDB's ".tmp" while it is made; pack GC keeps packs while either
 * is there. In a 0700 directory: its hard links are the database's own
 * 0644 files, and STORE is 0711 (every uid reaches the control socket).
 */
#define STORE_BACKUP_DIR	"backup"
#define STORE_BACKUP_CHECKPOINT	STORE_BACKUP_DIR "/checkpoint"

enum store_cf {
	CF_DEFAULT,
	CF_META,
	CF_TREE,
	CF_CHUNKS,
	CF_REFS,
	CF_VERSIONS,
	CF_VIEWS,
	CF_AUDIT,
	CF_POLICY,
	CF_COUNT
};

extern const char *const store_cf_names[CF_COUNT];

struct store {
	char *dir;
	unsigned flags;
	void (*audit_flush)(void *);	/* audit_set_flush_hook(); set while no
					 * reader runs */
	void *audit_flush_arg;
	rocksdb_t *db;
	rocksdb_column_family_handle_t *cf[CF_COUNT];
	rocksdb_options_t *db_opts;
	rocksdb_options_t *cf_opts[CF_COUNT];
	rocksdb_cache_t *block_cache;
	rocksdb_block_based_table_options_t *table_opts;
	rocksdb_writeoptions_t *wopt_sync;
	rocksdb_writeoptions_t *wopt_async;
	rocksdb_readoptions_t *ropt;

	/*
	 * Serializes every mutation: tree changes, commits, policy puts and
	 * audit appends. Reads take no lock.
	 */
	pthread_mutex_t lock;
	uint64_t next_ino;		/* protected by lock */
	struct audit_log *audit;	/* store/audit.c; set by audit_load */
	/*
	 * Set by the first failed write or flush of the database: from then
	 * on store_write() refuses, as RocksDB itself does after most disk
	 * errors, until the store is reopened (docs/storage.md "Disk faults").
	 */
	int failed;			/* 0 or the negative errno; __atomic builtins */
	/* a batch RocksDB failed may still be in its WAL (audit_rollback) */
	bool write_unknown;		/* __atomic builtins */
	struct store_crypt *crypt;	/* store/crypt_store.c; NULL in a plain pool */
	struct pack_set *packs;		/* store/pack.c */
	bool tree_tag;			/* tree rows end in a tag (store/tree_tag.c) */
	struct inode_cache *inodes;	/* store/inode_cache.h */
};

/* Reads one value into val (reset first). -ENOENT when absent, -EIO on error. */
int store_get(struct store *s, enum store_cf cf, const void *key, size_t klen,
	      struct strbuf *val);
/*
 * Ends an iteration over it and destroys it: ret, or -EIO (logged with
 * what) when the iterator met an error on the way.
 */
int store_iter_end(struct store *s, rocksdb_iterator_t *it, const char *what, int ret);

/* A be64 value into *out; dflt when absent; -EIO when it is not 8 bytes. */
int store_get_be64(struct store *s, enum store_cf cf, const void *key, size_t klen,
		   uint64_t dflt, uint64_t *out);

/*
 * Writes batch b (synced when sync) and maps RocksDB errors to errno:
 * "No space" to -ENOSPC, anything else to -EIO, logged with the message.
 * After one failure every later call fails the same way (store_failed).
 */
int store_write(struct store *s, rocksdb_writebatch_t *b, bool sync);
/*
 * store_write() of a batch with no tree row (tree_put, dent_end): the
 * inode records and entries read lately stay kept (store/inode_cache.h).
 * For the bumps every read of a view writes.
 */
int store_write_untree(struct store *s, rocksdb_writebatch_t *b, bool sync);
/*
 * 0, or the error of the write that stopped the store's writes. fail
 * records err (RocksDB's message in msg) as that error, logged once.
 */
int store_failed(struct store *s);
int store_fail(struct store *s, int err, const char *msg);

/*
 * Adds audit record r to batch b as the next link of the chain, filling
 * r->seq and r->time_ns. Caller holds s->lock and must write b, with
 * sync, before releasing it; if the write fails it calls audit_rollback(s).
 * Never call audit_append() while holding s->lock: it takes the lock
 * itself and would deadlock.
 */
int audit_add(struct store *s, rocksdb_writebatch_t *b, struct audit_rec *r);
void audit_rollback(struct store *s);
/* Called by store_open: opens the audit log and recovers its chain. */
int audit_load(struct store *s);
/* Called by store_close: flushes pending records and stops audit threads. */
void audit_unload(struct store *s);
/*
 * Waits until every durable audit record is in RocksDB (store/audit.c),
 * so that reads of the audit family see them. -EIO when one cannot get
 * there.
 */
int audit_drain(struct store *s);

/* store/db.c, for store/open.c: the handle, the database and why it did not open. */
struct store *store_alloc(const char *dir, unsigned flags);
void store_free(struct store *s);
int open_db(struct store *s, const char *path, bool create, char **errp);
int open_error(const char *dir, const char *err, struct perr *e);

/* pread()/pwrite() of all len bytes at off (store/fileio.c); -errno, or -EIO when short. */
int store_pread_full(int fd, uint8_t *buf, size_t len, uint64_t off);
int store_pwrite_full(int fd, const uint8_t *buf, size_t len, uint64_t off);
/* All of iov[0..cnt) at off, in as few calls as the kernel allows; iov is used up. */
int store_pwritev_full(int fd, struct iovec *iov, int cnt, uint64_t off);

/* A size a test sets in the environment (name), in test builds only; else dflt. */
static inline uint64_t store_test_size(const char *name, uint64_t dflt)
{
#ifdef POOL_TEST
	const char *env = getenv(name);

	if (env)
		return strtoull(env, NULL, 10);
#else
	(void)name;
#endif
	return dflt;
}
/* fsync() of a file or directory by path (a rename or a new file made durable). */
int store_fsync_path(const char *path);
/* Flushes family cf's memtable to tables and waits (store/db.c); -ENOSPC or -EIO. */
int store_flush(struct store *s, enum store_cf cf);
/* Turns blob GC on for chunks once something deleted chunks (store/db.c). */

/*
 * Adds to batch b a new version of dst whose content is src's current
 * content (rename of a file over a file), updating dst's record in
 * place (version, size, mtime, ctime); the new version's content id into
 * id, for its commit mark. Caller holds s->lock.
 */
int version_add_from(struct store *s, rocksdb_writebatch_t *b, struct inode_rec *dst,
		     uint64_t src_ino, const struct store_writer *w, uint8_t id[32]);

/* Current time as nanoseconds since the epoch (CLOCK_REALTIME). */
int64_t store_now_ns(void);

#endif
