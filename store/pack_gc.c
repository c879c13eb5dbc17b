/*
 * store/pack_gc.c - pack GC and re-sealing pack records
 * (docs/storage.md "Packs", "GC").
 *
 * A pack is rewritten a group of records at a time. Under s->lock (so no
 * commit or view eviction changes a refs row or a live count meanwhile)
 * each record whose chunks-family value is still a locator to exactly
 * that record, whose bytes pass the locator's CRC and whose chunk a refs
 * row counts is appended to the current pack; the pack is synced, then
 * the new locators and live counts are written in one synced batch. The
 * old pack goes only after every group: its live-count row first, then
 * the file. A crash before a group's batch leaves the new records as
 * garbage nobody names (the old locators stand); after it, the old pack
 * is a file no locator names, chosen again by the next pass (its live
 * count is about 0) and deleted then.
 *
 * Bytes only ever move to the locator of the key written in front of
 * them, and only when that key's locator named them: a record whose key
 * was edited is never anyone's. Damaged bytes are never moved under a
 * fresh CRC: their pack stays, and scrub reports them.
 *
 * A locator no refs row counts (a crashed commit's, or one whose view
 * was evicted) is deleted rather than moved, under pins_lock() like
 * eviction's deletions, unless a writer has the chunk pinned: then the
 * pack stays for a later pass.
 */
#include "common/alloc.h"
#include "common/codec.h"
#include "store/chunker.h"
#include "store/crypt_store.h"
#include "store/content.h"
#include "store/internal.h"
#include "store/pack.h"
#include "store/pack_gc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

#define GROUP_BYTES	(8u << 20)
#define FILE_HDR	16

struct rec {
	uint8_t key[33];
	uint64_t off;			/* of the bytes */
	uint32_t len;
	size_t at;			/* in gc->buf */
};

struct gc {
	struct store *s;
	struct pack_gc_stats *st;
	uint32_t n;
	bool reseal;
	uint32_t cur_key;		/* reseal: the current data key */
	int fd;
	uint64_t size, pos;
	bool end;			/* scanned to the end */
	bool keep;			/* the pack must stay */
	bool damaged;			/* ... until someone mends it */
	struct rec *v, *drop;
	size_t nv, av, nd, ad;
	struct strbuf buf, val;
	uint8_t *plain, *sealed;
};

static pthread_mutex_t gc_mu = PTHREAD_MUTEX_INITIALIZER;

/* The background pass's memory (below); nothing when there is none. */
static bool stopping(struct store *s);
static bool known_bad(struct store *s, uint32_t n, uint64_t live, uint64_t size);
static void note_bad(struct store *s, uint32_t n, uint64_t size);

#ifdef POOL_TEST
/* POOLFS_TEST_PACK_GC_KILL=STEP: SIGKILL there, for tests/test_pack_gc.c */
static void test_kill(const char *step)
{
	const char *env = getenv("POOLFS_TEST_PACK_GC_KILL");

	if (env && !strcmp(env, step))
		raise(SIGKILL);
}
#else
static void test_kill(const char *step)
{
	(void)step;
}
#endif

static void pack_path(struct store *s, uint32_t n, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_addf(out, "%s/%08u.pack", pack_dir(s), n);
}

/*
 * *pos is at a zero byte where a record header would start: a hole an
 * abandoned write punched (store/pack_abandon.c; a key starts with 'c',
 * never 0). Moves *pos to the next byte that is not zero, or to size.
 */
static int skip_punched(int fd, uint64_t size, uint64_t *pos)
{
	uint8_t blk[4096];

	while (*pos < size) {
		off_t data = lseek(fd, (off_t)*pos, SEEK_DATA);
		size_t n, i;
		int ret;

		if (data < 0) {
			if (errno != ENXIO)
				return -errno;
			*pos = size;	/* a hole to the end */
			break;
		}
		if ((uint64_t)data > *pos)
			*pos = (uint64_t)data;
		n = size - *pos < sizeof(blk) ? (size_t)(size - *pos) : sizeof(blk);
		ret = store_pread_full(fd, blk, n, *pos);
		if (ret)
			return ret;
		for (i = 0; i < n && !blk[i]; i++)
			;
		*pos += i;
		if (i < n)
			break;
	}
	return 0;
}

/*
 * The next group of records from g->pos. A tail too short for its record
 * is a crash's torn append (never named); any other bad header is
 * damage, after which nothing can be told apart: the pack stays.
 */
static int scan_group(struct gc *g)
{
	uint8_t hdr[PACK_REC_HDR];
	int ret;

	g->nv = 0;
	strbuf_reset(&g->buf);
	while (g->buf.len < GROUP_BYTES) {
		struct rec *r;
		uint32_t len;

		if (g->size - g->pos < PACK_REC_HDR) {
			g->end = true;
			break;
		}
		ret = store_pread_full(g->fd, hdr, sizeof(hdr), g->pos);
		if (ret)
			return ret;
		if (!hdr[0]) {
			ret = skip_punched(g->fd, g->size, &g->pos);
			if (ret)
				return ret;
			continue;
		}
		len = get_be32(hdr + 33);
		if (hdr[0] != 'c' || len < PACK_MIN_STORED || len > CHUNK_MAX + CRYPT_OVERHEAD) {
			log_err("%s: pack %u: the record header at %llu is damaged; the pack stays",
				pack_dir(g->s), g->n, (unsigned long long)g->pos);
			g->keep = g->damaged = true;
			g->end = true;
			break;
		}
		if (g->size - g->pos - PACK_REC_HDR < len) {
			g->end = true;
			break;
		}
		ALLOC_GROW(g->v, g->nv + 1, g->av);
		r = &g->v[g->nv++];
		memcpy(r->key, hdr, 33);
		r->off = g->pos + PACK_REC_HDR;
		r->len = len;
		r->at = g->buf.len;
		strbuf_grow(&g->buf, len);
		ret = store_pread_full(g->fd, (uint8_t *)g->buf.buf + r->at, len, r->off);
		if (ret)
			return ret;
		strbuf_setlen(&g->buf, r->at + len);
		g->pos = r->off + len;
	}
	return 0;
}

/* Whether chunk key's value is the locator of record r of pack n, decoded into *l. */
static int names_rec(struct gc *g, const struct rec *r, struct pack_loc *l)
{
	int ret = store_get(g->s, CF_CHUNKS, r->key, 33, &g->val);

	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	/* an inline value (the chunk stored again) or anything else: not this record */
	if (pack_loc_decode(g->val.buf, g->val.len, r->len, l) != 0)
		return 0;
	return l->pack == g->n && l->off == r->off;
}

static void gc_bufs(struct gc *g)
{
	if (!g->plain) {
		g->plain = xmalloc(CHUNK_MAX + CRYPT_OVERHEAD);
		g->sealed = xmalloc(CHUNK_MAX + CRYPT_OVERHEAD);
	}
}

/*
 * Whether r's bytes are what l wrote: their CRC, or for a sealed record
 * (no CRC kept) its tag, so GC never moves damage into a new pack.
 */
static bool rec_intact(struct gc *g, const struct rec *r, const struct pack_loc *l)
{
	const uint8_t *data = (const uint8_t *)g->buf.buf + r->at;

	if (!l->sealed)
		return pack_crc32c(data, r->len, 0) == l->crc;
	if (!g->s->crypt)
		return false;
	gc_bufs(g);
	return !store_check_to(g->s, CF_CHUNKS, r->key, 33, data, r->len, g->plain);
}

/* The bytes r moves with: as they are, or opened and sealed under the current key. */
static int rec_bytes(struct gc *g, const struct rec *r, const uint8_t **out, uint32_t *len)
{
	const uint8_t *data = (const uint8_t *)g->buf.buf + r->at;
	int ret;

	*out = data;
	*len = r->len;
	if (!g->reseal || crypt_key_of(data, r->len) == g->cur_key)
		return 0;
	gc_bufs(g);
	ret = store_open_to(g->s, CF_CHUNKS, r->key, 33, data, r->len, g->plain);
	if (!ret)
		ret = store_seal_to(g->s, CF_CHUNKS, r->key, 33, g->plain, r->len - CRYPT_OVERHEAD,
				    g->sealed);
	if (ret)
		return ret;
	*out = g->sealed;
	return 0;
}

/*
 * Deletes the locators into this group that no refs row counts, unless a
 * writer has their chunk pinned (it may be about to list it). Holds
 * s->lock; pins_lock() from the check until the batch is written, as
 * view eviction does, so a writer pinning later finds the chunk gone.
 */
static int drop_unreferenced(struct gc *g)
{
	rocksdb_writebatch_t *b;
	uint64_t dropped = 0;
	struct pack_loc l;
	int ret = 0;

	if (!g->nd)
		return 0;
	b = rocksdb_writebatch_create();
	pins_lock();
	for (size_t i = 0; i < g->nd && !ret; i++) {
		const struct rec *r = &g->drop[i];

		ret = names_rec(g, r, &l);
		if (ret <= 0)
			continue;
		ret = 0;
		if (chunk_pins_locked(r->key + 1)) {
			g->keep = true;
			continue;
		}
		rocksdb_writebatch_delete_cf(b, g->s->cf[CF_CHUNKS], (const char *)r->key, 33);
		dropped++;
	}
	if (!ret && dropped)
		ret = store_write(g->s, b, true);
	pins_unlock();
	rocksdb_writebatch_destroy(b);
	if (!ret)
		g->st->dropped += dropped;
	g->nd = 0;
	return ret;
}

static int move_group(struct gc *g)
{
	rocksdb_writebatch_t *b = rocksdb_writebatch_create();
	struct pack_tally t = { 0 };
	struct strbuf refs = STRBUF_INIT;
	uint8_t loc[PACK_LOC_LEN];
	uint64_t moved = 0, bytes = 0;
	uint32_t first = 0;
	struct pack_loc l;
	int ret = 0;

	pthread_mutex_lock(&g->s->lock);
	for (size_t i = 0; i < g->nv && !ret; i++) {
		const struct rec *r = &g->v[i];
		const uint8_t *data;
		struct pack_loc nl;
		uint32_t len;

		ret = names_rec(g, r, &l);
		if (ret <= 0)
			continue;
		ret = 0;
		if (!rec_intact(g, r, &l)) {
			log_err("%s: pack %u: the %u bytes at %llu fail their check; the pack stays "
				"(poolctl scrub names the file)", pack_dir(g->s), g->n, r->len,
				(unsigned long long)r->off);
			g->keep = g->damaged = true;
			continue;
		}
		ret = store_get(g->s, CF_REFS, r->key, 33, &refs);
		if (ret == -ENOENT) {
			ALLOC_GROW(g->drop, g->nd + 1, g->ad);
			g->drop[g->nd++] = *r;
			ret = 0;
			continue;
		}
		if (!ret)
			ret = rec_bytes(g, r, &data, &len);
		if (ret == -EIO || ret == -EBADMSG || ret == -ENOKEY) {
			/* a record it cannot open is not re-sealed, nor is its pack dropped */
			g->keep = g->damaged = true;
			ret = 0;
			continue;
		}
		if (!ret)
			ret = pack_move_append(g->s, r->key, data, len, &nl);
		if (ret)
			break;
		if (!first)
			first = nl.pack;
		pack_loc_encode(&nl, loc);
		rocksdb_writebatch_put_cf(b, g->s->cf[CF_CHUNKS], (const char *)r->key, 33,
					  (const char *)loc, sizeof(loc));
		pack_tally_add(&t, g->n, -(int64_t)(PACK_REC_HDR + r->len));
		pack_tally_add(&t, nl.pack, PACK_REC_HDR + len);
		moved++;
		bytes += len;
	}
	if (!ret && first) {
		/* the new records durable before any locator names them */
		ret = pack_sync(g->s, first);
		test_kill("synced");
		if (!ret)
			ret = pack_tally_apply(g->s, b, &t);
		if (!ret)
			ret = store_write(g->s, b, true);
		test_kill("swapped");
	}
	if (!ret)
		ret = drop_unreferenced(g);
	pthread_mutex_unlock(&g->s->lock);
	if (!ret) {
		g->st->moved += moved;
		g->st->moved_bytes += bytes;
	}
	pack_tally_release(&t);
	strbuf_release(&refs);
	rocksdb_writebatch_destroy(b);
	return ret;
}

/* Whether a backup create may be between its checkpoint and its copy of the packs. */
static bool backup_running(struct store *s)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	bool yes;

	strbuf_addf(&path, "%s/" STORE_BACKUP_CHECKPOINT, s->dir);
	yes = !lstat(path.buf, &st);
	strbuf_addstr(&path, ".tmp");
	yes = yes || !lstat(path.buf, &st);
	strbuf_release(&path);
	return yes;
}

/* Pack n, which no locator names any more: its live-count row, then the file. */
static int pack_drop(struct gc *g)
{
	rocksdb_writebatch_t *b;
	struct strbuf path = STRBUF_INIT;
	uint8_t key[8];
	int ret;

	/*
	 * After the last locator swap is durable: a checkpoint begun after
	 * this check names only the new places, one begun before is still
	 * there and the pack stays until a later pass.
	 */
	if (backup_running(g->s)) {
		log_info("%s: pack %u: a backup is copying packs; deleted by a later pass",
			 pack_dir(g->s), g->n);
		g->st->kept++;
		return 0;
	}
	ret = pack_start_after(g->s, g->n);
	if (ret)
		return ret;
	pack_live_key(key, g->n);
	b = rocksdb_writebatch_create();
	rocksdb_writebatch_delete_cf(b, g->s->cf[CF_META], (const char *)key, sizeof(key));
	pthread_mutex_lock(&g->s->lock);
	ret = store_write(g->s, b, true);
	pthread_mutex_unlock(&g->s->lock);
	rocksdb_writebatch_destroy(b);
	if (ret)
		return ret;
	pack_path(g->s, g->n, &path);
	if (unlink(path.buf) && errno != ENOENT)
		ret = -errno;
	if (!ret)
		ret = store_fsync_path(pack_dir(g->s));
	/* a reader that read an old locator retries with the new one (pack_chunk_get) */
	pack_retire(g->s, g->n);
	if (!ret) {
		g->st->packs++;
		g->st->freed += g->size;
		log_info("%s: pack %u deleted (%llu bytes)", pack_dir(g->s), g->n,
			 (unsigned long long)g->size);
	} else {
		log_err("%s: %s: %s", pack_dir(g->s), path.buf, strerror(-ret));
	}
	strbuf_release(&path);
	return ret;
}

/*
 * A file shorter than its header is a pack whose creation a crash cut
 * short (nothing was ever appended); one whose header is not its own
 * is left alone.
 */
static int check_header(struct gc *g)
{
	uint8_t hdr[FILE_HDR];
	int ret;

	if (g->size < FILE_HDR) {
		g->end = true;
		return 0;
	}
	ret = store_pread_full(g->fd, hdr, sizeof(hdr), 0);
	if (ret)
		return ret;
	if (memcmp(hdr, "poolfspk", 8) || get_be32(hdr + 8) != 1 || get_be32(hdr + 12) != g->n) {
		log_err("%s: pack %u: not a pack header; the file stays", pack_dir(g->s), g->n);
		g->keep = g->damaged = true;
		g->end = true;
	}
	return 0;
}

static int gc_pack(struct store *s, uint32_t n, int fd, uint64_t size, bool reseal,
		   struct pack_gc_stats *st)
{
	struct gc g = { .s = s, .st = st, .n = n, .reseal = reseal, .fd = fd, .size = size,
			.pos = FILE_HDR, .buf = STRBUF_INIT, .val = STRBUF_INIT };
	int ret = 0;

	if (reseal)
		g.cur_key = crypt_current(s->crypt->k);
	ret = check_header(&g);
	while (!ret && !g.end) {
		ret = scan_group(&g);
		if (!ret && g.nv)
			ret = move_group(&g);
	}
	if (!ret && !g.keep) {
		uint64_t live;

		/*
		 * Every counted record found has been moved and taken off the
		 * count: bytes still counted are records the scan could not see
		 * (a header edited to name another key), so the pack stays.
		 */
		ret = pack_live(s, n, &live);
		if (!ret && live) {
			log_err("%s: pack %u: %llu live bytes not found by its scan; the pack stays",
				pack_dir(s), n, (unsigned long long)live);
			g.keep = g.damaged = true;
		}
	}
	if (!ret && g.damaged)
		note_bad(s, n, size);
	if (!ret && g.keep)
		st->kept++;
	else if (!ret)
		ret = pack_drop(&g);
	free(g.v);
	free(g.drop);
	free(g.plain);
	free(g.sealed);
	strbuf_release(&g.buf);
	strbuf_release(&g.val);
	return ret;
}

/* Whether any record of the pack open at fd is sealed under a key other than cur. */
static int needs_reseal(int fd, uint64_t size, uint32_t cur, bool *yes)
{
	uint8_t hdr[PACK_REC_HDR + CRYPT_HDR_LEN];
	uint64_t pos = FILE_HDR;
	int ret;

	*yes = false;
	while (size >= pos && size - pos >= sizeof(hdr)) {
		uint32_t len;

		ret = store_pread_full(fd, hdr, sizeof(hdr), pos);
		if (ret)
			return ret;
		if (!hdr[0]) {
			ret = skip_punched(fd, size, &pos);
			if (ret)
				return ret;
			continue;
		}
		len = get_be32(hdr + 33);
		if (len < CRYPT_OVERHEAD || size - pos - PACK_REC_HDR < len)
			break;
		/* the header alone names the key: crypt_key_of() only checks the length */
		if (crypt_key_of(hdr + PACK_REC_HDR, len) != cur) {
			*yes = true;
			break;
		}
		pos += PACK_REC_HDR + len;
	}
	/* a damaged or torn tail: rewrite, and let the scan decide what stays */
	if (size >= pos && size - pos >= PACK_REC_HDR && !*yes)
		*yes = true;
	return 0;
}


static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int store_pack_gc(struct store *s, bool reseal, struct pack_gc_stats *st)
{
	struct strbuf path = STRBUF_INIT;
	uint32_t *nums = NULL, bound, max;
	size_t nn = 0, an = 0;
	struct dirent *de;
	DIR *d = NULL;
	int ret = 0;

	memset(st, 0, sizeof(*st));
	if (!s->packs || (s->flags & STORE_OPEN_RDONLY) || !pack_any(s))
		return 0;
	if (reseal && !s->crypt)
		return -EINVAL;
	/* re-sealing must not be skipped because a background pass runs: it waits */
	if (reseal)
		pthread_mutex_lock(&gc_mu);
	else if (pthread_mutex_trylock(&gc_mu))
		return 0;
	bound = pack_gc_bound(s, &max);
	d = opendir(pack_dir(s));
	if (!d) {
		ret = errno == ENOENT ? 0 : -errno;
		goto out;
	}
	while ((de = readdir(d))) {
		uint32_t n = pack_file_number(de->d_name);

		if (n && n < bound) {
			ALLOC_GROW(nums, nn + 1, an);
			nums[nn++] = n;
		}
	}
	closedir(d);
	if (nn)
		qsort(nums, nn, sizeof(*nums), cmp_u32);
	for (size_t i = 0; i < nn && !ret && !stopping(s); i++) {
		struct stat sb;
		uint64_t live = 0;
		bool chosen = false;
		int fd;

		pack_path(s, nums[i], &path);
		fd = open(path.buf, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;	/* deleted since the listing */
		if (fstat(fd, &sb)) {
			ret = -errno;
		} else if (reseal) {
			ret = needs_reseal(fd, (uint64_t)sb.st_size, crypt_current(s->crypt->k),
					   &chosen);
		} else if (sb.st_size == FILE_HDR && nums[i] == max) {
			/* an empty highest pack: it keeps the numbers going up (pack_start_after) */
		} else {
			ret = pack_live(s, nums[i], &live);
			chosen = 2 * live < (uint64_t)sb.st_size &&
				 !known_bad(s, nums[i], live, (uint64_t)sb.st_size);
		}
		if (!ret && chosen)
			ret = gc_pack(s, nums[i], fd, (uint64_t)sb.st_size, reseal, st);
		close(fd);
	}
	if (ret)
		log_err("%s: pack GC stopped: %s", pack_dir(s), strerror(-ret));
	else if (st->packs || st->kept)
		log_info("%s: pack GC: %u packs deleted (%llu bytes), %llu records moved, "
			 "%u left for later", pack_dir(s), st->packs,
			 (unsigned long long)st->freed, (unsigned long long)st->moved, st->kept);
out:
	pthread_mutex_unlock(&gc_mu);
	free(nums);
	strbuf_release(&path);
	return ret;
}

/* ---- in the background ---- */

struct pack_gc_bg {
	pthread_mutex_t mu;
	pthread_t thread;
	bool started;			/* thread needs a join */
	bool running, again;
	bool stop;			/* pack_gc_stop(): no more packs this pass */
	struct store *s;
	/*
	 * Packs a pass kept for damage, with their live count and size then:
	 * not read again by every eviction's pass until one of them changes
	 * (a restart forgets them). Used under gc_mu.
	 */
	struct { uint32_t n; uint64_t live, size; } *bad;
	size_t nbad, abad;
};

static bool known_bad(struct store *s, uint32_t n, uint64_t live, uint64_t size)
{
	struct pack_gc_bg *bg = *pack_gc_bg_of(s);

	for (size_t i = 0; bg && i < bg->nbad; i++)
		if (bg->bad[i].n == n)
			return bg->bad[i].live == live && bg->bad[i].size == size;
	return false;
}

static void note_bad(struct store *s, uint32_t n, uint64_t size)
{
	struct pack_gc_bg *bg = *pack_gc_bg_of(s);
	uint64_t live;
	size_t i;

	if (!bg || pack_live(s, n, &live))
		return;
	for (i = 0; i < bg->nbad && bg->bad[i].n != n; i++)
		;
	if (i == bg->nbad) {
		ALLOC_GROW(bg->bad, bg->nbad + 1, bg->abad);
		bg->nbad++;
	}
	bg->bad[i].n = n;
	bg->bad[i].live = live;
	bg->bad[i].size = size;
}

static bool stopping(struct store *s)
{
	struct pack_gc_bg *bg = *pack_gc_bg_of(s);

	return bg && __atomic_load_n(&bg->stop, __ATOMIC_RELAXED);
}

static void *gc_thread(void *arg)
{
	struct pack_gc_bg *bg = arg;
	struct pack_gc_stats st;

	pthread_mutex_lock(&bg->mu);
	do {
		bg->again = false;
		pthread_mutex_unlock(&bg->mu);
		if (store_pack_gc(bg->s, false, &st))
			log_warn("%s: pack GC failed; the space waits for the next eviction",
				 store_dir(bg->s));
		pthread_mutex_lock(&bg->mu);
	} while (bg->again);
	bg->running = false;
	pthread_mutex_unlock(&bg->mu);
	return NULL;
}

void pack_gc_kick(struct store *s)
{
	struct pack_gc_bg **slot, *bg;

	if (!s->packs || (s->flags & STORE_OPEN_RDONLY) || !pack_any(s))
		return;
#ifdef POOL_TEST
	/* tests/test_pack_gc.c runs its passes itself, where it wants them */
	if (getenv("POOLFS_TEST_NO_PACK_GC_BG"))
		return;
#endif
	slot = pack_gc_bg_of(s);
	/* only store_free() (pack_gc_stop) clears it, when no kick can come any more */
	bg = *slot;
	if (!bg) {
		static pthread_mutex_t make = PTHREAD_MUTEX_INITIALIZER;

		pthread_mutex_lock(&make);
		if (!*slot) {
			bg = xcalloc(1, sizeof(*bg));
			pthread_mutex_init(&bg->mu, NULL);
			bg->s = s;
			*slot = bg;
		}
		bg = *slot;
		pthread_mutex_unlock(&make);
	}
	pthread_mutex_lock(&bg->mu);
	if (bg->running) {
		bg->again = true;
	} else {
		if (bg->started)
			pthread_join(bg->thread, NULL);
		bg->started = false;
		bg->running = !pthread_create(&bg->thread, NULL, gc_thread, bg);
		bg->started = bg->running;
	}
	pthread_mutex_unlock(&bg->mu);
}

void pack_gc_stop(struct store *s)
{
	struct pack_gc_bg **slot, *bg;

	if (!s->packs)
		return;
	slot = pack_gc_bg_of(s);
	bg = *slot;
	if (!bg)
		return;
	pthread_mutex_lock(&bg->mu);
	bg->again = false;
	__atomic_store_n(&bg->stop, true, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&bg->mu);
	if (bg->started)
		pthread_join(bg->thread, NULL);
	pthread_mutex_destroy(&bg->mu);
	free(bg->bad);
	free(bg);
	*slot = NULL;
}
