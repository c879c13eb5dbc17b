/*
 * store/pack_live.c - how many bytes of each pack are still some chunk's
 * (declared in store/pack.h), kept in meta "pack" be32(N): commits add
 * the records their new refs rows count, view eviction takes away those
 * whose refs row goes, and GC reads it to pick the packs worth rewriting
 * (docs/storage.md "Packs", "Live bytes").
 */
#include "common/alloc.h"
#include "common/codec.h"
#include "common/log.h"
#include "store/crypt.h"
#include "store/internal.h"
#include "store/pack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void pack_tally_add(struct pack_tally *t, uint32_t pack, int64_t delta)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].pack == pack) {
			t->v[i].delta += delta;
			return;
		}
	ALLOC_GROW(t->v, t->n + 1, t->alloc);
	t->v[t->n].pack = pack;
	t->v[t->n].delta = delta;
	t->n++;
}

void pack_live_key(uint8_t key[8], uint32_t n)
{
	memcpy(key, "pack", 4);
	put_be32(key + 4, n);
}

int pack_live(struct store *s, uint32_t n, uint64_t *live)
{
	uint8_t key[8];

	pack_live_key(key, n);
	return store_get_be64(s, CF_META, key, sizeof(key), 0, live);
}

int pack_dead(struct store *s, const uint8_t key[33], uint32_t len, struct pack_tally *t,
	      struct strbuf *tmp)
{
	size_t want = (size_t)len + (s->crypt ? CRYPT_OVERHEAD : 0);
	struct pack_loc l;
	int ret;

	/* a locator is never as long as a packed chunk: an inline value is read whole */
	ret = store_get(s, CF_CHUNKS, key, 33, tmp);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	if (pack_loc_decode(tmp->buf, tmp->len, want, &l) == 0)
		pack_tally_add(t, l.pack, -(int64_t)(PACK_REC_HDR + l.len));
	return 0;
}

int pack_tally_apply(struct store *s, rocksdb_writebatch_t *b, struct pack_tally *t)
{
	uint8_t key[8], val[8];
	uint64_t live;
	int ret = 0;

	for (size_t i = 0; i < t->n && !ret; i++) {
		if (!t->v[i].delta)
			continue;
		ret = pack_live(s, t->v[i].pack, &live);
		if (ret)
			break;
		if (t->v[i].delta < 0 && (uint64_t)-t->v[i].delta > live) {
			log_err("%s: pack %u: more bytes dead than were live", store_dir(s),
				t->v[i].pack);
			live = 0;
		} else {
			live += (uint64_t)t->v[i].delta;
		}
		pack_live_key(key, t->v[i].pack);
		put_be64(val, live);
		rocksdb_writebatch_put_cf(b, s->cf[CF_META], (const char *)key, sizeof(key),
					  (const char *)val, sizeof(val));
	}
	t->n = 0;
	return ret;
}

void pack_tally_release(struct pack_tally *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}
