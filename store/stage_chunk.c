/*
 * store/stage_chunk.c - a commit's walk over a stage's new content
 * (store/stage.c says why): base chunks reused where untouched and whole,
 * zero runs kept as holes, the chunker run over the rest.
 */
#include "common/alloc.h"
#include "store/chunker.h"
#include "store/holes.h"
#include "store/limits.h"
#include "store/stage_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW_BYTES		(4u << 20)

struct window {
	uint8_t *buf;
	uint64_t off;
	size_t len;
};

/*
 * Points *p at the stage's bytes from pos on, at least CHUNK_MAX of them
 * or all up to the end. A refill keeps what the window holds from pos on;
 * it starts small, since a change usually needs a chunk or two before
 * the cuts land on the base again, and doubles while chunking goes on.
 */
static int window_at(struct store_stage *st, struct window *w, uint64_t pos,
		     const uint8_t **p, size_t *avail)
{
	uint64_t left = st->size - pos;
	size_t need = left < CHUNK_MAX ? (size_t)left : CHUNK_MAX, keep = 0, want;
	int ret;

	if (pos < w->off || pos + need > w->off + w->len) {
		if (pos >= w->off && pos < w->off + w->len) {
			keep = (size_t)(w->off + w->len - pos);
			memmove(w->buf, w->buf + (pos - w->off), keep);
		}
		want = keep ? 2 * w->len : 2 * CHUNK_MAX;
		if (want > WINDOW_BYTES)
			want = WINDOW_BYTES;
		if (want > left)
			want = (size_t)left;
		ret = stage_read_at(st, w->buf + keep, want - keep, pos + keep);
		if (ret)
			return ret;
		w->off = pos;
		w->len = want;
	}
	*p = w->buf + (pos - w->off);
	*avail = (size_t)(w->off + w->len - pos);
	return 0;
}

/*
 * The end of the run of unwritten zeros from pos (pos itself when byte
 * pos holds data): bytes in no extent that are past base_valid or in a
 * hole of the base. Steps once per base hole or extent it passes.
 */
static uint64_t zero_end(const struct store_stage *st, uint64_t pos)
{
	const struct chunk_list *base = content_chunks(st->base);
	const struct chunk_ref *ref;
	uint64_t e = pos, nx;
	size_t i;

	while (e < st->size) {
		i = ext_first_reaching(st, e + 1);
		if (i < st->n_ext && st->ext[i].off <= e)
			return e;
		nx = i < st->n_ext && st->ext[i].off < st->size ? st->ext[i].off : st->size;
		if (e >= st->base_valid)
			return nx;
		ref = &base->v[chunk_list_find(base, e)];
		if (!ref->hole)
			return e;
		if (ref->off + ref->len >= nx)
			return nx;
		e = ref->off + ref->len;
	}
	return st->size;
}

/*
 * Where the first hole of the new content (a zero run of HOLE_MIN or
 * more) starts in [pos, lim), or lim. A run starts only where data ends:
 * at pos, an extent's end, a base hole or base_valid.
 */
static uint64_t hole_start(const struct store_stage *st, uint64_t pos, uint64_t lim)
{
	const struct chunk_list *base = content_chunks(st->base);
	uint64_t c = pos, next;
	size_t i;

	while (c < lim) {
		if (zero_end(st, c) - c >= HOLE_MIN)
			return c;
		next = lim;
		i = ext_first_reaching(st, c + 1);
		if (i < st->n_ext && st->ext[i].end < next)
			next = st->ext[i].end;
		if (c < st->base_valid) {
			if (st->base_valid < next)
				next = st->base_valid;
			for (i = chunk_list_find(base, c) + 1; i < base->n && base->v[i].off < next; i++) {
				if (base->v[i].hole) {
					next = base->v[i].off;
					break;
				}
			}
		}
		c = next;
	}
	return lim;
}

/*
 * A base chunk may be reused when no dirty extent touches it, it lies
 * below base_valid and the new size, and its end is a content cut: the
 * base's last chunk ends where the file ended, and a chunk before a hole
 * where the hole began, so they count only when the file still ends, or
 * a hole still begins, there. *ei walks the extents along with the chunks.
 */
static bool reusable(const struct store_stage *st, const struct chunk_list *base,
		     size_t bi, size_t *ei)
{
	uint64_t off = base->v[bi].off, end = off + base->v[bi].len;

	if (base->v[bi].hole || end > st->base_valid || end > st->size)
		return false;
	if ((bi + 1 == base->n || base->v[bi + 1].hole) && end != st->size &&
	    zero_end(st, end) - end < HOLE_MIN)
		return false;
	while (*ei < st->n_ext && st->ext[*ei].end <= off)
		(*ei)++;
	return !(*ei < st->n_ext && st->ext[*ei].off < end);
}

int stage_chunk(struct store_stage *st, struct chunk_writer *cw, struct chunk_list *out)
{
	const struct chunk_list *base = content_chunks(st->base);
	struct window w = { xmalloc(WINDOW_BYTES), 0, 0 };
	size_t bi = 0, ei = 0, avail, c;
	const uint8_t *p;
	uint64_t pos = 0, z, lim;
	uint8_t sha[32];
	int ret = 0;

	while (pos < st->size) {
		if (store_stop_due()) {
			ret = -ECANCELED;
			break;
		}
		z = zero_end(st, pos);
		if (z - pos >= HOLE_MIN) {
			chunk_list_add_hole(out, z - pos);
			pos = z;
			continue;
		}
		while (bi < base->n && base->v[bi].off < pos)
			bi++;
		if (bi < base->n && base->v[bi].off == pos && reusable(st, base, bi, &ei)) {
			chunk_list_add(out, base->v[bi].sha, base->v[bi].len);
			pos += base->v[bi].len;
			continue;
		}
		ret = window_at(st, &w, pos, &p, &avail);
		if (ret)
			break;
		/* the chunk before a hole ends where the hole begins */
		lim = pos + (avail < CHUNK_MAX ? avail : CHUNK_MAX);
		z = hole_start(st, pos, lim);
		if (z < lim)
			c = chunker_next(p, (size_t)(z - pos), true);
		else
			c = chunker_next(p, avail, pos + avail == st->size);
		ret = chunk_writer_put(cw, p, (uint32_t)c, sha);
		if (ret)
			break;
		chunk_list_add(out, sha, (uint32_t)c);
		pos += c;
	}
	free(w.buf);
	return ret;
}
