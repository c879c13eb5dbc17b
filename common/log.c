/*
 * common/log.c - operator diagnostics to stderr.
 *
 * Under systemd, stderr is a stream into the journal; a "<N>" prefix
 * (syslog priority) then gives each line its level there, so
 * `journalctl -p err` finds errors. systemd says so by JOURNAL_STREAM
 * ("DEV:INO" of that stream); stderr must still be it, or a redirected
 * log would get the prefixes.
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static enum log_level log_level = LOG_LVL_WARN;

void log_set_level(enum log_level lvl)
{
	log_level = lvl;
}

static int to_journal(void)
{
	static int known = -1;
	const char *env;
	unsigned long long dev, ino;
	struct stat st;

	if (known >= 0)
		return known;
	env = getenv("JOURNAL_STREAM");
	known = env && sscanf(env, "%llu:%llu", &dev, &ino) == 2 &&
		fstat(2, &st) == 0 && (unsigned long long)st.st_dev == dev &&
		(unsigned long long)st.st_ino == ino;
	return known;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	static const char prio[] = { '3', '4', '6', '7' };
	va_list ap;

	if (lvl > log_level)
		return;
	if (to_journal())
		fprintf(stderr, "<%c>", prio[lvl]);
	fprintf(stderr, "poolfs: %s: ", names[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
