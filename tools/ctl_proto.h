/*
 * tools/ctl_proto.h - the control protocol's framing and byte encoding,
 * shared by ctl_server.c and ctl_client.c (the format is drawn in ctl.h).
 *
 * All I/O takes an absolute deadline (ctl_deadline()) rather than a
 * per-call timeout, so a peer trickling one byte at a time cannot hold
 * the server longer than the deadline in total.
 */
#ifndef POOL_CTL_PROTO_H
#define POOL_CTL_PROTO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "common/strbuf.h"

/* A JSON string when buf is valid UTF-8, else {"hex": "..."}; NULL on OOM. */
json_t *ctl_json_bytes(const char *buf, size_t len);
/* The inverse of ctl_json_bytes; appends to out. -EINVAL for any other JSON. */
int ctl_json_get_bytes(const json_t *v, struct strbuf *out);

/* strerror(err) for a message: "no such file or directory" (err may be < 0). */
void ctl_strerror(int err, char *buf, size_t len);

/* The CLOCK_MONOTONIC time in ms timeout_ms from now. */
int64_t ctl_deadline(int timeout_ms);

/*
 * Sends doc as one frame. Returns 0, -ETIMEDOUT, -EPIPE (peer gone),
 * -ENOMEM or another negative errno from send().
 */
int ctl_send_frame(int fd, const json_t *doc, int64_t deadline);

/*
 * Receives one frame's body into body (reset first). A frame announcing
 * more than max bytes is refused before its body is read: -EMSGSIZE with
 * the announced size in *announced. -ENODATA when the peer closed without
 * sending anything, -ECONNRESET when it closed mid-frame, -ETIMEDOUT,
 * -EPROTO for an empty frame.
 */
int ctl_recv_frame(int fd, size_t max, int64_t deadline, struct strbuf *body,
		   uint32_t *announced);

/*
 * Builds the address of the socket at path. sun_path holds 107 bytes;
 * a longer path goes through /proc/self/fd/N of an O_PATH descriptor of
 * its directory, returned in *dirfd, which the caller closes after
 * bind() or connect(); otherwise *dirfd is -1.
 */
int ctl_sockaddr(const char *path, struct sockaddr_un *sa, socklen_t *len, int *dirfd);

#endif
