/*
 * store/path_cache.c - the pool paths of directories, remembered
 * (path_cache.h). Direct-mapped by inode number: a city's tree has a
 * few thousand directories, and a slot taken by another directory only
 * costs the walk it would have cost anyway.
 */
#include "store/path_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

#define PATH_SLOTS	8192	/* a power of two */

struct path_slot {
	uint64_t ino;		/* 0: empty */
	uint64_t gen;
	char *path;
	size_t len;
};

struct path_cache {
	pthread_mutex_t lock;
	uint64_t gen;		/* under lock */
	struct path_slot slot[PATH_SLOTS];
};

static struct path_slot *slot_of(struct path_cache *c, uint64_t ino)
{
	return &c->slot[(ino * 0x9e3779b97f4a7c15ull) >> 51 & (PATH_SLOTS - 1)];
}

struct path_cache *path_cache_new(void)
{
	struct path_cache *c = xcalloc(1, sizeof(*c));

	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void path_cache_free(struct path_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < PATH_SLOTS; i++)
		free(c->slot[i].path);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

uint64_t path_cache_gen(struct path_cache *c)
{
	uint64_t gen;

	pthread_mutex_lock(&c->lock);
	gen = c->gen;
	pthread_mutex_unlock(&c->lock);
	return gen;
}

bool path_cache_get(struct path_cache *c, uint64_t ino, struct strbuf *out)
{
	struct path_slot *s = slot_of(c, ino);
	bool hit;

	pthread_mutex_lock(&c->lock);
	hit = s->ino == ino && s->gen == c->gen && s->path;
	if (hit)
		strbuf_add(out, s->path, s->len);
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void path_cache_put(struct path_cache *c, uint64_t gen, uint64_t ino, const char *path,
		    size_t len)
{
	struct path_slot *s = slot_of(c, ino);
	char *copy = xstrndup(path, len);

	pthread_mutex_lock(&c->lock);
	/* read across a move: the path may be the old one */
	if (gen == c->gen) {
		free(s->path);
		s->ino = ino;
		s->gen = gen;
		s->path = copy;
		s->len = len;
		copy = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	free(copy);
}

void path_cache_moved(struct path_cache *c)
{
	pthread_mutex_lock(&c->lock);
	c->gen++;
	pthread_mutex_unlock(&c->lock);
}
