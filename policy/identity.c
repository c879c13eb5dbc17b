/*
 * policy/identity.c - who is asking: a caller's uid, gid and groups (or
 * the department of a department mount) resolved to a department, and
 * the admin roles of separation of duties (三员分立).
 *
 * Order: -o dept=ID, then uid, then primary gid, then supplementary
 * groups. Supplementary groups that point at two different departments
 * resolve to none: fail closed rather than pick one by list order.
 * uid 0 is an ordinary uid here; roles never map to a department.
 *
 * Separation of duties: a caller that holds an admin role by its uid,
 * gid or groups maps to no department, whatever the policy lists. The
 * checker refuses a policy whose own lists overlap (check.c); this
 * covers what only the caller's credentials show, e.g. a role holder
 * whose primary group is a department's gid.
 */
#include "common/json.h"
#include "policy/model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static const struct pol_idmap *idmap_find(const struct pol_idmap *m, size_t n,
					  uint32_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m[mid].id == id)
			return &m[mid];
		if (m[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *pol_via_name(enum pol_via via)
{
	static const char *const names[] = { "none", "mount", "uid", "gid", "group" };

	return names[via];
}

static void by_groups(const struct policy *p, const struct policy_caller *c,
		      struct pol_ident *id)
{
	const struct pol_idmap *m;

	for (int i = 0; i < c->ngroups && c->groups; i++) {
		m = idmap_find(p->gidmap, p->ngidmap, c->groups[i]);
		if (!m)
			continue;
		if (id->dept >= 0 && (size_t)id->dept != m->dept) {
			snprintf(id->why, sizeof(id->why), "groups %u and %u belong to "
				 "departments \"%s\" and \"%s\" (ambiguous identity)",
				 id->via_id, c->groups[i], p->depts[id->dept].id,
				 p->depts[m->dept].id);
			id->dept = -1;
			id->via = POL_VIA_NONE;
			return;
		}
		id->dept = m->dept;
		id->via = POL_VIA_GROUP;
		id->via_id = c->groups[i];
	}
}

static int in_list(const struct pol_idlist *l, uint32_t id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i] == id)
			return 1;
	return 0;
}

long pol_role_named(const struct policy *p, int gids, uint32_t id)
{
	for (int r = 0; r < POL_NROLES; r++)
		if (in_list(gids ? &p->roles[r].gids : &p->roles[r].uids, id))
			return r;
	return -1;
}

/* Fills id->why and returns true when c holds an admin role. */
static bool holds_role(const struct policy *p, const struct policy_caller *c,
		       struct pol_ident *id)
{
	const char *kind = "uid";
	uint32_t via = c->uid;
	long r = pol_role_named(p, 0, c->uid);

	if (r < 0) {
		kind = "gid";
		via = c->gid;
		r = pol_role_named(p, 1, c->gid);
	}
	for (int i = 0; r < 0 && c->groups && i < c->ngroups; i++) {
		kind = "group";
		via = c->groups[i];
		r = pol_role_named(p, 1, c->groups[i]);
	}
	if (r < 0)
		return false;
	snprintf(id->why, sizeof(id->why), "uid %u holds the %s role (by %s %u): admin "
		 "roles read no data (separation of duties)", c->uid, pol_role_names[r],
		 kind, via);
	return true;
}

bool policy_groups_moot(const struct policy *p, uint32_t uid, uint32_t gid)
{
	if (!p || p->allow_all)
		return p != NULL;
	/* a role held by a group takes the department away: groups decide */
	for (int r = 0; r < POL_NROLES; r++)
		if (p->roles[r].gids.n)
			return false;
	return idmap_find(p->uidmap, p->nuidmap, uid) ||
	       idmap_find(p->gidmap, p->ngidmap, gid);
}

void pol_identify(const struct policy *p, const struct policy_caller *c,
		  struct pol_ident *id)
{
	const struct pol_idmap *m;

	memset(id, 0, sizeof(*id));
	id->dept = -1;
	m = idmap_find(p->uidmap, p->nuidmap, c->uid);
	if (m)
		id->user = m->user;
	if (c->mount_dept) {
		id->dept = pol_dept_find(p, c->mount_dept);
		if (id->dept < 0) {
			/* fail closed: a mount for a department the policy dropped */
			snprintf(id->why, sizeof(id->why), "mount department \"%.64s\" "
				 "is not in the policy", c->mount_dept);
			return;
		}
		id->via = POL_VIA_MOUNT;
		return;
	}
	/* a department mount serves only callers this maps (fs/access.c) */
	if (holds_role(p, c, id))
		return;
	if (m) {
		id->dept = m->dept;
		id->via = POL_VIA_UID;
		id->via_id = c->uid;
		return;
	}
	m = idmap_find(p->gidmap, p->ngidmap, c->gid);
	if (m) {
		id->dept = m->dept;
		id->via = POL_VIA_GID;
		id->via_id = c->gid;
		return;
	}
	by_groups(p, c, id);
	if (id->dept < 0 && !id->why[0])
		snprintf(id->why, sizeof(id->why), "uid %u gid %u belongs to no "
			 "department", c->uid, c->gid);
}

int policy_role_has(const struct policy *p, uint32_t uid, const uint32_t *gids,
		    int ngids, const char *role)
{
	const struct pol_role *r;
	int ri;

	if (!p || !role)
		return -EINVAL;
	for (ri = 0; ri < POL_NROLES; ri++)
		if (strcmp(role, pol_role_names[ri]) == 0)
			break;
	if (ri == POL_NROLES)
		return -EINVAL;
	if (p->allow_all)
		return uid == 0;
	r = &p->roles[ri];
	if (in_list(&r->uids, uid))
		return 1;
	for (int i = 0; gids && i < ngids; i++)
		if (in_list(&r->gids, gids[i]))
			return 1;
	return 0;
}

static int add(json_t *obj, const char *key, json_t *v)
{
	return v && json_object_set_new(obj, key, v) == 0 ? 0 : -ENOMEM;
}

static json_t *whoami(const struct policy *p, const struct policy_caller *c)
{
	json_t *o = json_object(), *groups = json_array(), *roles = json_array();
	uint32_t gid = c->gid;
	struct pol_ident id;
	int rc;

	if (!o || !groups || !roles)
		goto err_out;
	for (int i = 0; i < c->ngroups && c->groups; i++)
		if (json_array_append_new(groups, json_integer(c->groups[i])))
			goto err_out;
	for (int r = 0; r < POL_NROLES; r++)
		if (policy_role_has(p, c->uid, &gid, 1, pol_role_names[r]) == 1 ||
		    policy_role_has(p, c->uid, c->groups, c->ngroups,
				    pol_role_names[r]) == 1)
			if (json_array_append_new(roles, json_string(pol_role_names[r])))
				goto err_out;
	pol_identify(p, c, &id);
	rc = add(o, "uid", json_integer(c->uid));
	rc = rc ? rc : add(o, "gid", json_integer(c->gid));
	rc = rc ? rc : add(o, "groups", json_incref(groups));
	rc = rc ? rc : add(o, "mount_dept", c->mount_dept ? json_string(c->mount_dept)
						       : json_null());
	rc = rc ? rc : add(o, "department", id.dept >= 0 ?
			   json_string(p->depts[id.dept].id) : json_null());
	rc = rc ? rc : add(o, "department_name", id.dept >= 0 ?
			   json_string(p->depts[id.dept].name) : json_null());
	rc = rc ? rc : add(o, "user", id.user ? json_string(id.user) : json_null());
	rc = rc ? rc : add(o, "via", id.dept >= 0 ? json_string(pol_via_name(id.via))
					      : json_null());
	rc = rc ? rc : add(o, "roles", json_incref(roles));
	if (!rc && id.dept < 0)
		rc = add(o, "reason", json_string(id.why));
	if (rc)
		goto err_out;
	json_decref(groups);
	json_decref(roles);
	return o;
err_out:
	json_decref(o);
	json_decref(groups);
	json_decref(roles);
	return NULL;
}

int policy_whoami_json(const struct policy *p, const struct policy_caller *c,
		       struct strbuf *out)
{
	if (!p || !c || !out)
		return -EINVAL;
	if (p->allow_all) {
		strbuf_addf(out, "{\n  \"uid\": %u,\n  \"gid\": %u,\n  \"department\": null,"
			    "\n  \"reason\": \"allow-all policy\"\n}\n", c->uid, c->gid);
		return 0;
	}
	return json_pretty(whoami(p, c), out);
}
