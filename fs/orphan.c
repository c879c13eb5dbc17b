/*
 * fs/orphan.c - the old file behind handles whose name went away.
 *
 * When a file with open writers is unlinked or renamed over, POSIX lets
 * those descriptors go on reading and writing the old file, which nobody
 * else can reach and which vanishes at the last close. The store keeps
 * the target's inode on rename-over (its history goes on), so without
 * this the old handles' next commit would land under the name. Instead
 * they move to an orphan: a stage holding the old content and their
 * writes, shared by them, never committed, discarded at the last close.
 */
#include "fs/fs.h"
#include "fs/orphan.h"
#include "common/alloc.h"

#include "fs/stage.h"
#include "fs/kinode.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct fs_orphan {
	pthread_mutex_t lock;
	struct store_stage *stage;	/* protected by lock */
	unsigned refs;			/* handles and kernel inodes; lock */
	char *path;			/* where the file was; immutable */
	uint64_t *kinos;		/* kernel inodes its handles were opened
					 * on; set by fs_orphan_detach() */
	size_t nkinos;
};

const char *fs_orphan_path(const struct fs_orphan *o)
{
	return o->path;
}

/* Handles that read or write the stage; plain readers keep their version. */
static bool needs_orphan(const struct fs_file *fh)
{
	return fh->writable || fs_file_follows(fh);
}

bool fs_orphan_serves(struct fs_orphan *o, uint64_t kino)
{
	for (size_t i = 0; i < o->nkinos; i++)
		if (o->kinos[i] == kino)
			return true;
	return false;
}

int fs_orphan_prepare(struct fs *fs, struct fs_inode *n, const char *path,
		      struct fs_orphan **out)
{
	struct fs_orphan *o;
	const struct fs_file *fh;
	int err;

	*out = NULL;
	for (fh = n->files; fh && !needs_orphan(fh); fh = fh->next)
		;
	if (!fh)
		return 0;
	o = xcalloc(1, sizeof(*o));
	o->path = xstrdup(path);
	err = pthread_mutex_init(&o->lock, NULL);
	if (err) {
		free(o->path);
		free(o);
		return -err;
	}
	o->refs = 1;		/* the caller's, until it has handed it out */
	/* the old content, taken before the store operation replaces it */
	if (!n->stage) {
		err = fs_stage_ensure(fs, n);
		if (err < 0) {
			fs_orphan_abort(o);
			return err;
		}
	}
	*out = o;
	return 0;
}

void fs_orphan_detach(struct fs_inode *n, struct fs_orphan *o)
{
	struct fs_file *fh, *next;
	size_t count = 0;

	if (!o)
		return;
	for (fh = n->files; fh; fh = fh->next)
		count++;
	o->kinos = xcalloc(count, sizeof(*o->kinos));
	o->stage = n->stage;
	n->stage = NULL;
	fs_stage_discard(n);
	n->cache_version = FS_CACHE_UNKNOWN;
	for (fh = n->files; fh; fh = next) {
		next = fh->next;
		if (!needs_orphan(fh))
			continue;
		fs_file_unlist(n, fh);
		if (fh->writable)
			n->writers--;
		else
			n->readers--;
		o->refs++;
		if (!fs_orphan_serves(o, fh->kino))
			o->kinos[o->nkinos++] = fh->kino;
		__atomic_store_n(&fh->orphan, o, __ATOMIC_RELEASE);
	}
}

void fs_orphan_abort(struct fs_orphan *o)
{
	if (!o)
		return;
	pthread_mutex_destroy(&o->lock);
	free(o->kinos);
	free(o->path);
	free(o);
}

ssize_t fs_orphan_read(struct fs_orphan *o, void *buf, size_t size, uint64_t off)
{
	ssize_t r;

	pthread_mutex_lock(&o->lock);
	r = store_stage_read(o->stage, buf, size, off);
	pthread_mutex_unlock(&o->lock);
	return r;
}

int fs_orphan_write(struct fs_orphan *o, const void *buf, size_t size, uint64_t *off,
		    bool append)
{
	int err;

	pthread_mutex_lock(&o->lock);
	if (append)
		*off = store_stage_size(o->stage);
	err = store_stage_write(o->stage, buf, size, *off);
	pthread_mutex_unlock(&o->lock);
	return err;
}

int fs_orphan_truncate(struct fs_orphan *o, uint64_t size)
{
	int err;

	pthread_mutex_lock(&o->lock);
	err = store_stage_truncate(o->stage, size);
	pthread_mutex_unlock(&o->lock);
	return err;
}

uint64_t fs_orphan_size(struct fs_orphan *o)
{
	uint64_t size;

	pthread_mutex_lock(&o->lock);
	size = store_stage_size(o->stage);
	pthread_mutex_unlock(&o->lock);
	return size;
}

void fs_orphan_get(struct fs_orphan *o)
{
	pthread_mutex_lock(&o->lock);
	o->refs++;
	pthread_mutex_unlock(&o->lock);
}

void fs_orphan_put(struct fs_orphan *o)
{
	bool last;

	pthread_mutex_lock(&o->lock);
	last = --o->refs == 0;
	pthread_mutex_unlock(&o->lock);
	if (!last)
		return;
	if (o->stage)
		store_stage_close(o->stage);
	fs_orphan_abort(o);
}
