/*
 * tests/test_pack_gc.c - pack GC and re-sealing (store/pack_gc.c): a
 * pack whose records a view eviction made dead is rewritten and deleted,
 * live chunks read back and the live counts match the new pack; GC in
 * the background after an eviction; kill -9 after the new pack is synced
 * and after the locators are swapped loses nothing; a locator edited to
 * point at another chunk's record reads EIO and GC never gives it those
 * bytes, and so does a record whose key was edited (its pack stays); a
 * backup's checkpoint keeps the pack; a pack cut short at creation goes;
 * re-encryption re-seals every pack record under the new key, and
 * conversion of a plain pool with packs writes every chunk inline.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/codec.h"
#include "store/content.h"
#include "store/convert.h"
#include "store/crypt_store.h"
#include "store/internal.h"
#include "store/pack.h"
#include "store/pack_gc.h"
#include "store/scrub.h"
#include "tests/fill_util.h"
#include "tests/pack_util.h"
#include "tests/store_util.h"
#include "tests/unit_main.h"

#define FILE_LEN	(16u << 20)	/* 8 MiB of it in a pack */
#define VIEW_LEN	(32u << 20)	/* 24 MiB of it in a pack */

/* The first read error of ino's current version, or 0 when it reads back as want. */
static int content_check(uint64_t ino, const uint8_t *want, size_t len)
{
	struct store_content *c;
	uint8_t *got = malloc(len);
	size_t off = 0;
	int ret;

	if (!got)
		return -ENOMEM;
	ret = store_content_open(S, ino, 0, &c);
	if (ret)
		return free(got), ret;
	while (!ret && off < len) {
		ssize_t n = store_content_read(c, got + off, 65536, off);

		if (n <= 0)
			ret = n < 0 ? (int)n : -EIO;
		else
			off += (size_t)n;
	}
	if (!ret && memcmp(got, want, len))
		ret = 1;
	store_content_close(c);
	free(got);
	return ret;
}

static uint32_t pack_max(void)
{
	uint32_t max = 0;

	CU_ASSERT_EQUAL(pack_list(pooldir, &max), 0);
	return max;
}

/* A view of len bytes of seed's, then evicted: its pack records are dead. */
static void dead_view(uint64_t seed, size_t len)
{
	struct store_view_writer *w;
	uint8_t *buf = malloc(len), c[32], f[32];

	CU_ASSERT_FATAL(buf != NULL);
	fill(buf, len, seed);
	memset(c, 0x5a, 32);
	memset(f, 0xa5, 32);
	put_be64(c, seed);
	CU_ASSERT_EQUAL_FATAL(store_view_begin(S, &w), 0);
	for (size_t off = 0; off < len; off += 1u << 20)
		CU_ASSERT_EQUAL_FATAL(store_view_write(w, buf + off, 1u << 20), 0);
	CU_ASSERT_EQUAL_FATAL(store_view_commit(w, c, f), 0);
	free(buf);
}

static void evict_all(void)
{
	CU_ASSERT_EQUAL(store_view_set_budget(S, 0), 0);
	CU_ASSERT_EQUAL(store_view_set_budget(S, STORE_VIEW_BUDGET_DEFAULT), 0);
}

/*
 * A file of FILE_LEN bytes of seed and an evicted view of VIEW_LEN in one
 * new pack, closed by a reopen; its number.
 */
static uint32_t half_dead_pack(const char *name, uint64_t seed, uint8_t *buf, uint64_t *ino)
{
	uint32_t n;
	uint64_t live = 0;

	reopen();
	n = pack_max() + 1;
	*ino = mkfile(name);
	fill(buf, FILE_LEN, seed);
	CU_ASSERT_EQUAL_FATAL(write_in(S, *ino, buf, FILE_LEN), 0);
	dead_view(seed + 1000, VIEW_LEN);
	CU_ASSERT_EQUAL(pack_max(), n);
	reopen();
	evict_all();
	CU_ASSERT_EQUAL(pack_live(S, n, &live), 0);
	CU_ASSERT(live > 0 && 2 * live < (uint64_t)pack_size(n));
	return n;
}

/* ---- tests ---- */

/*
 * An abandoned write's records are a hole (store/pack_abandon.c) between
 * live ones: the scan skips it instead of taking the zeros for a damaged
 * header, moves the live records after it and deletes the pack.
 */
#define DEAD_LEN	(3 * FILE_LEN)	/* the pack under half live */
static void test_punched(void)
{
	uint8_t *a = malloc(FILE_LEN), *dead = malloc(DEAD_LEN), *c = malloc(FILE_LEN);
	struct store_stage *st;
	struct pack_gc_stats gs;
	uint64_t fa, fc;
	uint32_t n;
	int ret = 0;

	CU_ASSERT_FATAL(a && dead && c);
	fill(a, FILE_LEN, 71);
	fill(dead, DEAD_LEN, 72);
	fill(c, FILE_LEN, 73);
	reopen();	/* a pack of this test's own */
	fa = mkfile("punched-a");
	fc = mkfile("punched-c");
	CU_ASSERT_EQUAL_FATAL(write_in(S, fa, a, FILE_LEN), 0);
	n = pack_max();
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, fc, &st), 0);
	for (size_t done = 0; !ret && done < DEAD_LEN; done += 1u << 20)
		ret = store_stage_write(st, dead + done, 1u << 20, done);
	CU_ASSERT_EQUAL(ret, 0);
	store_stage_close(st);	/* abandoned: its records become a hole */
	CU_ASSERT_EQUAL_FATAL(write_in(S, fc, c, FILE_LEN), 0);
	CU_ASSERT_EQUAL_FATAL(pack_max(), n);
	reopen();	/* the pack is no longer appended to */
	CU_ASSERT_EQUAL(store_pack_gc(S, false, &gs), 0);
	printf("\n    pack %u: %u deleted, %u kept, %llu records moved\n", n, gs.packs, gs.kept,
	       (unsigned long long)gs.moved);
	CU_ASSERT_EQUAL(pack_size(n), -1);
	CU_ASSERT_EQUAL(gs.kept, 0);
	CU_ASSERT_EQUAL(content_check(fa, a, FILE_LEN), 0);
	CU_ASSERT_EQUAL(content_check(fc, c, FILE_LEN), 0);
	CU_ASSERT_EQUAL(scrub_damaged(), 0);
	free(a);
	free(dead);
	free(c);
}

static void test_compact(void)
{
	uint8_t *buf = malloc(FILE_LEN);
	struct pack_gc_stats st;
	uint64_t ino, live = 1, live2 = 0;
	uint32_t n;
	off_t before;

	CU_ASSERT_FATAL(buf != NULL);
	n = half_dead_pack("compact", 1, buf, &ino);
	before = pack_size(n);
	CU_ASSERT_EQUAL(store_pack_gc(S, false, &st), 0);
	printf("\n    pack %u of %lld bytes: %u deleted, %llu records moved, %llu freed\n", n,
	       (long long)before, st.packs, (unsigned long long)st.moved,
	       (unsigned long long)st.freed);
	CU_ASSERT_EQUAL(pack_size(n), -1);
	CU_ASSERT_EQUAL(st.packs, 1);
	CU_ASSERT_EQUAL(st.kept, 0);
	/* the old pack's count is gone, the new one counts exactly what it holds */
	CU_ASSERT_EQUAL(pack_live(S, n, &live), 0);
	CU_ASSERT_EQUAL(live, 0);
	CU_ASSERT_EQUAL(pack_live(S, n + 1, &live2), 0);
	CU_ASSERT_EQUAL((off_t)live2 + 16, pack_size(n + 1));
	CU_ASSERT(pack_size(n + 1) < before / 2);
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), 0);
	reopen();
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), 0);
	CU_ASSERT_EQUAL(scrub_damaged(), 0);
	/* a second pass finds nothing to do */
	CU_ASSERT_EQUAL(store_pack_gc(S, false, &st), 0);
	CU_ASSERT_EQUAL(st.packs, 0);
	CU_ASSERT(pack_size(n + 1) > 0);
	free(buf);
}

static void test_background(void)
{
	uint8_t *buf = malloc(FILE_LEN);
	uint64_t ino;
	uint32_t n;

	CU_ASSERT_FATAL(buf != NULL);
	unsetenv("POOLFS_TEST_NO_PACK_GC_BG");
	n = half_dead_pack("background", 2, buf, &ino);
	/* the eviction started a pass; a second open of the file reads meanwhile */
	for (int i = 0; i < 600 && pack_size(n) >= 0; i++) {
		CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), 0);
		usleep(50000);
	}
	CU_ASSERT_EQUAL(pack_size(n), -1);
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), 0);
	setenv("POOLFS_TEST_NO_PACK_GC_BG", "1", 1);
	free(buf);
}

/* Runs in a fresh exec of this binary: one GC pass, killed at step. */
static int crash_child(const char *step)
{
	struct pack_gc_stats st;

	setenv("POOLFS_TEST_PACK_GC_KILL", step, 1);
	if (store_open(pooldir, 0, &S, NULL))
		_exit(2);
	store_pack_gc(S, false, &st);
	_exit(3);
}

static void crash_at(const char *step)
{
	uint8_t *buf = malloc(FILE_LEN);
	struct pack_gc_stats st;
	uint64_t ino;
	uint32_t n;
	int status;
	pid_t pid;

	CU_ASSERT_FATAL(buf != NULL);
	n = half_dead_pack(step, 3 + strlen(step) + (uint64_t)step[1], buf, &ino);
	store_close(S);
	S = NULL;
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		/* exec: RocksDB's threads do not survive fork() */
		execl("/proc/self/exe", "test_pack_gc", "--crash-child", pooldir, step,
		      (char *)NULL);
		_exit(4);
	}
	waitpid(pid, &status, 0);
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CU_ASSERT_EQUAL_FATAL(store_open(pooldir, 0, &S, NULL), 0);
	/* the old pack is still there, and every chunk reads, from one or the other */
	CU_ASSERT(pack_size(n) > 0);
	CU_ASSERT(pack_size(n + 1) > 16);
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), 0);
	CU_ASSERT_EQUAL(scrub_damaged(), 0);
	/* and a later pass finishes the job */
	CU_ASSERT_EQUAL(store_pack_gc(S, false, &st), 0);
	CU_ASSERT_EQUAL(pack_size(n), -1);
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), 0);
	reopen();
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), 0);
	CU_ASSERT_EQUAL(scrub_damaged(), 0);
	free(buf);
}

static void test_crash_synced(void)
{
	crash_at("synced");
}

static void test_crash_swapped(void)
{
	crash_at("swapped");
}

static void locator_at(uint64_t ino, uint64_t off, uint8_t key[33], struct strbuf *val,
		       uint32_t *len);

/* A byte of a record's key edited on the disk: its chunk reads EIO, and GC keeps the pack. */
static void test_edited_key(void)
{
	uint8_t *buf = malloc(FILE_LEN), ka[33], byte;
	struct strbuf va = STRBUF_INIT;
	struct pack_gc_stats st;
	struct pack_loc la;
	char path[4400];
	uint32_t n, lena;
	uint64_t ino;
	off_t at;
	int fd;

	CU_ASSERT_FATAL(buf != NULL);
	n = half_dead_pack("edited", 13, buf, &ino);
	locator_at(ino, 12u << 20, ka, &va, &lena);
	CU_ASSERT_EQUAL_FATAL(pack_loc_decode(va.buf, va.len, lena, &la), 0);
	snprintf(path, sizeof(path), "%s/packs/%08u.pack", pooldir, n);
	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	at = (off_t)la.off - PACK_REC_HDR + 9;
	CU_ASSERT_EQUAL(pread(fd, &byte, 1, at), 1);
	byte ^= 0x10;
	CU_ASSERT_EQUAL(pwrite(fd, &byte, 1, at), 1);
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), -EIO);
	/* the record is nobody's now, but its chunk is still counted: the pack stays */
	CU_ASSERT_EQUAL(store_pack_gc(S, false, &st), 0);
	CU_ASSERT_EQUAL(st.kept, 1);
	CU_ASSERT(pack_size(n) > 0);
	byte ^= 0x10;
	CU_ASSERT_EQUAL(pwrite(fd, &byte, 1, at), 1);
	close(fd);
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), 0);
	CU_ASSERT_EQUAL(store_pack_gc(S, false, &st), 0);
	CU_ASSERT_EQUAL(pack_size(n), -1);
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), 0);
	strbuf_release(&va);
	free(buf);
}

/* A backup checkpoint in the pool: records move, the pack stays until it is gone. */
static void test_backup_checkpoint(void)
{
	uint8_t *buf = malloc(FILE_LEN);
	struct pack_gc_stats st;
	char cp[4400];
	uint64_t ino;
	uint32_t n;

	CU_ASSERT_FATAL(buf != NULL);
	n = half_dead_pack("checkpoint", 9, buf, &ino);
	snprintf(cp, sizeof(cp), "%s/backup", pooldir);
	CU_ASSERT_FATAL(mkdir(cp, 0700) == 0 || errno == EEXIST);
	snprintf(cp, sizeof(cp), "%s/backup/checkpoint", pooldir);
	CU_ASSERT_EQUAL_FATAL(mkdir(cp, 0700), 0);
	CU_ASSERT_EQUAL(store_pack_gc(S, false, &st), 0);
	CU_ASSERT(st.moved > 0);
	CU_ASSERT_EQUAL(st.kept, 1);
	CU_ASSERT(pack_size(n) > 0);
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), 0);
	CU_ASSERT_EQUAL(rmdir(cp), 0);
	/* nothing left in it to move: the next pass only deletes it */
	CU_ASSERT_EQUAL(store_pack_gc(S, false, &st), 0);
	CU_ASSERT_EQUAL(st.moved, 0);
	CU_ASSERT_EQUAL(pack_size(n), -1);
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), 0);
	free(buf);
}

/*
 * A pack file a crash left shorter than its header is deleted, and the
 * number of a deleted pack is never used again.
 */
static void test_stub_pack(void)
{
	struct pack_gc_stats st;
	char path[4400];
	uint32_t n;
	int fd;

	reopen();
	n = pack_max() + 1;
	snprintf(path, sizeof(path), "%s/packs/%08u.pack", pooldir, n);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "poolfs", 6), 6);
	close(fd);
	reopen();
	CU_ASSERT_EQUAL(store_pack_gc(S, false, &st), 0);
	CU_ASSERT_EQUAL(pack_size(n), -1);
	/* the highest pack deleted: an empty one after it keeps its number from coming back */
	CU_ASSERT_EQUAL(pack_max(), n + 1);
	CU_ASSERT_EQUAL(pack_size(n + 1), 16);
	reopen();
	CU_ASSERT_EQUAL(store_pack_gc(S, false, &st), 0);
	CU_ASSERT_EQUAL(pack_size(n + 1), 16);
}

/* The key and value of the chunk at byte off of ino's current version, its length in *len. */
static void locator_at(uint64_t ino, uint64_t off, uint8_t key[33], struct strbuf *val,
		       uint32_t *len)
{
	struct chunk_list l = CHUNK_LIST_INIT;
	struct strbuf raw = STRBUF_INIT;
	struct version_rec vr;
	struct store_attr a;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(store_getattr(S, ino, &a), 0);
	CU_ASSERT_EQUAL_FATAL(version_load(S, ino, a.version, &vr, &raw), 0);
	CU_ASSERT_EQUAL_FATAL(pages_load(S, vr.pages, vr.npages, vr.size, &l), 0);
	i = chunk_list_find(&l, off);
	key[0] = 'c';
	memcpy(key + 1, l.v[i].sha, 32);
	*len = l.v[i].len;
	chunk_list_release(&l);
	strbuf_release(&raw);
	CU_ASSERT_EQUAL_FATAL(store_get(S, CF_CHUNKS, key, 33, val), 0);
	CU_ASSERT_EQUAL_FATAL(val->len, PACK_LOC_LEN);
}

static void put_raw(const uint8_t key[33], const void *val, size_t len)
{
	rocksdb_writebatch_t *b = rocksdb_writebatch_create();

	rocksdb_writebatch_put_cf(b, S->cf[CF_CHUNKS], (const char *)key, 33, val, len);
	CU_ASSERT_EQUAL(store_write(S, b, true), 0);
	rocksdb_writebatch_destroy(b);
}

static void test_swapped_locator(void)
{
	uint8_t *buf = malloc(FILE_LEN), ka[33], kb[33], forged[PACK_LOC_LEN], *bytes;
	struct strbuf va = STRBUF_INIT, vb = STRBUF_INIT, now = STRBUF_INIT;
	struct pack_loc la, lb, l;
	struct pack_gc_stats st;
	char path[4400];
	uint32_t n, lena, lenb;
	uint64_t ino;
	int fd;

	CU_ASSERT_FATAL(buf != NULL);
	n = half_dead_pack("forged", 7, buf, &ino);
	locator_at(ino, 12u << 20, ka, &va, &lena);
	locator_at(ino, 10u << 20, kb, &vb, &lenb);
	CU_ASSERT_FATAL(memcmp(ka, kb, 33) != 0);
	CU_ASSERT_EQUAL_FATAL(pack_loc_decode(va.buf, va.len, lena, &la), 0);
	CU_ASSERT_EQUAL_FATAL(pack_loc_decode(vb.buf, vb.len, lenb, &lb), 0);
	/*
	 * Someone with the disk points A's locator at B's record: A's length,
	 * and the CRC of the bytes there, so that only the key in front of
	 * the record can tell.
	 */
	snprintf(path, sizeof(path), "%s/packs/%08u.pack", pooldir, n);
	fd = open(path, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	bytes = malloc(lena);
	CU_ASSERT_FATAL(bytes != NULL);
	CU_ASSERT_EQUAL_FATAL(pread(fd, bytes, lena, (off_t)lb.off), (ssize_t)lena);
	close(fd);
	l = lb;
	l.len = lena;
	l.crc = pack_crc32c(bytes, lena, 0);
	pack_loc_encode(&l, forged);
	put_raw(ka, forged, sizeof(forged));
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), -EIO);
	/* GC moves B's bytes to B only; A keeps the forged locator, and reads EIO */
	CU_ASSERT_EQUAL(store_pack_gc(S, false, &st), 0);
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), -EIO);
	CU_ASSERT_EQUAL(store_get(S, CF_CHUNKS, kb, 33, &now), 0);
	CU_ASSERT_EQUAL(pack_loc_decode(now.buf, now.len, lenb, &l), 0);
	CU_ASSERT_NOT_EQUAL(l.pack, n);
	strbuf_reset(&now);
	CU_ASSERT_EQUAL(store_get(S, CF_CHUNKS, ka, 33, &now), 0);
	CU_ASSERT(now.len == sizeof(forged) && !memcmp(now.buf, forged, sizeof(forged)));
	/* A's record counted and not found: the pack stays rather than lose it */
	CU_ASSERT(pack_size(n) > 0);
	CU_ASSERT_EQUAL(st.kept, 1);
	/* mended, A reads again, and the next pass deletes the pack */
	put_raw(ka, va.buf, va.len);
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), 0);
	CU_ASSERT_EQUAL(store_pack_gc(S, false, &st), 0);
	CU_ASSERT_EQUAL(pack_size(n), -1);
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), 0);
	free(bytes);
	strbuf_release(&va);
	strbuf_release(&vb);
	strbuf_release(&now);
	free(buf);
}

/* Whether every record of every pack in dir/packs is sealed under key id (count in *recs). */
static bool packs_all_under(const char *dir, uint32_t id, uint64_t *recs)
{
	char path[4400];
	uint32_t max = 0;
	bool ok = true;

	*recs = 0;
	if (pack_list(dir, &max))
		return false;
	for (uint32_t n = 1; n <= max; n++) {
		uint8_t hdr[PACK_REC_HDR + 17];
		struct stat st;
		uint64_t pos = 16;
		int fd;

		snprintf(path, sizeof(path), "%s/packs/%08u.pack", dir, n);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		if (fstat(fd, &st))
			ok = false;
		while (ok && pos + sizeof(hdr) <= (uint64_t)st.st_size) {
			uint32_t len;

			if (pread(fd, hdr, sizeof(hdr), (off_t)pos) != (ssize_t)sizeof(hdr))
				ok = false;
			len = get_be32(hdr + 33);
			if (ok && get_be32(hdr + PACK_REC_HDR + 1) != id)
				ok = false;
			pos += PACK_REC_HDR + len;
			++*recs;
		}
		close(fd);
	}
	return ok;
}

/*
 * The suite's pool kept aside (its dir in plain) for a new aes-256-gcm
 * pool tmpdir/name as S; crypt_pool_leave() goes back.
 */
static void crypt_pool_enter(const char *name, char plain[4200])
{
	struct store_crypt_opts o = { .cipher = CRYPT_AES_GCM };
	char keyf[4300];

	store_close(S);
	S = NULL;
	snprintf(plain, 4200, "%s", pooldir);
	snprintf(pooldir, sizeof(pooldir), "%s/%s", tmpdir, name);
	snprintf(keyf, sizeof(keyf), "%s/%s.key", tmpdir, name);
	o.key_file = keyf;
	CU_ASSERT_EQUAL_FATAL(store_create_opts(pooldir, &o, NULL), 0);
	store_set_key_file(keyf);
	CU_ASSERT_EQUAL_FATAL(store_open(pooldir, 0, &S, NULL), 0);
}

static void crypt_pool_leave(const char *plain)
{
	store_close(S);
	S = NULL;
	store_set_key_file(NULL);
	snprintf(pooldir, sizeof(pooldir), "%s", plain);
	CU_ASSERT_EQUAL_FATAL(store_open(pooldir, 0, &S, NULL), 0);
}

static void test_reencrypt(void)
{
	struct store_convert_counts cc;
	struct store_crypto_info info;
	struct perr e = PERR_INIT;
	char plain[4200];
	uint8_t *buf = malloc(FILE_LEN);
	uint32_t id = 0, n;
	uint64_t ino, recs = 0;

	CU_ASSERT_FATAL(buf != NULL);
	/* the rest of the suite's pool, kept aside: this test has its own */
	crypt_pool_enter("crypt", plain);
	n = half_dead_pack("sealed", 11, buf, &ino);
	/* a second pack under the first key, all of it live */
	{
		uint64_t g = mkfile("sealed2");
		uint8_t *b2 = malloc(FILE_LEN);

		CU_ASSERT_FATAL(b2 != NULL);
		fill(b2, FILE_LEN, 12);
		CU_ASSERT_EQUAL(write_in(S, g, b2, FILE_LEN), 0);
		reopen();
		CU_ASSERT(pack_size(n + 1) > 0);
		CU_ASSERT_EQUAL(store_key_rotate(S, &id, &e), 0);
		CU_ASSERT_EQUAL(store_reencrypt(S, 0, NULL, NULL, &cc, &e), 0);
		if (e.msg[0])
			printf("\n    reencrypt: %s\n", e.msg);
		CU_ASSERT_EQUAL(content_check(g, b2, FILE_LEN), 0);
		free(b2);
	}
	store_crypto_info(S, &info);
	CU_ASSERT_EQUAL(info.key_id, id);
	CU_ASSERT_EQUAL(pack_size(n), -1);
	CU_ASSERT_EQUAL(pack_size(n + 1), -1);
	CU_ASSERT(packs_all_under(pooldir, id, &recs));
	CU_ASSERT(recs > 0);
	printf("\n    %llu pack records, all under key %u\n", (unsigned long long)recs, id);
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), 0);
	reopen();
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), 0);
	CU_ASSERT_EQUAL(scrub_damaged(), 0);
	crypt_pool_leave(plain);
	free(buf);
}

/*
 * An encrypted pool's packed chunk is checked by its tag alone: its
 * locator is written sealed (no CRC computed on the write), and one of
 * an older release whose CRC no longer matches still reads (the tag
 * vouches for every byte; no CRC pass on the read); a changed byte does not.
 */
static void test_sealed_no_crc(void)
{
	uint8_t *buf = malloc(FILE_LEN), key[33], forged[PACK_LOC_LEN], byte;
	struct strbuf val = STRBUF_INIT;
	struct pack_loc l;
	char plain[4200], path[4400];
	uint32_t len;
	uint64_t ino;
	int fd;

	CU_ASSERT_FATAL(buf != NULL);
	crypt_pool_enter("crypt_crc", plain);
	ino = mkfile("sealed");
	fill(buf, FILE_LEN, 13);
	CU_ASSERT_EQUAL_FATAL(write_in(S, ino, buf, FILE_LEN), 0);
	reopen();
	locator_at(ino, 12u << 20, key, &val, &len);
	CU_ASSERT_EQUAL((uint8_t)val.buf[0], PACK_LOC_SEALED);
	/* the stored bytes: the plain chunk sealed */
	CU_ASSERT_EQUAL_FATAL(pack_loc_decode(val.buf, val.len, len + CRYPT_OVERHEAD, &l), 0);
	CU_ASSERT(l.sealed && l.crc == 0);
	/* an older locator (with a CRC), its CRC wrong */
	l.sealed = false;
	l.crc = 0xdeadbeef;
	pack_loc_encode(&l, forged);
	put_raw(key, forged, sizeof(forged));
	reopen();
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), 0);
	/* a byte of the sealed chunk changed: its tag refuses it */
	put_raw(key, val.buf, val.len);
	snprintf(path, sizeof(path), "%s/packs/%08u.pack", pooldir, l.pack);
	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pread(fd, &byte, 1, (off_t)l.off + 100), 1);
	byte ^= 0x40;
	CU_ASSERT_EQUAL(pwrite(fd, &byte, 1, (off_t)l.off + 100), 1);
	reopen();
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), -EIO);
	byte ^= 0x40;
	CU_ASSERT_EQUAL(pwrite(fd, &byte, 1, (off_t)l.off + 100), 1);
	close(fd);
	reopen();
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), 0);
	CU_ASSERT_EQUAL(scrub_damaged(), 0);
	crypt_pool_leave(plain);
	strbuf_release(&val);
	free(buf);
}

/*
 * GC checks a sealed record by its tag before moving it (there is no
 * CRC): a changed byte keeps the pack, and moves once put back.
 */
static void test_sealed_gc_check(void)
{
	uint8_t *buf = malloc(FILE_LEN), key[33], byte;
	struct strbuf val = STRBUF_INIT;
	struct pack_gc_stats st;
	struct pack_loc l;
	char plain[4200], path[4400];
	uint32_t n, len;
	uint64_t ino;
	int fd;

	CU_ASSERT_FATAL(buf != NULL);
	crypt_pool_enter("crypt_gc", plain);
	n = half_dead_pack("sealed_gc", 31, buf, &ino);
	locator_at(ino, 12u << 20, key, &val, &len);
	CU_ASSERT_EQUAL_FATAL(pack_loc_decode(val.buf, val.len, len + CRYPT_OVERHEAD, &l), 0);
	CU_ASSERT_EQUAL_FATAL(l.pack, n);
	snprintf(path, sizeof(path), "%s/packs/%08u.pack", pooldir, n);
	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pread(fd, &byte, 1, (off_t)l.off + 100), 1);
	byte ^= 0x02;
	CU_ASSERT_EQUAL(pwrite(fd, &byte, 1, (off_t)l.off + 100), 1);
	CU_ASSERT_EQUAL(store_pack_gc(S, false, &st), 0);
	CU_ASSERT_EQUAL(st.kept, 1);
	CU_ASSERT(pack_size(n) > 0);
	byte ^= 0x02;
	CU_ASSERT_EQUAL(pwrite(fd, &byte, 1, (off_t)l.off + 100), 1);
	close(fd);
	CU_ASSERT_EQUAL(store_pack_gc(S, false, &st), 0);
	CU_ASSERT_EQUAL(pack_size(n), -1);
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), 0);
	crypt_pool_leave(plain);
	strbuf_release(&val);
	free(buf);
}

/* A file of FILE_LEN bytes of seed written after a reopen; its inode. */
static uint64_t written_file(const char *name, uint64_t seed, uint8_t *buf)
{
	uint64_t ino;

	reopen();
	ino = mkfile(name);
	fill(buf, FILE_LEN, seed);
	CU_ASSERT_EQUAL_FATAL(write_in(S, ino, buf, FILE_LEN), 0);
	return ino;
}

/* A plain pool writes no sealed locator: one forged there reads EIO, never unchecked bytes. */
static void test_plain_sealed_locator(void)
{
	uint8_t *buf = malloc(FILE_LEN), key[33];
	struct strbuf val = STRBUF_INIT;
	struct pack_loc l;
	uint8_t forged[PACK_LOC_LEN];
	uint32_t len;
	uint64_t ino;

	CU_ASSERT_FATAL(buf != NULL);
	ino = written_file("plain_sealed", 41, buf);
	locator_at(ino, 12u << 20, key, &val, &len);
	CU_ASSERT_EQUAL((uint8_t)val.buf[0], PACK_LOC_V1);
	CU_ASSERT_EQUAL_FATAL(pack_loc_decode(val.buf, val.len, len, &l), 0);
	l.sealed = true;
	pack_loc_encode(&l, forged);
	put_raw(key, forged, sizeof(forged));
	reopen();
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), -EIO);
	put_raw(key, val.buf, val.len);
	reopen();
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), 0);
	strbuf_release(&val);
	free(buf);
}

/* "Conversion to an encrypted pool": packed chunks read and written inline, packs/ gone. */
static void test_convert(void)
{
	struct store_crypt_opts o = { .cipher = CRYPT_AES_GCM };
	struct store_convert_counts cc;
	struct perr e = PERR_INIT;
	char keyf[4300], path[4400];
	uint8_t *buf = malloc(FILE_LEN);
	struct stat sb;
	uint64_t ino;

	CU_ASSERT_FATAL(buf != NULL);
	ino = written_file("converted", 21, buf);
	CU_ASSERT(pack_max() > 0);
	store_close(S);
	S = NULL;
	snprintf(keyf, sizeof(keyf), "%s/convert.key", tmpdir);
	o.key_file = keyf;
	CU_ASSERT_EQUAL(store_encrypt(pooldir, &o, NULL, NULL, NULL, &cc, &e), 0);
	if (e.msg[0])
		printf("\n    encrypt: %s\n", e.msg);
	snprintf(path, sizeof(path), "%s/packs", pooldir);
	CU_ASSERT_NOT_EQUAL(stat(path, &sb), 0);
	store_set_key_file(keyf);
	CU_ASSERT_EQUAL_FATAL(store_open(pooldir, 0, &S, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(S->crypt);
	CU_ASSERT_EQUAL(content_check(ino, buf, FILE_LEN), 0);
	CU_ASSERT_EQUAL(scrub_damaged(), 0);
	free(buf);
}

/* ---- setup ---- */

static int suite_init(void)
{
	setenv("POOLFS_PACKS", "1", 1);
	setenv("POOLFS_TEST_NO_PACK_GC_BG", "1", 1);
	return store_suite_init("pack_gc");
}

int main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		{ "a pack half dead is rewritten and deleted", test_compact },
		{ "GC after an eviction, in the background", test_background },
		{ "kill -9 after the new pack is synced", test_crash_synced },
		{ "kill -9 after the locators are swapped", test_crash_swapped },
		{ "a locator edited to another record: EIO, never moved", test_swapped_locator },
		{ "a record's key edited: EIO, and the pack stays", test_edited_key },
		{ "a backup's checkpoint keeps the pack", test_backup_checkpoint },
		{ "a pack cut short at its creation", test_stub_pack },
		{ "an abandoned write's hole is skipped", test_punched },
		{ "re-encryption re-seals every pack record", test_reencrypt },
		{ "an encrypted pool's packed chunk: its tag, no CRC", test_sealed_no_crc },
		{ "GC checks a sealed record by its tag", test_sealed_gc_check },
		{ "a sealed locator in a plain pool: EIO", test_plain_sealed_locator },
		{ "conversion to an encrypted pool with packs", test_convert },
	};

	if (argc == 4 && !strcmp(argv[1], "--crash-child")) {
		setenv("POOLFS_PACKS", "1", 1);
		snprintf(pooldir, sizeof(pooldir), "%s", argv[2]);
		return crash_child(argv[3]);
	}
	return unit_tests_run("pack_gc", suite_init, store_suite_clean, tests, UNIT_COUNT(tests));
}
