/*
 * store/pack_mode.c - the pool's pack setting and its pack figures
 * (store/pack_mode.h).
 */
#include "store/internal.h"
#include "store/pack.h"
#include "store/pack_mode.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/codec.h"
#include "common/log.h"

#define PACK_HDR_LEN	16	/* "poolfspk" be32 version be32 number (store/pack.c) */

/* not "pack..." : meta "pack" be32(n) rows are the packs' live bytes */
#define META_WRITE_PACKS	"write_packs"

void pack_mode_put(struct store *s, rocksdb_writebatch_t *b, bool on)
{
	char v = on ? 1 : 0;

	rocksdb_writebatch_put_cf(b, s->cf[CF_META], META_WRITE_PACKS,
				  strlen(META_WRITE_PACKS), &v, 1);
}

int pack_mode_load(struct store *s)
{
	struct strbuf v = STRBUF_INIT;
	int ret = store_get(s, CF_META, META_WRITE_PACKS, strlen(META_WRITE_PACKS), &v);

	if (ret == -ENOENT) {
		pack_set_writing(s, false);
		ret = 0;
	} else if (!ret && (v.len != 1 || (v.buf[0] != 0 && v.buf[0] != 1))) {
		log_err("%s: meta %s is damaged", store_dir(s), META_WRITE_PACKS);
		ret = -EIO;
	} else if (!ret) {
		pack_set_writing(s, v.buf[0] == 1);
	}
	strbuf_release(&v);
	return ret;
}

/* The setting as stored, whatever this open does (a read-only open writes nothing). */
static int mode_get(struct store *s, bool *on)
{
	struct strbuf v = STRBUF_INIT;
	int ret = store_get(s, CF_META, META_WRITE_PACKS, strlen(META_WRITE_PACKS), &v);

	*on = false;
	if (ret == -ENOENT)
		ret = 0;
	else if (!ret)
		*on = v.len == 1 && v.buf[0] == 1;
	strbuf_release(&v);
	return ret;
}

static int live_sum(struct store *s, uint64_t *live)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropt, s->cf[CF_META]);
	int ret = 0;

	*live = 0;
	for (rocksdb_iter_seek(it, "pack", 4); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);
		const char *v = rocksdb_iter_value(it, &vlen);

		if (klen < 4 || memcmp(k, "pack", 4))
			break;
		if (klen != 8)
			continue;
		if (vlen != 8) {
			ret = -EIO;
			break;
		}
		*live += get_be64((const uint8_t *)v);
	}
	return store_iter_end(s, it, "scanning meta failed", ret);
}

int pack_stats(struct store *s, struct store_stats *st)
{
	struct strbuf path = STRBUF_INIT;
	struct dirent *de;
	struct stat sb;
	uint64_t hdrs;
	DIR *d;
	int ret = mode_get(s, &st->writes_packs);

	if (!ret)
		ret = live_sum(s, &st->pack_live);
	if (ret)
		goto out;
	strbuf_addf(&path, "%s/packs", store_dir(s));
	d = opendir(path.buf);
	if (!d) {
		ret = errno == ENOENT ? 0 : -errno;
		goto out;
	}
	while ((de = readdir(d))) {
		if (!pack_file_number(de->d_name))
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/packs/%s", store_dir(s), de->d_name);
		/* a pack GC just removed is simply not counted */
		if (stat(path.buf, &sb))
			continue;
		st->packs++;
		st->pack_bytes += (uint64_t)sb.st_size;
	}
	closedir(d);
	hdrs = st->packs * PACK_HDR_LEN;
	st->pack_garbage = st->pack_bytes > st->pack_live + hdrs ?
			   st->pack_bytes - st->pack_live - hdrs : 0;
out:
	strbuf_release(&path);
	return ret;
}
