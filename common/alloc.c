/*
 * common/alloc.c - allocation that does not fail (see common/alloc.h).
 */
#include "common/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *oom(size_t size)
{
	fprintf(stderr, "poolfs: out of memory allocating %zu bytes\n", size);
	abort();
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	return p ? p : oom(size);
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	return p ? p : oom(nmemb * size);
}

void *xreallocarray(void *p, size_t nmemb, size_t size)
{
	void *q;

	if (size && nmemb > (size_t)-1 / size)
		return oom((size_t)-1);
	q = realloc(p, nmemb && size ? nmemb * size : 1);
	return q ? q : oom(nmemb * size);
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	return p ? p : oom(strlen(s) + 1);
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	return p ? p : oom(n + 1);
}

void *alloc_grow(void *p, size_t *alloc, size_t need, size_t elem)
{
	size_t na = *alloc ? *alloc : 16;

	if (need <= *alloc)
		return p;
	while (na < need) {
		if (na > (size_t)-1 / 2)
			return oom((size_t)-1);
		na *= 2;
	}
	p = xreallocarray(p, na, elem);
	*alloc = na;
	return p;
}
