/*
 * store/view_pin.c - what view eviction must not delete: chunks that a
 * writer in flight has met, and views that a reader holds open.
 *
 * Only view eviction ever removes stored chunks (file versions never
 * drop a reference). A writer decides "already stored, skip it" from a
 * refs row and commits much later, and a reader of a view fetches chunks
 * long after it read the view's record; eviction between the two would
 * leave a version or a reader naming a missing chunk. So a writer pins
 * every chunk before it looks at the chunk's refs row and unpins after
 * its commit, a reader pins the view before it reads the record, and the
 * evictor holds pins_lock() from checking pins until its batch is
 * written: a pin taken after that sees the rows already gone (and stores
 * the chunk again, or finds no view).
 *
 * The tables are process-wide, not per store: a pin in one store can
 * only make eviction in another more careful, never less, and it keeps
 * the pins out of struct store. Both are empty whenever nothing is being
 * written or read.
 */
#include "common/alloc.h"
#include "store/content.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 64
#define TABLE_MIN 256	/* slots of a table's first size */

/* Open addressing on the key's first bytes (hashes, so uniform). */
struct pin_table {
	uint8_t (*key)[KEY_MAX];
	uint32_t *count;		/* 0: slot free */
	size_t cap, n, klen;
};

static pthread_mutex_t pin_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pin_table chunk_pins = { .klen = 32 };	/* protected by pin_lock */
static struct pin_table view_pins = { .klen = 64 };	/* protected by pin_lock */

static size_t slot_of(const struct pin_table *t, const uint8_t *key)
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	return (size_t)(h & (t->cap - 1));
}

/* Slot holding key, or the free slot where it would go. */
static size_t find(const struct pin_table *t, const uint8_t *key)
{
	size_t i = slot_of(t, key);

	while (t->count[i] && memcmp(t->key[i], key, t->klen))
		i = (i + 1) & (t->cap - 1);
	return i;
}

static void table_grow(struct pin_table *t)
{
	struct pin_table old = *t;

	t->cap = old.cap ? 2 * old.cap : TABLE_MIN;
	t->key = xreallocarray(NULL, t->cap, sizeof(*t->key));
	t->count = xcalloc(t->cap, sizeof(*t->count));
	for (size_t k = 0; k < old.cap; k++) {
		size_t i;

		if (!old.count[k])
			continue;
		i = find(t, old.key[k]);
		memcpy(t->key[i], old.key[k], t->klen);
		t->count[i] = old.count[k];
	}
	free(old.key);
	free(old.count);
}

static void table_pin(struct pin_table *t, const uint8_t *key)
{
	size_t i;

	if (2 * (t->n + 1) > t->cap)
		table_grow(t);
	i = find(t, key);
	if (!t->count[i]) {
		memcpy(t->key[i], key, t->klen);
		t->n++;
	}
	t->count[i]++;
}

/* Backward-shift deletion keeps probe chains whole without tombstones. */
static void table_unpin(struct pin_table *t, const uint8_t *key)
{
	size_t i, j, home;

	if (!t->cap)
		return;
	i = find(t, key);
	if (!t->count[i] || --t->count[i])
		return;
	t->n--;
	for (j = (i + 1) & (t->cap - 1); t->count[j]; j = (j + 1) & (t->cap - 1)) {
		home = slot_of(t, t->key[j]);
		/* j's entry may move to i when i lies cyclically in [home, j) */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			memcpy(t->key[i], t->key[j], t->klen);
			t->count[i] = t->count[j];
			t->count[j] = 0;
			i = j;
		}
	}
	/*
	 * Emptied: a big table goes, the first size stays, so that a view
	 * built at a time (each stat of a masked file at a first listing)
	 * does not allocate and clear a table for its one pin.
	 */
	if (!t->n && t->cap > TABLE_MIN) {
		free(t->key);
		free(t->count);
		t->key = NULL;
		t->count = NULL;
		t->cap = 0;
	}
}

static uint32_t table_count(const struct pin_table *t, const uint8_t *key)
{
	return t->cap ? t->count[find(t, key)] : 0;
}

void chunk_pin(const uint8_t sha[32])
{
	pthread_mutex_lock(&pin_lock);
	table_pin(&chunk_pins, sha);
	pthread_mutex_unlock(&pin_lock);
}

void chunk_unpin_many(const uint8_t (*sha)[33], size_t n)
{
	pthread_mutex_lock(&pin_lock);
	for (size_t i = 0; i < n; i++)
		if (sha[i][32])
			table_unpin(&chunk_pins, sha[i]);
	pthread_mutex_unlock(&pin_lock);
}

void view_pin(const uint8_t key[64])
{
	pthread_mutex_lock(&pin_lock);
	table_pin(&view_pins, key);
	pthread_mutex_unlock(&pin_lock);
}

void view_unpin(const uint8_t key[64])
{
	pthread_mutex_lock(&pin_lock);
	table_unpin(&view_pins, key);
	pthread_mutex_unlock(&pin_lock);
}

void pins_lock(void)
{
	pthread_mutex_lock(&pin_lock);
}

void pins_unlock(void)
{
	pthread_mutex_unlock(&pin_lock);
}

uint32_t chunk_pins_locked(const uint8_t sha[32])
{
	return table_count(&chunk_pins, sha);
}

bool view_pinned_locked(const uint8_t key[64])
{
	return table_count(&view_pins, key) != 0;
}
