/*
 * store/audit_query.c - searching and exporting the audit log.
 *
 * Records are keyed by seq and their times never fall (store/audit.c),
 * so the first record of a time range is found by binary search over
 * seq with one seek per step, and the walk stops at the first record
 * past the range: a narrow window of a log of millions reads a few dozen
 * records. Other filters are applied to each record read.
 */
#include "store/audit_int.h"
#include "store/crypt_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/esc.h"

/* Time of the first record at or after seq; false when there is none. */
static bool time_at(struct store *s, rocksdb_iterator_t *it, uint64_t seq, int64_t *time)
{
	struct strbuf plain = STRBUF_INIT;
	struct audit_rec r;
	uint8_t key[8];
	const char *v;
	size_t vlen;
	json_t *o = NULL;

	put_be64(key, seq);
	rocksdb_iter_seek(it, (const char *)key, sizeof(key));
	if (!rocksdb_iter_valid(it))
		return false;
	v = rocksdb_iter_value(it, &vlen);
	/* a damaged record counts as early: the walk then reads and skips it */
	*time = audit_value_open(s, 0, v, vlen, &plain, &v, &vlen) ||
		audit_decode(v, vlen, &o, &r, NULL) ? INT64_MIN : r.time_ns;
	json_decref(o);
	strbuf_release(&plain);
	return true;
}

static uint64_t key_seq(rocksdb_iterator_t *it)
{
	size_t klen;
	const char *k = rocksdb_iter_key(it, &klen);

	return klen == 8 ? get_be64((const uint8_t *)k) : 0;
}

/* The lowest seq whose record is at or after since, by binary search. */
static uint64_t seek_time(struct store *s, rocksdb_iterator_t *it, int64_t since,
			  uint64_t *probes)
{
	uint64_t lo, hi, mid;
	int64_t t;

	rocksdb_iter_seek_to_first(it);
	if (!rocksdb_iter_valid(it))
		return 0;
	lo = key_seq(it);
	rocksdb_iter_seek_to_last(it);
	hi = key_seq(it) + 1;		/* one past the end: "after since" holds there */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		(*probes)++;
		if (!time_at(s, it, mid, &t) || t >= since)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static bool path_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (!n || strncmp(path, prefix, n))
		return n == 0;
	return path[n] == '\0' || path[n] == '/' || prefix[n - 1] == '/';
}

static bool matches(const struct audit_filter *f, const struct audit_rec *r)
{
	if (f->since_ns && r->time_ns < f->since_ns)
		return false;
	if (f->dept && strcmp(r->dept, f->dept))
		return false;
	if (f->uid >= 0 && (int64_t)r->uid != f->uid)
		return false;
	if (f->op && strcmp(r->op, f->op))
		return false;
	if (f->denied && r->result != -EACCES && r->result != -EPERM)
		return false;
	if (f->path && r->esc && !path_under(r->path, f->path)) {
		/* such a record's path is text: the filter's bytes written the same way */
		struct strbuf t = STRBUF_INIT;
		bool under;

		audit_text(f->path, &t);
		under = path_under(r->path, t.len ? t.buf : "");
		strbuf_release(&t);
		return under;
	}
	return !f->path || path_under(r->path, f->path);
}

/* One walk of the log: the filter, the callback and what it has handed out. */
struct walk {
	const struct audit_filter *f;
	int (*cb)(void *arg, const char *json, const struct audit_rec *r);
	void *arg;
	rocksdb_iterator_t *it;
	struct strbuf line, plain;
	int ret, count;
};

/* Drains the journal first, so that the walk sees every record written. */
static int walk_begin(struct walk *w, struct store *s, const struct audit_filter *f,
		      int (*cb)(void *arg, const char *json, const struct audit_rec *r),
		      void *arg)
{
	static const struct audit_filter all = AUDIT_FILTER_INIT;
	int ret;

	memset(w, 0, sizeof(*w));
	strbuf_init(&w->line, 0);
	strbuf_init(&w->plain, 0);
	w->f = f ? f : &all;
	w->cb = cb;
	w->arg = arg;
	ret = audit_drain(s);
	if (ret)
		return ret;
	/* one iterator: it reads one consistent view for the search and the walk */
	w->it = rocksdb_create_iterator_cf(s->db, s->ropt, s->cf[CF_AUDIT]);
	return 0;
}

/* Hands matching record r (its JSON v) to the callback; true when the walk stops. */
static bool walk_emit(struct walk *w, const char *v, size_t vlen, const struct audit_rec *r)
{
	strbuf_reset(&w->line);
	strbuf_add(&w->line, v, vlen);
	w->ret = w->cb(w->arg, w->line.buf, r);
	w->count++;
	return w->ret || (w->f->limit && (uint64_t)w->count >= w->f->limit);
}

/* The records handed out, the callback's error, or -EIO when the iterator failed. */
static int walk_end(struct walk *w, struct store *s)
{
	int ret = store_iter_end(s, w->it, "audit log", w->count);

	if (w->ret)
		ret = w->ret;
	strbuf_release(&w->line);
	strbuf_release(&w->plain);
	return ret;
}

int audit_query_scan(struct store *s, const struct audit_filter *f,
		     int (*cb)(void *arg, const char *json, const struct audit_rec *r),
		     void *arg, uint64_t *scanned)
{
	struct walk w;
	struct audit_rec r;
	uint8_t key[8];
	const char *v;
	size_t vlen;
	json_t *o;
	bool stop;
	int ret;

	*scanned = 0;
	ret = walk_begin(&w, s, f, cb, arg);
	if (ret)
		return ret;
	f = w.f;
	put_be64(key, f->since_ns > 0 ? seek_time(s, w.it, f->since_ns, scanned) : 0);
	for (rocksdb_iter_seek(w.it, (const char *)key, sizeof(key)); rocksdb_iter_valid(w.it);
	     rocksdb_iter_next(w.it)) {
		v = rocksdb_iter_value(w.it, &vlen);
		(*scanned)++;
		if (audit_value_open(s, 0, v, vlen, &w.plain, &v, &vlen) ||
		    audit_decode(v, vlen, &o, &r, NULL))
			continue;	/* damaged: audit_verify() reports it */
		if (f->until_ns && r.time_ns > f->until_ns) {
			json_decref(o);
			break;
		}
		stop = matches(f, &r) && walk_emit(&w, v, vlen, &r);
		json_decref(o);
		if (stop)
			break;
	}
	return walk_end(&w, s);
}

/*
 * The stored bytes of a record with op "op", as audit_encode() writes them
 * (compact JSON): a record whose value lacks them cannot match, so the
 * newest-first walk skips it without parsing. Empty when op needs JSON
 * escapes, so the walk parses everything.
 */
static void op_needle(const char *op, struct strbuf *out)
{
	if (!op)
		return;
	for (const char *p = op; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\' || *p == '/' ||
		    (unsigned char)*p >= 0x80)
			return;
	strbuf_addf(out, "\"op\":\"%s\"", op);
}

int audit_query_newest_scan(struct store *s, const struct audit_filter *f,
			    int (*cb)(void *arg, const char *json, const struct audit_rec *r),
			    void *arg, uint64_t *decoded)
{
	struct strbuf needle = STRBUF_INIT;
	struct walk w;
	struct audit_rec r;
	uint64_t lo = 0, hi = 0;
	uint8_t key[8];
	const char *v;
	size_t vlen;
	json_t *o;
	bool stop;
	int ret;

	*decoded = 0;
	ret = walk_begin(&w, s, f, cb, arg);
	if (ret)
		return ret;
	f = w.f;
	op_needle(f->op, &needle);
	/* the same bounds as the oldest-first walk: a binary search per end */
	if (f->since_ns > 0)
		lo = seek_time(s, w.it, f->since_ns, decoded);
	if (f->until_ns && f->until_ns < INT64_MAX)
		hi = seek_time(s, w.it, f->until_ns + 1, decoded);
	if (hi) {
		put_be64(key, hi);
		rocksdb_iter_seek_for_prev(w.it, (const char *)key, sizeof(key));
		if (rocksdb_iter_valid(w.it) && key_seq(w.it) >= hi)
			rocksdb_iter_prev(w.it);
	} else if (!f->until_ns || f->until_ns == INT64_MAX) {
		rocksdb_iter_seek_to_last(w.it);
	} else {
		goto done;		/* nothing at or before until */
	}
	for (; rocksdb_iter_valid(w.it) && key_seq(w.it) >= lo; rocksdb_iter_prev(w.it)) {
		v = rocksdb_iter_value(w.it, &vlen);
		if (audit_value_open(s, 0, v, vlen, &w.plain, &v, &vlen))
			continue;	/* damaged: audit_verify() reports it */
		if (needle.len && !memmem(v, vlen, needle.buf, needle.len))
			continue;
		(*decoded)++;
		if (audit_decode(v, vlen, &o, &r, NULL))
			continue;
		stop = matches(f, &r) && (!f->until_ns || r.time_ns <= f->until_ns) &&
		       walk_emit(&w, v, vlen, &r);
		json_decref(o);
		if (stop)
			break;
	}
done:
	strbuf_release(&needle);
	return walk_end(&w, s);
}

int audit_query_newest(struct store *s, const struct audit_filter *f,
		       int (*cb)(void *arg, const char *json, const struct audit_rec *r),
		       void *arg)
{
	uint64_t decoded;

	return audit_query_newest_scan(s, f, cb, arg, &decoded);
}

int audit_query(struct store *s, const struct audit_filter *f,
		int (*cb)(void *arg, const char *json, const struct audit_rec *r),
		void *arg)
{
	uint64_t scanned;

	return audit_query_scan(s, f, cb, arg, &scanned);
}

int audit_record(struct store *s, uint64_t seq, struct strbuf *out)
{
	struct strbuf v = STRBUF_INIT, plain = STRBUF_INIT;
	uint8_t key[8];
	int ret;

	put_be64(key, seq);
	const char *p;
	size_t len;

	ret = audit_drain(s);
	if (!ret)
		ret = store_get(s, CF_AUDIT, key, sizeof(key), &v);
	if (!ret && audit_value_open(s, seq, v.buf, v.len, &plain, &p, &len))
		ret = -EIO;
	if (!ret)
		strbuf_add(out, p, len);
	strbuf_release(&v);
	strbuf_release(&plain);
	return ret;
}

/* ---- formats ---- */

static void add_time(struct strbuf *out, int64_t ns)
{
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;
	char buf[32];

	if (!gmtime_r(&sec, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(buf, sizeof(buf), "%lld", (long long)sec);
	strbuf_addf(out, "%s.%06lldZ", buf, (long long)(ns % 1000000000 / 1000));
}

/*
 * An RFC 5424 PARAM-VALUE: '"', '\' and ']' escaped, and control
 * characters as \xNN (the '\' then stays literal): a name holding a
 * newline would end the line, and what follows would be taken for
 * another record by whatever reads the export line by line.
 */
static void add_sd(struct strbuf *out, const char *name, const char *value)
{
	size_t n;

	strbuf_addf(out, " %s=\"", name);
	while (*value) {
		if ((n = esc_control_len(value))) {
			for (; n; n--)
				strbuf_addf(out, "\\x%02x", (unsigned char)*value++);
			continue;
		}
		if (*value == '"' || *value == '\\' || *value == ']')
			strbuf_addch(out, '\\');
		strbuf_addch(out, *value++);
	}
	strbuf_addch(out, '"');
}

static void add_sd_num(struct strbuf *out, const char *name, long long v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", v);
	add_sd(out, name, buf);
}

static bool is_denied(const struct audit_rec *r)
{
	return r->result == -EACCES || r->result == -EPERM;
}

/*
 * Facility 13 (log audit); a denial is a warning, the rest info. The
 * SD-ID uses the documentation enterprise number 32473: a deployment
 * with its own number changes AUDIT_SD_ID.
 */
#define AUDIT_SD_ID "poolfs@32473"

static void format_syslog(const char *json, const struct audit_rec *r, struct strbuf *out)
{
	char host[256] = "-";
	const char *hash = strstr(json, ",\"hash\":\"");

	if (gethostname(host, sizeof(host) - 1) || !*host)
		snprintf(host, sizeof(host), "-");
	host[sizeof(host) - 1] = '\0';
	strbuf_addf(out, "<%d>1 ", 13 * 8 + (is_denied(r) ? 4 : 6));
	add_time(out, r->time_ns);
	strbuf_addf(out, " %s poolfs - audit [" AUDIT_SD_ID, host);
	add_sd_num(out, "seq", (long long)r->seq);
	add_sd_num(out, "uid", r->uid);
	add_sd_num(out, "gid", r->gid);
	add_sd_num(out, "pid", r->pid);
	add_sd(out, "comm", r->comm);
	add_sd(out, "dept", r->dept);
	add_sd(out, "user", r->user);
	add_sd(out, "op", r->op);
	add_sd(out, "path", r->path);
	add_sd(out, "code", r->code);
	add_sd_num(out, "version", (long long)r->version);
	add_sd_num(out, "bytes", (long long)r->bytes);
	add_sd_num(out, "result", r->result);
	if (r->count > 1)
		add_sd_num(out, "count", (long long)r->count);
	add_sd(out, "grant", r->grant);
	add_sd(out, "view", r->view);
	add_sd(out, "reason", r->reason);
	if (hash && strlen(hash) >= AUDIT_HASH_SUFFIX_LEN) {
		char hex[65];

		memcpy(hex, hash + strlen(",\"hash\":\""), 64);
		hex[64] = '\0';
		add_sd(out, "hash", hex);
	}
	strbuf_addstr(out, "] ");
	esc_add(out, r->op);
	strbuf_addch(out, ' ');
	esc_add(out, r->path);
	strbuf_addf(out, " %s\n", r->result ? (is_denied(r) ? "denied" : "failed") : "ok");
}

/* A value for people: bare when it has no space, quote or control, else quoted. */
static void add_word(struct strbuf *out, const char *name, const char *v)
{
	bool plain = *v;

	for (const char *p = v; *p && plain; p++)
		plain = (unsigned char)*p > ' ' && *p != '"' && *p != '\\' && !esc_control_len(p);
	strbuf_addf(out, " %s=", name);
	if (plain) {
		strbuf_addstr(out, v);
		return;
	}
	strbuf_addch(out, '"');
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			strbuf_addch(out, '\\');
		/* C0, DEL and C1 (common/esc.h): a name never moves the cursor */
		if (esc_control_len(v))
			strbuf_addf(out, "\\x%02x", (unsigned char)*v);
		else
			strbuf_addch(out, *v);
	}
	strbuf_addch(out, '"');
}

static void format_text(const struct audit_rec *r, struct strbuf *out)
{
	add_time(out, r->time_ns);
	strbuf_addf(out, " #%llu uid=%u gid=%u pid=%u", (unsigned long long)r->seq,
		    r->uid, r->gid, r->pid);
	add_word(out, "comm", r->comm);
	add_word(out, "dept", r->dept);
	if (*r->user)
		add_word(out, "user", r->user);
	add_word(out, "op", r->op);
	add_word(out, "path", r->path);
	if (r->result)
		strbuf_addf(out, " result=%s(%s)", is_denied(r) ? "denied" : "error",
			    strerror(-r->result));
	else
		strbuf_addstr(out, " result=ok");
	if (r->count > 1)
		strbuf_addf(out, " count=%llu", (unsigned long long)r->count);
	if (*r->code)
		add_word(out, "code", r->code);
	if (r->version)
		strbuf_addf(out, " version=%llu", (unsigned long long)r->version);
	if (r->bytes)
		strbuf_addf(out, " bytes=%llu", (unsigned long long)r->bytes);
	if (*r->grant)
		add_word(out, "grant", r->grant);
	if (*r->view)
		add_word(out, "view", r->view);
	if (*r->reason)
		add_word(out, "reason", r->reason);
	strbuf_addch(out, '\n');
}

int audit_format(const char *format, const char *json, const struct audit_rec *r,
		 struct strbuf *out)
{
	if (!strcmp(format, "jsonl")) {
		strbuf_addstr(out, json);
		strbuf_addch(out, '\n');
	} else if (!strcmp(format, "syslog")) {
		format_syslog(json, r, out);
	} else if (!strcmp(format, "text")) {
		format_text(r, out);
	} else {
		return -EINVAL;
	}
	return 0;
}
