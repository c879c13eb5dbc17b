/*
 * store/commit_mark.c - a commit's record names the inode and a mark of
 * the version it made; `audit verify` holds the version rows to them.
 *
 * Whoever holds the disk can delete a file's newest version rows and put
 * its older inode record back (from an older copy of the store, its tag
 * and all): a consistent older state of that file, which nothing at read
 * time can tell from the truth. The log can: its commit records are
 * chained and signed, and each one made since this check names the inode
 * ("ino") and the mark of the version ("content"), so a version the log
 * committed that the store lacks, or holds with other content, is named.
 * Records written before carry neither and are not checked.
 */
#include "store/commit_mark.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/codec.h"
#include "store/content.h"
#include "store/convert_int.h"
#include "store/internal.h"

int store_mark(struct store *s, const void *msg, size_t len, char hex[COMMIT_MARK_HEX + 1])
{
	uint8_t key[32], mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	ssize_t klen = store_secret(s, "sign", key, sizeof(key));
	int ret = 0;

	if (klen != (ssize_t)sizeof(key)) {
		ret = klen < 0 ? (int)klen : -EIO;
		goto out;
	}
	if (!HMAC(EVP_sha256(), key, sizeof(key), msg, len, mac, &n) || n < 16) {
		ret = -EIO;
		goto out;
	}
	hex_encode(mac, COMMIT_MARK_HEX / 2, hex);
out:
	OPENSSL_cleanse(key, sizeof(key));
	return ret;
}

int commit_mark(struct store *s, uint64_t ino, uint64_t version, const uint8_t cid[32],
		char hex[COMMIT_MARK_HEX + 1])
{
	static const char label[] = "poolfs commit mark";
	uint8_t msg[sizeof(label) + 16 + 32];

	memcpy(msg, label, sizeof(label));
	put_be64(msg + sizeof(label), ino);
	put_be64(msg + sizeof(label) + 8, version);
	memcpy(msg + sizeof(label) + 16, cid, 32);
	return store_mark(s, msg, sizeof(msg), hex);
}

int store_content_tag(struct store *s, const uint8_t cid[32],
		      char hex[STORE_CONTENT_TAG_HEX + 1])
{
	static const char label[] = "poolfs content tag";
	_Static_assert(STORE_CONTENT_TAG_HEX == COMMIT_MARK_HEX, "a tag is a mark");
	uint8_t msg[sizeof(label) + 32];

	memcpy(msg, label, sizeof(label));
	memcpy(msg + sizeof(label), cid, 32);
	return store_mark(s, msg, sizeof(msg), hex);
}

int commit_audit_mark(struct store *s, struct audit_rec *a, const struct inode_rec *r,
		      const uint8_t cid[32], char mark[COMMIT_MARK_HEX + 1])
{
	int ret;

	if (a->version != r->attr.version)
		return 0;
	ret = commit_mark(s, r->attr.ino, r->attr.version, cid, mark);
	if (ret)
		return ret;
	a->ino = r->attr.ino;
	a->content = mark;
	return 0;
}

int commit_mark_check(struct store *s, const struct audit_rec *r, bool check_mark, char *msg,
		      size_t len, bool *unlanded)
{
	struct strbuf raw = STRBUF_INIT;
	struct version_rec vr;
	char want[COMMIT_MARK_HEX + 1];
	int ret;

	*unlanded = false;
	if (!r->ino || r->result || !r->version)
		return 0;
	ret = version_load(s, r->ino, r->version, &vr, &raw);
	if (ret == -ENOENT) {
		snprintf(msg, len, "version %" PRIu64 " of inode %" PRIu64 " (%s), committed by "
			 "record %" PRIu64 ", is missing from the store (deleted: the file rolled "
			 "back)", r->version, r->ino, r->path, r->seq);
		ret = -EBADMSG;
		*unlanded = true;
		goto out;
	}
	if (ret == -EIO) {
		snprintf(msg, len, "version %" PRIu64 " of inode %" PRIu64 " (%s), committed by "
			 "record %" PRIu64 ", fails its check in the store (edited)", r->version,
			 r->ino, r->path, r->seq);
		ret = -EBADMSG;
		goto out;
	}
	if (ret || !check_mark || !r->content || !r->content[0])
		goto out;
	ret = commit_mark(s, r->ino, r->version, vr.id, want);
	if (!ret && strcmp(want, r->content)) {
		snprintf(msg, len, "version %" PRIu64 " of inode %" PRIu64 " (%s) in the store is "
			 "not the content record %" PRIu64 " committed (replaced)", r->version,
			 r->ino, r->path, r->seq);
		ret = -EBADMSG;
		/* a commit that never landed left its number to the next one */
		*unlanded = true;
	}
out:
	strbuf_release(&raw);
	return ret;
}

uint64_t commit_mark_plain_until(struct store *s)
{
	struct strbuf v = STRBUF_INIT;
	uint64_t seq = 0;

	if (!store_get(s, CF_META, META_SRC, strlen(META_SRC), &v) && v.len == 8)
		seq = get_be64((const uint8_t *)v.buf);
	strbuf_release(&v);
	return seq;
}
