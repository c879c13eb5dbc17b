/*
 * store/chunker.h - content-defined chunking (FastCDC with normalized
 * chunking) of file content into the pieces the store hashes and keeps.
 *
 * Sizes: min 16 KiB, average about 64 KiB, max 256 KiB. The average keeps
 * a 1 GiB file at about 16k chunks (16k refs of 36 bytes, ~600 KiB of
 * chunk list, split into pages by store/content.c) while a one-row change
 * in a CSV rewrites one or two chunks, well under 256 KiB of new stored
 * bytes. The minimum bounds the per-chunk overhead (a RocksDB key, a
 * refcount, a ref in a page); the maximum bounds the bytes a change can
 * drag in when the content has no natural cut (runs of zeros).
 *
 * A cut depends only on the bytes of the chunk it ends, so chunking that
 * restarts at any earlier cut finds the same cuts again: that is what lets
 * a commit reuse the untouched chunks of the previous version.
 */
#ifndef POOL_CHUNKER_H
#define POOL_CHUNKER_H

#include <rocksdb/c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHUNK_MIN	(16u * 1024)
#define CHUNK_AVG	(64u * 1024)
#define CHUNK_MAX	(256u * 1024)

/*
 * Returns the length of the chunk starting at buf[0]. final says that buf
 * holds everything up to the end of the data. When final is false and
 * len < CHUNK_MAX no cut may exist yet: 0 is returned and the caller must
 * come back with more bytes. Never returns more than min(len, CHUNK_MAX).
 * Thread-safe; the gear table is a constant.
 */
size_t chunker_next(const uint8_t *buf, size_t len, bool final);

/*
 * Bytes in the chunks chunker_next returned in this process so far. Lets
 * tests check that a commit re-chunks only around changed bytes.
 */
uint64_t chunker_scanned(void);

/* The gear table, exposed so a test can check it is the documented one. */
extern const uint64_t chunker_gear[256];

/*
 * ---- chunk lists and versions (store-internal: content, stage, stats) ----
 *
 * NEEDSWORK: this half belongs in a store/content.h of its own; it sits
 * here because store/ files are owned one per engineer.
 */
struct store;
struct store_content;
struct store_writer;
struct inode_rec;
struct strbuf;

/* One chunk of a file version: bytes [off, off + len) have hash sha. */
struct chunk_ref {
	uint64_t off;
	uint32_t len;
	uint8_t sha[32];
};

struct chunk_list {
	struct chunk_ref *v;
	size_t n, alloc;
	uint64_t size;			/* end of the last chunk */
};

#define CHUNK_LIST_INIT { NULL, 0, 0, 0 }

/* Appends a chunk at l->size. Out of memory is fatal, as for strbuf. */
void chunk_list_add(struct chunk_list *l, const uint8_t sha[32], uint32_t len);
/* Index of the chunk holding byte off; off must be below l->size. */
size_t chunk_list_find(const struct chunk_list *l, uint64_t off);
void chunk_list_release(struct chunk_list *l);

/* A decoded version record (format drawn in store/content.c). */
struct version_rec {
	uint64_t size;
	int64_t time_ns;		/* commit time */
	uint32_t uid, gid;
	uint8_t id[32];			/* content id */
	char writer[128];
	uint32_t npages;
	const uint8_t *pages;		/* npages x 32-byte page hashes, in the raw record */
};

/* -EIO when p is not a version record. */
int version_decode(const uint8_t *p, size_t len, struct version_rec *vr);
/* Loads version of ino into raw and decodes it; vr->pages points into raw. */
int version_load(struct store *s, uint64_t ino, uint64_t version,
		 struct version_rec *vr, struct strbuf *raw);

/*
 * Adds to batch b the next version of r with content l, whose chunks are
 * all stored: new chunk-list pages, refcounts, the version record and r
 * itself (version, size, mtime, ctime). Caller holds s->lock. id, when
 * not NULL, gets the content id.
 */
int version_add(struct store *s, rocksdb_writebatch_t *b, struct inode_rec *r,
		const struct chunk_list *l, const struct store_writer *w, uint8_t id[32]);

/* The chunks of an open version; owned by c. */
const struct chunk_list *content_chunks(const struct store_content *c);
/* A read handle over version of ino with chunks l, which it takes over. */
struct store_content *content_from_list(struct store *s, uint64_t ino, uint64_t version,
					struct chunk_list *l, const uint8_t id[32]);

#endif
