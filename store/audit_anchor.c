/*
 * store/audit_anchor.c - the auditor's anchor as text: one line to keep
 * outside the store and hand back to "audit verify --anchor".
 *
 *   poolfs-audit-anchor v1 seq=1234 time=2026-12-03T10:00:00.123456789Z
 *       algo=sha256 hash=<64 hex> mac=<128 hex>        (one line)
 *
 * time is the anchored record's, to the nanosecond, so that it is part
 * of what is compared; mac is HMAC-SHA512 under the pool's head key over
 * (seq, time, hash, algo) in the seal layout of store/audit_seal.c.
 */
#include "store/audit_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/codec.h"

#define ANCHOR_TAG	"poolfs-audit-anchor v1 "

void audit_anchor_format(const struct audit_anchor *a, struct strbuf *out)
{
	char hash[65], mac[129], when[32];
	time_t sec = (time_t)(a->time_ns / 1000000000);
	struct tm tm;

	hex_encode(a->hash, sizeof(a->hash), hash);
	hex_encode(a->mac, sizeof(a->mac), mac);
	if (a->time_ns < 0 || !gmtime_r(&sec, &tm) ||
	    !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(when, sizeof(when), "invalid");
	strbuf_addf(out, ANCHOR_TAG "seq=%" PRIu64 " time=%s.%09" PRId64 "Z algo=%s hash=%s mac=%s",
		    a->seq, when, a->time_ns % 1000000000, a->algo, hash, mac);
}

/* "2026-12-03T10:00:00.123456789Z" exactly; -EINVAL otherwise. */
static int parse_time(const char *v, size_t len, int64_t *ns)
{
	char buf[40];
	struct tm tm = { 0 };
	unsigned frac;
	int n = -1;
	time_t t;

	if (len != 30 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, v, len);
	buf[len] = '\0';
	if (sscanf(buf, "%4d-%2d-%2dT%2d:%2d:%2d.%9uZ%n", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &frac, &n) != 7 ||
	    n != (int)len || frac > 999999999u)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (t < 0 || t > INT64_MAX / 1000000000 - 1)
		return -EINVAL;
	*ns = (int64_t)t * 1000000000 + frac;
	return 0;
}

static bool parse_u64(const char *v, size_t len, uint64_t *out)
{
	uint64_t x = 0;

	if (!len || len > 19)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return true;
}

static bool parse_hex(const char *v, size_t len, uint8_t *out, size_t n)
{
	char buf[129];

	if (len != 2 * n || len >= sizeof(buf))
		return false;
	memcpy(buf, v, len);
	buf[len] = '\0';
	return !hex_decode(buf, out, n);
}

int audit_anchor_parse(const char *text, size_t len, struct audit_anchor *a, struct perr *e)
{
	const char *p = memmem(text, len, ANCHOR_TAG, strlen(ANCHOR_TAG)), *end;
	unsigned seen = 0;

	memset(a, 0, sizeof(*a));
	if (!p)
		return perr_set(e, EINVAL, "no \"%.*s\" line in it", (int)strlen(ANCHOR_TAG) - 1,
				ANCHOR_TAG);
	p += strlen(ANCHOR_TAG);
	end = p;
	while (end < text + len && *end != '\n' && *end != '\r' && *end != '"')
		end++;
	while (p < end) {
		const char *tok = p, *eq, *v;
		size_t klen, vlen;
		bool ok;

		while (p < end && *p != ' ')
			p++;
		eq = memchr(tok, '=', (size_t)(p - tok));
		if (!eq)
			return perr_set(e, EINVAL, "anchor: \"%.*s\" is not KEY=VALUE",
					(int)(p - tok > 40 ? 40 : p - tok), tok);
		klen = (size_t)(eq - tok);
		v = eq + 1;
		vlen = (size_t)(p - v);
		if (klen == 3 && !memcmp(tok, "seq", 3)) {
			ok = parse_u64(v, vlen, &a->seq) && a->seq > 0;
			seen |= 1;
		} else if (klen == 4 && !memcmp(tok, "time", 4)) {
			ok = !parse_time(v, vlen, &a->time_ns);
			seen |= 2;
		} else if (klen == 4 && !memcmp(tok, "algo", 4)) {
			ok = vlen > 0 && vlen < sizeof(a->algo);
			if (ok)
				memcpy(a->algo, v, vlen);
			seen |= 4;
		} else if (klen == 4 && !memcmp(tok, "hash", 4)) {
			ok = parse_hex(v, vlen, a->hash, sizeof(a->hash));
			seen |= 8;
		} else if (klen == 3 && !memcmp(tok, "mac", 3)) {
			ok = parse_hex(v, vlen, a->mac, sizeof(a->mac));
			seen |= 16;
		} else {
			ok = true;	/* later versions may add fields */
		}
		if (!ok)
			return perr_set(e, EINVAL, "anchor: bad %.*s", (int)klen, tok);
		while (p < end && *p == ' ')
			p++;
	}
	if (seen != 31)
		return perr_set(e, EINVAL, "anchor: seq, time, algo, hash and mac are all needed");
	return 0;
}
