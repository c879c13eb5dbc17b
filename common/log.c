/*
 * common/log.c - operator diagnostics to stderr.
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>

static enum log_level log_level = LOG_LVL_WARN;

void log_set_level(enum log_level lvl)
{
	log_level = lvl;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	va_list ap;

	if (lvl > log_level)
		return;
	fprintf(stderr, "poolfs: %s: ", names[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
