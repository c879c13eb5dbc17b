/*
 * store/crypt_store.h - how the store's files use store/crypt.c: the
 * pool's keys and the one seal/open pair every stored value of content
 * goes through. Internal to store/.
 *
 * Sealed (store/crypt.h has the envelope), with the associated data
 * "poolfs" 0 family 0 key:
 *
 *   chunks    every value (chunks and chunk-list pages)
 *   versions  every value (version records: writer, page list)
 *   views     'v' rows (view records), 'm' rows (segment maps)
 *   policy    every value
 *   audit     be64 seq || envelope (the journal holds the same bytes;
 *             the seq in front lets a journal frame be opened)
 *
 * Plain: tree (names, sizes, times; tagged against edits in pools whose
 * meta "crypt" says "tree": "tag", store/tree_tag.c), refs (counts, chunk
 * lengths), meta (counters, seals, the wrapped keyset), views 't', 'b'
 * and 'a' rows.
 */
#ifndef POOL_STORE_CRYPT_STORE_H
#define POOL_STORE_CRYPT_STORE_H

#include "store/crypt.h"
#include "store/internal.h"

struct store_crypt {
	struct crypt *k;
	char pool_id[33];
	char *key_file;			/* as recorded; "" with a passphrase */
	bool has_kdf;			/* master key from a passphrase by kdf */
	struct crypt_kdf kdf;
	uint8_t master[CRYPT_KEY_LEN];	/* rewraps the keyset at rotation */
	uint8_t hash_key[32], sign_key[32];
	bool tree_tag;			/* "tree": "tag", bound into the keyset's wrap */
};

/* The label keys/NAME.key is sealed under. */
void crypt_secret_label(const struct store_crypt *c, const char *name, char *out, size_t len);
/* The meta "crypt" record for c's keyset, its staged key included, into out. */
int crypt_store_meta(const struct store_crypt *c, struct strbuf *out);
/* Reads meta "crypt" and opens the keys (store_open); one-line errors in e. */
int crypt_store_load(struct store *s, struct perr *e);
void crypt_store_free(struct store_crypt *c);

/* Whether values of cf under key are sealed in an encrypted pool. */
bool store_sealed(const struct store *s, enum store_cf cf, const void *key, size_t klen);

/* Puts v under key in b, sealed when store_sealed(). */
void store_put_value(struct store *s, rocksdb_writebatch_t *b, enum store_cf cf,
		     const void *key, size_t klen, const void *v, size_t vlen);
/*
 * store_get() that opens a sealed value. A value that fails its check is
 * -EIO, logged with the family and key; val then holds nothing.
 */
int store_get_value(struct store *s, enum store_cf cf, const void *key, size_t klen,
		    struct strbuf *val);
/* Opens v (as read under key) into out; a plain value is copied. -EIO as above. */
int store_open_value(struct store *s, enum store_cf cf, const void *key, size_t klen,
		     const void *v, size_t vlen, struct strbuf *out);

/*
 * Seals n bytes at data (a chunk stored under key) into out, which has
 * room for n + CRYPT_OVERHEAD; opens a chunk value into out (vlen -
 * CRYPT_OVERHEAD bytes). The chunk paths use these to avoid copies.
 */
int store_seal_to(struct store *s, enum store_cf cf, const void *key, size_t klen,
		  const void *data, size_t n, uint8_t *out);
int store_open_to(struct store *s, enum store_cf cf, const void *key, size_t klen,
		  const void *v, size_t vlen, uint8_t *out);
/* store_open_to() that logs nothing: -EBADMSG or -ENOKEY (for scrub). */
int store_check_to(struct store *s, enum store_cf cf, const void *key, size_t klen,
		   const void *v, size_t vlen, uint8_t *out);

/*
 * Audit values: seq || envelope in an encrypted pool, the record itself
 * in a plain one. audit_value_seal() replaces *value (malloc'd) with its
 * sealed form; audit_value_open() sets *p, *len to the record, in tmp
 * when it had to be opened. -EBADMSG when it does not open or names
 * another seq than want (0: any).
 */
int audit_value_seal(struct store *s, uint64_t seq, char **value, size_t *len);
int audit_value_open(struct store *s, uint64_t want, const char *v, size_t vlen,
		     struct strbuf *tmp, const char **p, size_t *len);

#endif
