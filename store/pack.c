/*
 * store/pack.c - pack files (docs/storage.md "Packs").
 *
 * DIR/packs/NNNNNNNN.pack (decimal, 8 digits) is a 16-byte header,
 * "poolfspk" be32(1) be32(N), then records: the chunk's 33-byte key,
 * be32 length, its stored bytes. A locator points at the bytes; the
 * key in front lets a scan of the pack alone (GC, a repair) tell whose
 * bytes they are, and a locator in the chunks family tells whether they
 * are still the chunk's.
 *
 * A process appends only to packs it created: after a reopen the next
 * append starts a new pack, so whatever a crash left after the last
 * synced commit (bytes no locator that counts names) is never read and
 * never written over; it is garbage like a deleted chunk's bytes.
 */
#include "common/alloc.h"
#include "common/codec.h"
#include "store/chunker.h"
#include "store/crypt.h"
#include "store/internal.h"
#include "store/pack.h"
#include "store/pack_gc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/log.h"

#define PACK_MAGIC	"poolfspk"
#define PACK_HDR	16
#define PACK_MAX	(256ull << 20)	/* a new pack past this size */
#define PACK_NUM_MAX	(1u << 24)

struct pend {
	uint8_t sha[32];
	uint32_t pack;
	uint32_t len;			/* record bytes, header included */
	bool used;
};

struct pack_set {
	pthread_mutex_t lock;
	char *dir;			/* DIR/packs */
	bool enabled;
	bool any;
	uint32_t max;			/* highest pack number seen */
	uint32_t cur;			/* pack being appended to; 0 none */
	int cur_fd;
	uint64_t cur_size;
	int *rfd;			/* read descriptors by pack number, -1 closed */
	size_t rfd_n;
	struct pend *pend;
	size_t pend_n, pend_cap;
	/*
	 * GC (store/pack_gc.c): readers hold rd shared from taking a read
	 * descriptor until their pread is done, so GC closes one (rd
	 * exclusive) only between reads. holds: the lowest pack each writer
	 * in flight may have appended to, whose locators may still be in its
	 * unwritten batch; GC leaves those packs and later ones alone.
	 */
	pthread_rwlock_t rd;
	uint32_t *holds;
	size_t holds_n, holds_alloc;
	struct pack_gc_bg *bg;
};

/* ---- locators ---- */

void pack_loc_encode(const struct pack_loc *l, uint8_t out[PACK_LOC_LEN])
{
	out[0] = l->sealed ? PACK_LOC_SEALED : PACK_LOC_V1;
	put_be32(out + 1, l->pack);
	put_be64(out + 5, l->off);
	put_be32(out + 13, l->len);
	put_be32(out + 17, l->sealed ? 0 : l->crc);
}

int pack_loc_decode(const void *val, size_t vlen, size_t want, struct pack_loc *l)
{
	const uint8_t *p = val;

	if (vlen == want)
		return 1;
	/*
	 * No stored chunk is longer than the chunker's largest, sealed: a
	 * longer want is a forged list, refused before it sizes a buffer.
	 */
	if (vlen != PACK_LOC_LEN || (p[0] != PACK_LOC_V1 && p[0] != PACK_LOC_SEALED) ||
	    want < PACK_MIN_STORED || want > CHUNK_MAX + CRYPT_OVERHEAD)
		return -EIO;
	l->sealed = p[0] == PACK_LOC_SEALED;
	l->pack = get_be32(p + 1);
	l->off = get_be64(p + 5);
	l->len = get_be32(p + 13);
	l->crc = get_be32(p + 17);
	if (l->len != want || !l->pack || l->pack >= PACK_NUM_MAX)
		return -EIO;
	return 0;
}

/* ---- the set ---- */

static void pack_name(const struct pack_set *ps, uint32_t n, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_addf(out, "%s/%08u.pack", ps->dir, n);
}

uint32_t pack_file_number(const char *name)
{
	char *end;
	unsigned long n;

	if (strlen(name) != 13 || strcmp(name + 8, ".pack"))
		return 0;
	n = strtoul(name, &end, 10);
	return end == name + 8 && n < PACK_NUM_MAX ? (uint32_t)n : 0;
}

/* The highest pack number in directory packs (0: none). */
static int pack_list_dir(const char *packs, uint32_t *max)
{
	struct dirent *de;
	DIR *d;

	*max = 0;
	d = opendir(packs);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		uint32_t n = pack_file_number(de->d_name);

		if (n > *max)
			*max = n;
	}
	closedir(d);
	return 0;
}

int pack_list(const char *dir, uint32_t *max)
{
	struct strbuf path = STRBUF_INIT;
	int ret;

	strbuf_addf(&path, "%s/packs", dir);
	ret = pack_list_dir(path.buf, max);
	strbuf_release(&path);
	return ret;
}

int pack_open(struct store *s)
{
	struct pack_set *ps = xcalloc(1, sizeof(*ps));
	struct strbuf path = STRBUF_INIT;
	int ret;

	pthread_mutex_init(&ps->lock, NULL);
	pthread_rwlock_init(&ps->rd, NULL);
	strbuf_addf(&path, "%s/packs", s->dir);
	ps->dir = strbuf_detach(&path, NULL);
	ps->cur_fd = -1;
	/* off until the pool's setting is read (store/pack_mode.c) */
	ps->enabled = false;
	ret = pack_list(s->dir, &ps->max);
	if (ret)
		log_err("%s: cannot list: %s", ps->dir, strerror(-ret));
	ps->any = ps->max > 0;
	s->packs = ps;
	return ret;
}

void pack_close(struct store *s)
{
	struct pack_set *ps = s->packs;

	if (!ps)
		return;
	if (ps->cur_fd >= 0)
		close(ps->cur_fd);
	for (size_t i = 0; i < ps->rfd_n; i++)
		if (ps->rfd[i] >= 0)
			close(ps->rfd[i]);
	free(ps->rfd);
	free(ps->pend);
	free(ps->holds);
	free(ps->dir);
	pthread_rwlock_destroy(&ps->rd);
	pthread_mutex_destroy(&ps->lock);
	free(ps);
	s->packs = NULL;
}

void pack_set_writing(struct store *s, bool on)
{
	if (s->packs)
		s->packs->enabled = on && !(s->flags & STORE_OPEN_RDONLY);
}

bool pack_enabled(struct store *s)
{
	return s->packs && s->packs->enabled;
}

bool pack_any(struct store *s)
{
	bool any;

	if (!s->packs)
		return false;
	pthread_mutex_lock(&s->packs->lock);
	any = s->packs->any;
	pthread_mutex_unlock(&s->packs->lock);
	return any;
}

/*
 * Starts pack max+1: the directory made durable if new, the file created
 * with its header and its name synced into the directory, so that a
 * commit's fdatasync of its bytes is all it still needs. Holds ps->lock.
 */
static int pack_new(struct store *s)
{
	struct pack_set *ps = s->packs;
	struct strbuf path = STRBUF_INIT;
	uint8_t hdr[PACK_HDR];
	uint32_t n = ps->max + 1;
	int fd = -1, ret = 0;

	if (n >= PACK_NUM_MAX)
		return -ENOSPC;
	if (!mkdir(ps->dir, 0700)) {
		ret = store_fsync_path(s->dir);
		if (ret)
			goto out;
	} else if (errno != EEXIST) {
		ret = -errno;
		goto out;
	}
	pack_name(ps, n, &path);
	fd = open(path.buf, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	memcpy(hdr, PACK_MAGIC, 8);
	put_be32(hdr + 8, 1);
	put_be32(hdr + 12, n);
	ret = store_pwrite_full(fd, hdr, sizeof(hdr), 0);
	if (!ret)
		ret = store_fsync_path(ps->dir);
	if (ret) {
		close(fd);
		unlink(path.buf);
		goto out;
	}
	ps->max = n;
	ps->any = true;
	ps->cur = n;
	ps->cur_fd = fd;
	ps->cur_size = PACK_HDR;
out:
	if (ret)
		log_err("%s: cannot start pack %u: %s", ps->dir, n, strerror(-ret));
	strbuf_release(&path);
	return ret;
}

/* Syncs and closes the current pack (holds ps->lock). */
static int pack_seal(struct store *s)
{
	struct pack_set *ps = s->packs;
	int ret = 0;

	if (ps->cur_fd < 0)
		return 0;
	if (fdatasync(ps->cur_fd))
		ret = -errno;
	close(ps->cur_fd);
	ps->cur_fd = -1;
	ps->cur = 0;
	return ret;
}

/* ---- chunks appended, not yet counted ---- */

static size_t pend_slot(const uint8_t sha[32], size_t cap)
{
	uint64_t h;

	memcpy(&h, sha, sizeof(h));
	return (size_t)(h & (cap - 1));
}

static struct pend *pend_find(struct pack_set *ps, const uint8_t sha[32])
{
	if (!ps->pend_cap)
		return NULL;
	for (size_t i = pend_slot(sha, ps->pend_cap); ps->pend[i].used;
	     i = (i + 1) & (ps->pend_cap - 1))
		if (!memcmp(ps->pend[i].sha, sha, 32))
			return &ps->pend[i];
	return NULL;
}

static void pend_put(struct pack_set *ps, const uint8_t sha[32], uint32_t pack, uint32_t len)
{
	struct pend *e = pend_find(ps, sha);
	size_t i;

	if (!e && 2 * (ps->pend_n + 1) > ps->pend_cap) {
		size_t cap = ps->pend_cap ? 2 * ps->pend_cap : 1024;
		struct pend *t = xcalloc(cap, sizeof(*t));

		for (size_t k = 0; k < ps->pend_cap; k++) {
			if (!ps->pend[k].used)
				continue;
			for (i = pend_slot(ps->pend[k].sha, cap); t[i].used; i = (i + 1) & (cap - 1))
				;
			t[i] = ps->pend[k];
		}
		free(ps->pend);
		ps->pend = t;
		ps->pend_cap = cap;
	}
	if (!e) {
		for (i = pend_slot(sha, ps->pend_cap); ps->pend[i].used;
		     i = (i + 1) & (ps->pend_cap - 1))
			;
		e = &ps->pend[i];
		memcpy(e->sha, sha, 32);
		e->used = true;
		ps->pend_n++;
	}
	/* the later append's locator is the one the chunks family keeps */
	e->pack = pack;
	e->len = len;
}

/* Backward-shift deletion keeps every probe chain unbroken. */
static void pend_del(struct pack_set *ps, struct pend *e)
{
	size_t cap = ps->pend_cap, i = (size_t)(e - ps->pend), j = i;

	ps->pend[i].used = false;
	ps->pend_n--;
	for (;;) {
		size_t k;

		j = (j + 1) & (cap - 1);
		if (!ps->pend[j].used)
			return;
		k = pend_slot(ps->pend[j].sha, cap);
		/* j's entry may move to the hole at i unless its home lies in (i, j] */
		if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		ps->pend[i] = ps->pend[j];
		ps->pend[j].used = false;
		i = j;
	}
}

bool pack_claim(struct store *s, const uint8_t sha[32], struct pack_tally *t)
{
	struct pack_set *ps = s->packs;
	struct pend *e;
	bool found = false;

	if (!ps)
		return false;
	pthread_mutex_lock(&ps->lock);
	e = pend_find(ps, sha);
	if (e) {
		pack_tally_add(t, e->pack, e->len);
		pend_del(ps, e);
		found = true;
	}
	pthread_mutex_unlock(&ps->lock);
	return found;
}

void pack_forget(struct store *s, const uint8_t sha[32])
{
	struct pack_set *ps = s->packs;
	struct pend *e;

	if (!ps)
		return;
	pthread_mutex_lock(&ps->lock);
	e = pend_find(ps, sha);
	if (e)
		pend_del(ps, e);
	pthread_mutex_unlock(&ps->lock);
}

/* ---- writing and reading ---- */

/* a new pack past this size; tests/test_pack.c makes it small enough for one write to end several */
static uint64_t pack_max(void)
{
	return store_test_size("POOLFS_TEST_PACK_MAX", PACK_MAX);
}

/*
 * Appends records i.. of the batch to the current pack, as many as fit
 * under PACK_MAX (at least one: a pack holds any record), headers and
 * bytes in one call from the caller's buffers, and fills their
 * locators. Returns the next record's index, or a negative errno.
 * Called with ps->lock held.
 */
static int append_run(struct store *s, const struct pack_recs *r, size_t i, bool pend)
{
	struct pack_set *ps = s->packs;
	struct iovec iov[2 * PACK_APPEND_MAX];
	uint8_t hdr[PACK_APPEND_MAX][PACK_REC_HDR];
	uint64_t off, at;
	size_t first = i;
	int cnt = 0, ret = 0;

	uint64_t max = pack_max();

	if (ps->cur_fd >= 0 && ps->cur_size + PACK_REC_HDR + r->len[i] > max)
		ret = pack_seal(s);
	if (!ret && ps->cur_fd < 0)
		ret = pack_new(s);
	if (ret)
		return ret;
	off = at = ps->cur_size;
	do {
		memcpy(hdr[i], r->key[i], 33);
		put_be32(hdr[i] + 33, r->len[i]);
		iov[cnt++] = (struct iovec){ hdr[i], PACK_REC_HDR };
		iov[cnt++] = (struct iovec){ (void *)r->data[i], r->len[i] };
		r->loc[i].pack = ps->cur;
		r->loc[i].off = at + PACK_REC_HDR;
		r->loc[i].len = r->len[i];
		at += PACK_REC_HDR + r->len[i];
		i++;
	} while (i < r->n && at + PACK_REC_HDR + r->len[i] <= max);
	ret = store_pwritev_full(ps->cur_fd, iov, cnt, off);
	if (ret) {
		/* whatever part landed is never named; the next append starts a new pack */
		pack_seal(s);
		return ret;
	}
	ps->cur_size = at;
	for (size_t k = first; pend && k < i; k++)
		pend_put(ps, r->key[k] + 1, ps->cur, PACK_REC_HDR + r->len[k]);
	return (int)i;
}

/* pend: a writer's chunks, claimed by its commit; GC's moves are counted by GC. */
static int append_recs(struct store *s, const struct pack_recs *r, bool pend)
{
	struct pack_set *ps = s->packs;
	int ret = 0;

	if (r->n > PACK_APPEND_MAX)
		return -EINVAL;
	for (size_t i = 0; i < r->n; i++) {
		if (r->len[i] < PACK_MIN_STORED)
			return -EINVAL;
		/* an encrypted pool's chunks are sealed: the tag checks them, a CRC pass would not add */
		r->loc[i].sealed = s->crypt != NULL;
		r->loc[i].crc = r->loc[i].sealed ? 0 : pack_crc32c(r->data[i], r->len[i], 0);
	}
	/* appends are in place order under the lock: a sync after one covers it */
	pthread_mutex_lock(&ps->lock);
	for (size_t i = 0; i < r->n && ret >= 0; i = (size_t)ret)
		ret = append_run(s, r, i, pend);
	pthread_mutex_unlock(&ps->lock);
	if (ret < 0)
		log_err("%s: cannot append to a pack: %s", ps->dir, strerror(-ret));
	return ret < 0 ? ret : 0;
}

int pack_append(struct store *s, const uint8_t key[33], const uint8_t *data, uint32_t len,
		struct pack_loc *l)
{
	const struct pack_recs r = { 1, &key, &data, &len, l };

	return pack_append_many(s, &r);
}

int pack_append_many(struct store *s, const struct pack_recs *r)
{
	if (!pack_enabled(s))
		return -EINVAL;
	return append_recs(s, r, true);
}

int pack_move_append(struct store *s, const uint8_t key[33], const uint8_t *data, uint32_t len,
		     struct pack_loc *l)
{
	const struct pack_recs r = { 1, &key, &data, &len, l };

	if (!s->packs || (s->flags & STORE_OPEN_RDONLY))
		return -EROFS;
	return append_recs(s, &r, false);
}

int pack_sync(struct store *s, uint32_t from)
{
	struct pack_set *ps = s->packs;
	int fd = -1, ret = 0;

	if (!ps)
		return 0;
	pthread_mutex_lock(&ps->lock);
	/* packs before the current one were synced when it started */
	if (ps->cur_fd >= 0 && ps->cur >= from) {
		fd = dup(ps->cur_fd);
		if (fd < 0)
			ret = -errno;
	}
	pthread_mutex_unlock(&ps->lock);
	if (fd >= 0) {
		if (fdatasync(fd))
			ret = -errno;
		close(fd);
	}
	if (ret) {
		log_err("%s: cannot sync pack %u: %s", ps->dir, from, strerror(-ret));
		/* pages a failed sync dropped may be gone: no more commits trust them */
		ret = store_fail(s, -EIO, "pack sync failed");
	}
	return ret;
}

/* A descriptor to read pack n (owned by the set). */
static int read_fd(struct pack_set *ps, uint32_t n, int *fd)
{
	struct strbuf path = STRBUF_INIT;
	int ret = 0;

	pthread_mutex_lock(&ps->lock);
	if (n > ps->max) {
		/* another process (the daemon, for a poolctl) may have started it since */
		uint32_t max;

		if (!pack_list_dir(ps->dir, &max) && max > ps->max)
			ps->max = max;
		if (n > ps->max) {
			strbuf_addf(&path, "pack %u, which a locator names", n);
			ret = -ENOENT;
			*fd = -1;
			goto out;
		}
	}
	if (n >= ps->rfd_n) {
		size_t old = ps->rfd_n, cap = n + 16;

		ps->rfd = xreallocarray(ps->rfd, cap, sizeof(*ps->rfd));
		for (size_t i = old; i < cap; i++)
			ps->rfd[i] = -1;
		ps->rfd_n = cap;
	}
	if (ps->rfd[n] < 0) {
		pack_name(ps, n, &path);
		ps->rfd[n] = open(path.buf, O_RDONLY | O_CLOEXEC);
		if (ps->rfd[n] < 0)
			ret = -errno;
	}
	*fd = ps->rfd[n];
out:
	pthread_mutex_unlock(&ps->lock);
	if (ret)
		log_err("%s: %s: %s", ps->dir, path.buf, strerror(-ret));
	strbuf_release(&path);
	return ret;
}

/*
 * The record header in front of the bytes is read with them and must
 * name key and the locator's length: a locator edited (or misplaced) to
 * point at another chunk's record is refused, never read as this one.
 * crc: check the bytes against the locator's CRC (not for sealed bytes,
 * whose tag the caller checks: it covers every byte, and the CRC pass
 * cost a tenth of an encrypted pool's read).
 */
static int read_rec(struct store *s, const uint8_t key[33], const struct pack_loc *l,
		    uint8_t *dst, bool crc)
{
	struct pack_set *ps = s->packs;
	uint8_t hdr[PACK_REC_HDR];
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { dst, l->len } };
	const char *why = "damaged or missing";
	ssize_t n;
	int fd, ret;

	if (!ps || !l->pack || l->pack >= PACK_NUM_MAX || l->off < PACK_HDR + PACK_REC_HDR)
		return -EIO;
	/* a plain pool never writes a locator without a CRC: a forged one is refused */
	if (l->sealed && !s->crypt) {
		log_err("%s: pack %u: a sealed record's locator in an unencrypted pool", ps->dir,
			l->pack);
		return -EIO;
	}
	pthread_rwlock_rdlock(&ps->rd);
	ret = read_fd(ps, l->pack, &fd);
	if (!ret) {
		/* one call: records are small enough that a short read is damage */
		n = preadv(fd, iov, 2, (off_t)(l->off - PACK_REC_HDR));
		if (n != (ssize_t)(sizeof(hdr) + l->len))
			ret = -EIO;
	}
	pthread_rwlock_unlock(&ps->rd);
	if (!ret && (memcmp(hdr, key, 33) || get_be32(hdr + 33) != l->len)) {
		why = "another chunk's record";
		ret = -EIO;
	}
	if (!ret && crc && !l->sealed && pack_crc32c(dst, l->len, 0) != l->crc)
		ret = -EIO;
	if (ret)
		log_err("%s: pack %u: %u bytes at %llu are %s", ps->dir, l->pack, l->len,
			(unsigned long long)l->off, why);
	return ret ? -EIO : 0;
}

int pack_read(struct store *s, const uint8_t key[33], const struct pack_loc *l, uint8_t *dst)
{
	return read_rec(s, key, l, dst, true);
}

int pack_read_sealed(struct store *s, const uint8_t key[33], const struct pack_loc *l,
		     uint8_t *dst)
{
	return read_rec(s, key, l, dst, false);
}

int pack_chunk_get(struct store *s, const uint8_t key[33], size_t want, struct strbuf *out)
{
	struct pack_loc l, again;
	int ret;

	for (int tries = 0;; tries++) {
		ret = store_get(s, CF_CHUNKS, key, 33, out);
		if (ret)
			return ret;
		ret = pack_loc_decode(out->buf, out->len, want, &l);
		if (ret < 0)
			return ret;
		if (ret == 1)
			return 0;
		if (tries && l.pack == again.pack && l.off == again.off && l.len == again.len &&
		    l.crc == again.crc)
			break;
		strbuf_reset(out);
		strbuf_grow(out, l.len);
		ret = pack_read(s, key, &l, (uint8_t *)out->buf);
		if (!ret) {
			strbuf_setlen(out, l.len);
			return 0;
		}
		/* GC may have moved it and dropped the pack since its locator was read */
		if (tries)
			break;
		again = l;
	}
	strbuf_reset(out);
	return -EIO;
}

/* ---- GC's view of the set (store/pack_gc.c) ---- */

uint32_t pack_hold(struct store *s)
{
	struct pack_set *ps = s->packs;
	uint32_t n;

	pthread_mutex_lock(&ps->lock);
	/* every later append goes to this pack or a later one */
	n = ps->cur ? ps->cur : ps->max + 1;
	ALLOC_GROW(ps->holds, ps->holds_n + 1, ps->holds_alloc);
	ps->holds[ps->holds_n++] = n;
	pthread_mutex_unlock(&ps->lock);
	return n;
}

void pack_unhold(struct store *s, uint32_t n)
{
	struct pack_set *ps = s->packs;

	pthread_mutex_lock(&ps->lock);
	for (size_t i = 0; i < ps->holds_n; i++)
		if (ps->holds[i] == n) {
			ps->holds[i] = ps->holds[--ps->holds_n];
			break;
		}
	pthread_mutex_unlock(&ps->lock);
}

uint32_t pack_gc_bound(struct store *s, uint32_t *max)
{
	struct pack_set *ps = s->packs;
	uint32_t b;

	pthread_mutex_lock(&ps->lock);
	b = ps->cur ? ps->cur : ps->max + 1;
	for (size_t i = 0; i < ps->holds_n; i++)
		if (ps->holds[i] < b)
			b = ps->holds[i];
	*max = ps->max;
	pthread_mutex_unlock(&ps->lock);
	return b;
}

int pack_start_after(struct store *s, uint32_t n)
{
	struct pack_set *ps = s->packs;
	int ret = 0;

	pthread_mutex_lock(&ps->lock);
	if (ps->max <= n) {
		ret = pack_seal(s);
		if (!ret)
			ret = pack_new(s);
	}
	pthread_mutex_unlock(&ps->lock);
	return ret;
}

void pack_retire(struct store *s, uint32_t n)
{
	struct pack_set *ps = s->packs;

	/* no reader is between read_fd() and its pread while rd is held */
	pthread_rwlock_wrlock(&ps->rd);
	pthread_mutex_lock(&ps->lock);
	if (n < ps->rfd_n && ps->rfd[n] >= 0) {
		close(ps->rfd[n]);
		ps->rfd[n] = -1;
	}
	pthread_mutex_unlock(&ps->lock);
	pthread_rwlock_unlock(&ps->rd);
}

const char *pack_dir(struct store *s)
{
	return s->packs->dir;
}

struct pack_gc_bg **pack_gc_bg_of(struct store *s)
{
	return &s->packs->bg;
}
