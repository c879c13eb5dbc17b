/*
 * store/key_log.c - a key record put back from before a rotation is
 * refused.
 *
 * `poolctl key rotate` rewrites meta "crypt" with a new current data key,
 * and every record after it, its own "key.rotate" first, is sealed with
 * that key (each envelope names its key). Meta "crypt" is a row the disk
 * holder may put back as it was (wrapped with the same master key, so it
 * opens): new writes would then be sealed with the old key, the one the
 * rotation was to retire. The log cannot be rolled back past the
 * auditor's anchor, so at open no record may be sealed with a key newer
 * than the record's current one (store/tree_tag.c refuses an untagged
 * record after a tagging the same way).
 *
 * So that an open does not read the whole log, meta "key_seen" keeps how
 * far it was read and the highest key it was sealed with, with a mark
 * under the audit key (store_mark()): an open reads only the keys of the
 * records after it, not their contents. A row put back from before the
 * rotation only makes the read longer; one edited or deleted fails its
 * mark and the whole log is read again.
 *
 *   meta "key_seen" = be64 seq || be32 key id || mark (COMMIT_MARK_HEX)
 */
#include "store/key_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/log.h"
#include "store/commit_mark.h"
#include "store/crypt.h"
#include "store/crypt_store.h"

#define META_KEY_SEEN	"key_seen"
#define SEEN_LEN	(8 + 4)

static const char label[] = "poolfs key seen";

struct key_walk {
	uint64_t from;			/* records up to this seq were read before */
	uint64_t head;			/* the newest record's seq */
	uint32_t key;			/* the highest key a record is sealed with */
	uint64_t key_seq;		/* its record */
};

static int mark_of(struct store *s, const uint8_t seen[SEEN_LEN], char hex[COMMIT_MARK_HEX + 1])
{
	uint8_t msg[sizeof(label) + SEEN_LEN];

	memcpy(msg, label, sizeof(label));
	memcpy(msg + sizeof(label), seen, SEEN_LEN);
	return store_mark(s, msg, sizeof(msg), hex);
}

/* What meta "key_seen" says, when its mark holds; else nothing was read. */
static void seen_load(struct store *s, struct key_walk *w)
{
	struct strbuf v = STRBUF_INIT;
	char hex[COMMIT_MARK_HEX + 1];

	if (!store_get(s, CF_META, META_KEY_SEEN, strlen(META_KEY_SEEN), &v) &&
	    v.len == SEEN_LEN + COMMIT_MARK_HEX &&
	    !mark_of(s, (const uint8_t *)v.buf, hex) &&
	    !memcmp(hex, v.buf + SEEN_LEN, COMMIT_MARK_HEX)) {
		w->from = get_be64((const uint8_t *)v.buf);
		w->key = get_be32((const uint8_t *)v.buf + 8);
	}
	strbuf_release(&v);
}

/* best effort: without the row the next open reads the whole log again */
static void seen_store(struct store *s, const struct key_walk *w)
{
	uint8_t v[SEEN_LEN + COMMIT_MARK_HEX];
	char hex[COMMIT_MARK_HEX + 1];
	rocksdb_writebatch_t *b;

	put_be64(v, w->head);
	put_be32(v + 8, w->key);
	if (mark_of(s, v, hex))
		return;
	memcpy(v + SEEN_LEN, hex, COMMIT_MARK_HEX);
	b = rocksdb_writebatch_create();
	rocksdb_writebatch_put_cf(b, s->cf[CF_META], META_KEY_SEEN, strlen(META_KEY_SEEN),
				  (const char *)v, sizeof(v));
	if (store_write(s, b, false))
		log_warn("%s: cannot note how far the log was read for key rotations", s->dir);
	rocksdb_writebatch_destroy(b);
}

/*
 * The records after w->from, newest first: the highest data key any is
 * sealed with (the envelope names it; nothing is opened, so a key the
 * keyset lacks is seen too).
 */
static int walk_log(struct store *s, struct key_walk *w)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropt, s->cf[CF_AUDIT]);

	for (rocksdb_iter_seek_to_last(it); rocksdb_iter_valid(it); rocksdb_iter_prev(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen), *v = rocksdb_iter_value(it, &vlen);
		uint64_t seq;
		uint32_t key;

		if (klen != 8)
			continue;
		seq = get_be64((const uint8_t *)k);
		if (seq <= w->from)
			break;
		if (!w->head)
			w->head = seq;
		key = vlen > 8 ? crypt_key_of((const uint8_t *)v + 8, vlen - 8) : 0;
		if (key > w->key) {
			w->key = key;
			w->key_seq = seq;
		}
	}
	return store_iter_end(s, it, "audit log", 0);
}

int key_log_check(struct store *s, struct perr *e)
{
	struct key_walk w = { 0 };
	uint32_t cur;
	int ret;

	if (!s->crypt)
		return 0;
	cur = crypt_current(s->crypt->k);
	seen_load(s, &w);
	ret = audit_drain(s);
	if (!ret)
		ret = walk_log(s, &w);
	if (ret)
		return perr_set(e, -ret, "%s: cannot read the audit log for the data keys it was "
				"sealed with: %s", s->dir, strerror(-ret));
	if (w.key > cur) {
		log_err("%s: the audit log is sealed with data key %u, but meta \"crypt\" makes "
			"key %u current", s->dir, (unsigned)w.key, (unsigned)cur);
		if (w.key_seq)
			return perr_set(e, EKEYREJECTED, "%s: refused: audit record %llu is sealed "
					"with data key %u, but the key record makes key %u current: "
					"it was put back from before the rotation", s->dir,
					(unsigned long long)w.key_seq, (unsigned)w.key,
					(unsigned)cur);
		return perr_set(e, EKEYREJECTED, "%s: refused: the audit log was sealed with data "
				"key %u, but the key record makes key %u current: it was put back "
				"from before the rotation", s->dir, (unsigned)w.key, (unsigned)cur);
	}
	if (w.head && !(s->flags & STORE_OPEN_RDONLY))
		seen_store(s, &w);
	return 0;
}
