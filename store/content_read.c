/*
 * store/content_read.c - reading a file version back: a handle on its
 * chunk list, loaded a page at a time as reads reach it, and reads and
 * zero-copy reads of its bytes, inline or packed (store/pack.h). How the
 * list and the records are stored: store/content.c.
 */
#include "common/alloc.h"
#include "store/content.h"
#include "store/crypt_store.h"
#include "store/internal.h"
#include "store/pack.h"
#include "store/rdcut.h"
#include "store/rdvec.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "common/codec.h"
#include "common/log.h"

/*
 * A handle holds its chunk list in np pieces, piece p covering bytes
 * [end[p - 1], end[p]) (end[-1] = 0), its refs' offsets in the file. A
 * paged handle (a format 2 version's, from store_content_open) has a
 * piece per page, loaded by the first read that reaches it. Readers share
 * a handle (an open file's), so a load runs under load_lock and is
 * published by loaded[p] (release), which readers check without the lock
 * (acquire); a loaded piece never changes until close, so a reader may
 * hold pointers into it. Every other handle has one piece, loaded at open.
 */
struct store_content {
	struct store *s;
	uint64_t ino, version;
	uint8_t id[32];
	uint64_t size;
	size_t np;
	uint64_t *end;			/* np */
	uint8_t *pages;			/* np x 32 page hashes; NULL: not paged */
	struct chunk_list *piece;	/* np */
	uint8_t *loaded;		/* np, atomic; piece p immutable once set */
	pthread_mutex_t load_lock;
	struct chunk_list all;		/* content_chunks() of a paged handle; load_lock */
	bool all_done;			/* load_lock */
	rocksdb_readoptions_t *ropt;	/* chunk reads */

	bool view;			/* a cached view: close unpins view_key */
	uint8_t view_key[64];

	/* the last chunk a partial read fetched, for the next small read */
	pthread_mutex_t lock;
	const struct chunk_ref *cache_ref;	/* protected by lock; NULL when none */
	uint8_t *cache;			/* protected by lock */
	size_t cache_alloc;		/* protected by lock */
};

static struct store_content *content_new(struct store *s, uint64_t ino, uint64_t version,
					 const uint8_t id[32], uint64_t size, size_t np)
{
	struct store_content *c = xcalloc(1, sizeof(*c));

	c->s = s;
	c->ino = ino;
	c->version = version;
	memcpy(c->id, id, 32);
	c->size = size;
	c->np = np;
	c->end = xcalloc(np, sizeof(*c->end));
	c->piece = xcalloc(np, sizeof(*c->piece));
	c->loaded = xcalloc(np, sizeof(*c->loaded));
	/*
	 * Debian's librocksdb checks blob CRCs in software: 1 GB/s of 1 MiB
	 * reads with the check, 6 GB/s without. chunk_read() checks the
	 * length, which catches a misplaced or truncated value.
	 * NEEDSWORK: a scrub that re-hashes chunks against their keys.
	 */
	c->ropt = rocksdb_readoptions_create();
	rocksdb_readoptions_set_verify_checksums(c->ropt, 0);
	pthread_mutex_init(&c->load_lock, NULL);
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

struct store_content *content_from_list(struct store *s, uint64_t ino, uint64_t version,
					struct chunk_list *l, const uint8_t id[32])
{
	struct store_content *c = content_new(s, ino, version, id, l->size, 1);

	c->end[0] = l->size;
	c->piece[0] = *l;
	c->loaded[0] = 1;
	memset(l, 0, sizeof(*l));
	return c;
}

int content_from_pages(struct store *s, uint64_t ino, uint64_t version, const uint8_t id[32],
		       uint64_t size, const uint8_t *pages, const uint8_t *ends, uint32_t np,
		       struct store_content **out)
{
	struct store_content *c;
	uint64_t prev = 0;
	bool rising = true;

	*out = NULL;
	c = content_new(s, ino, version, id, size, np);
	c->pages = xreallocarray(NULL, np, 32);
	memcpy(c->pages, pages, (size_t)np * 32);
	/* every end above the last: piece_of() searches them, reads trust them */
	for (size_t p = 0; p < c->np && rising; p++) {
		c->end[p] = get_be64(ends + 8 * p);
		rising = c->end[p] > prev;
		prev = c->end[p];
	}
	if (!c->np || !rising || prev != size) {
		log_err("%s: inode %llu version %llu: corrupt page ends in its record",
			s->dir, (unsigned long long)ino, (unsigned long long)version);
		store_content_close(c);
		return -EIO;
	}
	*out = c;
	return 0;
}

/* Loads piece p of a paged handle. Caller holds load_lock. */
static int piece_load_locked(struct store_content *c, size_t p)
{
	struct chunk_list *l = &c->piece[p];
	struct strbuf v = STRBUF_INIT;
	uint8_t key[33];
	int ret;

	ref_key(key, 'p', c->pages + 32 * p);
	ret = store_get_value(c->s, CF_CHUNKS, key, sizeof(key), &v);
	/* refs start at the page's place in the file */
	l->size = p ? c->end[p - 1] : 0;
	if (!ret)
		ret = page_decode((const uint8_t *)v.buf, v.len, l);
	if (!ret && (!l->n || l->size != c->end[p]))
		ret = -EIO;
	if (ret) {
		log_err("%s: inode %llu version %llu: chunk-list page %zu of %zu is %s",
			c->s->dir, (unsigned long long)c->ino, (unsigned long long)c->version,
			p, c->np, ret == -ENOENT ? "missing" : "unreadable");
		chunk_list_release(l);
		ret = -EIO;
	} else {
		__atomic_store_n(&c->loaded[p], 1, __ATOMIC_RELEASE);
	}
	strbuf_release(&v);
	return ret;
}

/* Piece p, loaded unless it is; -EIO when its page cannot be read. */
static int piece_get(struct store_content *c, size_t p, const struct chunk_list **out)
{
	int ret = 0;

	if (!__atomic_load_n(&c->loaded[p], __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&c->load_lock);
		if (!c->loaded[p])
			ret = piece_load_locked(c, p);
		pthread_mutex_unlock(&c->load_lock);
		if (ret)
			return ret;
	}
	*out = &c->piece[p];
	return 0;
}

/* The piece holding byte off; off must be below c->size. */
static size_t piece_of(const struct store_content *c, uint64_t off)
{
	size_t lo = 0, hi = c->np - 1;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->end[mid] > off)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

void content_hold_view(struct store_content *c, const uint8_t key[64])
{
	c->view = true;
	memcpy(c->view_key, key, 64);
}

const struct chunk_list *content_chunks(struct store_content *c)
{
	const struct chunk_list *l = NULL;
	int ret = 0;

	if (!c->pages)
		return &c->piece[0];
	pthread_mutex_lock(&c->load_lock);
	for (size_t p = 0; p < c->np && !c->all_done && !ret; p++) {
		if (!c->loaded[p])
			ret = piece_load_locked(c, p);
		for (size_t i = 0; !ret && i < c->piece[p].n; i++)
			chunk_list_add(&c->all, c->piece[p].v[i].sha, c->piece[p].v[i].len);
	}
	if (ret)
		chunk_list_release(&c->all);
	else
		c->all_done = true;
	if (c->all_done)
		l = &c->all;
	pthread_mutex_unlock(&c->load_lock);
	return l;
}

int pages_load(struct store *s, const uint8_t *pages, uint32_t np, uint64_t size,
	       struct chunk_list *l)
{
	struct strbuf v = STRBUF_INIT;
	uint64_t start = l->size;
	uint8_t key[33];
	int ret = 0;

	for (uint32_t i = 0; i < np && !ret; i++) {
		ref_key(key, 'p', pages + 32 * i);
		ret = store_get_value(s, CF_CHUNKS, key, sizeof(key), &v);
		if (!ret)
			ret = page_decode((const uint8_t *)v.buf, v.len, l);
		if (ret == -ENOENT)
			ret = -EIO;
	}
	if (!ret && l->size - start != size)
		ret = -EIO;
	if (ret)
		log_err("%s: chunk list of %llu bytes is unreadable", s->dir,
			(unsigned long long)size);
	strbuf_release(&v);
	return ret;
}

/* A handle over version (0: the newest) of ino; paged when it may be and can. */
static int content_open(struct store *s, uint64_t ino, uint64_t version, bool paged,
			struct store_content **out)
{
	struct chunk_list l = CHUNK_LIST_INIT;
	struct strbuf raw = STRBUF_INIT;
	struct version_rec vr = { 0 };
	struct inode_rec r;
	int ret = 0;

	*out = NULL;
	inode_rec_init(&r);
	if (!version) {
		ret = inode_load(s, ino, &r);
		if (!ret && r.attr.type != STORE_REG)
			ret = r.attr.type == STORE_DIR ? -EISDIR : -EINVAL;
		if (ret)
			goto out;
		version = r.attr.version;
	}
	if (version) {
		ret = version_load(s, ino, version, &vr, &raw);
		if (ret)
			goto out;
		if (paged && vr.ends && vr.npages) {
			ret = content_from_pages(s, ino, version, vr.id, vr.size, vr.pages, vr.ends,
						 vr.npages, out);
			goto out;
		}
		ret = pages_load(s, vr.pages, vr.npages, vr.size, &l);
		if (ret)
			goto out;
	} else {
		SHA256((const uint8_t *)"", 0, vr.id);
	}
	*out = content_from_list(s, ino, version, &l, vr.id);
out:
	chunk_list_release(&l);
	strbuf_release(&raw);
	inode_rec_release(&r);
	return ret;
}

int store_content_open(struct store *s, uint64_t ino, uint64_t version,
		       struct store_content **out)
{
	return content_open(s, ino, version, true, out);
}

int content_open_whole(struct store *s, uint64_t ino, struct store_content **out)
{
	return content_open(s, ino, 0, false, out);
}

uint64_t store_content_size(const struct store_content *c)
{
	return c->size;
}

uint64_t store_content_version(const struct store_content *c)
{
	return c->version;
}

void store_content_id(const struct store_content *c, uint8_t id[32])
{
	memcpy(id, c->id, 32);
}

/*
 * Gets ref's stored value into *ps (the caller destroys it) and its
 * bytes in *val, *vlen: 0. 1 when the value is a pack locator, in *loc
 * (*ps then NULL). -EIO when it is missing, or neither its length nor a
 * locator of it.
 */
static int chunk_get(struct store_content *c, const struct chunk_ref *ref,
		     rocksdb_pinnableslice_t **ps, const char **val, size_t *vlen,
		     struct pack_loc *loc)
{
	uint8_t key[33];
	char *err = NULL;
	size_t want = (size_t)ref->len + (c->s->crypt ? CRYPT_OVERHEAD : 0);
	int ret;

	ref_key(key, 'c', ref->sha);
	*ps = rocksdb_get_pinned_cf(c->s->db, c->ropt, c->s->cf[CF_CHUNKS],
				    (const char *)key, sizeof(key), &err);
	if (err || !*ps) {
		log_err("%s: inode %llu: chunk at %llu %s: %s", c->s->dir,
			(unsigned long long)c->ino, (unsigned long long)ref->off,
			err ? "unreadable" : "missing", err ? err : "no such key");
		rocksdb_free(err);
		return -EIO;
	}
	*val = rocksdb_pinnableslice_value(*ps, vlen);
	ret = pack_loc_decode(*val, *vlen, want, loc);
	if (ret < 0) {
		log_err("%s: inode %llu: chunk at %llu has %zu bytes, expected %llu", c->s->dir,
			(unsigned long long)c->ino, (unsigned long long)ref->off, *vlen,
			(unsigned long long)ref->len);
		return -EIO;
	}
	if (ret == 1)
		return 0;
	rocksdb_pinnableslice_destroy(*ps);
	*ps = NULL;
	return 1;
}

/* Copies n bytes at skip of chunk ref (in a loaded piece of c) into dst. */
static int chunk_read(struct store_content *c, const struct chunk_ref *ref, size_t skip,
		      uint8_t *dst, size_t n)
{
	rocksdb_pinnableslice_t *ps = NULL;
	const uint8_t *plain;
	uint8_t key[33], *tmp = NULL, *packed = NULL;
	struct pack_loc loc;
	const char *val;
	size_t vlen, plen = (size_t)ref->len;
	int ret = 0;

	if (ref->hole) {
		memset(dst, 0, n);
		return 0;
	}
	pthread_mutex_lock(&c->lock);
	if (c->cache_ref == ref) {
		memcpy(dst, c->cache + skip, n);
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	pthread_mutex_unlock(&c->lock);

	ref_key(key, 'c', ref->sha);
	ret = chunk_get(c, ref, &ps, &val, &vlen, &loc);
	if (ret == 1) {
		/* an encrypted pool's bytes are opened below, their tag checked */
		int (*rd)(struct store *, const uint8_t *, const struct pack_loc *, uint8_t *) =
			c->s->crypt ? pack_read_sealed : pack_read;
		/*
		 * A whole plain chunk is read where it goes (a segment's feed):
		 * through a buffer of its own it was copied twice and the
		 * buffer's fresh pages faulted in.
		 */
		uint8_t *to = !c->s->crypt && n == loc.len ? dst : (packed = xmalloc(loc.len));

		ret = rd(c->s, key, &loc, to);
		if (ret) {
			struct pack_loc was = loc;

			/* pack GC may have moved the chunk and dropped the pack meanwhile */
			ret = chunk_get(c, ref, &ps, &val, &vlen, &loc);
			if (ret == 1 && (loc.pack != was.pack || loc.off != was.off) &&
			    loc.len == was.len)
				ret = rd(c->s, key, &loc, to);
			else if (ret >= 0)
				ret = -EIO;
		}
		val = (const char *)to;
		vlen = loc.len;
	}
	if (ret)
		goto out;
	if (!c->s->crypt) {
		if (val != (const char *)dst)
			memcpy(dst, val + skip, n);
		if (n == vlen)
			goto out;
		plain = (const uint8_t *)val;
	} else {
		/* the tag covers the whole chunk: open it all, even for a few bytes */
		tmp = n == plen ? NULL : xmalloc(plen);
		ret = store_open_to(c->s, CF_CHUNKS, key, sizeof(key), val, vlen, tmp ? tmp : dst);
		if (ret) {
			log_err("%s: inode %llu version %llu: chunk at %llu fails its check",
				c->s->dir, (unsigned long long)c->ino,
				(unsigned long long)c->version, (unsigned long long)ref->off);
			goto out;
		}
		if (!tmp)
			goto out;
		memcpy(dst, tmp + skip, n);
		plain = tmp;
	}
	pthread_mutex_lock(&c->lock);
	if (c->cache_alloc < plen) {
		c->cache = xreallocarray(c->cache, plen, 1);
		c->cache_alloc = plen;
	}
	memcpy(c->cache, plain, plen);
	c->cache_ref = ref;
	pthread_mutex_unlock(&c->lock);
out:
	free(tmp);
	free(packed);
	if (ps)
		rocksdb_pinnableslice_destroy(ps);
	return ret;
}

/* Clamps a read of len bytes at off to the version's end and to SSIZE_MAX. */
static size_t read_len(const struct store_content *c, size_t len, uint64_t off)
{
	if (off >= c->size)
		return 0;
	if (len > c->size - off)
		len = (size_t)(c->size - off);
	return len > SSIZE_MAX ? SSIZE_MAX : len;
}

/* Where a read is in c's pieces; zeroed before its first ref_next(). */
struct cursor {
	const struct chunk_list *l;
	size_t p, i;
};

/*
 * The ref holding byte at (below c->size): the one after the cursor's, or
 * the piece's first, or on the first call the one found by offset.
 * -EIO when a page cannot be loaded or does not go on where the last ended.
 */
static int ref_next(struct store_content *c, uint64_t at, struct cursor *cur,
		    const struct chunk_ref **out)
{
	const struct chunk_ref *ref;
	size_t p;
	int ret;

	if (!cur->l || ++cur->i == cur->l->n) {
		p = cur->l ? cur->p + 1 : piece_of(c, at);
		if (p >= c->np)
			return -EIO;
		ret = piece_get(c, p, &cur->l);
		if (ret)
			return ret;
		cur->p = p;
		cur->i = chunk_list_find(cur->l, at);
	}
	ref = &cur->l->v[cur->i];
	if (at < ref->off || at - ref->off > ref->len)
		return -EIO;
	*out = ref;
	return 0;
}

/*
 * Calls fn for each ref a read of len bytes at off (len already clamped by
 * read_len) takes bytes from: skip bytes into the ref, n of them, landing
 * at done in the read. 0 when every byte was walked, else the first
 * nonzero return of ref_next() or fn (negative errno, or fn's own stop).
 */
static int refs_walk(struct store_content *c, size_t len, uint64_t off,
		     int (*fn)(struct store_content *c, const struct chunk_ref *ref, size_t skip,
			       size_t n, size_t done, void *arg),
		     void *arg)
{
	struct cursor cur = { 0 };
	const struct chunk_ref *ref;
	size_t done = 0;
	int ret;

	while (done < len) {
		uint64_t skip;
		size_t n;

		ret = ref_next(c, off + done, &cur, &ref);
		if (ret)
			return ret;
		skip = off + done - ref->off;
		n = ref->len - skip < len - done ? (size_t)(ref->len - skip) : len - done;
		ret = fn(c, ref, (size_t)skip, n, done, arg);
		if (ret)
			return ret;
		done += n;
	}
	return 0;
}

static int read_ref(struct store_content *c, const struct chunk_ref *ref, size_t skip, size_t n,
		    size_t done, void *buf)
{
	return chunk_read(c, ref, skip, (uint8_t *)buf + done, n);
}

ssize_t store_content_read(struct store_content *c, void *buf, size_t len, uint64_t off)
{
	int ret;

	len = read_len(c, len, off);
	ret = refs_walk(c, len, off, read_ref, buf);
	return ret ? ret : (ssize_t)len;
}

static void rdvec_add(struct store_rdvec *v, const void *base, size_t len)
{
	ALLOC_GROW(v->iov, v->n + 1, v->alloc);
	v->iov[v->n].iov_base = (void *)base;
	v->iov[v->n].iov_len = len;
	v->n++;
}

/* A ref's bytes into the vector; 1 when it has no pinned value to point at. */
static int readv_ref(struct store_content *c, const struct chunk_ref *ref, size_t skip, size_t n,
		     size_t done, void *arg)
{
	static const uint8_t zeros[64 * 1024];
	struct store_rdvec *v = arg;
	rocksdb_pinnableslice_t *ps;
	struct pack_loc loc;
	const char *val;
	size_t vlen;
	int ret;

	if (ref->hole) {
		for (size_t k = 0; k < n; k += sizeof(zeros))
			rdvec_add(v, zeros, n - k < sizeof(zeros) ? n - k : sizeof(zeros));
		return 0;
	}
	ret = chunk_get(c, ref, &ps, &val, &vlen, &loc);
	if (ret == 1)
		return 1;
	if (ps) {
		ALLOC_GROW(v->pins, v->npins + 1, v->apins);
		v->pins[v->npins++] = ps;
	}
	if (ret)
		return ret;
	rdvec_add(v, val + skip, n);
	return 0;
}

/*
 * The plain pool's bytes are the pinned values themselves; an encrypted
 * pool's are opened into one buffer, as store_content_read() would,
 * since opening a chunk writes its plain bytes somewhere anyway.
 */
ssize_t store_content_readv(struct store_content *c, struct store_rdvec *v, size_t len,
			    uint64_t off)
{
	ssize_t r;
	int ret;

	len = read_len(c, len, off);
	if (!c->s->crypt) {
		ret = refs_walk(c, len, off, readv_ref, v);
		if (ret != 1)
			return ret ? ret : (ssize_t)len;
		/* no pinned value to point at: the range is copied instead */
		store_rdvec_release(v);
	}
	v->buf = xmalloc(len ? len : 1);
	r = store_content_read(c, v->buf, len, off);
	if (r > 0)
		rdvec_add(v, v->buf, (size_t)r);
	return r;
}

void store_rdvec_release(struct store_rdvec *v)
{
	for (size_t i = 0; i < v->npins; i++)
		rocksdb_pinnableslice_destroy(v->pins[i]);
	free(v->pins);
	free(v->iov);
	free(v->buf);
	memset(v, 0, sizeof(*v));
}

void store_content_close(struct store_content *c)
{
	if (!c)
		return;
	if (c->view)
		view_unpin(c->view_key);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->load_lock);
	rocksdb_readoptions_destroy(c->ropt);
	for (size_t p = 0; p < c->np; p++)
		chunk_list_release(&c->piece[p]);
	chunk_list_release(&c->all);
	free(c->piece);
	free(c->loaded);
	free(c->end);
	free(c->pages);
	free(c->cache);
	free(c);
}

uint64_t store_content_cut(struct store_content *c, uint64_t from, uint64_t to)
{
	const struct chunk_list *l;
	const struct chunk_ref *ref;

	if (from >= to || to > c->size || piece_get(c, piece_of(c, to - 1), &l))
		return to;
	ref = &l->v[chunk_list_find(l, to - 1)];
	if (ref->off + ref->len == to)
		return to;
	return ref->off > from && ref->off < to ? ref->off : to;
}
