/*
 * common/log.c - operator diagnostics to stderr.
 *
 * Under systemd, stderr is a stream into the journal; a "<N>" prefix
 * (syslog priority) then gives each line its level there, so
 * `journalctl -p err` finds errors. systemd says so by JOURNAL_STREAM
 * ("DEV:INO" of that stream); stderr must still be it, or a redirected
 * log would get the prefixes.
 *
 * A message quotes names others chose (a path a department made), so its
 * control characters go out as \xNN: a newline in a file name would
 * otherwise start a line of its own, with a "<0>" of its choosing, which
 * the journal takes as poolfs's emergency (and sends to every terminal).
 * The line is written with one call, whole, among other threads' lines.
 */
#include "common/log.h"

#include "common/esc.h"
#include "common/strbuf.h"

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
	struct strbuf msg = STRBUF_INIT, line = STRBUF_INIT;
	va_list ap;

	if (lvl > log_level)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	if (to_journal())
		strbuf_addf(&line, "<%c>", prio[lvl]);
	strbuf_addf(&line, "poolfs: %s: ", names[lvl]);
	esc_add(&line, msg.buf);
	strbuf_addch(&line, '\n');
	fwrite(line.buf, 1, line.len, stderr);
	strbuf_release(&msg);
	strbuf_release(&line);
}
