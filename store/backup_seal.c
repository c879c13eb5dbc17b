/*
 * store/backup_seal.c - what lets a backup be checked without the master
 * key: a hash chain over the audit values as stored, and a signature.
 *
 * In an encrypted pool the audit chain hashes each record's plaintext,
 * which only the key opens. So create also hashes the values as they
 * are stored (sealed, or plain in a plain pool), in seq order:
 *
 *   S_0 = 0^32;  S_n = md(S_{n-1} || be64(n) || stored value n)
 *
 * and signs, with the pool's audit signing key (Ed25519, or SM2 in the
 * 国密 profile; store/audit_seal.c), the seal
 *
 *   (seq, time, md(anchor chain hash || S_seq))   domain "poolfs audit backup v1"
 *
 * kept as one line in DEST/poolfs/N/seal with the public key:
 *
 *   poolfs-backup-seal v1 seq=S algo=sha256 chain=<hex S_seq>
 *       sign=ed25519 pubkey=<hex> sig=<hex 64 bytes>       (one line)
 *
 * A verifier without the key recomputes S from the restored database and
 * checks the signature with the public key: a record changed, dropped or
 * added in the backup, or a seal or anchor made up by whoever holds only
 * the backup, no longer matches. The public key in the line is the
 * backup's word for itself: pin the one `poolctl audit pubkey` printed
 * (verify --pubkey) to also rule out a backup rebuilt under another key.
 */
#include "store/audit_int.h"
#include "store/backup_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/codec.h"

#define SEAL_TAG	"poolfs-backup-seal v1 "

int backup_stored_chain(rocksdb_t *db, rocksdb_column_family_handle_t *audit,
			const char *algo, uint64_t *last, uint8_t chain[32])
{
	const EVP_MD *md = audit_md(algo);
	rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
	rocksdb_iterator_t *it;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint64_t expect = 1;
	char *err = NULL;
	int ret = 0;

	memset(chain, 0, 32);
	*last = 0;
	rocksdb_readoptions_set_verify_checksums(ro, 1);
	rocksdb_readoptions_set_fill_cache(ro, 0);
	it = rocksdb_create_iterator_cf(db, ro, audit);
	if (!md || !ctx)
		ret = -EIO;
	for (rocksdb_iter_seek_to_first(it); !ret && rocksdb_iter_valid(it);
	     rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen), *v = rocksdb_iter_value(it, &vlen);
		unsigned int n = 0;

		if (klen != 8 || get_be64((const uint8_t *)k) != expect) {
			ret = -EBADMSG;
			break;
		}
		if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
		    EVP_DigestUpdate(ctx, chain, 32) != 1 ||
		    EVP_DigestUpdate(ctx, k, klen) != 1 ||
		    EVP_DigestUpdate(ctx, v, vlen) != 1 ||
		    EVP_DigestFinal_ex(ctx, chain, &n) != 1 || n != 32)
			ret = -EIO;
		*last = expect++;
	}
	rocksdb_iter_get_error(it, &err);
	if (err && !ret)
		ret = -EIO;
	rocksdb_free(err);
	rocksdb_iter_destroy(it);
	rocksdb_readoptions_destroy(ro);
	EVP_MD_CTX_free(ctx);
	return ret;
}

/* What the seal signs: seq and time of the anchor, md(anchor hash || chain). */
static int seal_of(const struct backup_seal *b, const uint8_t anchor_hash[32],
		   struct audit_seal *c)
{
	const EVP_MD *md = audit_md(b->algo);
	uint8_t buf[64];
	unsigned int n = 0;

	memset(c, 0, sizeof(*c));
	c->seq = b->seq;
	c->time_ns = b->time_ns;
	memcpy(buf, anchor_hash, 32);
	memcpy(buf + 32, b->chain, 32);
	if (!md || EVP_Digest(buf, sizeof(buf), c->hash, &n, md, NULL) != 1 || n != 32)
		return -EINVAL;
	return 0;
}

int backup_seal_make(struct store *s, const struct audit_anchor *a, const uint8_t chain[32],
		     struct backup_seal *b, struct perr *e)
{
	struct audit_keys k;
	struct audit_seal c;
	int ret;

	memset(b, 0, sizeof(*b));
	b->seq = a->seq;
	b->time_ns = a->time_ns;
	snprintf(b->algo, sizeof(b->algo), "%s", a->algo);
	memcpy(b->chain, chain, 32);
	ret = audit_keys_load(s, &k);
	if (ret)
		return perr_set(e, -ret, "%s/keys/sign.key: cannot read the signing key", s->dir);
	b->sm2 = k.sm2;
	ret = seal_of(b, a->hash, &c);
	if (!ret)
		ret = audit_seal_sign(&k, b->algo, AUDIT_SEAL_BACKUP, &c);
	if (!ret)
		ret = audit_keys_pub_raw(&k, b->pub, &b->publen);
	if (ret)
		ret = perr_set(e, -ret, "%s: cannot sign the backup's seal", s->dir);
	else
		memcpy(b->sig, c.sig, 64);
	audit_keys_release(&k);
	return ret;
}

void backup_seal_format(const struct backup_seal *b, struct strbuf *out)
{
	char chain[65], pub[131], sig[129];

	hex_encode(b->chain, 32, chain);
	hex_encode(b->pub, b->publen, pub);
	hex_encode(b->sig, 64, sig);
	strbuf_addf(out, SEAL_TAG "seq=%" PRIu64 " time=%" PRId64 " algo=%s chain=%s sign=%s pubkey=%s sig=%s",
		    b->seq, b->time_ns, b->algo, chain, b->sm2 ? "sm2" : "ed25519", pub, sig);
}

/* The value of " KEY=" in line, up to the next space, into out (len bytes). */
static bool field(const char *line, const char *key, char *out, size_t len)
{
	char pat[16];
	const char *p, *end;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	if (!p)
		return false;
	p += strlen(pat);
	end = p + strcspn(p, " \n");
	if ((size_t)(end - p) >= len)
		return false;
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
	return true;
}

int backup_seal_parse(const char *line, struct backup_seal *b)
{
	char seq[24], time[24], chain[65], sign[16], pub[131], sig[129], *end;

	memset(b, 0, sizeof(*b));
	if (strncmp(line, SEAL_TAG, strlen(SEAL_TAG)) ||
	    !field(line, "seq", seq, sizeof(seq)) ||
	    !field(line, "time", time, sizeof(time)) ||
	    !field(line, "algo", b->algo, sizeof(b->algo)) ||
	    !field(line, "chain", chain, sizeof(chain)) ||
	    !field(line, "sign", sign, sizeof(sign)) ||
	    !field(line, "pubkey", pub, sizeof(pub)) ||
	    !field(line, "sig", sig, sizeof(sig)))
		return -EINVAL;
	errno = 0;
	b->seq = strtoull(seq, &end, 10);
	if (errno || *end)
		return -EINVAL;
	b->time_ns = strtoll(time, &end, 10);
	if (errno || *end)
		return -EINVAL;
	b->sm2 = !strcmp(sign, "sm2");
	if (!b->sm2 && strcmp(sign, "ed25519"))
		return -EINVAL;
	b->publen = strlen(pub) / 2;
	if (strlen(chain) != 64 || hex_decode(chain, b->chain, 32) || strlen(sig) != 128 ||
	    hex_decode(sig, b->sig, 64) || b->publen != (b->sm2 ? 65u : 32u) ||
	    strlen(pub) != 2 * b->publen || hex_decode(pub, b->pub, b->publen))
		return -EINVAL;
	return 0;
}

int backup_seal_check(const struct backup_seal *b, const struct audit_anchor *a,
		      struct audit_keys *pub)
{
	struct audit_seal c;

	if (b->seq != a->seq || b->time_ns != a->time_ns || strcmp(b->algo, a->algo))
		return -EBADMSG;
	if (seal_of(b, a->hash, &c))
		return -EBADMSG;
	memcpy(c.sig, b->sig, 64);
	return audit_seal_check(pub, b->algo, AUDIT_SEAL_BACKUP, &c) ? -EBADMSG : 0;
}
