/*
 * tests/pool_util.h - a fresh pool for each test that wants one, in a
 * temporary directory made by suite_init() (one per binary): S, open at
 * pool_dir, reopened or closed. Define POOL_TEST_NAME (the binary's name,
 * used for its temporary directory) before including.
 *
 * Header-only (static inline) because the Makefile links each
 * tests/test_*.c on its own against libpool.a.
 */
#ifndef POOL_TEST_POOL_UTIL_H
#define POOL_TEST_POOL_UTIL_H

#ifndef POOL_TEST_NAME
#error "define POOL_TEST_NAME before including tests/pool_util.h"
#endif

#include <CUnit/Basic.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "store/store.h"

static char tmp_root[] = "/tmp/" POOL_TEST_NAME ".XXXXXX";
static int pool_no;
static char pool_dir[256];
static struct store *S;

static inline int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static inline int suite_init(void)
{
	return mkdtemp(tmp_root) ? 0 : -1;
}

static inline int suite_clean(void)
{
	return nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new pool, as store_create() leaves it, open as S. */
static inline void pool_new(void)
{
	struct perr e = PERR_INIT;

	snprintf(pool_dir, sizeof(pool_dir), "%s/pool%d", tmp_root, ++pool_no);
	CU_ASSERT_EQUAL_FATAL(store_create(pool_dir, &e), 0);
	CU_ASSERT_EQUAL_FATAL(store_open(pool_dir, 0, &S, &e), 0);
}

/* Opens pool_dir again, closing S first if it is open. */
static inline void pool_reopen(void)
{
	struct perr e = PERR_INIT;

	store_close(S);
	S = NULL;
	CU_ASSERT_EQUAL_FATAL(store_open(pool_dir, 0, &S, &e), 0);
}

static inline void pool_done(void)
{
	store_close(S);
	S = NULL;
}

#endif
