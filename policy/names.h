/*
 * policy/names.h - ids to indices (department ids, catalog codes, grant
 * ids), so that parsing, cross references and `policy apply`'s diff cost
 * one hash probe per name instead of a scan of every earlier element: a
 * city's policy has thousands of entries and tens of thousands of grants.
 *
 * Keys are borrowed from the policy's own strings, which never move.
 */
#ifndef POOL_POLICY_NAMES_H
#define POOL_POLICY_NAMES_H

#include <stddef.h>
#include <stdint.h>

struct pol_names {
	const char **keys;	/* open addressing, NULL: empty */
	uint32_t *idx;
	size_t cap;		/* a power of two, or 0 */
	size_t n;
};

/* Sizes the table for about expect names (more still fit: it grows). */
void pol_names_init(struct pol_names *m, size_t expect);
/* Adds key -> idx; if key is already there returns its index, unchanged, else -1. */
long pol_names_put(struct pol_names *m, const char *key, size_t idx);
/* The index of key, or -1. */
long pol_names_get(const struct pol_names *m, const char *key);
void pol_names_free(struct pol_names *m);

#endif
