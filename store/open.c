/*
 * store/open.c - opening a pool and closing it: the database (store/db.c),
 * its format version and inode counter, then the audit log
 * (store/audit_open.c), which every open pool has running.
 */
#include "store/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/log.h"
#include "store/convert.h"
#include "store/crypt_bind.h"
#include "store/crypt_store.h"
#include "store/pack_mode.h"
#include "store/key_log.h"
#include "store/tree_tag.h"

/*
 * The highest inode number the tree or the versions use, when the inode
 * counter in meta (a plain row) is not past it: a counter set back would
 * give a new file the number of an existing one, whose entries and
 * versions would then lead to it. Two seeks at open.
 */
static int past_used(struct store *s)
{
	static const enum store_cf cfs[] = { CF_TREE, CF_VERSIONS };
	uint8_t last[9] = { 'i', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint64_t hi = 0, ino;
	int ret = 0;

	for (size_t i = 0; !ret && i < sizeof(cfs) / sizeof(cfs[0]); i++) {
		rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropt, s->cf[cfs[i]]);
		const uint8_t *k;
		size_t klen;

		if (cfs[i] == CF_TREE)
			rocksdb_iter_seek_for_prev(it, (const char *)last, sizeof(last));
		else
			rocksdb_iter_seek_to_last(it);
		if (rocksdb_iter_valid(it)) {
			k = (const uint8_t *)rocksdb_iter_key(it, &klen);
			if (cfs[i] == CF_TREE && klen == 9 && k[0] == 'i')
				ino = get_be64(k + 1);
			else if (cfs[i] == CF_VERSIONS && klen == 16)
				ino = get_be64(k);
			else
				ino = 0;
			if (ino > hi)
				hi = ino;
		}
		/* fail closed: a seek that could not read may have missed the inode in use */
		ret = store_iter_end(s, it, "finding the highest inode in use", 0);
	}
	if (!ret && hi >= s->next_ino) {
		log_err("%s: the inode counter (%llu) is not past inode %llu, which is in use: "
			"counting from %llu", s->dir, (unsigned long long)s->next_ino,
			(unsigned long long)hi, (unsigned long long)hi + 1);
		s->next_ino = hi + 1;
	}
	return ret;
}

static int load_meta(struct store *s, struct perr *e)
{
	struct strbuf v = STRBUF_INIT;
	uint32_t fmt;
	int ret;

	ret = store_get(s, CF_META, "format", 6, &v);
	if (ret == -ENOENT || (!ret && v.len != 4)) {
		ret = perr_set(e, EINVAL, "%s: not a poolfs store (no format version)", s->dir);
		goto out;
	}
	if (ret) {
		ret = perr_set(e, -ret, "%s: cannot read the format version", s->dir);
		goto out;
	}
	fmt = get_be32((const uint8_t *)v.buf);
	if (fmt > STORE_FORMAT_CRYPT || fmt == 0) {
		ret = perr_set(e, EINVAL, "%s: store format %u is newer than this poolfs understands (%u)",
			       s->dir, fmt, STORE_FORMAT_CRYPT);
		goto out;
	}
	/* before anything reads a sealed value: the audit log is next */
	if (fmt == STORE_FORMAT_CRYPT) {
		ret = crypt_store_load(s, e);
		if (ret)
			goto out;
	} else {
		ret = crypt_bind_plain(s, e);
		if (ret)
			goto out;
	}
	ret = store_get(s, CF_META, "next_ino", 8, &v);
	if (ret || v.len != 8) {
		ret = perr_set(e, ret ? -ret : EIO, "%s: cannot read the inode counter", s->dir);
		goto out;
	}
	s->next_ino = get_be64((const uint8_t *)v.buf);
	ret = pack_mode_load(s);
	if (ret)
		ret = perr_set(e, -ret, "%s: cannot read the pack setting", s->dir);
	if (!ret && (ret = past_used(s)))
		ret = perr_set(e, -ret, "%s: cannot find the highest inode in use", s->dir);
out:
	strbuf_release(&v);
	return ret;
}

int store_open(const char *dir, unsigned flags, struct store **out, struct perr *e)
{
	struct strbuf path = STRBUF_INIT;
	struct store *s = NULL;
	struct stat st;
	char *err = NULL;
	char note[96];
	uint64_t tagged;
	bool recovered;
	int ret;

	*out = NULL;
	/* a conversion to an encrypted pool cut short during its swap */
	ret = store_convert_recover(dir, e);
	if (ret < 0)
		goto out;
	recovered = ret > 0;
	strbuf_addf(&path, "%s/db", dir);
	if (stat(path.buf, &st) || !S_ISDIR(st.st_mode)) {
		ret = perr_set(e, EINVAL, "%s: not a poolfs store (no db/)", dir);
		goto out;
	}
	/* checked here because RocksDB leaves LOCK and LOG files behind even when it refuses */
	strbuf_addstr(&path, "/CURRENT");
	if (stat(path.buf, &st)) {
		if (errno == EACCES)
			ret = perr_set(e, EACCES, "%s: permission denied", dir);
		else
			ret = perr_set(e, EINVAL, "%s: not a poolfs store (no database in db/)", dir);
		goto out;
	}
	strbuf_setlen(&path, path.len - strlen("/CURRENT"));
	s = store_alloc(dir, flags);

	ret = open_db(s, path.buf, false, &err);
	if (ret) {
		ret = open_error(dir, err, e);
		goto out;
	}
	ret = load_meta(s, e);
	if (ret)
		goto out;
	/* a swapped-in database that is not encrypted is no finished conversion */
	if (recovered && !s->crypt) {
		ret = perr_set(e, EKEYREJECTED, "%s: refused: the conversion swapped in a "
			       "database that is not encrypted (convert/db replaced?)", dir);
		goto out;
	}
	ret = audit_load(s);
	if (ret) {
		ret = perr_set(e, -ret, "%s: cannot read the audit log", dir);
		goto out;
	}
	if (recovered && !(flags & STORE_OPEN_RDONLY)) {
		struct audit_rec r = { .uid = getuid(), .gid = getgid(), .pid = (uint32_t)getpid(),
				       .op = "store.encrypt",
				       .reason = "conversion to an encrypted pool completed at open" };

		ret = audit_append(s, &r);
		if (ret) {
			ret = perr_set(e, -ret, "%s: cannot record the end of the conversion", dir);
			goto out;
		}
	}
	/* before anything is sealed: an old key record must not make new writes use a retired key */
	ret = key_log_check(s, e);
	if (ret)
		goto out;
	/* before anything reads the tree: from here an untagged row is refused */
	ret = tree_retag(s, &tagged, e);
	if (ret)
		goto out;
	if (tagged) {
		struct audit_rec r = { .uid = getuid(), .gid = getgid(), .pid = (uint32_t)getpid(),
				       .op = "store.retag", .reason = note };

		snprintf(note, sizeof(note), "%llu tree rows tagged: the pool's tree is "
			 "authenticated from here on", (unsigned long long)tagged);
		ret = audit_append(s, &r);
		if (ret) {
			ret = perr_set(e, -ret, "%s: cannot record the tagging of the tree", dir);
			goto out;
		}
	}
	*out = s;
	s = NULL;
out:
	free(err);
	store_free(s);
	strbuf_release(&path);
	return ret;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	audit_unload(s);
	store_free(s);
}
