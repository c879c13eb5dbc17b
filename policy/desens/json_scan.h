/*
 * policy/desens/json_scan.h - the strict JSON reader under fmt_json.c. Private to
 * policy/.
 *
 * A struct jp is one parse of one record p[0..n): i is the position, and
 * errors name the line and stream offset from line and off. Every reader
 * returns 0 with i past what it read, or -EIO with a message in e.
 */
#ifndef POOL_JSON_SCAN_H
#define POOL_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/desens/desens_fmt.h"

#define JSON_DEPTH_MAX	512

enum jtype { J_STR, J_NUM, J_TRUE, J_FALSE, J_NULL, J_OBJ, J_ARR };

struct jp {
	struct desens *d;
	const uint8_t *p;
	size_t n, i;
	uint64_t line, off;		/* of p[0] */
	struct perr *e;
	uint8_t *stack;			/* JSON_DEPTH_MAX bytes of scratch */
	struct text_conv **to_enc;	/* UTF-8 to GB18030, made on first need */
	bool valid;			/* p[0..n) is valid UTF-8 without NUL */
};

/* -EIO: "line L, byte B: malformed JSON: what" at j->i. */
int jscan_bad(struct jp *j, const char *what);
/* Skips whitespace; inline: called between every two tokens, mostly finding none. */
static inline void jscan_ws(struct jp *j)
{
	while (j->i < j->n) {
		uint8_t c = j->p[j->i];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return;
		j->i++;
	}
}
/* At '"'; *esc tells whether the string holds escapes. */
int jscan_string(struct jp *j, bool *esc);
/* One string, number or literal at j->i; *type is its enum jtype. */
int jscan_scalar(struct jp *j, uint8_t *type);
/* Any value, nesting included (no recursion); *type is its enum jtype. */
int jscan_value(struct jp *j, uint8_t *type);
/*
 * Unescapes the string p[s..e) (quotes included) in the file's encoding,
 * appending to d->scratch; *v points there. j->i is left as it was.
 */
int jscan_decode(struct jp *j, size_t s, size_t e, const uint8_t **v, size_t *n);
/* Appends valid text v[0..n) as a JSON string. */
void jscan_put_string(enum text_enc enc, struct strbuf *out, const uint8_t *v, size_t n);

#endif
