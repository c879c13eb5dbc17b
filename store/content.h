/*
 * store/content.h - chunk lists and version records, shared by the
 * store's content files (content.c, stage.c, stats.c). Internal to store/;
 * the record formats are drawn in store/content.c.
 */
#ifndef POOL_STORE_CONTENT_H
#define POOL_STORE_CONTENT_H

#include <rocksdb/c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
