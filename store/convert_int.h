/*
 * store/convert_int.h - what store/convert.c borrows from the store's
 * other files. Internal to store/.
 */
#ifndef POOL_STORE_CONVERT_INT_H
#define POOL_STORE_CONVERT_INT_H

#include <rocksdb/c.h>
#include <stdint.h>

struct store;
struct store_crypt;
struct store_crypt_opts;
struct perr;
struct version_rec;
struct chunk_list;

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

#endif
