/*
 * common/error.c - error messages for people.
 */
#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int perr_set(struct perr *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (code < 0)
		code = -code;
	if (e && !e->code) {
		e->code = code;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -code;
}

const char *perr_msg(const struct perr *e, int code)
{
	if (e && e->code && e->msg[0])
		return e->msg;
	return strerror(code < 0 ? -code : code);
}
