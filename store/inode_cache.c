/*
 * store/inode_cache.c - inode records read lately (inode_cache.h).
 * Direct-mapped by inode number; a slot taken by another inode costs
 * only the read it would have cost anyway.
 */
#include "store/inode_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "store/dent.h"
#include "store/internal.h"

#define INODE_SLOTS	16384	/* a power of two */

struct inode_slot {
	uint64_t gen;
	struct store_attr attr;	/* attr.ino 0: empty */
	uint64_t parent;
	bool dead;
	char *name, *target;
	size_t nlen, tlen;
};

struct dent_slot {
	uint64_t gen;
	uint64_t parent;
	char *name;		/* NULL: empty */
	struct dent d;
};

struct ver_slot {
	uint64_t gen;
	uint64_t ino;		/* 0: empty */
	struct store_version_info v;
};

struct inode_cache {
	pthread_mutex_t lock;
	uint64_t gen;		/* under lock */
	struct inode_slot slot[INODE_SLOTS];
	struct dent_slot dent[INODE_SLOTS];
	struct ver_slot ver[INODE_SLOTS];
};

static struct inode_slot *slot_of(struct inode_cache *c, uint64_t ino)
{
	return &c->slot[(ino * 0x9e3779b97f4a7c15ull) >> 50 & (INODE_SLOTS - 1)];
}

static struct dent_slot *dent_slot_of(struct inode_cache *c, uint64_t parent,
				      const char *name)
{
	uint64_t h = 14695981039346656037ull ^ parent;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return &c->dent[(h * 0x9e3779b97f4a7c15ull) >> 50 & (INODE_SLOTS - 1)];
}

static struct ver_slot *ver_slot_of(struct inode_cache *c, uint64_t ino, uint64_t version)
{
	uint64_t h = (ino ^ version * 0xff51afd7ed558ccdull) * 0x9e3779b97f4a7c15ull;

	return &c->ver[h >> 50 & (INODE_SLOTS - 1)];
}

struct inode_cache *inode_cache_new(void)
{
	struct inode_cache *c = xcalloc(1, sizeof(*c));

	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void inode_cache_free(struct inode_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < INODE_SLOTS; i++) {
		free(c->slot[i].name);
		free(c->slot[i].target);
		free(c->dent[i].name);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

uint64_t inode_cache_gen(struct inode_cache *c)
{
	uint64_t gen;

	pthread_mutex_lock(&c->lock);
	gen = c->gen;
	pthread_mutex_unlock(&c->lock);
	return gen;
}

bool inode_cache_get(struct inode_cache *c, uint64_t ino, struct inode_rec *r)
{
	struct inode_slot *s = slot_of(c, ino);
	bool hit;

	pthread_mutex_lock(&c->lock);
	hit = ino && s->attr.ino == ino && s->gen == c->gen;
	if (hit) {
		r->attr = s->attr;
		r->parent = s->parent;
		r->dead = s->dead;
		strbuf_reset(&r->name);
		strbuf_add(&r->name, s->name, s->nlen);
		strbuf_reset(&r->target);
		strbuf_add(&r->target, s->target, s->tlen);
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void inode_cache_put(struct inode_cache *c, uint64_t gen, const struct inode_rec *r)
{
	struct inode_slot *s = slot_of(c, r->attr.ino);
	char *name = xstrndup(r->name.buf, r->name.len);
	char *target = xstrndup(r->target.buf, r->target.len);

	pthread_mutex_lock(&c->lock);
	/* read across a write: the record may be the old one */
	if (r->attr.ino && gen == c->gen) {
		free(s->name);
		free(s->target);
		s->gen = gen;
		s->attr = r->attr;
		s->parent = r->parent;
		s->dead = r->dead;
		s->name = name;
		s->nlen = r->name.len;
		s->target = target;
		s->tlen = r->target.len;
		name = target = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	free(name);
	free(target);
}

bool inode_cache_dent_get(struct inode_cache *c, uint64_t parent, const char *name,
			  struct dent *d)
{
	struct dent_slot *s = dent_slot_of(c, parent, name);
	bool hit;

	pthread_mutex_lock(&c->lock);
	hit = s->name && s->gen == c->gen && s->parent == parent && !strcmp(s->name, name);
	if (hit)
		*d = s->d;
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void inode_cache_dent_put(struct inode_cache *c, uint64_t gen, uint64_t parent,
			  const char *name, const struct dent *d)
{
	struct dent_slot *s = dent_slot_of(c, parent, name);
	char *copy = xstrdup(name);

	pthread_mutex_lock(&c->lock);
	/* read across a write: the entry may be the old one */
	if (gen == c->gen) {
		free(s->name);
		s->gen = gen;
		s->parent = parent;
		s->name = copy;
		s->d = *d;
		copy = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	free(copy);
}

void inode_cache_wrote(struct inode_cache *c)
{
	pthread_mutex_lock(&c->lock);
	c->gen++;
	pthread_mutex_unlock(&c->lock);
}

bool inode_cache_version_get(struct inode_cache *c, uint64_t ino, uint64_t version,
			     struct store_version_info *v)
{
	struct ver_slot *s = ver_slot_of(c, ino, version);
	bool hit;

	pthread_mutex_lock(&c->lock);
	hit = ino && s->ino == ino && s->v.version == version && s->gen == c->gen;
	if (hit)
		*v = s->v;
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void inode_cache_version_put(struct inode_cache *c, uint64_t gen, uint64_t ino,
			     const struct store_version_info *v)
{
	struct ver_slot *s = ver_slot_of(c, ino, v->version);

	pthread_mutex_lock(&c->lock);
	/* read across a write: the record may be the old one */
	if (ino && gen == c->gen) {
		s->gen = gen;
		s->ino = ino;
		s->v = *v;
	}
	pthread_mutex_unlock(&c->lock);
}
