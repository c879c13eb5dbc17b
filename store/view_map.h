/*
 * store/view_map.h - segment maps of views too large for the view cache
 * (docs/storage.md "View cache"). A map is an opaque record the daemon
 * writes (fs/vseg.c draws it): where a view's segments begin in the
 * source and in the view. It is cached like a view, under the same
 * (content id, rule fingerprint), counted in the budget by its own size
 * and evicted with the views, least recently used first.
 */
#ifndef POOL_STORE_VIEW_MAP_H
#define POOL_STORE_VIEW_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"

struct store;

/*
 * Keeps map[0..len) for (content_id, fp) in one synced batch, evicting
 * least recently used views first when it would not fit. A map there
 * already is left as it is. -EFBIG when len alone passes the budget.
 */
int store_view_map_put(struct store *s, const uint8_t content_id[32], const uint8_t fp[32],
		       const void *map, size_t len);

/* The map into out (replaced), marked used; -ENOENT when there is none. */
int store_view_map_get(struct store *s, const uint8_t content_id[32], const uint8_t fp[32],
		       struct strbuf *out);

#endif
