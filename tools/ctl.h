/*
 * tools/ctl.h - poolctl's commands and the control protocol that lets them
 * run inside a live daemon.
 *
 * The daemon holds RocksDB's lock, so while a poolfs runs on STORE,
 * poolctl cannot open the store itself; it sends its argv over the Unix
 * socket STORE/control.sock and the daemon runs the very same cmd_<name>()
 * functions against its open store. With no daemon, poolctl opens the
 * store and runs them locally. Either way the command writes into the
 * strbufs of a struct ctl_ctx and returns an exit code.
 *
 * Wire format (one request and one reply per connection):
 *
 *   frame    = be32(length) body         length <= CTL_MAX_REQUEST (request)
 *   request  = {"v": 1, "argv": [bytes, ...], "input": bytes}
 *   reply    = {"exit": N, "stdout": bytes, "stderr": bytes, "refused": true}
 *   bytes    = "a JSON string"           when the bytes are valid UTF-8
 *            | {"hex": "0a1b..."}         otherwise (paths in GB18030 ...)
 *
 * "input" (optional) is the content of the FILE argument of a command that
 * reads one (policy apply|check FILE.json): poolctl reads the file as the
 * user who runs it and sends the bytes. The daemon runs as root and never
 * opens a path a caller names; commands take their document from
 * ctx->input only, also when run locally, so both paths behave the same.
 *
 * "refused" (optional, only true) marks a reply sent before the request
 * was read: the peer holds no admin role. poolctl then words the refusal
 * for the command it asked for (ctl_refusal_message).
 *
 * Length-prefixed rather than newline-delimited so the server knows the
 * size before reading a byte of the body and can refuse an oversized
 * request at once.
 */
#ifndef POOL_CTL_H
#define POOL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/strbuf.h"

struct store;
struct policy;
struct ctl_server;		/* opaque */

#define POOLCTL_VERSION		"0.1.0"
#define CTL_SOCKET_NAME		"control.sock"
#define CTL_MAX_INPUT		(8u << 20)	/* a policy document */
#define CTL_MAX_REQUEST		(16u << 20)	/* argv + input, JSON-escaped */
#define CTL_MAX_REPLY		(1u << 30)
#define CTL_READ_TIMEOUT_MS	3000	/* a client writes its request at once */
#define CTL_REPLY_TIMEOUT_MS	600000	/* audit verify of a large log takes time */

/* Exit codes: the contract of DESIGN.md "Commands". */
#define CTL_EXIT_OK	0
#define CTL_EXIT_NO	1	/* the answer is "no": denied, broken chain */
#define CTL_EXIT_USAGE	2	/* usage, input or store error; one line on stderr */

/*
 * What a command asks of its caller (DESIGN.md "Identity", 三员分立).
 * uid 0 passes every check; otherwise the role comes from the policy
 * stored in the pool (its latest version), uid or any of the caller's
 * gids. A pool without a readable policy admits uid 0 only. Roles never
 * grant data: they open poolctl commands, not files.
 */
enum ctl_role {
	CTL_ROLE_NONE,		/* anyone: init, policy check without -s */
	CTL_ROLE_ADMIN,		/* any of the three roles */
	CTL_ROLE_SECURITY,	/* security_admin: policy apply */
	CTL_ROLE_AUDITOR,	/* auditor: audit query|verify|export */
	CTL_ROLE_SYSTEM,	/* system_admin: restore */
};

/*
 * 1 when uid (or one of gids) may run a command needing role under p,
 * else 0. p may be NULL (no policy): uid 0 only.
 */
int ctl_role_allows(const struct policy *p, uint32_t uid, const uint32_t *gids,
		    int ngids, enum ctl_role role);

/* What a live mount says about itself to `poolctl status`. */
struct ctl_mount_info {
	const char *mountpoint;
	const char *dept;		/* NULL: a pool mount */
	bool allow_all;
	int32_t pid;
	int64_t started;		/* seconds since the epoch */
	const char *metrics;		/* the metrics file, NULL: none */
};

/*
 * What the daemon lets a command reach besides the store. Every pointer
 * may be NULL; data is passed back to each call. Hooks run on the control
 * server's thread, one request at a time, concurrently with the mount's
 * own threads. The server copies the struct, so the caller's copy need
 * not outlive ctl_server_start().
 */
struct ctl_hooks {
	void *data;
	/*
	 * Runs op(arg), which gives file ino a new current version (restore),
	 * and makes the mount show it at once: the mount marks its kernel
	 * inodes in the same step, so no reader opens the new version under
	 * the old one's size. Returns op's result, or another negative errno
	 * when op did not run.
	 */
	int (*change_inode)(void *data, uint64_t ino, int (*op)(void *arg), void *arg);
	/*
	 * Makes p the live policy of the mount, consuming the caller's
	 * reference (also on error). Called by policy apply after the new
	 * version is durably stored; 0 or a negative errno, which apply
	 * reports (the stored version then takes effect at the next mount).
	 */
	int (*set_policy)(void *data, struct policy *p);
	/*
	 * Decides whether a peer may use the socket at all, before its
	 * request is read. 0 allows, a negative errno denies. NULL (what
	 * poolfs should pass): uid 0 and the holders of any role in the
	 * stored policy. Either way each command then checks its own role.
	 */
	int (*authorize)(void *data, uint32_t uid, uint32_t gid, int32_t pid);
	/* Fills out with the mount this daemon serves; strings stay valid. */
	int (*mount_info)(void *data, struct ctl_mount_info *out);
};

/* The latest policy stored in the pool, as cmd_load_policy() found it. */
struct ctl_stored_policy {
	bool loaded;
	int rc;				/* 0, or why it could not be read or parsed */
	struct policy *policy;		/* one reference; NULL: none or unusable */
	uint64_t version;		/* 0: no policy was ever applied */
	struct perr err;		/* the message behind rc */
};

/* Everything a cmd_<name>() may touch; set up by poolctl or the server. */
struct ctl_ctx {
	struct store *store;		/* NULL until cmd_need_store() (local) */
	const char *store_dir;		/* -s STORE; NULL when not given */
	bool own_store;			/* opened here; closed by ctl_ctx_release */
	bool remote;			/* running inside the daemon */
	const struct ctl_hooks *hooks;	/* the daemon's; NULL when local */
	uint32_t uid, gid;		/* the caller: SO_PEERCRED or getuid() */
	uint32_t *groups;		/* supplementary gids; malloc'd, may be NULL */
	int ngroups;
	int32_t pid;
	char comm[32];			/* the caller's process name, for audit */
	const char *cmd;		/* "policy apply": for messages, set by ctl_run */
	struct strbuf input;		/* the FILE argument's content, read by poolctl */
	bool has_input;
	bool audited;			/* the command wrote its own audit record */
	struct ctl_stored_policy stored;	/* roles and explain; see cmd_load_policy() */
	struct strbuf out, err;		/* what the caller prints */
};

/* For poolctl itself: the caller is this process, the store opens lazily. */
void ctl_ctx_init_local(struct ctl_ctx *ctx, const char *store_dir);
/* For the server: the caller is the peer, s is the daemon's open store. */
void ctl_ctx_init_remote(struct ctl_ctx *ctx, struct store *s,
			 const struct ctl_hooks *hooks,
			 uint32_t uid, uint32_t gid, int32_t pid);
/* Frees the buffers and policy and closes a store opened by cmd_need_store(). */
void ctl_ctx_release(struct ctl_ctx *ctx);

/*
 * Runs argv[0] (a command name, "policy" takes a sub-command in argv[1])
 * with its arguments, after checking the caller's role for it. Returns
 * the exit code; output and messages are in ctx->out and ctx->err.
 */
int ctl_run(struct ctl_ctx *ctx, int argc, char **argv);

/*
 * True when argv must run in poolctl itself even while a daemon runs:
 * commands that need no store (init), unknown names and --help.
 */
bool ctl_runs_locally(int argc, char **argv);

/* Writes poolctl's top-level usage and command list to sb. */
void ctl_usage(struct strbuf *sb);

/*
 * For poolctl, before it runs argv anywhere: when the command reads a
 * FILE argument (policy apply|check), reads it ("-" is standard input,
 * at most CTL_MAX_INPUT bytes) into *input and sets *has. Nothing to read
 * (another command, --help, no FILE given) is not an error. Returns 0 or
 * a negative errno with "FILE: why" in e.
 */
int ctl_read_input(int argc, char **argv, struct strbuf *input, bool *has,
		   struct perr *e);

/*
 * "permission denied: policy apply needs the security_admin role": what
 * poolctl prints for argv when the daemon refused it unread. Appends the
 * line (with "poolctl: " and a newline) to out.
 */
void ctl_refusal_message(int argc, char **argv, struct strbuf *out);

/* ---- server (the daemon) ---- */

/*
 * Listens on STORE/control.sock (mode 0666; every peer goes through
 * hooks->authorize or the role gate) and serves one request per
 * connection from one thread, with requests bounded by CTL_MAX_REQUEST
 * and CTL_READ_TIMEOUT_MS. A socket file left by a dead daemon is
 * replaced: the caller holds the store open, so no other daemon serves it.
 */
int ctl_server_start(struct store *s, const struct ctl_hooks *hooks,
		     struct ctl_server **out, struct perr *e);
/* Stops accepting, waits for a request in progress, unlinks the socket. */
void ctl_server_stop(struct ctl_server *srv);

/* ---- client (poolctl) ---- */

struct ctl_reply {
	int exit;
	bool refused;			/* denied before the request was read */
	struct strbuf out, err;
};

void ctl_reply_init(struct ctl_reply *r);
void ctl_reply_release(struct ctl_reply *r);

/*
 * Sends argv, and input when not NULL, to the daemon serving store_dir
 * and waits for its reply. Returns 0 with r filled when a daemon
 * answered; -ENOENT when there is no socket and -ECONNREFUSED when the
 * socket is stale (no daemon: run locally); any other negative errno,
 * with a message in e, when talking to a daemon failed.
 */
int ctl_client_call(const char *store_dir, int argc, char *const *argv,
		    const struct strbuf *input, struct ctl_reply *r, struct perr *e);

#endif
