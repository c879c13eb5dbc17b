/*
 * tests/pack_util.h - what the pack tests (test_pack.c, test_pack_gc.c)
 * share on top of tests/store_util.h: a file made and written in 1 MiB
 * steps (a large commit lands in a pack), a pack file's size, the
 * suite's pool reopened (a reopened store appends to a new pack), and
 * scrub's count of damage.
 */
#ifndef POOL_TEST_PACK_UTIL_H
#define POOL_TEST_PACK_UTIL_H

#include <CUnit/Basic.h>
#include <stdio.h>
#include <sys/stat.h>

#include "store/scrub.h"
#include "tests/store_util.h"

static const struct store_writer pack_writer = { 1000, 2000, 42, "gongan", "zhang" };

static inline uint64_t mkfile(const char *name)
{
	struct store_attr a;
	int ret = store_mknode(S, STORE_ROOT_INO, name, STORE_REG, 0644, 1000, 2000, NULL, &a,
			       NULL);

	CU_ASSERT_EQUAL_FATAL(ret, 0);
	return a.ino;
}

/* Replaces ino's content in s with buf, written in steps of 1 MiB, and commits it. */
static inline int write_in(struct store *s, uint64_t ino, const uint8_t *buf, size_t len)
{
	struct store_stage *st;
	uint64_t v;
	int ret = store_stage_open(s, ino, &st);

	if (ret)
		return ret;
	ret = store_stage_truncate(st, 0);
	for (size_t done = 0; !ret && done < len; done += 1u << 20)
		ret = store_stage_write(st, buf + done, len - done < (1u << 20) ? len - done :
					(1u << 20), done);
	if (!ret)
		ret = store_stage_commit(st, &pack_writer, NULL, &v);
	store_stage_close(st);
	return ret;
}

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
