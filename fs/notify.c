/*
 * fs/notify.c - telling the kernel to drop what it cached, from a thread
 * of its own.
 *
 * An invalidation locks the kernel's pages and directory of what it
 * drops; called from a request handler it could wait for a request that
 * only that handler's thread would serve (always so with -s). So
 * handlers queue their notes and return; this thread sends them. The
 * control server, which is no request handler, waits for them to land.
 */
#include "fs/fs.h"
#include "fs/notify.h"
#include "common/alloc.h"


#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

struct fs_note {
	struct fs_note *next;
	uint64_t ino;			/* an inode's attributes and pages, or */
	uint64_t parent;		/* an entry: parent/name (parent != 0) */
	char name[];
};

struct fs_notifier {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* a note came, or stop */
	pthread_cond_t done_cond;	/* a note was sent */
	struct fs_note *head, **tail;	/* protected by lock */
	unsigned long queued, done;	/* protected by lock */
	bool stop;			/* protected by lock */
};

static void send_note(struct fs *fs, const struct fs_note *n)
{
	int err;

	if (n->parent)
		err = fuse_lowlevel_notify_inval_entry(fs->se, n->parent, n->name,
						       strlen(n->name));
	else
		err = fuse_lowlevel_notify_inval_inode(fs->se, n->ino, 0, 0);
	/* the kernel forgot it already: nothing of it is cached */
	if (err < 0 && err != -ENOENT)
		log_debug("invalidation of %llu/%s failed: %d",
			  (unsigned long long)(n->parent ? n->parent : n->ino), n->name, err);
}

static void *notifier_main(void *arg)
{
	struct fs *fs = arg;
	struct fs_notifier *q = fs->notifier;
	struct fs_note *n;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->head && !q->stop)
			pthread_cond_wait(&q->wake, &q->lock);
		if (!q->head)
			break;
		n = q->head;
		q->head = n->next;
		if (!q->head)
			q->tail = &q->head;
		pthread_mutex_unlock(&q->lock);
		send_note(fs, n);
		free(n);
		pthread_mutex_lock(&q->lock);
		q->done++;
		pthread_cond_broadcast(&q->done_cond);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

int fs_notify_start(struct fs *fs)
{
	struct fs_notifier *q = xcalloc(1, sizeof(*q));
	int err;

	q->tail = &q->head;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->wake, NULL);
	pthread_cond_init(&q->done_cond, NULL);
	fs->notifier = q;
	err = pthread_create(&q->thread, NULL, notifier_main, fs);
	if (err) {
		fs->notifier = NULL;
		pthread_cond_destroy(&q->done_cond);
		pthread_cond_destroy(&q->wake);
		pthread_mutex_destroy(&q->lock);
		free(q);
		return -err;
	}
	return 0;
}

void fs_notify_stop(struct fs *fs)
{
	struct fs_notifier *q = fs->notifier;

	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = true;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	fs->notifier = NULL;
	pthread_cond_destroy(&q->done_cond);
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

static int enqueue(struct fs *fs, uint64_t ino, uint64_t parent, const char *name)
{
	struct fs_notifier *q = fs->notifier;
	size_t len = strlen(name);
	struct fs_note *n;

	if (!q)
		return -ENODEV;
	n = xmalloc(sizeof(*n) + len + 1);
	n->next = NULL;
	n->ino = ino;
	n->parent = parent;
	memcpy(n->name, name, len + 1);
	pthread_mutex_lock(&q->lock);
	*q->tail = n;
	q->tail = &n->next;
	q->queued++;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

int fs_notify_inode(struct fs *fs, uint64_t kino)
{
	return enqueue(fs, kino, 0, "");
}

int fs_notify_entry(struct fs *fs, uint64_t parent, const char *name)
{
	return enqueue(fs, 0, parent, name);
}

void fs_notify_wait(struct fs *fs)
{
	struct fs_notifier *q = fs->notifier;
	unsigned long target;

	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	target = q->queued;
	while (q->done < target)
		pthread_cond_wait(&q->done_cond, &q->lock);
	pthread_mutex_unlock(&q->lock);
}
