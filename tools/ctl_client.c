/*
 * tools/ctl_client.c - poolctl's end of the control socket: one request,
 * one reply, then poolctl prints the reply as if it had run the command.
 */
#include "tools/ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tools/ctl_proto.h"

void ctl_reply_init(struct ctl_reply *r)
{
	r->exit = CTL_EXIT_USAGE;
	r->refused = false;
	strbuf_init(&r->out, 0);
	strbuf_init(&r->err, 0);
}

void ctl_reply_release(struct ctl_reply *r)
{
	strbuf_release(&r->out);
	strbuf_release(&r->err);
}

static json_t *build_request(int argc, char *const *argv, const struct strbuf *input)
{
	json_t *args = json_array(), *req;

	if (!args)
		return NULL;
	for (int i = 0; i < argc; i++) {
		if (json_array_append_new(args, ctl_json_bytes(argv[i], strlen(argv[i])))) {
			json_decref(args);
			return NULL;
		}
	}
	req = json_pack("{s:i, s:o}", "v", 1, "argv", args);
	if (req && input &&
	    json_object_set_new(req, "input", ctl_json_bytes(input->buf, input->len))) {
		json_decref(req);
		req = NULL;
	}
	return req;
}

static int decode_reply(const struct strbuf *body, struct ctl_reply *r,
			const char *path, struct perr *e)
{
	json_error_t jerr;
	json_t *doc, *code;
	int rc = 0;

	doc = json_loadb(body->buf, body->len, 0, &jerr);
	if (!doc)
		return perr_set(e, EPROTO, "\"%s\": reply is not JSON: %s", path, jerr.text);
	code = json_object_get(doc, "exit");
	if (!json_is_integer(code) || json_integer_value(code) < 0 ||
	    json_integer_value(code) > 255 ||
	    ctl_json_get_bytes(json_object_get(doc, "stdout"), &r->out) ||
	    ctl_json_get_bytes(json_object_get(doc, "stderr"), &r->err)) {
		rc = perr_set(e, EPROTO, "\"%s\": reply lacks exit, stdout or stderr", path);
		goto out;
	}
	r->exit = (int)json_integer_value(code);
	r->refused = json_is_true(json_object_get(doc, "refused"));
out:
	json_decref(doc);
	return rc;
}

static int connect_daemon(const char *path, int *fdp, struct perr *e)
{
	struct sockaddr_un sa;
	socklen_t salen;
	char why[128];
	int fd = -1, dirfd, rc;

	rc = ctl_sockaddr(path, &sa, &salen, &dirfd);
	if (rc == -ENOENT || rc == -ENOTDIR)
		return -ENOENT;
	if (rc)
		goto fail;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, salen))
		rc = -errno;
	if (dirfd >= 0)
		close(dirfd);
	if (!rc) {
		*fdp = fd;
		return 0;
	}
	if (fd >= 0)
		close(fd);
	/* no socket, or one left by a daemon that died: the caller runs locally */
	if (rc == -ENOENT || rc == -ENOTDIR)
		return -ENOENT;
	if (rc == -ECONNREFUSED)
		return rc;
fail:
	ctl_strerror(rc, why, sizeof(why));
	return perr_set(e, rc, "\"%s\": cannot reach the daemon: %s", path, why);
}

int ctl_client_call(const char *store_dir, int argc, char *const *argv,
		    const struct strbuf *input, struct ctl_reply *r, struct perr *e)
{
	struct strbuf path = STRBUF_INIT, body = STRBUF_INIT;
	json_t *req = NULL;
	uint32_t announced;
	char why[128];
	int fd = -1, rc, sent;

	strbuf_addf(&path, "%s/%s", store_dir, CTL_SOCKET_NAME);
	req = build_request(argc, argv, input);
	if (!req) {
		rc = perr_set(e, ENOMEM, "request: out of memory");
		goto out;
	}
	if (json_dumpb(req, NULL, 0, JSON_COMPACT) > CTL_MAX_REQUEST) {
		rc = perr_set(e, E2BIG, "request: arguments and input longer than %u MiB",
			      CTL_MAX_REQUEST >> 20);
		goto out;
	}
	rc = connect_daemon(path.buf, &fd, e);
	if (rc)
		goto out;

	/* a refused request is still answered: read the reply even if sending failed */
	sent = ctl_send_frame(fd, req, ctl_deadline(CTL_READ_TIMEOUT_MS));
	if (sent && sent != -EPIPE && sent != -ECONNRESET) {
		ctl_strerror(sent, why, sizeof(why));
		rc = perr_set(e, sent, "\"%s\": cannot send the request: %s", path.buf, why);
		goto out;
	}
	rc = ctl_recv_frame(fd, CTL_MAX_REPLY, ctl_deadline(CTL_REPLY_TIMEOUT_MS),
			    &body, &announced);
	if (rc == -ENODATA || rc == -ECONNRESET)
		rc = perr_set(e, EPROTO, "\"%s\": the daemon closed the connection without a reply",
			      path.buf);
	else if (rc == -ETIMEDOUT)
		rc = perr_set(e, ETIMEDOUT, "\"%s\": no reply from the daemon within %d s",
			      path.buf, CTL_REPLY_TIMEOUT_MS / 1000);
	else if (rc == -EMSGSIZE)
		rc = perr_set(e, EMSGSIZE, "\"%s\": reply of %u bytes is over the limit", path.buf,
			      announced);
	else if (rc) {
		ctl_strerror(rc, why, sizeof(why));
		rc = perr_set(e, rc, "\"%s\": cannot read the reply: %s", path.buf, why);
	} else
		rc = decode_reply(&body, r, path.buf, e);
out:
	if (fd >= 0)
		close(fd);
	json_decref(req);
	strbuf_release(&body);
	strbuf_release(&path);
	return rc;
}
