/*
 * tests/test_audit_rec.c - the bytes of one audit record and one head seal,
 * against the library calls they replace.
 *
 * audit_encode() writes a record's JSON by hand (store/audit_rec.c); the
 * hash chain covers exactly those bytes, and docs/audit.md promises they
 * are what json_dumps(JSON_COMPACT | JSON_SORT_KEYS) gives. Here jansson
 * builds the same record the way the encoder did before, and the two must
 * agree byte for byte on random records full of quotes, backslashes,
 * control characters, multi-byte and broken UTF-8 and extreme integers.
 *
 * The head seal keeps a keyed HMAC context instead of calling EVP_Q_mac()
 * each time; a seal must not change, or every pool sealed before would
 * fail its head check at open. It is recomputed here from keys/sign.key
 * with EVP_Q_mac() as store/audit_seal.c documents it.
 */
#define AUDIT_TEST_NAME "test_audit_rec"
#include "tests/audit_util.h"

#include <openssl/evp.h>

/* ---- the reference: the record as a jansson object, as before ---- */

/* Length of the valid UTF-8 sequence at p, or 0 (as jansson decides). */
static size_t ref_utf8(const unsigned char *p, size_t left)
{
	json_t *j;
	size_t n;

	for (n = 1; n <= 4 && n <= left; n++) {
		j = json_stringn((const char *)p, n);
		if (j) {
			json_decref(j);
			return n;
		}
	}
	return 0;
}

/* The record's text of s (a backslash doubled, a byte not in UTF-8 as \xNN), as JSON; *esc when it differs. */
static json_t *ref_string(const char *s, bool *esc)
{
	struct strbuf sb = STRBUF_INIT;
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t left = strlen((const char *)p), n;
	json_t *j;

	while (left) {
		n = *p == '\\' ? 0 : ref_utf8(p, left);
		if (n) {
			strbuf_add(&sb, p, n);
		} else {
			strbuf_addf(&sb, *p == '\\' ? "\\\\" : "\\x%02x", *p);
			*esc = true;
		}
		n = n ? n : 1;
		p += n;
		left -= n;
	}
	j = json_stringn(sb.buf ? sb.buf : "", sb.len);
	strbuf_release(&sb);
	return j;
}

static char *ref_dump(const struct audit_rec *r, const uint8_t prev[32])
{
	json_t *o = json_object();
	char hex[65], *out;
	bool esc = false;

	hex_encode(prev, 32, hex);
	json_object_set_new(o, "seq", json_integer((json_int_t)r->seq));
	json_object_set_new(o, "time", json_integer((json_int_t)r->time_ns));
	json_object_set_new(o, "uid", json_integer(r->uid));
	json_object_set_new(o, "gid", json_integer(r->gid));
	json_object_set_new(o, "pid", json_integer(r->pid));
	json_object_set_new(o, "comm", ref_string(r->comm, &esc));
	json_object_set_new(o, "dept", ref_string(r->dept, &esc));
	json_object_set_new(o, "user", ref_string(r->user, &esc));
	json_object_set_new(o, "op", ref_string(r->op, &esc));
	json_object_set_new(o, "path", ref_string(r->path, &esc));
	json_object_set_new(o, "code", ref_string(r->code, &esc));
	json_object_set_new(o, "version", json_integer((json_int_t)r->version));
	json_object_set_new(o, "bytes", json_integer((json_int_t)r->bytes));
	json_object_set_new(o, "result", json_integer(r->result));
	json_object_set_new(o, "grant", ref_string(r->grant, &esc));
	json_object_set_new(o, "view", ref_string(r->view, &esc));
	json_object_set_new(o, "reason", ref_string(r->reason, &esc));
	json_object_set_new(o, "prev", json_string(hex));
	if (esc)
		json_object_set_new(o, "esc", json_integer(1));
	out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return out;
}

/* ---- random records ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Bytes that exercise every branch of the string writer. */
static void rand_string(char *buf, size_t size)
{
	static const char *const pieces[] = {
		"a", "Z", "/", "\"", "\\", "\b", "\f", "\n", "\r", "\t", "\x01", "\x1f",
		"\x7f", " ", "户籍", "张三", "\xf0\x9f\x98\x80", "\xc2\xa0",
		"\xff", "\xc0\xaf", "\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\x80", "\\x41", "%s", "{}", ",",
	};
	size_t n = next() % 12, len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *p = pieces[next() % (sizeof(pieces) / sizeof(pieces[0]))];
		int w = snprintf(buf + len, size - len, "%s", p);

		if (w < 0 || (size_t)w >= size - len) {
			buf[len] = '\0';	/* no piece cut in half */
			break;
		}
		len += (size_t)w;
	}
}

static int64_t rand_int(void)
{
	static const int64_t edges[] = { 0, 1, -1, 9, 10, 99, 100, INT64_MAX, INT64_MIN,
					 INT32_MAX, (int64_t)INT32_MIN, 1000000007 };

	if (next() % 3 == 0)
		return edges[next() % (sizeof(edges) / sizeof(edges[0]))];
	return (int64_t)next() >> (next() % 64);
}

/* Fills r with strings in s[8][64], NULL now and then (recorded as ""). */
static void rand_rec(struct audit_rec *r, char s[8][64], uint8_t prev[32])
{
	const char **fields[8] = { &r->comm, &r->dept, &r->user, &r->op,
				   &r->path, &r->code, &r->grant, &r->view };

	memset(r, 0, sizeof(*r));
	for (int i = 0; i < 8; i++) {
		rand_string(s[i], 64);
		*fields[i] = next() % 10 ? s[i] : NULL;
	}
	r->reason = next() % 2 ? s[(next() % 8)] : NULL;
	r->uid = (uint32_t)next();
	r->gid = (uint32_t)rand_int();
	r->pid = (uint32_t)next() % 4194304;
	r->version = (uint64_t)rand_int();
	r->bytes = (uint64_t)rand_int();
	r->result = (int)rand_int();
	/* seq and time are assigned by the chain: positive */
	r->seq = (uint64_t)rand_int() & INT64_MAX;
	r->time_ns = rand_int() & INT64_MAX;
	for (int i = 0; i < 32; i++)
		prev[i] = (uint8_t)next();
}

/* The stored value with its hash member dropped and the brace put back. */
static char *without_hash(const char *value, size_t len)
{
	struct strbuf sb = STRBUF_INIT;

	CU_ASSERT_FATAL(len > AUDIT_HASH_SUFFIX_LEN);
	strbuf_add(&sb, value, len - AUDIT_HASH_SUFFIX_LEN);
	strbuf_addch(&sb, '}');
	return strbuf_detach(&sb, NULL);
}

static void test_encode_matches_jansson(void)
{
	const EVP_MD *md = audit_md("sha256");
	unsigned mismatches = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(md);
	for (int i = 0; i < 20000; i++) {
		struct audit_rec r, back;
		char s[8][64], *value, *body, *ref, prev_hex[65], hex[65];
		uint8_t prev[32], hash[32], again[32], stored[32];
		json_t *o = NULL;
		size_t len;

		rand_rec(&r, s, prev);
		CU_ASSERT_EQUAL_FATAL(audit_encode(&r, prev, md, &value, &len, hash), 0);
		CU_ASSERT_EQUAL(strlen(value), len);
		body = without_hash(value, len);
		ref = ref_dump(&r, prev);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
		if (strcmp(body, ref) && mismatches++ < 3)
			fprintf(stderr, "\n  encoder: %s\n  jansson: %s\n", body, ref);
		/* the stored hash is the chain hash, and the value reads back */
		CU_ASSERT_EQUAL(audit_hash_value(value, len, prev, md, again, stored), 0);
		CU_ASSERT_EQUAL(memcmp(again, hash, 32), 0);
		CU_ASSERT_EQUAL(memcmp(stored, hash, 32), 0);
		CU_ASSERT_EQUAL(audit_decode(value, len, &o, &back, prev_hex), 0);
		hex_encode(prev, 32, hex);
		CU_ASSERT_STRING_EQUAL(prev_hex, hex);
		CU_ASSERT_EQUAL(back.seq, r.seq);
		CU_ASSERT_EQUAL(back.time_ns, r.time_ns);
		CU_ASSERT_EQUAL(back.result, r.result);
		CU_ASSERT_EQUAL(back.bytes, r.bytes);
		json_decref(o);
		free(ref);
		free(body);
		free(value);
	}
	CU_ASSERT_EQUAL(mismatches, 0);
}

/* Fixed records whose exact bytes are known without any library. */
static void test_encode_exact(void)
{
	static const char want[] =
		"{\"bytes\":9223372036854775807,\"code\":\"\",\"comm\":\"c\\\"a\\\\\\\\t\","
		"\"dept\":\"\\u0001\\u001F\\b\\f\\n\\r\\t\",\"esc\":1,\"gid\":0,\"grant\":\"\","
		"\"op\":\"open\",\"path\":\"/户籍/a\\\\xff\\\\xc0b\",\"pid\":7,"
		"\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\","
		"\"reason\":\"\",\"result\":-13,\"seq\":1,\"time\":5,\"uid\":4294967295,"
		"\"user\":\"\",\"version\":0,\"view\":\"raw\"}";
	struct audit_rec r = { .uid = UINT32_MAX, .pid = 7, .comm = "c\"a\\t",
			       .dept = "\x01\x1f\b\f\n\r\t", .op = "open",
			       .path = "/户籍/a\xff\xc0" "b", .bytes = INT64_MAX,
			       .result = -13, .view = "raw", .seq = 1, .time_ns = 5 };
	uint8_t prev[32] = { 0 }, hash[32];
	char *value, *body;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(audit_encode(&r, prev, audit_md("sha256"), &value, &len, hash), 0);
	body = without_hash(value, len);
	CU_ASSERT_STRING_EQUAL(body, want);
	free(body);
	free(value);
	/* a count past INT64_MAX is stored as jansson stored it: signed */
	r.bytes = UINT64_MAX;
	CU_ASSERT_EQUAL_FATAL(audit_encode(&r, prev, audit_md("sha256"), &value, &len, hash), 0);
	CU_ASSERT_EQUAL(strncmp(value, "{\"bytes\":-1,", 12), 0);
	free(value);
}

/*
 * Strings whose escapes sit at the ends of long verbatim runs (the writer
 * copies runs whole): their bytes as the byte-at-a-time writer stored
 * them, captured as fixtures, but for a backslash, which is two of text
 * since records say "esc" (a stored record is verified by its stored
 * bytes, so old logs verify unchanged).
 */
static const char *const runs_in[] = {
	"\"abcdefghijklmnopqrstuvwxyz0123456789/abcdefghijklmnopqrstuvwxyz\\",
	"\x7f~ \xff\xfe\xc3\xa9\xe6\x88\xb7\xe7\xb1\x8d/\x1f\x01" "\xed\xa0\x80" "end",
	"/pool/city/\xe4\xba\xba\xe5\x8f\xa3/r\t\n\r\b\f\"q\"\\\xf0\x9f\x98\x80\xf4\x90\x80\x80",
	"\xe2\x82",
	"",
	"plain-ascii-only-with-no-escape-at-all-0123456789.csv",
};
static const char *const runs_want[] = {
	"\"\\\"abcdefghijklmnopqrstuvwxyz0123456789/abcdefghijklmnopqrstuvwxyz\\\\\\\\\"",
	"\"\x7f~ \\\\xff\\\\xfe\xc3\xa9\xe6\x88\xb7\xe7\xb1\x8d/\\u001F\\u0001\\\\xed\\\\xa0\\\\x80end\"",
	"\"/pool/city/\xe4\xba\xba\xe5\x8f\xa3/r\\t\\n\\r\\b\\f\\\"q\\\"\\\\\\\\\xf0\x9f\x98\x80\\\\xf4\\\\x90\\\\x80\\\\x80\"",
	"\"\\\\xe2\\\\x82\"",
	"\"\"",
	"\"plain-ascii-only-with-no-escape-at-all-0123456789.csv\"",
};

static void test_encode_runs_fixture(void)
{
	for (size_t i = 0; i < sizeof(runs_in) / sizeof(runs_in[0]); i++) {
		struct audit_rec r = { .path = runs_in[i], .seq = 1 };
		uint8_t prev[32] = { 0 }, hash[32];
		char *value, *at, *end;
		size_t len;

		CU_ASSERT_EQUAL_FATAL(audit_encode(&r, prev, audit_md("sha256"), &value,
						   &len, hash), 0);
		at = strstr(value, ",\"path\":");
		CU_ASSERT_PTR_NOT_NULL_FATAL(at);
		at += strlen(",\"path\":");
		end = strstr(at, ",\"pid\":");
		CU_ASSERT_PTR_NOT_NULL_FATAL(end);
		*end = '\0';
		if (getenv("AUDIT_REC_PRINT"))
			fprintf(stderr, "W%zu=%s\n", i, at);
		CU_ASSERT_STRING_EQUAL(at, runs_want[i]);
		free(value);
	}
}

/*
 * A path holding the four characters \xff and one holding the byte 0xff
 * are different texts, both records say "esc", and the query's path
 * filter finds each by its own bytes; a path with neither has no "esc".
 */
static void test_backslash_unambiguous(void)
{
	static const char *const paths[] = { "/a\\xff", "/a\xff", "/a/b" };
	char *value[3], prev_hex[65];
	struct audit_rec back[3];
	json_t *o[3];
	uint8_t prev[32] = { 0 }, hash[32];
	size_t len;

	for (int i = 0; i < 3; i++) {
		struct audit_rec r = { .path = paths[i], .seq = 1, .op = "open" };

		CU_ASSERT_EQUAL_FATAL(audit_encode(&r, prev, audit_md("sha256"), &value[i], &len,
						   hash), 0);
		CU_ASSERT_EQUAL_FATAL(audit_decode(value[i], len, &o[i], &back[i], prev_hex), 0);
	}
	CU_ASSERT_STRING_NOT_EQUAL(back[0].path, back[1].path);
	CU_ASSERT_STRING_EQUAL(back[0].path, "/a\\\\xff");
	CU_ASSERT_STRING_EQUAL(back[1].path, "/a\\xff");
	CU_ASSERT(back[0].esc && back[1].esc && !back[2].esc);
	CU_ASSERT_PTR_NULL(strstr(value[2], "\"esc\""));
	for (int i = 0; i < 3; i++) {
		struct strbuf t = STRBUF_INIT;

		audit_text(paths[i], &t);
		CU_ASSERT_STRING_EQUAL(t.buf, back[i].path);
		strbuf_release(&t);
		json_decref(o[i]);
		free(value[i]);
	}
}

/*
 * The policy in force rides in every record once one was applied: after
 * "pid" in key order, read back, absent at 0, and a record claiming 0
 * (which no encoder writes) is no record; -1 stands for unknown.
 */
static void test_policy_member(void)
{
	struct audit_rec r = { .op = "read", .path = "/a", .seq = 3, .time_ns = 9, .policy = 7 };
	uint8_t prev[32] = { 0 }, hash[32];
	struct audit_rec back;
	json_t *o;
	char *value, *edited, *at;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(audit_encode(&r, prev, audit_md("sha256"), &value, &len, hash), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(value, "\"pid\":0,\"policy\":7,\"prev\":"));
	CU_ASSERT_EQUAL(audit_decode(value, len, &o, &back, NULL), 0);
	CU_ASSERT_EQUAL(back.policy, 7);
	json_decref(o);
	edited = strdup(value);
	CU_ASSERT_PTR_NOT_NULL_FATAL(edited);
	at = strstr(edited, "\"policy\":7");
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	at[9] = '0';
	CU_ASSERT_EQUAL(audit_decode(edited, len, &o, &back, NULL), -EBADMSG);
	free(edited);
	free(value);
	r.policy = AUDIT_POLICY_UNKNOWN;
	CU_ASSERT_EQUAL_FATAL(audit_encode(&r, prev, audit_md("sha256"), &value, &len, hash), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(value, "\"policy\":-1,"));
	CU_ASSERT_EQUAL(audit_decode(value, len, &o, &back, NULL), 0);
	CU_ASSERT_EQUAL(back.policy, AUDIT_POLICY_UNKNOWN);
	json_decref(o);
	free(value);
	r.policy = 0;
	CU_ASSERT_EQUAL_FATAL(audit_encode(&r, prev, audit_md("sha256"), &value, &len, hash), 0);
	CU_ASSERT_PTR_NULL(strstr(value, "\"policy\""));
	free(value);
}

/* ---- the head seal ---- */

static void test_head_seal_unchanged(void)
{
	static const char domain[] = "poolfs audit head v1";
	uint8_t secret[64], key[32], enc[AUDIT_SEAL_LEN], msg[128], mac[64];
	struct audit_keys k;
	struct audit_seal c = { .seq = 123456789, .time_ns = 1780000000123456789LL };
	size_t n = 0, len = 0;
	ssize_t slen;

	pool_new();
	slen = store_secret(S, "sign", secret, sizeof(secret));
	CU_ASSERT_FATAL(slen >= 16);
	CU_ASSERT_FATAL(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, (size_t)slen,
				  (const unsigned char *)"poolfs audit head mac v1", 24,
				  key, sizeof(key), &n) != NULL);
	CU_ASSERT_EQUAL_FATAL(audit_keys_load(S, &k), 0);
	for (int algo = 0; algo < 2; algo++) {
		const char *name = algo ? "sm3" : "sha256";

		for (int i = 0; i < 32; i++)
			c.hash[i] = (uint8_t)(i * 7 + algo);
		CU_ASSERT_EQUAL(audit_seal_sign(&k, name, AUDIT_SEAL_HEAD, &c), 0);
		audit_seal_encode(&c, enc);
		len = 0;
		memcpy(msg, domain, sizeof(domain));
		len += sizeof(domain);
		memcpy(msg + len, name, strlen(name) + 1);
		len += strlen(name) + 1;
		memcpy(msg + len, enc + 1, 48);
		len += 48;
		CU_ASSERT_FATAL(EVP_Q_mac(NULL, "HMAC", NULL, "SHA512", NULL, key, sizeof(key),
					  msg, len, mac, sizeof(mac), &n) != NULL);
		CU_ASSERT_EQUAL(memcmp(mac, c.sig, 64), 0);
		CU_ASSERT_EQUAL(audit_seal_check(&k, name, AUDIT_SEAL_HEAD, &c), 0);
		c.sig[5] ^= 1;
		CU_ASSERT_EQUAL(audit_seal_check(&k, name, AUDIT_SEAL_HEAD, &c), -EBADMSG);
	}
	audit_keys_release(&k);
	pool_done();
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "encoder matches jansson on 20000 random records", test_encode_matches_jansson },
		{ "encoder exact bytes", test_encode_exact },
		{ "encoder runs against fixtures", test_encode_runs_fixture },
		{ "a literal \\xff is not a raw byte", test_backslash_unambiguous },
		{ "head seal unchanged", test_head_seal_unchanged },
		{ "policy in force member", test_policy_member },
	};

	return unit_tests_run("audit_rec", suite_init, suite_clean, tests, UNIT_COUNT(tests));
}
