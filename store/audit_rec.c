/*
 * store/audit_rec.c - one audit record: its JSON, its chain hash, and
 * reading it back.
 *
 * A record is stored as compact JSON: the fields of struct audit_rec plus
 * "seq", "time" (ns since the epoch) and "prev" (hex hash of the record
 * before, all zeros for record 1), keys sorted, and then "hash" appended
 * as the last member. "count" is there only in a record that stands for
 * more than one operation (coalesced repeats, fs/coalesce.c). The chain hash is
 *
 *   H(prev || the value with its final ,"hash":"..." member removed)
 *
 * with prev the 32 raw bytes and H the pool's algorithm (SHA-256 or SM3).
 * The part hashed is exactly the bytes stored, so a verifier needs no
 * canonical re-serialization and a new JSON library cannot make an
 * intact log look broken; the part before "hash" is still what
 * json_dumps(JSON_COMPACT | JSON_SORT_KEYS) gives for the record.
 *
 * Strings that are not valid UTF-8 (paths from legacy systems can be
 * anything) are recorded with each bad byte written as \xNN, so the
 * record stays valid JSON and the original bytes stay recognizable.
 */
#include "store/audit_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/log.h"

#define HASH_MEMBER	",\"hash\":\""

static EVP_MD *md_sha256, *md_sm3;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

/*
 * Fetched once for the process: EVP_sha256() is fetched anew by every
 * digest init, a lookup costing about as much as hashing a record.
 */
static void md_fetch(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	md_sm3 = EVP_MD_fetch(NULL, "SM3", NULL);
}

const EVP_MD *audit_md(const char *algo)
{
	pthread_once(&md_once, md_fetch);
	if (!strcmp(algo, "sha256"))
		return md_sha256;
	if (!strcmp(algo, "sm3"))
		return md_sm3;
	return NULL;
}

int audit_algo_load(struct store *s, const rocksdb_readoptions_t *ro,
		    char algo[AUDIT_ALGO_MAX])
{
	char *err = NULL, *v;
	size_t vlen;
	int ret = 0;

	v = rocksdb_get_cf(s->db, ro ? ro : s->ropt, s->cf[CF_META], AUDIT_META_HASH,
			   strlen(AUDIT_META_HASH), &vlen, &err);
	if (err) {
		log_err("%s: audit log: cannot read the hash algorithm: %s", s->dir, err);
		ret = -EIO;
		goto out;
	}
	if (!v) {
		snprintf(algo, AUDIT_ALGO_MAX, "sha256");
		goto out;
	}
	if (vlen >= AUDIT_ALGO_MAX || memchr(v, '\0', vlen)) {
		ret = -EINVAL;
	} else {
		memcpy(algo, v, vlen);
		algo[vlen] = '\0';
		if (!audit_md(algo))
			ret = -EINVAL;
	}
	if (ret)
		log_err("%s: audit log: unknown hash algorithm in meta \"%s\"", s->dir,
			AUDIT_META_HASH);
out:
	rocksdb_free(v);
	rocksdb_free(err);
	return ret;
}

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

/* A control character as json_dumps() escapes it. */
static void put_control(struct strbuf *sb, unsigned char c)
{
	static const char hexdig[] = "0123456789ABCDEF";
	char esc[6] = { '\\', 0, '0', '0' };

	switch (c) {
	case '\b': esc[1] = 'b'; break;
	case '\f': esc[1] = 'f'; break;
	case '\n': esc[1] = 'n'; break;
	case '\r': esc[1] = 'r'; break;
	case '\t': esc[1] = 't'; break;
	default:
		esc[1] = 'u';
		esc[4] = hexdig[c >> 4];
		esc[5] = hexdig[c & 15];
		strbuf_add(sb, esc, 6);
		return;
	}
	strbuf_add(sb, esc, 2);
}

/* Bytes copied as they are: printable ASCII but '"' and '\\' (0x7f too). */
static const unsigned char verbatim[256] = {
	[0x20 ... 0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7f] = 1,
};

/*
 * Appends s as a JSON string, byte for byte what json_dumps() writes for
 * the record's text of it (no ASCII-only or slash escapes): '"' and
 * control characters escaped, valid UTF-8 as is. A byte that is not part
 * of valid UTF-8 is the four characters \xNN of text, and so that a
 * path holding those four characters is not the same text, a backslash
 * is two of text; either sets *esc, and the record then says "esc": 1
 * (records without it hold neither, or are from before, where \xNN was
 * either; docs/audit.md).
 * Verbatim bytes and valid multi-byte sequences are gathered into runs and
 * copied whole: a record is written on every audited operation and a
 * path is mostly such bytes.
 */
static void put_string(struct strbuf *sb, const char *s, bool *esc)
{
	static const char hexdig[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	const unsigned char *end = p + strlen((const char *)p), *run;
	char bs[5] = { '\\', '\\', 'x' };
	size_t n;

	strbuf_addch(sb, '"');
	while (p < end) {
		run = p;
		for (;;) {
			while (verbatim[*p])
				p++;
			if (*p < 0x80)
				break;
			n = utf8_seq(p, (size_t)(end - p));
			if (!n)
				break;
			p += n;
		}
		if (p > run)
			strbuf_add(sb, run, (size_t)(p - run));
		if (p == end)
			break;
		if (*p >= 0x80) {
			bs[3] = hexdig[*p >> 4];
			bs[4] = hexdig[*p & 15];
			strbuf_add(sb, bs, 5);
			*esc = true;
		} else if (*p == '\\') {
			strbuf_add(sb, "\\\\\\\\", 4);
			*esc = true;
		} else if (*p == '"') {
			strbuf_add(sb, "\\\"", 2);
		} else {
			put_control(sb, *p);
		}
		p++;
	}
	strbuf_addch(sb, '"');
}

void audit_text(const char *s, struct strbuf *out)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
	size_t n;

	while (p < end) {
		n = *p == '\\' ? 0 : utf8_seq(p, (size_t)(end - p));
		if (n) {
			strbuf_add(out, p, n);
			p += n;
			continue;
		}
		if (*p == '\\')
			strbuf_add(out, "\\\\", 2);
		else
			strbuf_addf(out, "\\x%02x", *p);
		p++;
	}
}

static void put_int(struct strbuf *sb, int64_t v)
{
	char digits[24], *d = digits + sizeof(digits);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--d = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--d = '-';
	strbuf_add(sb, d, (size_t)(digits + sizeof(digits) - d));
}

/* key is the member's text up to its value: ,"name": (or {"name": for the first) */
static void str_member(struct strbuf *sb, const char *key, const char *v, bool *esc)
{
	strbuf_addstr(sb, key);
	put_string(sb, v, esc);
}

static void int_member(struct strbuf *sb, const char *key, int64_t v)
{
	strbuf_addstr(sb, key);
	put_int(sb, v);
}

/*
 * The record without "hash" and without its closing brace: the members in
 * strcmp() order, as json_dumps(JSON_COMPACT | JSON_SORT_KEYS) orders them.
 * Written directly because a record is encoded on every audited operation
 * and building a jansson object costs several times more than the hash.
 */
static void audit_body(struct strbuf *sb, const struct audit_rec *r, const uint8_t prev[32])
{
	static const char mark[] = ",\"esc\":1";
	char hex[65];
	bool esc = false;
	size_t at;

	hex_encode(prev, 32, hex);
	int_member(sb, "{\"bytes\":", (int64_t)r->bytes);
	str_member(sb, ",\"code\":", r->code, &esc);
	str_member(sb, ",\"comm\":", r->comm, &esc);
	/* a commit's only, so other records stay as they were */
	if (r->content && r->content[0])
		str_member(sb, ",\"content\":", r->content, &esc);
	/* absent for one operation, so records from before counts stay as they were */
	if (r->count > 1)
		int_member(sb, ",\"count\":", (int64_t)r->count);
	str_member(sb, ",\"dept\":", r->dept, &esc);
	at = sb->len;		/* "esc" sorts here, known once every string is written */
	int_member(sb, ",\"gid\":", r->gid);
	str_member(sb, ",\"grant\":", r->grant, &esc);
	if (r->ino)
		int_member(sb, ",\"ino\":", (int64_t)r->ino);
	str_member(sb, ",\"op\":", r->op, &esc);
	str_member(sb, ",\"path\":", r->path, &esc);
	int_member(sb, ",\"pid\":", r->pid);
	/* absent while no policy was applied, so older records stay as they were */
	if (r->policy)
		int_member(sb, ",\"policy\":", (int64_t)r->policy);
	str_member(sb, ",\"prev\":", hex, &esc);
	str_member(sb, ",\"reason\":", r->reason, &esc);
	int_member(sb, ",\"result\":", r->result);
	int_member(sb, ",\"seq\":", (int64_t)r->seq);
	int_member(sb, ",\"time\":", r->time_ns);
	/* a tree change's only, so other records stay as they were */
	if (r->tree && r->tree[0])
		str_member(sb, ",\"tree\":", r->tree, &esc);
	int_member(sb, ",\"uid\":", r->uid);
	str_member(sb, ",\"user\":", r->user, &esc);
	int_member(sb, ",\"version\":", (int64_t)r->version);
	str_member(sb, ",\"view\":", r->view, &esc);
	if (esc) {
		strbuf_grow(sb, sizeof(mark) - 1);
		memmove(sb->buf + at + sizeof(mark) - 1, sb->buf + at, sb->len - at);
		memcpy(sb->buf + at, mark, sizeof(mark) - 1);
		strbuf_setlen(sb, sb->len + sizeof(mark) - 1);
	}
}

static int digest(const EVP_MD *md, const uint8_t prev[32], const char *body, size_t len,
		  uint8_t hash[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;
	int ok;

	ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
	     EVP_DigestUpdate(ctx, prev, 32) == 1 &&
	     EVP_DigestUpdate(ctx, body, len) == 1 &&
	     EVP_DigestUpdate(ctx, "}", 1) == 1 &&
	     EVP_DigestFinal_ex(ctx, hash, &n) == 1 && n == 32;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

int audit_encode(const struct audit_rec *r, const uint8_t prev[32], const EVP_MD *md,
		 char **value, size_t *len, uint8_t hash[32])
{
	struct strbuf sb;
	char hex[65];
	int ret;

	*value = NULL;
	strbuf_init(&sb, 512);
	audit_body(&sb, r, prev);
	/* hashed without the closing brace here, digest() adds it back */
	ret = digest(md, prev, sb.buf, sb.len, hash);
	if (ret) {
		strbuf_release(&sb);
		return ret;
	}
	hex_encode(hash, 32, hex);
	strbuf_addstr(&sb, HASH_MEMBER);
	strbuf_add(&sb, hex, 64);
	strbuf_addstr(&sb, "\"}");
	*value = strbuf_detach(&sb, len);
	return 0;
}

int audit_hash_value(const char *value, size_t len, const uint8_t prev[32],
		     const EVP_MD *md, uint8_t hash[32], uint8_t stored[32])
{
	const char *suffix;
	char hex[65];

	if (len < AUDIT_HASH_SUFFIX_LEN + 2 || value[0] != '{')
		return -EBADMSG;
	suffix = value + len - AUDIT_HASH_SUFFIX_LEN;
	if (memcmp(suffix, HASH_MEMBER, strlen(HASH_MEMBER)) ||
	    memcmp(value + len - 2, "\"}", 2))
		return -EBADMSG;
	memcpy(hex, suffix + strlen(HASH_MEMBER), 64);
	hex[64] = '\0';
	if (hex_decode(hex, stored, 32))
		return -EBADMSG;
	return digest(md, prev, value, (size_t)(suffix - value), hash);
}

static int get_int(json_t *o, const char *key, json_int_t *v)
{
	json_t *j = json_object_get(o, key);

	if (!json_is_integer(j))
		return -1;
	*v = json_integer_value(j);
	return 0;
}

static const char *get_str(json_t *o, const char *key, int *bad)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s)
		*bad = 1;
	return s ? s : "";
}

int audit_decode(const char *value, size_t len, json_t **o, struct audit_rec *r,
		 char prev_hex[65])
{
	json_int_t seq, t, uid, gid, pid, ver, bytes, res, count = 1, pol = 0, ino = 0, esc = 0;
	const char *prev;
	int bad = 0;

	memset(r, 0, sizeof(*r));
	*o = json_loadb(value, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(*o))
		goto bad;
	if (get_int(*o, "seq", &seq) || get_int(*o, "time", &t) ||
	    get_int(*o, "uid", &uid) || get_int(*o, "gid", &gid) ||
	    get_int(*o, "pid", &pid) || get_int(*o, "version", &ver) ||
	    get_int(*o, "bytes", &bytes) || get_int(*o, "result", &res))
		goto bad;
	r->seq = (uint64_t)seq;
	r->time_ns = t;
	r->uid = (uint32_t)uid;
	r->gid = (uint32_t)gid;
	r->pid = (uint32_t)pid;
	r->version = (uint64_t)ver;
	r->bytes = (uint64_t)bytes;
	r->result = (int)res;
	r->count = 1;
	if (json_object_get(*o, "count") &&
	    (get_int(*o, "count", &count) || count < 2))
		goto bad;
	else if (json_object_get(*o, "count"))
		r->count = (uint64_t)count;
	if (json_object_get(*o, "policy") && (get_int(*o, "policy", &pol) || !pol))
		goto bad;
	r->policy = (uint64_t)pol;
	if (json_object_get(*o, "ino") && (get_int(*o, "ino", &ino) || ino <= 0))
		goto bad;
	r->ino = (uint64_t)ino;
	if (json_object_get(*o, "content"))
		r->content = get_str(*o, "content", &bad);
	if (json_object_get(*o, "tree"))
		r->tree = get_str(*o, "tree", &bad);
	r->comm = get_str(*o, "comm", &bad);
	r->dept = get_str(*o, "dept", &bad);
	r->user = get_str(*o, "user", &bad);
	r->op = get_str(*o, "op", &bad);
	r->path = get_str(*o, "path", &bad);
	r->code = get_str(*o, "code", &bad);
	r->grant = get_str(*o, "grant", &bad);
	r->view = get_str(*o, "view", &bad);
	r->reason = get_str(*o, "reason", &bad);
	if (json_object_get(*o, "esc") && (get_int(*o, "esc", &esc) || esc != 1))
		goto bad;
	r->esc = esc == 1;
	prev = get_str(*o, "prev", &bad);
	if (bad || strlen(prev) != 64)
		goto bad;
	if (prev_hex)
		memcpy(prev_hex, prev, 65);
	return 0;
bad:
	json_decref(*o);
	*o = NULL;
	memset(r, 0, sizeof(*r));
	return -EBADMSG;
}
