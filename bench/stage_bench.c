/*
 * bench/stage_bench.c - the sequential write path of a stage, timed: the
 * store's share of DESIGN.md's "sequential write of 1 GiB incl. commit".
 * tests/test_stage_perf.c checks that this path stores what the general
 * one does; this only measures it.
 *
 *   stage_bench [MIB]      file size in MiB (default 1024)
 *
 * Writes random bytes in 1 MiB and in 128 KiB requests, then CSV rows in
 * 1 MiB requests, each to a new file, and commits. Prints per run the
 * write rate, the commit time, the total rate and the CPU time of the
 * whole process per GiB (RocksDB's threads included, which a busy machine
 * disturbs less than wall time). The pool lives in STAGE_BENCH_DIR, else
 * TMPDIR, else /tmp (a tmpfs such as /dev/shm compares with bench/run.sh's
 * tmpfs references). Not an assertion; exits 1 when a run fails.
 */
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "tests/fill_util.h"
#include "store/store.h"

static const struct store_writer W = { 1000, 2000, 42, "gongan", "zhang" };
static struct store *S;
static uint64_t files;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Writes buf to a new file in req-byte requests, commits, prints figures. */
static int timed_write(const char *what, const uint8_t *buf, size_t len, size_t req)
{
	struct store_stage *st = NULL;
	struct store_attr a;
	double t0, t1, t2, c0, c2;
	uint64_t v = 0;
	char name[32];
	int ret;

	snprintf(name, sizeof(name), "f%llu", (unsigned long long)files++);
	ret = store_mknode(S, STORE_ROOT_INO, name, STORE_REG, 0644, 1000, 2000, NULL, &a, NULL);
	if (!ret)
		ret = store_stage_open(S, a.ino, &st);
	if (ret)
		goto out;
	c0 = cpu_now();
	t0 = now();
	for (size_t off = 0; off < len && !ret; off += req)
		ret = store_stage_write(st, buf + off, len - off < req ? len - off : req, off);
	t1 = now();
	if (!ret)
		ret = store_stage_commit(st, &W, NULL, &v);
	t2 = now();
	c2 = cpu_now();
	if (!ret)
		printf("%s, %zu MiB in %zu KiB writes: writes %.0f MB/s, commit %.3f s,"
		       " total %.0f MB/s, cpu %.2f s/GiB\n", what, len >> 20, req >> 10,
		       (double)len / (t1 - t0) / 1e6, t2 - t1, (double)len / (t2 - t0) / 1e6,
		       (c2 - c0) * (double)(1u << 30) / (double)len);
out:
	if (st)
		store_stage_close(st);
	if (ret)
		fprintf(stderr, "stage_bench: %s: %s\n", what, strerror(-ret));
	return ret;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

int main(int argc, char **argv)
{
	const char *base = getenv("STAGE_BENCH_DIR");
	unsigned long mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
	size_t len = (size_t)(mb ? mb : 1) << 20;
	char tmpdir[4096], pooldir[4200];
	struct perr e = PERR_INIT;
	uint8_t *buf = malloc(len);
	int ret = 1;

	if (!base)
		base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/stage_bench.XXXXXX", base ? base : "/tmp");
	if (!buf || !mkdtemp(tmpdir)) {
		perror("stage_bench");
		free(buf);
		return 1;
	}
	snprintf(pooldir, sizeof(pooldir), "%s/pool", tmpdir);
	if (store_create(pooldir, &e) || store_open(pooldir, 0, &S, &e)) {
		fprintf(stderr, "stage_bench: %s\n", perr_msg(&e, -EIO));
		goto out;
	}
	fill(buf, len, 1);
	if (timed_write("random bytes", buf, len, 1u << 20))
		goto out;
	fill(buf, len, 2);
	if (timed_write("random bytes", buf, len, 128u << 10))
		goto out;
	fill_csv(buf, len);
	if (timed_write("csv rows", buf, len, 1u << 20))
		goto out;
	ret = 0;
out:
	store_close(S);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(buf);
	return ret;
}
