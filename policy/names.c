/*
 * policy/names.c - the id-to-index tables of policy/names.h: open
 * addressing with linear probing over FNV-1a, kept at most half full.
 */
#include "common/alloc.h"
#include "policy/names.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static void alloc_slots(struct pol_names *m, size_t cap)
{
	m->cap = cap;
	m->keys = xcalloc(cap, sizeof(*m->keys));
	m->idx = xcalloc(cap, sizeof(*m->idx));
}

void pol_names_init(struct pol_names *m, size_t expect)
{
	size_t cap = 16;

	pol_names_free(m);
	while (cap < 2 * expect)
		cap *= 2;
	alloc_slots(m, cap);
}

/* The slot of key, or the empty slot where it would go. */
static size_t probe(const struct pol_names *m, const char *key)
{
	size_t mask = m->cap - 1, i;

	for (i = hash_name(key) & mask; m->keys[i]; i = (i + 1) & mask)
		if (strcmp(m->keys[i], key) == 0)
			break;
	return i;
}

static void grow(struct pol_names *m)
{
	struct pol_names old = *m;

	alloc_slots(m, old.cap ? 2 * old.cap : 16);
	for (size_t i = 0; i < old.cap; i++) {
		if (!old.keys[i])
			continue;
		size_t j = probe(m, old.keys[i]);

		m->keys[j] = old.keys[i];
		m->idx[j] = old.idx[i];
	}
	free(old.keys);
	free(old.idx);
}

long pol_names_put(struct pol_names *m, const char *key, size_t idx)
{
	size_t i;

	if (2 * (m->n + 1) > m->cap)
		grow(m);
	i = probe(m, key);
	if (m->keys[i])
		return (long)m->idx[i];
	m->keys[i] = key;
	m->idx[i] = (uint32_t)idx;
	m->n++;
	return -1;
}

long pol_names_get(const struct pol_names *m, const char *key)
{
	size_t i;

	if (!m->cap)
		return -1;
	i = probe(m, key);
	return m->keys[i] ? (long)m->idx[i] : -1;
}

void pol_names_free(struct pol_names *m)
{
	free(m->keys);
	free(m->idx);
	*m = (struct pol_names){ 0 };
}
