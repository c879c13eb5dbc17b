/*
 * store/db.c - the pool directory and the RocksDB database; the inode
 * records stored in it are store/inode_rec.c.
 *
 * A pool directory holds:
 *
 *   DIR/db/            the RocksDB database (mode 0700: raw data lives here)
 *   DIR/keys/          0700; hash.key and sign.key, 32 random bytes, 0600
 *   DIR/staging/       0700; spill files of uncommitted writes
 *   DIR/packs/         0700; chunk bytes of large commits (store/pack.c)
 *
 * A directory created by store_create is 0711 so that a control socket
 * inside it can be reached while its contents cannot be listed.
 *
 * RocksDB tuning, and why:
 *   - One LRU block cache (64 MiB) shared by every column family, so a
 *     busy family cannot grow memory beyond a fixed budget; and one
 *     memtable budget (64 MiB) for all of them: at RocksDB's default of
 *     64 MiB per memtable, nine families let a long-running daemon grow
 *     towards a gigabyte (the audit family alone fills one in minutes).
 *   - Block-based tables with 10-bit bloom filters on tree, refs and
 *     versions: lookup() of a missing name and the dedup check of a chunk
 *     are point reads that usually miss, and the filter answers those
 *     without touching a data block.
 *   - chunks keeps values of 4 KiB and more in blob files (BlobDB): chunks
 *     are large and written once, so separating them from the LSM keeps
 *     compaction from rewriting file content again and again. Blob GC
 *     never runs in compactions: it is age based, so every compaction
 *     would rewrite the live blobs of the oldest quarter of blob files,
 *     which in a store whose chunks never change is all cost (a 512 MiB
 *     write paid 40 % more CPU) and makes every backup copy them again;
 *     store/blob_gc.c reclaims evicted views' space when it is worth it.
 *   - LZ4 everywhere (blob files included): cheap enough not to show in
 *     read throughput and it shrinks CSV well. If this librocksdb was built
 *     without LZ4 the store opens with no compression instead.
 *   - The WAL stays on; commits are written with sync so a change is
 *     durable when the call returns. Audit records outside commits are
 *     synced to their own journal and reach RocksDB without the WAL
 *     (store/audit_journal.c).
 *   - create_if_missing only in store_create: opening a wrong path must
 *     fail, never create an empty pool.
 */
#include "common/alloc.h"
#include "store/convert_int.h"
#include "store/crypt_store.h"
#include "store/tree_tag.h"

#include "store/internal.h"
#include "store/newdir.h"
#include "store/pack.h"
#include "store/pack_gc.h"
#include "store/pack_mode.h"
#include "store/inode_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/codec.h"
#include "common/log.h"

const char *const store_cf_names[CF_COUNT] = {
	[CF_DEFAULT] = "default",
	[CF_META] = "meta",
	[CF_TREE] = "tree",
	[CF_CHUNKS] = "chunks",
	[CF_REFS] = "refs",
	[CF_VERSIONS] = "versions",
	[CF_VIEWS] = "views",
	[CF_AUDIT] = "audit",
	[CF_POLICY] = "policy",
};

#define BLOCK_CACHE_BYTES	(64u << 20)
#define MEMTABLE_BYTES		(64u << 20)	/* all families' memtables together */
#define MEMTABLE_BLOOM_RATIO	0.02	/* of a memtable's size: ~1.3 MiB, ~10 bits a refs row */
#define BLOOM_BITS		10
#define MIN_BLOB_SIZE		4096
#define SECRET_LEN		32

static const char *const secret_names[] = { "hash", "sign" };

/* ---- options ---- */

static void free_options(struct store *s)
{
	for (int i = 0; i < CF_COUNT; i++) {
		if (s->cf_opts[i])
			rocksdb_options_destroy(s->cf_opts[i]);
		s->cf_opts[i] = NULL;
	}
	if (s->db_opts)
		rocksdb_options_destroy(s->db_opts);
	if (s->table_opts)
		rocksdb_block_based_options_destroy(s->table_opts);
	if (s->block_cache)
		rocksdb_cache_destroy(s->block_cache);
	s->db_opts = NULL;
	s->table_opts = NULL;
	s->block_cache = NULL;
}

static bool has_bloom(int cf)
{
	return cf == CF_TREE || cf == CF_REFS || cf == CF_VERSIONS;
}

/*
 * Builds db_opts and cf_opts. Table factories copy the table options
 * (the cache and filter are shared pointers inside), so the plain table
 * options can go right away; the bloom ones stay in s->table_opts.
 */
static void build_options(struct store *s, bool create, int compression)
{
	rocksdb_block_based_table_options_t *plain;

	s->block_cache = rocksdb_cache_create_lru(BLOCK_CACHE_BYTES);
	s->table_opts = rocksdb_block_based_options_create();
	rocksdb_block_based_options_set_block_cache(s->table_opts, s->block_cache);
	rocksdb_block_based_options_set_filter_policy(s->table_opts,
		rocksdb_filterpolicy_create_bloom_full(BLOOM_BITS));
	plain = rocksdb_block_based_options_create();
	rocksdb_block_based_options_set_block_cache(plain, s->block_cache);

	s->db_opts = rocksdb_options_create();
	rocksdb_options_set_create_if_missing(s->db_opts, create);
	rocksdb_options_set_create_missing_column_families(s->db_opts, create);
	rocksdb_options_set_compression(s->db_opts, compression);
	rocksdb_options_set_max_background_jobs(s->db_opts, 2);
	rocksdb_options_set_info_log_level(s->db_opts, 3 /* ERROR */);
	rocksdb_options_set_keep_log_file_num(s->db_opts, 2);
	rocksdb_options_set_db_write_buffer_size(s->db_opts, MEMTABLE_BYTES);

	for (int i = 0; i < CF_COUNT; i++) {
		rocksdb_options_t *o = rocksdb_options_create_copy(s->db_opts);

		rocksdb_options_set_block_based_table_factory(o,
			has_bloom(i) ? s->table_opts : plain);
		/*
		 * a chunk writer reads refs for every new chunk, nearly always a
		 * miss: a skiplist search of the memtable each time (~3 % of a
		 * large write's CPU) unless a bloom filter answers first
		 */
		if (i == CF_REFS) {
			rocksdb_options_set_memtable_prefix_bloom_size_ratio(o, MEMTABLE_BLOOM_RATIO);
			rocksdb_options_set_memtable_whole_key_filtering(o, 1);
		}
		if (i == CF_CHUNKS) {
			rocksdb_options_set_enable_blob_files(o, 1);
			/*
			 * no relocation in compactions: it rewrites blob files
			 * whether they hold garbage or not, and every backup
			 * after it copies them again; store/blob_gc.c
			 * reclaims evicted views' space when it is worth it
			 */
			rocksdb_options_set_enable_blob_gc(o, 0);
			rocksdb_options_set_min_blob_size(o, MIN_BLOB_SIZE);
			rocksdb_options_set_blob_compression_type(o, compression);
		}
		s->cf_opts[i] = o;
	}
	rocksdb_block_based_options_destroy(plain);
}

/* ---- opening ---- */

static bool err_has(const char *err, const char *what)
{
	return err && strstr(err, what);
}

/*
 * Opens DIR/db with every column family, retrying without compression
 * when this librocksdb lacks LZ4. Leaves the RocksDB message in *errp
 * (caller frees) on failure.
 */
int open_db(struct store *s, const char *path, bool create, char **errp)
{
	const rocksdb_options_t *cfo[CF_COUNT];
	int comp[] = { rocksdb_lz4_compression, rocksdb_no_compression };

	*errp = NULL;
	for (size_t c = 0; c < sizeof(comp) / sizeof(comp[0]); c++) {
		free_options(s);
		build_options(s, create, comp[c]);
		for (int i = 0; i < CF_COUNT; i++)
			cfo[i] = s->cf_opts[i];
		free(*errp);
		*errp = NULL;
		if (s->flags & STORE_OPEN_RDONLY)
			s->db = rocksdb_open_for_read_only_column_families(s->db_opts,
				path, CF_COUNT, store_cf_names,
				cfo, s->cf, 0, errp);
		else
			s->db = rocksdb_open_column_families(s->db_opts, path,
				CF_COUNT, store_cf_names,
				cfo, s->cf, errp);
		if (s->db)
			return 0;
		if (!err_has(*errp, "ompression"))
			break;
	}
	return -EIO;
}

struct store *store_alloc(const char *dir, unsigned flags)
{
	struct store *s = xcalloc(1, sizeof(*s));

	s->dir = xstrdup(dir);
	s->flags = flags;
	pthread_mutex_init(&s->lock, NULL);
	s->wopt_sync = rocksdb_writeoptions_create();
	rocksdb_writeoptions_set_sync(s->wopt_sync, 1);
	s->wopt_async = rocksdb_writeoptions_create();
	s->ropt = rocksdb_readoptions_create();
	s->inodes = inode_cache_new();
	/* a pack directory it cannot list shows as a missing pack when read */
	(void)pack_open(s);
	return s;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	pack_gc_stop(s);
	for (int i = 0; i < CF_COUNT; i++)
		if (s->cf[i])
			rocksdb_column_family_handle_destroy(s->cf[i]);
	if (s->db)
		rocksdb_close(s->db);
	free_options(s);
	crypt_store_free(s->crypt);
	pack_close(s);
	rocksdb_writeoptions_destroy(s->wopt_sync);
	rocksdb_writeoptions_destroy(s->wopt_async);
	rocksdb_readoptions_destroy(s->ropt);
	pthread_mutex_destroy(&s->lock);
	inode_cache_free(s->inodes);
	free(s->dir);
	free(s);
}

int open_error(const char *dir, const char *err, struct perr *e)
{
	if (err_has(err, "lock") || err_has(err, "LOCK"))
		return perr_set(e, EBUSY, "%s: pool is in use by another process", dir);
	if (err_has(err, "Column family not found") || err_has(err, "Column families"))
		return perr_set(e, EINVAL, "%s: not a poolfs store (%s)", dir, err);
	if (err_has(err, "No space") || err_has(err, "ENOSPC"))
		return perr_set(e, ENOSPC, "%s: no space left opening the database", dir);
	if (err_has(err, "Permission denied"))
		return perr_set(e, EACCES, "%s: permission denied opening the database", dir);
	return perr_set(e, EIO, "%s: cannot open the database: %s", dir,
			err ? err : "unknown error");
}

const char *store_dir(const struct store *s)
{
	return s->dir;
}

/* ---- creating ---- */

static int check_empty(const char *dir, struct perr *e)
{
	struct strbuf path = STRBUF_INIT;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int ret = 0;

	strbuf_addf(&path, "%s/db", dir);
	if (!stat(path.buf, &st)) {
		ret = perr_set(e, EEXIST, "%s: already holds a pool", dir);
		goto out;
	}
	d = opendir(dir);
	if (!d) {
		ret = perr_set(e, errno, "%s: %s", dir, strerror(errno));
		goto out;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			ret = perr_set(e, ENOTEMPTY, "%s: directory is not empty and not a pool", dir);
			break;
		}
	}
	closedir(d);
out:
	strbuf_release(&path);
	return ret;
}

static int make_dir(const char *dir, const char *sub, mode_t mode, struct perr *e)
{
	struct strbuf path = STRBUF_INIT;
	int ret = 0;

	strbuf_addf(&path, "%s/%s", dir, sub);
	if (mkdir(path.buf, mode) && errno != EEXIST)
		ret = perr_set(e, errno, "%s: %s", path.buf, strerror(errno));
	strbuf_release(&path);
	return ret;
}

/* In an encrypted pool (c set) the file holds the secret sealed with the master key. */
static int make_secret(const char *dir, const char *name, const struct store_crypt *c,
		       struct perr *e)
{
	struct strbuf path = STRBUF_INIT, val = STRBUF_INIT;
	uint8_t key[SECRET_LEN];
	char label[128];
	int fd = -1, ret = 0;

	strbuf_addf(&path, "%s/keys/%s.key", dir, name);
	if (RAND_bytes(key, sizeof(key)) != 1) {
		ret = perr_set(e, EIO, "%s: no random bytes for a key", path.buf);
		goto out;
	}
	if (c) {
		crypt_secret_label(c, name, label, sizeof(label));
		ret = crypt_wrap_secret(crypt_cipher_of(c->k), c->master, label, key, sizeof(key),
					&val);
		if (ret) {
			ret = perr_set(e, -ret, "%s: cannot seal the key", path.buf);
			goto out;
		}
	} else {
		strbuf_add(&val, key, sizeof(key));
	}
	errno = 0;
	fd = open(path.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, val.buf, val.len) != (ssize_t)val.len ||
	    fsync(fd)) {
		ret = perr_set(e, errno ? errno : EIO, "%s: %s", path.buf, strerror(errno));
		goto out;
	}
out:
	if (fd >= 0 && close(fd) && !ret)
		ret = perr_set(e, errno, "%s: %s", path.buf, strerror(errno));
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(val.buf, val.len);
	strbuf_release(&val);
	strbuf_release(&path);
	return ret;
}

/*
 * Writes the format, the key record, the pack setting, the inode counter
 * and the root directory.
 */
static int init_db(struct store *s, const struct store_crypt *c, bool packs)
{
	rocksdb_writebatch_t *b = rocksdb_writebatch_create();
	struct strbuf meta = STRBUF_INIT;
	struct inode_rec root;
	uint8_t v[8];
	int64_t now = store_now_ns();
	int ret;

	put_be32(v, c ? STORE_FORMAT_CRYPT : STORE_FORMAT_VERSION);
	rocksdb_writebatch_put_cf(b, s->cf[CF_META], "format", 6, (const char *)v, 4);
	if (c) {
		ret = crypt_store_meta(c, &meta);
		if (ret)
			goto out;
		rocksdb_writebatch_put_cf(b, s->cf[CF_META], "crypt", 5, meta.buf, meta.len);
	}
	pack_mode_put(s, b, packs);
	put_be64(v, STORE_ROOT_INO + 1);
	rocksdb_writebatch_put_cf(b, s->cf[CF_META], "next_ino", 8, (const char *)v, 8);

	inode_rec_init(&root);
	root.attr.ino = STORE_ROOT_INO;
	root.attr.type = STORE_DIR;
	root.attr.mode = 0755;
	root.attr.nlink = 2;
	root.attr.atime.tv_sec = now / 1000000000;
	root.attr.atime.tv_nsec = now % 1000000000;
	root.attr.mtime = root.attr.ctime = root.attr.btime = root.attr.atime;
	inode_put(s, b, &root);
	inode_rec_release(&root);

	ret = store_write(s, b, true);
out:
	strbuf_release(&meta);
	rocksdb_writebatch_destroy(b);
	return ret;
}

int store_create(const char *dir, struct perr *e)
{
	return store_create_opts(dir, NULL, e);
}

/* An absolute path for the key file (poolfs leaves the cwd), or the default one. */
static int key_path(const struct store_crypt_opts *o, const char *pool_id, struct strbuf *out,
		    struct perr *e)
{
	char cwd[4096];

	if (!o->key_file) {
		strbuf_addf(out, "/etc/poolfs/keys/%s.key", pool_id);
		return 0;
	}
	if (!o->key_file[0])
		return perr_set(e, EINVAL, "--key-file: empty path");
	if (o->key_file[0] != '/') {
		if (!getcwd(cwd, sizeof(cwd)))
			return perr_set(e, errno, "--key-file: %s", strerror(errno));
		strbuf_addf(out, "%s/", cwd);
	}
	strbuf_addstr(out, o->key_file);
	return 0;
}

/*
 * The keys of a new encrypted pool: a pool id, the master key (the
 * file's when it exists, else a new file) and a fresh keyset.
 */
int crypt_prepare(const struct store_crypt_opts *o, struct store_crypt **out, struct perr *e)
{
	struct strbuf path = STRBUF_INIT;
	struct store_crypt *c = xcalloc(1, sizeof(*c));
	uint8_t id[16];
	int ret;

	*out = NULL;
	if (RAND_bytes(id, sizeof(id)) != 1) {
		ret = perr_set(e, EIO, "no random bytes for a pool id");
		goto out;
	}
	hex_encode(id, sizeof(id), c->pool_id);
	if (o->passphrase) {
		c->has_kdf = true;
		ret = crypt_kdf_new(&c->kdf);
		if (!ret)
			ret = crypt_kdf_derive(&c->kdf, o->passphrase->buf, o->passphrase->len,
					       c->master);
		if (ret)
			ret = perr_set(e, -ret, "cannot derive the master key (scrypt)");
	} else {
		ret = key_path(o, c->pool_id, &path, e);
		if (!ret)
			ret = crypt_master_create(path.buf, c->master, e);
		if (ret == -EEXIST)
			ret = crypt_master_load(path.buf, c->master, e);
	}
	if (ret)
		goto out;
	ret = crypt_new(o->cipher, &c->k);
	if (ret) {
		ret = perr_set(e, -ret, "cannot make the pool's keys");
		goto out;
	}
	/* "" for a passphrase: the record's field stays a string */
	c->key_file = strbuf_detach(&path, NULL);
	*out = c;
	c = NULL;
out:
	crypt_store_free(c);
	strbuf_release(&path);
	return ret;
}

int store_create_opts(const char *dir, const struct store_crypt_opts *o, struct perr *e)
{
	return store_create_packs(dir, o, true, e);
}

int store_create_packs(const char *dir, const struct store_crypt_opts *o, bool packs,
		       struct perr *e)
{
	struct strbuf path = STRBUF_INIT;
	struct store_crypt *c = NULL;
	struct store *s = NULL;
	char *err = NULL;
	bool made;
	int ret;

	made = !mkdir(dir, 0711);
	if (!made && errno != EEXIST) {
		ret = perr_set(e, errno, "%s: %s", dir, strerror(errno));
		goto out;
	}
	ret = store_newdir_check(dir, "the new pool's directory", e);
	if (ret && made)
		rmdir(dir);
	if (!ret)
		ret = check_empty(dir, e);
	if (!ret && o && o->cipher != CRYPT_PLAIN)
		ret = crypt_prepare(o, &c, e);
	if (ret)
		goto out;
	ret = make_dir(dir, "keys", 0700, e);
	for (size_t i = 0; !ret && i < sizeof(secret_names) / sizeof(secret_names[0]); i++)
		ret = make_secret(dir, secret_names[i], c, e);
	if (!ret)
		ret = make_dir(dir, "staging", 0700, e);
	/* made before RocksDB so it never exists with a looser mode */
	if (!ret)
		ret = make_dir(dir, "db", 0700, e);
	if (ret)
		goto out;

	s = store_alloc(dir, 0);
	strbuf_addf(&path, "%s/db", dir);
	ret = open_db(s, path.buf, true, &err);
	if (ret) {
		ret = open_error(dir, err, e);
		goto out;
	}
	/*
	 * a new encrypted pool tags its tree rows from the root on;
	 * POOLFS_TEST_UNTAGGED makes one as releases before tags did, for
	 * tests/mount/t_tree_retag.sh
	 */
	if (c && !getenv("POOLFS_TEST_UNTAGGED")) {
		c->tree_tag = true;
		s->tree_tag = true;
		s->crypt = c;
	}
	ret = init_db(s, c, packs);
	s->crypt = NULL;
	s->tree_tag = false;
	if (ret)
		ret = perr_set(e, -ret, "%s: cannot initialize the database", dir);
out:
	crypt_store_free(c);
	free(err);
	store_free(s);
	strbuf_release(&path);
	return ret;
}

ssize_t store_secret(struct store *s, const char *name, uint8_t *buf, size_t len)
{
	struct strbuf path = STRBUF_INIT;
	ssize_t n = -EINVAL;
	int fd;

	/* the name becomes a path: only plain lower-case words */
	if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyz") != strlen(name))
		goto out;
	if (s->crypt) {
		const uint8_t *k = !strcmp(name, "hash") ? s->crypt->hash_key :
				   !strcmp(name, "sign") ? s->crypt->sign_key : NULL;

		n = -ENOENT;
		if (k) {
			n = len < 32 ? (ssize_t)len : 32;
			memcpy(buf, k, (size_t)n);
		}
		goto out;
	}
	strbuf_addf(&path, "%s/keys/%s.key", s->dir, name);
	fd = open(path.buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		n = -errno;
		goto out;
	}
	n = read(fd, buf, len);
	if (n < 0)
		n = -errno;
	close(fd);
out:
	strbuf_release(&path);
	return n;
}

/* ---- reads and writes ---- */

int store_get(struct store *s, enum store_cf cf, const void *key, size_t klen,
	      struct strbuf *val)
{
	char *err = NULL, *v;
	size_t vlen;

	strbuf_reset(val);
	v = rocksdb_get_cf(s->db, s->ropt, s->cf[cf], key, klen, &vlen, &err);
	if (err) {
		log_err("%s: read from %s failed: %s", s->dir, store_cf_names[cf], err);
		rocksdb_free(err);
		return -EIO;
	}
	if (!v)
		return -ENOENT;
	strbuf_add(val, v, vlen);
	rocksdb_free(v);
	return 0;
}

int store_get_be64(struct store *s, enum store_cf cf, const void *key, size_t klen,
		   uint64_t dflt, uint64_t *out)
{
	struct strbuf v = STRBUF_INIT;
	int ret = store_get(s, cf, key, klen, &v);

	*out = dflt;
	if (ret == -ENOENT)
		ret = 0;
	else if (!ret && v.len != 8)
		ret = -EIO;
	else if (!ret)
		*out = get_be64((const uint8_t *)v.buf);
	strbuf_release(&v);
	return ret;
}

int store_iter_end(struct store *s, rocksdb_iterator_t *it, const char *what, int ret)
{
	char *err = NULL;

	rocksdb_iter_get_error(it, &err);
	rocksdb_iter_destroy(it);
	if (!err)
		return ret;
	log_err("%s: %s: %s", s->dir, what, err);
	rocksdb_free(err);
	return -EIO;
}

int store_failed(struct store *s)
{
	return __atomic_load_n(&s->failed, __ATOMIC_ACQUIRE);
}

int store_fail(struct store *s, int err, const char *msg)
{
	int none = 0;

	if (__atomic_compare_exchange_n(&s->failed, &none, err, false, __ATOMIC_SEQ_CST,
					__ATOMIC_SEQ_CST))
		log_err("%s: the database failed a write (%s); it takes no more writes, "
			"reads go on, writes fail with %s until poolfs restarts",
			s->dir, msg, strerror(-err));
	return store_failed(s);
}

static int rocksdb_errno(const char *err)
{
	return err_has(err, "No space") || err_has(err, "ENOSPC") ? -ENOSPC : -EIO;
}

int store_flush(struct store *s, enum store_cf cf)
{
	rocksdb_flushoptions_t *fo;
	char *err = NULL;
	int ret = store_failed(s);

	if (ret)
		return ret;
	fo = rocksdb_flushoptions_create();
	rocksdb_flushoptions_set_wait(fo, 1);
	rocksdb_flush_cf(s->db, fo, s->cf[cf], &err);
	rocksdb_flushoptions_destroy(fo);
	if (err) {
		log_err("%s: flush of %s failed: %s", s->dir, store_cf_names[cf], err);
		ret = store_fail(s, rocksdb_errno(err), err);
		rocksdb_free(err);
	}
	return ret;
}

/*
 * After a failed write RocksDB refuses writes until it is reopened (a
 * background error), or resumes by itself for some: either way the
 * failed batch may reappear from the WAL at the next open. The store
 * stops at the first failure so that what follows does not depend on
 * which: nothing is written after a batch whose fate is unknown.
 */
static int write_batch(struct store *s, rocksdb_writebatch_t *b, bool sync, bool tree)
{
	char *err = NULL;
	int ret;

	if (s->flags & STORE_OPEN_RDONLY)
		return -EROFS;
	ret = store_failed(s);
	if (ret)
		return ret;
	rocksdb_write(s->db, sync ? s->wopt_sync : s->wopt_async, b, &err);
	/* written or not (RocksDB may have applied it): kept records may be old */
	if (tree)
		inode_cache_wrote(s->inodes);
	if (err) {
		log_err("%s: write failed: %s", s->dir, err);
		__atomic_store_n(&s->write_unknown, true, __ATOMIC_SEQ_CST);
		ret = store_fail(s, rocksdb_errno(err), err);
		rocksdb_free(err);
	}
	return ret;
}

int store_write(struct store *s, rocksdb_writebatch_t *b, bool sync)
{
	return write_batch(s, b, sync, true);
}

int store_write_untree(struct store *s, rocksdb_writebatch_t *b, bool sync)
{
	return write_batch(s, b, sync, false);
}

/*
 * Strictly increasing within the process, so two events never share a
 * timestamp: 'h' keys (parent, name, died) and as-of lookups rely on it.
 */
int64_t store_now_ns(void)
{
	static int64_t last;		/* atomic */
	struct timespec ts;
	int64_t now, prev;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	prev = __atomic_load_n(&last, __ATOMIC_SEQ_CST);
	do {
		if (now <= prev)
			now = prev + 1;
	} while (!__atomic_compare_exchange_n(&last, &prev, now, true, __ATOMIC_SEQ_CST,
					      __ATOMIC_SEQ_CST));
	return now;
}
