/*
 * fs/service.c - the daemon under a service manager and a monitor.
 *
 * sd_notify is a datagram to the socket systemd names in NOTIFY_SOCKET;
 * written here in a few lines rather than linking libsystemd for it.
 *
 * Requests are counted by wrapping the operations table: every request
 * passes one relaxed atomic add on its way in, and main.c's table stays
 * the one list of operations. The metrics file is written by its own
 * thread, so a slow disk under it never holds a request.
 */
#include "fs/service.h"
#include "common/alloc.h"


#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/metrics.h"

void fs_service_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t len;
	size_t n;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@'))
		return;
	n = strlen(path);
	if (n >= sizeof(sa.sun_path)) {
		log_warn("NOTIFY_SOCKET too long; systemd not told %s", state);
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, n);
	/* "@name" is the abstract namespace: a leading NUL, no terminator */
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || sendto(fd, state, strlen(state), MSG_NOSIGNAL,
			     (struct sockaddr *)&sa, len) < 0)
		log_warn("cannot tell systemd %s: %s", state, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* ---- what poolctl status hears ---- */

static struct ctl_mount_info info;

void fs_service_set_info(const char *mountpoint, const struct fs *fs, const char *metrics)
{
	info.mountpoint = mountpoint;
	info.dept = fs->dept;
	info.allow_all = fs->allow_all != 0;
	info.pid = (int32_t)getpid();
	info.started = (int64_t)time(NULL);
	info.metrics = metrics;
}

int fs_service_info(struct ctl_mount_info *out)
{
	if (!info.mountpoint)
		return -ENODEV;
	*out = info;
	return 0;
}

/* ---- requests by operation ---- */

#define FS_OPS(X) \
	X(lookup) X(forget) X(forget_multi) X(getattr) X(setattr) X(access) \
	X(statfs) X(getxattr) X(listxattr) X(setxattr) X(removexattr) \
	X(opendir) X(readdir) X(readdirplus) X(releasedir) X(fsyncdir) \
	X(mkdir) X(mknod) X(symlink) X(readlink) X(link) X(unlink) X(rmdir) \
	X(rename) X(open) X(create) X(read) X(write) X(flush) X(release) X(fsync)

enum {
#define OP_ENUM(name) OP_##name,
	FS_OPS(OP_ENUM)
#undef OP_ENUM
	OP_NR
};

static const char *const op_names[OP_NR] = {
#define OP_NAME(name) #name,
	FS_OPS(OP_NAME)
#undef OP_NAME
};

static uint64_t op_count[OP_NR];
static const struct fuse_lowlevel_ops *inner;
static struct fuse_lowlevel_ops wrapped;

static void count(int op)
{
	__atomic_add_fetch(&op_count[op], 1, __ATOMIC_RELAXED);
}

/* W(name, (parameters), (arguments)): a counting wrapper of inner->name */
#define W(name, params, args) \
	static void w_##name params { count(OP_##name); inner->name args; }

W(lookup, (fuse_req_t r, fuse_ino_t p, const char *n), (r, p, n))
W(forget, (fuse_req_t r, fuse_ino_t i, uint64_t n), (r, i, n))
W(forget_multi, (fuse_req_t r, size_t c, struct fuse_forget_data *f), (r, c, f))
W(getattr, (fuse_req_t r, fuse_ino_t i, struct fuse_file_info *f), (r, i, f))
W(setattr, (fuse_req_t r, fuse_ino_t i, struct stat *a, int s, struct fuse_file_info *f),
  (r, i, a, s, f))
W(access, (fuse_req_t r, fuse_ino_t i, int m), (r, i, m))
W(statfs, (fuse_req_t r, fuse_ino_t i), (r, i))
W(getxattr, (fuse_req_t r, fuse_ino_t i, const char *n, size_t s), (r, i, n, s))
W(listxattr, (fuse_req_t r, fuse_ino_t i, size_t s), (r, i, s))
W(setxattr, (fuse_req_t r, fuse_ino_t i, const char *n, const char *v, size_t s, int fl),
  (r, i, n, v, s, fl))
W(removexattr, (fuse_req_t r, fuse_ino_t i, const char *n), (r, i, n))
W(opendir, (fuse_req_t r, fuse_ino_t i, struct fuse_file_info *f), (r, i, f))
W(readdir, (fuse_req_t r, fuse_ino_t i, size_t s, off_t o, struct fuse_file_info *f),
  (r, i, s, o, f))
W(readdirplus, (fuse_req_t r, fuse_ino_t i, size_t s, off_t o, struct fuse_file_info *f),
  (r, i, s, o, f))
W(releasedir, (fuse_req_t r, fuse_ino_t i, struct fuse_file_info *f), (r, i, f))
W(fsyncdir, (fuse_req_t r, fuse_ino_t i, int d, struct fuse_file_info *f), (r, i, d, f))
W(mkdir, (fuse_req_t r, fuse_ino_t p, const char *n, mode_t m), (r, p, n, m))
W(mknod, (fuse_req_t r, fuse_ino_t p, const char *n, mode_t m, dev_t d), (r, p, n, m, d))
W(symlink, (fuse_req_t r, const char *l, fuse_ino_t p, const char *n), (r, l, p, n))
W(readlink, (fuse_req_t r, fuse_ino_t i), (r, i))
W(link, (fuse_req_t r, fuse_ino_t i, fuse_ino_t p, const char *n), (r, i, p, n))
W(unlink, (fuse_req_t r, fuse_ino_t p, const char *n), (r, p, n))
W(rmdir, (fuse_req_t r, fuse_ino_t p, const char *n), (r, p, n))
W(rename, (fuse_req_t r, fuse_ino_t p, const char *n, fuse_ino_t np, const char *nn,
	   unsigned int fl), (r, p, n, np, nn, fl))
W(open, (fuse_req_t r, fuse_ino_t i, struct fuse_file_info *f), (r, i, f))
W(create, (fuse_req_t r, fuse_ino_t p, const char *n, mode_t m, struct fuse_file_info *f),
  (r, p, n, m, f))
W(read, (fuse_req_t r, fuse_ino_t i, size_t s, off_t o, struct fuse_file_info *f),
  (r, i, s, o, f))
W(write, (fuse_req_t r, fuse_ino_t i, const char *b, size_t s, off_t o,
	  struct fuse_file_info *f), (r, i, b, s, o, f))
W(flush, (fuse_req_t r, fuse_ino_t i, struct fuse_file_info *f), (r, i, f))
W(release, (fuse_req_t r, fuse_ino_t i, struct fuse_file_info *f), (r, i, f))
W(fsync, (fuse_req_t r, fuse_ino_t i, int d, struct fuse_file_info *f), (r, i, d, f))
#undef W

const struct fuse_lowlevel_ops *fs_metrics_ops(const struct fuse_lowlevel_ops *in)
{
	inner = in;
	wrapped = *in;
	/* an operation the daemon leaves out stays out: libfuse answers ENOSYS */
#define WRAP(name) if (in->name) wrapped.name = w_##name;
	FS_OPS(WRAP)
#undef WRAP
	return &wrapped;
}

/* ---- the metrics file ---- */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool running, stop;
	char *path, *tmp;
	unsigned interval;
	struct strbuf labels;
} mx = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void format_all(struct strbuf *sb, int up)
{
	const char *l = mx.labels.buf;

	strbuf_addstr(sb, "# HELP poolfs_up Whether the poolfs daemon serving the mount runs.\n"
		      "# TYPE poolfs_up gauge\n");
	strbuf_addf(sb, "poolfs_up{%s} %d\n", l, up);
	strbuf_addstr(sb, "# HELP poolfs_start_time_seconds When the mount started, "
		      "in seconds since the epoch.\n# TYPE poolfs_start_time_seconds gauge\n");
	strbuf_addf(sb, "poolfs_start_time_seconds{%s} %" PRId64 "\n", l, info.started);
	strbuf_addstr(sb, "# HELP poolfs_requests_total FUSE requests received, by operation.\n"
		      "# TYPE poolfs_requests_total counter\n");
	for (int i = 0; i < OP_NR; i++)
		strbuf_addf(sb, "poolfs_requests_total{%s,op=\"%s\"} %" PRIu64 "\n", l,
			    op_names[i], __atomic_load_n(&op_count[i], __ATOMIC_RELAXED));
	metrics_format(sb, l);
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes one snapshot: path.tmp, then renamed over path. */
static int metrics_write(int up)
{
	struct strbuf sb = STRBUF_INIT;
	int fd, err;

	format_all(&sb, up);
	/*
	 * The directory is node_exporter's, which others may write. Whatever
	 * was planted at the temporary name goes, and the file is made anew
	 * (O_EXCL): a FIFO there would block this open, and with it the
	 * start (the mount would hang unanswered) or the stop; a hard link
	 * there would have us truncate the file it names. O_EXCL follows no
	 * symbolic link either.
	 */
	if (unlink(mx.tmp) < 0 && errno != ENOENT) {
		err = -errno;
		goto out;
	}
	fd = open(mx.tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
		  0644);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	err = write_all(fd, sb.buf, sb.len);
	if (close(fd) < 0 && err == 0)
		err = -errno;
	if (err == 0 && rename(mx.tmp, mx.path) < 0)
		err = -errno;
	if (err < 0)
		unlink(mx.tmp);
out:
	strbuf_release(&sb);
	return err;
}

static void *metrics_main(void *arg)
{
	struct timespec due;
	int err, last = 0;

	pthread_mutex_lock(&mx.lock);
	while (!mx.stop) {
		clock_gettime(CLOCK_MONOTONIC, &due);
		due.tv_sec += mx.interval;
		while (!mx.stop && pthread_cond_timedwait(&mx.cond, &mx.lock, &due) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&mx.lock);
		err = metrics_write(1);
		/* said once per change of state, not every few seconds */
		if (err < 0 && err != last)
			log_err("metrics file %s: %s", mx.path, strerror(-err));
		last = err;
		pthread_mutex_lock(&mx.lock);
	}
	pthread_mutex_unlock(&mx.lock);
	return NULL;
}

int fs_metrics_start(const char *path, unsigned interval)
{
	struct strbuf tmp = STRBUF_INIT;
	pthread_condattr_t ca;
	int err;

	if (path[0] != '/') {
		fprintf(stderr, "poolfs: -o metrics=\"%s\": not an absolute path\n", path);
		return -EINVAL;
	}
	mx.path = xstrdup(path);
	strbuf_addf(&tmp, "%s.tmp", path);
	mx.tmp = strbuf_detach(&tmp, NULL);
	mx.interval = interval;
	strbuf_init(&mx.labels, 0);
	strbuf_addstr(&mx.labels, "mountpoint=\"");
	metrics_escape(&mx.labels, info.mountpoint ? info.mountpoint : "");
	strbuf_addstr(&mx.labels, "\",dept=\"");
	metrics_escape(&mx.labels, info.dept ? info.dept : "");
	strbuf_addch(&mx.labels, '"');

	/* a path that cannot be written is said at start, where the admin looks */
	err = metrics_write(1);
	if (err < 0) {
		fprintf(stderr, "poolfs: -o metrics=\"%s\": %s\n", path, strerror(-err));
		goto fail;
	}
	err = -pthread_condattr_init(&ca);
	if (err == 0)
		err = -pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (err == 0) {
		pthread_cond_destroy(&mx.cond);
		err = -pthread_cond_init(&mx.cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (err == 0)
		err = -pthread_create(&mx.thread, NULL, metrics_main, NULL);
	if (err < 0) {
		fprintf(stderr, "poolfs: metrics thread: %s\n", strerror(-err));
		goto fail;
	}
	mx.running = true;
	return 0;
fail:
	free(mx.path);
	free(mx.tmp);
	mx.path = mx.tmp = NULL;
	strbuf_release(&mx.labels);
	return err;
}

void fs_metrics_stop(void)
{
	int err;

	if (!mx.running)
		return;
	pthread_mutex_lock(&mx.lock);
	mx.stop = true;
	pthread_cond_signal(&mx.cond);
	pthread_mutex_unlock(&mx.lock);
	pthread_join(mx.thread, NULL);
	mx.running = false;
	/* the last counts, and poolfs_up 0: the file outlives the mount */
	err = metrics_write(0);
	if (err < 0)
		log_err("metrics file %s: %s", mx.path, strerror(-err));
	free(mx.path);
	free(mx.tmp);
	mx.path = mx.tmp = NULL;
	strbuf_release(&mx.labels);
}
