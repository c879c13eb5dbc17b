/*
 * policy/desens/pii.h - recognizing personal data in a file's values, so that
 * `poolctl scan` can tell an admin which columns hold ID numbers, mobile
 * numbers, bank cards or emails that the catalog leaves untagged (and so
 * unmasked).
 *
 * Pure functions over bytes: nothing here reads the store, the policy or
 * FUSE. Detection is a heuristic for sampling, not validation: a kind
 * counts for a column only when most of its values match (PII_DOMINANT).
 */
#ifndef POOL_PII_H
#define POOL_PII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "policy/desens/text.h"
#include "policy/view.h"

/* Each name is also the catalog tag for such values. */
enum pii_kind {
	PII_ID_CARD,		/* GB 11643: 18 chars with check digit, or 15 digits */
	PII_PHONE,		/* mainland mobile, 1[3-9] + 9 digits, +86 / 86 / 0086 */
	PII_BANK_CARD,		/* 13-19 digits passing Luhn */
	PII_EMAIL,
	PII_DATE,		/* 1990-01-01, 1990/1/1, 19900101, 1990年1月1日, ISO times */
	PII_NKINDS
};

#define PII_DOMINANT	80	/* percent of non-empty values a kind needs */
#define PII_COLUMNS_MAX	4096	/* more than this many columns is an error */

const char *pii_kind_name(enum pii_kind k);

/*
 * Whether values of kind k are personal data that need a tag. A date
 * alone identifies nobody, so an untagged date column is reported but
 * is not a finding.
 */
bool pii_kind_personal(enum pii_kind k);

/*
 * Whether the UTF-8 value v[0..n) looks like kind k. Surrounding
 * whitespace (nfc_trim) is ignored and the value is read in NFKC, so
 * full-width ASCII (１３８, Ｘ, ＠) is read as ASCII.
 */
bool pii_is(enum pii_kind k, const char *v, size_t n);

/* Bit (1u << k) for each kind v[0..n) looks like; 0 for none. */
unsigned pii_match(const char *v, size_t n);

/*
 * The loose form of a UTF-8 value, for telling values that differ only
 * by surrounding whitespace, Unicode normalization (NFC or NFKC:
 * full-width forms, compatibility ideographs) or case: NFKC with simple
 * case folding, trimmed (nfc_append's NFC_KC_FOLD). Replaces out's
 * content. -EINVAL for text that is not UTF-8.
 */
int pii_fold(const char *v, size_t n, struct strbuf *out);

/*
 * A row filter to compare values with (poolctl scan's near-match
 * warning): records whose value in the filtered field equals none of the
 * filter's values byte for byte but one of them in the loose form
 * (pii_fold) are counted. Values are never kept.
 */
struct pii_watch {
	const char *field;		/* the filtered catalog field; not owned */
	const char *const *values;	/* the filter's values; not owned */
	size_t nvalues;
	bool prefix;			/* the values are prefixes */
	uint64_t near;			/* out: records with a near-matching value */
	uint64_t seen;			/* out: records with a value in the field */
};

#define PII_WATCH_MAX	64

/*
 * One column of a sample: a CSV header, or a JSON key path (any depth:
 * "data[].id", "tags[]"), named by what the file holds. Names come from
 * the file, so they may be values (a headerless CSV, a JSON object keyed
 * by ID numbers): a caller that prints must not print them as they are.
 */
struct pii_column {
	char *name;			/* UTF-8, NUL-terminated; owned */
	char **parts;			/* the path: keys, NULL for an array level; owned */
	size_t nparts;
	uint64_t watch;			/* bit w: the column is pii_watch w's field */
	uint64_t values;		/* non-empty values sampled */
	uint64_t empty;			/* empty, blank or JSON null */
	uint64_t hits[PII_NKINDS];	/* values matching each kind */
};

/*
 * The kind at least PII_DOMINANT percent of the column's non-empty values
 * match (the one most of them match; ties go to the lower enum value),
 * or -1 when there is none.
 */
int pii_column_kind(const struct pii_column *c);

struct pii_sample {
	enum view_format format;	/* CSV, TSV, JSONL or JSON: what was read */
	enum text_enc enc;		/* the encoding read, after any BOM */
	bool bom;
	uint64_t records;		/* records sampled, a header not counted */
	bool want_more;			/* fewer than asked: the input ended mid-record */
	struct pii_column *cols;	/* in order of appearance */
	size_t ncols;
};

/*
 * Samples the first max_records records of p[0..n), the beginning of a
 * file (eof: all of it). fmt VIEW_OTHER guesses the format from the
 * content; VIEW_JSONL and VIEW_JSON both read an array of objects as
 * well as a sequence of objects. A BOM decides the encoding, else enc;
 * GB18030 is converted to UTF-8 first, so names and values in s are
 * UTF-8. When !eof and the records run out before max_records,
 * s->want_more asks for a longer beginning.
 *
 * JSON values are sampled at every depth: each key path is a column.
 * Returns 0 with s filled (release it with pii_sample_release, also on
 * error), -EIO with a message naming the line for malformed input or
 * invalid text (never quoting the input), -E2BIG for too many columns.
 */
int pii_sample(const uint8_t *p, size_t n, bool eof, enum view_format fmt,
	       enum text_enc enc, uint64_t max_records, struct pii_sample *s,
	       struct perr *e);

/* pii_sample() that also counts near matches of the row filters in w[0..nw). */
int pii_sample_watch(const uint8_t *p, size_t n, bool eof, enum view_format fmt,
		     enum text_enc enc, uint64_t max_records, struct pii_sample *s,
		     struct pii_watch *w, size_t nw, struct perr *e);

void pii_sample_release(struct pii_sample *s);

#endif
