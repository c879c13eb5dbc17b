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
 *   request  = {"v": 1, "argv": [bytes, ...]}
 *   reply    = {"exit": N, "stdout": bytes, "stderr": bytes}
 *   bytes    = "a JSON string"           when the bytes are valid UTF-8
 *            | {"hex": "0a1b..."}         otherwise (paths in GB18030 ...)
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
#define CTL_MAX_REQUEST		(1u << 20)
#define CTL_MAX_REPLY		(1u << 30)
#define CTL_READ_TIMEOUT_MS	3000	/* a client writes its request at once */
#define CTL_REPLY_TIMEOUT_MS	600000	/* audit verify of a large log takes time */

/* Exit codes: the contract of DESIGN.md "Commands". */
#define CTL_EXIT_OK	0
#define CTL_EXIT_NO	1	/* the answer is "no": denied, broken chain */
#define CTL_EXIT_USAGE	2	/* usage, input or store error; one line on stderr */

/*
 * What the daemon lets a command reach besides the store. Every pointer
 * may be NULL; data is passed back to each call. Hooks run on the control
 * server's thread, one request at a time, concurrently with the mount's
 * own threads. The server copies the struct, so the caller's copy need
 * not outlive ctl_server_start().
 */
struct ctl_hooks {
	void *data;
	/* Drop kernel caches of ino so the mount shows a new version at once. */
	int (*invalidate_inode)(void *data, uint64_t ino);
	/* Swaps in p as the live policy, consuming the caller's reference. */
	int (*set_policy)(void *data, struct policy *p);
	/*
	 * Decides whether a peer may use the socket at all, before its
	 * request is read. 0 allows, a negative errno denies. NULL: uid 0 only.
	 */
	int (*authorize)(void *data, uint32_t uid, uint32_t gid, int32_t pid);
};

/* Everything a cmd_<name>() may touch; set up by poolctl or the server. */
struct ctl_ctx {
	struct store *store;		/* NULL until cmd_need_store() (local) */
	const char *store_dir;		/* -s STORE; NULL when not given */
	bool own_store;			/* opened here; closed by ctl_ctx_release */
	bool remote;			/* running inside the daemon */
	const struct ctl_hooks *hooks;	/* the daemon's; NULL when local */
	uint32_t uid, gid;		/* the caller: SO_PEERCRED or getuid() */
	int32_t pid;
	char comm[32];			/* the caller's process name, for audit */
	struct strbuf out, err;		/* what the caller prints */
};

/* For poolctl itself: the caller is this process, the store opens lazily. */
void ctl_ctx_init_local(struct ctl_ctx *ctx, const char *store_dir);
/* For the server: the caller is the peer, s is the daemon's open store. */
void ctl_ctx_init_remote(struct ctl_ctx *ctx, struct store *s,
			 const struct ctl_hooks *hooks,
			 uint32_t uid, uint32_t gid, int32_t pid);
/* Frees the buffers and closes a store opened by cmd_need_store(). */
void ctl_ctx_release(struct ctl_ctx *ctx);

/*
 * Runs argv[0] (a command name) with its arguments. Returns the exit code;
 * output and messages are in ctx->out and ctx->err.
 */
int ctl_run(struct ctl_ctx *ctx, int argc, char **argv);

/*
 * True when argv must run in poolctl itself even while a daemon runs:
 * commands that need no store (init), unknown names and --help.
 */
bool ctl_runs_locally(int argc, char **argv);

/* Writes poolctl's top-level usage and command list to sb. */
void ctl_usage(struct strbuf *sb);

/* ---- server (the daemon) ---- */

/*
 * Listens on STORE/control.sock (mode 0666; every peer goes through
 * hooks->authorize) and serves one request per connection from one
 * thread, with requests bounded by CTL_MAX_REQUEST and
 * CTL_READ_TIMEOUT_MS. A socket file left by a dead daemon is replaced:
 * the caller holds the store open, so no other daemon serves it.
 */
int ctl_server_start(struct store *s, const struct ctl_hooks *hooks,
		     struct ctl_server **out, struct perr *e);
/* Stops accepting, waits for a request in progress, unlinks the socket. */
void ctl_server_stop(struct ctl_server *srv);

/* ---- client (poolctl) ---- */

struct ctl_reply {
	int exit;
	struct strbuf out, err;
};

void ctl_reply_init(struct ctl_reply *r);
void ctl_reply_release(struct ctl_reply *r);

/*
 * Sends argv to the daemon serving store_dir and waits for its reply.
 * Returns 0 with r filled when a daemon answered; -ENOENT when there is
 * no socket and -ECONNREFUSED when the socket is stale (no daemon: run
 * locally); any other negative errno, with a message in e, when talking
 * to a daemon failed.
 */
int ctl_client_call(const char *store_dir, int argc, char *const *argv,
		    struct ctl_reply *r, struct perr *e);

#endif
