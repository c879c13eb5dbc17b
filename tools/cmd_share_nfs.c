/*
 * tools/cmd_share_nfs.c - "poolctl share nfs": the NFS-Ganesha
 * configuration, systemd unit and command line that serve the pool mount
 * to one department (docs/shares.md, "NFSv4", says why it looks so).
 *
 * FSAL_VFS does every read, listing and open as the Ganesha process
 * itself, whatever uid the client sent; only creations and removals
 * switch to the client's credentials. So each department gets a Ganesha
 * of its own that runs as the department's account with no capability
 * but CAP_DAC_READ_SEARCH (open_by_handle_at needs it) and never switches
 * (VFS only_one_user): poolfs sees that account's uid in every request
 * and decides, masks and audits as for a local reader of the department.
 * Every client is squashed to that account, so what a client asserts
 * about its uid changes nothing.
 */
#include "tools/cmd_share_nfs.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "policy/policy.h"
#include "store/crypt.h"
#include "tools/cmd.h"

#define NFS_PORT_SUGGESTED	20490	/* the overview's first department */

struct nfs_account {
	char name[64];
	uint32_t uid, gid;
	uint32_t *groups;
	int ngroups;
	char dept[64];			/* what the policy makes of it; "" none */
	char why[256];			/* when dept is "" */
};

static void nfs_account_release(struct nfs_account *a)
{
	free(a->groups);
	a->groups = NULL;
	a->ngroups = 0;
}

/*
 * Fills a from the account named name (or, name NULL, of uid) and asks
 * the policy in force which department it acts as in a pool mount,
 * exactly as poolfs would for a request of that process.
 * Returns 0, or -ENOENT when there is no such account here.
 */
static int nfs_account_load(struct ctl_ctx *ctx, const char *name, uint32_t uid,
			    struct nfs_account *a)
{
	struct passwd pw, *found = NULL;
	struct policy_caller c;
	struct policy_decision d;
	char buf[4096];
	gid_t *g;
	int n = 64;

	memset(a, 0, sizeof(*a));
	if (name ? getpwnam_r(name, &pw, buf, sizeof(buf), &found) :
		   getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &found))
		return -ENOENT;
	if (!found)
		return -ENOENT;
	snprintf(a->name, sizeof(a->name), "%s", pw.pw_name);
	a->uid = (uint32_t)pw.pw_uid;
	a->gid = (uint32_t)pw.pw_gid;
	g = xcalloc((size_t)n, sizeof(*g));
	if (getgrouplist(pw.pw_name, pw.pw_gid, g, &n) < 0) {
		free(g);
		g = xcalloc((size_t)n + 1, sizeof(*g));
		if (getgrouplist(pw.pw_name, pw.pw_gid, g, &n) < 0)
			n = 0;
	}
	a->groups = xcalloc((size_t)n + 1, sizeof(*a->groups));
	for (int i = 0; i < n; i++)
		if ((uint32_t)g[i] != a->gid)
			a->groups[a->ngroups++] = (uint32_t)g[i];
	free(g);

	c = (struct policy_caller){ a->uid, a->gid, a->groups, a->ngroups, 0, NULL };
	if (policy_decide(ctx->stored.policy, &c, "/", POLICY_LOOKUP, time(NULL), &d) == 0 &&
	    d.dept[0])
		snprintf(a->dept, sizeof(a->dept), "%s", d.dept);
	else
		snprintf(a->why, sizeof(a->why), "%s", d.reason[0] ? d.reason : "no department");
	return 0;
}

/*
 * A value that goes into a command line or unit unquoted: one word, no
 * option. An account name is one too: it is User= and, run as root,
 * "install -d -o NAME": a name with a space would add paths of its
 * choosing to that command.
 */
static bool word_ok(const char *s)
{
	if (!*s || *s == '-' || !share_conf_safe(s))
		return false;
	for (; *s; s++)
		if (*s == ' ' || *s == '\t' || *s == '\'' || *s == '$' || *s == '`' || *s == '%')
			return false;
	return true;
}

static json_t *dept_find(json_t *doc, const char *id, size_t *index)
{
	json_t *dept;
	size_t i;

	json_array_foreach(json_object_get(doc, "departments"), i, dept) {
		const char *did = json_string_value(json_object_get(dept, "id"));

		if (did && !strcmp(did, id)) {
			*index = i;
			return dept;
		}
	}
	return NULL;
}

/*
 * The first member uid of dept with an account here, named by one word,
 * that the policy maps to dept (a uid listed there can still act as
 * another department only through its groups, which the check catches).
 * Returns 0 or -ENOENT.
 */
static int dept_default_account(struct ctl_ctx *ctx, json_t *dept, const char *id,
				struct nfs_account *a)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(dept, "members"), "uids"), i, v) {
		json_int_t uid = json_integer_value(v);

		if (uid <= 0 || uid >= UINT32_MAX)
			continue;
		if (nfs_account_load(ctx, NULL, (uint32_t)uid, a))
			continue;
		if (!strcmp(a->dept, id) && word_ok(a->name))
			return 0;
		nfs_account_release(a);
	}
	return -ENOENT;
}

static bool sec_has_krb5(const char *sec)
{
	return strstr(sec, "krb5") != NULL;
}

/* setpriv's and systemd's capability lists: what Ganesha needs, nothing more */
static const char *caps_for(uint64_t port, bool systemd)
{
	if (port < 1024)
		return systemd ? "CAP_DAC_READ_SEARCH CAP_NET_BIND_SERVICE" :
				 "-all,+dac_read_search,+net_bind_service";
	return systemd ? "CAP_DAC_READ_SEARCH" : "-all,+dac_read_search";
}

static void nfs_run_line(struct strbuf *out, const struct nfs_account *a,
			 const struct share_nfs_opts *o, const char *conf, const char *state)
{
	const char *caps = caps_for(o->port, false);

	strbuf_addf(out,
		"# run: setpriv --reuid=%s --regid=%" PRIu32 " --init-groups"
		" --inh-caps=%s --ambient-caps=%s --bounding-set=%s --no-new-privs"
		" ganesha.nfsd -F -f %s -p %s/ganesha.pid -L %s/ganesha.log\n",
		a->name, a->gid, caps, caps, caps, conf, state, state);
}

static void nfs_config(struct strbuf *out, const char *id, const struct nfs_account *a,
		       const struct share_nfs_opts *o, const char *conf, const char *state)
{
	strbuf_addf(out,
		"# NFS-Ganesha for department %s: the pool mount %s served as %s\n"
		"# (uid %" PRIu32 "), made by poolctl share nfs. Every client acts as\n"
		"# %s; poolfs decides, masks and audits for it (docs/shares.md).\n"
		"# before: install -d -o %s -g %" PRIu32 " -m 0700 %s\n",
		id, o->mnt, a->name, a->uid, a->name, a->name, a->gid, state);
	nfs_run_line(out, a, o, conf, state);
	strbuf_addf(out, "# or its systemd unit: poolctl share nfs --mount %s --dept %s --unit\n",
		    o->mnt, id);
	strbuf_addf(out,
		"NFS_CORE_PARAM {\n"
		"\tProtocols = 4;\n"
		"\tNFS_Port = %" PRIu64 ";\n", o->port);
	if (o->bind)
		strbuf_addf(out, "\tBind_Addr = %s;\n", o->bind);
	strbuf_addstr(out,
		"\tEnable_NLM = false;\n"
		"\tEnable_RQUOTA = false;\n"
		"\tEnable_UDP = false;\n"
		"}\n"
		"NFSV4 {\n"
		/* no delegations: a client would keep the bytes past a revocation */
		"\tDelegations = false;\n");
	strbuf_addf(out, "\tRecoveryRoot = \"%s/recovery\";\n}\n", state);
	if (sec_has_krb5(o->sec))
		strbuf_addf(out, "NFS_KRB5 {\n\tCCacheDir = \"%s/krb5cc\";\n}\n", state);
	else
		strbuf_addstr(out, "NFS_KRB5 {\n\tActive_krb5 = false;\n}\n");
	strbuf_addstr(out,
		"MDCACHE {\n"
		"\tDir_Chunk = 0;\n"
		"}\n"
		"VFS {\n"
		/*
		 * never setresuid to the client's uid (it could not: no
		 * CAP_SETUID), refuse any credentials but the account's
		 */
		"\tonly_one_user = true;\n"
		"}\n"
		"EXPORT {\n"
		"\tExport_Id = 1;\n");
	strbuf_addf(out,
		"\tPath = \"%s\";\n"
		"\tPseudo = \"/%s\";\n"
		"\tProtocols = 4;\n"
		"\tTransports = TCP;\n"
		"\tAccess_Type = None;\n"
		/* what a client says its uid is changes nothing: it acts as the account */
		"\tSquash = All_Squash;\n"
		"\tAnonymous_Uid = %" PRIu32 ";\n"
		"\tAnonymous_Gid = %" PRIu32 ";\n"
		"\tSecType = %s;\n",
		o->mnt, id, a->uid, a->gid, o->sec);
	if (!sec_has_krb5(o->sec))
		/* AUTH_SYS: only a client's root may connect, as for any NFS server */
		strbuf_addstr(out, "\tPrivilegedPort = true;\n");
	strbuf_addf(out,
		/* sizes and listings are the caller's view: ask poolfs every time */
		"\tAttr_Expiration_Time = 0;\n"
		"\tDisable_ACL = true;\n"
		"\tCLIENT {\n"
		"\t\tClients = %s;\n"
		"\t\tAccess_Type = RW;\n"
		"\t}\n"
		"\tFSAL {\n"
		"\t\tName = VFS;\n"
		"\t}\n"
		"}\n", o->clients);
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

static void nfs_unit(struct strbuf *out, const char *store, const char *key, const char *id,
		     const struct nfs_account *a, const struct share_nfs_opts *o,
		     const char *conf, const char *state)
{
	const char *caps = caps_for(o->port, true);

	strbuf_addf(out,
		"# poolfs-nfs-%s.service, made by poolctl share nfs: NFS-Ganesha for\n"
		"# department %s as %s (docs/shares.md, \"NFSv4\")\n"
		"[Unit]\n"
		"Description=NFS-Ganesha serving the pool to department %s\n"
		"RequiresMountsFor=%s\n"
		"After=network-online.target\n"
		"Wants=network-online.target\n"
		"\n"
		"[Service]\n"
		"Type=simple\n"
		"User=%s\n"
		"Group=%" PRIu32 "\n"
		"AmbientCapabilities=%s\n"
		"CapabilityBoundingSet=%s\n"
		"NoNewPrivileges=yes\n"
		"ExecStartPre=+/usr/bin/install -d -o %s -g %" PRIu32 " -m 0700 %s\n"
		"ExecStart=/usr/bin/ganesha.nfsd -F -f %s -p %s/ganesha.pid -L STDERR\n"
		/*
		 * CAP_DAC_READ_SEARCH reads any file it can reach: show it
		 * nothing of the store, the keys, home directories or any
		 * password hash: shadow's backup copies (shadow-, made by
		 * useradd; /var/backups), SSSD's cache, and Samba's passdb and
		 * secrets (NT hashes connect as any SMB user, so as another
		 * department) and lock directory (the paths of open files)
		 */
		"ProtectSystem=strict\n"
		"ReadWritePaths=%s\n"
		"InaccessiblePaths=-/etc/poolfs -/etc/shadow -/etc/gshadow -/etc/shadow- "
		"-/etc/gshadow- -/var/backups -/etc/ssh -/var/lib/sss -/var/lib/samba "
		"-/run/samba -/var/cache/samba -%s",
		id, id, a->name, id, o->mnt, a->name, a->gid, caps, caps,
		a->name, a->gid, state, conf, state, state, store);
	if (key)
		strbuf_addf(out, " -%s", key);
	/* unless the pool mount is there, which it must see */
	if (!under(o->mnt, "/home") && !under(o->mnt, "/root") && !under(o->mnt, "/run/user"))
		strbuf_addstr(out, "\nProtectHome=tmpfs");
	if (!under(o->mnt, "/tmp") && !under(o->mnt, "/var/tmp"))
		strbuf_addstr(out, "\nPrivateTmp=yes");
	strbuf_addstr(out,
		"\n"
		"Restart=on-failure\n"
		"\n"
		"[Install]\n"
		"WantedBy=multi-user.target\n");
}

static void nfs_overview(struct ctl_ctx *ctx, json_t *doc, const struct share_nfs_opts *o)
{
	struct strbuf *out = &ctx->out;
	const char *store = ctx->store_dir && word_ok(ctx->store_dir) ? ctx->store_dir : "STORE";
	json_t *dept;
	size_t i;

	strbuf_addf(out,
		"# poolfs NFSv4 exports of the pool mount %s, made by poolctl share nfs\n"
		"# One NFS-Ganesha per department, running as the department's account\n"
		"# (a member the policy maps to it), so poolfs decides for that\n"
		"# department. For each department below, as root:\n"
		"#   poolctl -s %s share nfs --mount %s --dept ID --port PORT \\\n"
		"#       > /etc/ganesha/poolfs-ID.conf\n"
		"#   poolctl -s %s share nfs --mount %s --dept ID --port PORT --unit \\\n"
		"#       > /etc/systemd/system/poolfs-nfs-ID.service\n"
		"#   systemctl enable --now poolfs-nfs-ID\n"
		"# (add --clients LIST, the department's hosts, and --account USER to\n"
		"# choose the account). Clients mount HOST:/ID with -o port=PORT.\n"
		"#\n"
		"# department\taccount\tport\n",
		o->mnt, store, o->mnt, store, o->mnt);
	json_array_foreach(json_object_get(doc, "departments"), i, dept) {
		const char *id = json_string_value(json_object_get(dept, "id"));
		struct nfs_account a;

		if (!id || !share_name_ok(id))
			continue;
		if (dept_default_account(ctx, dept, id, &a)) {
			strbuf_addf(out, "# %s\t-\t-\tno member with an account here acts as %s: "
				    "make one and name it with --account\n", id, id);
			continue;
		}
		strbuf_addf(out, "# %s\t%s\t%" PRIu64 "\n", id, a.name,
			    (uint64_t)NFS_PORT_SUGGESTED + i);
		nfs_account_release(&a);
	}
}

int share_nfs(struct ctl_ctx *ctx, json_t *doc, const struct share_nfs_opts *o)
{
	struct strbuf conf = STRBUF_INIT, state = STRBUF_INIT;
	struct share_nfs_opts opt = *o;
	struct nfs_account a = { .groups = NULL };
	struct store_crypto_info ci = { .key_file = "" };
	char *store = NULL, *key = NULL;
	json_t *dept;
	size_t index;
	int code, rc;

	code = cmd_need_policy(ctx);
	if (code)
		return code;
	if (!opt.dept) {
		if (opt.account || opt.unit || opt.port_seen || opt.state || opt.conf || opt.bind)
			return cmd_error(ctx, CTL_EXIT_USAGE, "share nfs: --account, --port, "
					 "--bind, --state, --conf and --unit need --dept ID");
		nfs_overview(ctx, doc, &opt);
		return CTL_EXIT_OK;
	}
	if (!opt.port_seen)
		opt.port = 2049;
	if (opt.port == 0 || opt.port > 65535)
		return cmd_error(ctx, CTL_EXIT_USAGE, "share nfs: --port %" PRIu64
				 ": expected 1 to 65535", opt.port);
	if ((opt.state && (!word_ok(opt.state) || opt.state[0] != '/')) ||
	    (opt.conf && (!word_ok(opt.conf) || opt.conf[0] != '/')) ||
	    (opt.bind && !word_ok(opt.bind)) || !word_ok(opt.mnt))
		return cmd_error(ctx, CTL_EXIT_USAGE, "share nfs: --mount, --state and --conf "
				 "take an absolute path of one word, --bind an address");
	dept = share_name_ok(opt.dept) ? dept_find(doc, opt.dept, &index) : NULL;
	if (!dept)
		return cmd_error(ctx, CTL_EXIT_USAGE, "share nfs: --dept \"%s\": no such "
				 "department in the policy in force", opt.dept);
	if (opt.account) {
		rc = word_ok(opt.account) ? nfs_account_load(ctx, opt.account, 0, &a) : -ENOENT;
		if (rc) {
			code = cmd_error(ctx, CTL_EXIT_USAGE, "share nfs: --account \"%s\": no "
					 "such account here", opt.account);
			goto out;
		}
	} else if (dept_default_account(ctx, dept, opt.dept, &a)) {
		code = cmd_error(ctx, CTL_EXIT_USAGE, "share nfs: department \"%s\": none of its "
				 "member uids has an account here that acts as it; name one with "
				 "--account", opt.dept);
		goto out;
	}
	/* Ganesha's requests carry this account's ids: it must be the department */
	if (a.uid == 0 || strcmp(a.dept, opt.dept)) {
		code = cmd_error(ctx, CTL_EXIT_USAGE, "share nfs: account \"%s\" (uid %" PRIu32
				 ") acts as %s%s%s in the policy in force, not as \"%s\"",
				 a.name, a.uid, a.dept[0] ? "department \"" : "no department (",
				 a.dept[0] ? a.dept : a.why, a.dept[0] ? "\"" : ")", opt.dept);
		goto out;
	}
	if (opt.conf)
		strbuf_addstr(&conf, opt.conf);
	else
		strbuf_addf(&conf, "/etc/ganesha/poolfs-%s.conf", opt.dept);
	if (opt.state)
		strbuf_addstr(&state, opt.state);
	else
		strbuf_addf(&state, "/var/lib/poolfs-nfs/%s", opt.dept);
	if (opt.unit) {
		/*
		 * The store is hidden from CAP_DAC_READ_SEARCH by its absolute
		 * path: one the unit cannot name (relative to poolctl's working
		 * directory, or holding a space) is refused, not left out
		 */
		store = ctx->store_dir ? realpath(ctx->store_dir, NULL) : NULL;
		if (!store || !word_ok(store)) {
			code = cmd_error(ctx, CTL_EXIT_USAGE, "share nfs --unit: the store \"%s\": "
					 "InaccessiblePaths takes one absolute word, and "
					 "Ganesha would read the store", store ? store :
					 ctx->store_dir ? ctx->store_dir : "(no -s)");
			goto out;
		}
		/* and so is the master key file the pool records, wherever it is */
		if (ctx->store)
			store_crypto_info(ctx->store, &ci);
		if (ci.key_file[0] && !(key = realpath(ci.key_file, NULL)))
			key = xstrdup(ci.key_file);
		if (key && (key[0] != '/' || !word_ok(key))) {
			code = cmd_error(ctx, CTL_EXIT_USAGE, "share nfs --unit: the master key file "
					 "\"%s\": InaccessiblePaths takes one absolute word, and "
					 "Ganesha would read the key", key);
			goto out;
		}
		nfs_unit(&ctx->out, store, key, opt.dept, &a, &opt, conf.buf, state.buf);
	}
	else
		nfs_config(&ctx->out, opt.dept, &a, &opt, conf.buf, state.buf);
	code = CTL_EXIT_OK;
out:
	free(store);
	free(key);
	nfs_account_release(&a);
	strbuf_release(&conf);
	strbuf_release(&state);
	return code;
}
