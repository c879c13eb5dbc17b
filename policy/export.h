/*
 * policy/export.h - JSON building shared by export.c and catalog.c.
 * Internal to policy/. Every setter steals the value, also on failure,
 * and turns a NULL value (a failed allocation) into -ENOMEM.
 */
#ifndef POOL_POLICY_EXPORT_H
#define POOL_POLICY_EXPORT_H

#include <jansson.h>

#include "common/json.h"
#include "policy/model.h"

int pol_jset(json_t *o, const char *key, json_t *v);
int pol_jpush(json_t *a, json_t *v);
json_t *pol_ids_json(const struct pol_idlist *l);
/* A row filter as the "rows" value of a grant. NULL on allocation failure. */
json_t *pol_rows_json(const struct row_filter *r);
/* Adds an entry's catalog metadata (path .. fields) to o. */
int pol_entry_meta_json(const struct policy *p, const struct pol_entry *en, json_t *o);

#endif
