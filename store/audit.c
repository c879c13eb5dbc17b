/*
 * store/audit.c - the audit log as a SHA-256 hash chain.
 *
 * Record N is stored under be64(N) in the audit column family as compact
 * JSON with sorted keys: the fields of struct audit_rec plus "seq",
 * "time" (ns since the epoch), "prev" (hex hash of record N-1, all zeros
 * for record 1) and "hash". The hash is
 *
 *   SHA-256(prev || canonical JSON of the record without "hash")
 *
 * where prev is the 32 raw bytes. A verifier drops "hash", dumps the rest
 * with JSON_COMPACT | JSON_SORT_KEYS and recomputes; any changed, removed
 * or reordered record breaks the chain from there on.
 *
 * Strings that are not valid UTF-8 (paths from legacy systems can be
 * anything) are recorded with each bad byte written as \xNN, so the
 * record stays valid JSON and the original bytes stay recognizable.
 */
#include "store/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/codec.h"
#include "common/log.h"

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *p, size_t left)
{
	size_t n;
	uint32_t c;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, c = p[0] & 0x07;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return n;
}

static json_t *audit_string(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t left = strlen((const char *)p), n;
	json_t *j;

	j = json_stringn((const char *)p, left);
	if (j)
		return j;
	while (left) {
		n = utf8_seq(p, left);
		if (n)
			strbuf_add(&sb, p, n);
		else
			strbuf_addf(&sb, "\\x%02x", *p);
		n = n ? n : 1;
		p += n;
		left -= n;
	}
	j = json_stringn(sb.buf, sb.len);
	strbuf_release(&sb);
	return j;
}

static int set_new(json_t *o, const char *key, json_t *v)
{
	return v ? json_object_set_new(o, key, v) : -1;
}

/* The record without "hash", or NULL when out of memory. */
static json_t *audit_json(const struct audit_rec *r, const uint8_t prev[32])
{
	char hex[65];
	json_t *o = json_object();
	int bad = 0;

	if (!o)
		return NULL;
	hex_encode(prev, 32, hex);
	bad |= set_new(o, "seq", json_integer((json_int_t)r->seq));
	bad |= set_new(o, "time", json_integer((json_int_t)r->time_ns));
	bad |= set_new(o, "uid", json_integer(r->uid));
	bad |= set_new(o, "gid", json_integer(r->gid));
	bad |= set_new(o, "pid", json_integer(r->pid));
	bad |= set_new(o, "comm", audit_string(r->comm));
	bad |= set_new(o, "dept", audit_string(r->dept));
	bad |= set_new(o, "user", audit_string(r->user));
	bad |= set_new(o, "op", audit_string(r->op));
	bad |= set_new(o, "path", audit_string(r->path));
	bad |= set_new(o, "code", audit_string(r->code));
	bad |= set_new(o, "version", json_integer((json_int_t)r->version));
	bad |= set_new(o, "bytes", json_integer((json_int_t)r->bytes));
	bad |= set_new(o, "result", json_integer(r->result));
	bad |= set_new(o, "grant", audit_string(r->grant));
	bad |= set_new(o, "view", audit_string(r->view));
	bad |= set_new(o, "reason", audit_string(r->reason));
	bad |= set_new(o, "prev", json_string(hex));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int audit_add(struct store *s, rocksdb_writebatch_t *b, struct audit_rec *r)
{
	uint8_t hash[32], key[8];
	char hex[65], *body = NULL, *value = NULL;
	json_t *o;
	EVP_MD_CTX *ctx = NULL;
	int ret = -ENOMEM;

	r->seq = s->audit_seq + 1;
	r->time_ns = store_now_ns();
	o = audit_json(r, s->audit_prev);
	if (!o)
		goto out;
	body = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	if (!body)
		goto out;
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, s->audit_prev, 32) != 1 ||
	    EVP_DigestUpdate(ctx, body, strlen(body)) != 1 ||
	    EVP_DigestFinal_ex(ctx, hash, NULL) != 1) {
		ret = -EIO;
		goto out;
	}
	hex_encode(hash, 32, hex);
	if (set_new(o, "hash", json_string(hex)))
		goto out;
	value = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	if (!value)
		goto out;

	put_be64(key, r->seq);
	rocksdb_writebatch_put_cf(b, s->cf[CF_AUDIT], (const char *)key, sizeof(key),
				  value, strlen(value));
	s->audit_seq = r->seq;
	memcpy(s->audit_prev, hash, 32);
	ret = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(value);
	free(body);
	json_decref(o);
	return ret;
}

/* Reads seq and hash of the last record written into *seq and prev. */
static int audit_last(struct store *s, uint64_t *seq, uint8_t prev[32])
{
	rocksdb_iterator_t *it;
	json_error_t jerr;
	json_t *o = NULL;
	const char *k, *v, *hex;
	size_t klen, vlen;
	char *err = NULL;
	int ret = 0;

	*seq = 0;
	memset(prev, 0, 32);
	it = rocksdb_create_iterator_cf(s->db, s->ropt, s->cf[CF_AUDIT]);
	rocksdb_iter_seek_to_last(it);
	if (!rocksdb_iter_valid(it)) {
		rocksdb_iter_get_error(it, &err);
		if (err) {
			log_err("%s: audit log: %s", s->dir, err);
			ret = -EIO;
		}
		goto out;
	}
	k = rocksdb_iter_key(it, &klen);
	v = rocksdb_iter_value(it, &vlen);
	o = json_loadb(v, vlen, 0, &jerr);
	hex = json_string_value(json_object_get(o, "hash"));
	if (klen != 8 || !hex || hex_decode(hex, prev, 32)) {
		log_err("%s: audit log: last record is corrupt", s->dir);
		ret = -EIO;
		goto out;
	}
	*seq = get_be64((const uint8_t *)k);
out:
	json_decref(o);
	rocksdb_free(err);
	rocksdb_iter_destroy(it);
	return ret;
}

/*
 * The database is the truth: re-reading the last record undoes any
 * number of audit_add calls whose batch never landed.
 */
void audit_rollback(struct store *s)
{
	uint8_t prev[32];
	uint64_t seq;

	if (!audit_last(s, &seq, prev)) {
		s->audit_seq = seq;
		memcpy(s->audit_prev, prev, 32);
	} else {
		log_err("%s: audit log: cannot recover the chain head after a failed write",
			s->dir);
	}
}

int audit_load(struct store *s)
{
	return audit_last(s, &s->audit_seq, s->audit_prev);
}

void audit_unload(struct store *s)
{
}

int audit_append(struct store *s, struct audit_rec *r)
{
	rocksdb_writebatch_t *b = rocksdb_writebatch_create();
	int ret;

	pthread_mutex_lock(&s->lock);
	ret = audit_add(s, b, r);
	if (!ret) {
		ret = store_write(s, b, true);
		if (ret)
			audit_rollback(s);
	}
	pthread_mutex_unlock(&s->lock);
	rocksdb_writebatch_destroy(b);
	return ret;
}
