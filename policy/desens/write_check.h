/*
 * policy/desens/write_check.h - whether a commit keeps how the engine reads a
 * file (DESIGN.md "Reads and views", last paragraph).
 *
 * A writer who may not read a file raw (its view is masked, projected or
 * filtered, or it may only write) must not relabel or re-cut bytes it
 * cannot see: a swapped CSV header, or a record cut short and finished
 * by the writer, would show other people's values under a field or a row
 * its view leaves raw. Such a commit must keep the previous content's
 * header (names and order), keep every record it does not replace whole,
 * and parse in the entry's format. Nothing here knows about FUSE or the
 * store: the daemon feeds both contents.
 */
#ifndef POOL_WRITE_CHECK_H
#define POOL_WRITE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct write_check;		/* opaque; one per commit checked */

/*
 * Prepares the check of new content for an entry of format ("csv", "tsv",
 * "jsonl", "json", anything else: a format the engine does not read) and
 * encoding. keep: how many leading bytes of the previous content the new
 * one may still hold unchanged (those the writer neither overwrote nor
 * truncated away); the writer's own bytes come after them. Returns 0, or
 * desens_new()'s error (-EINVAL for an unknown encoding) with e set.

 */
int write_check_new(const char *format, const char *encoding, uint64_t keep,
		    struct write_check **out, struct perr *e);
/* Feeds the previous content from its start; only its header is kept. */
int write_check_old(struct write_check *w, const void *buf, size_t len);
/* Feeds the new content from its start, in pieces of any size. */
int write_check_feed(struct write_check *w, const void *buf, size_t len);
/*
 * After both contents were fed whole: 0 when the new content may be
 * committed, -EACCES with the reason in e when it changes how the engine
 * reads the file (or cannot be read with certainty).
 */
int write_check_finish(struct write_check *w, struct perr *e);
void write_check_free(struct write_check *w);

#endif
