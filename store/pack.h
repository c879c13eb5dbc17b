/*
 * store/pack.h - pack files: chunk bytes of large commits kept in
 * append-only files of poolfs's own (DIR/packs/), with only their place
 * (a locator) in the chunks family. docs/storage.md "Packs" says why and
 * what is not done yet.
 */
#ifndef POOL_STORE_PACK_H
#define POOL_STORE_PACK_H

#include <rocksdb/c.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/strbuf.h"

struct store;

/*
 * A locator value: u8 PACK_LOC_V1, be32 pack, be64 offset of the bytes,
 * be32 length, be32 CRC-32C of the bytes. An encrypted pool writes
 * PACK_LOC_SEALED instead, its CRC field 0: its bytes are sealed and
 * their AEAD tag checks every one, so no CRC pass is spent on them when
 * written (a plain pool refuses such a locator). Only chunks whose stored value
 * (sealed, in an encrypted pool) has PACK_MIN_STORED bytes or more go to
 * packs, so a value is never both: of the chunk's stored length it is
 * the inline chunk, of PACK_LOC_LEN bytes starting with the version byte
 * it is a locator.
 */
#define PACK_LOC_LEN		21
#define PACK_LOC_V1		0xa1
#define PACK_LOC_SEALED		0xa2
#define PACK_MIN_STORED		4096u
#define PACK_REC_HDR		37	/* a record's key and be32 length */

struct pack_loc {
	uint32_t pack;
	uint64_t off;
	uint32_t len;
	uint32_t crc;			/* 0 when sealed */
	bool sealed;			/* PACK_LOC_SEALED: the tag checks, no CRC */
};

void pack_loc_encode(const struct pack_loc *l, uint8_t out[PACK_LOC_LEN]);
/*
 * What the chunks-family value val[0..vlen) of a chunk of want stored
 * bytes is: 1 the inline bytes, 0 a locator (decoded into *l), -EIO
 * neither (damaged or misplaced).
 */
int pack_loc_decode(const void *val, size_t vlen, size_t want, struct pack_loc *l);

/* Whether this store writes large commits' chunks to packs (the pool's setting). */
bool pack_enabled(struct store *s);
/* Sets that, once at open (never for a read-only open). */
void pack_set_writing(struct store *s, bool on);
/* Whether the pool holds any pack file (so deletions must account). */
bool pack_any(struct store *s);

/*
 * Appends len bytes (the chunk's stored bytes) of chunk key to the
 * current pack, behind a record header naming the key, and fills *l.
 * Unsynced: pack_sync() before the batch that makes the chunk count.
 */
int pack_append(struct store *s, const uint8_t key[33], const uint8_t *data, uint32_t len,
		struct pack_loc *l);

/* A batch of records to append: n of them, loc[] filled by the append. */
#define PACK_APPEND_MAX		32
struct pack_recs {
	size_t n;			/* <= PACK_APPEND_MAX */
	const uint8_t *const *key;	/* 33 bytes each */
	const uint8_t *const *data;
	const uint32_t *len;
	struct pack_loc *loc;
};
/*
 * pack_append() of a batch, in order, in as few writes as pack ends
 * allow (a 1 GiB write made 16 000 pwritev calls, one a chunk; now
 * about 1 000). On failure no locator of the batch may be used.
 */
int pack_append_many(struct store *s, const struct pack_recs *r);
/* Makes every pack byte appended so far to packs >= from durable. */
int pack_sync(struct store *s, uint32_t from);
/*
 * Reads locator l's bytes (chunk key's) into dst (l->len bytes) and checks
 * their CRC (a sealed locator's bytes: none, the caller opens them) and
 * that the record in front names key; -EIO if not.
 */
int pack_read(struct store *s, const uint8_t key[33], const struct pack_loc *l, uint8_t *dst);
/*
 * pack_read() without the CRC, for sealed bytes the caller opens before
 * any use: their AEAD tag refuses every changed byte the CRC would.
 */
int pack_read_sealed(struct store *s, const uint8_t key[33], const struct pack_loc *l,
		     uint8_t *dst);

/*
 * The stored value of chunk key (want stored bytes) into out, inline or
 * from its pack (its locator read again once if the read fails: GC may
 * have moved it): -ENOENT when absent, -EIO when damaged.
 */
int pack_chunk_get(struct store *s, const uint8_t key[33], size_t want, struct strbuf *out);

/*
 * Live-byte accounting (meta "pack" be32 -> be64 live bytes). A tally
 * sums changes for one batch; pack_tally_apply() adds them to their rows
 * in b. Caller holds s->lock.
 */
struct pack_tally {
	struct { uint32_t pack; int64_t delta; } *v;
	size_t n, alloc;
};

void pack_tally_add(struct pack_tally *t, uint32_t pack, int64_t delta);
int pack_tally_apply(struct store *s, rocksdb_writebatch_t *b, struct pack_tally *t);
void pack_tally_release(struct pack_tally *t);
/*
 * Chunk key (len plain bytes) loses its refs row: its record's bytes
 * off the tally when its value is a locator. tmp is scratch.
 */
int pack_dead(struct store *s, const uint8_t key[33], uint32_t len, struct pack_tally *t,
	      struct strbuf *tmp);
/* Live bytes recorded for pack n (0 when none). */
int pack_live(struct store *s, uint32_t n, uint64_t *live);
/* meta's key of pack n's live bytes: "pack" be32(n). */
void pack_live_key(uint8_t key[8], uint32_t n);

/*
 * Chunks appended but not yet counted by a refs row: pack_append notes
 * them, the commit's refs_apply claims a chunk whose refs row it creates
 * (adding its bytes to the tally), the writer forgets the rest.
 */
bool pack_claim(struct store *s, const uint8_t sha[32], struct pack_tally *t);
void pack_forget(struct store *s, const uint8_t sha[32]);

/* store_open/store_free: the pack set of s (nothing opened until used). */
int pack_open(struct store *s);
void pack_close(struct store *s);
/* Pack numbers 1..*max exist or may (0: none); for backups. */
int pack_list(const char *dir, uint32_t *max);
/* The number of a pack file's name ("00000001.pack"), 0 when it is none. */
uint32_t pack_file_number(const char *name);
/* CRC-32C of p[0..n) going on from prev (0 to start). */
uint32_t pack_crc32c(const uint8_t *p, size_t n, uint32_t prev);

/*
 * Backups (store/backup_pack.c), meta being DEST/poolfs: every pack of s
 * into the shared copies meta/packs/ (copied only when new or grown) and
 * listed in to/packs/MANIFEST; backup id's packs laid out into
 * dir/packs, each checked against its MANIFEST line (-EBADMSG); and the
 * shared copies no MANIFEST lists deleted (prune).
 */
struct perr;
int backup_packs_copy(struct store *s, const char *meta, const char *to, struct perr *e);
int backup_packs_restore(const char *meta, uint32_t id, const char *dir, struct perr *e);
int backup_packs_sweep(const char *meta, struct perr *e);

#endif
