/*
 * tools/ctl_server.c - the daemon's end of the control socket.
 *
 * One thread accepts and serves connections one at a time: commands then
 * never run concurrently with each other (only with the mount), and a
 * peer is checked by its kernel-supplied credentials before a byte of
 * its request is read, so an unprivileged user can neither feed the
 * parser nor hold the thread. An authorized peer is held at most
 * CTL_READ_TIMEOUT_MS for its request and as long again for the reply.
 *
 * The gate admits uid 0 and whoever holds a role in the policy stored
 * in the pool (cached here by version); each command then checks the
 * role it needs in ctl_run(). A refusal at the gate is sent before the
 * request is read, marked "refused" so poolctl can name the command.
 *
 * The socket is bound under a temporary name and renamed into place once
 * it listens: a client that finds STORE/control.sock refusing connections
 * can then trust that no daemon is behind it.
 */
#include "common/alloc.h"
#include "tools/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "store/audit.h"
#include "store/store.h"
#include "tools/cmd.h"
#include "tools/ctl_proto.h"

#define CTL_MAX_ARGS	4096
#define CTL_BACKLOG	16
#define CTL_DENY_KEYS	64	/* callers refused in one second, coalesced */

/*
 * A refusal at the gate: its first in a second of the wall clock is
 * recorded at once, its repeats in that second are counted and written
 * as one record with the count once the second is over, so a local user
 * in a connect() loop adds two records a second, not one per try, and
 * the counts summed are still every try (as fs/coalesce.c does for the
 * mount's denials).
 */
struct ctl_denied {
	uint32_t uid, gid;
	int32_t pid;
	int result;
	char comm[32];
	int64_t sec;
	uint64_t repeats;
};

struct ctl_server {
	struct store *store;
	struct ctl_hooks hooks;
	char *sock_path;		/* absolute: the daemon may chdir("/") */
	int listen_fd;
	int stop_pipe[2];
	pthread_t thread;
	dev_t sock_dev;			/* the socket file we made, so stop */
	ino_t sock_ino;			/* never unlinks a successor's */
	struct ctl_stored_policy stored;	/* the server thread's only */
	struct ctl_denied denied[CTL_DENY_KEYS];	/* the server thread's only */
	size_t ndenied;
};

static int authorize(struct ctl_server *srv, struct ctl_ctx *ctx)
{
	int ok;

	if (srv->hooks.authorize)
		return srv->hooks.authorize(srv->hooks.data, ctx->uid, ctx->gid, ctx->pid);
	if (ctx->uid == 0)
		return 0;
	cmd_stored_policy_load(srv->store, &srv->stored);
	cmd_stored_policy_copy(&ctx->stored, &srv->stored);
	ok = cmd_caller_has_role(ctx, CTL_ROLE_ADMIN);
	return ok == 1 ? 0 : ok < 0 ? ok : -EACCES;
}

static void deny_record(struct ctl_server *srv, const struct ctl_denied *d, uint64_t count)
{
	struct audit_rec rec = {
		.uid = d->uid, .gid = d->gid, .pid = (uint32_t)d->pid, .comm = d->comm,
		.op = "admin.denied", .path = "", .view = "", .result = d->result,
		.reason = "control socket: caller holds no admin role, or more than one", .count = count,
	};

	/* the denial stands even if it cannot be recorded */
	if (audit_append(srv->store, &rec))
		log_err("control: cannot audit the denial of uid %u", d->uid);
}

/*
 * Writes the counted repeats of the seconds before now (of every second
 * when now is INT64_MAX) and forgets those callers.
 */
static void deny_flush(struct ctl_server *srv, int64_t now)
{
	size_t i = 0;

	while (i < srv->ndenied) {
		struct ctl_denied *d = &srv->denied[i];

		if (d->sec >= now) {
			i++;
			continue;
		}
		if (d->repeats)
			deny_record(srv, d, d->repeats);
		*d = srv->denied[--srv->ndenied];
	}
}

static int deny(struct ctl_server *srv, struct ctl_ctx *ctx, int err)
{
	int64_t now = (int64_t)time(NULL);
	struct ctl_denied *d = NULL;

	deny_flush(srv, now);
	for (size_t i = 0; i < srv->ndenied; i++)
		if (srv->denied[i].uid == ctx->uid && srv->denied[i].gid == ctx->gid)
			d = &srv->denied[i];
	if (d) {
		d->repeats++;
	} else {
		if (srv->ndenied == CTL_DENY_KEYS)
			deny_flush(srv, INT64_MAX);
		d = &srv->denied[srv->ndenied++];
		*d = (struct ctl_denied){ .uid = ctx->uid, .gid = ctx->gid, .pid = ctx->pid,
					  .result = err, .sec = now };
		snprintf(d->comm, sizeof(d->comm), "%s", ctx->comm);
		deny_record(srv, d, 1);
	}
	return cmd_error(ctx, CTL_EXIT_NO, "permission denied: uid %u holds no admin role "
			 "(security_admin, auditor or system_admin)", ctx->uid);
}

/* The peer's supplementary groups, as the kernel saw them at connect(). */
static void peer_groups(int fd, struct ctl_ctx *ctx)
{
	socklen_t len = 64 * sizeof(gid_t);
	gid_t *g = NULL;

	for (int tries = 0; tries < 3; tries++) {
		g = xreallocarray(g, len ? len : sizeof(gid_t), 1);
		if (!getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len)) {
			ctx->ngroups = (int)(len / sizeof(gid_t));
			ctx->groups = xcalloc((size_t)ctx->ngroups + 1, sizeof(*ctx->groups));
			for (int i = 0; i < ctx->ngroups; i++)
				ctx->groups[i] = (uint32_t)g[i];
			break;
		}
		/* fewer groups known means fewer roles, never more */
		if (errno != ERANGE)
			break;
	}
	free(g);
}

/*
 * Decodes request into *args (allocated here, *nargs of them to release,
 * also on error). Returns 0 or an exit code with the message in ctx.
 */
static int decode_request(struct ctl_ctx *ctx, const json_t *req,
			  struct strbuf **args, size_t *nargs)
{
	const json_t *v, *argv;
	size_t i, n;

	*args = NULL;
	*nargs = 0;
	if (!json_is_object(req))
		return cmd_error(ctx, CTL_EXIT_USAGE, "request: expected a JSON object");
	v = json_object_get(req, "v");
	if (v && !(json_is_integer(v) && json_integer_value(v) == 1))
		return cmd_error(ctx, CTL_EXIT_USAGE, "request.v: only protocol version 1 is known");
	argv = json_object_get(req, "argv");
	if (!json_is_array(argv))
		return cmd_error(ctx, CTL_EXIT_USAGE, "request.argv: expected an array of strings");
	n = json_array_size(argv);
	if (!n || n > CTL_MAX_ARGS)
		return cmd_error(ctx, CTL_EXIT_USAGE, "request.argv: expected 1 to %d arguments, got %zu",
				 CTL_MAX_ARGS, n);
	*args = xcalloc(n, sizeof(**args));
	for (i = 0; i < n; i++) {
		struct strbuf *a = &(*args)[i];

		strbuf_init(a, 0);
		*nargs = i + 1;
		if (ctl_json_get_bytes(json_array_get(argv, i), a))
			return cmd_error(ctx, CTL_EXIT_USAGE, "request.argv[%zu]: expected a string", i);
		if (memchr(a->buf, '\0', a->len))
			return cmd_error(ctx, CTL_EXIT_USAGE, "request.argv[%zu]: holds a NUL byte", i);
	}
	v = json_object_get(req, "input");
	if (v) {
		if (ctl_json_get_bytes(v, &ctx->input))
			return cmd_error(ctx, CTL_EXIT_USAGE, "request.input: expected a string");
		ctx->has_input = true;
	}
	return 0;
}

/* Parses body and runs the command; returns the exit code. */
static int run_request(struct ctl_ctx *ctx, const struct strbuf *body)
{
	struct strbuf *args = NULL;
	char **argv = NULL;
	size_t nargs = 0, i;
	json_error_t jerr;
	json_t *req;
	int rc;

	req = json_loadb(body->buf, body->len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!req)
		return cmd_error(ctx, CTL_EXIT_USAGE, "request: not JSON: %s at byte %d",
				 jerr.text, jerr.position);
	rc = decode_request(ctx, req, &args, &nargs);
	if (rc)
		goto out;
	argv = xcalloc(nargs + 1, sizeof(*argv));
	/* commands permute argv; args keeps the storage to free */
	for (i = 0; i < nargs; i++)
		argv[i] = args[i].buf;
	rc = ctl_run(ctx, (int)nargs, argv);
out:
	for (i = 0; i < nargs; i++)
		strbuf_release(&args[i]);
	free(args);
	free(argv);
	json_decref(req);
	return rc;
}

static void send_reply(int fd, int code, struct ctl_ctx *ctx, bool refused)
{
	json_t *reply;
	char why[128];
	int rc;

	reply = json_pack("{s:i, s:o, s:o}", "exit", code,
			  "stdout", ctl_json_bytes(ctx->out.buf, ctx->out.len),
			  "stderr", ctl_json_bytes(ctx->err.buf, ctx->err.len));
	if (reply && refused && json_object_set_new(reply, "refused", json_true())) {
		json_decref(reply);
		reply = NULL;
	}
	if (!reply)
		reply = json_pack("{s:i, s:s, s:s}", "exit", CTL_EXIT_USAGE, "stdout", "",
				  "stderr", "poolctl: reply: out of memory in the daemon\n");
	if (!reply) {
		log_err("control: cannot build a reply: out of memory");
		return;
	}
	rc = ctl_send_frame(fd, reply, ctl_deadline(CTL_READ_TIMEOUT_MS));
	if (rc && rc != -EPIPE && rc != -ECONNRESET) {
		ctl_strerror(rc, why, sizeof(why));
		log_warn("control: cannot send a reply to pid %d: %s", ctx->pid, why);
	}
	json_decref(reply);
}

static void record_bad_request(struct ctl_server *srv, struct ctl_ctx *ctx)
{
	struct strbuf why = STRBUF_INIT;
	struct audit_rec rec;
	size_t nl = strcspn(ctx->err.buf, "\n");

	cmd_audit_init(ctx, &rec, "admin.request", "");
	strbuf_addf(&why, "%s: %.*s", rec.reason, (int)(nl < 300 ? nl : 300), ctx->err.buf);
	rec.result = -EINVAL;
	rec.reason = why.buf;
	/* the refusal stands even if it cannot be recorded */
	if (audit_append(srv->store, &rec))
		log_err("control: cannot audit a bad request of uid %u", ctx->uid);
	strbuf_release(&why);
}

static void serve_conn(struct ctl_server *srv, int fd)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct strbuf body = STRBUF_INIT;
	struct ctl_ctx ctx;
	uint32_t announced;
	int64_t deadline = ctl_deadline(CTL_READ_TIMEOUT_MS);
	bool refused = false;
	int rc, code;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen)) {
		log_warn("control: cannot read peer credentials: %s", strerror(errno));
		return;
	}
	ctl_ctx_init_remote(&ctx, srv->store, &srv->hooks, cred.uid, cred.gid, cred.pid);
	peer_groups(fd, &ctx);
	rc = authorize(srv, &ctx);
	if (rc) {
		code = deny(srv, &ctx, rc);
		refused = true;
		goto reply;
	}
	/* an auditor's query then sees every refusal so far */
	deny_flush(srv, INT64_MAX);
	rc = ctl_recv_frame(fd, CTL_MAX_REQUEST, deadline, &body, &announced);
	switch (rc) {
	case 0:
		code = run_request(&ctx, &body);
		break;
	case -EMSGSIZE:
		code = cmd_error(&ctx, CTL_EXIT_USAGE, "request: %u bytes, more than the limit of %u",
				 announced, CTL_MAX_REQUEST);
		break;
	case -ETIMEDOUT:
		code = cmd_error(&ctx, CTL_EXIT_USAGE, "request: not received within %d ms",
				 CTL_READ_TIMEOUT_MS);
		break;
	case -EPROTO:
		code = cmd_error(&ctx, CTL_EXIT_USAGE, "request: empty frame");
		break;
	default:
		goto out;		/* the peer left: nobody to answer */
	}
	/* a request that named no command it could run is an admin's try too */
	if (!ctx.audited && code)
		record_bad_request(srv, &ctx);
reply:
	send_reply(fd, code, &ctx, refused);
out:
	strbuf_release(&body);
	ctl_ctx_release(&ctx);
}

/* Waits up to ms for a stop request; true when one came. */
static bool stop_requested(struct ctl_server *srv, int ms)
{
	struct pollfd p = { .fd = srv->stop_pipe[0], .events = POLLIN };

	return poll(&p, 1, ms) > 0;
}

static void *serve_loop(void *arg)
{
	struct ctl_server *srv = arg;
	struct pollfd p[2] = {
		{ .fd = srv->listen_fd, .events = POLLIN },
		{ .fd = srv->stop_pipe[0], .events = POLLIN },
	};
	int fd;

	for (;;) {
		/* counted repeats are written once their second is over */
		if (poll(p, 2, srv->ndenied ? 1000 : -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("control: poll: %s; control socket disabled", strerror(errno));
			break;
		}
		if (p[1].revents)
			break;
		deny_flush(srv, (int64_t)time(NULL));
		if (!p[0].revents)
			continue;
		fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			/* out of descriptors: back off instead of spinning */
			if ((errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			     errno == ENOMEM) && stop_requested(srv, 100))
				break;
			continue;
		}
		serve_conn(srv, fd);
		close(fd);
	}
	deny_flush(srv, INT64_MAX);
	return NULL;
}

static int bind_socket(struct ctl_server *srv, const char *tmp, struct perr *e)
{
	struct sockaddr_un sa;
	socklen_t salen;
	struct stat st;
	char why[128];
	int dirfd, rc;

	rc = ctl_sockaddr(tmp, &sa, &salen, &dirfd);
	if (rc) {
		ctl_strerror(rc, why, sizeof(why));
		return perr_set(e, rc, "\"%s\": cannot name the control socket: %s", tmp, why);
	}
	srv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->listen_fd < 0 || bind(srv->listen_fd, (struct sockaddr *)&sa, salen) ||
	    chmod(tmp, 0666) || listen(srv->listen_fd, CTL_BACKLOG) || stat(tmp, &st) ||
	    rename(tmp, srv->sock_path)) {
		rc = -errno;
		ctl_strerror(rc, why, sizeof(why));
		perr_set(e, rc, "\"%s\": cannot set up the control socket: %s", srv->sock_path, why);
		unlink(tmp);
		goto out;
	}
	srv->sock_dev = st.st_dev;
	srv->sock_ino = st.st_ino;
out:
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}

static void server_free(struct ctl_server *srv)
{
	cmd_stored_policy_release(&srv->stored);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->stop_pipe[0] >= 0)
		close(srv->stop_pipe[0]);
	if (srv->stop_pipe[1] >= 0)
		close(srv->stop_pipe[1]);
	free(srv->sock_path);
	free(srv);
}

int ctl_server_start(struct store *s, const struct ctl_hooks *hooks,
		     struct ctl_server **out, struct perr *e)
{
	struct ctl_server *srv;
	struct strbuf path = STRBUF_INIT, tmp = STRBUF_INIT;
	sigset_t all, old;
	char *dir = NULL, why[128];
	int rc;

	*out = NULL;
	srv = xcalloc(1, sizeof(*srv));

	srv->store = s;
	if (hooks)
		srv->hooks = *hooks;
	srv->listen_fd = srv->stop_pipe[0] = srv->stop_pipe[1] = -1;
	dir = realpath(store_dir(s), NULL);
	if (!dir) {
		rc = -errno;
		ctl_strerror(rc, why, sizeof(why));
		perr_set(e, rc, "\"%s\": %s", store_dir(s), why);
		goto err_out;
	}
	strbuf_addf(&path, "%s/%s", dir, CTL_SOCKET_NAME);
	strbuf_addf(&tmp, "%s/.%s.%d", dir, CTL_SOCKET_NAME, (int)getpid());
	srv->sock_path = strbuf_detach(&path, NULL);
	rc = bind_socket(srv, tmp.buf, e);
	if (rc)
		goto err_out;
	if (pipe2(srv->stop_pipe, O_CLOEXEC)) {
		rc = perr_set(e, errno, "control socket: cannot make a pipe: %s", strerror(errno));
		goto err_unlink;
	}
	/* signals belong to the daemon's main loop, not to this thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = -pthread_create(&srv->thread, NULL, serve_loop, srv);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		perr_set(e, rc, "control socket: cannot start its thread");
		goto err_unlink;
	}
	*out = srv;
	goto out;

err_unlink:
	unlink(srv->sock_path);
err_out:
	server_free(srv);
out:
	free(dir);
	strbuf_release(&tmp);
	strbuf_release(&path);
	return rc;
}

void ctl_server_stop(struct ctl_server *srv)
{
	struct stat st;

	if (!srv)
		return;
	/* the read end then polls as hung up, which wakes the thread */
	close(srv->stop_pipe[1]);
	srv->stop_pipe[1] = -1;
	pthread_join(srv->thread, NULL);
	if (!stat(srv->sock_path, &st) && st.st_dev == srv->sock_dev &&
	    st.st_ino == srv->sock_ino && unlink(srv->sock_path))
		log_warn("control: cannot remove \"%s\": %s", srv->sock_path, strerror(errno));
	server_free(srv);
}
