/*
 * store/convert.h - offline conversions of a whole pool
 * (store/convert.c, docs/encryption.md "Encrypting an existing pool" and
 * "Re-encryption"): an unencrypted pool into an encrypted one, and the
 * re-sealing of old values under the current data key.
 */
#ifndef POOL_STORE_CONVERT_H
#define POOL_STORE_CONVERT_H

#include <stdint.h>

struct audit_rec;
struct perr;
struct store;
struct store_crypt_opts;

/* Called now and then with what is done of a phase ("versions", ...). */
typedef void (*store_progress_fn)(void *arg, const char *phase, uint64_t done,
				  uint64_t total);

struct store_convert_counts {
	uint64_t versions, chunks, bytes, records;
	int resumed;			/* 1 when it went on from an earlier run */
};

/*
 * Converts the unencrypted pool in dir into one encrypted as o says,
 * offline (-EBUSY while a poolfs serves it). start is appended to the
 * pool's audit log first, so the log says a conversion began. The new
 * database is built in dir/convert/ and swapped in at the end; a run
 * killed midway leaves the old pool as it was, and the next run goes on
 * where it stopped. -EEXIST when the pool is encrypted already.
 */
int store_encrypt(const char *dir, const struct store_crypt_opts *o, struct audit_rec *start,
		  store_progress_fn fn, void *arg, struct store_convert_counts *c,
		  struct perr *e);

/*
 * Finishes the swap of a conversion that was complete (dir/convert/READY)
 * when it was cut short: 1 when it did, 0 when there was none, or a
 * negative errno. store_open() calls it.
 */
int store_convert_recover(const char *dir, struct perr *e);

/*
 * Re-seals every sealed value of s that names an older data key under
 * the current one, at most rate bytes a second (0: no limit), then
 * compacts so the old ciphertexts leave the disk. s must be opened by
 * this process (offline: a poolfs serving it does its own writes). A
 * run killed midway is resumed by the next: each value is rewritten in
 * one batch and values on the current key are skipped.
 */
int store_reencrypt(struct store *s, uint64_t rate, store_progress_fn fn, void *arg,
		    struct store_convert_counts *c, struct perr *e);

#endif
