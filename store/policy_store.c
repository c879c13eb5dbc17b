/*
 * store/policy_store.c - policy documents, versioned like data.
 *
 * Policy version N is stored under be64(N) in the policy column family
 * as a JSON object:
 *
 *   {"json": "<the document, verbatim>", "time": ns, "uid": N,
 *    "dept": "...", "user": "..."}
 *
 * The document is kept as the exact text that was applied, not re-dumped,
 * so `policy export` gives back what the admin wrote. Versions are never
 * rewritten; the latest key is the policy in force.
 */
#include "store/audit_int.h"
#include "store/commit_mark.h"
#include "store/crypt_store.h"
#include "store/internal.h"
#include "store/policy_check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/codec.h"
#include "common/log.h"

#define ULL(x) ((unsigned long long)(x))

/* caller holds s->lock for a put */
int store_policy_last(struct store *s, uint64_t *version)
{
	rocksdb_iterator_t *it;
	const char *k;
	size_t klen;
	int ret = 0;

	*version = 0;
	it = rocksdb_create_iterator_cf(s->db, s->ropt, s->cf[CF_POLICY]);
	rocksdb_iter_seek_to_last(it);
	if (rocksdb_iter_valid(it)) {
		k = rocksdb_iter_key(it, &klen);
		if (klen == 8)
			*version = get_be64((const uint8_t *)k);
		else
			ret = -EIO;
	}
	return store_iter_end(s, it, "policy versions", ret);
}

static char *policy_record(const char *json, size_t len, const struct store_writer *w)
{
	json_t *o = json_object(), *doc = json_stringn(json, len);
	char *value = NULL;
	int bad;

	if (!o || !doc) {
		json_decref(doc);
		goto out;
	}
	bad = json_object_set_new(o, "json", doc);
	bad |= json_object_set_new(o, "time", json_integer(store_now_ns()));
	bad |= json_object_set_new(o, "uid", json_integer(w ? w->uid : 0));
	bad |= json_object_set_new(o, "dept", json_string(w && w->dept ? w->dept : ""));
	bad |= json_object_set_new(o, "user", json_string(w && w->user ? w->user : ""));
	if (!bad)
		value = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
out:
	json_decref(o);
	return value;
}

/* The mark of policy version's record value[0..len) (opened, as applied) into hex. */
static int policy_mark(struct store *s, uint64_t version, const char *value, size_t len,
		       char hex[COMMIT_MARK_HEX + 1])
{
	static const char label[] = "poolfs policy mark";
	struct strbuf msg = STRBUF_INIT;
	uint8_t be[8];
	int ret;

	put_be64(be, version);
	strbuf_add(&msg, label, sizeof(label));
	strbuf_add(&msg, be, sizeof(be));
	strbuf_add(&msg, value, len);
	ret = store_mark(s, msg.buf, msg.len, hex);
	strbuf_release(&msg);
	return ret;
}

int policy_mark_check(struct store *s, uint64_t version, const void *raw, size_t rawlen,
		      const char *mark)
{
	struct strbuf v = STRBUF_INIT;
	char hex[COMMIT_MARK_HEX + 1];
	uint8_t key[8];
	int ret;

	put_be64(key, version);
	ret = store_open_value(s, CF_POLICY, key, sizeof(key), raw, rawlen, &v);
	if (ret) {
		ret = -EBADMSG;
		goto out;
	}
	ret = policy_mark(s, version, v.buf, v.len, hex);
	if (!ret && strcmp(hex, mark))
		ret = -EBADMSG;
out:
	strbuf_release(&v);
	return ret;
}

int store_policy_put(struct store *s, const char *json, size_t len,
		     const struct store_writer *w, const struct audit_rec *audit,
		     uint64_t *version)
{
	rocksdb_writebatch_t *b = NULL;
	struct audit_rec rec;
	char mark[COMMIT_MARK_HEX + 1];
	char *value;
	uint8_t key[8];
	uint64_t last;
	int ret;

	/* a document that is not UTF-8 text cannot be valid policy JSON */
	if (memchr(json, '\0', len))
		return -EINVAL;
	value = policy_record(json, len, w);
	if (!value)
		return -EINVAL;

	pthread_mutex_lock(&s->lock);
	ret = store_policy_last(s, &last);
	if (ret)
		goto out;
	b = rocksdb_writebatch_create();
	put_be64(key, last + 1);
	store_put_value(s, b, CF_POLICY, key, sizeof(key), value, strlen(value));
	if (audit) {
		rec = *audit;
		if (!rec.version)
			rec.version = last + 1;
		/* the document's mark: audit verify holds the stored one to it */
		if (rec.version == last + 1) {
			ret = policy_mark(s, last + 1, value, strlen(value), mark);
			if (ret)
				goto out;
			rec.content = mark;
		}
		ret = audit_add(s, b, &rec);
		if (ret)
			goto out;
	}
	ret = store_write(s, b, true);
	if (ret) {
		if (audit)
			audit_rollback(s);
		goto out;
	}
	if (version)
		*version = last + 1;
out:
	pthread_mutex_unlock(&s->lock);
	if (b)
		rocksdb_writebatch_destroy(b);
	free(value);
	return ret;
}

int store_policy_get(struct store *s, uint64_t version, struct strbuf *out,
		     uint64_t *got_version)
{
	struct strbuf v = STRBUF_INIT;
	json_error_t jerr;
	json_t *o = NULL, *doc;
	uint8_t key[8];
	int ret;

	if (!version) {
		ret = store_policy_last(s, &version);
		if (!ret && !version)
			ret = -ENOENT;
		if (ret)
			goto out;
	}
	put_be64(key, version);
	ret = store_get_value(s, CF_POLICY, key, sizeof(key), &v);
	if (ret)
		goto out;
	o = json_loadb(v.buf, v.len, 0, &jerr);
	doc = json_object_get(o, "json");
	if (!json_is_string(doc)) {
		log_err("%s: policy version %llu: corrupt record", s->dir,
			(unsigned long long)version);
		ret = -EIO;
		goto out;
	}
	strbuf_reset(out);
	strbuf_add(out, json_string_value(doc), json_string_length(doc));
	if (got_version)
		*got_version = version;
out:
	json_decref(o);
	strbuf_release(&v);
	return ret;
}

int store_policy_check(struct store *s, struct perr *e)
{
	struct audit_log *L = audit_log_of(s);
	struct strbuf why = STRBUF_INIT;
	struct audit_rec r = { .pid = (uint32_t)getpid(), .comm = "poolfs", .op = "policy.check",
			       .path = "/", .result = -EBADMSG };
	uint64_t stored, in_force;
	bool known;
	int ret;

	if (!L)
		return perr_set(e, EIO, "%s: the audit log is not open", s->dir);
	pthread_mutex_lock(&L->mu);
	in_force = L->pol;
	known = L->pol_known;
	pthread_mutex_unlock(&L->mu);
	ret = store_policy_last(s, &stored);
	if (ret)
		return perr_set(e, -ret, "%s: cannot read the policy history", s->dir);
	if (!known || stored == in_force ||
	    (in_force == AUDIT_POLICY_UNKNOWN && !stored))
		return 0;
	if (in_force == AUDIT_POLICY_UNKNOWN)
		strbuf_addf(&why, "the audit log was found broken at open, so it no longer says "
			    "which policy version is in force (the newest stored is %llu): "
			    "apply the policy again (poolctl policy apply)", ULL(stored));
	else
		strbuf_addf(&why, "the newest policy version stored is %llu but the audit log "
			    "says version %llu is in force: the policy history was rolled back or "
			    "added to outside poolctl (see poolctl audit verify; poolctl policy "
			    "apply makes them agree)", ULL(stored), ULL(in_force));
	r.version = stored;
	r.reason = why.buf;
	/* the refusal is recorded even when the record is all that can be done */
	if (audit_append(s, &r))
		log_err("%s: cannot record the policy check", s->dir);
	ret = perr_set(e, EBADMSG, "%s", why.buf);
	strbuf_release(&why);
	return ret;
}
