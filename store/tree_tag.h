/*
 * store/tree_tag.h - tags on the tree family's rows in an encrypted pool
 * (store/tree_tag.c). Internal to store/.
 */
#ifndef POOL_STORE_TREE_TAG_H
#define POOL_STORE_TREE_TAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#include "store/internal.h"

/* Puts v under key in the tree family, followed by its tag when s tags tree rows. */
void tree_put(struct store *s, rocksdb_writebatch_t *b, const void *key, size_t klen,
	      const void *v, size_t vlen);
/*
 * Checks the tag of a tree row's value v as read under key and sets *vlen
 * to the value's length without it. -EIO (logged) when the tag does not
 * hold: the row was edited, or moved from another key. A store opened
 * without keys (backup check) drops the tag unchecked.
 */
int tree_open(struct store *s, const void *key, size_t klen, const void *v, size_t *vlen);
/*
 * Tags every untagged tree row of an encrypted pool made before tags (or
 * converted by an older `poolctl encrypt`), then rewrites meta "crypt"
 * with "tree": "tag", so from then on an untagged row is refused. A
 * no-op for a plain pool or one tagged already. Resumable: a row whose
 * tag already holds (a run cut short) is kept. *n: rows tagged.
 */
int tree_retag(struct store *s, uint64_t *n, struct perr *e);
/* Sets s->tree_tag from a pool's meta "crypt" record (JSON text). */
void tree_tag_from_meta(struct store *s, const char *json, size_t len);

#endif
