/*
 * policy/desens/desens_fmt.h - what a format engine (fmt_*.c) sees of the
 * desensitization engine. Private to policy/desens*.c and policy/fmt_*.c.
 *
 * The engine hands a format the bytes it holds; the format consumes the
 * whole records at their front and keeps only offsets (never pointers)
 * into a record it has begun, because the engine may move the unconsumed
 * bytes into its own buffer and call again with more appended.
 */
#ifndef POOL_DESENS_FMT_H
#define POOL_DESENS_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "policy/desens/desens.h"
#include "policy/desens/mask.h"
#include "policy/desens/text.h"

struct desens;

struct desens_format {
	const char *name;
	/* Called once the encoding is known; sets d->fs. */
	int (*init)(struct desens *d, struct perr *e);
	/*
	 * Consumes the whole records at the front of buf[0..len), appending
	 * their view to out, and sets *used; advances d->base and d->line
	 * past them. With eof the input ends at len and all must be used.
	 */
	int (*run)(struct desens *d, const uint8_t *buf, size_t len, bool eof,
		   size_t *used, struct strbuf *out, struct perr *e);
	void (*release)(struct desens *d);
	/*
	 * The view can be cut at record boundaries (desens_cut.h): the view
	 * of a record depends only on the record and on what precedes
	 * d->body (the BOM and a CSV header).
	 */
	bool cuttable;
};

extern const struct desens_format desens_fmt_csv, desens_fmt_tsv;
extern const struct desens_format desens_fmt_jsonl, desens_fmt_json;

/*
 * A field the rules name: listed in rules->fields, read by a filter, or
 * both. Names in the file are matched to it after the same normalization
 * (surrounding whitespace removed, NFC) whatever the file's encoding.
 */
struct desens_slot {
	char *label;			/* the name as the rules give it, for messages */
	uint8_t *name;			/* normalized, in UTF-8 */
	size_t namelen;
	struct mask_spec mask;		/* MASK_NONE when only filtered */
	bool listed;
	bool filtered;
};

struct desens_bytes {
	uint8_t *p;
	size_t n;
};

struct desens_filter {
	enum row_op op;
	int slot;			/* EQ NE IN PREFIX */
	struct desens_bytes *values;	/* normalized UTF-8: NFKC for NE, else NFC */
	size_t nvalues;
	struct desens_filter *subs;	/* ALL ANY */
	size_t nsubs;
};

/*
 * The raw (unescaped) value of a filtered slot in the current record, set
 * by the format; its normalized forms are computed on first use.
 */
struct desens_val {
	const uint8_t *p;
	size_t n;
	bool set;
	uint8_t normed;			/* bit per enum nfc_form: noff, nlen valid */
	size_t noff[2], nlen[2];	/* in d->vnorm */
};

#define DESENS_MEMO	32
#define DESENS_MEMO_WAYS	4
#define DESENS_MEMO_LEN	47

struct desens {
	const struct desens_format *fmt;
	void *fs;			/* the format's own state */
	enum text_enc enc;
	bool drop_unlisted;
	struct desens_slot *slots;
	size_t nslots;
	struct desens_filter *filter;	/* NULL: every record */
	struct desens_val *vals;	/* by slot; meaningful only for filtered slots */
	struct mask_ctx *mc;
	uint8_t *key;			/* until the mask context exists */
	size_t keylen;
	uint64_t base;			/* stream offset of the next unconsumed byte */
	uint64_t line;			/* line number where that byte lies */
	uint64_t nin, nout;		/* records read, written */
	/* set by a cuttable format once it knows where the records begin */
	bool body_known;
	uint64_t body;
	struct strbuf pending;		/* the record begun, not yet whole */
	struct strbuf mbuf;		/* one masked value */
	struct strbuf scratch;		/* unescaped values of one record */
	struct text_conv *to_utf8;	/* GB18030 files: names and values to compare */
	struct strbuf vnorm;		/* normalized filter values of one record */
	struct strbuf knorm, conv;	/* one normalized name; one converted text */
	/*
	 * Names found lately and their slots, by a hash of their bytes: a
	 * JSON Lines file repeats its keys in every record, and normalizing
	 * each again cost a fifth of the engine's time on such a file.
	 */
	struct {
		uint8_t n;		/* 0: empty */
		uint8_t b[DESENS_MEMO_LEN];
		uint64_t x, y;		/* desens.c memo_words() */
		int slot;
	} memo[DESENS_MEMO];
	int state;			/* enum in desens.c */
	int err;			/* the first error, replayed */
	struct perr perr;
};

/*
 * The slot named name[0..n) (valid text in the file's encoding, unescaped)
 * once normalized, or -1. A character with no Unicode mapping matches no
 * name.
 */
int desens_slot_find(struct desens *d, const uint8_t *name, size_t n);

/*
 * Whether the current record (d->vals) passes the row filter. Values are
 * compared normalized like names: eq, in and prefix under NFC, ne under
 * NFKC (a value that only looks different from the excluded one is
 * excluded too).
 */
bool desens_row_passes(struct desens *d);

/* Clears d->vals before a record. */
void desens_vals_reset(struct desens *d);

/*
 * Records an -EIO for input at stream offset off with a message naming
 * line and offset: "line 3, byte 57: ...". Returns -EIO.
 */
int desens_bad(struct desens *d, struct perr *e, uint64_t line, uint64_t off,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* -EIO for a record at line that passed DESENS_RECORD_MAX. */
int desens_too_long(struct desens *d, struct perr *e, uint64_t line);

/*
 * Checks rec[0..n) is valid text without NUL; on failure names the line
 * (counting from line, rec starting at stream offset off) and returns -EIO.
 */
int desens_check_text(struct desens *d, struct perr *e, const uint8_t *rec,
		      size_t n, uint64_t line, uint64_t off);

/*
 * The end of the longest prefix of buf[0..len) that ends in an LF and is
 * valid text without NUL (checked in one go), or NULL. Per record the
 * check's set-up cost as much as its scan; a line end is ASCII, so no
 * character straddles it. A format reads the records past it, or all
 * when the check fails, as before, so the first bad one is named.
 */
const uint8_t *desens_text_ok(struct desens *d, const uint8_t *buf, size_t len);

/* Lines feeds in p[0..n). */
size_t desens_count_nl(const uint8_t *p, size_t n);

/* True when p[0..n) starts with a UTF-8 or GB18030 byte order mark. */
bool desens_starts_bom(const uint8_t *p, size_t n);

#endif
