/*
 * bench/backup_fill.c - fills a pool store-side for bench/backup.sh's big
 * case: MIB MiB of CSV in 256 MiB files, then VERSIONS small versions
 * (a row appended and committed, with its op=write audit record, as a write
 * through the mount commits) spread over one file per VERSIONS_PER_FILE
 * versions, each file created with its audit record as the daemon's
 * create writes it. Through the mount a million commits take hours of
 * FUSE round trips; here each costs about one synced RocksDB write.
 *
 * Why so many files: a file under one chunk (docs/storage.md) is stored
 * whole at each version, so N appends to one file store ~N^2/2 rows.
 * Spread over 1000 files a million versions (1000 each, up to 46 KB)
 * stored 19.6 GiB of chunks, twice the pool's 10 GiB of data; 100 each
 * store ~2.3 KB a version, 2.2 GiB for a million.
 *
 *   backup_fill STORE MIB VERSIONS
 *
 * STORE is made by poolctl init beforehand (its key file as recorded).
 * Prints progress to stderr; exits 1 on any error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/audit.h"
#include "store/store.h"

#define FILE_MIB	256
#define VERSIONS_PER_FILE	100

static const struct store_writer W = { 0, 0, 1, "bench", "fill" };
static struct store *S;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t next(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* CSV rows of distinct values into buf; returns the bytes written (whole rows). */
static size_t rows(char *buf, size_t len, uint64_t *x)
{
	size_t off = 0;

	for (;;) {
		char line[128];
		uint64_t a = next(x), b = next(x);
		int n = snprintf(line, sizeof(line), "%" PRIu64 ",%06" PRIu64 ",name%05" PRIu64
				 ",%" PRIu64 ".%02" PRIu64 ",city%03" PRIu64 "\n",
				 a % UINT64_C(100000000000), b % 1000000, (a >> 20) % 100000,
				 (b >> 20) % 100000, b % 100, (a >> 40) % 1000);

		if (off + (size_t)n > len)
			return off;
		memcpy(buf + off, line, (size_t)n);
		off += (size_t)n;
	}
}

/* The record names the version the commit makes, as fs/stage.c's does. */
static int commit(uint64_t ino, uint64_t version, const char *name, const char *data,
		  size_t len, uint64_t off)
{
	struct store_stage *st = NULL;
	struct audit_rec r = { .uid = 0, .op = "write", .path = name, .comm = "backup_fill",
			       .dept = W.dept, .user = W.user, .version = version,
			       .bytes = len };
	uint64_t v;
	int ret;

	ret = store_stage_open(S, ino, &st);
	if (!ret)
		ret = store_stage_write(st, data, len, off);
	if (!ret)
		ret = store_stage_commit(st, &W, &r, &v);
	if (st)
		store_stage_close(st);
	return ret;
}

static int big_files(uint64_t mib, uint64_t *x)
{
	size_t chunk = 1u << 20;
	char *buf = malloc(chunk);
	int ret = 0;

	for (uint64_t f = 0; buf && !ret && f * FILE_MIB < mib; f++) {
		struct store_stage *st = NULL;
		struct store_attr a;
		uint64_t size = (mib - f * FILE_MIB < FILE_MIB ? mib - f * FILE_MIB : FILE_MIB) << 20;
		uint64_t off = 0, v;
		char name[32];
		struct audit_rec r = { .op = "write", .comm = "backup_fill", .dept = W.dept,
				       .user = W.user, .version = 1 };
		double t0 = now();

		snprintf(name, sizeof(name), "big%03" PRIu64 ".csv", f);
		r.path = name;
		ret = store_mknode(S, STORE_ROOT_INO, name, STORE_REG, 0644, 0, 0, NULL, &a, NULL);
		if (!ret)
			ret = store_stage_open(S, a.ino, &st);
		while (!ret && off < size) {
			size_t n = rows(buf, size - off < chunk ? (size_t)(size - off) : chunk, x);

			if (!n)
				break;
			ret = store_stage_write(st, buf, n, off);
			off += n;
		}
		r.bytes = off;
		if (!ret)
			ret = store_stage_commit(st, &W, &r, &v);
		if (st)
			store_stage_close(st);
		fprintf(stderr, "backup_fill: %s, %" PRIu64 " MiB, %.1f s\n", name, off >> 20,
			now() - t0);
	}
	free(buf);
	return buf ? ret : -ENOMEM;
}

static int small_versions(uint64_t versions, uint64_t *x)
{
	uint64_t files = (versions + VERSIONS_PER_FILE - 1) / VERSIONS_PER_FILE;
	uint64_t *ino = calloc(files ? files : 1, sizeof(*ino));
	uint64_t *size = calloc(files ? files : 1, sizeof(*size));
	double t0 = now();
	int ret = ino && size ? 0 : -ENOMEM;

	for (uint64_t i = 0; i < files && !ret; i++) {
		struct store_attr a;
		char name[32];
		struct audit_rec r = { .uid = 0, .op = "create", .path = name,
					 .comm = "backup_fill", .dept = W.dept,
					 .user = W.user };

		snprintf(name, sizeof(name), "/v%06" PRIu64 ".csv", i);
		ret = store_mknode(S, STORE_ROOT_INO, name + 1, STORE_REG, 0644, 0, 0, NULL, &a, &r);
		ino[i] = a.ino;
	}
	for (uint64_t k = 0; k < versions && !ret; k++) {
		uint64_t i = k % files;
		char name[32], row[128];
		size_t n = rows(row, 60, x);

		snprintf(name, sizeof(name), "/v%06" PRIu64 ".csv", i);
		ret = commit(ino[i], k / files + 1, name, row, n, size[i]);
		size[i] += n;
		if ((k + 1) % 100000 == 0)
			fprintf(stderr, "backup_fill: %" PRIu64 " versions, %.0f/s\n", k + 1,
				(double)(k + 1) / (now() - t0));
	}
	free(ino);
	free(size);
	return ret;
}

int main(int argc, char **argv)
{
	struct perr e = PERR_INIT;
	uint64_t x = 42;
	int ret;

	if (argc != 4) {
		fprintf(stderr, "usage: backup_fill STORE MIB VERSIONS\n");
		return 2;
	}
	ret = store_open(argv[1], 0, &S, &e);
	if (ret) {
		fprintf(stderr, "backup_fill: %s\n", perr_msg(&e, -ret));
		return 1;
	}
	ret = big_files(strtoull(argv[2], NULL, 10), &x);
	if (!ret)
		ret = small_versions(strtoull(argv[3], NULL, 10), &x);
	if (ret)
		fprintf(stderr, "backup_fill: %s\n", strerror(-ret));
	store_close(S);
	return ret ? 1 : 0;
}
