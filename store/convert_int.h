/*
 * store/convert_int.h - what store/convert.c borrows from the store's
 * other files, and shares with store/convert_recover.c. Internal to store/.
 */
#ifndef POOL_STORE_CONVERT_INT_H
#define POOL_STORE_CONVERT_INT_H

#include <rocksdb/c.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/strbuf.h"
#include "store/convert.h"

struct store;
struct store_crypt;
struct store_crypt_opts;
struct perr;
struct version_rec;
struct chunk_list;

/* meta row: be64, the last audit record of the plain pool a conversion read */
#define META_SRC	"encrypted_at"

/*
 * The keys of a new encrypted pool (store/db.c): a pool id, the master
 * key (o->key_file's when it exists, else a new file, or scrypt of
 * o->passphrase) and a fresh keyset.
 */
int crypt_prepare(const struct store_crypt_opts *o, struct store_crypt **out, struct perr *e);

/*
 * Adds to b version `version` of ino with content l (chunks stored) and
 * vr's commit time, uid, gid and writer (store/content.c): the pages l
 * needs, the references, and the record with the content id of the new
 * pages. Caller holds s->lock or is the store's only user.
 */
int version_put_copy(struct store *s, rocksdb_writebatch_t *b, uint64_t ino, uint64_t version,
		     const struct version_rec *vr, const struct chunk_list *l);

/*
 * A conversion or re-sealing run (store/convert.c, store/reencrypt.c):
 * the store written (s) and, for a conversion, the one read (old); the
 * batch being filled and its bytes; progress reporting.
 */
#define CONV_BATCH_BYTES	(8u << 20)

struct conv {
	struct store *old, *s;
	store_progress_fn fn;
	void *arg;
	struct store_convert_counts *c;
	rocksdb_writebatch_t *b;
	size_t pending;
	struct strbuf val, sealed;
	time_t shown;
};

/* Reports phase done/total to cv->fn, at most once a second unless force. */
void conv_progress(struct conv *cv, const char *phase, uint64_t done, uint64_t total,
		   bool force);

/* Writes cv's batch (synced when sync) and empties it. */
int conv_flush_batch(struct conv *cv, bool sync);

/* POOLFS_TEST_ENCRYPT_KILL=STEP: SIGKILL at STEP, for tests/mount/t_crypt_convert.sh */
void conv_test_kill(const char *step);

/* Removes path and all below it; 0 when it was not there. */
int conv_rm_rf(const char *path);

/* Whether path exists (a dangling link does). */
bool conv_exists(const char *path);

/* Refuses (EKEYREJECTED) a convert/db in cdir that is not an encrypted pool's database. */
int conv_ready_encrypted(const char *dir, const char *cdir, struct perr *e);

/* Flushes and compacts every family; all_blobs: blob GC over every blob file. */
int store_compact_all(struct store *s, bool all_blobs);

#endif
