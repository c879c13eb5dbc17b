/*
 * bench/audit_bench.c - how many audit records per second the log makes
 * durable, with 1, 2 and 8 appending threads sharing synced writes
 * (group commit), and with commits carrying records in data batches.
 *
 *   audit_bench [SECONDS]      time per row (default 3)
 *
 * Each row runs on a fresh pool in a temp directory (TMPDIR, else /tmp),
 * so the figure includes the fsync of whatever filesystem that is. Then
 * the pool of the last row is verified and queried to show what those
 * cost. Prints a table; no assertion.
 */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/audit_int.h"

static struct store *S;
static bool stop;			/* atomic */

struct worker {
	pthread_t th;
	unsigned id;
	bool commits;			/* data batches through store_policy_put */
	uint64_t n, fail;
	double lat;			/* seconds spent waiting, summed */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *worker_main(void *arg)
{
	struct store_writer w = { .uid = 0, .dept = "admin", .user = "bench" };
	struct worker *k = arg;
	char path[64];
	uint64_t v;

	while (!__atomic_load_n(&stop, __ATOMIC_SEQ_CST)) {
		struct audit_rec r = { .uid = 1000 + k->id, .gid = 2000, .pid = 4242,
				       .comm = "cat", .dept = "renshe", .user = "张三",
				       .op = k->commits ? "policy.apply" : "open", .path = path,
				       .code = "341800-GA-0001", .grant = "g1",
				       .view = "5d41402abc4b2a76b9719d911017c592" };
		double t0 = now();
		int ret;

		snprintf(path, sizeof(path), "/基础库/人口/户籍人口/%u-%llu.csv", k->id,
			 (unsigned long long)k->n);
		ret = k->commits ? store_policy_put(S, "{\"version\":1}", 13, &w, &r, &v)
				 : audit_append(S, &r);
		k->lat += now() - t0;
		if (ret)
			k->fail++;
		else
			k->n++;
	}
	return NULL;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

struct row {
	uint64_t appended, committed, writes;
	double secs, append_lat, commit_lat;
};

static int run(const char *dir, unsigned threads, bool with_commits, double secs,
	       struct row *row)
{
	struct worker w[9];
	uint64_t records, groups;
	double t0;
	unsigned n = threads + (with_commits ? 1 : 0);

	memset(w, 0, sizeof(w));
	memset(row, 0, sizeof(*row));
	__atomic_store_n(&stop, false, __ATOMIC_SEQ_CST);
	t0 = now();
	for (unsigned i = 0; i < n; i++) {
		w[i].id = i;
		w[i].commits = i == threads;
		if (pthread_create(&w[i].th, NULL, worker_main, &w[i]))
			return -1;
	}
	while (now() - t0 < secs) {
		struct timespec ts = { 0, 50 * 1000000 };

		nanosleep(&ts, NULL);
	}
	__atomic_store_n(&stop, true, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < n; i++) {
		pthread_join(w[i].th, NULL);
		if (w[i].fail)
			fprintf(stderr, "audit_bench: %s: %llu failed appends\n", dir,
				(unsigned long long)w[i].fail);
		if (w[i].commits) {
			row->committed += w[i].n;
			row->commit_lat += w[i].lat;
		} else {
			row->appended += w[i].n;
			row->append_lat += w[i].lat;
		}
	}
	row->secs = now() - t0;
	audit_counters(S, &records, &groups);
	row->writes = groups;
	return 0;
}

static void print_row(const char *name, const struct row *r)
{
	uint64_t total = r->appended + r->committed;

	printf("%-24s %10.0f %9.0f %8.1f %10.0f", name, total / r->secs, r->writes / r->secs,
	       r->writes ? (double)total / r->writes : 0.0,
	       r->appended ? r->append_lat / r->appended * 1e6 : 0.0);
	if (r->committed)
		printf(" %8.0f/s commits, %.0f us each", r->committed / r->secs,
		       r->commit_lat / r->committed * 1e6);
	printf("\n");
}

static int count_cb(void *arg, const char *json, const struct audit_rec *r)
{
	return 0;
}

static void verify_and_query(void)
{
	struct audit_filter f = AUDIT_FILTER_INIT;
	struct perr e = PERR_INIT;
	uint64_t bad, scanned;
	double t0 = now();
	int ret = audit_verify(S, &bad, &e);
	double dt = now() - t0;
	int n;

	printf("\nverify: %s, %llu records in %.2f s (%.0f records/s)\n",
	       ret ? perr_msg(&e, ret) : "intact", (unsigned long long)audit_last_seq(S), dt,
	       audit_last_seq(S) / dt);
	t0 = now();
	f.since_ns = store_now_ns() - 1500000000LL;
	f.until_ns = f.since_ns + 1000000;
	n = audit_query_scan(S, &f, count_cb, NULL, &scanned);
	printf("query of a 1 ms window: %d matches, %llu records read, %.0f us\n", n,
	       (unsigned long long)scanned, (now() - t0) * 1e6);
}

int main(int argc, char **argv)
{
	static const struct { const char *name; unsigned threads; bool commits; } rows[] = {
		{ "1 appender", 1, false },
		{ "2 appenders", 2, false },
		{ "8 appenders", 8, false },
		{ "8 appenders + commits", 8, true },
	};
	double secs = argc > 1 ? atof(argv[1]) : 3.0;
	const char *tmp = getenv("TMPDIR");
	char root[512], dir[600];
	struct perr e = PERR_INIT;
	struct row r;
	int ret = 1;

	snprintf(root, sizeof(root), "%s/audit_bench.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root)) {
		perror("audit_bench: mkdtemp");
		return 1;
	}
	printf("audit log, %.1f s per row, pool under %s\n\n", secs, root);
	printf("%-24s %10s %9s %8s %10s\n", "", "records/s", "writes/s", "rec/write",
	       "append us");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/pool%zu", root, i);
		/* a pool's log starts at its init record, as poolctl init writes it */
		if (store_create(dir, &e) || store_open(dir, 0, &S, &e) ||
		    audit_append(S, &(struct audit_rec){ .comm = "audit_bench", .op = "init",
							 .path = "" })) {
			fprintf(stderr, "audit_bench: %s\n", perr_msg(&e, e.code ? e.code : EIO));
			goto out;
		}
		if (run(dir, rows[i].threads, rows[i].commits, secs, &r))
			goto out;
		print_row(rows[i].name, &r);
		if (i + 1 < sizeof(rows) / sizeof(rows[0])) {
			store_close(S);
			S = NULL;
		}
	}
	verify_and_query();
	ret = 0;
out:
	store_close(S);
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return ret;
}
