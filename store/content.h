/*
 * store/content.h - chunk lists, chunk writers, version records and the
 * pins that keep view eviction off chunks in use, shared by the store's
 * content files (content.c, chunk_writer.c, stage*.c, stats.c, view*.c).
 * Internal to store/; the record formats are drawn in store/content.c
 * and store/view.c.
 */
#ifndef POOL_STORE_CONTENT_H
#define POOL_STORE_CONTENT_H

#include <rocksdb/c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct store;
struct store_content;
struct store_writer;
struct inode_rec;
struct strbuf;

/*
 * One chunk of a file version: bytes [off, off + len) have hash sha. A
 * hole (store/holes.h) is len zero bytes with no chunk stored; its sha
 * is all zeros and len may pass 4 GiB.
 */
struct chunk_ref {
	uint64_t off;
	uint64_t len;
	uint8_t sha[32];
	bool hole;
};

struct chunk_list {
	struct chunk_ref *v;
	size_t n, alloc;
	uint64_t size;			/* end of the last chunk */
};

#define CHUNK_LIST_INIT { NULL, 0, 0, 0 }

/*
 * Appends a chunk at l->size; an all-zero sha appends a hole, joined to
 * a hole before it. Out of memory is fatal, as for strbuf.
 */
void chunk_list_add(struct chunk_list *l, const uint8_t sha[32], uint64_t len);
/* Index of the chunk holding byte off; off must be below l->size. */
size_t chunk_list_find(const struct chunk_list *l, uint64_t off);
void chunk_list_release(struct chunk_list *l);

/* ---- storing chunks (store/chunk_writer.c) ---- */

struct chunk_writer;		/* opaque; not thread-safe */

struct chunk_writer *chunk_writer_new(struct store *s);
/*
 * Hashes len bytes of data into sha and stores them unless they are
 * stored already. The put may sit in an unwritten batch until the next
 * chunk_writer_flush() or _finish(). These three fail with -ENOSPC,
 * writing nothing, when the store's filesystem has no room for the batch
 * and what RocksDB has yet to flush.
 */
int chunk_writer_put(struct chunk_writer *cw, const uint8_t *data, uint32_t len,
		     uint8_t sha[32]);
/*
 * chunk_writer_put() in two: the id alone, which may run on any thread
 * at any time while cw lives, and the rest, given that id.
 */
int chunk_writer_id(const struct chunk_writer *cw, const uint8_t *data, uint32_t len,
		    uint8_t sha[32]);
/*
 * chunk_writer_id() of n chunks, ret[i] each: a plain pool hashes them
 * side by side (store/sha256_multi.h), several times faster a core.
 */
void chunk_writer_ids(const struct chunk_writer *cw, size_t n, const uint8_t *const data[],
		      const size_t len[], uint8_t sha[][32], int ret[]);
/*
 * In an encrypted pool a chunk is stored sealed: chunk_writer_seal()
 * seals it into a buffer from chunk_writer_seal_buf() (room for chunks
 * chunks of bytes bytes in all; NULL, and no sealing, in a plain pool;
 * free() it), thread-safe like the id, and
 * chunk_writer_store() takes those bytes (NULL: it seals them itself if
 * it must). Sealing ahead is wasted on a chunk that turns out stored.
 */
uint8_t *chunk_writer_seal_buf(const struct chunk_writer *cw, size_t bytes, size_t chunks);
int chunk_writer_seal(const struct chunk_writer *cw, const uint8_t *data, uint32_t len,
		      const uint8_t sha[32], uint8_t *out);
int chunk_writer_store(struct chunk_writer *cw, const uint8_t *data, uint32_t len,
		       const uint8_t sha[32], const uint8_t *sealed);
/*
 * chunk_writer_store() of n chunks in their order (a pipe's batch), each
 * one's result into rets[i]; a chunk whose rets[i] is already set is
 * skipped. A packing writer appends the new ones in one write.
 */
void chunk_writer_store_many(struct chunk_writer *cw, size_t n, const uint8_t *const data[],
			     const size_t len[], const uint8_t sha[][32],
			     const uint8_t *const sealed[], int rets[]);
/* Writes what is batched (skipping the WAL), so reads see every chunk put so far. */
int chunk_writer_flush(struct chunk_writer *cw);
/* Makes every chunk put so far durable once the commit batch is synced. */
int chunk_writer_finish(struct chunk_writer *cw);
/*
 * Unpins the chunks and frees cw. When !committed, first deletes the
 * chunks it stored that nothing references (an abandoned write).
 */
void chunk_writer_free(struct chunk_writer *cw, bool committed);

/*
 * Cuts bytes arriving in order into chunks, storing each through cw and
 * appending it to *out. Holds less than CHUNK_MAX bytes between calls.
 */
struct chunk_stream {
	struct chunk_writer *cw;
	struct chunk_list *out;
	uint8_t *buf;			/* bytes after the last cut */
	size_t len;
};

void chunk_stream_init(struct chunk_stream *cs, struct chunk_writer *cw, struct chunk_list *out);
int chunk_stream_add(struct chunk_stream *cs, const uint8_t *p, size_t n);
/*
 * Appends to out (not cs->out) the chunks of the bytes held, as the end of
 * the content; cs itself is unchanged, so more bytes may still follow if
 * the commit that wanted the end fails.
 */
int chunk_stream_finish(struct chunk_stream *cs, struct chunk_list *out);
void chunk_stream_release(struct chunk_stream *cs);

/*
 * A chunk stream whose chunking runs on worker threads (store/chunk_pipe.c).
 * Between chunk_pipe_write() calls the workers own cw, out and the stream;
 * after chunk_pipe_drain() returns they are the caller's until the next
 * write. Not thread-safe otherwise.
 */
struct chunk_pipe;		/* opaque */

struct chunk_pipe *chunk_pipe_new(struct chunk_writer *cw, struct chunk_list *out);

/* Queues a copy of buf; may wait for the worker. Returns the worker's error, if any. */
int chunk_pipe_write(struct chunk_pipe *p, const void *buf, size_t len);
/* Waits until every byte written is chunked (the tail held in the stream). */
int chunk_pipe_drain(struct chunk_pipe *p);
struct chunk_stream *chunk_pipe_stream(struct chunk_pipe *p);
/* Stops the worker and frees p, dropping bytes not drained. */
void chunk_pipe_free(struct chunk_pipe *p);

/* ---- pins (store/view_pin.c) ---- */

/* A chunk writer pins each chunk it meets before it reads its refs row. */
void chunk_pin(const uint8_t sha[32]);
/* Unpins each sha[i] whose sha[i][32] is set (a chunk writer's table). */
void chunk_unpin_many(const uint8_t (*sha)[33], size_t n);
/* A view reader pins content id || rule fingerprint before it reads the record. */
void view_pin(const uint8_t key[64]);
void view_unpin(const uint8_t key[64]);
/*
 * Held by whoever deletes chunks or views, from checking pins until the
 * deleting batch is written. Order: s->lock, then this.
 */
void pins_lock(void);
void pins_unlock(void);
uint32_t chunk_pins_locked(const uint8_t sha[32]);
bool view_pinned_locked(const uint8_t key[64]);

/* ---- chunk-list pages and version records (store/content.c) ---- */

/*
 * Adds to b the pages of l that are new (with a reference to each chunk
 * they list) and a reference to each page l uses; hashes gets the page
 * hashes in order, ends each page's byte end (be64). Caller holds
 * s->lock. For views; versions use version_add().
 */
int pages_put(struct store *s, rocksdb_writebatch_t *b, const struct chunk_list *l,
	      struct strbuf *hashes, struct strbuf *ends);
/*
 * Cuts l into pages (store/chunk_list.c): page i is vals[off[i] ..
 * off[i+1]) and its hash is hashes[32 i ..]; off gets np + 1 entries.
 * Returns np.
 */
size_t pages_build(const struct chunk_list *l, struct strbuf *vals, struct strbuf *hashes,
		   size_t *off);
/* The number of entries a page built by pages_build() lists. */
size_t page_entries(const uint8_t *p, size_t len);
/* Parses a stored page onto the end of l. -EIO when p is not a page. */
int page_decode(const uint8_t *p, size_t len, struct chunk_list *l);
/* Loads np pages onto the end of l; -EIO unless they hold size bytes. */
int pages_load(struct store *s, const uint8_t *pages, uint32_t np, uint64_t size,
	       struct chunk_list *l);

/* ---- the view cache (store/view.c, store/view_evict.c) ---- */

/* A decoded view record (format drawn in store/view.c). */
struct view_rec {
	uint64_t size;
	int64_t created_ns;
	uint32_t npages;
	const uint8_t *pages;		/* npages x 32-byte page hashes, in the raw record */
	const uint8_t *ends;		/* npages x be64 page end, in it; NULL: format 1 */
};

/* key = kind ('v' record, 'a' last use) || content id || rule fingerprint */
void view_key(uint8_t key[65], char kind, const uint8_t cid[32], const uint8_t fp[32]);
/* -EIO when p is not a view record. */
int view_decode(const uint8_t *p, size_t len, struct view_rec *vr);
/* The number and summed sizes of cached views (0, 0 when none). */
int view_totals(struct store *s, uint64_t *views, uint64_t *bytes);
void view_totals_put(struct store *s, rocksdb_writebatch_t *b, uint64_t views, uint64_t bytes);
/*
 * Evicts least recently used views that no reader holds open until their
 * sizes sum to at most budget, dropping the references they held and
 * deleting pages and chunks nothing references any more. Caller holds
 * s->lock.
 */
int view_evict_locked(struct store *s, uint64_t budget);

/* A decoded version record (format drawn in store/content.c). */
/* The key of a chunk ('c') or a page ('p') in the chunks and refs families. */
static inline void ref_key(uint8_t key[33], char kind, const uint8_t sha[32])
{
	key[0] = (uint8_t)kind;
	memcpy(key + 1, sha, 32);
}

struct version_rec {
	uint64_t size;
	int64_t time_ns;		/* commit time */
	uint32_t uid, gid;
	uint8_t id[32];			/* content id */
	char writer[128];
	uint32_t npages;
	const uint8_t *pages;		/* npages x 32-byte page hashes, in the raw record */
	const uint8_t *ends;		/* npages x be64 page end, in it; NULL: format 1 */
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

/*
 * The chunks of an open version; owned by c. A handle from
 * store_content_open() may load its pages first: NULL when one cannot be
 * read. content_open_whole()'s never fails here.
 */
const struct chunk_list *content_chunks(struct store_content *c);
/* The newest version of ino with its whole chunk list loaded now (a stage's base). */
int content_open_whole(struct store *s, uint64_t ino, struct store_content **out);
/* A read handle over version of ino with chunks l, which it takes over. */
struct store_content *content_from_list(struct store *s, uint64_t ino, uint64_t version,
					struct chunk_list *l, const uint8_t id[32]);
/*
 * A read handle over the np pages (hashes pages, be64 ends) of size
 * bytes, loading each page when a read first reaches it; -EIO when the
 * ends do not rise to size. The pages must stay stored until it closes.
 */
int content_from_pages(struct store *s, uint64_t ino, uint64_t version, const uint8_t id[32],
		       uint64_t size, const uint8_t *pages, const uint8_t *ends, uint32_t np,
		       struct store_content **out);
/*
 * Makes c a view's handle: closing it unpins key (content id || rule
 * fingerprint), which the caller has pinned.
 */
void content_hold_view(struct store_content *c, const uint8_t key[64]);

#endif
