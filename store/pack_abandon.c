/*
 * store/pack_abandon.c - holes over an abandoned write's pack records
 * (store/pack_abandon.h).
 */
#include "common/alloc.h"
#include "store/internal.h"
#include "store/pack_abandon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

void pack_extent_add(struct pack_extents *x, uint32_t pack, uint64_t off, uint64_t len)
{
	struct pack_extent *last = x->n ? &x->v[x->n - 1] : NULL;

	if (last && last->pack == pack && last->off + last->len == off) {
		last->len += len;
		return;
	}
	ALLOC_GROW(x->v, x->n + 1, x->alloc);
	x->v[x->n].pack = pack;
	x->v[x->n].off = off;
	x->v[x->n].len = len;
	x->n++;
}

void pack_extents_punch(struct store *s, const struct pack_extents *x)
{
	struct strbuf path = STRBUF_INIT;
	uint64_t freed = 0;
	int fd = -1;

	for (size_t i = 0; i < x->n; i++) {
		const struct pack_extent *e = &x->v[i];

		if (!i || x->v[i - 1].pack != e->pack) {
			if (fd >= 0)
				close(fd);
			strbuf_reset(&path);
			strbuf_addf(&path, "%s/packs/%08u.pack", store_dir(s), e->pack);
			fd = open(path.buf, O_WRONLY | O_CLOEXEC);
		}
		if (fd < 0 || fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					(off_t)e->off, (off_t)e->len)) {
			log_warn("%s: pack %u: %llu bytes of an abandoned write left in place: %s",
				 store_dir(s), e->pack, (unsigned long long)e->len, strerror(errno));
			continue;
		}
		freed += e->len;
	}
	if (fd >= 0)
		close(fd);
	if (freed)
		log_info("%s: %llu pack bytes of an abandoned write given back", store_dir(s),
			 (unsigned long long)freed);
	strbuf_release(&path);
}

void pack_extents_release(struct pack_extents *x)
{
	free(x->v);
	memset(x, 0, sizeof(*x));
}
