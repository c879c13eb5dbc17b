/*
 * store/pack_mode.h - whether a pool writes packs: a setting of the pool
 * (meta "write_packs"), chosen at creation, so every daemon writes a pool
 * the same way (docs/storage.md "Packs").
 */
#ifndef POOL_STORE_PACK_MODE_H
#define POOL_STORE_PACK_MODE_H

#include <rocksdb/c.h>
#include <stdbool.h>

struct store;

/* Adds the setting to b (store creation). */
void pack_mode_put(struct store *s, rocksdb_writebatch_t *b, bool on);
/*
 * Reads the setting at open and tells the pack set: absent (a pool made
 * before the setting) is off, so an old pool keeps its format.
 */
int pack_mode_load(struct store *s);

/*
 * The pool's pack figures into st (store_stats): its setting, the pack
 * files and their bytes, the live bytes the meta rows count, and the
 * garbage between (pack headers left out).
 */
struct store_stats;
int pack_stats(struct store *s, struct store_stats *st);

#endif
