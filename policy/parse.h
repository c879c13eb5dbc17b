/*
 * policy/parse.h - what the policy parser's files share: the JSON path of
 * the value being read, so every error says where it is, and checked
 * getters that fail closed on unknown keys and wrong types.
 */
#ifndef POOL_POLICY_PARSE_H
#define POOL_POLICY_PARSE_H

#include <jansson.h>

#include "policy/model.h"

struct pol_ctx {
	struct policy *p;
	struct perr *e;
	char path[400];		/* e.g. grants[2].masks.身份证号 */
	size_t plen;
};

/* getter flags */
#define POL_REQ		1u	/* missing key is an error */
#define POL_ID		2u	/* [A-Za-z0-9][A-Za-z0-9._-]*, <= POL_ID_MAX */
#define POL_NONEMPTY	4u

/* Push ".key" / "[i]" onto the path; both return the length to restore. */
size_t pol_jp_key(struct pol_ctx *x, const char *key);
size_t pol_jp_idx(struct pol_ctx *x, size_t i);
void pol_jp_restore(struct pol_ctx *x, size_t len);

/* "<path>: <message>" into x->e; returns -EINVAL. */
int pol_fail(struct pol_ctx *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));


/* fail closed: any key of obj not in allowed (NULL-terminated) is an error */
int pol_check_keys(struct pol_ctx *x, json_t *obj, const char *const *allowed);
/* obj must be an object; says "expected an object" at the current path */
int pol_want_object(struct pol_ctx *x, json_t *v);

/*
 * Reads obj[key]. Absent and optional leaves *out NULL / untouched.
 * Strings are copied (the caller's struct owns them).
 */
int pol_get_str(struct pol_ctx *x, json_t *obj, const char *key, unsigned flags,
		char **out);
int pol_get_int(struct pol_ctx *x, json_t *obj, const char *key, unsigned flags,
		long long lo, long long hi, long long *out, int *present);
int pol_get_ids(struct pol_ctx *x, json_t *obj, const char *key,
		struct pol_idlist *out);
int pol_get_strs(struct pol_ctx *x, json_t *obj, const char *key, unsigned flags,
		 char ***out, size_t *n, int *present);
/* The string value v at the current path, checked like pol_get_str. */
int pol_str_value(struct pol_ctx *x, json_t *v, unsigned flags, char **out);

/*
 * Parses the JSON array arr into a new vector of elem-sized elements,
 * stored in *vec (zeroed, owned by the caller) before the first element
 * is read: parse fills element i from arr[i], then check (may be NULL)
 * compares it with elements 0..i-1, e.g. for a duplicate id. *n counts
 * every element parse was called on, so the caller frees what is there
 * on error. Stops at and returns the first error; else 0.
 */
int pol_parse_array(struct pol_ctx *x, json_t *arr, size_t elem, void **vec, size_t *n,
		    int (*parse)(struct pol_ctx *x, json_t *v, void *out),
		    int (*check)(struct pol_ctx *x, const void *vec, size_t i));

/* Parses the whole document into x->p; the caller frees p on error. */
int pol_parse_doc(struct pol_ctx *x, json_t *root);
int pol_parse_catalog(struct pol_ctx *x, json_t *arr);
int pol_parse_grants(struct pol_ctx *x, json_t *arr);

#endif
