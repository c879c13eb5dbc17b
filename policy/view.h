/*
 * policy/view.h - the rules of one reader's view of a file, as plain data.
 *
 * The contract between the two halves of policy/: the decision engine
 * (policy/; policy/viewbuild.c builds these from catalog tags and
 * grants at parse time) and the desensitization engine (policy/desens/,
 * which applies them and never sees the policy model). A view with no
 * masks, no removed fields and no row filter is never built: the
 * decision then carries view == NULL, meaning raw content.
 */
#ifndef POOL_VIEW_H
#define POOL_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

enum mask_kind {
	MASK_NONE,		/* raw value */
	MASK_KEEP,		/* keep(F,L) */
	MASK_ID_CARD,		/* keep(6,4) on 18-char IDs */
	MASK_PHONE,		/* keep(3,4) */
	MASK_NAME,		/* keep(1,0) */
	MASK_BANK_CARD,		/* keep(6,4) */
	MASK_ADDRESS,		/* keep(6,0) */
	MASK_EMAIL,		/* a***@domain */
	MASK_HASH,		/* HMAC-SHA256 hex, the reading department's key */
	MASK_YEAR,		/* a date keeps its year */
	MASK_REDACT,		/* empty value */
	MASK_DROP,		/* the column is removed */
};

struct mask_spec {
	enum mask_kind kind;
	int keep_first, keep_last;	/* MASK_KEEP only */
};

/*
 * Parses a mask name ("none", "keep(3,4)", "id_card", ... "drop").
 * Returns 0 or -EINVAL with a message naming the bad text.
 */
int mask_spec_parse(const char *text, struct mask_spec *out, struct perr *e);
/* Writes the canonical text of m ("keep(3,4)") into buf. */
void mask_spec_format(const struct mask_spec *m, char *buf, size_t len);
bool mask_spec_equal(const struct mask_spec *a, const struct mask_spec *b);
/*
 * A mask that shows no more of any value than a and no more than b: the
 * one when the other is none or they are equal, drop over anything, stars
 * (keep(0,0)) for two masks that both keep the length, else redact.
 */
void mask_spec_meet(const struct mask_spec *a, const struct mask_spec *b,
		    struct mask_spec *out);

enum row_op { ROW_EQ, ROW_NE, ROW_IN, ROW_PREFIX, ROW_ALL, ROW_ANY };

/*
 * The deepest row_filter node the engine accepts (the root is depth 0).
 * The policy parser keeps a grant's own filter one level shallower, so
 * the "all" that joins a department's lapsed grants still fits.
 * policy/desens/desens.c spells the same value: a differing definition there is
 * a compile error, so parser and engine cannot drift apart.
 */
#define FILTER_DEPTH_MAX	32

/* The derivation of department hash keys new views use (store_hash_key()). */
#define VIEW_HASH_KEY_VERSION	1

struct row_filter {
	enum row_op op;
	char *field;			/* EQ NE IN PREFIX */
	char **values;			/* EQ NE PREFIX: one; IN: many */
	size_t nvalues;
	struct row_filter *subs;	/* ALL ANY */
	size_t nsubs;
};

enum view_format { VIEW_CSV, VIEW_TSV, VIEW_JSONL, VIEW_JSON, VIEW_OTHER };

struct view_field {
	char *name;			/* header name or top-level JSON key */
	struct mask_spec mask;		/* MASK_DROP removes it */
};

struct view_rules {
	enum view_format format;
	char *encoding;			/* "utf-8" or "gb18030"; a BOM overrides */
	bool drop_unlisted;		/* a grant listed fields: drop all others */
	struct view_field *fields;
	size_t nfields;
	struct row_filter *rows;	/* NULL: every row */
	/*
	 * The department whose hash key the view's hash masks use (borrowed
	 * from the policy), NULL when no field is hashed; with the key's
	 * derivation version, part of the fingerprint, so two departments
	 * never share a cached hashed view.
	 */
	const char *hash_dept;
	unsigned hash_key_version;	/* VIEW_HASH_KEY_VERSION when hash_dept */
	uint8_t fingerprint[32];	/* SHA-256 over the canonical rules */
};

#endif
