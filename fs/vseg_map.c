/*
 * fs/vseg_map.c - the segment map of a view served in segments
 * (fs/vseg.h): made during a build's full pass, read back at open.
 *
 * A boundary falls where the engine can be cut (desens_cuttable) after
 * the header, at least step source bytes after the one before, so a
 * segment holds whole records and stays near step bytes.
 *
 *   map (integers big-endian): u8 format (1), be64 source size, be64
 *   view size, be64 body (where the records begin), be32 N, then N x
 *   (be64 source off, be64 view off, be64 line); the first is (0, 0, 1)
 */
#include "common/alloc.h"
#include "fs/vseg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "policy/desens/desens_cut.h"

#define MAP_FORMAT	1
#define MAP_HEAD	29		/* format, sizes, body, count */
#define MAP_ENTRY	24
#define SEG_MIN		(64u << 10)	/* source bytes per segment, at least */
#define SEG_MAX		(4u << 20)	/* and at most (a record may add to it) */
#define FEED_MIN	(16u << 10)	/* source bytes a build feeds at a time */
#define FEED_MAX	(1u << 20)

void vseg_builder_init(struct vseg_builder *m, uint64_t budget)
{
	uint64_t step = budget / 16;

	memset(m, 0, sizeof(*m));
	m->step = step < SEG_MIN ? SEG_MIN : step > SEG_MAX ? SEG_MAX : step;
	ALLOC_GROW(m->b, 3, m->alloc);
	m->b[0] = 0;
	m->b[1] = 0;
	m->b[2] = 1;
	m->n = 1;
}

size_t vseg_builder_feed(const struct vseg_builder *m)
{
	uint64_t f = m->step / 4;

	return (size_t)(f < FEED_MIN ? FEED_MIN : f > FEED_MAX ? FEED_MAX : f);
}

void vseg_builder_note(struct vseg_builder *m, const struct desens *d, uint64_t view_off)
{
	uint64_t at, line, body;

	desens_at(d, &at, &line);
	if (!desens_cuttable(d) || !desens_body(d, &body) || at < body ||
	    at < m->b[3 * (m->n - 1)] + m->step)
		return;
	ALLOC_GROW(m->b, 3 * (m->n + 1), m->alloc);
	m->b[3 * m->n] = at;
	m->b[3 * m->n + 1] = view_off;
	m->b[3 * m->n + 2] = line;
	m->n++;
}

int vseg_builder_finish(struct vseg_builder *m, const struct desens *d, uint64_t src_size,
			uint64_t view_size, struct strbuf *out, struct perr *e)
{
	uint8_t hdr[MAP_HEAD], ent[MAP_ENTRY];
	uint64_t body = 0;

	if (!desens_cuttable(d) || !desens_body(d, &body))
		return perr_set(e, EFBIG, "the view (%llu bytes) is larger than the view "
				"cache budget (poolfs -o view_budget=SIZE), and %s",
				(unsigned long long)view_size, desens_cuttable(d) ?
				"the file has no header to serve it in segments from" :
				"a whole JSON document cannot be served in segments");
	/* a boundary at the very end would start an empty last segment */
	while (m->n > 1 && m->b[3 * (m->n - 1)] >= src_size)
		m->n--;
	strbuf_reset(out);
	hdr[0] = MAP_FORMAT;
	put_be64(hdr + 1, src_size);
	put_be64(hdr + 9, view_size);
	put_be64(hdr + 17, body);
	put_be32(hdr + 25, (uint32_t)m->n);
	strbuf_add(out, hdr, sizeof(hdr));
	for (size_t k = 0; k < m->n; k++) {
		put_be64(ent, m->b[3 * k]);
		put_be64(ent + 8, m->b[3 * k + 1]);
		put_be64(ent + 16, m->b[3 * k + 2]);
		strbuf_add(out, ent, sizeof(ent));
	}
	return 0;
}

void vseg_builder_release(struct vseg_builder *m)
{
	free(m->b);
	memset(m, 0, sizeof(*m));
}

int vseg_map_size(const void *map, size_t len, uint64_t *size)
{
	const uint8_t *p = map;

	if (len < MAP_HEAD || p[0] != MAP_FORMAT)
		return -EIO;
	*size = get_be64(p + 9);
	return 0;
}

int vseg_map_load(const struct strbuf *map, uint64_t *src_size, uint64_t *view_size,
		  uint64_t *body, uint64_t **bp, size_t *np)
{
	const uint8_t *p = (const uint8_t *)map->buf;
	uint64_t *b;
	uint32_t n;

	if (map->len < MAP_HEAD || p[0] != MAP_FORMAT)
		return -EIO;
	*src_size = get_be64(p + 1);
	*view_size = get_be64(p + 9);
	*body = get_be64(p + 17);
	n = get_be32(p + 25);
	if (!n || map->len - MAP_HEAD != (size_t)n * MAP_ENTRY)
		return -EIO;
	b = *bp = xcalloc((size_t)n * 3, sizeof(*b));
	*np = n;
	for (size_t k = 0; k < n; k++) {
		const uint8_t *q = p + MAP_HEAD + k * MAP_ENTRY;

		b[3 * k] = get_be64(q);
		b[3 * k + 1] = get_be64(q + 8);
		b[3 * k + 2] = get_be64(q + 16);
		/* strictly rising in the source, rising in the view, after the header */
		if (k ? b[3 * k] <= b[3 * k - 3] || b[3 * k + 1] < b[3 * k - 2] ||
			b[3 * k] < *body : b[3 * k] || b[3 * k + 1])
			return -EIO;
	}
	if (b[3 * (n - 1)] >= *src_size && n > 1)
		return -EIO;
	if (b[3 * (n - 1) + 1] > *view_size || *body > *src_size)
		return -EIO;
	return 0;
}
