/*
 * tools/cmd_roles.c - who may run which poolctl command (三员分立).
 *
 * Roles come from the latest policy stored in the pool, never from the
 * policy a mount happens to run (an allow_all test mount included), so a
 * command is admitted the same with and without a daemon. uid 0 is
 * admitted to every command because it owns the store files anyway;
 * neither root nor a role gets data rights from this: the commands here
 * show metadata, decisions and history, never desensitized content.
 */
#include "tools/cmd.h"
#include "common/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "policy/policy.h"
#include "store/audit.h"
#include "store/store.h"

static const char *const role_names[] = {
	[CTL_ROLE_SECURITY] = "security_admin",
	[CTL_ROLE_AUDITOR] = "auditor",
	[CTL_ROLE_SYSTEM] = "system_admin",
};

const char *cmd_role_text(enum ctl_role role)
{
	switch (role) {
	case CTL_ROLE_SECURITY:
		return "the security_admin role";
	case CTL_ROLE_AUDITOR:
		return "the auditor role";
	case CTL_ROLE_SYSTEM:
		return "the system_admin role";
	case CTL_ROLE_ADMIN:
	case CTL_ROLE_NONE:
		break;
	}
	return "an admin role (security_admin, auditor or system_admin)";
}

/* How many of the three roles uid or one of gids holds. */
static int roles_held(const struct policy *p, uint32_t uid, const uint32_t *gids, int ngids)
{
	int n = 0;

	for (int r = CTL_ROLE_SECURITY; r <= CTL_ROLE_SYSTEM; r++)
		n += policy_role_has(p, uid, gids, ngids, role_names[r]) == 1;
	return n;
}

int ctl_role_allows(const struct policy *p, uint32_t uid, const uint32_t *gids,
		    int ngids, enum ctl_role role)
{
	if (role == CTL_ROLE_NONE || uid == 0)
		return 1;
	/* fail closed: without a usable policy nobody but root holds a role */
	if (!p)
		return 0;
	/*
	 * Separation of duties: policy check refuses one id in two roles,
	 * but a uid in one and a group of its in another only meet here.
	 * Such a caller acts in none: it could approve its own change.
	 */
	if (roles_held(p, uid, gids, ngids) != 1)
		return 0;
	if (role != CTL_ROLE_ADMIN)
		return policy_role_has(p, uid, gids, ngids, role_names[role]) == 1;
	return 1;
}

void cmd_stored_policy_load(struct store *s, struct ctl_stored_policy *sp)
{
	struct strbuf doc = STRBUF_INIT;
	struct policy *p = NULL;
	uint64_t version = 0;
	char why[128];
	int rc;

	rc = store_policy_get(s, 0, &doc, &version);
	if (!rc && sp->loaded && version == sp->version)
		goto out;		/* versions are never rewritten */
	cmd_stored_policy_release(sp);
	sp->loaded = true;
	sp->version = version;
	if (rc == -ENOENT) {
		sp->version = 0;
		rc = 0;
	} else if (rc) {
		ctl_strerror(rc, why, sizeof(why));
		perr_set(&sp->err, -rc, "cannot read the stored policy: %s", why);
	} else {
		rc = policy_parse(doc.buf, doc.len, &p, &sp->err);
		/* applied through policy_parse, so only a damaged store gets here */
		if (rc)
			log_err("policy version %llu does not parse: %s",
				(unsigned long long)version, perr_msg(&sp->err, rc));
		else
			sp->policy = p;
	}
	sp->rc = rc;
out:
	strbuf_release(&doc);
}

void cmd_stored_policy_copy(struct ctl_stored_policy *dst, const struct ctl_stored_policy *src)
{
	cmd_stored_policy_release(dst);
	*dst = *src;
	if (dst->policy)
		policy_get(dst->policy);
}

void cmd_stored_policy_release(struct ctl_stored_policy *sp)
{
	if (sp->policy)
		policy_put(sp->policy);
	memset(sp, 0, sizeof(*sp));
}

void cmd_load_policy(struct ctl_ctx *ctx)
{
	if (!ctx->stored.loaded)
		cmd_stored_policy_load(ctx->store, &ctx->stored);
}

int cmd_need_policy(struct ctl_ctx *ctx)
{
	const struct ctl_stored_policy *sp = &ctx->stored;
	int rc;

	rc = cmd_need_store(ctx);
	if (rc)
		return rc;
	cmd_load_policy(ctx);
	if (sp->rc && sp->version)
		return cmd_error(ctx, CTL_EXIT_USAGE, "policy version %llu: %s",
				 (unsigned long long)sp->version, perr_msg(&sp->err, sp->rc));
	if (sp->rc)
		return cmd_error(ctx, CTL_EXIT_USAGE, "%s", perr_msg(&sp->err, sp->rc));
	if (!sp->policy)
		return cmd_error(ctx, CTL_EXIT_USAGE,
				 "no policy applied (see poolctl policy apply)");
	return 0;
}

int cmd_caller_has_role(const struct ctl_ctx *ctx, enum ctl_role role)
{
	uint32_t *gids;
	int ok;

	gids = xcalloc((size_t)ctx->ngroups + 1, sizeof(*gids));

	gids[0] = ctx->gid;
	if (ctx->ngroups)
		memcpy(gids + 1, ctx->groups, (size_t)ctx->ngroups * sizeof(*gids));
	ok = ctl_role_allows(ctx->stored.policy, ctx->uid, gids, ctx->ngroups + 1, role);
	free(gids);
	return ok;
}

static int deny(struct ctl_ctx *ctx, const struct cmd *c)
{
	struct strbuf why = STRBUF_INIT;
	struct audit_rec rec;
	int rc;

	strbuf_addf(&why, "%s needs %s", c->full, cmd_role_text(c->role));
	cmd_audit_init(ctx, &rec, "admin.denied", "");
	rec.result = -EACCES;
	rec.reason = why.buf;
	/* the refusal stands even when it cannot be recorded */
	rc = audit_append(ctx->store, &rec);
	if (rc)
		log_err("cannot record the refusal of \"%s\" to uid %u in the audit log: %d",
			c->full, ctx->uid, rc);
	rc = cmd_error(ctx, CTL_EXIT_NO, "permission denied: %s", why.buf);
	strbuf_release(&why);
	return rc;
}

int cmd_check_role(struct ctl_ctx *ctx, const struct cmd *c)
{
	int rc;

	if (c->role == CTL_ROLE_NONE || ctx->uid == 0)
		return 0;
	/* roles guard a pool: a command given none touches none */
	if (!ctx->store && !ctx->store_dir)
		return 0;
	rc = cmd_need_store(ctx);
	if (rc)
		return rc;
	cmd_load_policy(ctx);
	rc = cmd_caller_has_role(ctx, c->role);
	if (rc < 0)
		return cmd_error(ctx, CTL_EXIT_USAGE, "%s: out of memory", c->full);
	return rc ? 0 : deny(ctx, c);
}
