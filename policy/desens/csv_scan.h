/*
 * policy/desens/csv_scan.h - the CSV and TSV record reader under fmt_csv.c.
 * Private to policy/desens/.
 *
 * A struct csv is one stream's state: the reader's (a record being read,
 * its fields in f[0..nf)) and the writer's (the columns' plan, fmt_csv.c).
 */
#ifndef POOL_CSV_SCAN_H
#define POOL_CSV_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/desens/desens_fmt.h"

struct csv_op;			/* a step of writing a row (fmt_csv.c) */

/* Scan states of a record being read. */
enum { CS_FRESH, CS_FIELD, CS_UNQUOTED, CS_QUOTED, CS_QUOTE_SEEN };

struct csv_field {
	size_t off, len;		/* raw bytes, quotes included */
	uint8_t quoted, dq;		/* dq: holds a doubled quote */
};

struct csv {
	uint8_t delim;
	bool header_done;
	bool special[256];		/* the delimiter, quote, CR and LF */
	uint8_t vdelim[16];		/* the delimiter 16 times, for split_fast() */
	size_t ncols, nmasked, nkept;
	uint8_t *action;		/* by column */
	size_t *run_end;		/* by column: the last of the kept raw columns from it on */
	bool *own;			/* by column: masked with a mask_own_bytes() kind */
	int *slot;			/* by column: slot or -1 */
	int *scol;			/* by slot: the column of that field, or -1 */
	/* the columns a row is written from, in order (plan_header) */
	struct csv_op *ops;
	size_t nops;
	/* the input of this run known to be valid text, up to here (or NULL) */
	const uint8_t *text_ok;
	/* the record being read, offsets from its first byte */
	bool fast;			/* read by split_fast(): one line, no CR inside */
	int st;
	size_t pos, fstart;
	uint8_t fq, fdq;
	struct csv_field *f;
	size_t nf, fcap;
};

/*
 * Finds the record at buf[0..len), its fields into c->f. Returns 1 with
 * *reclen (terminator included) and *term (its length: 0, 1 or 2), 0 when
 * more input is needed, or -EIO with the reason in e. c->st is CS_FRESH
 * at a record's start.
 */
int csv_scan(struct desens *d, struct csv *c, const uint8_t *buf, size_t len,
	     bool eof, size_t *reclen, size_t *term, struct perr *e);
/* Line ends in p[0..n): LF, CRLF and a lone CR count one each (for messages). */
size_t csv_count_lines(const uint8_t *p, size_t n);

#endif
