/*
 * fs/locks.c - advisory locks kept by the daemon, one lock space per file
 * and department.
 *
 * A space holds the locks taken on one file (its store inode, or a
 * version or snapshot of it) by callers of one department, whatever
 * kernel inode (view) they came through. A POSIX lock is a byte range
 * of an owner (the kernel's lock owner: a process's file table, or the
 * open file description of an OFD lock); a flock is the whole file, of
 * an open file description, and meets only other flocks, as on Linux.
 *
 * A request that must wait (F_SETLKW, flock without LOCK_NB) is not
 * held by a thread: the daemon's threads are a fixed pool, and a few
 * waiters would stop every department's requests. It stays on its
 * space's queue and is answered when a change there lets it in, or
 * EINTR when the kernel says its caller was interrupted (a thread looks
 * every LK_SWEEP_MS while anyone waits; libfuse's interrupt callback
 * may run while the request is being freed). No deadlock detection:
 * two owners waiting on each other wait until a signal ends one wait.
 */
#include "fs/locks.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"

#define LK_BUCKETS	256
/* locks held and waits queued per department; past it ENOLCK */
#define LK_DEPT_MAX	4096
/*
 * waits queued per department; past it ENOLCK. Each change in a space
 * looks at its waiters again after every one it lets in, against every
 * lock held there: with thousands of both, one unlock held the table
 * (and so every close on the mount, of every department) for seconds.
 */
#define LK_DEPT_WAITS	64
#define LK_SWEEP_MS	100
#define LK_EOF		((uint64_t)LLONG_MAX)	/* the kernel's OFFSET_MAX */

struct lk {
	struct lk *next;
	const struct fs_file *fh;	/* the open file description it came through */
	uint64_t owner;
	uint64_t start, end;		/* end inclusive */
	uint32_t pid;
	short type;			/* F_RDLCK or F_WRLCK; F_UNLCK in a request */
	bool flock;
};

struct lk_wait {
	struct lk_wait *next;
	fuse_req_t req;
	struct lk want;
};

struct lk_dept {
	struct lk_dept *next;
	char id[64];
	unsigned n;			/* its locks and waits, all spaces */
	unsigned waits;			/* its waits, all spaces */
};

struct lk_space {
	struct lk_space *next;
	enum fs_kind kind;
	uint64_t sino, version;
	struct lk_dept *dept;
	struct lk *held;
	struct lk_wait *waiters;	/* first come first */
};

struct fs_locks {
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* a wait queued, or the stop */
	pthread_t sweeper;
	bool stop;			/* lock */
	unsigned nwaiting;		/* lock */
	struct lk_space *buckets[LK_BUCKETS];	/* lock */
	struct lk_dept *depts;		/* lock; kept until the stop */
};

/* An answer to send once the lock is dropped. */
struct lk_reply {
	struct lk_reply *next;
	fuse_req_t req;
	int err;
};

static size_t bucket_of(enum fs_kind kind, uint64_t sino, uint64_t version)
{
	uint64_t h = sino * UINT64_C(0x9e3779b97f4a7c15) ^ version ^ (uint64_t)kind << 56;

	return (size_t)(h >> 32) % LK_BUCKETS;
}

static struct lk_dept *dept_get(struct fs_locks *lk, const char *id)
{
	struct lk_dept *d;

	for (d = lk->depts; d; d = d->next)
		if (!strcmp(d->id, id))
			return d;
	d = xcalloc(1, sizeof(*d));
	snprintf(d->id, sizeof(d->id), "%s", id);
	d->next = lk->depts;
	lk->depts = d;
	return d;
}

/* fh's space; made when create. Caller holds lk->lock. */
static struct lk_space *space_of(struct fs_locks *lk, const struct fs_file *fh, bool create)
{
	const struct fs_vkey *k = &fh->node->key;
	size_t b = bucket_of(k->kind, k->sino, k->version);
	struct lk_space *sp;

	for (sp = lk->buckets[b]; sp; sp = sp->next)
		if (sp->kind == k->kind && sp->sino == k->sino && sp->version == k->version &&
		    !strcmp(sp->dept->id, fh->who.dept))
			return sp;
	if (!create)
		return NULL;
	sp = xcalloc(1, sizeof(*sp));
	sp->kind = k->kind;
	sp->sino = k->sino;
	sp->version = k->version;
	sp->dept = dept_get(lk, fh->who.dept);
	sp->next = lk->buckets[b];
	lk->buckets[b] = sp;
	return sp;
}

/* Frees sp when nothing is left in it. Caller holds lk->lock. */
static void space_tidy(struct fs_locks *lk, struct lk_space *sp)
{
	struct lk_space **pp;

	if (sp->held || sp->waiters)
		return;
	for (pp = &lk->buckets[bucket_of(sp->kind, sp->sino, sp->version)]; *pp;
	     pp = &(*pp)->next)
		if (*pp == sp) {
			*pp = sp->next;
			free(sp);
			return;
		}
}

static bool conflicts(const struct lk *a, const struct lk *b)
{
	if (a->flock != b->flock || a->owner == b->owner)
		return false;
	if (a->end < b->start || b->end < a->start)
		return false;
	return a->type == F_WRLCK || b->type == F_WRLCK;
}

static const struct lk *first_conflict(const struct lk_space *sp, const struct lk *want)
{
	const struct lk *l;

	for (l = sp->held; l; l = l->next)
		if (conflicts(l, want))
			return l;
	return NULL;
}

/* Whether want falls inside one of its owner's locks, cutting it in two. */
static bool splits(const struct lk_space *sp, const struct lk *want)
{
	const struct lk *l;

	/* an owner's locks of one kind never overlap: at most one is cut */
	for (l = sp->held; l; l = l->next)
		if (l->owner == want->owner && l->flock == want->flock &&
		    l->start < want->start && l->end > want->end)
			return true;
	return false;
}

/*
 * Makes want's range of want's owner and kind hold want (F_UNLCK:
 * nothing), splitting the owner's locks it cuts. Conflicts are the
 * caller's to have checked. -ENOLCK, nothing changed, when the pieces
 * would pass the department's cap: an unlock that cuts a lock in two
 * too (POSIX allows it), else unlocking every other byte of one lock
 * grew the daemon without bound. An unlock that cuts none goes through.
 */
static int apply(struct lk_space *sp, const struct lk *want)
{
	struct lk **pp = &sp->held, *l, *r;

	if (sp->dept->n + (want->type != F_UNLCK) + splits(sp, want) > LK_DEPT_MAX)
		return -ENOLCK;
	while ((l = *pp)) {
		if (l->owner != want->owner || l->flock != want->flock ||
		    l->end < want->start || want->end < l->start) {
			pp = &l->next;
		} else if (l->start < want->start && l->end > want->end) {
			r = xmalloc(sizeof(*r));
			*r = *l;
			r->start = want->end + 1;
			l->end = want->start - 1;
			l->next = r;
			sp->dept->n++;
			pp = &r->next;
		} else if (l->start < want->start) {
			l->end = want->start - 1;
			pp = &l->next;
		} else if (l->end > want->end) {
			l->start = want->end + 1;
			pp = &l->next;
		} else {
			*pp = l->next;
			free(l);
			sp->dept->n--;
		}
	}
	if (want->type != F_UNLCK) {
		r = xmalloc(sizeof(*r));
		*r = *want;
		r->next = sp->held;
		sp->held = r;
		sp->dept->n++;
	}
	return 0;
}

/* Takes the wait at *pp off sp's queue; its request is to be answered err. */
static void unqueue(struct fs_locks *lk, struct lk_space *sp, struct lk_wait **pp, int err,
		    struct lk_reply **out)
{
	struct lk_wait *w = *pp;
	struct lk_reply *r = xmalloc(sizeof(*r));

	*pp = w->next;
	sp->dept->n--;
	sp->dept->waits--;
	lk->nwaiting--;
	r->req = w->req;
	r->err = err;
	r->next = *out;
	*out = r;
	free(w);
}

/* Lets in the waiters sp's last change allows, queueing their answers. */
static void wake(struct fs_locks *lk, struct lk_space *sp, struct lk_reply **out)
{
	struct lk_wait **pp = &sp->waiters;
	struct lk want;

	while (*pp) {
		if (first_conflict(sp, &(*pp)->want)) {
			pp = &(*pp)->next;
			continue;
		}
		want = (*pp)->want;
		unqueue(lk, sp, pp, 0, out);
		(*out)->err = apply(sp, &want);
		/* a new lock may block the waiters behind it: look again from the top */
		pp = &sp->waiters;
	}
}

static void send_replies(struct lk_reply *r)
{
	struct lk_reply *next;

	for (; r; r = next) {
		next = r->next;
		fuse_reply_err(r->req, -r->err);
		free(r);
	}
}

/*
 * Takes want on fh's file for req, or queues req when wait and another
 * owner's lock is in the way. Replies to req itself (now or later).
 */
static void lock_set(fuse_req_t req, const struct fs_file *fh, struct lk *want, bool wait)
{
	struct fs_locks *lk = fs_of(req)->locks;
	struct lk_reply *replies = NULL;
	struct lk_space *sp;
	struct lk_wait *w;
	int err = 0;

	pthread_mutex_lock(&lk->lock);
	sp = space_of(lk, fh, want->type != F_UNLCK);
	if (!sp)
		goto out;	/* nothing held there: an unlock has nothing to do */
	if (want->type != F_UNLCK && first_conflict(sp, want)) {
		/* a flock converted goes first, as on Linux: else two holders
		 * upgrading to LOCK_EX would wait on each other */
		if (want->flock) {
			struct lk old = *want;

			old.type = F_UNLCK;
			(void)apply(sp, &old);
			wake(lk, sp, &replies);
		}
		if (!wait) {
			err = -EAGAIN;
		} else if (sp->dept->n + 1 > LK_DEPT_MAX || sp->dept->waits >= LK_DEPT_WAITS) {
			err = -ENOLCK;
		} else {
			w = xcalloc(1, sizeof(*w));
			w->req = req;
			w->want = *want;
			for (struct lk_wait **pp = &sp->waiters;; pp = &(*pp)->next)
				if (!*pp) {
					*pp = w;
					break;
				}
			sp->dept->n++;
			sp->dept->waits++;
			lk->nwaiting++;
			pthread_cond_signal(&lk->cond);
			pthread_mutex_unlock(&lk->lock);
			send_replies(replies);
			return;
		}
	} else {
		err = apply(sp, want);
		if (err == 0)
			wake(lk, sp, &replies);
	}
	space_tidy(lk, sp);
out:
	pthread_mutex_unlock(&lk->lock);
	fuse_reply_err(req, -err);
	send_replies(replies);
}

/* Drops the locks on fh's file that owner holds (0: that came through fh). */
static void drop(struct fs *fs, const struct fs_file *fh, uint64_t owner)
{
	struct fs_locks *lk = fs->locks;
	struct lk_reply *replies = NULL;
	struct lk_space *sp;
	struct lk **pp, *l;

	if (!lk || !fh->node)
		return;
	pthread_mutex_lock(&lk->lock);
	sp = space_of(lk, fh, false);
	if (sp) {
		for (pp = &sp->held; (l = *pp);) {
			if (owner ? l->flock || l->owner != owner : l->fh != fh) {
				pp = &l->next;
				continue;
			}
			*pp = l->next;
			free(l);
			sp->dept->n--;
		}
		wake(lk, sp, &replies);
		space_tidy(lk, sp);
	}
	pthread_mutex_unlock(&lk->lock);
	send_replies(replies);
}

void fs_locks_flush(struct fs *fs, const struct fs_file *fh, uint64_t owner)
{
	drop(fs, fh, owner);
}

/*
 * An OFD lock's owner is its open file description, which no flush
 * names, and the kernel keeps no record of it to unlock at the last
 * close when the file system keeps the locks: it goes here. So does a
 * flock, and any POSIX lock left (its owner closed the file, so a flush
 * took it already).
 */
void fs_locks_release(struct fs *fs, const struct fs_file *fh)
{
	drop(fs, fh, 0);
}

/* The range the kernel sent (l_len 0: to the end, as libfuse converts it). */
static void range_of(const struct flock *fl, struct lk *l)
{
	l->start = (uint64_t)fl->l_start;
	l->end = fl->l_len == 0 ? LK_EOF : (uint64_t)(fl->l_start + fl->l_len - 1);
}

static const struct fs_file *file_of(struct fuse_file_info *fi)
{
	return (const struct fs_file *)(uintptr_t)fi->fh;
}

void fs_ll_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		 struct flock *lock)
{
	struct fs_locks *lk = fs_of(req)->locks;
	const struct fs_file *fh = file_of(fi);
	struct lk want = { .owner = fi->lock_owner, .type = lock->l_type };
	const struct lk *l = NULL;
	struct lk_space *sp;

	(void)ino;
	range_of(lock, &want);
	pthread_mutex_lock(&lk->lock);
	sp = space_of(lk, fh, false);
	if (sp && want.type != F_UNLCK)
		l = first_conflict(sp, &want);
	if (l) {
		lock->l_type = l->type;
		lock->l_whence = SEEK_SET;
		lock->l_start = (off_t)l->start;
		lock->l_len = l->end >= LK_EOF ? 0 : (off_t)(l->end - l->start + 1);
		/* a holder of the caller's own department, as the kernel would say */
		lock->l_pid = (pid_t)l->pid;
	} else {
		lock->l_type = F_UNLCK;
	}
	pthread_mutex_unlock(&lk->lock);
	fuse_reply_lock(req, lock);
}

void fs_ll_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		 struct flock *lock, int sleep)
{
	struct lk want = { .owner = fi->lock_owner, .type = lock->l_type,
			   .pid = (uint32_t)lock->l_pid };

	(void)ino;
	if (want.type != F_RDLCK && want.type != F_WRLCK && want.type != F_UNLCK) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	range_of(lock, &want);
	want.fh = file_of(fi);
	lock_set(req, want.fh, &want, sleep);
}

void fs_ll_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op)
{
	struct lk want = { .owner = fi->lock_owner, .start = 0, .end = UINT64_MAX,
			   .flock = true };

	(void)ino;
	switch (op & ~LOCK_NB) {
	case LOCK_SH:
		want.type = F_RDLCK;
		break;
	case LOCK_EX:
		want.type = F_WRLCK;
		break;
	case LOCK_UN:
		want.type = F_UNLCK;
		break;
	default:
		fuse_reply_err(req, EINVAL);
		return;
	}
	want.fh = file_of(fi);
	lock_set(req, want.fh, &want, !(op & LOCK_NB));
}

/* ---- interrupted waits ---- */

/* Takes the waiters whose callers were interrupted off their queues. */
static void sweep(struct fs_locks *lk, struct lk_reply **out)
{
	struct lk_space *sp, *next;
	struct lk_wait **pp;

	for (size_t b = 0; b < LK_BUCKETS; b++)
		for (sp = lk->buckets[b]; sp; sp = next) {
			next = sp->next;
			for (pp = &sp->waiters; *pp;) {
				if (lk->stop || fuse_req_interrupted((*pp)->req))
					unqueue(lk, sp, pp, -EINTR, out);
				else
					pp = &(*pp)->next;
			}
			space_tidy(lk, sp);
		}
}

static void *sweeper(void *arg)
{
	struct fs_locks *lk = arg;
	struct lk_reply *replies;
	struct timespec at;

	pthread_mutex_lock(&lk->lock);
	while (!lk->stop) {
		if (!lk->nwaiting) {
			pthread_cond_wait(&lk->cond, &lk->lock);
			continue;
		}
		replies = NULL;
		sweep(lk, &replies);
		pthread_mutex_unlock(&lk->lock);
		send_replies(replies);
		clock_gettime(CLOCK_REALTIME, &at);
		at.tv_nsec += LK_SWEEP_MS * 1000000L;
		if (at.tv_nsec >= 1000000000L) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&lk->lock);
		if (!lk->stop)
			pthread_cond_timedwait(&lk->cond, &lk->lock, &at);
	}
	pthread_mutex_unlock(&lk->lock);
	return NULL;
}

/*
 * A lease (F_SETLEASE) is the kernel's alone: FUSE sends no request, and
 * one is broken by any open of its kernel inode, which callers of one
 * view share across departments. Its holder (the file's owner) is told
 * of each such open and delays it by fs.lease-break-time. Only the host
 * can turn leases off; a pool mount, where departments share kernel
 * inodes, says so at start (docs/filesystem.md "Locks").
 */
static void leases_check(const struct fs *fs)
{
	char on = '0';
	int fd;

	if (fs->dept || fs->allow_all)
		return;
	fd = open("/proc/sys/fs/leases-enable", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (read(fd, &on, 1) != 1)
		on = '0';
	close(fd);
	if (on != '0')
		log_warn("file leases are on (sysctl fs.leases-enable=1): a file's owner "
			 "learns when other departments open the file and delays them "
			 "by fs.lease-break-time; set fs.leases-enable=0 on a pool host");
}

int fs_locks_start(struct fs *fs)
{
	struct fs_locks *lk = xcalloc(1, sizeof(*lk));
	int err;

	err = pthread_mutex_init(&lk->lock, NULL);
	if (err)
		goto err_out;
	err = pthread_cond_init(&lk->cond, NULL);
	if (err)
		goto err_out_mutex;
	err = pthread_create(&lk->sweeper, NULL, sweeper, lk);
	if (err)
		goto err_out_cond;
	fs->locks = lk;
	leases_check(fs);
	return 0;

err_out_cond:
	pthread_cond_destroy(&lk->cond);
err_out_mutex:
	pthread_mutex_destroy(&lk->lock);
err_out:
	free(lk);
	log_err("cannot start the lock table: %s", strerror(err));
	return -err;
}

void fs_locks_stop(struct fs *fs)
{
	struct fs_locks *lk = fs->locks;
	struct lk_reply *replies = NULL;
	struct lk_dept *d;
	struct lk *l;

	if (!lk)
		return;
	pthread_mutex_lock(&lk->lock);
	lk->stop = true;
	pthread_cond_signal(&lk->cond);
	pthread_mutex_unlock(&lk->lock);
	pthread_join(lk->sweeper, NULL);
	/* stop set: sweep() takes every waiter, and the session is still there to answer */
	sweep(lk, &replies);
	send_replies(replies);
	for (size_t b = 0; b < LK_BUCKETS; b++)
		while (lk->buckets[b]) {
			struct lk_space *sp = lk->buckets[b];

			lk->buckets[b] = sp->next;
			while ((l = sp->held)) {
				sp->held = l->next;
				free(l);
			}
			free(sp);
		}
	while ((d = lk->depts)) {
		lk->depts = d->next;
		free(d);
	}
	pthread_cond_destroy(&lk->cond);
	pthread_mutex_destroy(&lk->lock);
	free(lk);
	fs->locks = NULL;
}
