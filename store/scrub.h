/*
 * store/scrub.h - reading back everything a pool keeps and checking it:
 * every file version's record, chunk list and chunks, every cached view,
 * every audit record and policy version. In an encrypted pool a value
 * must open (tag, key id, associated data); in a plain one a chunk must
 * hash to its key. Lengths are checked against the refs and pages that
 * name them.
 */
#ifndef POOL_STORE_SCRUB_H
#define POOL_STORE_SCRUB_H

#include <stdint.h>

struct store;

struct store_scrub_counts {
	uint64_t versions, chunks, bytes, views, audit, policies;
	uint64_t damaged;		/* items reported */
};

/*
 * Scrubs s. damage(arg, line) gets one line per damaged item, naming the
 * file by path ("inode N (deleted)" when it has none) and version, or
 * the view, audit record or policy version; a chunk shared by several
 * versions is reported for each. progress, when not NULL, is called
 * every 1024 versions. Returns 0 when it could read everything (damage
 * or not), or -EIO when the walk itself failed.
 */
int store_scrub(struct store *s, void (*damage)(void *arg, const char *line),
		void (*progress)(void *arg, const struct store_scrub_counts *c), void *arg,
		struct store_scrub_counts *c);

#endif
