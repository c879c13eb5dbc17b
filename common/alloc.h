/*
 * common/alloc.h - allocation that does not fail, and growing arrays.
 *
 * Out-of-memory policy (docs/code.md): poolfs aborts. A half-built view,
 * record or decision must never be served, and unwinding a failed
 * allocation through every caller is code no test reaches. The x*
 * functions and ALLOC_GROW print one line and abort() instead of
 * returning NULL; strbuf grows the same way.
 */
#ifndef POOL_ALLOC_H
#define POOL_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
/* realloc(p, nmemb * size), the product checked for overflow. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/*
 * Makes room for at least need elements in the array p of *alloc
 * elements of size elem, growing geometrically; returns the (maybe
 * moved) array and updates *alloc. Use through ALLOC_GROW.
 */
void *alloc_grow(void *p, size_t *alloc, size_t need, size_t elem);

/* Grows array x, of alloc elements allocated, so that nr elements fit. */
#define ALLOC_GROW(x, nr, alloc)						\
	do {									\
		if ((nr) > (alloc))						\
			(x) = alloc_grow((x), &(alloc), (nr), sizeof(*(x)));	\
	} while (0)

#endif
