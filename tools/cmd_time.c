/*
 * tools/cmd_time.c - the times admins type: --since and --until of the
 * audit commands, explain's --at.
 *
 * Hand-written rather than strptime: strptime accepts "2026-02-31" and
 * ignores what follows the format, and a time that means something else
 * than was typed would silently widen or narrow an audit search.
 */
#include "tools/cmd.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_PER_SEC	1000000000LL

/* Reads exactly n digits at *p. */
static int digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -EINVAL;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return 0;
}

static int days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

/* "[.fraction](Z|z|+HH:MM|-HH:MM|)" after the seconds; no zone is UTC. */
static int parse_zone(const char *p, int64_t *frac_ns, int64_t *offset)
{
	int64_t scale = NS_PER_SEC / 10;
	int oh, om;

	*frac_ns = 0;
	*offset = 0;
	if (*p == '.') {
		if (*++p < '0' || *p > '9')
			return -EINVAL;
		/* nanoseconds are all the log keeps; finer digits are dropped */
		for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
			*frac_ns += (*p - '0') * scale;
	}
	if ((*p == 'Z' || *p == 'z') && !p[1])
		return 0;
	if (!*p)
		return 0;
	if (*p != '+' && *p != '-')
		return -EINVAL;
	*offset = *p == '+' ? 1 : -1;
	p++;
	if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || *p || oh > 23 || om > 59)
		return -EINVAL;
	*offset *= oh * 3600 + om * 60;
	return 0;
}

/* "2026-11-22", "2026-11-22T10:00[:00[.5]][Z|+08:00]": seconds and ns. */
static int parse_date(const char *s, int64_t *out)
{
	struct tm tm;
	const char *p = s;
	int64_t frac, offset;
	int y, mo, d, h = 0, mi = 0, sec = 0;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -EINVAL;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || h > 23 || mi > 59)
			return -EINVAL;
		/* 60: a leap second, which the log's clock never shows, as the next one */
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec) || sec > 60)
				return -EINVAL;
		}
	}
	if (parse_zone(p, &frac, &offset))
		return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = ((int64_t)timegm(&tm) - offset) * NS_PER_SEC + frac;
	return 0;
}

/* "-90s", "-15m", "-1h", "-7d", "-2w": a span back from now. */
static int parse_span(const char *s, int64_t now, int64_t *out)
{
	static const struct { char unit; int64_t secs; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 },
	};
	unsigned long long n;
	char *end;

	if (s[1] < '0' || s[1] > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(s + 1, &end, 10);
	if (errno || !end[0] || end[1])
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (*end != units[i].unit)
			continue;
		if (n > (unsigned long long)(INT64_MAX / NS_PER_SEC / units[i].secs))
			return -ERANGE;
		/* may fall before 1970: as --since that is "all", as --until "none" */
		*out = now - (int64_t)n * units[i].secs * NS_PER_SEC;
		return 0;
	}
	return -EINVAL;
}

int cmd_parse_time(const char *s, int64_t now, int64_t *out)
{
	long long secs;
	char *end;

	if (!strcmp(s, "now")) {
		*out = now;
		return 0;
	}
	if (s[0] == '-')
		return parse_span(s, now, out);
	if (s[0] == '@') {
		if (s[1] != '-' && (s[1] < '0' || s[1] > '9'))
			return -EINVAL;
		errno = 0;
		secs = strtoll(s + 1, &end, 10);
		if (errno || *end || secs > INT64_MAX / NS_PER_SEC || secs < INT64_MIN / NS_PER_SEC)
			return -EINVAL;
		*out = secs * NS_PER_SEC;
		return 0;
	}
	/* timegm's range is wider than int64 nanoseconds: years 1678..2261 fit */
	if (strncmp(s, "1678", 4) < 0 || strncmp(s, "2261", 4) > 0)
		return -ERANGE;
	return parse_date(s, out);
}

int64_t cmd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}
