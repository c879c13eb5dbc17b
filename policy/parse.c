/*
 * policy/parse.c - the policy document's top level, roles and departments,
 * and the checked getters every part of the parser uses.
 *
 * fail closed everywhere: an unknown key, a wrong type or a value out of
 * range rejects the whole document with the JSON path of the culprit,
 * because a typo in a sharing policy must never widen access silently.
 */
#include "common/alloc.h"
#include "policy/parse.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_UNIX_ID 4294967294LL	/* (uid_t)-1 means "no id" */

/* Moves the end of the path past n written bytes; a long path is cut, never overflowed. */
static void jp_advance(struct pol_ctx *x, int n, size_t room)
{
	if (n > 0)
		x->plen += (size_t)n < room ? (size_t)n : room - 1;
}

size_t pol_jp_key(struct pol_ctx *x, const char *key)
{
	size_t old = x->plen, room = sizeof(x->path) - x->plen;

	jp_advance(x, snprintf(x->path + x->plen, room, "%s%s", x->plen ? "." : "", key),
		   room);
	return old;
}

size_t pol_jp_idx(struct pol_ctx *x, size_t i)
{
	size_t old = x->plen, room = sizeof(x->path) - x->plen;

	jp_advance(x, snprintf(x->path + x->plen, room, "[%zu]", i), room);
	return old;
}

void pol_jp_restore(struct pol_ctx *x, size_t len)
{
	x->plen = len;
	x->path[len] = '\0';
}

int pol_fail(struct pol_ctx *x, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return perr_set(x->e, EINVAL, "%s: %s", x->plen ? x->path : "policy", msg);
}


int pol_want_object(struct pol_ctx *x, json_t *v)
{
	return json_is_object(v) ? 0 : pol_fail(x, "expected an object");
}

int pol_check_keys(struct pol_ctx *x, json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(obj, key, v) {
		for (i = 0; allowed[i]; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (!allowed[i]) {
			pol_jp_key(x, key);
			return pol_fail(x, "unknown key");
		}
	}
	return 0;
}

static int check_text(struct pol_ctx *x, const char *s, size_t len, unsigned flags)
{
	if ((flags & (POL_NONEMPTY | POL_ID)) && len == 0)
		return pol_fail(x, "must not be empty");
	if (flags & POL_ID) {
		if (len > POL_ID_MAX)
			return pol_fail(x, "\"%s\" is longer than %d bytes", s, POL_ID_MAX);
		for (size_t i = 0; i < len; i++) {
			char ch = s[i];
			int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				 (ch >= '0' && ch <= '9') ||
				 (i > 0 && (ch == '.' || ch == '_' || ch == '-'));
			if (!ok)
				return pol_fail(x, "\"%s\" is not an id (letters, digits, "
						"'.', '_', '-', starting with a letter or digit)", s);
		}
		return 0;
	}
	if (len > POL_PATH_MAX)
		return pol_fail(x, "longer than %d bytes", POL_PATH_MAX);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return pol_fail(x, "control character in string");
	return 0;
}

int pol_str_value(struct pol_ctx *x, json_t *v, unsigned flags, char **out)
{
	const char *s;
	size_t len;
	int rc;

	if (!json_is_string(v))
		return pol_fail(x, "expected a string");
	s = json_string_value(v);
	len = json_string_length(v);
	rc = check_text(x, s, len, flags);
	if (rc)
		return rc;
	*out = xstrdup(s);
	return 0;
}

int pol_get_str(struct pol_ctx *x, json_t *obj, const char *key, unsigned flags,
		char **out)
{
	json_t *v = json_object_get(obj, key);
	size_t mark;
	int rc;

	*out = NULL;
	if (!v)
		return (flags & POL_REQ) ? pol_fail(x, "missing key \"%s\"", key) : 0;
	mark = pol_jp_key(x, key);
	rc = pol_str_value(x, v, flags, out);
	if (!rc)
		pol_jp_restore(x, mark);
	return rc;
}

int pol_get_int(struct pol_ctx *x, json_t *obj, const char *key, unsigned flags,
		long long lo, long long hi, long long *out, int *present)
{
	json_t *v = json_object_get(obj, key);
	size_t mark;
	long long n;

	*present = 0;
	if (!v)
		return (flags & POL_REQ) ? pol_fail(x, "missing key \"%s\"", key) : 0;
	mark = pol_jp_key(x, key);
	if (!json_is_integer(v))
		return pol_fail(x, "expected an integer");
	n = json_integer_value(v);
	if (n < lo || n > hi)
		return pol_fail(x, "%lld is out of range (%lld..%lld)", n, lo, hi);
	pol_jp_restore(x, mark);
	*out = n;
	*present = 1;
	return 0;
}

int pol_get_ids(struct pol_ctx *x, json_t *obj, const char *key,
		struct pol_idlist *out)
{
	json_t *arr = json_object_get(obj, key), *v;
	size_t mark, mark2, i;

	if (!arr)
		return 0;
	mark = pol_jp_key(x, key);
	if (!json_is_array(arr))
		return pol_fail(x, "expected an array");
	if (json_array_size(arr))
		out->v = xcalloc(json_array_size(arr), sizeof(*out->v));
	json_array_foreach(arr, i, v) {
		mark2 = pol_jp_idx(x, i);
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > MAX_UNIX_ID)
			return pol_fail(x, "expected an integer from 0 to %lld", MAX_UNIX_ID);
		out->v[out->n++] = (uint32_t)json_integer_value(v);
		pol_jp_restore(x, mark2);
	}
	pol_jp_restore(x, mark);
	return 0;
}

int pol_get_strs(struct pol_ctx *x, json_t *obj, const char *key, unsigned flags,
		 char ***out, size_t *n, int *present)
{
	json_t *arr = json_object_get(obj, key), *v;
	size_t mark, mark2, i;
	int rc;

	*present = 0;
	if (!arr)
		return (flags & POL_REQ) ? pol_fail(x, "missing key \"%s\"", key) : 0;
	mark = pol_jp_key(x, key);
	if (!json_is_array(arr))
		return pol_fail(x, "expected an array");
	*present = 1;
	if (json_array_size(arr))
		*out = xcalloc(json_array_size(arr), sizeof(**out));
	json_array_foreach(arr, i, v) {
		mark2 = pol_jp_idx(x, i);
		rc = pol_str_value(x, v, flags | POL_NONEMPTY, &(*out)[*n]);
		if (rc)
			return rc;
		(*n)++;
		for (size_t j = 0; j + 1 < *n; j++)
			if (strcmp((*out)[j], (*out)[*n - 1]) == 0)
				return pol_fail(x, "\"%s\" is listed twice", (*out)[j]);
		pol_jp_restore(x, mark2);
	}
	pol_jp_restore(x, mark);
	return 0;
}

static int parse_idpair(struct pol_ctx *x, json_t *obj, struct pol_idlist *uids,
			struct pol_idlist *gids)
{
	int rc;

	rc = pol_get_ids(x, obj, "uids", uids);
	if (!rc)
		rc = pol_get_ids(x, obj, "gids", gids);
	return rc;
}

static int parse_roles(struct pol_ctx *x, json_t *roles)
{
	static const char *const keys[] = { "uids", "gids", NULL };
	static const char *const role_keys[] = { "security_admin", "auditor",
						 "system_admin", NULL };
	size_t mark;
	json_t *v;
	int rc;

	rc = pol_want_object(x, roles);
	if (!rc)
		rc = pol_check_keys(x, roles, role_keys);
	if (rc)
		return rc;
	for (int r = 0; r < POL_NROLES; r++) {
		v = json_object_get(roles, pol_role_names[r]);
		if (!v)
			continue;
		mark = pol_jp_key(x, pol_role_names[r]);
		rc = pol_want_object(x, v);
		if (!rc)
			rc = pol_check_keys(x, v, keys);
		if (!rc)
			rc = parse_idpair(x, v, &x->p->roles[r].uids, &x->p->roles[r].gids);
		if (rc)
			return rc;
		x->p->roles[r].present = true;
		pol_jp_restore(x, mark);
	}
	return 0;
}

static int parse_users(struct pol_ctx *x, json_t *arr, struct pol_dept *d)
{
	static const char *const keys[] = { "uid", "name", NULL };
	size_t mark, i;
	long long uid;
	int present, rc;
	json_t *v;

	if (!json_is_array(arr))
		return pol_fail(x, "expected an array");
	if (json_array_size(arr))
		d->users = xcalloc(json_array_size(arr), sizeof(*d->users));

	json_array_foreach(arr, i, v) {
		struct pol_user *u = &d->users[d->nusers];

		mark = pol_jp_idx(x, i);
		rc = pol_want_object(x, v);
		if (!rc)
			rc = pol_check_keys(x, v, keys);
		if (!rc)
			rc = pol_get_int(x, v, "uid", POL_REQ, 0, MAX_UNIX_ID, &uid, &present);
		if (!rc)
			rc = pol_get_str(x, v, "name", POL_REQ | POL_NONEMPTY, &u->name);
		if (!rc && strlen(u->name) > POL_ID_MAX)
			rc = pol_fail(x, "name: longer than %d bytes", POL_ID_MAX);
		d->nusers++;
		if (rc)
			return rc;
		u->uid = (uint32_t)uid;
		pol_jp_restore(x, mark);
	}
	return 0;
}

static int parse_members(struct pol_ctx *x, json_t *m, struct pol_dept *d)
{
	static const char *const keys[] = { "uids", "gids", "users", NULL };
	size_t mark;
	int rc;

	rc = pol_want_object(x, m);
	if (!rc)
		rc = pol_check_keys(x, m, keys);
	if (!rc)
		rc = parse_idpair(x, m, &d->uids, &d->gids);
	if (!rc && json_object_get(m, "users")) {
		mark = pol_jp_key(x, "users");
		rc = parse_users(x, json_object_get(m, "users"), d);
		if (!rc)
			pol_jp_restore(x, mark);
	}
	return rc;
}

static int parse_dept(struct pol_ctx *x, json_t *v, void *out)
{
	struct pol_dept *d = out;
	static const char *const keys[] = { "id", "name", "members", NULL };
	size_t mark;
	int rc;

	rc = pol_want_object(x, v);
	if (!rc)
		rc = pol_check_keys(x, v, keys);
	if (!rc)
		rc = pol_get_str(x, v, "id", POL_REQ | POL_ID, &d->id);
	if (!rc)
		rc = pol_get_str(x, v, "name", POL_REQ | POL_NONEMPTY, &d->name);
	if (!rc && json_object_get(v, "members")) {
		mark = pol_jp_key(x, "members");
		rc = parse_members(x, json_object_get(v, "members"), d);
		if (!rc)
			pol_jp_restore(x, mark);
	}
	return rc;
}

int pol_parse_array(struct pol_ctx *x, json_t *arr, size_t elem, void **vec, size_t *n,
		    int (*parse)(struct pol_ctx *x, json_t *v, void *out),
		    int (*check)(struct pol_ctx *x, const void *vec, size_t i))
{
	size_t mark, i;
	json_t *v;
	int rc;

	*vec = NULL;
	*n = 0;
	if (!json_is_array(arr))
		return pol_fail(x, "expected an array");
	if (json_array_size(arr))
		*vec = xcalloc(json_array_size(arr), elem);
	json_array_foreach(arr, i, v) {
		mark = pol_jp_idx(x, i);
		rc = parse(x, v, (char *)*vec + i * elem);
		(*n)++;
		if (!rc && check)
			rc = check(x, *vec, i);
		if (rc)
			return rc;
		pol_jp_restore(x, mark);
	}
	return 0;
}

static int dept_unique(struct pol_ctx *x, const void *vec, size_t i)
{
	const struct pol_dept *d = vec;
	long j = pol_names_put(&x->p->dept_ids, d[i].id, i);

	if (j >= 0) {
		pol_jp_key(x, "id");
		return pol_fail(x, "duplicate department id \"%s\" "
				"(also departments[%ld])", d[i].id, j);
	}
	return 0;
}

static int parse_depts(struct pol_ctx *x, json_t *arr)
{
	void *v;
	int rc;

	pol_names_init(&x->p->dept_ids, json_is_array(arr) ? json_array_size(arr) : 0);
	rc = pol_parse_array(x, arr, sizeof(*x->p->depts), &v, &x->p->ndepts, parse_dept,
			     dept_unique);

	x->p->depts = v;
	return rc;
}

int pol_parse_doc(struct pol_ctx *x, json_t *root)
{
	static const char *const keys[] = { "version", "roles", "departments",
					     "catalog", "grants", NULL };
	static const struct {
		const char *key;
		int (*fn)(struct pol_ctx *x, json_t *v);
	} parts[] = {
		{ "roles", parse_roles },
		{ "departments", parse_depts },
		{ "catalog", pol_parse_catalog },
		{ "grants", pol_parse_grants },
	};
	long long version;
	int present, rc;
	size_t mark;
	json_t *v;

	if (!json_is_object(root))
		return pol_fail(x, "expected a JSON object at the top level");
	rc = pol_check_keys(x, root, keys);
	if (!rc)
		rc = pol_get_int(x, root, "version", POL_REQ, LLONG_MIN, LLONG_MAX,
				 &version, &present);
	if (!rc && version != 1) {
		pol_jp_key(x, "version");
		rc = pol_fail(x, "unsupported version %lld (this poolfs reads 1)", version);
	}
	if (rc)
		return rc;
	x->p->version = (int)version;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		v = json_object_get(root, parts[i].key);
		if (!v)
			continue;
		mark = pol_jp_key(x, parts[i].key);
		rc = parts[i].fn(x, v);
		if (rc)
			return rc;
		pol_jp_restore(x, mark);
	}
	return 0;
}
