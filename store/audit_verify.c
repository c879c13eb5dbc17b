/*
 * store/audit_verify.c - proving the audit log intact, or saying where
 * it is not.
 *
 * Three kinds of evidence, checked in seq order so the first problem
 * reported is the earliest one:
 *   - the chain: record N sits under key N, says seq N, links to the
 *     hash of record N-1 and hashes to the value it claims; times rise.
 *     This catches a changed, removed, inserted or swapped record.
 *   - checkpoints: a signed (seq, hash) every so often. An editor who
 *     recomputes every hash after a change still cannot match one, so
 *     the rewritten stretch is named from the last checkpoint that holds.
 *   - the head: a signed (seq, hash) of the last record, rewritten with
 *     every write. A tail cut off, or records added after it, no longer
 *     match.
 * And the store against the log: a commit's record names the version it
 * made, which must still be stored with that content (store/commit_mark.c),
 * and a tree change's the entries it made and ended, whose last word must
 * be the tree's (store/tree_mark.c).
 * The chain starts at the pool's "init" record, so a log wiped with its
 * head is not an intact empty log. What no signature made with a key in
 * the store can show is a log rebuilt with that key, or replaced by an
 * older copy of itself together with its head: the auditor's anchor
 * (store/audit_anchor.c), kept outside the store, covers that, because
 * it is compared by chain hash, which needs no key.
 */
#include "common/alloc.h"
#include "store/audit_int.h"
#include "store/commit_mark.h"
#include "store/crypt_store.h"
#include "store/log_tail.h"
#include "store/policy_check.h"
#include "store/tree_mark.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"

struct verify {
	struct store *s;
	rocksdb_readoptions_t *ro;
	char algo[AUDIT_ALGO_MAX];
	const EVP_MD *md;
	struct audit_keys keys;
	struct audit_seal *cps;		/* checkpoints in seq order */
	size_t ncp;
	uint64_t good_cp;		/* last checkpoint that matched */
	uint64_t *bad;
	struct perr *e;
	const struct audit_anchor *want;	/* the log must reach it; NULL: none */
	uint64_t policy_applied;	/* the version the last policy.apply made */
	uint64_t policy_seq;		/* and its record; 0: none */
	uint64_t policy_prev, policy_prev_seq;	/* the same before that record */
	uint64_t policy_maybe;		/* an apply whose write failed; 0: none */
	/* the document marks the policy.apply records carry, in seq order */
	struct pmark {
		uint64_t version, seq;
		char mark[COMMIT_MARK_HEX + 1];
	} *pm;
	size_t npm, apm;
	uint64_t plain_until;		/* the last record of a pool before encryption */
	struct tree_log tree;		/* what the tree changes' records say */
	struct log_tail tail;		/* the versions the commits' records made */
	/*
	 * commits whose version is missing, in seq order, until a later
	 * store.write_failed record names them (store/audit.c rejournal())
	 */
	struct unlanded {
		uint64_t seq;
		char *msg;
	} *unl;
	size_t nunl, aunl;
};

#define ULL(x) ((unsigned long long)(x))

static int broken(struct verify *v, uint64_t seq, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Records the first bad seq and why; returns -EBADMSG. A commit before it
 * still waiting for its excuse is the earlier problem: the record that
 * would excuse it is not reached.
 */
static int broken(struct verify *v, uint64_t seq, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (v->nunl && v->unl[0].seq < seq) {
		*v->bad = v->unl[0].seq;
		return perr_set(v->e, EBADMSG, "audit log broken at seq %llu: %s",
				ULL(v->unl[0].seq), v->unl[0].msg);
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	*v->bad = seq;
	return perr_set(v->e, EBADMSG, "audit log broken at seq %llu: %s", ULL(seq), msg);
}

static int load_cps(struct verify *v)
{
	rocksdb_iterator_t *it;
	struct audit_seal c;
	const char *k, *val;
	size_t klen, vlen, alloc = 0;
	char *err = NULL;
	int ret = 0;

	it = rocksdb_create_iterator_cf(v->s->db, v->ro, v->s->cf[CF_META]);
	for (rocksdb_iter_seek(it, AUDIT_META_CP, AUDIT_CP_PREFIX_LEN); rocksdb_iter_valid(it);
	     rocksdb_iter_next(it)) {
		k = rocksdb_iter_key(it, &klen);
		if (klen < AUDIT_CP_PREFIX_LEN || memcmp(k, AUDIT_META_CP, AUDIT_CP_PREFIX_LEN))
			break;
		val = rocksdb_iter_value(it, &vlen);
		if (klen != AUDIT_CP_KEY_LEN || audit_seal_decode(val, vlen, &c) ||
		    c.seq != get_be64((const uint8_t *)k + AUDIT_CP_PREFIX_LEN)) {
			ret = broken(v, klen == AUDIT_CP_KEY_LEN ?
				     get_be64((const uint8_t *)k + AUDIT_CP_PREFIX_LEN) : 0,
				     "a checkpoint record is damaged");
			goto out;
		}
		ALLOC_GROW(v->cps, v->ncp + 1, alloc);
		v->cps[v->ncp++] = c;
	}
	rocksdb_iter_get_error(it, &err);
	if (err)
		ret = perr_set(v->e, EIO, "audit log: cannot read checkpoints: %s", err);
out:
	rocksdb_free(err);
	rocksdb_iter_destroy(it);
	return ret;
}

/* Checks the checkpoint at seq (the record just verified, with hash and time). */
static int check_cp(struct verify *v, size_t *ci, uint64_t seq, const uint8_t hash[32],
		    int64_t time)
{
	const struct audit_seal *c;

	if (*ci >= v->ncp || v->cps[*ci].seq != seq)
		return 0;
	c = &v->cps[(*ci)++];
	if (audit_seal_check(&v->keys, v->algo, AUDIT_SEAL_CP, c))
		return broken(v, seq, "the checkpoint at seq %llu has a wrong signature (forged)",
			      ULL(seq));
	if (memcmp(c->hash, hash, 32) || c->time_ns != time)
		return broken(v, v->good_cp + 1,
			      "records %llu..%llu do not match the signed checkpoint at the end (rewritten)",
			      ULL(v->good_cp + 1), ULL(seq));
	v->good_cp = seq;
	return 0;
}

/* Checks one stored record against the chain so far; fills hash and time. */
static int check_record(struct verify *v, uint64_t seq, const char *val, size_t vlen,
			const uint8_t prev[32], int64_t prev_time, uint8_t hash[32],
			int64_t *time)
{
	struct audit_rec r;
	uint8_t stored[32];
	char prev_hex[65], want_hex[65];
	struct strbuf plain = STRBUF_INIT;
	json_t *o = NULL;
	int ret = 0;

	if (audit_value_open(v->s, seq, val, vlen, &plain, &val, &vlen)) {
		ret = broken(v, seq, "record %llu fails its check (damaged, or moved from "
			     "another key)", ULL(seq));
		goto out;
	}
	if (audit_decode(val, vlen, &o, &r, prev_hex) ||
	    audit_hash_value(val, vlen, prev, v->md, hash, stored)) {
		ret = broken(v, seq, "record %llu is not a valid record", ULL(seq));
		goto out;
	}
	if (r.seq != seq) {
		ret = broken(v, seq, "key %llu holds record %llu (moved or swapped)",
			     ULL(seq), ULL(r.seq));
		goto out;
	}
	hex_encode(prev, 32, want_hex);
	if (strcmp(prev_hex, want_hex)) {
		ret = broken(v, seq, "record %llu does not link to record %llu (a record before it was changed, inserted or removed)",
			     ULL(seq), ULL(seq - 1));
		goto out;
	}
	if (memcmp(hash, stored, 32)) {
		ret = broken(v, seq, "record %llu does not match its hash (changed)", ULL(seq));
		goto out;
	}
	if (r.time_ns <= prev_time) {
		ret = broken(v, seq, "record %llu is older than record %llu", ULL(seq),
			     ULL(seq - 1));
		goto out;
	}
	if (seq == 1 && strcmp(r.op, "init")) {
		ret = broken(v, seq, "record 1 is not the pool's init record (the log was replaced or rebuilt)");
		goto out;
	}
	if (!strcmp(r.op, "policy.apply") && r.result == 0 && r.version) {
		v->policy_prev = v->policy_applied;
		v->policy_prev_seq = v->policy_seq;
		v->policy_maybe = 0;
		v->policy_applied = r.version;
		v->policy_seq = seq;
		if (r.content && strlen(r.content) == COMMIT_MARK_HEX) {
			ALLOC_GROW(v->pm, v->npm + 1, v->apm);
			v->pm[v->npm].version = r.version;
			v->pm[v->npm].seq = seq;
			memcpy(v->pm[v->npm++].mark, r.content, COMMIT_MARK_HEX + 1);
		}
	}
	/* the version a commit made is still in the store, with its content */
	if (r.ino) {
		char msg[400];
		bool unlanded;

		ret = commit_mark_check(v->s, &r, seq > v->plain_until, msg, sizeof(msg),
					&unlanded);
		if (!ret || unlanded)
			log_tail_commit(&v->tail, r.ino, r.version);
		if (ret == -EBADMSG && unlanded) {
			/* deleted, unless a later record says its write failed */
			ALLOC_GROW(v->unl, v->nunl + 1, v->aunl);
			v->unl[v->nunl++] = (struct unlanded){ seq, xstrdup(msg) };
			ret = 0;
		} else if (ret == -EBADMSG)
			ret = broken(v, seq, "%s", msg);
		else if (ret)
			ret = perr_set(v->e, -ret, "cannot read version %llu of inode %llu: %s",
				       ULL(r.version), ULL(r.ino), strerror(-ret));
		if (ret)
			goto out;
	}
	/* what a tree change did, held to the tree once the log is read */
	if (r.tree && !r.result) {
		char msg[400];

		ret = tree_log_add(v->s, &v->tree, &r, msg, sizeof(msg));
		if (ret == -EBADMSG)
			ret = broken(v, seq, "%s", msg);
		else if (ret)
			ret = perr_set(v->e, -ret, "cannot read the audit key: %s", strerror(-ret));
		if (ret)
			goto out;
	}
	/* version..seq-1 were in a write that failed: those commits may not have landed */
	if (!strcmp(r.op, "store.write_failed") && r.result && r.version && r.version < seq) {
		while (v->nunl && v->unl[v->nunl - 1].seq >= r.version)
			free(v->unl[--v->nunl].msg);
		tree_log_unsure(&v->tree, r.version, seq - 1);
		if (v->policy_seq >= r.version) {
			v->policy_maybe = v->policy_applied;
			v->policy_applied = v->policy_prev;
			v->policy_seq = v->policy_prev_seq;
		}
	}
	if (!strcmp(r.op, "audit_break")) {
		ret = broken(v, r.version && r.version < seq ? r.version : seq,
			     "record %llu notes damage found when the store was opened: %s",
			     ULL(seq), r.reason);
		goto out;
	}
	*time = r.time_ns;
out:
	strbuf_release(&plain);
	json_decref(o);
	return ret;
}

/* The anchored record, when seq is it: same chain hash and time. */
static int check_anchor(struct verify *v, uint64_t seq, const uint8_t hash[32], int64_t time)
{
	if (!v->want || v->want->seq != seq)
		return 0;
	if (memcmp(v->want->hash, hash, 32) || v->want->time_ns != time)
		return broken(v, seq, "record %llu is not the anchored record (its chain hash or time differs from the anchor's: the log up to it was changed or rebuilt)",
			      ULL(seq));
	return 0;
}

static int walk(struct verify *v, uint64_t *last, uint8_t hash[32], int64_t *last_time)
{
	rocksdb_iterator_t *it;
	uint8_t prev[32] = { 0 };
	int64_t prev_time = INT64_MIN, time = 0;
	uint64_t expect = 1, seq;
	const char *k, *val;
	size_t klen, vlen, ci = 0;
	char *err = NULL;
	int ret = 0;

	it = rocksdb_create_iterator_cf(v->s->db, v->ro, v->s->cf[CF_AUDIT]);
	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		k = rocksdb_iter_key(it, &klen);
		val = rocksdb_iter_value(it, &vlen);
		if (klen != 8) {
			ret = broken(v, expect, "a key of %zu bytes sits among the records", klen);
			goto out;
		}
		seq = get_be64((const uint8_t *)k);
		if (seq != expect) {
			ret = seq > expect ?
			      broken(v, expect, "record %llu is missing (the next is %llu)",
				     ULL(expect), ULL(seq)) :
			      broken(v, expect, "record %llu is not a valid seq", ULL(seq));
			goto out;
		}
		ret = check_record(v, seq, val, vlen, prev, prev_time, hash, &time);
		if (!ret)
			ret = check_cp(v, &ci, seq, hash, time);
		if (!ret)
			ret = check_anchor(v, seq, hash, time);
		if (ret)
			goto out;
		memcpy(prev, hash, 32);
		prev_time = time;
		expect++;
	}
	rocksdb_iter_get_error(it, &err);
	if (err) {
		ret = perr_set(v->e, EIO, "audit log: cannot read record %llu: %s", ULL(expect), err);
		goto out;
	}
	*last = expect - 1;
	*last_time = prev_time;
	memcpy(hash, prev, 32);
	if (v->nunl)
		ret = broken(v, v->unl[0].seq, "%s", v->unl[0].msg);
	else if (!*last)
		ret = broken(v, 1, "the log has no records, not even the pool's init record (wiped)");
	else if (ci < v->ncp)
		ret = broken(v, expect, "records %llu..%llu are missing (cut off; a signed checkpoint names the last)",
			     ULL(expect), ULL(v->cps[ci].seq));
out:
	rocksdb_free(err);
	rocksdb_iter_destroy(it);
	return ret;
}

static int check_head(struct verify *v, uint64_t last, const uint8_t hash[32])
{
	struct audit_seal h;
	char *err = NULL, *val;
	size_t vlen;
	int ret = 0;

	val = rocksdb_get_cf(v->s->db, v->ro, v->s->cf[CF_META], AUDIT_META_HEAD,
			     strlen(AUDIT_META_HEAD), &vlen, &err);
	if (err) {
		ret = perr_set(v->e, EIO, "audit log: cannot read the signed head: %s", err);
		goto out;
	}
	if (!val) {
		if (last)
			ret = broken(v, v->good_cp + 1, "records %llu..%llu are not covered by a signed head (it is missing)",
				     ULL(v->good_cp + 1), ULL(last));
		goto out;
	}
	if (audit_seal_decode(val, vlen, &h) || audit_seal_check(&v->keys, v->algo, AUDIT_SEAL_HEAD, &h))
		ret = broken(v, v->good_cp + 1, "the signed head is damaged or forged; records after %llu cannot be trusted",
			     ULL(v->good_cp));
	else if (h.seq > last)
		ret = broken(v, last + 1, "records %llu..%llu are missing (cut off; the signed head names the last)",
			     ULL(last + 1), ULL(h.seq));
	else if (h.seq < last)
		ret = broken(v, h.seq + 1, "records %llu..%llu come after the signed head (added)",
			     ULL(h.seq + 1), ULL(last));
	else if (memcmp(h.hash, hash, 32))
		ret = broken(v, v->good_cp + 1, "records %llu..%llu do not match the signed head (rewritten)",
			     ULL(v->good_cp + 1), ULL(last));
out:
	rocksdb_free(err);
	rocksdb_free(val);
	return ret;
}

/*
 * A stored policy version against the mark of the last policy.apply that
 * made it: the document edited or put back from an older version (the
 * numbers whole) is named. Records from before marks vouch for nothing.
 */
static int check_policy_doc(struct verify *v, uint64_t ver, rocksdb_iterator_t *it)
{
	const char *val;
	size_t vlen, i = v->npm;
	int ret;

	while (i > 0 && v->pm[i - 1].version != ver)
		i--;
	if (!i)
		return 0;
	val = rocksdb_iter_value(it, &vlen);
	ret = policy_mark_check(v->s, ver, val, vlen, v->pm[i - 1].mark);
	if (ret == -EBADMSG)
		return broken(v, v->pm[i - 1].seq, "policy version %llu is not the document record %llu applied (edited or put back)",
			      ULL(ver), ULL(v->pm[i - 1].seq));
	if (ret)
		return perr_set(v->e, -ret, "policy version %llu: cannot check its mark: %s",
				ULL(ver), strerror(-ret));
	return 0;
}

/*
 * The policy history against the log: a version is stored in the batch of
 * its policy.apply record, so versions 1..N are there, N being the last
 * record's. Whoever holds the store could otherwise delete the newest
 * versions (ldb) and put an older, wider policy in force, or add one,
 * without a changed record.
 */
static int check_policy(struct verify *v)
{
	rocksdb_iterator_t *it;
	uint64_t expect = 1, ver;
	const char *k;
	size_t klen;
	char *err = NULL;
	int ret = 0;

	it = rocksdb_create_iterator_cf(v->s->db, v->ro, v->s->cf[CF_POLICY]);
	for (rocksdb_iter_seek_to_first(it); !ret && rocksdb_iter_valid(it);
	     rocksdb_iter_next(it), expect++) {
		k = rocksdb_iter_key(it, &klen);
		ver = klen == 8 ? get_be64((const uint8_t *)k) : 0;
		/* an apply whose write failed may have landed */
		if (ver > v->policy_applied && ver != v->policy_maybe)
			ret = broken(v, v->policy_seq ? v->policy_seq : 1,
				     "policy version %llu is stored, but the log's last policy.apply made version %llu (a version added outside poolctl)",
				     ULL(ver), ULL(v->policy_applied));
		else if (ver != expect)
			ret = broken(v, v->policy_seq, "policy version %llu is missing from the policy history (deleted)",
				     ULL(expect));
		else
			ret = check_policy_doc(v, ver, it);
	}
	rocksdb_iter_get_error(it, &err);
	if (err && !ret)
		ret = perr_set(v->e, EIO, "policy history: %s", err);
	if (!ret && expect - 1 < v->policy_applied)
		ret = broken(v, v->policy_seq, "policy version %llu, the one record %llu applied, is missing: the policy in force is version %llu (rolled back)",
			     ULL(v->policy_applied), ULL(v->policy_seq), ULL(expect - 1));
	rocksdb_free(err);
	rocksdb_iter_destroy(it);
	return ret;
}

/* The tree, read from the log's snapshot, against the last word of the log on each entry. */
static int check_tree(struct verify *v)
{
	char msg[400];
	uint64_t seq = 0;
	int ret = tree_log_check(v->s, v->ro, &v->tree, &seq, msg, sizeof(msg));

	if (ret == -EBADMSG)
		return broken(v, seq, "%s", msg);
	if (ret)
		return perr_set(v->e, -ret, "cannot read the tree: %s", strerror(-ret));
	return 0;
}

/* Nothing the store holds was made after the log's last record (store/log_tail.c). */
static int check_tail(struct verify *v, uint64_t last)
{
	char msg[400];
	int ret;

	v->tail.max_ino = v->tree.max_ino;
	ret = log_tail_check(v->s, v->ro, &v->tail, msg, sizeof(msg));
	if (ret == -EBADMSG)
		return broken(v, last + 1, "%s", msg);
	if (ret)
		return perr_set(v->e, -ret, "cannot read the store: %s", strerror(-ret));
	return 0;
}

/* What an anchor adds once the log itself holds: reaching it, and its MAC. */
static int check_reach(struct verify *v, uint64_t last)
{
	struct audit_seal c = { .seq = v->want->seq, .time_ns = v->want->time_ns };

	if (v->want->seq > last)
		return broken(v, last + 1, "the log ends at seq %llu, before the anchored seq %llu (cut short, rolled back or wiped)",
			      ULL(last), ULL(v->want->seq));
	memcpy(c.hash, v->want->hash, 32);
	memcpy(c.sig, v->want->mac, 64);
	if (audit_seal_check(&v->keys, v->want->algo, AUDIT_SEAL_ANCHOR, &c))
		return broken(v, v->want->seq, "the anchor's MAC does not match this pool's audit key (an anchor of another pool, an edited anchor, or the pool's keys were replaced)");
	return 0;
}

/*
 * Checks the log, against want when given; fills got (when given) with
 * the head of an intact log and its anchor MAC.
 */
static int verify_run(struct store *s, const struct audit_anchor *want, struct audit_anchor *got,
		      uint64_t *bad_seq, struct perr *e)
{
	const rocksdb_snapshot_t *snap;
	struct verify v = { .s = s, .bad = bad_seq, .e = e, .want = want };
	uint8_t hash[32];
	uint64_t last = 0;
	int64_t time = 0;
	int ret;

	*bad_seq = 0;
	if (audit_drain(s))
		return perr_set(e, EIO, "audit log: journaled records cannot reach the store");
	snap = rocksdb_create_snapshot(s->db);
	v.ro = rocksdb_readoptions_create();
	rocksdb_readoptions_set_snapshot(v.ro, snap);
	ret = audit_algo_load(s, v.ro, v.algo);
	if (ret == -EIO) {
		ret = perr_set(e, EIO, "audit log: cannot read meta \"audit_hash\"");
		goto out;
	}
	if (ret) {
		ret = broken(&v, 1, "meta \"audit_hash\" names no known algorithm");
		goto out;
	}
	if (want && strcmp(want->algo, v.algo)) {
		ret = broken(&v, 1, "the anchor is of a log hashed with %.15s, this log is hashed with %s",
			     want->algo, v.algo);
		goto out;
	}
	v.md = audit_md(v.algo);
	v.plain_until = commit_mark_plain_until(s);
	ret = audit_keys_load(s, &v.keys);
	if (ret) {
		ret = perr_set(e, -ret, "%s/keys/sign.key: cannot read the signing key: %s",
			       s->dir, strerror(-ret));
		goto out;
	}
	ret = load_cps(&v);
	if (!ret)
		ret = walk(&v, &last, hash, &time);
	if (!ret)
		ret = check_head(&v, last, hash);
	if (!ret)
		ret = check_policy(&v);
	if (!ret)
		ret = check_tree(&v);
	if (!ret)
		ret = check_tail(&v, last);
	if (!ret && want)
		ret = check_reach(&v, last);
	if (!ret && got) {
		struct audit_seal c = { .seq = last, .time_ns = time };

		memcpy(c.hash, hash, 32);
		ret = audit_seal_sign(&v.keys, v.algo, AUDIT_SEAL_ANCHOR, &c);
		if (ret) {
			ret = perr_set(e, -ret, "audit log: cannot make the anchor's MAC");
			goto out;
		}
		memset(got, 0, sizeof(*got));
		got->seq = last;
		got->time_ns = time;
		snprintf(got->algo, sizeof(got->algo), "%s", v.algo);
		memcpy(got->hash, hash, 32);
		memcpy(got->mac, c.sig, 64);
	}
out:
	audit_keys_release(&v.keys);
	tree_log_release(&v.tree);
	log_tail_release(&v.tail);
	free(v.cps);
	for (size_t i = 0; i < v.nunl; i++)
		free(v.unl[i].msg);
	free(v.unl);
	free(v.pm);
	rocksdb_readoptions_destroy(v.ro);
	rocksdb_release_snapshot(s->db, snap);
	return ret;
}

int audit_verify(struct store *s, uint64_t *bad_seq, struct perr *e)
{
	return verify_run(s, NULL, NULL, bad_seq, e);
}

int audit_verify_anchor(struct store *s, const struct audit_anchor *a, uint64_t *bad_seq,
			struct perr *e)
{
	return verify_run(s, a, NULL, bad_seq, e);
}

int audit_anchor_take(struct store *s, struct audit_anchor *a, uint64_t *bad_seq,
		      struct perr *e)
{
	return verify_run(s, NULL, a, bad_seq, e);
}
