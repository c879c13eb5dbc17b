/*
 * tests/pack_util.h - what the pack tests (test_pack.c, test_pack_gc.c)
 * share on top of tests/store_util.h: a pack file's size, the suite's
 * pool reopened (a reopened store appends to a new pack), and scrub's
 * count of damage.
 */
#ifndef POOL_TEST_PACK_UTIL_H
#define POOL_TEST_PACK_UTIL_H

#include <CUnit/Basic.h>
#include <stdio.h>
#include <sys/stat.h>

#include "store/scrub.h"
#include "tests/store_util.h"

/* Pack n's size in the suite's pool, or -1 when it is not there. */
static inline off_t pack_size(uint32_t n)
{
	char path[4400];
	struct stat st;

	snprintf(path, sizeof(path), "%s/packs/%08u.pack", pooldir, n);
	return stat(path, &st) ? -1 : st.st_size;
}

static inline void reopen(void)
{
	store_close(S);
	S = NULL;
	CU_ASSERT_EQUAL_FATAL(store_open(pooldir, 0, &S, NULL), 0);
}

static inline void scrub_say(void *arg, const char *line)
{
	(void)arg;
	printf("\n    scrub: %s", line);
}

static inline uint64_t scrub_damaged(void)
{
	struct store_scrub_counts c;

	CU_ASSERT_EQUAL(store_scrub(S, scrub_say, NULL, NULL, &c), 0);
	return c.damaged;
}

#endif
