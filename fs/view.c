/*
 * fs/view.c - desensitized views: built through policy/desens into the
 * store's view cache, opened, sized for stat(), and built ahead of reads
 * by one worker after each commit; a reader's handle and its view are
 * fs/view_handle.c.
 *
 * The store tolerates two builders committing one view, but a second
 * build of a large file is wasted work, so builds in flight are kept in
 * a list and a second caller waits for the first. What a build ended
 * with is remembered by (content id, fingerprint): both are SHA-256 over
 * immutable things, so a view's size, or the engine's refusal of a
 * file, never changes; stat() then costs no store access and a file the
 * engine cannot parse is not parsed again at every open.
 *
 * In a pool mount the kernel keeps one page cache and one size per
 * inode for every caller, so a file whose bytes depend on the caller
 * gets a kernel inode per view (fs_view_kid): its pages, filled only
 * through handles opened on it, and its size are that view's, and its
 * readers use the page cache (shared maps, readahead) as raw ones do.
 *
 * Lock order: fs_views.lock is taken alone; builds run without it.
 */
#include "common/alloc.h"
#include "fs/view.h"
#include "fs/view_defer.h"
#include "fs/access.h"
#include "fs/inode.h"
#include "fs/node.h"
#include "fs/vseg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/codec.h"
#include "common/log.h"
#include "common/metrics.h"
#include "policy/desens/desens.h"
#include "store/limits.h"
#include "store/view_map.h"

#define VIEW_KNOWN	512		/* remembered outcomes, direct-mapped */
#define VIEW_QUEUE	64		/* files waiting for the precompute worker */
#define VIEW_TRIES	3		/* builds of a view evicted before it opened */

struct view_build {
	struct view_build *next;	/* in fs_views.builds; lock */
	uint8_t cid[32], fp[32];
	unsigned refs;			/* builder and waiters; lock */
	bool done;			/* lock */
	int err;			/* the build's result; lock */
	uint64_t size;			/* the view's, when err is 0; lock */
	char reason[256];		/* lock */
	pthread_cond_t cond;		/* done */
};

struct view_known {
	bool used;
	uint8_t cid[32], fp[32];
	int err;			/* 0: size is the view's; else the engine's refusal */
	uint64_t size;
	char reason[256];
};

struct fs_views {
	struct fs *fs;
	pthread_mutex_t lock;
	struct view_build *builds;	/* lock */
	struct view_known known[VIEW_KNOWN];	/* lock */
	pthread_cond_t wake;		/* work queued, or stop */
	uint64_t queue[VIEW_QUEUE];	/* store inodes; lock */
	size_t qhead, qlen;		/* lock */
	bool stop;			/* lock; read unlocked (atomic) by builds */
	pthread_t worker;
	uint8_t (*ids)[32];		/* view ids - 1 to fingerprints; lock */
	size_t nids, aids;		/* lock */
};

static bool pool_mount(const struct fs *fs)
{
	return !fs->dept && !fs->allow_all;
}

/* Whether some caller may ever read path through a view of policy p. */
static bool has_views(const struct policy *p, const char *path)
{
	return policy_entry_views(p, path, (time_t)-1, NULL, NULL) > 0;
}

/* ---- what builds ended with ---- */

static struct view_known *known_slot(struct fs_views *vs, const uint8_t cid[32],
				     const uint8_t fp[32])
{
	uint64_t a, b;

	memcpy(&a, cid, sizeof(a));
	memcpy(&b, fp, sizeof(b));
	return &vs->known[(a ^ b) % VIEW_KNOWN];
}

/* Looks the outcome up; 1 with *k filled when known. Caller holds lock. */
static int known_get(struct fs_views *vs, const uint8_t cid[32], const uint8_t fp[32],
		     struct view_known *k)
{
	struct view_known *s = known_slot(vs, cid, fp);

	if (!s->used || memcmp(s->cid, cid, 32) || memcmp(s->fp, fp, 32))
		return 0;
	*k = *s;
	return 1;
}

static void known_put(struct fs_views *vs, const uint8_t cid[32], const uint8_t fp[32],
		      int err, uint64_t size, const char *reason)
{
	struct view_known *s = known_slot(vs, cid, fp);

	s->used = true;
	memcpy(s->cid, cid, 32);
	memcpy(s->fp, fp, 32);
	s->err = err;
	s->size = size;
	snprintf(s->reason, sizeof(s->reason), "%s", reason ? reason : "");
}

/* ---- building ---- */

/* w NULL: the view passed the budget, and only its size and map are kept */
static int flush_out(struct store_view_writer *w, struct strbuf *out, uint64_t *size)
{
	int err = 0;

	if (out->len) {
		if (w)
			err = store_view_write(w, out->buf, out->len);
		*size += out->len;
		strbuf_reset(out);
	}
	return err;
}

/*
 * Streams raw through the engine into the view cache. A view that passes
 * the budget is not stored: the pass goes on for its size and segment
 * map (fs/vseg.c), which is stored instead. *engine tells an error of
 * the engine (the same at every try) from one of the store.
 */
static int build(struct fs_views *vs, struct store_content *raw, const struct view_rules *r,
		 const uint8_t cid[32], uint64_t *size, bool *engine, struct perr *e)
{
	struct store_view_writer *w = NULL;
	struct strbuf out = STRBUF_INIT, map = STRBUF_INIT;
	uint8_t key[STORE_HASH_KEY_LEN];
	struct vseg_builder mb = { 0 };
	struct desens *d = NULL;
	uint64_t off = 0, budget;
	bool over = false;
	size_t step;
	char *buf = NULL;
	ssize_t n;
	int err;

	*size = 0;
	*engine = false;
	/* the reader's department key, derived per build: no key sits in the daemon */
	if (r->hash_dept) {
		err = store_hash_key(vs->fs->store, r->hash_dept, r->hash_key_version, key);
		if (err < 0) {
			/* not the engine's: a key file unreadable now is not remembered */
			perr_set(e, -err, "no hash key v%u for department \"%s\"",
				 r->hash_key_version, r->hash_dept);
			goto out;
		}
	}
	err = store_view_budget(vs->fs->store, &budget);
	if (err < 0) {
		perr_set(e, -err, "cannot read the view cache budget");
		goto out;
	}
	err = desens_new(r, r->hash_dept ? key : NULL, r->hash_dept ? sizeof(key) : 0, &d, e);
	if (err < 0) {
		*engine = true;
		goto out;
	}
	vseg_builder_init(&mb, budget);
	step = vseg_builder_feed(&mb);
	buf = xmalloc(step);
	err = store_view_begin(vs->fs->store, &w);
	while (err == 0) {
		/* unmounting or stopping: a half-built view is dropped, never committed */
		if (__atomic_load_n(&vs->stop, __ATOMIC_RELAXED) || store_stop_due()) {
			err = -ECANCELED;
			break;
		}
		n = store_content_read(raw, buf, step, off);
		if (n <= 0) {
			err = (int)n;
			break;
		}
		off += (uint64_t)n;
		err = desens_feed(d, buf, (size_t)n, &out, e);
		if (err < 0) {
			*engine = true;
			break;
		}
		if (!over && *size + out.len > budget) {
			store_view_abort(w);
			w = NULL;
			over = true;
		}
		err = flush_out(w, &out, size);
		vseg_builder_note(&mb, d, *size);
	}
	if (err == 0) {
		err = desens_finish(d, &out, e);
		if (err < 0)
			*engine = true;
	}
	if (err == 0 && !over && *size + out.len > budget) {
		store_view_abort(w);
		w = NULL;
		over = true;
	}
	if (err == 0)
		err = flush_out(w, &out, size);
	if (err == 0 && over) {
		err = vseg_builder_finish(&mb, d, off, *size, &map, e);
		if (err == 0)
			err = store_view_map_put(vs->fs->store, cid, r->fingerprint, map.buf,
						 map.len);
		if (err == 0)
			metric_add(METRIC_VIEW_BUILDS, 1);
		if (err == -EFBIG)
			perr_set(e, EFBIG, "the view's segment map (%zu bytes) is larger "
				 "than the view cache budget (poolfs -o view_budget=SIZE)",
				 map.len);
	} else if (err == 0) {
		err = store_view_commit(w, cid, r->fingerprint);
		w = NULL;
		if (err == 0)
			metric_add(METRIC_VIEW_BUILDS, 1);
		if (err == -EFBIG)
			perr_set(e, EFBIG, "the view (%llu bytes) is larger than the "
				 "view cache budget (poolfs -o view_budget=SIZE)",
				 (unsigned long long)*size);
	}
out:
	if (w)
		store_view_abort(w);
	if (d)
		desens_free(d);
	free(buf);
	vseg_builder_release(&mb);
	strbuf_release(&map);
	strbuf_release(&out);
	OPENSSL_cleanse(key, sizeof(key));
	/* the engine's own codes: unparsable input is EIO, rules it refuses deny */
	if (*engine && err == -EINVAL)
		err = -EACCES;
	return err;
}

static void build_put(struct view_build *b)
{
	if (--b->refs)
		return;
	pthread_cond_destroy(&b->cond);
	free(b);
}

/*
 * Records a build: the daemon read raw content on its own account, which
 * the log shows like any read (bytes: the view's size), whether a commit
 * or a reader's open or stat asked for it. A file the engine refused is
 * logged with the engine's reason, at commit time before any reader asks.
 * Under a deferral (fs/view_defer.h) the record is queued for the end of
 * the request. Returns 0 or -EIO when the record was not written.
 */
static int build_record(struct fs *fs, const char *path, const struct store_content *raw,
			 const struct view_rules *r, int err, const char *reason,
			 uint64_t bytes)
{
	struct policy_entry_info info;
	struct view_defer_rec rec;
	struct policy *p = fs_policy_get(fs);
	struct policy_decision *d = &rec.d;

	memset(&rec, 0, sizeof(rec));
	if (p && policy_entry_for_path(p, path, &info) == 0)
		snprintf(d->code, sizeof(d->code), "%s", info.code);
	if (p)
		policy_put(p);
	d->err = err;
	d->allow = err == 0;
	if (err < 0) {
		snprintf(d->reason, sizeof(d->reason), "view not built: %s", reason);
		log_warn("\"%s\": %s", path, d->reason);
	} else {
		snprintf(d->reason, sizeof(d->reason), "view built");
	}
	if (r->hash_dept) {
		size_t n = strlen(d->reason);

		snprintf(d->reason + n, sizeof(d->reason) - n, "; hash key v%u of \"%s\"",
			 r->hash_key_version, r->hash_dept);
	}
	hex_encode(r->fingerprint, sizeof(r->fingerprint), rec.fp);
	rec.err = err;
	rec.version = store_content_version(raw);
	rec.bytes = bytes;
	rec.path = (char *)path;
	return fs_view_defer_record(fs, &rec);
}

/*
 * Builds the view unless someone is at it already; then waits for them
 * and returns what they got.
 */
static int build_shared(struct fs_views *vs, struct store_content *raw,
			const struct view_rules *r, const uint8_t cid[32], const char *path,
			uint64_t *size_out, struct perr *e)
{
	struct view_build *b, **p;
	uint64_t size = 0;
	bool engine = false;
	int err;

	pthread_mutex_lock(&vs->lock);
	for (b = vs->builds; b; b = b->next)
		if (!memcmp(b->cid, cid, 32) && !memcmp(b->fp, r->fingerprint, 32))
			break;
	if (b) {
		b->refs++;
		while (!b->done)
			pthread_cond_wait(&b->cond, &vs->lock);
		err = b->err;
		if (err < 0)
			perr_set(e, -err, "%s", b->reason);
		if (size_out)
			*size_out = b->size;
		build_put(b);
		pthread_mutex_unlock(&vs->lock);
		return err;
	}
	b = xcalloc(1, sizeof(*b));
	if (pthread_cond_init(&b->cond, NULL)) {

		pthread_mutex_unlock(&vs->lock);
		free(b);
		return -ENOMEM;
	}
	memcpy(b->cid, cid, 32);
	memcpy(b->fp, r->fingerprint, 32);
	b->refs = 1;
	b->next = vs->builds;
	vs->builds = b;
	pthread_mutex_unlock(&vs->lock);

	err = build(vs, raw, r, cid, &size, &engine, e);

	pthread_mutex_lock(&vs->lock);
	for (p = &vs->builds; *p != b; p = &(*p)->next)
		;
	*p = b->next;
	b->done = true;
	b->err = err;
	b->size = size;
	if (err < 0)
		snprintf(b->reason, sizeof(b->reason), "%s", perr_msg(e, -err));
	/* the budget only changes at mount, so a view too large stays so */
	if (err == 0 || engine || err == -EFBIG)
		known_put(vs, cid, r->fingerprint, err, size, b->reason);
	pthread_cond_broadcast(&b->cond);
	build_put(b);
	pthread_mutex_unlock(&vs->lock);
	/* an unmount's cancelled build read nothing anyone sees */
	if (err != -ECANCELED &&
	    build_record(vs->fs, path, raw, r, err, perr_msg(e, -err), size) < 0 && err == 0)
		err = perr_set(e, EIO, "%s: the audit record of its view build was not written",
			       path);
	if (size_out)
		*size_out = size;
	return err;
}

/* The segment map of a view too large to cache, its size remembered; -ENOENT: none. */
static int map_open(struct fs_views *vs, const uint8_t cid[32], const uint8_t fp[32],
		    struct strbuf *map)
{
	uint64_t size;
	int err;

	err = store_view_map_get(vs->fs->store, cid, fp, map);
	if (err == 0 && vseg_map_size(map->buf, map->len, &size) < 0) {
		log_err("corrupt segment map of a view");
		err = -EIO;
	}
	if (err == 0) {
		pthread_mutex_lock(&vs->lock);
		known_put(vs, cid, fp, 0, size, NULL);
		pthread_mutex_unlock(&vs->lock);
	}
	return err;
}

int fs_view_open(struct fs *fs, struct store_content *raw, const struct policy_view *v,
		 const char *path, struct store_content **out, struct strbuf *map,
		 struct perr *e)
{
	struct fs_views *vs = fs->views;
	const struct view_rules *r = policy_view_rules(v);
	struct view_known k;
	uint8_t cid[32];
	int err = -ENOENT;

	*out = NULL;
	strbuf_reset(map);
	if (!vs || !r)
		return perr_set(e, EIO, "views are not available");
	store_content_id(raw, cid);
	for (int i = 0; i <= VIEW_TRIES; i++) {
		pthread_mutex_lock(&vs->lock);
		err = known_get(vs, cid, r->fingerprint, &k) && k.err ? k.err : 0;
		pthread_mutex_unlock(&vs->lock);
		if (err < 0) {
			perr_set(e, -err, "%s", k.reason);
			break;
		}
		err = store_view_open(fs->store, cid, r->fingerprint, out);
		if (err == -ENOENT)
			err = map_open(vs, cid, r->fingerprint, map);
		if (err != -ENOENT || i == VIEW_TRIES)
			break;
		err = build_shared(vs, raw, r, cid, path, NULL, e);
		if (err < 0)
			break;
	}
	if (err == -ENOENT)
		perr_set(e, EIO, "the view was evicted as soon as it was built: "
			 "the view cache budget is too small");
	else if (err < 0 && err != -EIO && err != -EACCES)
		perr_set(e, -err, "view cache: %s", strerror(-err));
	if (err < 0)
		err = err == -EACCES ? -EACCES : -EIO;
	return err;
}

/*
 * The size of view v of version (0: none) of store inode sino; 0 when it
 * cannot be built. A stat only needs the size: it reads the view's
 * record, or takes it from the build, never opening the view's content.
 */
static uint64_t view_size(struct fs *fs, uint64_t sino, uint64_t version,
			  const struct policy_view *v, const char *path)
{
	const struct view_rules *r = policy_view_rules(v);
	struct fs_views *vs = fs->views;
	struct store_content *raw = NULL;
	struct strbuf map = STRBUF_INIT;
	struct store_version_info vi;
	struct perr e = PERR_INIT;
	struct view_known k;
	uint64_t size = 0;
	int hit, err;

	if (!vs || !r || !version || store_version_get(fs->store, sino, version, &vi) < 0)
		return 0;
	pthread_mutex_lock(&vs->lock);
	hit = known_get(vs, vi.content_id, r->fingerprint, &k);
	pthread_mutex_unlock(&vs->lock);
	if (hit)
		return k.err ? 0 : k.size;
	err = store_view_size(fs->store, vi.content_id, r->fingerprint, &size);
	if (err == 0) {
		pthread_mutex_lock(&vs->lock);
		known_put(vs, vi.content_id, r->fingerprint, 0, size, NULL);
		pthread_mutex_unlock(&vs->lock);
	}
	if (err == -ENOENT) {
		err = map_open(vs, vi.content_id, r->fingerprint, &map);
		if (err == 0)
			err = vseg_map_size(map.buf, map.len, &size);
	}
	if (err == -ENOENT) {
		err = store_content_open(fs->store, sino, version, &raw);
		if (err < 0)
			perr_set(&e, -err, "cannot open the version: %s", strerror(-err));
		else
			err = build_shared(vs, raw, r, vi.content_id, path, &size, &e);
	}
	if (err < 0) {
		size = 0;
		log_warn("\"%s\" version %llu: view %.12s: %s: its size shows as 0", path,
			 (unsigned long long)version, policy_view_fingerprint(v),
			 perr_msg(&e, -err));
	}
	if (raw)
		store_content_close(raw);
	strbuf_release(&map);
	return size;
}

/* ---- the daemon's side ---- */

uint32_t fs_view_kid(struct fs *fs, struct policy *p, const struct policy_view *v,
		     const char *path, bool *private)
{
	struct fs_views *vs = fs->views;
	const struct view_rules *r = policy_view_rules(v);
	bool priv;
	size_t i;

	priv = pool_mount(fs) && p && has_views(p, path);
	if (private)
		*private = priv;
	if (!priv || !r || !vs)
		return 0;
	pthread_mutex_lock(&vs->lock);
	for (i = 0; i < vs->nids; i++)
		if (!memcmp(vs->ids[i], r->fingerprint, 32))
			break;
	if (i == vs->nids) {
		ALLOC_GROW(vs->ids, vs->nids + 1, vs->aids);
		memcpy(vs->ids[vs->nids++], r->fingerprint, 32);
	}
	pthread_mutex_unlock(&vs->lock);
	return (uint32_t)i + 1;
}

bool fs_view_private(struct fs *fs, const char *path)
{
	struct policy *p;
	bool private;

	if (!pool_mount(fs))
		return false;
	p = fs_policy_get(fs);
	/* fail closed: with no policy nobody reads, and nothing is cached for later */
	private = !p || has_views(p, path);
	if (p)
		policy_put(p);
	return private;
}

void fs_view_attr(fuse_req_t req, struct fs_inode *n, uint64_t ino,
		  const struct fs_file *fh, const char *path, struct policy *p,
		  const struct policy_view *view, struct stat *st, double *timeout)
{
	struct fs *fs = fs_of(req);
	uint64_t size, version;

	if (!S_ISREG(st->st_mode) || n->key.kind == FS_META_FILE || !p)
		return;
	/* the kernel keeps one set of attributes per inode for every caller */
	if (pool_mount(fs) && has_views(p, path))
		*timeout = 0;
	if (!view)
		return;
	if (fh && fh->view[0] && !fh->writable) {
		size = fh->vcontent ? store_content_size(fh->vcontent) :
		       fh->vseg ? fs_vseg_size(fh->vseg) : 0;
	} else {
		version = fs_inode_kversion(fs, ino);
		if (!version && fs_node_version(fs, n, &version) < 0)
			version = 0;
		size = view_size(fs, n->key.sino, version, view, path);
	}
	st->st_size = (off_t)size;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
}

/* ---- building ahead of reads ---- */

struct precompute {
	struct fs *fs;
	struct store_content *raw;
	const char *path;
	struct policy *p;
};

static int precompute_one(const struct policy_view *v, void *arg)
{
	struct precompute *pc = arg;
	struct store_content *c = NULL;
	struct strbuf map = STRBUF_INIT;
	struct perr e = PERR_INIT;

	/* a build, or its failure, is recorded by the build itself */
	if (fs_view_open(pc->fs, pc->raw, v, pc->path, &c, &map, &e) == 0 && c)
		store_content_close(c);
	strbuf_release(&map);
	/* only an unmount stops the walk */
	return __atomic_load_n(&pc->fs->views->stop, __ATOMIC_RELAXED) ? -ECANCELED : 0;
}

static void precompute(struct fs *fs, uint64_t sino)
{
	struct strbuf path = STRBUF_INIT;
	struct precompute pc = { fs, NULL, NULL, NULL };
	time_t now = time(NULL);
	int err;

	pc.p = fs_policy_get(fs);
	if (!pc.p)
		goto out;
	err = store_path(fs->store, sino, &path);
	/* gone already, or nobody reads it through a view */
	if (err < 0 || policy_entry_views(pc.p, path.buf, now, NULL, NULL) <= 0)
		goto out;
	pc.path = path.buf;
	err = store_content_open(fs->store, sino, 0, &pc.raw);
	if (err < 0)
		goto out;
	if (store_content_version(pc.raw)) {
		struct fs_view_defer df;

		/* a file's views, one per grant on its entry: their records in one write */
		fs_view_defer_begin(&df);
		policy_entry_views(pc.p, path.buf, now, precompute_one, &pc);
		/* records_write() logged a failure; nobody waits on the worker */
		(void)fs_view_defer_end(fs, &df);
	}
out:
	if (pc.raw)
		store_content_close(pc.raw);
	if (pc.p)
		policy_put(pc.p);
	strbuf_release(&path);
}

static void *worker_main(void *arg)
{
	struct fs_views *vs = arg;
	uint64_t sino;

	pthread_mutex_lock(&vs->lock);
	for (;;) {
		while (!vs->qlen && !vs->stop)
			pthread_cond_wait(&vs->wake, &vs->lock);
		if (vs->stop)
			break;
		sino = vs->queue[vs->qhead];
		vs->qhead = (vs->qhead + 1) % VIEW_QUEUE;
		vs->qlen--;
		pthread_mutex_unlock(&vs->lock);
		precompute(vs->fs, sino);
		pthread_mutex_lock(&vs->lock);
	}
	pthread_mutex_unlock(&vs->lock);
	return NULL;
}

void fs_view_committed(struct fs *fs, uint64_t sino)
{
	struct fs_views *vs = fs->views;
	size_t i;

	if (!vs)
		return;
	pthread_mutex_lock(&vs->lock);
	for (i = 0; i < vs->qlen; i++)
		if (vs->queue[(vs->qhead + i) % VIEW_QUEUE] == sino)
			break;
	/* a full queue drops the file: its views are then built at first read */
	if (i == vs->qlen && vs->qlen < VIEW_QUEUE && !vs->stop) {
		vs->queue[(vs->qhead + vs->qlen) % VIEW_QUEUE] = sino;
		vs->qlen++;
		pthread_cond_signal(&vs->wake);
	} else if (i == vs->qlen) {
		log_debug("inode %llu: view precompute queue full", (unsigned long long)sino);
	}
	pthread_mutex_unlock(&vs->lock);
}

int fs_views_start(struct fs *fs)
{
	struct fs_views *vs = xcalloc(1, sizeof(*vs));
	uint8_t probe[64];
	ssize_t len;
	int err;

	vs->fs
 = fs;
	/* views with a hash mask fail closed at build without it; the others work */
	len = store_secret(fs->store, "hash", probe, sizeof(probe));
	OPENSSL_cleanse(probe, sizeof(probe));
	if (len <= 0)
		log_err("cannot read the pool's hash key: %s",
			strerror(len < 0 ? (int)-len : ENOKEY));
	err = pthread_mutex_init(&vs->lock, NULL);
	if (err) {
		free(vs);
		return -err;
	}
	pthread_cond_init(&vs->wake, NULL);
	err = pthread_create(&vs->worker, NULL, worker_main, vs);
	if (err) {
		pthread_cond_destroy(&vs->wake);
		pthread_mutex_destroy(&vs->lock);
		free(vs);
		return -err;
	}
	/* the worker reaches fs->views only for work queued through it */
	fs->views = vs;
	return 0;
}

void fs_views_stop(struct fs *fs)
{
	struct fs_views *vs = fs->views;

	if (!vs)
		return;
	pthread_mutex_lock(&vs->lock);
	__atomic_store_n(&vs->stop, true, __ATOMIC_RELAXED);
	pthread_cond_signal(&vs->wake);
	pthread_mutex_unlock(&vs->lock);
	pthread_join(vs->worker, NULL);
	fs_vsegs_stop();
	fs->views = NULL;
	pthread_cond_destroy(&vs->wake);
	pthread_mutex_destroy(&vs->lock);
	free(vs->ids);
	free(vs);
}
