/*
 * fs/vseg.c - views larger than the view cache budget, produced segment
 * by segment from the source version (docs/desensitization.md "Views in
 * segments").
 *
 * A map holds, for each segment, where it starts in the source and in
 * the view (and the source line there, for messages); the view's size
 * is its last figure, so stat() never runs the engine. Segment k is
 * made by a fresh engine fed the source's prefix (BOM, CSV header),
 * cut, resumed at the segment's source offset, fed the segment and cut
 * (the last one finished): policy/desens/desens_cut.h says why that is
 * byte for byte the full view's. Its length must be what the map says.
 *
 * Produced segments sit in one cache for the process, keyed by (content
 * id, fingerprint, index), least recently used going first once the
 * unused ones pass three quarters of min(view cache budget, VSEG_CACHE),
 * the last quarter being buffers kept to make the next ones in. A segment being
 * made is in the cache too, so a reader and the read-ahead workers never
 * make one twice: the second waits. A reader going through a view in
 * order has the next AHEAD segments made by the workers while it reads
 * this one: the engine runs beside the reader, and the workers' source
 * reads (synchronous, a chunk at a time) overlap the others' engines.
 *
 * The map, its format and its making, is fs/vseg_map.c.
 *
 * Lock order: cache.lock, then a vseg's lock; never the other way.
 */
#include "common/alloc.h"
#include "fs/vseg.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/codec.h"
#include "common/log.h"
#include "fs/fs.h"
#include "policy/desens/desens_cut.h"
#include "store/rdcut.h"

#define FEED_MAX	(1u << 20)
#define HEAD_MAX	(64u << 10)	/* a prefix (BOM, CSV header) kept in memory, at most */
#define VSEG_CACHE	(64ULL << 20)	/* produced segments kept, at most */
#define AHEAD		4		/* segments made ahead of an in-order reader, and workers */
#define QUEUE		8		/* read-ahead requests waiting, at most */
#define SPARES		(AHEAD + 1)	/* freed segment buffers kept for the next */
/*
 * Room past a segment's length: the engine reserves room for a whole
 * record's worst case before writing it, so a buffer of exactly the
 * segment's length is reallocated (and copied) at its last records.
 * A longer record than this allows costs that copy, nothing else.
 */
#define SEG_SLACK(want)	((want) / 16 < (60u << 10) ? (want) / 16 + (4u << 10) : (64u << 10))
/*
 * A segment's buffer is its length and slack rounded up to this: the
 * segments of a view differ by a few records, and a spare a byte short
 * of the next segment is no spare (two in three segments were made in
 * fresh pages, their page faults a tenth of a masked read's CPU).
 */
#define SEG_ROUND	(256u << 10)
#define SEG_ALLOC(want)	(((want) + SEG_SLACK(want) + SEG_ROUND) / SEG_ROUND * SEG_ROUND)

struct fs_vseg {
	struct fs *fs;
	struct policy *p;		/* holds r */
	const struct view_rules *r;
	struct store_content *raw;	/* our own handle: the worker may outlive a reader */
	uint8_t cid[32];
	uint64_t src_size, view_size, body;
	uint64_t *b;			/* n boundaries, 3 figures each */
	size_t n;
	pthread_mutex_t lock;
	unsigned refs;			/* opener, queued read-ahead; lock */
	uint64_t next_off;		/* where an in-order read goes on; lock */
	/*
	 * The source's prefix, read once for every segment's engine: read
	 * from the source, it was a partial read of the first chunk per
	 * segment (its CRC checked again each time). Set once, under lock.
	 */
	char *head;			/* body bytes; NULL until read */
};

struct seg {
	struct seg *prev, *next;	/* in cache.lru, most recent first; lock */
	uint8_t cid[32], fp[32];
	size_t idx;
	unsigned refs;			/* lock */
	bool ready;			/* made or failed; lock */
	bool listed;			/* in cache.lru; lock */
	int err;			/* lock */
	struct perr perr;		/* when err */
	struct strbuf data;		/* immutable once ready */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t made;		/* a segment became ready */
	pthread_cond_t wake;		/* read-ahead queued, or stop */
	struct seg *head, *tail;
	uint64_t bytes;			/* of listed segments, and of spares */
	/*
	 * Buffers of segments dropped, for the next segment made: a fresh
	 * buffer of megabytes is page-faulted in as the engine writes it,
	 * which cost as much CPU as a third of the engine. A spare's bytes
	 * are another view's: a segment made in it is written from its
	 * start and only its len is ever served.
	 */
	struct strbuf spare[SPARES];
	size_t nspare;
	uint64_t spare_bytes;		/* at most a quarter of cap */
	char *feedbuf[SPARES];		/* FEED_MAX source buffers, for the same reason */
	size_t nfeedbuf;
	uint64_t cap;
	pthread_t worker[AHEAD];
	int nworkers;
	bool started, stop;
	struct {
		struct fs_vseg *v;	/* holding a ref */
		size_t idx;
	} q[QUEUE];			/* read-ahead requests, oldest first */
	size_t nq;
} cache = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.made = PTHREAD_COND_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.cap = VSEG_CACHE,
};

#define SRC(v, k)	((v)->b[3 * (k)])
#define VIEW(v, k)	((v)->b[3 * (k) + 1])
#define LINE(v, k)	((v)->b[3 * (k) + 2])
#define SRC_END(v, k)	((k) + 1 < (v)->n ? SRC(v, (k) + 1) : (v)->src_size)
#define VIEW_END(v, k)	((k) + 1 < (v)->n ? VIEW(v, (k) + 1) : (v)->view_size)

/* ---- producing a segment ---- */

static void spare_take(struct strbuf *sb, size_t want);

static char *feedbuf_take(void)
{
	char *buf = NULL;

	pthread_mutex_lock(&cache.lock);
	if (cache.nfeedbuf)
		buf = cache.feedbuf[--cache.nfeedbuf];
	pthread_mutex_unlock(&cache.lock);
	return buf ? buf : xmalloc(FEED_MAX);
}

static void feedbuf_put(char *buf)
{
	pthread_mutex_lock(&cache.lock);
	if (buf && !cache.stop && cache.nfeedbuf < SPARES) {
		cache.feedbuf[cache.nfeedbuf++] = buf;
		buf = NULL;
	}
	pthread_mutex_unlock(&cache.lock);
	free(buf);
}

/*
 * Feeds source [from, to) to d, its output onto out (reset after each
 * feed when junk). Each read but the last ends where a chunk ends: one
 * ending inside a chunk read that chunk again for the next (the handle's
 * one-chunk cache is shared by the workers, so it rarely still held it).
 */
static int feed(struct fs_vseg *v, struct desens *d, char *buf, uint64_t from, uint64_t to,
		struct strbuf *out, bool junk, struct perr *e)
{
	ssize_t n;
	int err;

	while (from < to) {
		size_t want = to - from < FEED_MAX ? (size_t)(to - from) : FEED_MAX;

		if (want < to - from)
			want = (size_t)(store_content_cut(v->raw, from, from + want) - from);
		n = store_content_read(v->raw, buf, want, from);
		if (n <= 0)
			return perr_set(e, EIO, "source read at byte %llu: %s",
					(unsigned long long)from,
					n ? strerror((int)-n) : "short file");
		err = desens_feed(d, buf, (size_t)n, out, e);
		if (err)
			return err;
		if (junk)
			strbuf_reset(out);
		from += (uint64_t)n;
	}
	return 0;
}

/* The source's first v->body bytes, read once; NULL when too long to keep or unreadable. */
static const char *head_get(struct fs_vseg *v)
{
	char *head;

	pthread_mutex_lock(&v->lock);
	head = v->head;
	pthread_mutex_unlock(&v->lock);
	if (head || !v->body || v->body > HEAD_MAX)
		return head;
	head = xmalloc((size_t)v->body);
	if (store_content_read(v->raw, head, (size_t)v->body, 0) != (ssize_t)v->body) {
		free(head);
		return NULL;
	}
	pthread_mutex_lock(&v->lock);
	if (v->head) {
		/* another worker read it meanwhile */
		free(head);
		head = v->head;
	} else {
		v->head = head;
	}
	pthread_mutex_unlock(&v->lock);
	return head;
}

/*
 * Maps a fresh buffer's pages in one call: the engine writing into it
 * took a page fault per 4 KiB, a tenth of the CPU of a masked read
 * until the spares came round (and a fault costs more in a guest). A
 * kernel without MADV_POPULATE_WRITE (before 5.14) faults as before.
 */
static void prefault(void *buf, size_t len)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t from = ((uintptr_t)buf + page - 1) & ~(page - 1);
	uintptr_t to = ((uintptr_t)buf + len) & ~(page - 1);

	if (to > from)
		(void)madvise((void *)from, to - from, MADV_POPULATE_WRITE);
}

static int produce(struct fs_vseg *v, size_t k, struct strbuf *out, struct perr *e)
{
	const char *head;
	const struct view_rules *r = v->r;
	struct strbuf junk = STRBUF_INIT;
	uint8_t key[STORE_HASH_KEY_LEN];
	struct desens *d = NULL;
	char *buf = NULL;
	uint64_t want = VIEW_END(v, k) - VIEW(v, k);
	int err = 0;

	/* the reader's department key, derived per segment: no key sits in the daemon */
	if (r->hash_dept) {
		err = store_hash_key(v->fs->store, r->hash_dept, r->hash_key_version, key);
		if (err < 0) {
			perr_set(e, -err, "no hash key v%u for department \"%s\"",
				 r->hash_key_version, r->hash_dept);
			goto out;
		}
	}
	err = desens_new(r, r->hash_dept ? key : NULL, r->hash_dept ? sizeof(key) : 0, &d, e);
	if (err)
		goto out;
	buf = feedbuf_take();
	if (SEG_ALLOC(want) > out->alloc)
		spare_take(out, (size_t)SEG_ALLOC(want));
	if (!out->alloc) {
		strbuf_grow(out, (size_t)SEG_ALLOC(want) - 1);
		prefault(out->buf, out->alloc);
	}
	strbuf_grow(out, (size_t)SEG_ALLOC(want) - 1);
	if (k) {
		head = head_get(v);
		err = head ? desens_feed(d, head, (size_t)v->body, &junk, e) :
			feed(v, d, buf, 0, v->body, &junk, true, e);
		if (!err)
			err = desens_cut(d, &junk, e);
		if (!err && desens_resume(d, SRC(v, k), LINE(v, k)))
			err = perr_set(e, EIO, "the header did not end where the map says");
	}
	if (!err)
		err = feed(v, d, buf, SRC(v, k), SRC_END(v, k), out, false, e);
	if (!err)
		err = k + 1 == v->n ? desens_finish(d, out, e) : desens_cut(d, out, e);
	if (!err && out->len != want)
		err = perr_set(e, EIO, "segment %zu came out %zu bytes, its map says %llu",
			       k, out->len, (unsigned long long)want);
out:
	OPENSSL_cleanse(key, sizeof(key));
	desens_free(d);
	feedbuf_put(buf);
	strbuf_release(&junk);
	/* fail closed whatever went wrong: the open's build read this file fine */
	return err ? -EIO : 0;
}

/* ---- the cache ---- */

static void seg_unlist(struct seg *s)
{
	if (!s->listed)
		return;
	if (s->prev)
		s->prev->next = s->next;
	else
		cache.head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		cache.tail = s->prev;
	s->prev = s->next = NULL;
	s->listed = false;
	cache.bytes -= s->data.len;
}

static void seg_list_head(struct seg *s)
{
	s->prev = NULL;
	s->next = cache.head;
	if (cache.head)
		cache.head->prev = s;
	cache.head = s;
	if (!cache.tail)
		cache.tail = s;
	s->listed = true;
	cache.bytes += s->data.len;
}

/* Keeps s's buffer as a spare when there is room, else frees it. Caller holds lock. */
static void seg_free(struct seg *s)
{
	if (s->data.alloc && cache.nspare < SPARES && !cache.stop &&
	    cache.spare_bytes + s->data.alloc <= cache.cap / 4) {
		cache.spare[cache.nspare++] = s->data;
		cache.bytes += s->data.alloc;
		cache.spare_bytes += s->data.alloc;
	} else {
		strbuf_release(&s->data);
	}
	free(s);
}

/*
 * The largest spare into sb (empty), if there is one; freed instead
 * when under want bytes (realloc would copy it), so the spares follow
 * the segments' sizes.
 */
static void spare_take(struct strbuf *sb, size_t want)
{
	size_t best = 0;

	pthread_mutex_lock(&cache.lock);
	if (!cache.nspare) {
		pthread_mutex_unlock(&cache.lock);
		return;
	}
	for (size_t i = 1; i < cache.nspare; i++)
		if (cache.spare[i].alloc > cache.spare[best].alloc)
			best = i;
	*sb = cache.spare[best];
	cache.bytes -= sb->alloc;
	cache.spare_bytes -= sb->alloc;
	cache.spare[best] = cache.spare[--cache.nspare];
	pthread_mutex_unlock(&cache.lock);
	strbuf_reset(sb);
	if (sb->alloc < want)
		strbuf_release(sb);
}

/*
 * Drops unused segments oldest first while the segments pass three
 * quarters of the cap, then spares down to the cap: an in-order
 * reader's oldest segments are worth less than a spare, and a segment
 * made in a spare leaves the total as it was, so a trim at the cap alone
 * would never turn an old segment into the next spare. Caller holds lock.
 */
static void trim_locked(void)
{
	struct seg *s = cache.tail, *prev;

	for (; s && cache.bytes - cache.spare_bytes > cache.cap - cache.cap / 4; s = prev) {
		prev = s->prev;
		if (s->refs || !s->ready)
			continue;
		seg_unlist(s);
		seg_free(s);
	}
	while (cache.nspare && cache.bytes > cache.cap) {
		struct strbuf *sb = &cache.spare[--cache.nspare];

		cache.bytes -= sb->alloc;
		cache.spare_bytes -= sb->alloc;
		strbuf_release(sb);
	}
}

static void seg_put(struct seg *s)
{
	pthread_mutex_lock(&cache.lock);
	if (!--s->refs && !s->listed)
		seg_free(s);
	trim_locked();
	pthread_mutex_unlock(&cache.lock);
}

/* Segment k of v, made unless cached or being made; seg_put() it. */
static int seg_get(struct fs_vseg *v, size_t k, struct seg **out, struct perr *e)
{
	struct seg *s;
	int err;

	*out = NULL;
	pthread_mutex_lock(&cache.lock);
	for (s = cache.head; s; s = s->next)
		if (s->idx == k && !memcmp(s->cid, v->cid, 32) &&
		    !memcmp(s->fp, v->r->fingerprint, 32))
			break;
	if (s) {
		s->refs++;
		while (!s->ready)
			pthread_cond_wait(&cache.made, &cache.lock);
		/* most recent first */
		if (s->listed && s != cache.head) {
			seg_unlist(s);
			seg_list_head(s);
		}
		err = s->err;
		if (err)
			*e = s->perr;
		pthread_mutex_unlock(&cache.lock);
		if (err) {
			seg_put(s);
			return err;
		}
		*out = s;
		return 0;
	}
	s = xcalloc(1, sizeof(*s));
	memcpy(s->cid, v->cid, 32);
	memcpy(s->fp, v->r->fingerprint, 32);
	s->idx = k;
	s->refs = 1;
	strbuf_init(&s->data, 0);
	seg_list_head(s);
	pthread_mutex_unlock(&cache.lock);

	err = produce(v, k, &s->data, &s->perr);

	pthread_mutex_lock(&cache.lock);
	s->ready = true;
	s->err = err;
	if (err) {
		/* waiters see the failure; the next reader tries again */
		strbuf_release(&s->data);	/* listed at 0 bytes */
		seg_unlist(s);
		*e = s->perr;
	} else {
		cache.bytes += s->data.len;
	}
	pthread_cond_broadcast(&cache.made);
	pthread_mutex_unlock(&cache.lock);
	if (err) {
		seg_put(s);
		return err;
	}
	*out = s;
	return 0;
}

/* ---- read-ahead ---- */

static void vseg_put(struct fs_vseg *v)
{
	unsigned left;

	pthread_mutex_lock(&v->lock);
	left = --v->refs;
	pthread_mutex_unlock(&v->lock);
	if (left)
		return;
	store_content_close(v->raw);
	policy_put(v->p);
	pthread_mutex_destroy(&v->lock);
	free(v->head);
	free(v->b);
	free(v);
}

static void *worker_main(void *arg)
{
	struct fs_vseg *v;
	struct perr e = PERR_INIT;
	struct seg *s;
	size_t k;

	pthread_mutex_lock(&cache.lock);
	for (;;) {
		while (!cache.nq && !cache.stop)
			pthread_cond_wait(&cache.wake, &cache.lock);
		if (cache.stop)
			break;
		v = cache.q[0].v;
		k = cache.q[0].idx;
		memmove(cache.q, cache.q + 1, --cache.nq * sizeof(cache.q[0]));
		pthread_mutex_unlock(&cache.lock);
		/* a failure is the reader's to report when it gets there */
		if (seg_get(v, k, &s, &e) == 0)
			seg_put(s);
		vseg_put(v);
		pthread_mutex_lock(&cache.lock);
	}
	pthread_mutex_unlock(&cache.lock);
	return NULL;
}

/* Starts the workers; false when there are none. Caller holds lock. */
static bool workers_locked(void)
{
	if (cache.started)
		return true;
	for (int i = 0; i < AHEAD; i++) {
		if (pthread_create(&cache.worker[i], NULL, worker_main, NULL)) {
			/* the ones started stop with the rest */
			if (!i) {
				log_warn("no view read-ahead worker: segments are made as read");
				return false;
			}
			log_warn("%d view read-ahead workers of %d", i, AHEAD);
			break;
		}
		cache.nworkers++;
	}
	cache.started = true;
	return true;
}

/* Has the workers make segments k to k + AHEAD - 1 of v unless cached or being made. */
static void read_ahead(struct fs_vseg *v, size_t k)
{
	struct fs_vseg *old = NULL;
	struct seg *s;

	pthread_mutex_lock(&cache.lock);
	if (cache.stop || !workers_locked())
		goto out;
	for (size_t j = k; j < k + AHEAD && j < v->n; j++) {
		bool queued = false;

		for (s = cache.head; s; s = s->next)
			if (s->idx == j && !memcmp(s->cid, v->cid, 32) &&
			    !memcmp(s->fp, v->r->fingerprint, 32))
				break;
		for (size_t i = 0; i < cache.nq && !queued; i++)
			queued = cache.q[i].v == v && cache.q[i].idx == j;
		if (s || queued)
			continue;
		/* full: the oldest request is for a read gone further or elsewhere */
		if (cache.nq == QUEUE) {
			if (old)
				break;
			old = cache.q[0].v;
			memmove(cache.q, cache.q + 1, --cache.nq * sizeof(cache.q[0]));
		}
		pthread_mutex_lock(&v->lock);
		v->refs++;
		pthread_mutex_unlock(&v->lock);
		cache.q[cache.nq].v = v;
		cache.q[cache.nq++].idx = j;
		pthread_cond_signal(&cache.wake);
	}
out:
	pthread_mutex_unlock(&cache.lock);
	if (old)
		vseg_put(old);
}

void fs_vsegs_stop(void)
{
	pthread_mutex_lock(&cache.lock);
	cache.stop = true;
	pthread_cond_broadcast(&cache.wake);
	pthread_mutex_unlock(&cache.lock);
	for (int i = 0; i < cache.nworkers; i++)
		pthread_join(cache.worker[i], NULL);
	pthread_mutex_lock(&cache.lock);
	while (cache.nq) {
		struct fs_vseg *v = cache.q[--cache.nq].v;

		/* vseg_put() takes no cache lock */
		vseg_put(v);
	}
	cache.nworkers = 0;
	cache.started = false;
	while (cache.nfeedbuf)
		free(cache.feedbuf[--cache.nfeedbuf]);
	/* segments still held go at their last put */
	cache.cap = 0;
	trim_locked();
	pthread_mutex_unlock(&cache.lock);
}

/* ---- reading ---- */

int fs_vseg_open(struct fs *fs, struct policy *p, const struct view_rules *r, uint64_t sino,
		 uint64_t version, const uint8_t cid[32], const struct strbuf *map,
		 struct fs_vseg **out, struct perr *e)
{
	struct fs_vseg *v = xcalloc(1, sizeof(*v));
	uint64_t budget;
	int err;

	*out = NULL;
	v->fs = fs;
	memcpy(v->cid, cid, 32);
	err = pthread_mutex_init(&v->lock, NULL);
	if (err) {
		free(v);
		return perr_set(e, err, "cannot open the view");
	}
	v->refs = 1;
	v->p = policy_get(p);
	v->r = r;
	err = vseg_map_load(map, &v->src_size, &v->view_size, &v->body, &v->b, &v->n);
	if (err) {
		perr_set(e, EIO, "the view's segment map is corrupt");
		goto err_out;
	}
	err = store_content_open(fs->store, sino, version, &v->raw);
	if (err) {
		perr_set(e, -err, "cannot open the source version: %s", strerror(-err));
		goto err_out;
	}
	if (store_content_size(v->raw) != v->src_size) {
		err = perr_set(e, EIO, "the view's segment map is of another source (%llu "
			       "bytes, the version has %llu)",
			       (unsigned long long)v->src_size,
			       (unsigned long long)store_content_size(v->raw));
		goto err_out;
	}
	/* segments kept count against the view cache budget, as the views do */
	if (store_view_budget(fs->store, &budget) == 0) {
		pthread_mutex_lock(&cache.lock);
		if (!cache.stop)
			cache.cap = budget < VSEG_CACHE ? budget : VSEG_CACHE;
		pthread_mutex_unlock(&cache.lock);
	}
	*out = v;
	return 0;
err_out:
	vseg_put(v);
	return err < 0 ? err : -err;
}

uint64_t fs_vseg_size(const struct fs_vseg *v)
{
	return v->view_size;
}

/* The segment holding view byte off (< view_size): the last starting at or before it. */
static size_t seg_of(const struct fs_vseg *v, uint64_t off)
{
	size_t lo = 0, hi = v->n;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (VIEW(v, mid) <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The segments under view bytes [off, off + size) into rv, each held
 * until fs_vseg_iov_release(), so a reply goes out of the segments
 * themselves: a copy into a reply buffer (fresh pages per request) cost
 * a tenth of a masked read's CPU.
 */
ssize_t fs_vseg_readv(struct fs_vseg *v, struct fs_vseg_iov *rv, size_t size, uint64_t off,
		      struct perr *e)
{
	size_t done = 0, k = 0, skip, n;
	bool in_order;
	struct seg *s;
	int err;

	if (off >= v->view_size)
		return 0;
	if (size > v->view_size - off)
		size = (size_t)(v->view_size - off);
	pthread_mutex_lock(&v->lock);
	in_order = off == v->next_off || !off;
	v->next_off = off + size;
	pthread_mutex_unlock(&v->lock);
	while (done < size) {
		k = seg_of(v, off + done);
		err = seg_get(v, k, &s, e);
		if (err)
			return err;
		skip = (size_t)(off + done - VIEW(v, k));
		if (skip >= s->data.len) {
			seg_put(s);
			return perr_set(e, EIO, "view byte %llu is not in its segment",
					(unsigned long long)(off + done));
		}
		n = s->data.len - skip < size - done ? s->data.len - skip : size - done;
		ALLOC_GROW(rv->segs, rv->n + 1, rv->alloc);
		ALLOC_GROW(rv->iov, rv->n + 1, rv->ialloc);
		rv->segs[rv->n] = s;
		rv->iov[rv->n].iov_base = s->data.buf + skip;
		rv->iov[rv->n++].iov_len = n;
		done += n;
	}
	if (in_order && k + 1 < v->n)
		read_ahead(v, k + 1);
	return (ssize_t)done;
}

void fs_vseg_iov_release(struct fs_vseg_iov *rv)
{
	for (size_t i = 0; i < rv->n; i++)
		seg_put(rv->segs[i]);
	free(rv->segs);
	free(rv->iov);
	memset(rv, 0, sizeof(*rv));
}

ssize_t fs_vseg_read(struct fs_vseg *v, void *buf, size_t size, uint64_t off, struct perr *e)
{
	struct fs_vseg_iov rv = FS_VSEG_IOV_INIT;
	ssize_t r = fs_vseg_readv(v, &rv, size, off, e);
	size_t done = 0;

	for (size_t i = 0; r > 0 && i < rv.n; i++) {
		memcpy((char *)buf + done, rv.iov[i].iov_base, rv.iov[i].iov_len);
		done += rv.iov[i].iov_len;
	}
	fs_vseg_iov_release(&rv);
	return r;
}

void fs_vseg_close(struct fs_vseg *v)
{
	if (v)
		vseg_put(v);
}
