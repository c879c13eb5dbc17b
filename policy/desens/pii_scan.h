/*
 * policy/desens/pii_scan.h - the reader state the PII sampler shares between its
 * CSV/TSV half (policy/desens/pii_sample.c) and its JSON half (policy/desens/pii_json.c).
 * Private to those two files; policy/desens/pii.h is the public contract.
 *
 * A reader collects the values of one record into sc->val, names each
 * with pii_scan_field(), and hands the whole record to pii_scan_tally(),
 * so a record is counted whole or not at all.
 */
#ifndef POOL_PII_SCAN_H
#define POOL_PII_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "policy/desens/pii.h"

#define PII_SCAN_MORE	1	/* the text ends inside a record: a longer beginning is needed */

/* One value of the record being read: column and bytes in pii_scan.val. */
struct pii_field {
	size_t col, off, len;
};

struct pii_scan {
	const char *p;			/* UTF-8 text */
	size_t n, i;
	bool eof;
	uint64_t line;			/* of p[i], from 1 */
	uint64_t max;
	struct pii_sample *s;
	struct strbuf val;		/* the values of one record */
	struct pii_field *f;
	size_t nf, fcap;
	size_t ccap;			/* columns allocated in s->cols */
	size_t hint;			/* JSON: the column the next key likely names */
	/* JSON: the key path of the value being read */
	struct strbuf path;		/* "data[].id", the column's name */
	char **parts;			/* its keys, NULL for an array level */
	size_t *plen;			/* path.len before each part */
	size_t nparts, aparts;
	struct strbuf key;		/* the key being read */
	/* row filters whose near matches are counted */
	struct pii_watch *w;
	size_t nw;
	struct strbuf *wfold;		/* per watch, its values in the loose form */
	struct strbuf fold;
	struct perr *e;
};

/* Sets e to EIO with "line N: " and the message; returns -EIO. */
__attribute__((format(printf, 3, 4)))
int pii_scan_bad(struct pii_scan *sc, uint64_t line, const char *fmt, ...);

/* Names sc->val[off..off+len) a value of column col in the record being read. */
void pii_scan_field(struct pii_scan *sc, size_t col, size_t off, size_t len);

/*
 * Adds a column named name[0..len) whose path is parts[0..nparts) (copied).
 * 0 or -E2BIG (too many columns, said in sc->e).
 */
int pii_scan_col_add(struct pii_scan *sc, const char *name, size_t len, char *const *parts,
		     size_t nparts);

/* Marks the watches whose field the column just added is. */
void pii_scan_col_watch(struct pii_scan *sc);

/* Counts the fields of the record just read. */
void pii_scan_tally(struct pii_scan *sc);


/*
 * Reads JSON (an array of objects, or objects one after another) from
 * sc->p[sc->i..sc->n) until sc->max records are counted. 0, PII_SCAN_MORE when
 * the text ends inside a record and !sc->eof, or -errno (said in sc->e).
 */
int pii_json_read(struct pii_scan *sc);

/* Frees what pii_json_read() left in sc (its key path and key). */
void pii_json_release(struct pii_scan *sc);

#endif /* POOL_PII_SCAN_H */
