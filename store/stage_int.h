/*
 * store/stage_int.h - what a stage (store/stage.c) shares with its
 * commit's walk over the new content (store/stage_chunk.c). Private to
 * store/.
 */
#ifndef POOL_STORE_STAGE_INT_H
#define POOL_STORE_STAGE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/search.h"
#include "store/content.h"

struct extent {
	uint64_t off, end;
};

struct store_stage {
	struct store *s;
	uint64_t ino;
	struct store_content *base;	/* the version the changes apply to */
	uint64_t size;
	uint64_t base_valid;		/* base bytes from here on read as zeros */
	struct extent *ext;		/* sorted, disjoint and not touching */
	size_t n_ext, ext_alloc;
	int fd;				/* spill file; -1 until the first write */
	struct crypt_scratch *scratch;	/* its key and block tags; only in memory */
	bool dirty;
	struct chunk_writer *cw;	/* chunks stored ahead of the commit, or NULL */

	/* the sequential run, while pipe is not NULL */
	struct chunk_pipe *pipe;
	size_t seq_base;		/* base chunks before the run, reused as they are */
	struct chunk_list seq_done;	/* chunks the pipe stored, from the run's start on */
};

/* First extent whose end is at or after off (so touching ones merge). */
static inline size_t ext_first_reaching(const struct store_stage *st, uint64_t off)
{
	return search_u64_first(st->ext, st->n_ext, sizeof(*st->ext),
				offsetof(struct extent, end), off);
}
/* Reads exactly len bytes at off, which lie below st->size. */
int stage_read_at(struct store_stage *st, uint8_t *buf, size_t len, uint64_t off);
/*
 * Builds the chunk list of the stage's content, storing new chunks. Its
 * time goes with the bytes written, not the size: holes are one entry.
 * Gives up with -ECANCELED when the daemon is stopping (store/limits.h).
 */
int stage_chunk(struct store_stage *st, struct chunk_writer *cw, struct chunk_list *out);

#endif
