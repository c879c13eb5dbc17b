/*
 * fs/main.c - the poolfs daemon: options, start-up, the ops table.
 *
 * main() follows passthrough_ll's order: parse, open the store, session,
 * signal handlers, mount, loop, unmount, err_outN labels releasing in
 * reverse. It forks before opening the store rather than after mounting
 * (fuse_daemonize) because RocksDB's background threads do not survive
 * a fork; the parent waits for the child's start-up status and exits
 * with it, so errors still reach the terminal with the right exit code.
 *
 * Exit codes: 0 clean unmount, 1 runtime failure, 2 bad usage, store or
 * mountpoint, with one line on stderr saying what and where.
 */
#include "fs/fs.h"
#include "common/alloc.h"


#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "common/nocore.h"
#include "fs/service.h"
#include "fs/view.h"
#include "fs/access.h"
#include "fs/file.h"
#include "fs/coalesce.h"
#include "fs/heap.h"
#include "fs/locks.h"
#include "fs/loop.h"
#include "fs/control.h"
#include "fs/inode.h"
#include "fs/mountinfo.h"
#include "fs/notify.h"
#include "fs/stage.h"
#include "store/audit.h"
#include "store/limits.h"
#include "store/policy_check.h"
#include "store/crypt.h"

struct fs_opts {
	char *store;			/* the first non-option argument */
	char *dept;
	char *view_budget;		/* -o view_budget=SIZE, kept in the store */
	char *metrics;			/* -o metrics=PATH: Prometheus text file */
	unsigned metrics_interval;	/* -o metrics_interval=SECONDS */
	char *key_file;			/* -o key_file=FILE, instead of the recorded one */
	char *passphrase_file;		/* -o passphrase_file=FILE ("-": stdin) */
	unsigned read_ahead_kb;		/* -o read_ahead_kb=N (mountinfo.h) */
	int allow_all;
	int default_permissions;
};

#define FS_OPT(t, p, v) { t, offsetof(struct fs_opts, p), v }

static const struct fuse_opt fs_opt_spec[] = {
	FS_OPT("dept=%s", dept, 0),
	FS_OPT("allow_all", allow_all, 1),
	FS_OPT("view_budget=%s", view_budget, 0),
	FS_OPT("metrics=%s", metrics, 0),
	FS_OPT("metrics_interval=%u", metrics_interval, 0),
	FS_OPT("key_file=%s", key_file, 0),
	FS_OPT("passphrase_file=%s", passphrase_file, 0),
	FS_OPT("default_permissions", default_permissions, 1),
	FS_OPT("read_ahead_kb=%u", read_ahead_kb, 0),
	FUSE_OPT_END
};

static const struct fuse_lowlevel_ops fs_ops = {
	.init		= fs_ll_init,
	.destroy	= fs_ll_destroy,
	.lookup		= fs_ll_lookup,
	.forget		= fs_ll_forget,
	.forget_multi	= fs_ll_forget_multi,
	.getattr	= fs_ll_getattr,
	.setattr	= fs_ll_setattr,
	.access		= fs_ll_access,
	.statfs		= fs_ll_statfs,
	.getxattr	= fs_ll_getxattr,
	.listxattr	= fs_ll_listxattr,
	.setxattr	= fs_ll_setxattr,
	.removexattr	= fs_ll_removexattr,
	.opendir	= fs_ll_opendir,
	.readdir	= fs_ll_readdir,
	.readdirplus	= fs_ll_readdirplus,
	.releasedir	= fs_ll_releasedir,
	.fsyncdir	= fs_ll_fsyncdir,
	.mkdir		= fs_ll_mkdir,
	.mknod		= fs_ll_mknod,
	.symlink	= fs_ll_symlink,
	.readlink	= fs_ll_readlink,
	.link		= fs_ll_link,
	.unlink		= fs_ll_unlink,
	.rmdir		= fs_ll_rmdir,
	.rename		= fs_ll_rename,
	.open		= fs_ll_open,
	.create		= fs_ll_create,
	.read		= fs_ll_read,
	.write		= fs_ll_write,
	.flush		= fs_ll_flush,
	.release	= fs_ll_release,
	.fsync		= fs_ll_fsync,
	.getlk		= fs_ll_getlk,
	.setlk		= fs_ll_setlk,
	.flock		= fs_ll_flock,
};

void fs_ll_init(void *userdata, struct fuse_conn_info *conn)
{
	conn->max_write = FS_MAX_WRITE;
	/*
	 * Every write must reach the stage before close() returns, so the
	 * commit at the last writer's flush sees all of them; the kernel's
	 * write-back cache would hold them past it.
	 */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	/*
	 * No splice: content comes out of RocksDB and goes into a stage
	 * through memory buffers, so moving pages through a pipe would only
	 * add a step.
	 */
	conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	/*
	 * No FUSE_CAP_CACHE_SYMLINKS: a link moved to where it would escape
	 * the pool must be refused at its next readlink, not served cached.
	 */
	conn->want &= ~FUSE_CAP_CACHE_SYMLINKS;
}

static void commit_at_exit(struct fs *fs, struct fs_inode *n)
{
	struct strbuf path = STRBUF_INIT;
	bool committed;
	struct fs_who who;
	int err;

	memset(&who, 0, sizeof(who));
	snprintf(who.comm, sizeof(who.comm), "poolfs");
	if (fs->dept)
		snprintf(who.dept, sizeof(who.dept), "%s", fs->dept);
	if (store_path(fs->store, n->key.sino, &path) < 0)
		strbuf_addf(&path, "inode %llu", (unsigned long long)n->key.sino);
	pthread_mutex_lock(&n->lock);
	err = n->stage_err;
	if (err == 0)
		err = fs_commit_locked(fs, n, &who, "write", path.buf, 0, NULL, &committed);
	pthread_mutex_unlock(&n->lock);
	if (err < 0)
		log_err("\"%s\": changes lost at unmount: %s", path.buf, strerror(-err));
	strbuf_release(&path);
}

/*
 * Files still open when the mount goes away (a Samba or Ganesha holds
 * its clients' files across a restart) were written by someone: keep
 * it; and each session's end goes in the log, which would otherwise show
 * its open and never the bytes it read or wrote.
 */
static void at_exit(struct fs *fs, struct fs_inode *n)
{
	if (n->stage)
		commit_at_exit(fs, n);
	if (n->files)
		fs_file_each_at_exit(fs, n);
}

void fs_ll_destroy(void *userdata)
{
	fs_inode_each(userdata, at_exit);
}

/*
 * libfuse's handlers only end the loop, which then waits for the
 * requests in flight: one long commit or view build would hold the
 * daemon. Ours first tell the store to stop (store/limits.h), so such a
 * request gives up once the grace period is over.
 */
static const int stop_signals[] = { SIGHUP, SIGINT, SIGTERM };
static struct sigaction fuse_stop_sa[3];	/* libfuse's, chained to */

static void stop_handler(int sig)
{
	store_stop_request();
	for (size_t i = 0; i < 3; i++)
		if (stop_signals[i] == sig && fuse_stop_sa[i].sa_handler != SIG_DFL &&
		    fuse_stop_sa[i].sa_handler != SIG_IGN)
			fuse_stop_sa[i].sa_handler(sig);
}

static int stop_handlers_set(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stop_handler;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < 3; i++) {
		if (sigaction(stop_signals[i], NULL, &fuse_stop_sa[i]) < 0)
			return -errno;
		/* a signal ignored when we started stays ignored, as libfuse does */
		if (fuse_stop_sa[i].sa_handler == SIG_IGN)
			continue;
		if (sigaction(stop_signals[i], &sa, NULL) < 0)
			return -errno;
	}
	return 0;
}

/* Puts libfuse's handlers back, so fuse_remove_signal_handlers() finds them. */
static void stop_handlers_reset(void)
{
	struct sigaction cur;

	for (size_t i = 0; i < 3; i++)
		if (sigaction(stop_signals[i], NULL, &cur) == 0 && cur.sa_handler == stop_handler)
			sigaction(stop_signals[i], &fuse_stop_sa[i], NULL);
}

/*
 * Options that only tell mount(8), systemd or fstab readers something
 * (_netdev, noauto, nofail, x-systemd.requires=...): mount.fuse3 drops
 * most, but a unit or a script may pass them on; they mean nothing here.
 */
static bool fstab_only(const char *opt)
{
	static const char *const names[] = { "_netdev", "auto", "noauto", "nofail",
					      "defaults", "user", "nouser", "users" };

	if (!strncmp(opt, "x-", 2) || !strncmp(opt, "comment=", 8))
		return true;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(opt, names[i]))
			return true;
	return false;
}

static int fs_opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct fs_opts *o = data;

	if (key == FUSE_OPT_KEY_NONOPT && !o->store) {
		o->store = xstrdup(arg);
		return 0;
	}
	if (key == FUSE_OPT_KEY_OPT && fstab_only(arg))
		return 0;
	return 1;
}

static const char usage_line[] =
	"poolfs STORE MOUNTPOINT [-f] [-d] [-o dept=ID] [-o allow_all] "
	"[-o view_budget=SIZE] [-o key_file=FILE] [-o passphrase_file=FILE] "
	"[-o metrics=PATH] [-o metrics_interval=SECONDS] [-o max_threads=N] "
	"[-o read_ahead_kb=N] [-o FUSE options]";

/* Reads the passphrase now, before the daemon leaves the cwd and stdin. */
static int set_passphrase(const char *path)
{
	struct perr e = PERR_INIT;
	int ret = store_set_passphrase_file(path, &e);

	if (ret)
		fprintf(stderr, "poolfs: %s\n", e.msg);
	return ret;
}

/* A mountpoint that is missing, not a directory or already in use. */
static int check_mountpoint(const char *mp)
{
	struct stat st;
	char *real;
	int err = 0;

	if (stat(mp, &st) < 0) {
		if (errno == ENOTCONN)
			fprintf(stderr, "poolfs: mountpoint \"%s\": in use by a daemon that "
				"is gone (run fusermount3 -u)\n", mp);
		else
			fprintf(stderr, "poolfs: mountpoint \"%s\": %s\n", mp, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "poolfs: mountpoint \"%s\": not a directory\n", mp);
		return -1;
	}
	real = realpath(mp, NULL);
	if (!real) {
		fprintf(stderr, "poolfs: mountpoint \"%s\": %s\n", mp, strerror(errno));
		return -1;
	}
	if (fs_mount_find(real, NULL, NULL, NULL) == 0) {
		fprintf(stderr, "poolfs: mountpoint \"%s\": already in use\n", mp);
		err = -1;
	}
	free(real);
	return err;
}

/* SIZE: bytes, or a number with K, M, G or T (powers of 1024). */
static int parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	unsigned long long v;
	const char *u;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end) {
		u = strchr(units, *end);
		if (!u || end[1])
			return -1;
		for (long i = 0; i <= u - units; i++) {
			if (v > UINT64_MAX / 1024)
				return -1;
			v *= 1024;
		}
	}
	*out = v;
	return 0;
}

static int check_dept(const char *dept)
{
	size_t len = strlen(dept);

	if (len == 0 || len >= sizeof(((struct fs_who *)0)->dept) ||
	    strspn(dept, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789_-.") != len) {
		fprintf(stderr, "poolfs: -o dept=\"%s\": not a department id\n", dept);
		return -1;
	}
	return 0;
}

/*
 * Forks the daemon. The parent waits for the child's start-up status
 * and exits with it; the child gets the pipe to report on.
 */
static int daemon_fork(void)
{
	unsigned char status = 1;
	int fds[2];
	ssize_t r;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		perror("poolfs: pipe");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		perror("poolfs: fork");
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid > 0) {
		close(fds[1]);
		do
			r = read(fds[0], &status, 1);
		while (r < 0 && errno == EINTR);
		_exit(r == 1 ? status : 1);
	}
	close(fds[0]);
	if (setsid() < 0)
		perror("poolfs: setsid");
	return fds[1];
}

static void daemon_report(int *fd, int status)
{
	unsigned char c = (unsigned char)status;

	if (*fd < 0)
		return;
	if (write(*fd, &c, 1) != 1)
		log_warn("cannot report start-up to the parent: %s", strerror(errno));
	close(*fd);
	*fd = -1;
}

/*
 * Mounts started and stopped are admin actions: recorded as the user who
 * ran poolfs. A mount whose start cannot be recorded does not serve.
 */
static int audit_mount(struct fs *fs, const char *op, const char *mountpoint)
{
	struct fs_who w = { getuid(), getgid(), (uint32_t)getpid(), "poolfs", "", "" };
	char reason[512];
	struct audit_rec r;

	snprintf(reason, sizeof(reason), "mountpoint %s%s%s%s", mountpoint,
		 fs->dept ? ", department " : "", fs->dept ? fs->dept : "",
		 fs->allow_all ? ", allow_all" : "");
	fs_audit_rec(&r, &w, op, "/", 0, NULL);
	r.reason = reason;
	if (audit_append(fs->store, &r) < 0) {
		log_err("%s: cannot write the audit record of the %s", mountpoint, op);
		return -EIO;
	}
	return 0;
}

static void daemon_detach(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (chdir("/") < 0)
		log_warn("chdir /: %s", strerror(errno));
	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

static int fs_init(struct fs *fs, const struct fs_opts *o)
{
	int err;

	memset(fs, 0, sizeof(*fs));
	fs->dept = o->dept;
	fs->allow_all = o->allow_all;
	err = pthread_mutex_init(&fs->policy_lock, NULL);
	if (err)
		return -err;
	err = fs_table_init(fs);
	if (err < 0)
		pthread_mutex_destroy(&fs->policy_lock);
	return err;
}

static void fs_release(struct fs *fs)
{
	fs_table_release(fs);
	pthread_mutex_destroy(&fs->policy_lock);
}

/* Mount options every poolfs gets: reachable by all, named after its store. */
static int add_mount_opts(struct fuse_args *args, const char *store)
{
	struct strbuf sb = STRBUF_INIT;
	char *escaped = NULL;
	int err;

	err = fuse_opt_add_opt_escaped(&escaped, store);
	if (err == 0) {
		strbuf_addf(&sb, "-oallow_other,subtype=poolfs,fsname=%s", escaped);
		err = fuse_opt_add_arg(args, sb.buf);
	}
	free(escaped);
	strbuf_release(&sb);
	return err;
}

/*
 * RocksDB allocates each memtable in 8 MiB blocks and frees them after
 * the flush. glibc would hand those back to the kernel (munmap, or a
 * trim of the heap top) and fault fresh zeroed pages in for the next
 * memtable: about a tenth of the daemon's CPU in a large write went to
 * those page faults. With these, freed blocks stay in the heap for the next
 * memtable; what is kept is bounded by what was in use before, per arena.
 * So the arenas are few: glibc gives each new thread an arena of its own
 * up to 8 per core, and the FUSE workers that come and go spread memtable
 * and block cache allocations over all of them, each keeping its own
 * peak. A 4-minute soak had 16 arenas holding 167 MiB of heap for
 * 35-97 MiB in use, and RSS grew with it through a 10-minute soak;
 * with 2 arenas the heap stays near the peak in use (docs/storage.md).
 */
#define MALLOC_ARENAS	2

static void malloc_keep(void)
{
	/* a hint: an allocator that ignores it (a sanitizer's) costs speed only */
	if (!mallopt(M_MMAP_THRESHOLD, 32 << 20) || !mallopt(M_TRIM_THRESHOLD, 256 << 20))
		log_debug("mallopt refused: memtables will fault their pages in again");
	if (!mallopt(M_ARENA_MAX, MALLOC_ARENAS))
		log_debug("mallopt refused: one heap arena per thread, RSS follows the threads");
}

/*
 * Transparent huge pages for the heap. A large write grows the memtable
 * and the commit's batch into memory never touched before, and in this
 * VM each 4 KiB page costs a fault of 30-50 us: the commit of a 1 GiB
 * file took ~2 000 of them, in its serial tail. With THP in "madvise"
 * mode (Debian's default) glibc advises its heap for huge pages only when
 * the tunable glibc.malloc.hugetlb=1 is set, and tunables are read at
 * process start: so poolfs sets it and executes itself again, once. A
 * GLIBC_TUNABLES the caller set is left alone, ours is taken out of the
 * environment again after the exec, and an exec that fails runs on.
 */
#define HEAP_TUNABLES	"glibc.malloc.hugetlb=1"

static void malloc_huge(char *argv[])
{
	const char *t = getenv("GLIBC_TUNABLES");
	char self[PATH_MAX];
	ssize_t n;

	if (t) {
		if (!strcmp(t, HEAP_TUNABLES))
			unsetenv("GLIBC_TUNABLES");
		return;
	}
	/* setuid or the like: glibc drops GLIBC_TUNABLES, and the exec would loop */
	if (getauxval(AT_SECURE))
		return;
	/* by its own name: executed as /proc/self/exe its comm would be "exe" */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || (size_t)n >= sizeof(self) - 1)
		return;
	self[n] = '\0';
	if (setenv("GLIBC_TUNABLES", HEAP_TUNABLES, 1))
		return;
	execv(self, argv);
	log_debug("cannot execute itself again (%s): the heap keeps 4 KiB pages", strerror(errno));
	unsetenv("GLIBC_TUNABLES");
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts copts;
	struct fuse_loop_config *loop;
	struct perr e = PERR_INIT;
	uint64_t view_budget = 0;
	struct fuse_session *se;
	struct fs_opts o;
	struct fs fs;
	char *store = NULL, *mnt_real = NULL;
	int status_fd = -1;
	int ret = 2, err;

	malloc_huge(argv);
	/* after the exec, which makes the image dumpable again */
	if (nocore())
		goto out;
	malloc_keep();
	memset(&o, 0, sizeof(o));
	o.metrics_interval = 5;
	o.read_ahead_kb = FS_READ_AHEAD_KB;
	memset(&copts, 0, sizeof(copts));
	if (fuse_opt_parse(&args, &o, fs_opt_spec, fs_opt_proc) == -1 ||
	    fuse_parse_cmdline(&args, &copts) != 0)
		goto out;
	if (copts.show_help) {
		printf("usage: %s\n\n", usage_line);
		fuse_cmdline_help();
		fuse_lowlevel_help();
		ret = 0;
		goto out;
	}
	if (copts.show_version) {
		printf("poolfs, libfuse %s\n", fuse_pkgversion());
		ret = 0;
		goto out;
	}
	if (!o.store || !copts.mountpoint) {
		fprintf(stderr, "poolfs: missing %s (usage: %s)\n",
			o.store ? "MOUNTPOINT" : "STORE and MOUNTPOINT", usage_line);
		goto out;
	}
	if (o.default_permissions) {
		fprintf(stderr, "poolfs: -o default_permissions: not supported, poolfs "
			"does its own access control\n");
		goto out;
	}
	if ((o.dept && check_dept(o.dept) < 0) || check_mountpoint(copts.mountpoint) < 0)
		goto out;
	if (o.view_budget && parse_size(o.view_budget, &view_budget) < 0) {
		fprintf(stderr, "poolfs: -o view_budget=\"%s\": not a size (bytes, or a "
			"number with K, M, G or T)\n", o.view_budget);
		goto out;
	}
	if (o.metrics && o.metrics[0] != '/') {
		fprintf(stderr, "poolfs: -o metrics=\"%s\": not an absolute path\n", o.metrics);
		goto out;
	}
	if (o.metrics_interval < 1 || o.metrics_interval > 3600) {
		fprintf(stderr, "poolfs: -o metrics_interval=%u: not between 1 and 3600\n",
			o.metrics_interval);
		goto out;
	}
	if (o.read_ahead_kb > 65536) {
		fprintf(stderr, "poolfs: -o read_ahead_kb=%u: more than 65536 (64 MiB)\n",
			o.read_ahead_kb);
		goto out;
	}
	/* RocksDB keeps relative paths, and the daemon leaves the cwd */
	store = realpath(o.store, NULL);
	if (!store) {
		fprintf(stderr, "poolfs: store \"%s\": %s\n", o.store, strerror(errno));
		goto out;
	}
	mnt_real = realpath(copts.mountpoint, NULL);
	if (!mnt_real) {
		fprintf(stderr, "poolfs: mountpoint \"%s\": %s\n", copts.mountpoint,
			strerror(errno));
		goto out;
	}
	if (o.key_file) {
		/* the daemon leaves the cwd before the store opens */
		char *abs = realpath(o.key_file, NULL);

		store_set_key_file(abs ? abs : o.key_file);
		free(abs);
	}
	if (o.passphrase_file && set_passphrase(o.passphrase_file))
		goto out;
	if (add_mount_opts(&args, store) != 0)
		goto out;
	if (copts.debug)
		log_set_level(LOG_LVL_DEBUG);
	ret = 1;
	if (!copts.foreground && (status_fd = daemon_fork()) < 0)
		goto out;
	if (fs_init(&fs, &o) < 0)
		goto out;

	err = store_open(store, 0, &fs.store, &e);
	if (err < 0) {
		fprintf(stderr, "poolfs: store \"%s\": not serving: %s\n", o.store,
			perr_msg(&e, -err));
		ret = 2;
		fs_release(&fs);
		goto out;
	}
	/* a key given is the operator saying the pool is encrypted: a plain one is forged */
	if (store_key_given()) {
		struct store_crypto_info ci;

		store_crypto_info(fs.store, &ci);
		if (ci.cipher == CRYPT_PLAIN) {
			fprintf(stderr, "poolfs: store \"%s\": not serving: a key was given "
				"(key_file or passphrase_file) but the pool is not encrypted: "
				"its meta was edited, or the wrong store was named\n", o.store);
			ret = 2;
			goto err_out2;
		}
	}
	/* fail closed: never serve a policy older or newer than the log applied */
	err = store_policy_check(fs.store, &e);
	if (err < 0) {
		fprintf(stderr, "poolfs: store \"%s\": not serving: %s\n", o.store,
			perr_msg(&e, -err));
		ret = 2;
		goto err_out2;
	}
	/* kept in the store: later mounts and poolctl stats see the same budget */
	if (o.view_budget) {
		err = store_view_set_budget(fs.store, view_budget);
		if (err < 0) {
			fprintf(stderr, "poolfs: -o view_budget: cannot keep it in the store: %s\n",
				strerror(-err));
			goto err_out2;
		}
	}
	err = fs_ino_key_init(&fs);
	if (err < 0) {
		fprintf(stderr, "poolfs: store \"%s\": cannot read its secret: %s\n", o.store,
			strerror(-err));
		goto err_out2;
	}
	fs_policy_load(&fs);
	se = fuse_session_new(&args, fs_metrics_ops(&fs_ops), sizeof(fs_ops), &fs);
	if (!se)
		goto err_out2;
	fs.se = se;
	if (fs_locks_start(&fs) < 0 || fuse_set_signal_handlers(se) != 0)
		goto err_out3;
	if (stop_handlers_set() < 0 || fuse_session_mount(se, copts.mountpoint) != 0)
		goto err_out4;
	if (fs_notify_start(&fs) < 0)
		goto err_out5;
	if (fs_views_start(&fs) < 0)
		goto err_out6;
	if (fs_coalesce_start(&fs) < 0)
		goto err_out_views;
	fs_service_set_info(mnt_real, &fs, o.metrics);
	if (fs_control_start(&fs) < 0)
		goto err_out_coalesce;
	if (o.metrics && fs_metrics_start(o.metrics, o.metrics_interval) < 0) {
		ret = 2;
		goto err_out7;
	}
	if (audit_mount(&fs, "mount", copts.mountpoint) < 0)
		goto err_out_metrics;
	if (status_fd >= 0) {
		daemon_detach();
		daemon_report(&status_fd, 0);
	}
	fs_service_notify("READY=1");
	fs_readahead_init(mnt_real, o.read_ahead_kb);
	fs_heap_start();

	loop = fuse_loop_cfg_create();
	if (!loop)
		goto err_out_metrics;
	fuse_loop_cfg_set_clone_fd(loop, copts.clone_fd);
	/* unset (-1) keeps libfuse's defaults */
	if (copts.max_idle_threads != UINT_MAX)
		fuse_loop_cfg_set_idle_threads(loop, copts.max_idle_threads);
	if (copts.max_threads != UINT_MAX)
		fuse_loop_cfg_set_max_threads(loop, copts.max_threads);
	/* ours receives into buffers a sequential write hands its chunk pipe (fs/loop.c) */
	if (copts.singlethread)
		err = fuse_session_loop(se);
	else if (copts.clone_fd)
		err = fuse_session_loop_mt(se, loop);
	else
		err = fs_loop_run(se, copts.max_threads != UINT_MAX ? copts.max_threads :
				  FS_LOOP_THREADS);
	/* a positive value is the signal that ended the loop: a clean stop */
	ret = err < 0 ? 1 : 0;
	fuse_loop_cfg_destroy(loop);
	fs_readahead_init(NULL, 0);
	fs_heap_stop();
	fs_service_notify("STOPPING=1");
	/* no reader of the log may flush the coalescer while it goes */
	fs_control_stop(&fs);
	/* the last second's coalesced records come before the unmount's */
	fs_coalesce_stop(&fs);
	audit_mount(&fs, "unmount", copts.mountpoint);
err_out_metrics:
	/* after the unmount record: the last snapshot counts it */
	fs_metrics_stop();
err_out7:
	fs_control_stop(&fs);
err_out_coalesce:
	fs_coalesce_stop(&fs);
err_out_views:
	fs_views_stop(&fs);
err_out6:
	fs_notify_stop(&fs);
err_out5:
	fuse_session_unmount(se);
err_out4:
	stop_handlers_reset();
	fuse_remove_signal_handlers(se);
err_out3:
	/* waiting lock requests are answered while the session can still take it */
	fs_locks_stop(&fs);
	fuse_session_destroy(se);
err_out2:
	if (fs.policy)
		policy_put(fs.policy);
	/* stages and orphans left in the inode table use the store: they go first */
	fs_release(&fs);
	store_close(fs.store);
out:
	daemon_report(&status_fd, ret);
	free(store);
	free(mnt_real);
	free(o.store);
	free(o.metrics);
	free(o.dept);
	free(o.view_budget);
	free(o.key_file);
	free(o.passphrase_file);
	free(copts.mountpoint);
	fuse_opt_free_args(&args);
	return ret;
}
