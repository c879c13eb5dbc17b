/*
 * store/backup_keyless.c - checking a restored backup without opening
 * one sealed value, so that whoever keeps the backups checks them
 * without ever holding the master key.
 *
 * What needs no key: RocksDB's block checksums of every table and blob,
 * the chain over the audit values as stored and its signed seal
 * (store/backup_seal.c), the checkpoints' signatures (public key), the
 * head's plain fields against the anchor, and the structure: the tree
 * (plain) says how many versions each file has and the versions family
 * must hold each, the refs family counts every chunk and page and the
 * chunks family must hold each, a chunk as long as counted (plus the
 * envelope). What needs it: the records' contents and the chain over
 * them, the head's and anchor's MACs, and reading a version's bytes
 * (its chunk list is sealed), so a damaged chunk is named by its id
 * here, by the files using it only with the key.
 */
#include "store/audit_int.h"
#include "store/tree_tag.h"
#include "store/backup_int.h"
#include "store/crypt.h"
#include "store/pack.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"

struct kl {
	struct store *s;
	const struct backup_info *bi;
	struct backup_keyless *r;
	struct perr *e;
	rocksdb_readoptions_t *ro;
	char algo[AUDIT_ALGO_MAX];
	bool sm2;
	struct audit_keys pub;		/* sign NULL: no public key */
};

#define ULL(x) ((unsigned long long)(x))

static rocksdb_iterator_t *iter(struct kl *k, enum store_cf cf)
{
	return rocksdb_create_iterator_cf(k->s->db, k->ro, k->s->cf[cf]);
}

/* The iterator's error as -EBADMSG naming what was read; 0 when none. */
static int iter_done(struct kl *k, rocksdb_iterator_t *it, const char *what, int ret)
{
	char *err = NULL;

	rocksdb_iter_get_error(it, &err);
	if (err && !ret)
		ret = perr_set(k->e, EBADMSG, "backup %" PRIu32 ": %s: %s", k->bi->id, what, err);
	rocksdb_free(err);
	rocksdb_iter_destroy(it);
	return ret;
}

/* Every key and value of every family, so every block's checksum is checked. */
static int read_all(struct kl *k)
{
	int ret = 0;

	for (int i = 0; i < CF_COUNT && !ret; i++) {
		rocksdb_iterator_t *it = iter(k, (enum store_cf)i);
		size_t len;

		for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it))
			(void)rocksdb_iter_value(it, &len);
		ret = iter_done(k, it, store_cf_names[i], 0);
	}
	return ret;
}

static int meta_flags(struct kl *k)
{
	struct strbuf v = STRBUF_INIT;
	int ret;

	ret = store_get(k->s, CF_META, "format", 6, &v);
	if (ret || v.len != 4) {
		ret = perr_set(k->e, EBADMSG, "backup %" PRIu32 ": no format version: not a pool",
			       k->bi->id);
		goto out;
	}
	k->r->encrypted = get_be32((const uint8_t *)v.buf) == STORE_FORMAT_CRYPT;
	ret = audit_algo_load(k->s, k->ro, k->algo);
	if (ret) {
		ret = perr_set(k->e, EBADMSG, "backup %" PRIu32 ": meta \"audit_hash\" names no known algorithm",
			       k->bi->id);
		goto out;
	}
	ret = store_get(k->s, CF_META, AUDIT_META_SIGN, strlen(AUDIT_META_SIGN), &v);
	k->sm2 = !ret && v.len == 3 && !memcmp(v.buf, "sm2", 3);
	ret = 0;
out:
	strbuf_release(&v);
	return ret;
}

/* The stored chain, its seal and the public key it carries. */
static int check_chain(struct kl *k, const char *dest, const char *pin)
{
	struct strbuf path = STRBUF_INIT, line = STRBUF_INIT;
	struct backup_seal b;
	uint8_t chain[32];
	uint64_t last;
	FILE *f;
	int ret;

	ret = backup_stored_chain(k->s->db, k->s->cf[CF_AUDIT], k->algo, &last, chain);
	if (ret == -EBADMSG)
		return perr_set(k->e, EBADMSG, "backup %" PRIu32 ": audit record %" PRIu64 " is missing or out of place",
				k->bi->id, last + 1);
	if (ret)
		return perr_set(k->e, EBADMSG, "backup %" PRIu32 ": the audit family does not read back",
				k->bi->id);
	k->r->records = last;
	if (last != k->bi->anchor.seq)
		return perr_set(k->e, EBADMSG, "backup %" PRIu32 ": the audit log ends at record %" PRIu64 ", the anchor names %" PRIu64,
				k->bi->id, last, k->bi->anchor.seq);
	strbuf_addf(&path, "%s/" BACKUP_META_DIR "/%" PRIu32 "/" BACKUP_SEAL_FILE, dest, k->bi->id);
	f = fopen(path.buf, "re");
	if (!f)
		goto out;	/* a backup made before seals: said as skipped */
	strbuf_grow(&line, 1024);
	if (!fgets(line.buf, 1024, f) || backup_seal_parse(line.buf, &b)) {
		ret = perr_set(k->e, EBADMSG, "backup %" PRIu32 ": %s: not a seal", k->bi->id,
			       path.buf);
		fclose(f);
		goto out;
	}
	fclose(f);
	hex_encode(b.pub, b.publen, k->r->pubkey);
	if (pin && strcasecmp(pin, k->r->pubkey)) {
		ret = perr_set(k->e, EBADMSG, "backup %" PRIu32 ": sealed with public key %s, not the pinned one",
			       k->bi->id, k->r->pubkey);
		goto out;
	}
	if (b.sm2 != k->sm2 || audit_keys_public(b.sm2, b.pub, b.publen, &k->pub)) {
		ret = perr_set(k->e, EBADMSG, "backup %" PRIu32 ": %s: its public key is not the pool's kind",
			       k->bi->id, path.buf);
		goto out;
	}
	if (memcmp(b.chain, chain, 32) || backup_seal_check(&b, &k->bi->anchor, &k->pub)) {
		ret = perr_set(k->e, EBADMSG, "backup %" PRIu32 ": the audit records as stored do not match the backup's signed seal (changed, or the seal or anchor is not this backup's)",
			       k->bi->id);
		goto out;
	}
	k->r->sealed = true;
out:
	strbuf_release(&path);
	strbuf_release(&line);
	return ret;
}

/* The head's plain fields are the anchor's; every checkpoint is signed. */
static int check_seals(struct kl *k)
{
	const struct audit_anchor *a = &k->bi->anchor;
	struct strbuf v = STRBUF_INIT;
	struct audit_seal c;
	rocksdb_iterator_t *it;
	int ret;

	ret = store_get(k->s, CF_META, AUDIT_META_HEAD, strlen(AUDIT_META_HEAD), &v);
	if (ret || audit_seal_decode(v.buf, v.len, &c) || c.seq != a->seq ||
	    c.time_ns != a->time_ns || memcmp(c.hash, a->hash, 32)) {
		strbuf_release(&v);
		return perr_set(k->e, EBADMSG, "backup %" PRIu32 ": the audit head is not the anchored record %" PRIu64,
				k->bi->id, a->seq);
	}
	strbuf_release(&v);
	it = iter(k, CF_META);
	for (rocksdb_iter_seek(it, AUDIT_META_CP, AUDIT_CP_PREFIX_LEN);
	     !ret && rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *key = rocksdb_iter_key(it, &klen), *val = rocksdb_iter_value(it, &vlen);

		if (klen < AUDIT_CP_PREFIX_LEN || memcmp(key, AUDIT_META_CP, AUDIT_CP_PREFIX_LEN))
			break;
		if (audit_seal_decode(val, vlen, &c) || c.seq > a->seq ||
		    (k->pub.sign && audit_seal_check(&k->pub, k->algo, AUDIT_SEAL_CP, &c)))
			ret = perr_set(k->e, EBADMSG, "backup %" PRIu32 ": the audit checkpoint at record %" PRIu64 " is damaged or forged",
				       k->bi->id, c.seq);
		k->r->checkpoints++;
	}
	return iter_done(k, it, "meta", ret);
}

static void name_ino(struct kl *k, uint64_t ino, struct strbuf *out)
{
	strbuf_reset(out);
	if (store_path(k->s, ino, out)) {
		strbuf_reset(out);
		strbuf_addf(out, "inode %" PRIu64, ino);
	}
}

/* Each file's versions 1..V, V from its plain inode record, and no others. */
static int check_versions(struct kl *k)
{
	rocksdb_iterator_t *ti = iter(k, CF_TREE), *vi = iter(k, CF_VERSIONS);
	struct strbuf name = STRBUF_INIT;
	struct inode_rec r;
	uint8_t start = 'i';
	int ret = 0;

	inode_rec_init(&r);
	rocksdb_iter_seek_to_first(vi);
	for (rocksdb_iter_seek(ti, (const char *)&start, 1); !ret && rocksdb_iter_valid(ti);
	     rocksdb_iter_next(ti)) {
		size_t klen, vlen;
		const uint8_t *key = (const uint8_t *)rocksdb_iter_key(ti, &klen);
		uint64_t ino, n = 0, want;
		bool gap = false;

		if (klen != 9 || key[0] != 'i')
			break;
		ino = get_be64(key + 1);
		for (; rocksdb_iter_valid(vi); rocksdb_iter_next(vi)) {
			const uint8_t *vk = (const uint8_t *)rocksdb_iter_key(vi, &vlen);

			if (vlen != 16 || get_be64(vk) > ino)
				break;
			if (get_be64(vk) < ino) {
				ret = perr_set(k->e, EBADMSG, "backup %" PRIu32 ": version %" PRIu64 " of inode %" PRIu64 ", which has no inode record",
					       k->bi->id, get_be64(vk + 8), get_be64(vk));
				break;
			}
			if (get_be64(vk + 8) != n + 1) {
				gap = true;
				break;
			}
			n++;
		}
		if (ret)
			break;
		inode_rec_release(&r);
		inode_rec_init(&r);
		if (inode_load(k->s, ino, &r)) {
			name_ino(k, ino, &name);
			ret = perr_set(k->e, EBADMSG, "backup %" PRIu32 ": \"%s\": its inode record is damaged",
				       k->bi->id, name.buf);
			break;
		}
		want = r.attr.type == STORE_REG ? r.attr.version : n;
		if (gap || n != want) {
			name_ino(k, ino, &name);
			ret = perr_set(k->e, EBADMSG, "backup %" PRIu32 ": \"%s\" version %" PRIu64 " is missing (it has %" PRIu64 " versions)",
				       k->bi->id, name.buf, n + 1 > want ? want : n + 1, want);
			break;
		}
		if (r.attr.type == STORE_REG)
			k->r->files++;
		k->r->versions += n;
	}
	if (!ret && rocksdb_iter_valid(vi)) {
		size_t vlen;
		const uint8_t *vk = (const uint8_t *)rocksdb_iter_key(vi, &vlen);

		ret = perr_set(k->e, EBADMSG, "backup %" PRIu32 ": a version key of inode %" PRIu64 " nothing names",
			       k->bi->id, vlen >= 8 ? get_be64(vk) : 0);
	}
	inode_rec_release(&r);
	strbuf_release(&name);
	ret = iter_done(k, vi, "versions", ret);
	return iter_done(k, ti, "tree", ret);
}

/* Every chunk and page the refs family counts is in the chunks family. */
static int check_chunks(struct kl *k)
{
	rocksdb_iterator_t *ri = iter(k, CF_REFS), *ci = iter(k, CF_CHUNKS);
	size_t over = k->r->encrypted ? CRYPT_OVERHEAD : 0;
	int ret = 0;

	for (rocksdb_iter_seek_to_first(ri); !ret && rocksdb_iter_valid(ri);
	     rocksdb_iter_next(ri)) {
		size_t klen, vlen, clen, cvlen;
		const char *key = rocksdb_iter_key(ri, &klen), *val = rocksdb_iter_value(ri, &vlen);
		const char *ck;
		char hex[17];

		if (klen != 33)
			continue;
		hex_encode((const uint8_t *)key + 1, 8, hex);
		rocksdb_iter_seek(ci, key, klen);
		ck = rocksdb_iter_valid(ci) ? rocksdb_iter_key(ci, &clen) : NULL;
		if (!ck || clen != klen || memcmp(ck, key, klen)) {
			ret = perr_set(k->e, EBADMSG, "backup %" PRIu32 ": %s %s... is counted but missing",
				       k->bi->id, key[0] == 'c' ? "chunk" : "chunk-list page", hex);
			break;
		}
		if (key[0] == 'c' && vlen == 12) {
			const char *cv = rocksdb_iter_value(ci, &cvlen);
			struct pack_loc l;

			if (pack_loc_decode(cv, cvlen, get_be32((const uint8_t *)val + 8) + over,
					    &l) < 0)
				ret = perr_set(k->e, EBADMSG, "backup %" PRIu32 ": chunk %s... holds %zu bytes, %" PRIu32 " counted",
					       k->bi->id, hex, cvlen,
					       get_be32((const uint8_t *)val + 8));
		}
		k->r->chunks++;
	}
	ret = iter_done(k, ci, "chunks", ret);
	return iter_done(k, ri, "refs", ret);
}

int backup_keyless_check(const char *dest, const char *dir, const struct backup_info *bi,
			 const char *pin, struct backup_keyless *r, struct perr *e)
{
	struct strbuf path = STRBUF_INIT;
	struct kl k = { .bi = bi, .r = r, .e = e };
	char *err = NULL;
	int ret;

	memset(r, 0, sizeof(*r));
	strbuf_addf(&path, "%s/db", dir);
	k.s = store_alloc(dir, STORE_OPEN_RDONLY);
	ret = open_db(k.s, path.buf, false, &err);
	if (ret) {
		ret = perr_set(e, EBADMSG, "backup %" PRIu32 ": the restored database does not open: %s",
			       bi->id, err ? err : "unknown error");
		goto out;
	}
	{
		struct strbuf meta = STRBUF_INIT;

		/* no keys here: tree rows' tags are dropped unchecked */
		if (!store_get(k.s, CF_META, "crypt", 5, &meta))
			tree_tag_from_meta(k.s, meta.buf, meta.len);
		strbuf_release(&meta);
	}
	k.ro = rocksdb_readoptions_create();
	rocksdb_readoptions_set_verify_checksums(k.ro, 1);
	rocksdb_readoptions_set_fill_cache(k.ro, 0);
	ret = read_all(&k);
	if (!ret)
		ret = meta_flags(&k);
	if (!ret)
		ret = check_chain(&k, dest, pin);
	if (!ret)
		ret = check_seals(&k);
	if (!ret)
		ret = check_versions(&k);
	if (!ret)
		ret = check_chunks(&k);
out:
	audit_keys_release(&k.pub);
	if (k.ro)
		rocksdb_readoptions_destroy(k.ro);
	free(err);
	store_free(k.s);
	strbuf_release(&path);
	return ret;
}
