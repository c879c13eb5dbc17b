/*
 * tools/cmd_share.c - "poolctl share smb|nfs": the configuration that
 * serves the pool to departments on other machines through Samba or
 * NFS-Ganesha (docs/shares.md says why it looks the way it does).
 *
 * Both serve the one pool mount. Samba switches to the authenticated
 * user before each file operation (become_user); NFS-Ganesha cannot, so
 * each department gets a Ganesha that runs as its account
 * (tools/cmd_share_nfs.c). Either way poolfs sees the uid it decides,
 * masks and audits for, as for a local reader. Nothing here grants
 * anything: a share only says who may connect; every read is still
 * decided by the policy in the mount.
 *
 * The departments and their members come from the policy in force as it
 * was applied (the stored document), so the output follows the last
 * `policy apply`.
 */
#include "tools/cmd.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <string.h>
#include <strings.h>

#include "store/store.h"
#include "tools/cmd_share_nfs.h"

static const char share_usage[] =
	"usage: poolctl -s STORE share smb --mount MNT [--full-audit] [--hosts-allow LIST]\n"
	"       poolctl -s STORE share nfs --mount MNT [--dept ID [--account USER] [--port N]\n"
	"               [--bind ADDR] [--state DIR] [--conf FILE] [--unit]]\n"
	"               [--clients LIST] [--sec FLAVORS]\n"
	"\n"
	"Prints the configuration that serves the pool mount MNT (a poolfs\n"
	"mount without -o dept) to the departments of the policy in force.\n"
	"\n"
	"smb: smb.conf text to include from the [global] section\n"
	"     (include = FILE): the settings that keep Samba from caching one\n"
	"     user's view for another, then one share per department that its\n"
	"     members may connect to. Members need Unix accounts (the uids and\n"
	"     gids of the policy) and Samba passwords (smbpasswd -a).\n"
	"  --full-audit         also log every operation through vfs_full_audit\n"
	"  --hosts-allow LIST   Samba's hosts allow (default: no restriction)\n"
	"\n"
	"nfs: one NFS-Ganesha per department, running as the department's\n"
	"     account, every client squashed to it. Without --dept: each\n"
	"     department, its account and the commands to install it. With\n"
	"     --dept ID: that department's Ganesha configuration (its first\n"
	"     lines say how to run it), or with --unit its systemd unit.\n"
	"  --account USER       the account Ganesha runs as (default: the first\n"
	"                       member uid with an account here); the policy must\n"
	"                       map it to ID\n"
	"  --port N             NFS_Port (default 2049)\n"
	"  --bind ADDR          Bind_Addr (default every address)\n"
	"  --state DIR          Ganesha's own files (default /var/lib/poolfs-nfs/ID)\n"
	"  --conf FILE          where the configuration is kept, for the command\n"
	"                       and unit (default /etc/ganesha/poolfs-ID.conf)\n"
	"  --clients LIST       the hosts that may mount (default 127.0.0.1)\n"
	"  --sec FLAVORS        Ganesha SecType (default krb5p; with sys any\n"
	"                       allowed host acts as the department, see\n"
	"                       docs/shares.md)\n";

/* smb.conf and Ganesha values: refuse what would break out of a quote. */
bool share_conf_safe(const char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == '\n' || *s == '\r' || *s == '\\' || *s == ';' ||
		    *s == '{' || *s == '}' || *s == '#')
			return false;
	return true;
}

bool share_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 80)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

/*
 * A name Samba takes literally in valid users: it substitutes %U, %G, %S
 * and the like there, so a member account named "%U" would admit every
 * authenticated user.
 */
static bool smb_name_ok(const char *s)
{
	return share_conf_safe(s) && !strchr(s, '%');
}

/*
 * Appends the Samba names of a department's members to sb: user names
 * for uids, +group for gids. Members without an account here, or with
 * a name Samba would not take literally, are listed in *missing.
 */
static void smb_members(json_t *members, struct strbuf *sb, struct strbuf *missing)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(members, "uids"), i, v) {
		struct passwd *pw = getpwuid((uid_t)json_integer_value(v));

		if (pw && smb_name_ok(pw->pw_name))
			strbuf_addf(sb, " \"%s\"", pw->pw_name);
		else
			strbuf_addf(missing, " uid %" PRId64, (int64_t)json_integer_value(v));
	}
	json_array_foreach(json_object_get(members, "gids"), i, v) {
		struct group *gr = getgrgid((gid_t)json_integer_value(v));

		if (gr && smb_name_ok(gr->gr_name))
			strbuf_addf(sb, " \"+%s\"", gr->gr_name);
		else
			strbuf_addf(missing, " gid %" PRId64, (int64_t)json_integer_value(v));
	}
}

/*
 * Section names Samba gives a meaning of their own, whatever their case:
 * a department "global" would carry its share's settings (read only = no,
 * valid users, vfs objects) into the site's [global], so onto every
 * other share of the host; "homes" makes a share for each user who
 * connects, "printers" one per printer.
 */
static bool smb_section_reserved(const char *id)
{
	return !strcasecmp(id, "global") || !strcasecmp(id, "homes") ||
	       !strcasecmp(id, "printers");
}

static void smb_global(struct strbuf *out)
{
	strbuf_addstr(out,
		"# Global settings (this text is included from [global]).\n"
		"# Samba keeps no cache of its own that one user's view could reach\n"
		"# another through: no stat cache, no leases, and below no oplocks;\n"
		"# nor does it tell one user the names another changes.\n"
		"\tstat cache = no\n"
		"\tsmb2 leases = no\n"
		"\tkernel change notify = no\n"
		/*
		 * notifyd tells every watcher of a directory (recursively) the
		 * names changed under it without asking whether the watcher may
		 * list them: a department watching /基础库 would hear the names
		 * another department makes inside an entry it cannot list
		 */
		"\tchange notify = no\n"
		"\n");
}

static void smb_share(struct strbuf *out, const char *id, const char *name,
		      const char *mnt, const char *users, bool full_audit,
		      const char *hosts)
{
	strbuf_addf(out, "[%s]\n", id);
	strbuf_addf(out, "\tcomment = %s\n", name);
	strbuf_addf(out, "\tpath = %s\n", mnt);
	strbuf_addf(out, "\tvalid users =%s\n", users);
	if (hosts)
		strbuf_addf(out, "\thosts allow = %s\n", hosts);
	strbuf_addstr(out,
		/*
		 * poolfs decides who may read and write. Mode bits it reports
		 * are informational, so Samba must not judge them first.
		 */
		"\tread only = no\n"
		"\tacl check permissions = no\n"
		"\tguest ok = no\n"
		"\tbrowseable = yes\n"
		/* each user acts as itself: no force user, no admin users */
		"\toplocks = no\n"
		"\tlevel2 oplocks = no\n"
		"\tkernel oplocks = no\n"
		"\tkernel share modes = no\n"
		"\tposix locking = no\n"
		"\tstrict sync = yes\n"
		/* DOS attributes and ACLs would need xattrs poolfs does not keep */
		"\tstore dos attributes = no\n"
		"\tea support = no\n"
		"\tnt acl support = no\n"
		"\tmap archive = no\n"
		"\tmap hidden = no\n"
		"\tmap system = no\n"
		"\tmap readonly = no\n");
	/*
	 * fake_perms shows every user as the owner with rwx, so Samba's own
	 * check of mode bits and parent directories always passes and the
	 * answer comes from poolfs.
	 */
	strbuf_addstr(out, full_audit ? "\tvfs objects = fake_perms full_audit\n" :
					"\tvfs objects = fake_perms\n");
	if (full_audit)
		strbuf_addstr(out,
			"\tfull_audit:prefix = %u|%I|%S\n"
			"\tfull_audit:success = connect disconnect open close read pread write pwrite"
			" rename unlinkat mkdirat\n"
			"\tfull_audit:failure = all\n");
	strbuf_addstr(out, "\n");
}

static int share_smb(struct ctl_ctx *ctx, json_t *doc, const char *mnt,
		     bool full_audit, const char *hosts)
{
	struct strbuf users = STRBUF_INIT, missing = STRBUF_INIT;
	json_t *dept;
	size_t i;
	int code = CTL_EXIT_OK;

	strbuf_addf(&ctx->out, "# poolfs shares of the pool mount %s, made by poolctl share smb\n",
		    mnt);
	smb_global(&ctx->out);
	json_array_foreach(json_object_get(doc, "departments"), i, dept) {
		const char *id = json_string_value(json_object_get(dept, "id"));
		const char *name = json_string_value(json_object_get(dept, "name"));

		if (!id || !share_name_ok(id)) {
			code = cmd_error(ctx, CTL_EXIT_USAGE,
					 "share smb: departments[%zu]: id \"%s\" is no share name "
					 "(letters, digits, - and _)", i, id ? id : "");
			goto out;
		}
		if (smb_section_reserved(id)) {
			code = cmd_error(ctx, CTL_EXIT_USAGE,
					 "share smb: departments[%zu]: id \"%s\" is a section Samba "
					 "reserves (global, homes, printers, in any case)", i, id);
			goto out;
		}
		/* Samba expands a % in a comment as well: %$(VAR) shows its environment */
		if (!name || !smb_name_ok(name))
			name = id;
		strbuf_reset(&users);
		strbuf_reset(&missing);
		smb_members(json_object_get(dept, "members"), &users, &missing);
		if (missing.len)
			strbuf_addf(&ctx->out, "# %s: members without an account here, who cannot "
				    "connect:%s\n", id, missing.buf);
		if (!users.len) {
			strbuf_addf(&ctx->out, "# [%s] left out: none of its members has an account "
				    "here\n\n", id);
			continue;
		}
		smb_share(&ctx->out, id, name, mnt, users.buf, full_audit, hosts);
	}
out:
	strbuf_release(&users);
	strbuf_release(&missing);
	return code;
}

int cmd_share(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *mnt = NULL, *hosts = NULL;
	struct share_nfs_opts nfs = { .clients = "127.0.0.1", .sec = "krb5p" };
	bool full_audit = false;
	struct cmd_opt opts[] = {
		{ "--mount", CMD_OPT_STRING, &mnt, false },
		{ "--full-audit", CMD_OPT_BOOL, &full_audit, false },
		{ "--hosts-allow", CMD_OPT_STRING, &hosts, false },
		{ "--clients", CMD_OPT_STRING, &nfs.clients, false },
		{ "--sec", CMD_OPT_STRING, &nfs.sec, false },
		{ "--dept", CMD_OPT_STRING, &nfs.dept, false },
		{ "--account", CMD_OPT_STRING, &nfs.account, false },
		{ "--port", CMD_OPT_U64, &nfs.port, false },
		{ "--bind", CMD_OPT_STRING, &nfs.bind, false },
		{ "--state", CMD_OPT_STRING, &nfs.state, false },
		{ "--conf", CMD_OPT_STRING, &nfs.conf, false },
		{ "--unit", CMD_OPT_BOOL, &nfs.unit, false },
		CMD_OPT_END
	};
	struct strbuf stored = STRBUF_INIT;
	json_t *doc = NULL;
	json_error_t jerr;
	uint64_t version;
	bool smb;
	int n, rc, code;

	n = cmd_parse(ctx, share_usage, opts, argc, argv);
	if (n < 0)
		return cmd_parse_exit(n);
	if (n != 1 || (strcmp(argv[0], "smb") && strcmp(argv[0], "nfs")))
		return cmd_error(ctx, CTL_EXIT_USAGE, "share: say smb or nfs "
				 "(poolctl share --help)");
	smb = !strcmp(argv[0], "smb");
	nfs.mnt = mnt;
	nfs.port_seen = opts[7].seen;
	if (!mnt || mnt[0] != '/')
		return cmd_error(ctx, CTL_EXIT_USAGE, "share %s: --mount needs the pool mount's "
				 "absolute path", argv[0]);
	/* Samba would substitute a % in path or hosts allow (path = /srv/%U) */
	if ((smb && (strchr(mnt, '%') || (hosts && strchr(hosts, '%')))) ||
	    !share_conf_safe(mnt) || (hosts && !share_conf_safe(hosts)) ||
	    !share_conf_safe(nfs.clients) || !share_conf_safe(nfs.sec))
		return cmd_error(ctx, CTL_EXIT_USAGE, "share %s: an option holds a quote, "
				 "backslash, brace, ';', '#', a line break or (smb) a '%%'", argv[0]);
	if (smb) {
		for (int i = 3; opts[i].name; i++)
			if (opts[i].seen)
				return cmd_error(ctx, CTL_EXIT_USAGE, "share smb: %s is for nfs",
						 opts[i].name);
	} else if (opts[1].seen || opts[2].seen) {
		return cmd_error(ctx, CTL_EXIT_USAGE, "share nfs: --full-audit and --hosts-allow "
				 "are for smb");
	}

	rc = cmd_need_store(ctx);
	if (rc)
		return rc;
	rc = store_policy_get(ctx->store, 0, &stored, &version);
	if (rc == -ENOENT) {
		code = cmd_error(ctx, CTL_EXIT_USAGE, "share %s: no policy applied, so no "
				 "departments to share with", argv[0]);
		goto out;
	}
	if (rc) {
		code = cmd_fail(ctx, rc, NULL, smb ? "share smb: the stored policy" :
				"share nfs: the stored policy");
		goto out;
	}
	doc = json_loadb(stored.buf, stored.len, 0, &jerr);
	if (!doc) {
		code = cmd_error(ctx, CTL_EXIT_USAGE, "share %s: the stored policy (version %"
				 PRIu64 ") does not parse: %s", argv[0], version, jerr.text);
		goto out;
	}
	code = smb ? share_smb(ctx, doc, mnt, full_audit, hosts) : share_nfs(ctx, doc, &nfs);
out:
	json_decref(doc);
	strbuf_release(&stored);
	return code;
}
