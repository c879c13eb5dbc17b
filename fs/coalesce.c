/*
 * fs/coalesce.c - audit records of metadata reads and of denials,
 * coalesced.
 *
 * `ls -l`, stat loops and a caller hammering a name it may not see ask
 * one question many times a second. Each of them is recorded, but the
 * repeats of one key (uid, gid, department, user, op, path, result and
 * the decision: code, grant, view, reason) within one second of the wall
 * clock become one record whose "count" says how many there were, so
 * the counts summed over the log are the exact number of operations. The
 * pid and process name are those of the first.
 *
 * A thread of its own writes a second's records once it is over, all in
 * one synced write (audit_append_many), and the rest at unmount, before
 * the unmount's record; a reader of the log (audit query, export,
 * verify through the daemon) has them written first. The reply does not
 * wait for them: a crash loses at most the records of the last second or
 * two of these operations.
 * Operations that read, write or list data are never coalesced; their
 * records stay durable before the reply (docs/audit.md).
 *
 * A caller refused on many different names (a user in no department
 * asking for random paths) would still make one record per name. Past
 * CO_NAMES refused names of one caller (uid and gid) in a second, the
 * rest are counted under one record per key with the path left out and
 * the reason saying so: the log grows by a bounded number of records a
 * second per caller, and the counts still add up to every operation.
 *
 * Lock order: fs_coalesce.lock alone; records are written without it.
 */
#include "fs/fs.h"
#include "fs/coalesce.h"
#include "common/alloc.h"


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

#define CO_BUCKETS	4096
#define CO_MAX		65536	/* keys in a second before it is written early */
#define CO_BATCH	1024	/* records per synced write */
#define CO_NAMES	64	/* refused names a caller gets recorded a second */
#define CO_CALLER_BUCKETS 256

/* A caller's refused names this second, for CO_NAMES. */
struct co_caller {
	struct co_caller *next;
	uint32_t uid, gid;
	unsigned names;
};

struct co_ent {
	struct co_ent *next;		/* in a bucket, then in a flush list */
	uint64_t hash;
	uint64_t count;
	struct audit_rec r;		/* strings point into text */
	char text[];
};

struct fs_coalesce {
	struct fs *fs;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* full, or stop */
	struct co_ent *tab[CO_BUCKETS];	/* this second's records; lock */
	size_t n;			/* keys in tab; lock */
	struct co_caller *callers[CO_CALLER_BUCKETS];	/* this second's; lock */
	bool stop;			/* lock */
	pthread_mutex_t write_lock;	/* one writer at a time: records keep
					 * the order their seconds had */
};

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < len; i++) {
		h ^= c[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
	s = s ? s : "";
	/* the NUL keeps "ab","c" apart from "a","bc" */
	return fnv(h, s, strlen(s) + 1);
}

static const char *str(const char *s)
{
	return s ? s : "";
}

#define KEY_STRS(r) (r)->dept, (r)->user, (r)->op, (r)->path, (r)->code, \
		    (r)->grant, (r)->view, (r)->reason

static uint64_t key_hash(const struct audit_rec *r)
{
	const char *s[] = { KEY_STRS(r) };
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	h = fnv(h, &r->uid, sizeof(r->uid));
	h = fnv(h, &r->gid, sizeof(r->gid));
	h = fnv(h, &r->result, sizeof(r->result));
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		h = fnv_str(h, s[i]);
	return h;
}

static bool key_eq(const struct audit_rec *a, const struct audit_rec *b)
{
	const char *x[] = { KEY_STRS(a) }, *y[] = { KEY_STRS(b) };

	if (a->uid != b->uid || a->gid != b->gid || a->result != b->result)
		return false;
	for (size_t i = 0; i < sizeof(x) / sizeof(x[0]); i++)
		if (strcmp(str(x[i]), str(y[i])))
			return false;
	return true;
}

/* Caller holds lock. */
static struct co_ent *find(struct fs_coalesce *co, const struct audit_rec *r, uint64_t h)
{
	struct co_ent *e = co->tab[h % CO_BUCKETS];

	while (e && (e->hash != h || !key_eq(&e->r, r)))
		e = e->next;
	return e;
}

/* A copy of r whose strings live in the entry itself. */
static struct co_ent *ent_new(const struct audit_rec *r, uint64_t h)
{
	const char *s[] = { KEY_STRS(r), r->comm };
	const char **d[9];
	size_t len = 0, off = 0;
	struct co_ent *e;

	for (size_t i = 0; i < 9; i++)
		len += strlen(str(s[i])) + 1;
	e = xmalloc(sizeof(*e) + len);
	e->r = *r;
	e->hash = h;
	e->count = 1;
	d[0] = &e->r.dept;
	d[1] = &e->r.user;
	d[2] = &e->r.op;
	d[3] = &e->r.path;
	d[4] = &e->r.code;
	d[5] = &e->r.grant;
	d[6] = &e->r.view;
	d[7] = &e->r.reason;
	d[8] = &e->r.comm;
	for (size_t i = 0; i < 9; i++) {
		size_t n = strlen(str(s[i])) + 1;

		memcpy(e->text + off, str(s[i]), n);
		*d[i] = e->text + off;
		off += n;
	}
	return e;
}

int fs_coalesce_bump(struct fs *fs, const struct audit_rec *r)
{
	struct fs_coalesce *co = fs->coalesce;
	uint64_t h = key_hash(r);
	struct co_ent *e;

	if (!co)
		return -ENOENT;
	pthread_mutex_lock(&co->lock);
	e = find(co, r, h);
	if (e)
		e->count++;
	pthread_mutex_unlock(&co->lock);
	return e ? 0 : -ENOENT;
}

/* The caller's count of refused names this second, made at 0; caller holds lock. */
static struct co_caller *caller_get(struct fs_coalesce *co, uint32_t uid, uint32_t gid)
{
	size_t b = (uid * UINT32_C(2654435761) ^ gid) % CO_CALLER_BUCKETS;
	struct co_caller *c;

	for (c = co->callers[b]; c; c = c->next)
		if (c->uid == uid && c->gid == gid)
			return c;
	c = xcalloc(1, sizeof(*c));
	c->uid = uid;
	c->gid = gid;
	c->next = co->callers[b];
	co->callers[b] = c;
	return c;
}

/*
 * r itself, or, once its caller has had CO_NAMES refused names recorded
 * this second, r without its path and with a reason that says so (in
 * *folded, whose reason is in reason[len]); caller holds lock.
 */
static const struct audit_rec *fold(struct fs_coalesce *co, const struct audit_rec *r,
				    struct audit_rec *folded, char *reason, size_t len)
{
	struct co_caller *c;

	if (r->result == 0)
		return r;
	c = caller_get(co, r->uid, r->gid);
	if (c->names < CO_NAMES) {
		c->names++;
		return r;
	}
	*folded = *r;
	folded->path = "";
	snprintf(reason, len, "%s (path not recorded: over %d names refused this second)",
		 str(r->reason), CO_NAMES);
	folded->reason = reason;
	return folded;
}

int fs_coalesce_add(struct fs *fs, const struct audit_rec *r)
{
	struct fs_coalesce *co = fs->coalesce;
	struct co_ent *e, *fresh;
	struct audit_rec folded;
	char reason[512];
	uint64_t h;

	if (!co)
		return -ENODEV;
	pthread_mutex_lock(&co->lock);
	h = key_hash(r);
	e = find(co, r, h);
	if (!e) {
		/* a new name: past its caller's share it counts in the folded record */
		r = fold(co, r, &folded, reason, sizeof(reason));
		if (r == &folded) {
			h = key_hash(r);
			e = find(co, r, h);
		}
	}
	if (e) {
		/* another thread made it since the caller looked, or the folded one */
		e->count++;
	} else {
		fresh = ent_new(r, h);
		fresh->next = co->tab[h % CO_BUCKETS];
		co->tab[h % CO_BUCKETS] = fresh;
		if (++co->n >= CO_MAX)
			pthread_cond_signal(&co->wake);
	}
	pthread_mutex_unlock(&co->lock);
	return 0;
}

/* Takes this second's records out of the table; caller holds lock. */
static struct co_ent *take_all(struct fs_coalesce *co)
{
	struct co_ent *list = NULL, *e, *next;

	for (size_t i = 0; i < CO_BUCKETS; i++) {
		for (e = co->tab[i]; e; e = next) {
			next = e->next;
			e->next = list;
			list = e;
		}
		co->tab[i] = NULL;
	}
	co->n = 0;
	for (size_t i = 0; i < CO_CALLER_BUCKETS; i++)
		while (co->callers[i]) {
			struct co_caller *c = co->callers[i];

			co->callers[i] = c->next;
			free(c);
		}
	return list;
}

/* Writes list (frees it); a failure is in the daemon's log with what was lost. */
static void write_list(struct fs_coalesce *co, struct co_ent *list)
{
	struct audit_rec batch[CO_BATCH];
	struct co_ent *e, *next;
	uint64_t lost = 0;
	size_t n, done;
	int err;

	while (list) {
		n = 0;
		for (e = list; e && n < CO_BATCH; e = e->next) {
			batch[n] = e->r;
			batch[n].count = e->count;
			n++;
		}
		err = audit_append_many(co->fs->store, batch, n, &done);
		for (size_t i = done; err < 0 && i < n; i++)
			lost += batch[i].count;
		if (err < 0)
			log_err("audit: %zu coalesced record(s) not written: %s",
				n - done, strerror(-err));
		for (size_t i = 0; i < n; i++) {
			next = list->next;
			free(list);
			list = next;
		}
	}
	if (lost)
		log_err("audit: %llu metadata operations and denials went unrecorded",
			(unsigned long long)lost);
}

/* Writes every record kept so far. */
static void flush(struct fs_coalesce *co)
{
	struct co_ent *list;

	pthread_mutex_lock(&co->write_lock);
	pthread_mutex_lock(&co->lock);
	list = take_all(co);
	pthread_mutex_unlock(&co->lock);
	write_list(co, list);
	pthread_mutex_unlock(&co->write_lock);
}

static void *coalesce_main(void *arg)
{
	struct fs_coalesce *co = arg;
	struct timespec t;
	bool stop;

	for (;;) {
		/* until the wall clock's next second: the records of this one are complete */
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec++;
		t.tv_nsec = 0;
		pthread_mutex_lock(&co->lock);
		while (!co->stop && co->n < CO_MAX &&
		       pthread_cond_timedwait(&co->wake, &co->lock, &t) != ETIMEDOUT)
			;
		stop = co->stop;
		pthread_mutex_unlock(&co->lock);
		if (stop)
			break;
		flush(co);
	}
	return NULL;
}

/* The store's readers call this first (audit_set_flush_hook). */
static void flush_hook(void *arg)
{
	flush(arg);
}

int fs_coalesce_start(struct fs *fs)
{
	struct fs_coalesce *co = xcalloc(1, sizeof(*co));
	int err;

	co->fs = fs;
	pthread_mutex_init(&co->lock, NULL);
	pthread_mutex_init(&co->write_lock, NULL);
	pthread_cond_init(&co->wake, NULL);
	err = pthread_create(&co->thread, NULL, coalesce_main, co);
	if (err) {
		pthread_cond_destroy(&co->wake);
		pthread_mutex_destroy(&co->write_lock);
		pthread_mutex_destroy(&co->lock);
		free(co);
		return -err;
	}
	fs->coalesce = co;
	audit_set_flush_hook(fs->store, flush_hook, co);
	return 0;
}

void fs_coalesce_stop(struct fs *fs)
{
	struct fs_coalesce *co = fs->coalesce;

	if (!co)
		return;
	pthread_mutex_lock(&co->lock);
	co->stop = true;
	pthread_cond_signal(&co->wake);
	pthread_mutex_unlock(&co->lock);
	pthread_join(co->thread, NULL);
	/* what the last second counted; requests are over, none comes after */
	flush(co);
	audit_set_flush_hook(fs->store, NULL, NULL);
	fs->coalesce = NULL;
	pthread_cond_destroy(&co->wake);
	pthread_mutex_destroy(&co->write_lock);
	pthread_mutex_destroy(&co->lock);
	free(co);
}
