/*
 * store/stats.c - what the store holds: version listings, the version
 * current at a time, and pool statistics.
 *
 * Everything here is a read-only scan; none of it takes s->lock, so a
 * listing taken during a commit sees the store before or after it.
 */
#include "store/chunker.h"
#include "store/content.h"
#include "store/crypt_store.h"
#include "store/inode_cache.h"
#include "store/internal.h"
#include "store/pack_mode.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "common/codec.h"
#include "common/log.h"
#include "store/status.h"

/* Calls row(arg, key, klen, val, vlen) for every row of cf from the start key on. */
static int scan(struct store *s, enum store_cf cf, const void *start, size_t slen,
		int (*row)(void *arg, const uint8_t *k, size_t klen,
			   const uint8_t *v, size_t vlen), void *arg)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropt, s->cf[cf]);
	struct strbuf plain = STRBUF_INIT;
	int ret = 0;

	if (slen)
		rocksdb_iter_seek(it, start, slen);
	else
		rocksdb_iter_seek_to_first(it);
	for (; rocksdb_iter_valid(it) && !ret; rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);
		const char *v = rocksdb_iter_value(it, &vlen);

		if (store_sealed(s, cf, k, klen)) {
			ret = store_open_value(s, cf, k, klen, v, vlen, &plain);
			if (ret)
				break;
			v = plain.buf;
			vlen = plain.len;
		}
		ret = row(arg, (const uint8_t *)k, klen, (const uint8_t *)v, vlen);
	}
	strbuf_release(&plain);
	return store_iter_end(s, it, store_cf_names[cf], ret);
}

/* ---- versions ---- */

static void version_info(const struct version_rec *vr, uint64_t version,
			 struct store_version_info *v)
{
	memset(v, 0, sizeof(*v));
	v->version = version;
	v->time.tv_sec = vr->time_ns / 1000000000;
	v->time.tv_nsec = vr->time_ns % 1000000000;
	v->size = vr->size;
	v->uid = vr->uid;
	v->gid = vr->gid;
	memcpy(v->writer, vr->writer, sizeof(v->writer));
	memcpy(v->content_id, vr->id, 32);
}

#define WALK_END	1	/* a row past the ones wanted; not an error */

struct walk {
	uint8_t prefix[8];
	int (*cb)(void *arg, const struct store_version_info *v);
	void *arg;
	bool ended;			/* stopped by WALK_END, not by cb */
};

static int walk_row(void *arg, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen)
{
	struct walk *w = arg;
	struct store_version_info info;
	struct version_rec vr;

	if (klen != 16 || memcmp(k, w->prefix, 8)) {
		w->ended = true;
		return WALK_END;
	}
	if (version_decode(v, vlen, &vr))
		return -EIO;
	version_info(&vr, get_be64(k + 8), &info);
	return w->cb(w->arg, &info);
}

int store_versions(struct store *s, uint64_t ino,
		   int (*cb)(void *arg, const struct store_version_info *v), void *arg)
{
	struct walk w = { .cb = cb, .arg = arg };
	int ret;

	put_be64(w.prefix, ino);
	ret = scan(s, CF_VERSIONS, w.prefix, sizeof(w.prefix), walk_row, &w);
	return w.ended ? 0 : ret;
}

int store_version_get(struct store *s, uint64_t ino, uint64_t version,
		      struct store_version_info *v)
{
	struct strbuf raw = STRBUF_INIT;
	uint64_t gen = inode_cache_gen(s->inodes);
	struct version_rec vr;
	int ret;

	if (inode_cache_version_get(s->inodes, ino, version, v))
		return 0;
	ret = version_load(s, ino, version, &vr, &raw);
	if (!ret) {
		version_info(&vr, version, v);
		inode_cache_version_put(s->inodes, gen, ino, v);
	}
	strbuf_release(&raw);
	return ret;
}

struct at_arg {
	int64_t t;
	uint64_t version;
};

static int at_cb(void *arg, const struct store_version_info *v)
{
	struct at_arg *a = arg;

	/* commit times grow with version numbers (store_now_ns is monotonic) */
	if ((int64_t)v->time.tv_sec * 1000000000 + v->time.tv_nsec > a->t)
		return 1;
	a->version = v->version;
	return 0;
}

int store_version_at(struct store *s, uint64_t ino, const struct timespec *t,
		     uint64_t *version)
{
	struct at_arg a = { (int64_t)t->tv_sec * 1000000000 + t->tv_nsec, 0 };
	int ret = store_versions(s, ino, at_cb, &a);

	if (ret < 0)
		return ret;
	if (!a.version)
		return -ENOENT;
	*version = a.version;
	return 0;
}

/* ---- statistics ---- */

static int tree_row(void *arg, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen)
{
	struct store_stats *st = arg;

	/* 'd' rows are live entries: be64(child) u8(type) be64(born) */
	if (klen < 1 || k[0] != 'd')
		return WALK_END;
	if (vlen < 9)
		return -EIO;
	if (v[8] == STORE_REG)
		st->files++;
	else if (v[8] == STORE_DIR)
		st->dirs++;
	return 0;
}

static int version_row(void *arg, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen)
{
	struct store_stats *st = arg;
	struct version_rec vr;

	if (version_decode(v, vlen, &vr))
		return -EIO;
	st->versions++;
	st->logical_bytes += vr.size;
	return 0;
}

static int ref_row(void *arg, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen)
{
	struct store_stats *st = arg;

	/* 'c' rows: be64 refcount, be32 chunk length (store/content.c) */
	if (klen < 1 || k[0] != 'c')
		return WALK_END;
	if (vlen != 12)
		return -EIO;
	if (get_be64(v)) {
		st->chunks++;
		st->stored_bytes += get_be32(v + 8);
	}
	return 0;
}

static int view_row(void *arg, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen)
{
	struct store_stats *st = arg;

	/* 'a' rows, one per view: be64 last use, be64 size (store/view.c) */
	if (klen != 65 || k[0] != 'a')
		return WALK_END;
	if (vlen != 16)
		return -EIO;
	st->views++;
	st->view_bytes += get_be64(v + 8);
	return 0;
}

/*
 * Counts by scanning, so it costs a pass over the tree, the versions, the
 * refs and the views' use rows (never the chunks themselves); for
 * poolctl, not a hot path. Chunks a crashed commit left unreferenced are
 * not counted; stored bytes include those of cached views.
 */
int store_stats(struct store *s, struct store_stats *st)
{
	int ret;

	memset(st, 0, sizeof(*st));
	st->dirs = 1;			/* the root has no entry */
	ret = scan(s, CF_TREE, "d", 1, tree_row, st);
	if (ret == WALK_END || !ret)
		ret = scan(s, CF_VERSIONS, NULL, 0, version_row, st);
	if (ret == WALK_END || !ret)
		ret = scan(s, CF_REFS, "c", 1, ref_row, st);
	if (ret == WALK_END || !ret)
		ret = scan(s, CF_VIEWS, "a", 1, view_row, st);
	if (ret == WALK_END || !ret)
		ret = pack_stats(s, st);
	return ret == WALK_END ? 0 : ret;
}

int store_view_usage(struct store *s, uint64_t *views, uint64_t *bytes)
{
	struct store_stats st;
	int ret;

	memset(&st, 0, sizeof(st));
	ret = scan(s, CF_VIEWS, "a", 1, view_row, &st);
	*views = st.views;
	*bytes = st.view_bytes;
	return ret == WALK_END ? 0 : ret;
}
