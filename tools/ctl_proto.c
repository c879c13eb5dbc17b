/*
 * tools/ctl_proto.c - framing and byte encoding of the control protocol.
 */
#include "tools/ctl_proto.h"
#include "common/alloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/codec.h"

json_t *ctl_json_bytes(const char *buf, size_t len)
{
	json_t *v;
	char *hex;

	v = json_stringn(buf, len);
	if (v)
		return v;
	/* jansson refuses invalid UTF-8; keep such bytes exact, not replaced */
	if (len > (SIZE_MAX - 1) / 2)
		return NULL;
	hex = xmalloc(2 * len + 1);

	hex_encode((const uint8_t *)buf, len, hex);
	v = json_pack("{s:s}", "hex", hex);
	free(hex);
	return v;
}

int ctl_json_get_bytes(const json_t *v, struct strbuf *out)
{
	const json_t *hex;
	const char *h;
	size_t n;

	if (json_is_string(v)) {
		strbuf_add(out, json_string_value(v), json_string_length(v));
		return 0;
	}
	if (!json_is_object(v) || json_object_size(v) != 1)
		return -EINVAL;
	hex = json_object_get(v, "hex");
	if (!json_is_string(hex))
		return -EINVAL;
	h = json_string_value(hex);
	n = json_string_length(hex);
	if (n % 2 || strlen(h) != n)
		return -EINVAL;
	strbuf_grow(out, n / 2);
	if (hex_decode(h, (uint8_t *)out->buf + out->len, n / 2)) {
		strbuf_setlen(out, out->len);	/* a partial decode overwrote the NUL */
		return -EINVAL;
	}
	strbuf_setlen(out, out->len + n / 2);
	return 0;
}

void ctl_strerror(int err, char *buf, size_t len)
{
	snprintf(buf, len, "%s", strerror(err < 0 ? -err : err));
	/* "No such file" reads as a message; "I/O error" keeps its capitals */
	if (isupper((unsigned char)buf[0]) && islower((unsigned char)buf[1]))
		buf[0] = (char)tolower((unsigned char)buf[0]);
}

int64_t ctl_deadline(int timeout_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + timeout_ms;
}

static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int rc;

	for (;;) {
		left = deadline - ctl_deadline(0);
		if (left <= 0)
			return -ETIMEDOUT;
		rc = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -errno;
	}
}

static int write_full(int fd, const char *buf, size_t len, int64_t deadline)
{
	ssize_t n;
	int rc;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		rc = wait_fd(fd, POLLOUT, deadline);
		if (rc)
			return rc;
	}
	return 0;
}

/* Returns the bytes read (< len only at end of stream) or a negative errno. */
static ssize_t read_full(int fd, char *buf, size_t len, int64_t deadline)
{
	size_t got = 0;
	ssize_t n;
	int rc;

	while (got < len) {
		n = recv(fd, buf + got, len - got, MSG_DONTWAIT);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		rc = wait_fd(fd, POLLIN, deadline);
		if (rc)
			return rc;
	}
	return (ssize_t)got;
}

int ctl_send_frame(int fd, const json_t *doc, int64_t deadline)
{
	struct strbuf frame = STRBUF_INIT;
	char *text;
	size_t len;
	int rc;

	text = json_dumps(doc, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	if (len > UINT32_MAX) {
		rc = -EMSGSIZE;
		goto out;
	}
	strbuf_grow(&frame, 4 + len);
	put_be32((uint8_t *)frame.buf, (uint32_t)len);
	memcpy(frame.buf + 4, text, len);
	strbuf_setlen(&frame, 4 + len);
	rc = write_full(fd, frame.buf, frame.len, deadline);
out:
	free(text);
	strbuf_release(&frame);
	return rc;
}

int ctl_recv_frame(int fd, size_t max, int64_t deadline, struct strbuf *body,
		   uint32_t *announced)
{
	uint8_t hdr[4];
	uint32_t len;
	ssize_t n;

	strbuf_reset(body);
	*announced = 0;
	n = read_full(fd, (char *)hdr, sizeof(hdr), deadline);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -ENODATA;
	if (n < (ssize_t)sizeof(hdr))
		return -ECONNRESET;
	len = get_be32(hdr);
	*announced = len;
	if (len > max)
		return -EMSGSIZE;
	if (!len)
		return -EPROTO;
	strbuf_grow(body, len);
	n = read_full(fd, body->buf, len, deadline);
	if (n < 0 || (size_t)n < len) {
		strbuf_setlen(body, 0);		/* a partial read overwrote the NUL */
		return n < 0 ? (int)n : -ECONNRESET;
	}
	strbuf_setlen(body, len);
	return 0;
}

int ctl_sockaddr(const char *path, struct sockaddr_un *sa, socklen_t *len, int *dirfd)
{
	struct strbuf dir = STRBUF_INIT;
	const char *base;
	int fd, n, rc = 0;

	*dirfd = -1;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) < sizeof(sa->sun_path)) {
		memcpy(sa->sun_path, path, strlen(path) + 1);
		goto done;
	}
	base = strrchr(path, '/');
	if (!base)
		return -ENAMETOOLONG;
	strbuf_add(&dir, path, base == path ? 1 : (size_t)(base - path));
	fd = open(dir.buf, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", fd, base + 1);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path)) {
		close(fd);
		rc = -ENAMETOOLONG;
		goto out;
	}
	*dirfd = fd;
done:
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sa->sun_path) + 1);
out:
	strbuf_release(&dir);
	return rc;
}
