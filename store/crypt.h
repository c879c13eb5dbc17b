/*
 * store/crypt.h - encryption at rest: the key hierarchy and the sealing
 * of stored values (docs/encryption.md).
 *
 *   master key (32 bytes, a file outside the store)
 *     wraps the keyset (meta "crypt") and keys/hash.key, keys/sign.key
 *   keyset: a chunk-id key (keyed chunk ids, never rotated) and data
 *     keys by id; the current one seals new values, every sealed value
 *     names the key that sealed it
 *
 * Sealed value (every value of content the store keeps):
 *
 *   off  size  field
 *   0    1     envelope format (1)
 *   1    4     data key id (big-endian)
 *   5    12    nonce, random per seal
 *   17   N     ciphertext (N = plaintext length)
 *   17+N 16    tag: GCM (aes-256-gcm), or HMAC-SM3 over the associated
 *              data, bytes 0..17+N, truncated (sm4: SM4-CTR then MAC)
 *
 * The associated data names where the value lives (column family and
 * key), so a value moved, swapped or replayed under another key fails
 * its tag like a flipped byte does.
 *
 * The functions here are pure crypto (no store); store/crypt_store.c
 * ties them to a pool. All return 0 or a negative errno.
 */
#ifndef POOL_STORE_CRYPT_H
#define POOL_STORE_CRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct strbuf;
struct perr;

enum crypt_cipher {
	CRYPT_PLAIN = 0,
	CRYPT_AES_GCM = 1,		/* AES-256-GCM; chunk ids HMAC-SHA256 */
	CRYPT_SM4 = 2,			/* SM4-CTR + HMAC-SM3; chunk ids HMAC-SM3 */
};

#define CRYPT_KEY_LEN		32
#define CRYPT_HDR_LEN		17
#define CRYPT_TAG_LEN		16
#define CRYPT_OVERHEAD		(CRYPT_HDR_LEN + CRYPT_TAG_LEN)
#define CRYPT_MAX_KEYS		1024

struct crypt;			/* opaque: a keyset; sealing is thread-safe */

/* "aes-256-gcm", "sm4", "none"; -EINVAL for another name. */
int crypt_cipher_parse(const char *name, enum crypt_cipher *c);
const char *crypt_cipher_name(enum crypt_cipher c);

/* A fresh keyset: a random chunk-id key and data key 1, current. */
int crypt_new(enum crypt_cipher c, struct crypt **out);
void crypt_free(struct crypt *k);
enum crypt_cipher crypt_cipher_of(const struct crypt *k);
uint32_t crypt_current(const struct crypt *k);
uint32_t crypt_nkeys(const struct crypt *k);

/*
 * Rotation in two steps, so a key seals nothing before the keyset that
 * holds it is durable: crypt_stage_key() makes the next key (not used
 * yet; crypt_wrap() includes it), crypt_commit_key() makes it current.
 * Readers may seal and open meanwhile; stagers are serialized by the
 * caller. -ENOSPC when CRYPT_MAX_KEYS are used.
 */
int crypt_stage_key(struct crypt *k);
void crypt_commit_key(struct crypt *k);
void crypt_drop_staged(struct crypt *k);

/*
 * The keyset sealed with master (bound to pool_id), into out (appended).
 * crypt_unwrap() returns -EKEYREJECTED when master does not open blob.
 */
int crypt_wrap(const struct crypt *k, const uint8_t master[CRYPT_KEY_LEN], const char *pool_id,
	       struct strbuf *out);
int crypt_unwrap(enum crypt_cipher c, const uint8_t *blob, size_t len,
		 const uint8_t master[CRYPT_KEY_LEN], const char *pool_id, struct crypt **out);

/*
 * A small secret sealed with master under label (e.g. "hash.key"), and
 * back. crypt_unwrap_secret() returns the secret's length, -EKEYREJECTED
 * when master or label do not match, -ENOSPC when cap is too small.
 */
int crypt_wrap_secret(enum crypt_cipher c, const uint8_t master[CRYPT_KEY_LEN],
		      const char *label, const uint8_t *secret, size_t len, struct strbuf *out);
ssize_t crypt_unwrap_secret(enum crypt_cipher c, const uint8_t master[CRYPT_KEY_LEN],
			    const char *label, const uint8_t *in, size_t len,
			    uint8_t *out, size_t cap);

/*
 * Seals len bytes of plain into out (len + CRYPT_OVERHEAD bytes) with the
 * current key and a fresh random nonce, ad bound. -EIO when OpenSSL fails.
 */
int crypt_seal(const struct crypt *k, const void *ad, size_t adlen,
	       const void *plain, size_t len, uint8_t *out);
/*
 * Opens a sealed value of len bytes into out (len - CRYPT_OVERHEAD bytes).
 * -EBADMSG when it is not one, its tag fails or ad differs; -ENOKEY when
 * it names a key the keyset does not hold. out may then hold garbage.
 */
int crypt_open(const struct crypt *k, const void *ad, size_t adlen,
	       const uint8_t *in, size_t len, uint8_t *out);
/* The data key id a sealed value names; 0 when it is too short to be one. */
uint32_t crypt_key_of(const uint8_t *in, size_t len);

/* The keyed id of a chunk: HMAC of its bytes with the chunk-id key. */
int crypt_chunk_id(const struct crypt *k, const void *data, size_t len, uint8_t id[32]);
/* crypt_chunk_id() of n buffers, each one's result in ret[i]; side by side where the hash allows. */
void crypt_chunk_ids(const struct crypt *k, size_t n, const uint8_t *const data[],
		     const size_t len[], uint8_t id[][32], int ret[]);

/*
 * A stream cipher for scratch files whose key lives only in memory (the
 * staging spill file): XORs len bytes at file offset off with the key
 * stream, in place. SM4-CTR or AES-256-CTR with the counter at off / 16.
 */
struct crypt_scratch;
int crypt_scratch_new(enum crypt_cipher c, struct crypt_scratch **out);
int crypt_scratch_xor(struct crypt_scratch *x, uint8_t *buf, size_t len, uint64_t off);
void crypt_scratch_free(struct crypt_scratch *x);

/*
 * Authenticated blocks of a scratch file (the staging spill file): each
 * CRYPT_SCRATCH_BLOCK-byte block is sealed on its own, its tag and write
 * count kept in x (memory only). seal encrypts block blk in place (in
 * the plain profile, CRYPT_PLAIN, it stays plain and only gets a GMAC
 * tag); open checks and decrypts it: 0, 1 when the block was never
 * written (buf untouched; it reads as zeros), -EBADMSG when it was
 * changed, moved or is an older write of the block. forget drops the
 * blocks from block number from on (a truncate).
 */
#define CRYPT_SCRATCH_BLOCK	4096
int crypt_scratch_seal(struct crypt_scratch *x, uint64_t blk, uint8_t *buf);
int crypt_scratch_open(struct crypt_scratch *x, uint64_t blk, uint8_t *buf);
void crypt_scratch_forget(struct crypt_scratch *x, uint64_t from);

/* Reads a 32-byte master key file; -errno with a one-line message in e. */
int crypt_master_load(const char *path, uint8_t master[CRYPT_KEY_LEN], struct perr *e);
/*
 * Creates path (0400, parents 0700) with 32 random bytes; -EEXIST when
 * it exists.
 */
int crypt_master_create(const char *path, uint8_t master[CRYPT_KEY_LEN], struct perr *e);

/*
 * Passphrase master keys: scrypt (OpenSSL's EVP_KDF "SCRYPT") of the
 * passphrase with a random salt; the salt and the cost are kept in the
 * store (meta "crypt") so the same passphrase derives the same key.
 */
struct crypt_kdf {
	uint8_t salt[16];
	uint64_t n;			/* CPU/memory cost, a power of 2 */
	uint32_t r, p;
};

#define CRYPT_SCRYPT_N		(1u << 15)	/* 32 MiB with r = 8 */
#define CRYPT_SCRYPT_R		8
#define CRYPT_SCRYPT_P		1

/* A random salt and the default cost. */
int crypt_kdf_new(struct crypt_kdf *k);
/*
 * The master key for pass under k. -EINVAL when the cost is out of the
 * range this poolfs accepts (a damaged or hostile record must not make
 * an open eat the host's memory), -EIO when OpenSSL fails.
 */
int crypt_kdf_derive(const struct crypt_kdf *k, const void *pass, size_t len,
		     uint8_t master[CRYPT_KEY_LEN]);
/*
 * Reads a passphrase from path ("-": standard input) into out: the
 * file's bytes without one trailing newline; an empty one is -EINVAL.
 */
int crypt_passphrase_read(const char *path, struct strbuf *out, struct perr *e);

/* ---- a pool's encryption (store/crypt_store.c) ---- */

struct store;

struct store_crypt_opts {
	enum crypt_cipher cipher;	/* CRYPT_PLAIN: an unencrypted pool */
	const char *key_file;		/* NULL: /etc/poolfs/keys/POOL-ID.key */
	const struct strbuf *passphrase;	/* instead of a key file (scrypt) */
};

/*
 * store_create() with a cipher: uses key_file when it exists (32 bytes),
 * else creates it (0400, new parent directories 0700), and records the
 * cipher, the pool id and the key file's absolute path in the store.
 */
int store_create_opts(const char *dir, const struct store_crypt_opts *o, struct perr *e);
/*
 * store_create_opts() choosing whether the pool writes packs (the
 * default, true) or keeps every chunk inline (poolctl init --packs off).
 */
int store_create_packs(const char *dir, const struct store_crypt_opts *o, bool packs,
		       struct perr *e);

/*
 * The master key file store_open() uses instead of the one the store
 * records (poolfs -o key_file, poolctl --key-file); NULL: the recorded
 * one. Process-wide; set before opening.
 */
void store_set_key_file(const char *path);
/*
 * The passphrase store_open() derives the master key from, for a pool
 * made with one (poolfs -o passphrase_file, poolctl --passphrase-file);
 * copied, process-wide, NULL clears it. Set before opening.
 */
void store_set_passphrase(const struct strbuf *pass);
/*
 * Reads the passphrase in path ("-": standard input, crypt_passphrase_read)
 * and sets it as store_set_passphrase() does; the copy read is wiped.
 * 0, or a negative errno with the one-line reason in e.
 */
int store_set_passphrase_file(const char *path, struct perr *e);
/* Whether a key file or a passphrase was given by one of the two above. */
bool store_key_given(void);

struct store_crypto_info {
	enum crypt_cipher cipher;
	char pool_id[33];
	char key_file[4096];		/* as recorded in the store; "" with a passphrase */
	char kdf[64];			/* "scrypt N=32768 r=8 p=1", or "" */
	uint32_t key_id;		/* the data key new values get */
	uint32_t nkeys;
	char audit_hash[16];		/* the audit chain's hash */
	char audit_sign[48];		/* what signs its checkpoints and head */
};

/* What protects s (cipher CRYPT_PLAIN for an unencrypted pool). */
void store_crypto_info(struct store *s, struct store_crypto_info *info);

/*
 * Makes a new data key for new writes (old values keep theirs), durable
 * in one synced write before any value uses it. -EINVAL on a plain pool.
 */
int store_key_rotate(struct store *s, uint32_t *key_id, struct perr *e);

#endif
