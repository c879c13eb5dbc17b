/*
 * store/blob_gc.c - a garbage-driven pass over the chunks family's blob
 * files (why: store/blob_gc.h).
 *
 * Garbage comes only from view eviction and abandoned writes (file
 * versions never drop a chunk), so a pool that only grows never pays
 * for a rewrite, and one whose views churn pays about once per quarter
 * of its blob bytes turned over: the space kept by garbage stays below
 * a third of the live bytes, and a backup copies the rewritten files at
 * that rhythm, not after every compaction.
 */
#include "store/blob_gc.h"
#include "store/internal.h"

#include <errno.h>
#include <stdlib.h>

#include "common/log.h"

static pthread_mutex_t gc_mu = PTHREAD_MUTEX_INITIALIZER;

static int set_gc(struct store *s, bool on)
{
	static const char *const keys[] = { "enable_blob_garbage_collection",
					    "blob_garbage_collection_age_cutoff" };
	const char *const vals[] = { on ? "true" : "false", on ? "1.0" : "0.25" };
	char *err = NULL;

	rocksdb_set_options_cf(s->db, s->cf[CF_CHUNKS], 2, keys, vals, &err);
	if (err) {
		log_err("%s: blob GC: cannot set the chunks family's options: %s", s->dir, err);
		free(err);
		return -EIO;
	}
	return 0;
}

static void blob_sizes(struct store *s, struct blob_gc_stats *st)
{
	if (rocksdb_property_int_cf(s->db, s->cf[CF_CHUNKS], "rocksdb.live-blob-file-size",
				    &st->blob_bytes))
		st->blob_bytes = 0;
	if (rocksdb_property_int_cf(s->db, s->cf[CF_CHUNKS],
				    "rocksdb.live-blob-file-garbage-size", &st->garbage))
		st->garbage = 0;
}

int store_blob_gc(struct store *s, bool force, struct blob_gc_stats *st)
{
	rocksdb_compactoptions_t *co;
	int ret;

	st->ran = false;
	blob_sizes(s, st);
	if (!force && (st->garbage < BLOB_GC_MIN_BYTES ||
		       st->garbage < st->blob_bytes / BLOB_GC_RATIO))
		return 0;
	if (s->flags & STORE_OPEN_RDONLY)
		return 0;
	if (pthread_mutex_trylock(&gc_mu))
		return 0;
	ret = set_gc(s, true);
	if (!ret) {
		co = rocksdb_compactoptions_create();
		/* the bottom level too: that is where most keys and their blobs sit */
		rocksdb_compactoptions_set_bottommost_level_compaction(co, 2 /* kForce */);
		rocksdb_compact_range_cf_opt(s->db, s->cf[CF_CHUNKS], co, NULL, 0, NULL, 0);
		rocksdb_compactoptions_destroy(co);
		ret = set_gc(s, false);
		st->ran = true;
		log_info("%s: blob GC: %llu of %llu blob bytes were garbage; rewritten",
			 s->dir, (unsigned long long)st->garbage,
			 (unsigned long long)st->blob_bytes);
		blob_sizes(s, st);
	}
	pthread_mutex_unlock(&gc_mu);
	return ret;
}
