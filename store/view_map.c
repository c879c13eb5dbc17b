/*
 * store/view_map.c - segment maps in the view cache: one 'm' row per
 * (content id, rule fingerprint), beside the 'v' rows of whole views.
 *
 *   CF     key                       value
 *   -----  ------------------------  ---------------------------------
 *   views  'm' content_id[32] fp[32] the map, opaque here (fs/vseg.c)
 *
 * A map has the 'a' row and the place in the totals a view would have,
 * its size being the map's length, so eviction (view_evict.c, which
 * deletes the 'm' row with the 'v' row of the same key) weighs it like
 * any view. A view and a map of one key never both exist: the daemon
 * writes a map only for a view it could not cache.
 */
#include "store/view_map.h"

#include "store/content.h"
#include "store/crypt_store.h"
#include "store/internal.h"

#include <errno.h>
#include <string.h>

#include "common/codec.h"
#include "common/log.h"
#include "store/store.h"

static void used_row(struct store *s, rocksdb_writebatch_t *b, const uint8_t key[65],
		     uint64_t size)
{
	uint8_t akey[65], val[16];

	memcpy(akey, key, sizeof(akey));
	akey[0] = 'a';
	put_be64(val, (uint64_t)store_now_ns());
	put_be64(val + 8, size);
	rocksdb_writebatch_put_cf(b, s->cf[CF_VIEWS], (const char *)akey, sizeof(akey),
				  (const char *)val, sizeof(val));
}

int store_view_map_put(struct store *s, const uint8_t content_id[32], const uint8_t fp[32],
		       const void *map, size_t len)
{
	rocksdb_writebatch_t *b;
	struct strbuf v = STRBUF_INIT;
	uint64_t budget, views, bytes;
	uint8_t key[65];
	int ret;

	if (s->flags & STORE_OPEN_RDONLY)
		return -EROFS;
	b = rocksdb_writebatch_create();
	view_key(key, 'm', content_id, fp);
	pthread_mutex_lock(&s->lock);
	ret = store_get_value(s, CF_VIEWS, key, sizeof(key), &v);
	if (ret != -ENOENT)
		goto out;		/* there already, or an error */
	ret = store_view_budget(s, &budget);
	if (!ret)
		ret = view_totals(s, &views, &bytes);
	if (!ret && len > budget)
		ret = -EFBIG;
	if (!ret && bytes + len > budget) {
		ret = view_evict_locked(s, budget - len);
		if (!ret)
			ret = view_totals(s, &views, &bytes);
	}
	if (ret)
		goto out;
	store_put_value(s, b, CF_VIEWS, key, sizeof(key), map, len);
	used_row(s, b, key, len);
	view_totals_put(s, b, views + 1, bytes + len);
	ret = store_write(s, b, true);
out:
	pthread_mutex_unlock(&s->lock);
	strbuf_release(&v);
	rocksdb_writebatch_destroy(b);
	return ret;
}

int store_view_map_get(struct store *s, const uint8_t content_id[32], const uint8_t fp[32],
		       struct strbuf *out)
{
	rocksdb_writebatch_t *b;
	uint8_t key[65];
	int ret;

	strbuf_reset(out);
	view_key(key, 'm', content_id, fp);
	ret = store_get_value(s, CF_VIEWS, key, sizeof(key), out);
	if (ret || (s->flags & STORE_OPEN_RDONLY))
		return ret;
	/* best effort, as for a view: a lost bump only makes the map look older */
	b = rocksdb_writebatch_create();
	used_row(s, b, key, out->len);
	if (store_write_untree(s, b, false))
		log_warn("%s: could not mark a view map used", s->dir);
	rocksdb_writebatch_destroy(b);
	return 0;
}
