/*
 * tests/store_util.h - the suite setup the store tests share: one pool
 * (S, in pooldir) in a temporary directory made at suite start, below
 * $TMPDIR (tests/run.sh points it at the run's directory) or /tmp, and
 * removed with everything in it at suite end.
 *
 * Header-only because the Makefile links each tests/test_*.c on its own.
 * Pass a suite_init that calls store_suite_init(NAME), and
 * store_suite_clean, to unit_tests_run().
 */
#ifndef POOL_TEST_STORE_UTIL_H
#define POOL_TEST_STORE_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/store.h"

static struct store *S;
static char tmpdir[4096];
static char pooldir[4200];

static inline int store_rm_entry(const char *path, const struct stat *sb, int flag,
				 struct FTW *ftw)
{
	return remove(path);
}

/* Makes $TMPDIR/test_NAME.XXXXXX (or under /tmp) and a pool in it. */
static inline int store_suite_init(const char *name)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test_%s.XXXXXX", base ? base : "/tmp", name);
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(pooldir, sizeof(pooldir), "%s/pool", tmpdir);
	if (store_create(pooldir, NULL) || store_open(pooldir, 0, &S, NULL))
		return -1;
	return 0;
}

static inline int store_suite_clean(void)
{
	store_close(S);
	return nftw(tmpdir, store_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
