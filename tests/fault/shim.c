/*
 * tests/fault/shim.c - an LD_PRELOAD library that makes the disk under a
 * pool fail: the Nth call of one kind on a file under FAULT_DIR gets an
 * error or a short transfer. Built for tests only (build/tests/libfaultfs.so,
 * never installed); tests/mount/t_faults.sh drives it.
 *
 *   FAULT_DIR=PATH      only files opened below PATH count (fds are tracked
 *                       from open to close; renames by path)
 *   FAULT_MATCH=TEXT    and only those whose path contains TEXT
 *   FAULT_OP=KIND       open | read | write | fsync | ftruncate | fallocate | rename
 *   FAULT_NTH=N         the Nth call of KIND (1-based) fails; 0 counts only
 *   FAULT_ERRNO=E       EIO (default) | ENOSPC | EDQUOT | SHORT (read/write
 *                       move half the bytes, at least one)
 *   FAULT_MODE=M        once (default) | sticky (every call from the Nth on)
 *   FAULT_CLEAR=PATH    while PATH exists nothing fails or counts (the fault
 *                       cleared)
 *   FAULT_LOG=PATH      one line per injected fault (the first 50 per
 *                       process) and the counts of every kind at exit
 *
 * The kinds are what RocksDB 7 and the store call (strace -f of a commit):
 * write()/pwrite() for the WAL, blob, table and journal files (the
 * journal's pwritev2(RWF_DSYNC) is a write and then an fsync), fdatasync()
 * and fsync() for files and directories, fallocate() and ftruncate() on
 * WAL and MANIFEST, rename() for CURRENT and OPTIONS, pread() for tables,
 * fread_unlocked() when replaying the WAL and MANIFEST at open.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum kind { K_OPEN, K_READ, K_WRITE, K_FSYNC, K_FTRUNCATE, K_FALLOCATE, K_RENAME, K_COUNT };

static const char *const kind_names[K_COUNT] = {
	"open", "read", "write", "fsync", "ftruncate", "fallocate", "rename",
};

#define MAX_FD		65536
#define MAX_LOGGED	50
#define SHORT_IO	(-1)

static char dir[PATH_MAX];
static size_t dirlen;
static char rdir[PATH_MAX];	/* FAULT_DIR with symlinks resolved */
static size_t rdirlen;
static const char *match;
static const char *clear_path;
static const char *log_path;
static int target = -1;
static long nth;
static int inject_err = EIO;
static int sticky;
static _Atomic long counts[K_COUNT];
static _Atomic long logged;
static _Atomic unsigned char tracked[MAX_FD];

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static FILE *(*real_fopen)(const char *, const char *);
static FILE *(*real_fopen64)(const char *, const char *);
static int (*real_fclose)(FILE *);
static int (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev64)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev2)(int, const struct iovec *, int, off_t, int);
static ssize_t (*real_pwritev64v2)(int, const struct iovec *, int, off_t, int);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_pread)(int, void *, size_t, off_t);
static ssize_t (*real_pread64)(int, void *, size_t, off_t);
static size_t (*real_fread)(void *, size_t, size_t, FILE *);
static size_t (*real_fread_unlocked)(void *, size_t, size_t, FILE *);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off_t);
static int (*real_fallocate)(int, int, off_t, off_t);
static int (*real_fallocate64)(int, int, off_t, off_t);
static int (*real_posix_fallocate)(int, off_t, off_t);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);

#define RESOLVE(name) (real_##name = (__typeof__(real_##name))dlsym(RTLD_NEXT, #name))

static int parse_errno(const char *s)
{
	if (!s || !*s || !strcmp(s, "EIO"))
		return EIO;
	if (!strcmp(s, "ENOSPC"))
		return ENOSPC;
	if (!strcmp(s, "EDQUOT"))
		return EDQUOT;
	if (!strcmp(s, "SHORT"))
		return SHORT_IO;
	return EIO;
}

__attribute__((constructor)) static void shim_init(void)
{
	const char *d = getenv("FAULT_DIR"), *op = getenv("FAULT_OP"), *m;

	RESOLVE(open); RESOLVE(open64); RESOLVE(openat); RESOLVE(openat64);
	RESOLVE(fopen); RESOLVE(fopen64); RESOLVE(fclose); RESOLVE(close);
	RESOLVE(write); RESOLVE(pwrite); RESOLVE(pwrite64); RESOLVE(writev);
	RESOLVE(pwritev); RESOLVE(pwritev64); RESOLVE(pwritev2); RESOLVE(pwritev64v2);
	RESOLVE(read); RESOLVE(pread); RESOLVE(pread64); RESOLVE(fread);
	RESOLVE(fread_unlocked);
	RESOLVE(fsync); RESOLVE(fdatasync); RESOLVE(ftruncate); RESOLVE(ftruncate64);
	RESOLVE(fallocate); RESOLVE(fallocate64); RESOLVE(posix_fallocate);
	RESOLVE(rename); RESOLVE(renameat);

	if (!d || !*d || strlen(d) >= sizeof(dir))
		return;
	dirlen = strlen(d);
	memcpy(dir, d, dirlen + 1);
	while (dirlen > 1 && dir[dirlen - 1] == '/')
		dir[--dirlen] = '\0';
	if (realpath(dir, rdir))
		rdirlen = strlen(rdir);
	match = getenv("FAULT_MATCH");
	if (match && !*match)
		match = NULL;
	clear_path = getenv("FAULT_CLEAR");
	log_path = getenv("FAULT_LOG");
	for (int k = 0; op && k < K_COUNT; k++)
		if (!strcmp(op, kind_names[k]))
			target = k;
	m = getenv("FAULT_NTH");
	nth = m ? strtol(m, NULL, 10) : 0;
	inject_err = parse_errno(getenv("FAULT_ERRNO"));
	m = getenv("FAULT_MODE");
	sticky = m && !strcmp(m, "sticky");
}

/* Appends one line to FAULT_LOG with the real calls, keeping errno. */
static void log_line(const char *fmt, ...)
{
	int saved = errno, fd;
	char buf[PATH_MAX + 256];
	va_list ap;
	int n;

	if (!log_path || !real_open)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		goto out;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	fd = real_open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (real_write(fd, buf, (size_t)n) < 0) {
			/* the log is best effort */
		}
		real_close(fd);
	}
out:
	errno = saved;
}

__attribute__((destructor)) static void shim_fini(void)
{
	if (!dirlen)
		return;
	log_line("counts pid=%d open=%ld read=%ld write=%ld fsync=%ld ftruncate=%ld fallocate=%ld rename=%ld\n",
		 (int)getpid(), counts[K_OPEN], counts[K_READ], counts[K_WRITE], counts[K_FSYNC],
		 counts[K_FTRUNCATE], counts[K_FALLOCATE], counts[K_RENAME]);
}

static char *fd_name(int fd, char *buf, size_t len);

static bool under(const char *p, const char *base, size_t len)
{
	return len && !strncmp(p, base, len) && (p[len] == '/' || p[len] == '\0');
}

/*
 * What the shim makes of path (relative to dirfd): IN_DIR when it is under
 * FAULT_DIR, WATCHED when FAULT_MATCH matches its whole path too, else 0.
 * An fd keeps the answer for its open (tracked[]).
 */
enum { IN_DIR = 1, WATCHED = 2 };

static int watched(int dirfd, const char *path)
{
	char full[PATH_MAX];
	size_t dl;

	if (!dirlen || !path)
		return 0;
	if (path[0] == '/') {
		snprintf(full, sizeof(full), "%s", path);
	} else if (dirfd != AT_FDCWD) {
		if (dirfd < 0 || dirfd >= MAX_FD || !tracked[dirfd])
			return 0;
		fd_name(dirfd, full, sizeof(full));
		dl = strlen(full);
		snprintf(full + dl, sizeof(full) - dl, "/%s", path);
		return !match || strstr(full, match) ? WATCHED : IN_DIR;
	} else {
		if (!getcwd(full, sizeof(full)))
			return 0;
		dl = strlen(full);
		snprintf(full + dl, sizeof(full) - dl, "/%s", path);
	}
	if (!under(full, dir, dirlen) && !under(full, rdir, rdirlen))
		return 0;
	return !match || strstr(full, match) ? WATCHED : IN_DIR;
}

static bool fd_watched(int fd)
{
	return fd >= 0 && fd < MAX_FD && tracked[fd] == WATCHED;
}

static void track(int fd, int how)
{
	if (fd >= 0 && fd < MAX_FD)
		tracked[fd] = (unsigned char)how;
}

/*
 * Counts a call of kind k on a watched file and says what to do: 0 run
 * it, an errno to fail it with, or SHORT_IO.
 */
static int decide(enum kind k, const char *what, int fd)
{
	char nb[PATH_MAX];

	int saved = errno;
	bool cleared = clear_path && access(clear_path, F_OK) == 0;
	long n;

	errno = saved;
	/* calls after the fault cleared are not counted: counts say where faults can go */
	if (cleared)
		return 0;
	n = atomic_fetch_add(&counts[k], 1) + 1;
	if ((int)k != target || nth <= 0 || n < nth || (n > nth && !sticky))
		return 0;
	if (atomic_fetch_add(&logged, 1) < MAX_LOGGED)
		log_line("fault pid=%d op=%s n=%ld err=%s what=%s\n", (int)getpid(),
			 kind_names[k], n, inject_err == SHORT_IO ? "SHORT" : strerror(inject_err),
			 what ? what : fd_name(fd, nb, sizeof(nb)));
	return inject_err;
}

/* For kinds where a short transfer means nothing, SHORT becomes EIO. */
static int fail_with(int r)
{
	errno = r == SHORT_IO ? EIO : r;
	return -1;
}

static char *fd_name(int fd, char *buf, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

#define FD_DECIDE(k, fd) (fd_watched(fd) ? decide(k, NULL, fd) : 0)

static size_t half(size_t len)
{
	return len > 1 ? len / 2 : len;
}

/* ---- open and close ---- */

static int do_open(int (*fn)(int, const char *, int, ...), int dirfd, const char *path,
		   int flags, mode_t mode)
{
	int w = watched(dirfd, path);
	int r = w == WATCHED ? decide(K_OPEN, path, -1) : 0, fd;

	if (r)
		return fail_with(r);
	fd = fn(dirfd, path, flags, mode);
	if (fd >= 0)
		track(fd, w);
	return fd;
}

static int open_at_cwd(int (*fn)(const char *, int, ...), const char *path, int flags, mode_t mode)
{
	int w = watched(AT_FDCWD, path);
	int r = w == WATCHED ? decide(K_OPEN, path, -1) : 0, fd;

	if (r)
		return fail_with(r);
	fd = fn(path, flags, mode);
	if (fd >= 0)
		track(fd, w);
	return fd;
}

#define MODE_ARG(flags) \
	({ mode_t m_ = 0; if ((flags) & (O_CREAT | O_TMPFILE)) { va_list ap_; va_start(ap_, flags); \
	   m_ = (mode_t)va_arg(ap_, int); va_end(ap_); } m_; })

int open(const char *path, int flags, ...)
{
	return open_at_cwd(real_open, path, flags, MODE_ARG(flags));
}

int open64(const char *path, int flags, ...)
{
	return open_at_cwd(real_open64, path, flags, MODE_ARG(flags));
}

int openat(int dirfd, const char *path, int flags, ...)
{
	return do_open(real_openat, dirfd, path, flags, MODE_ARG(flags));
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	return do_open(real_openat64, dirfd, path, flags, MODE_ARG(flags));
}

static FILE *do_fopen(FILE *(*fn)(const char *, const char *), const char *path, const char *m)
{
	int w = watched(AT_FDCWD, path);
	int r = w == WATCHED ? decide(K_OPEN, path, -1) : 0;
	FILE *f;

	if (r) {
		fail_with(r);
		return NULL;
	}
	f = fn(path, m);
	if (f)
		track(fileno(f), w);
	return f;
}

FILE *fopen(const char *path, const char *m)
{
	return do_fopen(real_fopen, path, m);
}

FILE *fopen64(const char *path, const char *m)
{
	return do_fopen(real_fopen64, path, m);
}

int fclose(FILE *f)
{
	if (f)
		track(fileno(f), 0);
	return real_fclose(f);
}

int close(int fd)
{
	track(fd, 0);
	return real_close(fd);
}

/* ---- writes ---- */

static ssize_t do_pwrite(ssize_t (*fn)(int, const void *, size_t, off_t), int fd,
			 const void *buf, size_t len, off_t off)
{
	int r = FD_DECIDE(K_WRITE, fd);

	if (r == SHORT_IO)
		len = half(len);
	else if (r)
		return fail_with(r);
	return fn(fd, buf, len, off);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	int r = FD_DECIDE(K_WRITE, fd);

	if (r == SHORT_IO)
		len = half(len);
	else if (r)
		return fail_with(r);
	return real_write(fd, buf, len);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	return do_pwrite(real_pwrite, fd, buf, len, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	return do_pwrite(real_pwrite64, fd, buf, len, off);
}

/* A short vector write: the first iovec, halved. */
static int short_iov(const struct iovec *iov, int cnt, struct iovec *one)
{
	if (cnt <= 0)
		return cnt;
	*one = iov[0];
	one->iov_len = half(one->iov_len);
	return 1;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	int r = FD_DECIDE(K_WRITE, fd);
	struct iovec one;

	if (r == SHORT_IO)
		return real_writev(fd, &one, short_iov(iov, cnt, &one));
	if (r)
		return fail_with(r);
	return real_writev(fd, iov, cnt);
}

static ssize_t do_pwritev(ssize_t (*fn)(int, const struct iovec *, int, off_t), int fd,
			  const struct iovec *iov, int cnt, off_t off)
{
	int r = FD_DECIDE(K_WRITE, fd);
	struct iovec one;

	if (r == SHORT_IO)
		return fn(fd, &one, short_iov(iov, cnt, &one), off);
	if (r)
		return fail_with(r);
	return fn(fd, iov, cnt, off);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return do_pwritev(real_pwritev, fd, iov, cnt, off);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return do_pwritev(real_pwritev64, fd, iov, cnt, off);
}

/* RWF_DSYNC writes and syncs: a failed sync still leaves the bytes written */
static ssize_t do_pwritev2(ssize_t (*fn)(int, const struct iovec *, int, off_t, int), int fd,
			   const struct iovec *iov, int cnt, off_t off, int flags)
{
	int r = FD_DECIDE(K_WRITE, fd);
	struct iovec one;
	ssize_t n;

	if (r == SHORT_IO) {
		cnt = short_iov(iov, cnt, &one);
		iov = &one;
	} else if (r) {
		return fail_with(r);
	}
	if (!(flags & RWF_DSYNC))
		return fn(fd, iov, cnt, off, flags);
	r = FD_DECIDE(K_FSYNC, fd);
	if (!r)
		return fn(fd, iov, cnt, off, flags);
	n = fn(fd, iov, cnt, off, flags & ~RWF_DSYNC);
	return n < 0 ? n : fail_with(r);
}

ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	return do_pwritev2(real_pwritev2, fd, iov, cnt, off, flags);
}

/* what pwritev2() is with -D_FILE_OFFSET_BITS=64, as the store is built */
ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	return do_pwritev2(real_pwritev64v2, fd, iov, cnt, off, flags);
}

/* ---- reads ---- */

ssize_t read(int fd, void *buf, size_t len)
{
	int r = FD_DECIDE(K_READ, fd);

	if (r == SHORT_IO)
		len = half(len);
	else if (r)
		return fail_with(r);
	return real_read(fd, buf, len);
}

static ssize_t do_pread(ssize_t (*fn)(int, void *, size_t, off_t), int fd, void *buf,
			size_t len, off_t off)
{
	int r = FD_DECIDE(K_READ, fd);

	if (r == SHORT_IO)
		len = half(len);
	else if (r)
		return fail_with(r);
	return fn(fd, buf, len, off);
}

ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
	return do_pread(real_pread, fd, buf, len, off);
}

ssize_t pread64(int fd, void *buf, size_t len, off_t off)
{
	return do_pread(real_pread64, fd, buf, len, off);
}

/* stdio: a failed read sets the stream's error flag, as a real one would */
static size_t do_fread(size_t (*fn)(void *, size_t, size_t, FILE *), void *buf, size_t size,
		       size_t n, FILE *f)
{
	int r = f ? FD_DECIDE(K_READ, fileno(f)) : 0;

	if (r == SHORT_IO)
		n = half(n);
	else if (r) {
		/* neither EOF nor the error flag: RocksDB's reader takes that as an error */
		errno = r;
		return 0;
	}
	return fn(buf, size, n, f);
}

size_t fread(void *buf, size_t size, size_t n, FILE *f)
{
	return do_fread(real_fread, buf, size, n, f);
}

size_t (fread_unlocked)(void *buf, size_t size, size_t n, FILE *f)
{
	return do_fread(real_fread_unlocked, buf, size, n, f);
}

/* ---- syncs, sizes, renames ---- */

int fsync(int fd)
{
	int r = FD_DECIDE(K_FSYNC, fd);

	return r ? fail_with(r) : real_fsync(fd);
}

int fdatasync(int fd)
{
	int r = FD_DECIDE(K_FSYNC, fd);

	return r ? fail_with(r) : real_fdatasync(fd);
}

int ftruncate(int fd, off_t len)
{
	int r = FD_DECIDE(K_FTRUNCATE, fd);

	return r ? fail_with(r) : real_ftruncate(fd, len);
}

int ftruncate64(int fd, off_t len)
{
	int r = FD_DECIDE(K_FTRUNCATE, fd);

	return r ? fail_with(r) : real_ftruncate64(fd, len);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	int r = FD_DECIDE(K_FALLOCATE, fd);

	return r ? fail_with(r) : real_fallocate(fd, mode, off, len);
}

int fallocate64(int fd, int mode, off_t off, off_t len)
{
	int r = FD_DECIDE(K_FALLOCATE, fd);

	return r ? fail_with(r) : real_fallocate64(fd, mode, off, len);
}

/* posix_fallocate returns the error instead of setting errno */
int posix_fallocate(int fd, off_t off, off_t len)
{
	int r = FD_DECIDE(K_FALLOCATE, fd);

	return r ? (r == SHORT_IO ? EIO : r) : real_posix_fallocate(fd, off, len);
}

int rename(const char *from, const char *to)
{
	int r = watched(AT_FDCWD, from) == WATCHED || watched(AT_FDCWD, to) == WATCHED ?
		decide(K_RENAME, to, -1) : 0;

	return r ? fail_with(r) : real_rename(from, to);
}

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
	int r = watched(fromfd, from) == WATCHED || watched(tofd, to) == WATCHED ?
		decide(K_RENAME, to, -1) : 0;

	return r ? fail_with(r) : real_renameat(fromfd, from, tofd, to);
}
