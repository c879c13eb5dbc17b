/*
 * store/inode_rec.c - inode records: their format in the tree family,
 * and their load, which in an encrypted pool refuses a record put back
 * from an older copy.
 */
#include "store/inode_cache.h"
#include "store/internal.h"
#include "store/tree_tag.h"

#include <errno.h>
#include <string.h>

#include "common/codec.h"
#include "common/log.h"

/*
 * Inode record, format 1 (integers big-endian):
 *
 *   off  size  field
 *   0    1     record format (1)
 *   1    1     type (enum store_ftype)
 *   2    1     flags: 0x01 dead
 *   3    4     mode
 *   7    4     uid
 *   11   4     gid
 *   15   4     nlink
 *   19   8     size
 *   27   8     version
 *   35   8     parent
 *   43   48    atime, mtime, ctime, btime: be64 seconds, be32 nanoseconds
 *   91   2     name length N
 *   93   N     name
 *   ..   4     symlink target length T
 *   ..   T     target
 *
 * The inode number is the key ('i' be64(ino)), not part of the value.
 */
#define INODE_FMT	1
#define INODE_FIXED	93
#define INODE_DEAD	0x01

void inode_rec_init(struct inode_rec *r)
{
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->name, 0);
	strbuf_init(&r->target, 0);
}

void inode_rec_release(struct inode_rec *r)
{
	strbuf_release(&r->name);
	strbuf_release(&r->target);
	inode_rec_init(r);
}

static void inode_key(uint8_t key[9], uint64_t ino)
{
	key[0] = 'i';
	put_be64(key + 1, ino);
}

static uint8_t *put_time(uint8_t *p, const struct timespec *t)
{
	put_be64(p, (uint64_t)t->tv_sec);
	put_be32(p + 8, (uint32_t)t->tv_nsec);
	return p + 12;
}

static const uint8_t *get_time(const uint8_t *p, struct timespec *t)
{
	t->tv_sec = (time_t)(int64_t)get_be64(p);
	t->tv_nsec = get_be32(p + 8);
	return p + 12;
}

void inode_put(struct store *s, rocksdb_writebatch_t *b, const struct inode_rec *r)
{
	struct strbuf v = STRBUF_INIT;
	uint8_t key[9], *p;
	size_t nlen = r->name.len > 0xffff ? 0xffff : r->name.len;

	strbuf_grow(&v, INODE_FIXED + nlen + 4 + r->target.len);
	p = (uint8_t *)v.buf;
	p[0] = INODE_FMT;
	p[1] = (uint8_t)r->attr.type;
	p[2] = r->dead ? INODE_DEAD : 0;
	put_be32(p + 3, r->attr.mode);
	put_be32(p + 7, r->attr.uid);
	put_be32(p + 11, r->attr.gid);
	put_be32(p + 15, r->attr.nlink);
	put_be64(p + 19, r->attr.size);
	put_be64(p + 27, r->attr.version);
	put_be64(p + 35, r->parent);
	p = put_time(p + 43, &r->attr.atime);
	p = put_time(p, &r->attr.mtime);
	p = put_time(p, &r->attr.ctime);
	p = put_time(p, &r->attr.btime);
	p[0] = (uint8_t)(nlen >> 8);
	p[1] = (uint8_t)nlen;
	memcpy(p + 2, r->name.buf, nlen);
	p += 2 + nlen;
	put_be32(p, (uint32_t)r->target.len);
	memcpy(p + 4, r->target.buf, r->target.len);
	p += 4 + r->target.len;
	strbuf_setlen(&v, (size_t)(p - (uint8_t *)v.buf));

	inode_key(key, r->attr.ino);
	tree_put(s, b, key, sizeof(key), v.buf, v.len);
	strbuf_release(&v);
}

static int inode_decode(const uint8_t *p, size_t len, struct inode_rec *r)
{
	const uint8_t *end = p + len;
	size_t nlen, tlen;

	if (len < INODE_FIXED || p[0] != INODE_FMT)
		return -EIO;
	r->attr.type = p[1];
	r->dead = p[2] & INODE_DEAD;
	r->attr.mode = get_be32(p + 3);
	r->attr.uid = get_be32(p + 7);
	r->attr.gid = get_be32(p + 11);
	r->attr.nlink = get_be32(p + 15);
	r->attr.size = get_be64(p + 19);
	r->attr.version = get_be64(p + 27);
	r->parent = get_be64(p + 35);
	p = get_time(p + 43, &r->attr.atime);
	p = get_time(p, &r->attr.mtime);
	p = get_time(p, &r->attr.ctime);
	p = get_time(p, &r->attr.btime);
	nlen = (size_t)p[0] << 8 | p[1];
	p += 2;
	if ((size_t)(end - p) < nlen + 4)
		return -EIO;
	strbuf_add(&r->name, p, nlen);
	p += nlen;
	tlen = get_be32(p);
	p += 4;
	if ((size_t)(end - p) != tlen)
		return -EIO;
	strbuf_add(&r->target, p, tlen);
	return 0;
}

/*
 * -EIO when file ino has a version after the one its record names: an
 * inode record put back from an older copy (it carries a valid tag) would
 * serve older content as current. A point read the bloom filter mostly
 * answers; only an encrypted pool claims this (docs/threat-model.md).
 */
static int check_newest(struct store *s, uint64_t ino, uint64_t version)
{
	uint8_t key[16];
	char *err = NULL, *v;
	size_t vlen;
	int ret = 0;

	put_be64(key, ino);
	put_be64(key + 8, version + 1);
	v = rocksdb_get_cf(s->db, s->ropt, s->cf[CF_VERSIONS], (const char *)key, sizeof(key),
			   &vlen, &err);
	if (err) {
		log_err("%s: inode %llu: %s", s->dir, (unsigned long long)ino, err);
		ret = -EIO;
	} else if (v) {
		ret = -EAGAIN;	/* rolled back, or a commit after the record was read */
	}
	rocksdb_free(err);
	rocksdb_free(v);
	return ret;
}

static int inode_read(struct store *s, uint64_t ino, struct inode_rec *r, struct strbuf *v)
{
	uint8_t key[9];
	size_t vlen;
	int ret;

	strbuf_reset(&r->name);
	strbuf_reset(&r->target);
	inode_key(key, ino);
	ret = store_get(s, CF_TREE, key, sizeof(key), v);
	if (ret)
		return ret;
	vlen = v->len;
	ret = tree_open(s, key, sizeof(key), v->buf, &vlen);
	if (ret)
		return ret;
	ret = inode_decode((const uint8_t *)v->buf, vlen, r);
	if (ret)
		log_err("%s: inode %llu: corrupt record", s->dir, (unsigned long long)ino);
	return ret;
}

int inode_load(struct store *s, uint64_t ino, struct inode_rec *r)
{
	struct strbuf v = STRBUF_INIT;
	uint64_t seen = UINT64_MAX;
	uint64_t gen = inode_cache_gen(s->inodes);
	int ret;

	if (inode_cache_get(s->inodes, ino, r))
		return 0;
	/*
	 * The record and the version rows are two reads, not one snapshot: a
	 * commit between them (it writes both in one batch) shows a newer
	 * version than the record read just before. Read again; only a
	 * record that still names the same older version was put back.
	 */
	for (;;) {
		ret = inode_read(s, ino, r, &v);
		if (ret || !s->crypt || r->attr.type != STORE_REG)
			break;
		ret = check_newest(s, ino, r->attr.version);
		if (ret != -EAGAIN)
			break;
		if (r->attr.version == seen) {
			log_err("%s: inode %llu: its record names an older version than its newest "
				"(rolled back)", s->dir, (unsigned long long)ino);
			ret = -EIO;
			break;
		}
		seen = r->attr.version;
	}
	if (!ret) {
		r->attr.ino = ino;
		inode_cache_put(s->inodes, gen, r);
	}
	strbuf_release(&v);
	return ret;
}

int inode_read_at(struct store *s, rocksdb_readoptions_t *ro, uint64_t ino,
		  struct inode_rec *r)
{
	uint8_t key[9];
	char *err = NULL, *v;
	size_t vlen = 0;
	int ret;

	strbuf_reset(&r->name);
	strbuf_reset(&r->target);
	inode_key(key, ino);
	v = rocksdb_get_cf(s->db, ro, s->cf[CF_TREE], (const char *)key, sizeof(key), &vlen, &err);
	if (err) {
		log_err("%s: inode %llu: %s", s->dir, (unsigned long long)ino, err);
		rocksdb_free(err);
		return -EIO;
	}
	if (!v)
		return -ENOENT;
	ret = tree_open(s, key, sizeof(key), v, &vlen) ||
	      inode_decode((const uint8_t *)v, vlen, r) ? -EBADMSG : 0;
	if (!ret)
		r->attr.ino = ino;
	rocksdb_free(v);
	return ret;
}
