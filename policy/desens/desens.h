/*
 * policy/desens/desens.h - the streaming desensitization engine.
 *
 * Turns a file's bytes into one reader's view under struct view_rules:
 * masked fields, removed columns, filtered rows, everything else byte for
 * byte as in the input (quoting, line ends, BOM, JSON layout). Memory is
 * bounded whatever the input size: at most one record is buffered, and a
 * record longer than DESENS_RECORD_MAX fails.
 *
 * Fail closed: input the engine cannot parse with certainty (an
 * unterminated quote, malformed JSON, invalid text in the file's encoding
 * anywhere in the file, a NUL byte, a masked or filtered field missing from
 * a CSV header, an unknown format) gives -EIO and a message naming the line
 * and byte offset. After an error the output appended so far must be
 * thrown away, and every later call returns the same error.
 */
#ifndef POOL_DESENS_H
#define POOL_DESENS_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "policy/view.h"

#define DESENS_RECORD_MAX	(16u << 20)

struct desens;			/* opaque; one per view being built, not thread-safe */

/*
 * Prepares an engine for rules r, which need not outlive the call. key
 * (copied) is the store's secret for the hash mask; it may be NULL when no
 * field is hashed. Returns 0, -EINVAL for rules it cannot apply (unknown
 * encoding, a field listed twice, hash without a key) or -EIO for a format
 * that cannot be desensitized (VIEW_OTHER), with a message in e.
 */
int desens_new(const struct view_rules *r, const uint8_t *key, size_t keylen,
	       struct desens **out, struct perr *e);

/*
 * Feeds the next len bytes of the input, in pieces of any size; appends
 * the output of every record they complete to out. Returns 0 or -EIO.
 */
int desens_feed(struct desens *d, const void *in, size_t len,
		struct strbuf *out, struct perr *e);

/* Ends the input: flushes the last record and checks the file is whole. */
int desens_finish(struct desens *d, struct strbuf *out, struct perr *e);

void desens_free(struct desens *d);

/* Records (rows or objects, header excluded) read and written so far. */
void desens_counts(const struct desens *d, uint64_t *in, uint64_t *out);

#endif
