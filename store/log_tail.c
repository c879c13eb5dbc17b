/*
 * store/log_tail.c - the store against the end of its log.
 *
 * Whoever holds the disk can cut the newest records off the log and put
 * back the sealed head from an older copy of the store: the log is then
 * an intact, shorter one, and the chain alone cannot tell (the auditor's
 * anchor can). What the cut records made is still in the store, though:
 * inode numbers only grow, so an inode above the highest one the log
 * names was made by a record that is gone; a file's version numbers
 * only grow, so a version above the newest the log made of that file
 * was made by a commit whose record is gone. Both are one seek each (the
 * last inode record; per file the log made versions of, the row after
 * its newest). A cut that took only reads, or changes to files and names
 * the log names again later, leaves nothing to find: docs/audit.md.
 */
#include "store/log_tail.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/codec.h"

void log_tail_commit(struct log_tail *t, uint64_t ino, uint64_t version)
{
	ALLOC_GROW(t->v, t->n + 1, t->alloc);
	t->v[t->n++] = (struct log_made){ ino, version };
}

static int made_cmp(const void *a, const void *b)
{
	const struct log_made *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->version < y->version ? -1 : x->version > y->version;
}

/*
 * The key of the last row of cf at or before key (klen bytes) into out
 * (its first 16 bytes; *olen its whole length, 0 when none).
 */
static int last_at(struct store *s, rocksdb_readoptions_t *ro, enum store_cf cf,
		   const uint8_t *key, size_t klen, uint8_t out[16], size_t *olen)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, ro, s->cf[cf]);
	size_t n = 0;

	rocksdb_iter_seek_for_prev(it, (const char *)key, klen);
	if (rocksdb_iter_valid(it)) {
		const char *k = rocksdb_iter_key(it, &n);

		memcpy(out, k, n < 16 ? n : 16);
	}
	*olen = n;
	return store_iter_end(s, it, "log tail", 0);
}

int log_tail_check(struct store *s, rocksdb_readoptions_t *ro, struct log_tail *t, char *msg,
		   size_t len)
{
	uint8_t key[16], got[16];
	size_t glen;
	int ret;

	if (t->max_ino) {
		key[0] = 'i';
		memset(key + 1, 0xff, 8);
		ret = last_at(s, ro, CF_TREE, key, 9, got, &glen);
		if (ret)
			return ret;
		if (glen == 9 && got[0] == 'i' && get_be64(got + 1) > t->max_ino) {
			snprintf(msg, len, "inode %" PRIu64 " is in the store, but the log names no "
				 "inode after %" PRIu64 ": the records that made it are missing (the "
				 "log's tail cut off and an older head put back, or the inode made "
				 "outside the pool)", get_be64(got + 1), t->max_ino);
			return -EBADMSG;
		}
	}
	if (t->n)
		qsort(t->v, t->n, sizeof(t->v[0]), made_cmp);
	for (size_t i = 0; i < t->n; i++) {
		const struct log_made *m = &t->v[i];

		if (i + 1 < t->n && t->v[i + 1].ino == m->ino)
			continue;	/* the newest the log made of each file */
		put_be64(key, m->ino);
		put_be64(key + 8, UINT64_MAX);
		ret = last_at(s, ro, CF_VERSIONS, key, 16, got, &glen);
		if (ret)
			return ret;
		if (glen == 16 && get_be64(got) == m->ino && get_be64(got + 8) > m->version) {
			snprintf(msg, len, "version %" PRIu64 " of inode %" PRIu64 " is in the store, "
				 "but the log's newest commit of that file made version %" PRIu64 ": "
				 "the records of the commits after it are missing (the log's tail cut "
				 "off and an older head put back, or the version made outside the pool)",
				 get_be64(got + 8), m->ino, m->version);
			return -EBADMSG;
		}
	}
	return 0;
}

void log_tail_release(struct log_tail *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}
