/*
 * policy/date.c - grant validity dates, independent of the local time zone.
 *
 * A bare date "YYYY-MM-DD" is a whole UTC day: valid_from starts at its
 * 00:00Z and valid_until ends at the following 00:00Z, so "until
 * 2027-01-01" still allows 2027-01-01. A full RFC 3339 timestamp is the
 * exact instant (valid_until is exclusive). The daemon and poolctl must
 * agree whatever TZ they run under, hence no mktime().
 */
#include "policy/model.h"

#include <errno.h>
#include <string.h>

/* days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant) */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dim[m - 1];
}

/* exactly n decimal digits at s */
static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int parse_date(const char *s, int *y, int *m, int *d)
{
	if (digits(s, 4, y) || s[4] != '-' || digits(s + 5, 2, m) || s[7] != '-' ||
	    digits(s + 8, 2, d))
		return -EINVAL;
	if (*y < 1970 || *m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
		return -EINVAL;
	return 0;
}

/* "HH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" after the 'T'; seconds since midnight, offset applied */
static int parse_clock(const char *s, int64_t *secs)
{
	int hh, mm, ss, oh, om;
	int64_t off = 0;

	if (digits(s, 2, &hh) || s[2] != ':' || digits(s + 3, 2, &mm) || s[5] != ':' ||
	    digits(s + 6, 2, &ss))
		return -EINVAL;
	/* a leap second 60 is valid RFC 3339; it lands on the next minute */
	if (hh > 23 || mm > 59 || ss > 60)
		return -EINVAL;
	s += 8;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -EINVAL;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if ((*s == 'Z' || *s == 'z') && s[1] == '\0') {
		off = 0;
	} else if ((*s == '+' || *s == '-') && strlen(s) == 6) {
		if (digits(s + 1, 2, &oh) || s[3] != ':' || digits(s + 4, 2, &om) ||
		    oh > 23 || om > 59)
			return -EINVAL;
		off = (int64_t)oh * 3600 + om * 60;
		if (*s == '+')
			off = -off;
	} else {
		return -EINVAL;
	}
	*secs = (int64_t)hh * 3600 + mm * 60 + ss + off;
	return 0;
}

int pol_time_parse(const char *s, int end, int64_t *out)
{
	int y, m, d;
	int64_t day, clock;

	if (strlen(s) < 10 || parse_date(s, &y, &m, &d))
		return -EINVAL;
	day = days_from_civil(y, m, d) * 86400;
	if (s[10] == '\0') {
		*out = end ? day + 86400 : day;
		return 0;
	}
	if ((s[10] != 'T' && s[10] != 't') || parse_clock(s + 11, &clock))
		return -EINVAL;
	*out = day + clock;
	return 0;
}
