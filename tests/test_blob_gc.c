/*
 * tests/test_blob_gc.c - blob files and their garbage: compactions keep
 * blob files as they are (a backup after one must not copy them again),
 * and store_blob_gc() rewrites them only when the garbage is worth it,
 * or when forced, after which no garbage is left.
 */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/blob_gc.h"
#include "store/internal.h"
#include "tests/fill_util.h"
#include "tests/store_util.h"
#include "tests/unit_main.h"

#define NBLOBS	8
#define BLOB	(1u << 20)

static int suite_init(void)
{
	return store_suite_init("blob_gc");
}

/* The blob files of the pool's database, as a sorted list of names in out. */
static void blob_files(char *out, size_t len)
{
	char dir[4300];
	struct dirent **v;
	size_t used = 0;
	int n;

	snprintf(dir, sizeof(dir), "%s/db", pooldir);
	out[0] = '\0';
	n = scandir(dir, &v, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		size_t l = strlen(v[i]->d_name);

		if (l > 5 && !strcmp(v[i]->d_name + l - 5, ".blob") && used + l + 2 < len)
			used += (size_t)snprintf(out + used, len - used, "%s ", v[i]->d_name);
		free(v[i]);
	}
	free(v);
}

/* Puts (or deletes) chunk i, and with pair chunk 100 + i, then flushes: one blob file. */
static void put_chunk(int i, bool del, bool pair)
{
	uint8_t key[33] = { 'c' };
	char *err = NULL;
	uint8_t *buf = malloc(BLOB);

	CU_ASSERT_FATAL(buf != NULL);
	fill(buf, BLOB, (uint64_t)i + 1);
	key[1] = (uint8_t)i;
	if (del)
		rocksdb_delete_cf(S->db, S->wopt_sync, S->cf[CF_CHUNKS], (const char *)key,
				  sizeof(key), &err);
	else
		rocksdb_put_cf(S->db, S->wopt_sync, S->cf[CF_CHUNKS], (const char *)key,
			       sizeof(key), (const char *)buf, BLOB, &err);
	CU_ASSERT_PTR_NULL(err);
	free(err);
	err = NULL;
	if (pair) {
		key[1] = (uint8_t)(100 + i);
		rocksdb_put_cf(S->db, S->wopt_sync, S->cf[CF_CHUNKS], (const char *)key,
			       sizeof(key), (const char *)buf, BLOB, &err);
		CU_ASSERT_PTR_NULL(err);
		free(err);
	}
	free(buf);
	CU_ASSERT_EQUAL(store_flush(S, CF_CHUNKS), 0);
}

static void compact_all(void)
{
	rocksdb_compactoptions_t *co = rocksdb_compactoptions_create();

	rocksdb_compactoptions_set_bottommost_level_compaction(co, 2);
	rocksdb_compact_range_cf_opt(S->db, S->cf[CF_CHUNKS], co, NULL, 0, NULL, 0);
	rocksdb_compactoptions_destroy(co);
}

static void test_compaction_keeps_blob_files(void)
{
	char before[4096], after[4096];

	for (int i = 0; i < NBLOBS; i++)
		put_chunk(i, false, true);
	blob_files(before, sizeof(before));
	compact_all();
	blob_files(after, sizeof(after));
	CU_ASSERT_STRING_EQUAL(after, before);
}

static void test_gc_by_threshold(void)
{
	struct blob_gc_stats st;
	char before[4096], after[4096];

	for (int i = 0; i < NBLOBS; i++)
		put_chunk(i, true, false);
	compact_all();
	CU_ASSERT_EQUAL(store_blob_gc(S, false, &st), 0);
	/* 8 MiB of garbage in 16: the ratio is there, the minimum is not */
	CU_ASSERT(st.garbage >= NBLOBS * (uint64_t)BLOB);
	CU_ASSERT(!st.ran);
	blob_files(before, sizeof(before));
	CU_ASSERT_EQUAL(store_blob_gc(S, true, &st), 0);
	CU_ASSERT(st.ran);
	CU_ASSERT_EQUAL(st.garbage, 0);
	CU_ASSERT(st.blob_bytes <= (NBLOBS + 1) * (uint64_t)BLOB);
	blob_files(after, sizeof(after));
	CU_ASSERT_STRING_NOT_EQUAL(after, before);
	/* and compactions after the pass relocate nothing again */
	put_chunk(NBLOBS, false, false);
	blob_files(before, sizeof(before));
	compact_all();
	blob_files(after, sizeof(after));
	CU_ASSERT_STRING_EQUAL(after, before);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "compactions keep blob files", test_compaction_keeps_blob_files },
		{ "GC only over the threshold, or forced", test_gc_by_threshold },
	};

	return unit_tests_run("blob_gc", suite_init, store_suite_clean, tests, UNIT_COUNT(tests));
}
