/*
 * tests/test_audit.c - the audit log: the chain and its checkpoints,
 * rollback, sm3, read-only stores, group commit under threads and under
 * kill -9, queries and export, the public key. Tampering is in
 * tests/test_audit_tamper.c; what both share is in tests/audit_util.h.
 *
 * White-box: it looks into the store (its lock, sequence, write batches),
 * so it includes store/internal.h and store/audit_int.h (by way of
 * tests/audit_util.h).
 */
#define AUDIT_TEST_NAME "test_audit"

#include <CUnit/Basic.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/audit_util.h"

/* ---- the chain ---- */

static uint64_t count_cps(void)
{
	uint64_t n = 0;

	for (uint64_t seq = audit_last_seq(S) + 1; (seq = cp_below(seq)); n++)
		;
	return n;
}

/* Mixed traffic: appends with policy puts (records carried in data batches). */
static void test_chain(void)
{
	struct store_writer w = { .uid = 0, .dept = "admin", .user = "root" };
	struct audit_rec pr = { .op = "policy.apply", .path = "/" };
	char doc[64];
	uint64_t v, records, groups;

	pool_new();
	/* an empty log is never intact: it starts at the pool's init record */
	CU_ASSERT_EQUAL(verify_quiet(), 1);
	for (unsigned i = 0; i < 3000; i += 100) {
		CU_ASSERT_EQUAL(fill(i, 100), 0);
		snprintf(doc, sizeof(doc), "{\"version\":1,\"n\":%u}", i);
		CU_ASSERT_EQUAL(store_policy_put(S, doc, strlen(doc), &w, &pr, &v), 0);
	}
	CU_ASSERT_EQUAL(audit_last_seq(S), 3030);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	CU_ASSERT(count_cps() >= 3);
	audit_counters(S, &records, &groups);
	CU_ASSERT(records >= 3000);
	pool_reopen();
	CU_ASSERT_EQUAL(audit_last_seq(S), 3030);
	CU_ASSERT_EQUAL(fill(5000, 10), 0);
	CU_ASSERT_EQUAL(audit_last_seq(S), 3040);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	pool_done();
}

/* An audit_add() whose batch is never written leaves no gap and no trace. */
static void test_rollback(void)
{
	struct audit_rec r = { .op = "write", .path = "/x" };
	rocksdb_writebatch_t *b = rocksdb_writebatch_create();
	struct strbuf v = STRBUF_INIT;

	pool_new();
	CU_ASSERT_EQUAL(fill(0, 5), 0);
	pthread_mutex_lock(&S->lock);
	CU_ASSERT_EQUAL(audit_add(S, b, &r), 0);
	CU_ASSERT_EQUAL(r.seq, 6);
	CU_ASSERT_EQUAL(audit_add(S, b, &r), 0);	/* two in one batch */
	CU_ASSERT_EQUAL(r.seq, 7);
	audit_rollback(S);
	CU_ASSERT_EQUAL(audit_last_seq(S), 5);
	pthread_mutex_unlock(&S->lock);
	CU_ASSERT_EQUAL(fill(10, 1), 0);
	CU_ASSERT_EQUAL(audit_last_seq(S), 6);
	CU_ASSERT_EQUAL(verify_quiet(), 0);

	/* and one that is written counts, two records in one batch */
	rocksdb_writebatch_clear(b);
	pthread_mutex_lock(&S->lock);
	CU_ASSERT_EQUAL(audit_add(S, b, &r), 0);
	CU_ASSERT_EQUAL(audit_add(S, b, &r), 0);
	CU_ASSERT_EQUAL(store_write(S, b, true), 0);
	pthread_mutex_unlock(&S->lock);
	CU_ASSERT_EQUAL(fill(20, 1), 0);
	CU_ASSERT_EQUAL(audit_last_seq(S), 9);
	CU_ASSERT_EQUAL(raw_get(8, &v), 0);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	pool_reopen();
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	strbuf_release(&v);
	rocksdb_writebatch_destroy(b);
	pool_done();
}

static void test_sm3(void)
{
	struct strbuf v = STRBUF_INIT;
	uint8_t zero[32] = { 0 }, h256[32], hsm3[32], stored[32];

	pool_new();
	CU_ASSERT_EQUAL(audit_init_store(S, "md5"), -EINVAL);
	CU_ASSERT_EQUAL(audit_init_store(S, "sm3"), 0);
	CU_ASSERT_EQUAL(audit_init_store(S, "sm3"), 0);
	CU_ASSERT_EQUAL(fill(0, 20), 0);
	CU_ASSERT_EQUAL(audit_init_store(S, "sha256"), -EEXIST);
	CU_ASSERT_EQUAL(store_get(S, CF_META, "audit_hash", 10, &v), 0);
	CU_ASSERT(v.len == 3 && !memcmp(v.buf, "sm3", 3));
	CU_ASSERT_EQUAL(raw_get(1, &v), 0);
	CU_ASSERT_EQUAL(audit_hash_value(v.buf, v.len, zero, EVP_sm3(), hsm3, stored), 0);
	CU_ASSERT_EQUAL(memcmp(hsm3, stored, 32), 0);
	CU_ASSERT_EQUAL(audit_hash_value(v.buf, v.len, zero, EVP_sha256(), h256, stored), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(h256, stored, 32), 0);
	pool_reopen();
	CU_ASSERT_EQUAL(fill(20, 20), 0);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	/* flipping the algorithm back is tampering too */
	raw_put(CF_META, "audit_hash", 10, "sha256", 6);
	CU_ASSERT_EQUAL(verify_quiet(), 1);
	strbuf_release(&v);
	pool_done();
}

/* A read-only store reads and verifies but never writes. */
static void test_rdonly(void)
{
	struct perr e = PERR_INIT;
	struct audit_rec r = { .op = "open" };

	pool_new();
	CU_ASSERT_EQUAL(fill(0, 10), 0);
	pool_done();
	CU_ASSERT_EQUAL_FATAL(store_open(pool_dir, STORE_OPEN_RDONLY, &S, &e), 0);
	CU_ASSERT_EQUAL(audit_last_seq(S), 10);
	CU_ASSERT_EQUAL(audit_append(S, &r), -EROFS);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	pool_done();
}

static int count_sum_cb(void *arg, const char *json, const struct audit_rec *r)
{
	uint64_t *sum = arg;

	/* one record of one operation has no "count" member at all */
	if (r->count == 1 && strstr(json, "\"count\""))
		return -EBADMSG;
	*sum += r->count;
	return 0;
}

/* Coalesced records carry a count, written in one group; old ones read as 1. */
static void test_count(void)
{
	struct audit_rec r[5];
	struct audit_filter f = AUDIT_FILTER_INIT;
	uint64_t sum = 0;
	size_t done = 99;

	pool_new();
	CU_ASSERT_EQUAL(fill(0, 3), 0);
	for (int i = 0; i < 5; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].op = "getattr";
		r[i].path = "/a/b";
		r[i].count = (uint64_t)i * 1000;	/* 0 and 1 both mean one */
	}
	CU_ASSERT_EQUAL(audit_append_many(S, r, 5, &done), 0);
	CU_ASSERT_EQUAL(done, 5);
	for (int i = 1; i < 5; i++)
		CU_ASSERT_EQUAL(r[i].seq, r[0].seq + (uint64_t)i);
	f.op = "getattr";
	CU_ASSERT_EQUAL(audit_query(S, &f, count_sum_cb, &sum), 5);
	CU_ASSERT_EQUAL(sum, 1 + 1000 + 2000 + 3000 + 4000);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	pool_reopen();
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	pool_done();
}

/* ---- group commit ---- */

#define THREADS		8
#define PER_THREAD	300
#define COMMITS		30

struct appender {
	unsigned id;
	uint64_t seqs[PER_THREAD];
	int bad;
};

static void *appender_main(void *arg)
{
	struct appender *a = arg;
	char path[64], reason[32];
	struct audit_rec r;

	for (unsigned i = 0; i < PER_THREAD; i++) {
		rec_fill(&r, a->id * 1000 + i, path, sizeof(path), reason, sizeof(reason));
		snprintf(reason, sizeof(reason), "t%u-%u", a->id, i);
		if (audit_append(S, &r))
			a->bad++;
		else
			a->seqs[i] = r.seq;
	}
	return NULL;
}

static void *committer_main(void *arg)
{
	struct store_writer w = { .uid = 0, .dept = "admin" };
	struct audit_rec r = { .op = "policy.apply", .path = "/", .reason = "commit" };
	int *bad = arg;
	uint64_t v;

	for (int i = 0; i < COMMITS; i++)
		*bad += store_policy_put(S, "{\"version\":1}", 13, &w, &r, &v) != 0;
	return NULL;
}

static void test_threads(void)
{
	static struct appender a[THREADS];
	/* and the init record the log starts with */
	uint64_t total = THREADS * PER_THREAD + COMMITS + 1, records, groups;
	struct strbuf v = STRBUF_INIT;
	pthread_t th[THREADS + 1];
	char want[48];
	uint8_t *seen = calloc(total + 1, 1);
	int cbad = 0, dup = 0, wrong = 0;

	pool_new();
	CU_ASSERT_EQUAL_FATAL(append_init(), 0);
	for (unsigned i = 0; i < THREADS; i++) {
		a[i] = (struct appender){ .id = i };
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, appender_main, &a[i]), 0);
	}
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th[THREADS], NULL, committer_main, &cbad), 0);
	for (unsigned i = 0; i <= THREADS; i++)
		pthread_join(th[i], NULL);
	CU_ASSERT_EQUAL(cbad, 0);
	for (unsigned i = 0; i < THREADS; i++) {
		CU_ASSERT_EQUAL(a[i].bad, 0);
		for (unsigned k = 0; k < PER_THREAD; k++) {
			uint64_t seq = a[i].seqs[k];

			CU_ASSERT_FATAL(seq >= 1 && seq <= total);
			dup += seen[seq]++;
			wrong += k && seq <= a[i].seqs[k - 1];
			snprintf(want, sizeof(want), "\"reason\":\"t%u-%u\"", i, k);
			CU_ASSERT_EQUAL(raw_get(seq, &v), 0);
			wrong += !strstr(v.buf, want);
		}
	}
	CU_ASSERT_EQUAL(dup, 0);
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(audit_last_seq(S), total);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	audit_counters(S, &records, &groups);
	CU_ASSERT_EQUAL(records, total);
	CU_ASSERT(groups < records);		/* some writes carried several records */
	printf("\n    %llu records in %llu synced writes ", (unsigned long long)records,
	       (unsigned long long)groups);
	pool_reopen();
	CU_ASSERT_EQUAL(fill(0, 3), 0);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	strbuf_release(&v);
	free(seen);
	pool_done();
}

static int count_cb(void *arg, const char *json, const struct audit_rec *r)
{
	return 0;
}

/* Collects the stored JSON of every record it sees. */
static int reason_cb(void *arg, const char *json, const struct audit_rec *r)
{
	strbuf_addstr(arg, json);
	return 0;
}

/* ---- kill -9 ---- */

struct report {
	uint64_t seq;
	uint32_t thread, i;
};

static int report_fd;

static void *crash_appender(void *arg)
{
	struct report rep = { .thread = (uint32_t)(uintptr_t)arg };
	struct store_writer w = { .uid = 0, .dept = "admin" };
	char reason[32];
	struct audit_rec r;
	uint64_t v;

	for (;; rep.i++) {
		snprintf(reason, sizeof(reason), "k%u-%u", rep.thread, rep.i);
		r = (struct audit_rec){ .uid = rep.thread, .path = "/k", .reason = reason,
					.op = rep.thread ? "open" : "policy.apply" };
		/* thread 0 commits data batches, the others append */
		if (rep.thread == 0 ? store_policy_put(S, "{}", 2, &w, &r, &v) : audit_append(S, &r))
			_exit(3);
		rep.seq = rep.thread ? r.seq : 0;	/* a commit's record: found by its reason */
		if (write(report_fd, &rep, sizeof(rep)) != sizeof(rep))
			_exit(4);
	}
	return NULL;
}

/*
 * The child is this binary run again (--crash-child DIR FD), not a bare
 * fork: RocksDB's background threads live in a process-wide pool that a
 * forked child would not have.
 */
static int crash_child(const char *dir, int fd)
{
	struct perr e = PERR_INIT;
	pthread_t th;

	report_fd = fd;
	if (store_open(dir, 0, &S, &e))
		_exit(2);
	for (uintptr_t i = 0; i < 5; i++)
		if (pthread_create(&th, NULL, crash_appender, (void *)i))
			_exit(2);
	for (;;)
		pause();
}

/* Reads reports until want arrived (then kills the child) and the pipe ends. */
static size_t crash_collect(int fd, pid_t pid, struct report *reps, size_t max, size_t want)
{
	size_t have = 0;
	bool killed = false;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	time_t deadline = time(NULL) + 20;
	ssize_t n;

	for (;;) {
		if (!killed && (have / sizeof(*reps) >= want || time(NULL) > deadline)) {
			kill(pid, SIGKILL);
			killed = true;
		}
		if (poll(&p, 1, 100) < 0)
			break;
		if (!(p.revents & (POLLIN | POLLHUP)))
			continue;
		n = read(fd, (char *)reps + have, max * sizeof(*reps) - have);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	return have / sizeof(*reps);
}

static void test_kill9(void)
{
	size_t max = 200000, n;
	struct report *reps = malloc(max * sizeof(*reps));
	struct strbuf v = STRBUF_INIT, commits = STRBUF_INIT;
	struct audit_filter f = AUDIT_FILTER_INIT;
	char want[48], fdarg[16];
	int fds[2], status, missing, ncommits;
	pid_t pid;

	pool_new();
	CU_ASSERT_EQUAL_FATAL(append_init(), 0);
	pool_done();
	for (int round = 0; round < 3; round++) {
		CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
		snprintf(fdarg, sizeof(fdarg), "%d", fds[1]);
		pid = fork();
		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			execl("/proc/self/exe", "test_audit", "--crash-child", pool_dir, fdarg,
			      (char *)NULL);
			_exit(5);
		}
		close(fds[1]);
		n = crash_collect(fds[0], pid, reps, max, 300 + 500 * (size_t)round);
		close(fds[0]);
		CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
		CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		CU_ASSERT(n >= 300);
		pool_reopen();
		CU_ASSERT_EQUAL(verify_quiet(), 0);
		missing = ncommits = 0;
		strbuf_reset(&commits);
		f.op = "policy.apply";
		CU_ASSERT(audit_query(S, &f, reason_cb, &commits) >= 0);
		for (size_t i = 0; i < n; i++) {
			snprintf(want, sizeof(want), "\"reason\":\"k%u-%u\"", reps[i].thread, reps[i].i);
			if (!reps[i].seq && ++ncommits)
				missing += !strstr(commits.buf, want);
			else
				missing += raw_get(reps[i].seq, &v) || !strstr(v.buf, want);
		}
		CU_ASSERT_EQUAL(missing, 0);
		CU_ASSERT(ncommits > 0);
		f.op = "audit_break";
		CU_ASSERT_EQUAL(audit_query(S, &f, count_cb, NULL), 0);
		printf("\n    round %d: %zu acknowledged (%d commits), log at %llu ", round, n,
		       ncommits, (unsigned long long)audit_last_seq(S));
		pool_done();
	}
	strbuf_release(&commits);
	strbuf_release(&v);
	free(reps);
}

/* ---- queries ---- */

#define QUERY_N 5000


struct seen {
	uint64_t first, last, n;
	int bad, stop;
};

static int seen_cb(void *arg, const char *json, const struct audit_rec *r)
{
	struct seen *s = arg;
	char want[40];

	snprintf(want, sizeof(want), "{\"bytes\":%llu,", (unsigned long long)r->bytes);
	s->bad += strncmp(json, want, strlen(want)) != 0 || (s->n && r->seq <= s->last);
	if (!s->n++)
		s->first = r->seq;
	s->last = r->seq;
	return s->stop;
}

/* Matches of f, checking order and that json and r agree; scanned gets the reads. */
static uint64_t q(const struct audit_filter *f, uint64_t *scanned)
{
	struct seen s = { 0 };
	uint64_t dummy;
	int ret = audit_query_scan(S, f, seen_cb, &s, scanned ? scanned : &dummy);

	CU_ASSERT_EQUAL(ret, (int)s.n);
	CU_ASSERT_EQUAL(s.bad, 0);
	return s.n;
}

struct export_walk {
	const char *format;
	struct strbuf *out;
};

static int export_one(void *arg, const char *json, const struct audit_rec *r)
{
	struct export_walk *w = arg;

	return audit_format(w->format, json, r, w->out);
}

/* What `poolctl audit export` does: every match of f formatted into out. */
static int export_to(const char *format, const struct audit_filter *f, struct strbuf *out)
{
	struct export_walk w = { format, out };
	int ret = audit_query(S, f, export_one, &w);

	return ret < 0 ? ret : 0;
}

static void test_query(void)
{
	struct audit_filter f = AUDIT_FILTER_INIT;
	struct strbuf out = STRBUF_INIT, v = STRBUF_INIT;
	struct seen s = { .stop = 7 };
	uint64_t scanned;
	struct audit_rec r;
	json_t *o;
	struct strbuf buf = STRBUF_INIT;

	pool_new();
	CU_ASSERT_EQUAL(q(&f, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(fill(0, QUERY_N), 0);
	CU_ASSERT_EQUAL(q(NULL, NULL), QUERY_N);

	/* a narrow time window is a binary search and the window, not a scan */
	f.since_ns = time_of(2000);
	f.until_ns = time_of(2010);
	CU_ASSERT_EQUAL(q(&f, &scanned), 11);
	CU_ASSERT(scanned < 40);
	f.since_ns = time_of(2000) + 1;
	CU_ASSERT_EQUAL(q(&f, NULL), 10);
	f.until_ns = 0;
	f.since_ns = time_of(QUERY_N - 9);
	CU_ASSERT_EQUAL(q(&f, &scanned), 10);
	CU_ASSERT(scanned < 30);
	f.since_ns = 0;
	f.until_ns = time_of(10);
	CU_ASSERT_EQUAL(q(&f, NULL), 10);
	f.until_ns = 0;
	f.since_ns = time_of(QUERY_N) + 1;
	CU_ASSERT_EQUAL(q(&f, NULL), 0);
	f.since_ns = 1;
	CU_ASSERT_EQUAL(q(&f, NULL), QUERY_N);

	f = (struct audit_filter)AUDIT_FILTER_INIT;
	f.dept = "renshe";
	CU_ASSERT_EQUAL(q(&f, NULL), QUERY_N / 4);
	f.dept = NULL;
	f.uid = 1002;
	CU_ASSERT_EQUAL(q(&f, NULL), QUERY_N / 5);
	f.uid = -1;
	f.op = "unlink";
	CU_ASSERT_EQUAL(q(&f, NULL), QUERY_N / 5);
	f.op = NULL;
	f.path = "/a";
	CU_ASSERT_EQUAL(q(&f, NULL), 715);		/* not "/ab/..." */
	f.path = "/a/";
	CU_ASSERT_EQUAL(q(&f, NULL), 715);
	f.path = "/a/7";
	CU_ASSERT_EQUAL(q(&f, NULL), 1);
	f.path = "/";
	CU_ASSERT_EQUAL(q(&f, NULL), QUERY_N);
	f.path = "/bad\\xff\\xfe";			/* bad bytes as recorded */
	CU_ASSERT_EQUAL(q(&f, NULL), 714);
	f.path = NULL;
	f.denied = true;
	CU_ASSERT_EQUAL(q(&f, NULL), 834);		/* -EACCES only, not -EIO */
	f.dept = "gongan";
	CU_ASSERT_EQUAL(q(&f, NULL), 417);
	f.limit = 10;
	CU_ASSERT_EQUAL(q(&f, NULL), 10);
	CU_ASSERT_EQUAL(audit_query(S, NULL, seen_cb, &s), 7);
	CU_ASSERT_EQUAL(s.n, 1);

	CU_ASSERT_EQUAL(raw_get(4, &v), 0);
	CU_ASSERT_EQUAL_FATAL(audit_decode(v.buf, v.len, &o, &r, NULL), 0);
	CU_ASSERT_STRING_EQUAL(r.path, "/bad\\xff\\xfe/3");
	CU_ASSERT_STRING_EQUAL(r.user, "张三");
	CU_ASSERT_EQUAL(audit_format("xml", v.buf, &r, &out), -EINVAL);
	CU_ASSERT_EQUAL(audit_format("syslog", v.buf, &r, &out), 0);
	CU_ASSERT(!strncmp(out.buf, "<110>1 ", 7));
	CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, " path=\"/bad\\\\xff\\\\xfe/3\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, " hash=\""));
	strbuf_reset(&out);
	CU_ASSERT_EQUAL(audit_format("text", v.buf, &r, &out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, " #4 uid=1003 "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out.buf, " user=张三 "));
	json_decref(o);

	CU_ASSERT_EQUAL(export_to("yaml", NULL, &buf), -EINVAL);
	strbuf_reset(&buf);
	CU_ASSERT_EQUAL(export_to("jsonl", NULL, &buf), 0);
	{
		size_t lines = 0, good = 0;
		char *line = buf.buf, *nl;

		for (; (nl = strchr(line, '\n')); line = nl + 1, lines++) {
			json_t *j = json_loadb(line, (size_t)(nl - line), 0, NULL);

			/* "esc" in the records whose path has bytes not in UTF-8 */
			good += json_is_object(j) &&
				json_object_size(j) == 19 + !!json_object_get(j, "esc");
			json_decref(j);
		}
		CU_ASSERT_EQUAL(lines, QUERY_N);
		CU_ASSERT_EQUAL(good, QUERY_N);
	}
	strbuf_reset(&buf);
	f = (struct audit_filter)AUDIT_FILTER_INIT;
	f.denied = true;
	f.limit = 1;
	CU_ASSERT_EQUAL(export_to("syslog", &f, &buf), 0);
	CU_ASSERT(!strncmp(buf.buf, "<108>1 ", 7));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf.buf, "] init /a/0 denied\n"));
	strbuf_release(&buf);
	strbuf_release(&out);
	strbuf_release(&v);
	pool_done();
}

/* ---- newest first ---- */

#define NEWEST_FILL 200000

struct newest {
	uint64_t n;
	int64_t time;
	char reason[64];
	int bad;
};

static int newest_cb(void *arg, const char *json, const struct audit_rec *r)
{
	struct newest *w = arg;

	/* each match older than the one before */
	w->bad += w->n && r->time_ns >= w->time;
	if (!w->n)
		snprintf(w->reason, sizeof(w->reason), "%s", r->reason);
	w->n++;
	w->time = r->time_ns;
	return 0;
}

static void append_op(const char *op, const char *path, const char *reason, int result)
{
	struct audit_rec r;

	memset(&r, 0, sizeof(r));
	r.comm = "poolctl";
	r.op = op;
	r.path = path;
	r.reason = reason;
	r.result = result;
	CU_ASSERT_EQUAL_FATAL(audit_append(S, &r), 0);
}

/* The newest match of f, its reason in w; *decoded gets the records parsed. */
static int newest(const struct audit_filter *f, struct newest *w, uint64_t *decoded)
{
	memset(w, 0, sizeof(*w));
	return audit_query_newest_scan(S, f, newest_cb, w, decoded);
}

/*
 * What "poolctl status" asks: the last "backup" record since a time, with
 * many records after it. The walk goes back from the head and parses only
 * records that name the op, so it parses a handful, not the log: the old
 * oldest-first scan parsed all NEWEST_FILL of them.
 */
static void test_query_newest(void)
{
	struct audit_filter f = AUDIT_FILTER_INIT;
	static struct audit_rec r[1000];
	struct newest w;
	uint64_t decoded;
	int64_t t1, t2, t3;
	size_t done;

	pool_new();
	append_op("backup", "/", "backup 1", 0);
	t1 = store_now_ns();
	append_op("backup", "/", "backup 2", -EIO);
	append_op("read", "/\"op\":\"backup\"", "op \"backup\" in a path", 0);
	append_op("backup", "/", "backup 3", 0);
	t2 = store_now_ns();
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].comm = "cat";
		r[i].dept = "gongan";
		r[i].op = i % 2 ? "read" : "backupx";	/* near misses of the needle */
		r[i].path = "/backup/data.csv";
		r[i].reason = "backup";
	}
	for (size_t k = 0; k < NEWEST_FILL / 1000; k++) {
		CU_ASSERT_EQUAL_FATAL(audit_append_many(S, r, 1000, &done), 0);
		CU_ASSERT_EQUAL_FATAL(done, 1000);
	}
	t3 = store_now_ns();
	append_op("restore", "/", "not a backup", 0);

	f.op = "backup";
	f.limit = 1;
	f.since_ns = t1;
	CU_ASSERT_EQUAL(newest(&f, &w, &decoded), 1);
	CU_ASSERT_STRING_EQUAL(w.reason, "backup 3");
	CU_ASSERT(decoded < 100);
	/* all matches, newest first: the same set as the oldest-first query */
	f.limit = 0;
	CU_ASSERT_EQUAL(newest(&f, &w, &decoded), 2);
	CU_ASSERT_STRING_EQUAL(w.reason, "backup 3");
	CU_ASSERT_EQUAL(w.bad, 0);
	CU_ASSERT_EQUAL(audit_query(S, &f, newest_cb, &w), 2);
	/* the last backup before the window is not reported */
	f.since_ns = t2;
	CU_ASSERT_EQUAL(newest(&f, &w, &decoded), 0);
	CU_ASSERT(decoded < 100);
	/* until bounds the other end: backup 1 is the newest up to t1 */
	f.since_ns = 0;
	f.until_ns = t1;
	f.limit = 1;
	CU_ASSERT_EQUAL(newest(&f, &w, &decoded), 1);
	CU_ASSERT_STRING_EQUAL(w.reason, "backup 1");
	f.until_ns = -1;		/* before every record */
	CU_ASSERT_EQUAL(newest(&f, &w, &decoded), 0);
	/* without an op every record is parsed, and the bounds still hold */
	f = (struct audit_filter)AUDIT_FILTER_INIT;
	f.since_ns = t3;
	CU_ASSERT_EQUAL(newest(&f, &w, &decoded), 1);
	CU_ASSERT_STRING_EQUAL(w.reason, "not a backup");
	pool_done();
}

static void test_public_key(void)
{
	char hex[AUDIT_PUBKEY_HEX] = "";
	const char *algo = NULL;

	pool_new();
	CU_ASSERT_EQUAL(audit_public_key(S, hex, &algo), 0);
	CU_ASSERT_EQUAL(strlen(hex), 64);
	CU_ASSERT_STRING_EQUAL(algo, "ed25519");
	pool_done();
}

int main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		{ "chain with mixed records", test_chain },
		{ "rollback leaves no gap", test_rollback },
		{ "sm3", test_sm3 },
		{ "read-only store", test_rdonly },
		{ "coalesced records with a count", test_count },
		{ "group commit from threads", test_threads },
		{ "kill -9 while appending", test_kill9 },
		{ "query and export", test_query },
		{ "last match, newest first", test_query_newest },
		{ "public key", test_public_key },
	};

	if (argc == 4 && !strcmp(argv[1], "--crash-child"))
		return crash_child(argv[2], atoi(argv[3]));
	return unit_tests_run("audit", suite_init, suite_clean, tests, UNIT_COUNT(tests));
}
