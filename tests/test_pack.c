/*
 * tests/test_pack.c - pack files (store/pack.c): the locator's format
 * against inline values, a large commit's chunks in a pack and read back
 * (also after a reopen, and by scrub), live-byte counts, a damaged pack
 * byte refused, and kill -9 after the pack is synced but before the
 * commit: the pool reopens with the old version, the tail is never named
 * and later writes go to a new pack; an abandoned write's records
 * punched out; and the pool's setting (packs by
 * default, --packs off, none in an old pool: inline).
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
#include <unistd.h>

#include "store/chunker.h"
#include "store/content.h"
#include "store/crypt.h"
#include "store/internal.h"
#include "store/pack.h"
#include "store/rdcut.h"
#include "store/rdvec.h"
#include "store/scrub.h"
#include "tests/fill_util.h"
#include "tests/pack_util.h"
#include "tests/store_util.h"
#include "tests/unit_main.h"

#define BIG	(24u << 20)
#define SMALL	100000u

/* Whether version (0: current) of ino reads back as want[0..len), in 64 KiB steps. */
static bool content_is(uint64_t ino, uint64_t version, const uint8_t *want, size_t len)
{
	struct store_content *c;
	uint8_t *got = malloc(len + 1);
	size_t off = 0;
	bool ok;

	if (!got || store_content_open(S, ino, version, &c))
		return free(got), false;
	ok = store_content_size(c) == len;
	while (ok && off < len) {
		ssize_t n = store_content_read(c, got + off, 65536, off);

		ok = n > 0;
		off += n > 0 ? (size_t)n : 0;
	}
	ok = ok && !memcmp(got, want, len);
	store_content_close(c);
	free(got);
	return ok;
}

/* Whether store_content_readv() of len bytes at off of ino gives want's. */
static bool readv_is(uint64_t ino, const uint8_t *want, size_t len, uint64_t off)
{
	struct store_rdvec v = STORE_RDVEC_INIT;
	struct store_content *c;
	size_t at = 0;
	bool ok;

	if (store_content_open(S, ino, 0, &c))
		return false;
	ok = store_content_readv(c, &v, len, off) == (ssize_t)len;
	for (size_t i = 0; ok && i < v.n; i++) {
		ok = at + v.iov[i].iov_len <= len &&
		     !memcmp(v.iov[i].iov_base, want + off + at, v.iov[i].iov_len);
		at += v.iov[i].iov_len;
	}
	store_rdvec_release(&v);
	store_content_close(c);
	return ok && at == len;
}

/* ---- tests ---- */

/* Bit by bit, as the CRC-32C (Castagnoli) standard draws it. */
static uint32_t crc_ref(const uint8_t *p, size_t n, uint32_t prev)
{
	uint32_t c = ~prev;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
	}
	return ~c;
}

/* The interleaved lanes give the one-chain CRC: lengths around the lane sizes, odd starts. */
static void test_crc(void)
{
	static const size_t lens[] = { 0, 1, 7, 3071, 3072, 3073, 6149, 65536, 100003, 262157 };
	uint8_t *b = malloc(262157 + 8);
	bool ok = true;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	fill(b, 262157 + 8, 99);
	CU_ASSERT_EQUAL(pack_crc32c((const uint8_t *)"123456789", 9, 0), 0xe3069283u);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		for (size_t at = 0; at < 8; at += 3) {
			uint32_t want = crc_ref(b + at, lens[i], 0);

			ok = ok && pack_crc32c(b + at, lens[i], 0) == want;
			/* in two pieces, as a backup sums a pack */
			ok = ok && pack_crc32c(b + at + lens[i] / 3, lens[i] - lens[i] / 3,
					       pack_crc32c(b + at, lens[i] / 3, 0)) == want;
		}
	CU_ASSERT(ok);
	free(b);
}

static void test_locator(void)
{
	struct pack_loc l = { .pack = 7, .off = 1234567, .len = 70000, .crc = 0xdeadbeef }, m;
	uint8_t v[PACK_LOC_LEN], inl[PACK_LOC_LEN];

	pack_loc_encode(&l, v);
	CU_ASSERT_EQUAL(pack_loc_decode(v, sizeof(v), 70000, &m), 0);
	CU_ASSERT(m.pack == 7 && m.off == 1234567 && m.len == 70000 && m.crc == 0xdeadbeef);
	CU_ASSERT(!m.sealed);
	/* sealed bytes (an encrypted pool's): no CRC kept, the tag checks them */
	l.sealed = true;
	pack_loc_encode(&l, inl);
	CU_ASSERT_EQUAL(inl[0], PACK_LOC_SEALED);
	CU_ASSERT_EQUAL(pack_loc_decode(inl, sizeof(inl), 70000, &m), 0);
	CU_ASSERT(m.sealed && m.crc == 0 && m.pack == 7 && m.off == 1234567);
	l.sealed = false;
	/* the chunk's own length is its inline bytes, whatever they hold */
	CU_ASSERT_EQUAL(pack_loc_decode(v, sizeof(v), sizeof(v), &m), 1);
	CU_ASSERT_EQUAL(pack_loc_decode(v, 70000, 70000, &m), 1);
	/* a locator of another length, a wrong version byte, a short chunk: damage */
	CU_ASSERT_EQUAL(pack_loc_decode(v, sizeof(v), 70001, &m), -EIO);
	memcpy(inl, v, sizeof(v));
	inl[0] ^= 1;
	CU_ASSERT_EQUAL(pack_loc_decode(inl, sizeof(inl), 70000, &m), -EIO);
	CU_ASSERT_EQUAL(pack_loc_decode(v, sizeof(v), PACK_MIN_STORED - 1, &m), -EIO);
	CU_ASSERT_EQUAL(pack_loc_decode(v, sizeof(v) - 1, 70000, &m), -EIO);
	/* a length no chunk has (a forged chunk list): refused before a read sizes a buffer */
	l.len = 0x80000000u;
	pack_loc_encode(&l, v);
	CU_ASSERT_EQUAL(pack_loc_decode(v, sizeof(v), 0x80000000u, &m), -EIO);
	l.len = CHUNK_MAX + CRYPT_OVERHEAD;
	pack_loc_encode(&l, v);
	CU_ASSERT_EQUAL(pack_loc_decode(v, sizeof(v), CHUNK_MAX + CRYPT_OVERHEAD, &m), 0);
}

static void test_big_commit(void)
{
	uint8_t *big = malloc(BIG), *small = malloc(SMALL);
	uint64_t f = mkfile("big"), g = mkfile("small"), live = 0;
	off_t before;

	CU_ASSERT_FATAL(big && small);
	fill(big, BIG, 1);
	fill(small, SMALL, 2);
	CU_ASSERT_EQUAL_FATAL(write_in(S, f, big, BIG), 0);
	before = pack_size(1);
	/* all of it in pack 1: the first batch is held back, not logged to the WAL */
	CU_ASSERT(before > (off_t)(BIG - (1u << 20)));
	CU_ASSERT(content_is(f, 0, big, BIG));
	/* readv hands out pinned values inline; packed bytes are copied */
	CU_ASSERT(readv_is(f, big, 3u << 20, (8u << 20) - 100000));
	CU_ASSERT(readv_is(f, big, 1u << 20, BIG - (1u << 20) - 12345));
	CU_ASSERT_EQUAL(pack_live(S, 1, &live), 0);
	CU_ASSERT(live > 0 && live <= (uint64_t)before - 16);
	printf("\n    pack 1: %lld bytes, %llu live\n", (long long)before,
	       (unsigned long long)live);

	/* a small commit stays inline */
	CU_ASSERT_EQUAL(write_in(S, g, small, SMALL), 0);
	CU_ASSERT_EQUAL(pack_size(1), before);
	CU_ASSERT(content_is(g, 0, small, SMALL));

	reopen();
	CU_ASSERT(content_is(f, 0, big, BIG));
	CU_ASSERT(content_is(g, 0, small, SMALL));
	CU_ASSERT_EQUAL(scrub_damaged(), 0);
	free(big);
	free(small);
}

static void test_damage(void)
{
	uint8_t *big = malloc(BIG), byte;
	uint64_t f = mkfile("damaged");
	char path[4400];
	off_t end;
	int fd;

	CU_ASSERT_FATAL(big != NULL);
	fill(big, BIG, 3);
	CU_ASSERT_EQUAL_FATAL(write_in(S, f, big, BIG), 0);
	reopen();
	/* pack 2: a reopened pool never appends to an older pack */
	end = pack_size(2);
	CU_ASSERT_FATAL(end > (off_t)(1u << 20));
	snprintf(path, sizeof(path), "%s/packs/00000002.pack", pooldir);
	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pread(fd, &byte, 1, end - 100), 1);
	byte ^= 0x40;
	CU_ASSERT_EQUAL(pwrite(fd, &byte, 1, end - 100), 1);
	close(fd);
	reopen();
	CU_ASSERT_FALSE(content_is(f, 0, big, BIG));
	CU_ASSERT_EQUAL(scrub_damaged(), 1);
	/* mended, it reads again: the damage was all that stopped it */
	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	byte ^= 0x40;
	CU_ASSERT_EQUAL(pwrite(fd, &byte, 1, end - 100), 1);
	close(fd);
	CU_ASSERT(content_is(f, 0, big, BIG));
	free(big);
}

/*
 * Packs of 1.5 MiB: nearly every batch the pipe appends in one write
 * ends a pack part way, and the rest goes to the next.
 */
static void test_pack_ends(void)
{
	uint8_t *big = malloc(BIG);
	uint64_t f = mkfile("ends");
	uint32_t first, last;

	CU_ASSERT_FATAL(big != NULL);
	fill(big, BIG, 101);
	CU_ASSERT_EQUAL_FATAL(pack_list(pooldir, &first), 0);
	setenv("POOLFS_TEST_PACK_MAX", "1572864", 1);
	CU_ASSERT_EQUAL(write_in(S, f, big, BIG), 0);
	unsetenv("POOLFS_TEST_PACK_MAX");
	CU_ASSERT_EQUAL_FATAL(pack_list(pooldir, &last), 0);
	/* 24 MiB, the first 8 held back and packed one by one, in packs of 1.5 */
	CU_ASSERT(last - first >= 14);
	for (uint32_t n = first + 1; n < last; n++)
		CU_ASSERT(pack_size(n) <= 1572864);
	CU_ASSERT(content_is(f, 0, big, BIG));
	reopen();
	CU_ASSERT(content_is(f, 0, big, BIG));
	CU_ASSERT_EQUAL(scrub_damaged(), 0);
	free(big);
}

/*
 * Runs in a fresh exec of this binary: one big commit, killed at step
 * (chunk_writer.c): "commit", all of it on disk but the commit; "lot",
 * in the middle of the write, the first lot of locators logged.
 */
static int crash_child(uint64_t ino, const char *step, int seed)
{
	struct store *s;
	uint8_t *buf = malloc(BIG);

	setenv("POOLFS_TEST_PACK_KILL", step, 1);
	/* ~48 locators a lot: a 24 MiB write logs several */
	setenv("POOLFS_TEST_LOC_BATCH", "1024", 1);
	if (!buf || store_open(pooldir, 0, &s, NULL))
		_exit(2);
	fill(buf, BIG, seed);
	write_in(s, ino, buf, BIG);
	_exit(3);
}

/* seed: bytes no earlier test stored, or the child's write would store nothing new */
static void crash_at(const char *step, int seed)
{
	uint8_t *a = malloc(BIG), *b = malloc(BIG);
	uint64_t f = mkfile(step);
	struct store_attr attr;
	uint32_t max;
	off_t tail;
	int status;
	pid_t pid;

	CU_ASSERT_FATAL(a && b);
	fill(a, BIG, seed);
	fill(b, BIG, seed + 1);
	CU_ASSERT_EQUAL_FATAL(write_in(S, f, a, BIG), 0);
	CU_ASSERT_EQUAL(pack_list(pooldir, &max), 0);
	store_close(S);
	S = NULL;
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		char a1[32], a2[16];

		/* exec: RocksDB's threads do not survive fork() (tests/test_content.c) */
		snprintf(a1, sizeof(a1), "%llu", (unsigned long long)f);
		snprintf(a2, sizeof(a2), "%d", seed + 1);
		execl("/proc/self/exe", "test_pack", "--crash-child", pooldir, a1, step, a2,
		      (char *)NULL);
		_exit(4);
	}
	waitpid(pid, &status, 0);
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* the child started pack max+1 and synced its bytes there: all, or a lot's */
	tail = pack_size(max + 1);
	CU_ASSERT(tail > (off_t)(!strcmp(step, "commit") ? 8u << 20 : 512u << 10));

	CU_ASSERT_EQUAL_FATAL(store_open(pooldir, 0, &S, NULL), 0);
	CU_ASSERT_EQUAL(store_getattr(S, f, &attr), 0);
	CU_ASSERT_EQUAL(attr.version, 1);
	CU_ASSERT(content_is(f, 0, a, BIG));
	/* the killed commit's chunks are counted by nothing */
	CU_ASSERT_EQUAL(scrub_damaged(), 0);
	{
		uint64_t live = 1;

		CU_ASSERT_EQUAL(pack_live(S, max + 1, &live), 0);
		CU_ASSERT_EQUAL(live, 0);
	}

	/* the same bytes again: stored anew in a new pack, the tail left alone */
	CU_ASSERT_EQUAL(write_in(S, f, b, BIG), 0);
	CU_ASSERT_EQUAL(pack_size(max + 1), tail);
	CU_ASSERT(pack_size(max + 2) > (off_t)(8u << 20));
	CU_ASSERT(content_is(f, 0, b, BIG));
	CU_ASSERT(content_is(f, 1, a, BIG));
	reopen();
	CU_ASSERT(content_is(f, 0, b, BIG));
	CU_ASSERT_EQUAL(scrub_damaged(), 0);
	free(a);
	free(b);
}

static void test_crash(void)
{
	crash_at("commit", 4);
}

static void test_crash_lot(void)
{
	crash_at("lot", 40);
}

/* The highest pack's path into path. */
static void last_pack(char *path, size_t size)
{
	uint32_t max = 0;

	CU_ASSERT_EQUAL_FATAL(pack_list(pooldir, &max), 0);
	CU_ASSERT_FATAL(max > 0);
	snprintf(path, size, "%s/packs/%08u.pack", pooldir, max);
}

static void test_abandoned(void)
{
	uint8_t *big = malloc(BIG);
	uint64_t f = mkfile("abandoned");
	struct store_stage *st;
	char path[4400];
	struct stat sb;
	int ret = 0;

	CU_ASSERT_FATAL(big != NULL);
	fill(big, BIG, 11);
	/* a new pack, so the file holds only this write's records */
	reopen();
	/* locators logged in lots as the write goes: the abandoned writer deletes them */
	setenv("POOLFS_TEST_LOC_BATCH", "1024", 1);
	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, f, &st), 0);
	for (size_t done = 0; !ret && done < BIG; done += 1u << 20)
		ret = store_stage_write(st, big + done, 1u << 20, done);
	CU_ASSERT_EQUAL(ret, 0);
	store_stage_close(st);
	unsetenv("POOLFS_TEST_LOC_BATCH");
	last_pack(path, sizeof(path));
	CU_ASSERT_EQUAL_FATAL(stat(path, &sb), 0);
	printf("\n    abandoned: pack of %lld bytes, %lld on disk\n", (long long)sb.st_size,
	       (long long)sb.st_blocks * 512);
	/* the records are a hole now; the size (and every offset) stays */
	CU_ASSERT(sb.st_size > (off_t)(BIG / 2));
	CU_ASSERT((long long)sb.st_blocks * 512 < (1ll << 20));
	/* the same bytes committed later are stored anew and read back */
	CU_ASSERT_EQUAL(write_in(S, f, big, BIG), 0);
	CU_ASSERT(content_is(f, 0, big, BIG));
	reopen();
	CU_ASSERT(content_is(f, 0, big, BIG));
	CU_ASSERT_EQUAL(scrub_damaged(), 0);
	free(big);
}

/* Flips bit 0x40 of byte at of the pack record of chunk ref (its bytes, not its header). */
static void flip_packed(const struct chunk_ref *ref, uint32_t at)
{
	struct strbuf v = STRBUF_INIT;
	struct pack_loc l;
	uint8_t key[33], byte;
	char path[4400];
	int fd;

	ref_key(key, 'c', ref->sha);
	CU_ASSERT_EQUAL_FATAL(store_get(S, CF_CHUNKS, key, sizeof(key), &v), 0);
	CU_ASSERT_EQUAL_FATAL(pack_loc_decode(v.buf, v.len, (size_t)ref->len, &l), 0);
	CU_ASSERT_FATAL(at < l.len);
	snprintf(path, sizeof(path), "%s/packs/%08u.pack", pooldir, l.pack);
	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pread(fd, &byte, 1, (off_t)(l.off + at)), 1);
	byte ^= 0x40;
	CU_ASSERT_EQUAL(pwrite(fd, &byte, 1, (off_t)(l.off + at)), 1);
	close(fd);
	strbuf_release(&v);
}

/*
 * A packed chunk read whole goes straight into the caller's buffer
 * (store/content_read.c): its CRC is checked all the same, and a
 * partial read of it too.
 */
static void test_whole_chunk(void)
{
	uint8_t *big = malloc(BIG), *got = malloc(CHUNK_MAX);
	uint64_t f = mkfile("whole");
	const struct chunk_list *l;
	struct store_content *c;
	struct chunk_ref ref;

	CU_ASSERT_FATAL(big && got);
	fill(big, BIG, 13);
	CU_ASSERT_EQUAL_FATAL(write_in(S, f, big, BIG), 0);
	CU_ASSERT_EQUAL_FATAL(store_content_open(S, f, 0, &c), 0);
	l = content_chunks(c);
	CU_ASSERT_FATAL(l != NULL && l->n > 10);
	ref = l->v[l->n / 2];
	/* whole and intact: the bytes */
	CU_ASSERT_EQUAL(store_content_read(c, got, (size_t)ref.len, ref.off), (ssize_t)ref.len);
	CU_ASSERT(!memcmp(got, big + ref.off, (size_t)ref.len));
	store_content_close(c);

	flip_packed(&ref, (uint32_t)ref.len - 7);
	/* a fresh handle: none holds the chunk cached */
	CU_ASSERT_EQUAL_FATAL(store_content_open(S, f, 0, &c), 0);
	CU_ASSERT_EQUAL(store_content_read(c, got, (size_t)ref.len, ref.off), -EIO);
	CU_ASSERT_EQUAL(store_content_read(c, got, 100, ref.off + 10), -EIO);
	store_content_close(c);
	flip_packed(&ref, (uint32_t)ref.len - 7);
	CU_ASSERT(content_is(f, 0, big, BIG));
	free(big);
	free(got);
}

/* store_content_cut(): the last chunk end in (from, to], else to. */
static void test_cut(void)
{
	uint8_t *big = malloc(BIG);
	uint64_t f = mkfile("cut"), r = 7;
	const struct chunk_list *l;
	struct store_content *c;
	int cut_inside = 0;

	CU_ASSERT_FATAL(big != NULL);
	fill(big, BIG, 17);
	CU_ASSERT_EQUAL_FATAL(write_in(S, f, big, BIG), 0);
	CU_ASSERT_EQUAL_FATAL(store_content_open(S, f, 0, &c), 0);
	l = content_chunks(c);
	CU_ASSERT_FATAL(l != NULL && l->n > 10);
	for (int t = 0; t < 2000; t++) {
		uint64_t from, to, got, want;

		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		from = (r >> 11) % BIG;
		to = from + 1 + (r >> 40) % (t % 2 ? (1u << 20) : (CHUNK_MAX / 2));
		if (to > BIG)
			to = BIG;
		/* the largest chunk end in (from, to], to when none */
		want = 0;
		for (size_t i = 0; i < l->n; i++) {
			uint64_t end = l->v[i].off + l->v[i].len;

			if (end > from && end <= to)
				want = end;
		}
		if (!want)
			want = to;
		got = store_content_cut(c, from, to);
		CU_ASSERT_EQUAL(got, want);
		cut_inside += got < to;
	}
	/* most ranges hold a chunk end short of to */
	CU_ASSERT(cut_inside > 500);
	CU_ASSERT_EQUAL(store_content_cut(c, 5, 5), 5);
	CU_ASSERT_EQUAL(store_content_cut(c, 0, BIG), BIG);
	CU_ASSERT_EQUAL(store_content_cut(c, 0, l->v[0].len), l->v[0].len);
	CU_ASSERT_EQUAL(store_content_cut(c, 0, l->v[0].len + 1), l->v[0].len);
	store_content_close(c);
	free(big);
}

/* Whether a BIG commit into a pool in tmpdir/name leaves pack files; mk creates the pool. */
static bool writes_packs(const char *name, bool packs, bool drop_setting)
{
	uint8_t *big = malloc(BIG);
	char dir[4400], path[4500];
	struct store *s = NULL;
	struct stat st;
	uint64_t ino;
	struct store_attr a;
	bool any;

	CU_ASSERT_FATAL(big != NULL);
	fill(big, BIG, 9);
	snprintf(dir, sizeof(dir), "%s/%s", tmpdir, name);
	CU_ASSERT_FATAL(store_create_packs(dir, NULL, packs, NULL) == 0);
	if (drop_setting) {
		/* a pool made before the setting existed has no row */
		char *err = NULL;

		CU_ASSERT_FATAL(store_open(dir, 0, &s, NULL) == 0);
		rocksdb_delete_cf(s->db, s->wopt_sync, s->cf[CF_META], "write_packs", 11, &err);
		CU_ASSERT_FATAL(err == NULL);
		store_close(s);
	}
	CU_ASSERT_FATAL(store_open(dir, 0, &s, NULL) == 0);
	CU_ASSERT_FATAL(store_mknode(s, STORE_ROOT_INO, "f", STORE_REG, 0644, 1000, 2000, NULL,
				     &a, NULL) == 0);
	ino = a.ino;
	CU_ASSERT_EQUAL(write_in(s, ino, big, BIG), 0);
	store_close(s);
	snprintf(path, sizeof(path), "%s/packs/00000001.pack", dir);
	any = !stat(path, &st);
	/* and it reads back either way */
	CU_ASSERT_FATAL(store_open(dir, STORE_OPEN_RDONLY, &s, NULL) == 0);
	{
		struct store *keep = S;

		S = s;
		CU_ASSERT(content_is(ino, 0, big, BIG));
		S = keep;
	}
	store_close(s);
	free(big);
	return any;
}

static void test_setting(void)
{
	/* the suite's pool (store_create) writes packs: test_big_commit */
	CU_ASSERT(writes_packs("on", true, false));
	CU_ASSERT(!writes_packs("off", false, false));
	CU_ASSERT(!writes_packs("old", true, true));
}

/* ---- setup ---- */

static int suite_init(void)
{
	return store_suite_init("pack");
}

int main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		{ "CRC-32C of the interleaved lanes", test_crc },
		{ "locator against inline values", test_locator },
		{ "big commit in a pack, small inline", test_big_commit },
		{ "a damaged pack byte is refused", test_damage },
		{ "kill -9 between pack sync and commit", test_crash },
		{ "kill -9 with a lot of locators logged, mid-write", test_crash_lot },
		{ "the pool's setting: on, off, absent (old pool)", test_setting },
		{ "an abandoned large write gives its pack bytes back", test_abandoned },
		{ "a packed chunk read whole into the caller's buffer is checked", test_whole_chunk },
		{ "reads cut where chunks end", test_cut },
		{ "a batch of appends across a pack's end", test_pack_ends },
	};

	if (argc == 6 && !strcmp(argv[1], "--crash-child")) {
		snprintf(pooldir, sizeof(pooldir), "%s", argv[2]);
		return crash_child(strtoull(argv[3], NULL, 10), argv[4], atoi(argv[5]));
	}
	return unit_tests_run("pack", suite_init, store_suite_clean, tests, UNIT_COUNT(tests));
}
