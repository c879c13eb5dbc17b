/*
 * common/strcopy.h - a bounded string copy.
 *
 * What snprintf(dst, size, "%s", src) does, without parsing a format:
 * the policy decision and the audit record copy several names per
 * operation, and each formatted copy cost ten times the bytes it moved
 * (bench/city.sh stat, under callgrind).
 */
#ifndef POOL_COMMON_STRCOPY_H
#define POOL_COMMON_STRCOPY_H

#include <string.h>

/* Copies src into dst of size bytes (size > 0), cut short to fit, always terminated. */
static inline void str_copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

#endif
