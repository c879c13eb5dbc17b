/*
 * common/error.h - the one error convention.
 *
 * Functions return 0 or a negative errno. Where a person must be told
 * what went wrong, the function also fills a struct perr passed by the
 * caller: one line, lower-case, no full stop, naming what and where, e.g.
 * `grants[2].entry: no catalog entry with code "341800-X"`.
 * A NULL struct perr * is allowed everywhere and means "no message wanted".
 */
#ifndef POOL_ERROR_H
#define POOL_ERROR_H

struct perr {
	int code;		/* positive errno, 0 when unset */
	char msg[512];
};

#define PERR_INIT { 0, "" }

/* Records the message (first error wins) and returns -code. */
int perr_set(struct perr *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The message if one was set, else strerror(code). Never NULL. */
const char *perr_msg(const struct perr *e, int code);

#endif
