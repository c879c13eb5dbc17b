/*
 * store/chunk_writer.c - storing chunks ahead of the commit that lists
 * them, and cutting a stream of bytes into chunks as it arrives.
 *
 * A chunk writer belongs to one commit-to-be (a stage's, or a view's).
 * It hashes each chunk, skips what is already stored and puts the rest
 * in unsynced batches; the commit's synced batch later adds the refs
 * rows that make the chunks count. Every chunk it meets stays pinned
 * (store/view_pin.c) until the writer is freed, so view eviction cannot
 * delete a chunk the commit is about to list.
 */
#include "common/alloc.h"
#include "common/codec.h"
#include "store/chunker.h"
#include "store/content.h"
#include "store/crypt_store.h"
#include "store/internal.h"
#include "store/pack.h"
#include "store/pack_abandon.h"
#include "store/pack_gc.h"
#include "store/sha256_multi.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include <openssl/sha.h>

#include "common/log.h"

#define CHUNK_BATCH_BYTES	(8u << 20)
/* a packing writer's locators per batch: about 750, naming ~50 MiB of chunks */
#define LOC_BATCH_BYTES		(16u << 10)
#define SPACE_MARGIN		(8u << 20)	/* for WAL, SSTs, MANIFEST and logs */
#define STREAM_BUF		(2 * CHUNK_MAX)
/* POOLFS_TEST_PACK_KILL=STEP: SIGKILL there, for tests/test_pack.c */
static bool pack_kill_at(const char *step)
{
#ifdef POOL_TEST
	const char *env = getenv("POOLFS_TEST_PACK_KILL");

	return env && !strcmp(env, step);
#else
	(void)step;
	return false;
#endif
}

/* first size of the table of hashes met: most views and files are a chunk or two */
#define SEEN_MIN		16

struct chunk_writer {
	struct store *s;
	rocksdb_writebatch_t *batch;
	size_t pending;			/* chunk bytes in batch */
	rocksdb_writeoptions_t *nowal;	/* set once the writer skips the WAL */
	size_t room;			/* direct puts left before room_for() again */
	uint8_t (*seen)[33];		/* hashes met, each pinned; [32] = slot used */
	size_t seen_n, seen_cap;
	uint8_t *sealed;		/* a chunk's sealed bytes, encrypted pools */
	bool packing;			/* past one batch, in a pool with packs on */
	uint32_t pack_from;		/* first pack it may append to (pack_hold); 0 none */
	struct pack_extents appended;	/* its records, for an abandoned write */
	struct strbuf held;		/* packs on, not yet packing: key, be32
					 * length, stored bytes of each chunk */
	size_t held_bytes;		/* their stored bytes (in pending too) */
};

struct chunk_writer *chunk_writer_new(struct store *s)
{
	struct chunk_writer *cw = xcalloc(1, sizeof(*cw));

	cw->s = s;

	cw->batch = rocksdb_writebatch_create();
	strbuf_init(&cw->held, 0);
	return cw;
}

static size_t sha_slot(const uint8_t sha[32], size_t cap)
{
	uint64_t h;

	memcpy(&h, sha, sizeof(h));
	return (size_t)(h & (cap - 1));
}

static void seen_grow(struct chunk_writer *cw)
{
	size_t cap = cw->seen_cap ? 2 * cw->seen_cap : SEEN_MIN, i;
	uint8_t (*t)[33] = xcalloc(cap, sizeof(*t));

	for (size_t k = 0; k < cw->seen_cap; k++) {
		if (!cw->seen[k][32])
			continue;
		for (i = sha_slot(cw->seen[k], cap); t[i][32]; i = (i + 1) & (cap - 1))
			;
		memcpy(t[i], cw->seen[k], 33);
	}
	free(cw->seen);
	cw->seen = t;
	cw->seen_cap = cap;
}

/* Open addressing on the hash's first bytes; true when sha is new. */
static bool seen_add(struct chunk_writer *cw, const uint8_t sha[32])
{
	size_t i;

	if (2 * (cw->seen_n + 1) > cw->seen_cap)
		seen_grow(cw);
	for (i = sha_slot(sha, cw->seen_cap); cw->seen[i][32]; i = (i + 1) & (cw->seen_cap - 1))
		if (!memcmp(cw->seen[i], sha, 32))
			return false;
	memcpy(cw->seen[i], sha, 32);
	cw->seen[i][32] = 1;
	cw->seen_n++;
	return true;
}

#define SEEN_PACKED	2		/* seen[i][32]: its bytes went to a pack */

/* Marks sha (seen) as stored in a pack by this writer. */
static void seen_packed(struct chunk_writer *cw, const uint8_t sha[32])
{
	for (size_t i = sha_slot(sha, cw->seen_cap); cw->seen[i][32];
	     i = (i + 1) & (cw->seen_cap - 1))
		if (!memcmp(cw->seen[i], sha, 32)) {
			cw->seen[i][32] = SEEN_PACKED;
			return;
		}
}

static int rocks_error(struct store *s, char *err, const char *what)
{
	int ret = strstr(err, "No space") || strstr(err, "ENOSPC") ? -ENOSPC : -EIO;

	log_err("%s: %s failed: %s", store_dir(s), what, err);
	ret = store_fail(s, ret, err);
	rocksdb_free(err);
	return ret;
}

/*
 * -ENOSPC unless the store's filesystem has room for bytes more of chunk
 * data on top of what the chunks memtable holds unflushed, plus a margin
 * for RocksDB's own files. RocksDB that runs out of space in a flush
 * stops taking writes until it is reopened, audit records included, so
 * a write that would not fit must fail here, as the spill file's pwrite
 * fails, while the store can still say so. Best effort: when it cannot
 * tell, RocksDB tries.
 */
static int room_for(struct chunk_writer *cw, uint64_t bytes)
{
	struct statvfs sv;
	uint64_t mem = 0, avail;

	if (statvfs(store_dir(cw->s), &sv))
		return 0;
	if (rocksdb_property_int_cf(cw->s->db, cw->s->cf[CF_CHUNKS],
				    "rocksdb.cur-size-all-mem-tables", &mem))
		mem = 0;
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (avail >= bytes + mem + SPACE_MARGIN)
		return 0;
	log_err("%s: no room for %llu bytes of chunks (%llu free, %llu not yet flushed)",
		store_dir(cw->s), (unsigned long long)bytes, (unsigned long long)avail,
		(unsigned long long)mem);
	return -ENOSPC;
}

static int pack_put(struct chunk_writer *cw, const uint8_t key[33], const uint8_t *data,
		    uint32_t len);

/*
 * The buffer of the last batch held back, kept for the next writer: its
 * 8 MiB (2 000 pages) faulted in afresh for every large file cost more
 * than the copy itself in this VM (store/chunk_pipe.c, PIPE_CACHE). One
 * is kept; more writers at once allocate their own.
 */
static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;
static struct strbuf held_spare = STRBUF_INIT;	/* protected by held_lock */

/* An empty held buffer for cw: the spare when there is one. */
static void held_take(struct chunk_writer *cw)
{
	pthread_mutex_lock(&held_lock);
	if (held_spare.alloc) {
		cw->held = held_spare;
		strbuf_init(&held_spare, 0);
	}
	pthread_mutex_unlock(&held_lock);
}

/* Gives h back as the spare, or frees it when there is one already. */
static void held_give(struct strbuf *h)
{
	strbuf_setlen(h, 0);
	pthread_mutex_lock(&held_lock);
	if (!held_spare.alloc && h->alloc) {
		held_spare = *h;
		strbuf_init(h, 0);
	}
	pthread_mutex_unlock(&held_lock);
	strbuf_release(h);
}

/*
 * The chunks held back in a pool with packs: into packs once they fill a
 * batch (a large commit; the writer packs from then on), else into the
 * batch, which goes through the WAL (a small commit, or chunks wanted
 * readable early). So a large commit logs no chunk bytes to the WAL,
 * where an abandoned one's would stay until the next flush.
 */
static int held_release(struct chunk_writer *cw)
{
	struct strbuf h = cw->held;
	const uint8_t *p = (const uint8_t *)h.buf, *end = p + h.len;
	bool pack = cw->held_bytes >= CHUNK_BATCH_BYTES;
	int ret = 0;

	/* detached: pack_put may write a batch, which comes back here */
	strbuf_init(&cw->held, 0);
	cw->pending -= cw->held_bytes;
	cw->held_bytes = 0;
	if (pack)
		cw->packing = true;
	while (!ret && p < end) {
		uint32_t len = get_be32(p + 33);

		if (pack) {
			ret = pack_put(cw, p, p + 37, len);
		} else {
			rocksdb_writebatch_put_cf(cw->batch, cw->s->cf[CF_CHUNKS], (const char *)p,
						  33, (const char *)p + 37, len);
			cw->pending += len;
		}
		p += 37 + len;
	}
	held_give(&h);
	return ret;
}

static int batch_write(struct chunk_writer *cw, bool wal)
{
	char *err = NULL;
	int ret = cw->held.len ? held_release(cw) : 0;

	if (!ret)
		ret = room_for(cw, cw->pending);
	if (ret)
		return ret;
	if (wal || pack_enabled(cw->s)) {
		/* with packs, what a batch still holds inline goes through the WAL once */
		ret = store_write(cw->s, cw->batch, false);
		if (!wal)
			cw->packing = true;
	} else if ((ret = store_failed(cw->s))) {
		/* the store takes no more writes (store_write) */
	} else {
		if (!cw->nowal) {
			cw->nowal = rocksdb_writeoptions_create();
			rocksdb_writeoptions_disable_WAL(cw->nowal, 1);
		}
		rocksdb_write(cw->s->db, cw->nowal, cw->batch, &err);
		if (err)
			ret = rocks_error(cw->s, err, "writing chunks");
	}
	rocksdb_writebatch_clear(cw->batch);
	cw->pending = 0;
	return ret;
}

/*
 * Chunk batches are unsynced, and how they reach the disk depends on how
 * much a commit stores. A commit of one batch or less writes it through
 * the WAL just before its synced batch: RocksDB logs every write to one
 * WAL in order and a synced write syncs all that was logged before it.
 * Anything bigger would be written twice that way (WAL, then blob files),
 * so as soon as a batch fills, or chunks must be readable before the
 * commit, batches skip the WAL and chunk_writer_finish() flushes the
 * chunks family before the commit batch is written. Either way a crash
 * before the commit leaves chunks no refs row counts, never a version
 * naming a missing chunk, and an abandoned writer's chunks never reached
 * the disk or are deleted (chunk_writer_clean) before they do.
 *
 * In a pool with packs on (store/pack.h) a commit past one batch appends
 * its chunks to a pack instead and logs only their locators, and
 * chunk_writer_finish() syncs the pack before them. Its first batch is
 * held back (held_release) until the writer knows which it is.
 */
int chunk_writer_flush(struct chunk_writer *cw)
{
	return cw->pending ? batch_write(cw, false) : 0;
}

int chunk_writer_finish(struct chunk_writer *cw)
{
	int ret;

	if (cw->packing) {
		/*
		 * Pack bytes are durable before the locators that name them are
		 * even logged; the locators are in the WAL ahead of the commit's
		 * synced batch, which syncs them with it. No flush of the chunks
		 * family: RocksDB never holds these bytes.
		 */
		ret = cw->pack_from ? pack_sync(cw->s, cw->pack_from) : 0;
		if (!ret && cw->pending)
			ret = batch_write(cw, true);
		/* tests/test_pack.c: a crash with all of it on disk but the commit */
		if (pack_kill_at("commit"))
			raise(SIGKILL);
		return ret;
	}
	if (!cw->nowal)
		return cw->pending ? batch_write(cw, true) : 0;
	ret = chunk_writer_flush(cw);
	if (!ret)
		ret = room_for(cw, 0);
	if (ret)
		return ret;
	return store_flush(cw->s, CF_CHUNKS);
}

/*
 * Room for len more bytes written past the batches: checked against the
 * free space once per batch's worth, not per chunk.
 */
static int room_take(struct chunk_writer *cw, uint64_t len)
{
	int ret;

	if (cw->room >= len)
		return 0;
	ret = room_for(cw, CHUNK_BATCH_BYTES);
	if (!ret)
		ret = store_failed(cw->s);
	if (!ret)
		cw->room = CHUNK_BATCH_BYTES;
	return ret;
}

/* tests/test_pack.c: lots small enough for its writes to log several */
static size_t loc_batch_bytes(void)
{
	return (size_t)store_test_size("POOLFS_TEST_LOC_BATCH", LOC_BATCH_BYTES);
}

/*
 * The locators of pack records r just appended, into the batch, which
 * goes through the WAL.
 */
static int locs_log(struct chunk_writer *cw, const struct pack_recs *r)
{
	uint8_t loc[PACK_LOC_LEN];
	int ret;

	for (size_t i = 0; i < r->n; i++) {
		const struct pack_loc *l = &r->loc[i];

		cw->room -= r->len[i];
		pack_extent_add(&cw->appended, l->pack, l->off - PACK_REC_HDR,
				PACK_REC_HDR + (uint64_t)r->len[i]);
		seen_packed(cw, r->key[i] + 1);
		pack_loc_encode(l, loc);
		rocksdb_writebatch_put_cf(cw->batch, cw->s->cf[CF_CHUNKS], (const char *)r->key[i],
					  33, (const char *)loc, sizeof(loc));
		cw->pending += sizeof(loc);
	}
	/*
	 * Locators are logged as the pack grows, each lot once the pack
	 * bytes it names are synced. Left to the commit, a 1 GiB file's
	 * 16 000 of them were one batch written after its last byte, in the
	 * serial tail where the write's other threads have nothing to do.
	 */
	if (cw->pending < loc_batch_bytes())
		return 0;
	ret = pack_sync(cw->s, cw->pack_from);
	if (!ret)
		ret = batch_write(cw, true);
	/* tests/test_pack.c: a crash in the middle of a write, a lot logged */
	if (!ret && pack_kill_at("lot"))
		raise(SIGKILL);
	return ret;
}

/*
 * Chunks r (their stored bytes) of a large commit in a pool with packs:
 * appended to a pack in one go, their locators into the batch, which
 * goes through the WAL.
 */
static int pack_put_many(struct chunk_writer *cw, const struct pack_recs *r)
{
	uint64_t bytes = 0;
	int ret;

	for (size_t i = 0; i < r->n; i++)
		bytes += r->len[i];
	ret = room_take(cw, bytes);
	if (ret)
		return ret;
	/* held before the first append: pack GC leaves this pack and later ones alone */
	if (!cw->pack_from)
		cw->pack_from = pack_hold(cw->s);
	ret = pack_append_many(cw->s, r);
	return ret ? ret : locs_log(cw, r);
}

static int pack_put(struct chunk_writer *cw, const uint8_t key[33], const uint8_t *data,
		    uint32_t len)
{
	struct pack_loc l;
	const struct pack_recs r = { 1, &key, &data, &len, &l };

	return pack_put_many(cw, &r);
}

/*
 * Once the writer skips the WAL (a commit bigger than one batch), a
 * chunk goes straight into the memtable: through a batch it would be
 * copied twice, into the batch and then into the memtable, and the copy
 * is the largest cost of storing a chunk after hashing it. The free-space
 * check keeps the batch's granularity.
 */
static int direct_put(struct chunk_writer *cw, const uint8_t key[33], const uint8_t *data,
		      uint32_t len)
{
	char *err = NULL;
	int ret;

	ret = room_take(cw, len);
	if (ret)
		return ret;
	rocksdb_put_cf(cw->s->db, cw->nowal, cw->s->cf[CF_CHUNKS], (const char *)key, 33,
		       (const char *)data, len, &err);
	if (err)
		return rocks_error(cw->s, err, "writing chunks");
	cw->room -= len;
	return 0;
}

int chunk_writer_id(const struct chunk_writer *cw, const uint8_t *data, uint32_t len,
		    uint8_t sha[32])
{
	/* keyed: the id says nothing about which known file the pool holds */
	if (cw->s->crypt)
		return crypt_chunk_id(cw->s->crypt->k, data, len, sha);
	SHA256(data, len, sha);
	return 0;
}

void chunk_writer_ids(const struct chunk_writer *cw, size_t n, const uint8_t *const data[],
		      const size_t len[], uint8_t sha[][32], int ret[])
{
	if (cw->s->crypt) {
		crypt_chunk_ids(cw->s->crypt->k, n, data, len, sha, ret);
		return;
	}
	sha256_multi(n, data, len, sha);
	for (size_t i = 0; i < n; i++)
		ret[i] = 0;
}

int chunk_writer_put(struct chunk_writer *cw, const uint8_t *data, uint32_t len,
		     uint8_t sha[32])
{
	int ret = chunk_writer_id(cw, data, len, sha);

	return ret ? ret : chunk_writer_store(cw, data, len, sha, NULL);
}

uint8_t *chunk_writer_seal_buf(const struct chunk_writer *cw, size_t bytes, size_t chunks)
{
	return cw->s->crypt ? xmalloc(bytes + chunks * CRYPT_OVERHEAD) : NULL;
}

int chunk_writer_seal(const struct chunk_writer *cw, const uint8_t *data, uint32_t len,
		      const uint8_t sha[32], uint8_t *out)
{
	uint8_t key[33];

	if (len > CHUNK_MAX)
		return -EINVAL;
	key[0] = 'c';
	memcpy(key + 1, sha, 32);
	return store_seal_to(cw->s, CF_CHUNKS, key, sizeof(key), data, len, out);
}

/*
 * 1 when sha's chunk must be stored (new to this writer and to the
 * pool; key filled), 0 when it is stored already, else a negative errno.
 */
static int store_wanted(struct chunk_writer *cw, const uint8_t sha[32], uint8_t key[33])
{
	struct strbuf v = STRBUF_INIT;
	int ret;

	if (!seen_add(cw, sha))
		return 0;
	/* pinned before the refs row is read: see store/view_pin.c */
	chunk_pin(sha);
	key[0] = 'c';
	memcpy(key + 1, sha, 32);
	/*
	 * A refs row proves the chunk is stored, and refs has the bloom filter
	 * that makes the usual miss cheap. A chunk a crashed commit left
	 * without a row is written again: same key, same bytes.
	 */
	ret = store_get(cw->s, CF_REFS, key, 33, &v);
	strbuf_release(&v);
	return ret == -ENOENT ? 1 : ret;
}

/* Stores chunk key, new: data is its stored form (sealed, in an encrypted pool). */
static int store_new(struct chunk_writer *cw, const uint8_t key[33], const uint8_t *data,
		     uint32_t len)
{
	if (cw->packing && len >= PACK_MIN_STORED)
		return pack_put(cw, key, data, len);
	if (!cw->packing && len >= PACK_MIN_STORED && pack_enabled(cw->s)) {
		uint8_t be[4];

		if (!cw->held.alloc)
			held_take(cw);
		put_be32(be, len);
		strbuf_add(&cw->held, key, 33);
		strbuf_add(&cw->held, be, 4);
		strbuf_add(&cw->held, data, len);
		cw->held_bytes += len;
		cw->pending += len;
		return cw->pending >= CHUNK_BATCH_BYTES ? chunk_writer_flush(cw) : 0;
	}
	if (cw->nowal)
		return direct_put(cw, key, data, len);
	rocksdb_writebatch_put_cf(cw->batch, cw->s->cf[CF_CHUNKS], (const char *)key, 33,
				  (const char *)data, len);
	cw->pending += len;
	if (cw->pending >= CHUNK_BATCH_BYTES)
		return chunk_writer_flush(cw);
	return 0;
}

int chunk_writer_store(struct chunk_writer *cw, const uint8_t *data, uint32_t len,
		       const uint8_t sha[32], const uint8_t *sealed)
{
	uint8_t key[33];
	int ret = store_wanted(cw, sha, key);

	if (ret <= 0)
		return ret;
	if (cw->s->crypt && !sealed) {
		if (!cw->sealed)
			cw->sealed = chunk_writer_seal_buf(cw, CHUNK_MAX, 1);
		ret = chunk_writer_seal(cw, data, len, sha, cw->sealed);
		if (ret)
			return ret;
		sealed = cw->sealed;
	}
	if (cw->s->crypt) {
		data = sealed;
		len += CRYPT_OVERHEAD;
	}
	return store_new(cw, key, data, len);
}

void chunk_writer_store_many(struct chunk_writer *cw, size_t n, const uint8_t *const data[],
			     const size_t len[], const uint8_t sha[][32],
			     const uint8_t *const sealed[], int rets[])
{
	uint8_t keys[PACK_APPEND_MAX][33];
	const uint8_t *key[PACK_APPEND_MAX], *bytes[PACK_APPEND_MAX];
	uint32_t stored[PACK_APPEND_MAX];
	struct pack_loc loc[PACK_APPEND_MAX];
	size_t which[PACK_APPEND_MAX], m = 0;
	struct pack_recs r = { 0, key, bytes, stored, loc };
	int ret;

	for (size_t i = 0; i < n; i++) {
		uint32_t slen = (uint32_t)len[i] + (cw->s->crypt ? CRYPT_OVERHEAD : 0);

		if (rets[i])
			continue;
		/* a packing writer's new chunks wait for one append; the rest go one by one */
		if (!cw->packing || slen < PACK_MIN_STORED || (cw->s->crypt && !sealed[i]) ||
		    m == PACK_APPEND_MAX) {
			rets[i] = chunk_writer_store(cw, data[i], (uint32_t)len[i], sha[i], sealed[i]);
			continue;
		}
		ret = store_wanted(cw, sha[i], keys[m]);
		if (ret <= 0) {
			rets[i] = ret;
			continue;
		}
		key[m] = keys[m];
		bytes[m] = cw->s->crypt ? sealed[i] : data[i];
		stored[m] = slen;
		which[m++] = i;
	}
	if (!m)
		return;
	r.n = m;
	ret = pack_put_many(cw, &r);
	for (size_t k = 0; k < m; k++)
		rets[which[k]] = ret;
}

/*
 * Deletes the chunks this writer met that nothing counts and no other
 * writer has pinned: what an abandoned write would otherwise leave behind
 * for good. Best effort; a chunk left over costs space, never
 * correctness. True when every chunk it put in a pack was deleted, so
 * no one can name those records any more.
 */
static bool chunk_writer_clean(struct chunk_writer *cw)
{
	bool all_packed = true;
	rocksdb_writebatch_t *b = rocksdb_writebatch_create();
	struct strbuf v = STRBUF_INIT;
	uint8_t key[33] = { 'c' };
	size_t dropped = 0;

	pins_lock();
	for (size_t i = 0; i < cw->seen_cap; i++) {
		if (!cw->seen[i][32])
			continue;
		if (chunk_pins_locked(cw->seen[i]) != 1) {
			all_packed = all_packed && cw->seen[i][32] != SEEN_PACKED;
			continue;
		}
		memcpy(key + 1, cw->seen[i], 32);
		if (store_get(cw->s, CF_REFS, key, sizeof(key), &v) != -ENOENT) {
			all_packed = all_packed && cw->seen[i][32] != SEEN_PACKED;
			continue;
		}
		rocksdb_writebatch_delete_cf(b, cw->s->cf[CF_CHUNKS], (const char *)key,
					     sizeof(key));
		dropped++;
	}
	if (dropped && store_write(cw->s, b, false)) {
		log_warn("%s: %zu unused chunks left behind", store_dir(cw->s), dropped);
		all_packed = false;
	}
	/* under the pins: a writer meeting one of them now stores it anew */
	if (all_packed && cw->appended.n)
		pack_extents_punch(cw->s, &cw->appended);
	pins_unlock();
	strbuf_release(&v);
	rocksdb_writebatch_destroy(b);
	return all_packed;
}

void chunk_writer_free(struct chunk_writer *cw, bool committed)
{
	if (!cw)
		return;
	rocksdb_writebatch_clear(cw->batch);
	if (!committed && cw->seen_n && !(cw->s->flags & STORE_OPEN_RDONLY))
		(void)chunk_writer_clean(cw);
	pack_extents_release(&cw->appended);
	/* what the commit did not count is garbage in its pack, never live bytes */
	for (size_t i = 0; cw->pack_from && i < cw->seen_cap; i++)
		if (cw->seen[i][32])
			pack_forget(cw->s, cw->seen[i]);
	if (cw->seen_n)
		chunk_unpin_many((const uint8_t (*)[33])cw->seen, cw->seen_cap);
	if (cw->pack_from)
		pack_unhold(cw->s, cw->pack_from);
	rocksdb_writebatch_destroy(cw->batch);
	held_give(&cw->held);
	if (cw->nowal)
		rocksdb_writeoptions_destroy(cw->nowal);
	free(cw->seen);
	free(cw->sealed);
	free(cw);
}

/* ---- chunk streams ---- */

void chunk_stream_init(struct chunk_stream *cs, struct chunk_writer *cw, struct chunk_list *out)
{
	cs->cw = cw;
	cs->out = out;
	cs->buf = NULL;
	cs->len = 0;
}

void chunk_stream_release(struct chunk_stream *cs)
{
	free(cs->buf);
	cs->buf = NULL;
	cs->len = 0;
}

static int stream_put(struct chunk_stream *cs, const uint8_t *p, size_t c)
{
	uint8_t sha[32];
	int ret = chunk_writer_put(cs->cw, p, (uint32_t)c, sha);

	if (!ret)
		chunk_list_add(cs->out, sha, (uint32_t)c);
	return ret;
}

/*
 * Chunks straight from p where a chunk starts there; only bytes of a
 * chunk that p does not finish are copied, into buf. A cut never lies
 * inside what buf held already (it held no cut), so once buf and the
 * copied bytes make a chunk, p goes on right after it.
 */
int chunk_stream_add(struct chunk_stream *cs, const uint8_t *p, size_t n)
{
	size_t c, k;
	int ret;

	if (!cs->buf)
		cs->buf = xmalloc(STREAM_BUF);

	while (n) {
		if (!cs->len) {
			c = chunker_next(p, n, false);
			if (!c) {
				/* no cut yet, so n < CHUNK_MAX */
				memcpy(cs->buf, p, n);
				cs->len = n;
				return 0;
			}
			ret = stream_put(cs, p, c);
			if (ret)
				return ret;
			p += c;
			n -= c;
			continue;
		}
		k = n < CHUNK_MAX ? n : CHUNK_MAX;
		memcpy(cs->buf + cs->len, p, k);
		c = chunker_next(cs->buf, cs->len + k, false);
		if (!c) {
			cs->len += k;
			return 0;
		}
		ret = stream_put(cs, cs->buf, c);
		if (ret)
			return ret;
		p += c - cs->len;
		n -= c - cs->len;
		cs->len = 0;
	}
	return 0;
}

int chunk_stream_finish(struct chunk_stream *cs, struct chunk_list *out)
{
	size_t off = 0, c;
	uint8_t sha[32];
	int ret = 0;

	while (off < cs->len && !ret) {
		c = chunker_next(cs->buf + off, cs->len - off, true);
		ret = chunk_writer_put(cs->cw, cs->buf + off, (uint32_t)c, sha);
		if (!ret)
			chunk_list_add(out, sha, (uint32_t)c);
		off += c;
	}
	return ret;
}
