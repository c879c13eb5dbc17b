/*
 * tests/test_audit_journal.c - the audit journal (store/audit_journal.c):
 * records acknowledged only by the journal survive a crash, a write cut
 * short by the crash is dropped, an edited frame is refused and the gap
 * recorded, and a clean close leaves no journal behind.
 *
 * A crash is a child process (this binary again, run fresh so that no
 * thread of RocksDB's is inherited through fork) that opens the pool,
 * appends and _exit()s without closing it: its records are in the
 * journal and at most in a memtable that dies with it.
 */
#define AUDIT_TEST_NAME "test_audit_journal"
#include "tests/audit_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Appends n records in a child that dies without closing the pool. */
static void crash_after(unsigned n)
{
	pid_t pid;
	int st;

	pool_done();
	fflush(NULL);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		char count[16];

		char max[32];

		snprintf(count, sizeof(count), "%u", n);
		snprintf(max, sizeof(max), "%llu", (unsigned long long)audit_journal_max);
		execl("/proc/self/exe", "test_audit_journal", "--crash-child", pool_dir, count,
		      max, (char *)NULL);
		_exit(127);
	}
	CU_ASSERT_EQUAL_FATAL(waitpid(pid, &st, 0), pid);
	CU_ASSERT_FATAL(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The path of the first file in the pool's journal named prefix*, or "". */
static void journal_file(const char *prefix, char *path, size_t len)
{
	char dir[300];
	struct dirent *de;
	DIR *d;

	path[0] = '\0';
	snprintf(dir, sizeof(dir), "%s/journal", pool_dir);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix))) {
			snprintf(path, len, "%s/%s", dir, de->d_name);
			break;
		}
	closedir(d);
}

/* How many files of the pool's journal are named prefix*. */
static unsigned journal_count(const char *prefix)
{
	char dir[300];
	struct dirent *de;
	unsigned n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/journal", pool_dir);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += !strncmp(de->d_name, prefix, strlen(prefix));
	closedir(d);
	return n;
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

/* The byte offset of frame k (from 0) in the journal file at path. */
static off_t frame_at(const char *path, unsigned k)
{
	uint8_t hdr[13];
	off_t off = 0;
	int fd = open(path, O_RDONLY);

	CU_ASSERT_FATAL(fd >= 0);
	for (unsigned i = 0; i < k; i++) {
		CU_ASSERT_EQUAL_FATAL(pread(fd, hdr, sizeof(hdr), off), (ssize_t)sizeof(hdr));
		CU_ASSERT_FATAL(!memcmp(hdr, "PAJ1", 4));
		off += (off_t)sizeof(hdr) + get_be32(hdr + 4);
	}
	close(fd);
	return off;
}

static char last_op[32], last_reason[512];

static int keep_last(void *arg, const char *json, const struct audit_rec *r)
{
	snprintf(last_op, sizeof(last_op), "%s", r->op);
	snprintf(last_reason, sizeof(last_reason), "%s", r->reason ? r->reason : "");
	return 0;
}

static void read_last(void)
{
	last_op[0] = last_reason[0] = '\0';
	CU_ASSERT(audit_query(S, NULL, keep_last, NULL) > 0);
}

static void test_crash_replayed(void)
{
	char path[600];
	uint64_t base;

	pool_new();
	CU_ASSERT_EQUAL(fill(0, 20), 0);
	base = audit_last_seq(S);
	crash_after(300);
	/* the child's records are in the journal and nowhere else durable */
	journal_file("audit.", path, sizeof(path));
	CU_ASSERT_FATAL(path[0] != '\0');
	CU_ASSERT(file_size(path) > 300 * 200);
	pool_reopen();
	CU_ASSERT_EQUAL(audit_last_seq(S), base + 300);
	read_last();
	{
		char rpath[64], reason[32];
		struct audit_rec r;

		rec_fill(&r, 1299, rpath, sizeof(rpath), reason, sizeof(reason));
		CU_ASSERT_STRING_EQUAL(last_op, r.op);
		CU_ASSERT_STRING_EQUAL(last_reason, reason);
	}
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	/* replayed, the files are gone; the chain goes on from the replayed head */
	journal_file("audit.", path, sizeof(path));
	CU_ASSERT_STRING_EQUAL(path, "");
	CU_ASSERT_EQUAL(fill(0, 10), 0);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	pool_reopen();
	CU_ASSERT_EQUAL(audit_last_seq(S), base + 310);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	pool_done();
}

/* A new pool whose last n records a crash left in journal file path; its seq before. */
static uint64_t crashed_pool(unsigned n, char *path, size_t len)
{
	uint64_t base;

	pool_new();
	CU_ASSERT_EQUAL_FATAL(append_init(), 0);
	base = audit_last_seq(S);
	crash_after(n);
	journal_file("audit.", path, len);
	CU_ASSERT_FATAL(path[0] != '\0');
	return base;
}

/* Reopens the pool: its log ends at seq, with no break, and verifies. */
static void expect_reopened_intact(uint64_t seq)
{
	pool_reopen();
	CU_ASSERT_EQUAL(audit_last_seq(S), seq);
	read_last();
	CU_ASSERT_STRING_NOT_EQUAL(last_op, "audit_break");
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	pool_done();
}

static void test_crash_torn_write(void)
{
	char path[600];
	uint64_t base = crashed_pool(40, path, sizeof(path));

	/* the last group's write, cut short: its caller never got an answer */
	CU_ASSERT_EQUAL_FATAL(truncate(path, file_size(path) - 30), 0);
	expect_reopened_intact(base + 39);

	/* a write whose blocks never came: the file grew, zero-filled */
	base = crashed_pool(40, path, sizeof(path));
	CU_ASSERT_EQUAL_FATAL(truncate(path, file_size(path) + 700), 0);
	expect_reopened_intact(base + 40);
}

static void test_crash_edited_frame(void)
{
	char path[600], refused[600];
	uint64_t base = crashed_pool(40, path, sizeof(path));
	off_t at;
	int fd;

	/* one letter of the 11th group's record (one record a group: fill waits for each) */
	at = frame_at(path, 10) + 13 + 4 + 30;
	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	{
		char c;

		CU_ASSERT_EQUAL_FATAL(pread(fd, &c, 1, at), 1);
		c ^= 0x01;
		CU_ASSERT_EQUAL_FATAL(pwrite(fd, &c, 1, at), 1);
	}
	close(fd);
	pool_reopen();
	/* ten groups replayed, then the break in the eleventh's place */
	CU_ASSERT_EQUAL(audit_last_seq(S), base + 11);
	read_last();
	CU_ASSERT_STRING_EQUAL(last_op, "audit_break");
	CU_ASSERT_PTR_NOT_NULL(strstr(last_reason, "journal file"));
	CU_ASSERT_PTR_NOT_NULL(strstr(last_reason, "does not match its hash"));
	CU_ASSERT_EQUAL(verify_quiet(), base + 11);
	/* kept for whoever looks into it, and not replayed again */
	journal_file("refused.", refused, sizeof(refused));
	CU_ASSERT(refused[0] != '\0');
	pool_reopen();
	CU_ASSERT_EQUAL(audit_last_seq(S), base + 11);
	pool_done();
}

/* Flips bit 0 of the byte at in the journal file at path. */
static void flip_byte(const char *path, off_t at)
{
	int fd = open(path, O_RDWR);
	char c;

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(pread(fd, &c, 1, at), 1);
	c ^= 0x01;
	CU_ASSERT_EQUAL_FATAL(pwrite(fd, &c, 1, at), 1);
	close(fd);
}

/* Reopens a pool whose last frame was edited: the break takes its place. */
static void expect_last_refused(uint64_t base, const char *why)
{
	char refused[600];

	pool_reopen();
	CU_ASSERT_EQUAL(audit_last_seq(S), base + 40);
	read_last();
	CU_ASSERT_STRING_EQUAL(last_op, "audit_break");
	CU_ASSERT_PTR_NOT_NULL(strstr(last_reason, why));
	CU_ASSERT_EQUAL(verify_quiet(), base + 40);
	journal_file("refused.", refused, sizeof(refused));
	CU_ASSERT(refused[0] != '\0');
	pool_done();
}

static void test_crash_edited_last_frame(void)
{
	char path[600];
	uint64_t base;
	off_t last;

	/* a letter of the last record: a complete frame, not a torn write */
	base = crashed_pool(40, path, sizeof(path));
	flip_byte(path, frame_at(path, 39) + 13 + 4 + 30);
	expect_last_refused(base, "does not match its hash");

	/* the last byte of its head seal */
	base = crashed_pool(40, path, sizeof(path));
	flip_byte(path, file_size(path) - 1);
	expect_last_refused(base, "head seal");

	/* its length made larger, so that it looks cut short */
	base = crashed_pool(40, path, sizeof(path));
	last = frame_at(path, 39);
	flip_byte(path, last + 4 + 1);
	expect_last_refused(base, "length field");

	/* the magic of the last frame */
	base = crashed_pool(40, path, sizeof(path));
	flip_byte(path, frame_at(path, 39));
	expect_last_refused(base, "not a frame");
}

static void test_crash_zero_tail(void)
{
	char path[600];
	uint64_t base = crashed_pool(40, path, sizeof(path));
	off_t last = frame_at(path, 39), size = file_size(path), cut;
	static const char zeros[4096];
	int fd;

	/* the last frame's blocks from a 512-byte boundary on never came */
	cut = (last + 13 + 512) & ~(off_t)511;
	if (cut >= size)
		cut = (last + 13 + 511) & ~(off_t)511;
	CU_ASSERT_FATAL(cut > last + 13 && cut < size);
	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(pwrite(fd, zeros, (size_t)(size - cut), cut), size - cut);
	close(fd);
	expect_reopened_intact(base + 39);
}

/* The journal's files once the background has retired what it may (at most 2 wanted). */
static unsigned files_left(void)
{
	unsigned n = 0;

	/* up to a minute for a loaded machine, no fixed pace */
	for (int i = 0; i < 6000 && (n = journal_count("audit.")) > 2; i++)
		usleep(10000);
	return n;
}

static void test_files_retired(void)
{
	uint64_t base;
	char path[600];

	audit_journal_max = 64 << 10;
	pool_new();
	base = audit_last_seq(S);
	/* some 30 files' worth: each goes once the tables hold its records */
	CU_ASSERT_EQUAL(fill(0, 5000), 0);
	CU_ASSERT_EQUAL(audit_drain(S), 0);
	CU_ASSERT(files_left() <= 2);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	pool_done();

	/* a crash over many files: each is replayed, in order */
	base = crashed_pool(3000, path, sizeof(path));
	pool_reopen();
	CU_ASSERT_EQUAL(audit_last_seq(S), base + 3000);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	CU_ASSERT_EQUAL(journal_count("audit."), 0);
	pool_done();
	audit_journal_max = 8u << 20;
}

/*
 * Every journaled group taken into RocksDB by a drainer (a commit, a
 * query) before the ingester's timer: the ingester writes no batch of its
 * own, yet the files the drainers emptied must still go.
 */
static void test_files_retired_drained(void)
{
	audit_journal_max = 64 << 10;
	pool_new();
	/* some 18 files' worth, as in test_files_retired */
	for (unsigned i = 0; i < 3000; i++) {
		CU_ASSERT_EQUAL_FATAL(fill(i, 1), 0);
		CU_ASSERT_EQUAL_FATAL(audit_drain(S), 0);
	}
	CU_ASSERT(files_left() <= 2);
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	pool_done();
	audit_journal_max = 8u << 20;
}

static void test_clean_close(void)
{
	char path[600];

	pool_new();
	CU_ASSERT_EQUAL(fill(0, 50), 0);
	journal_file("audit.", path, sizeof(path));
	CU_ASSERT(path[0] != '\0');
	pool_reopen();
	journal_file("audit.", path, sizeof(path));
	CU_ASSERT_STRING_EQUAL(path, "");
	CU_ASSERT_EQUAL(verify_quiet(), 0);
	pool_done();
}

/* The child of crash_after(): opens DIR, appends COUNT records, dies. */
static int crash_child(const char *dir, const char *count, const char *max)
{
	struct perr e = PERR_INIT;

	audit_journal_max = strtoull(max, NULL, 10);
	snprintf(pool_dir, sizeof(pool_dir), "%s", dir);
	if (store_open(pool_dir, 0, &S, &e))
		_exit(2);
	_exit(fill(1000, (unsigned)atoi(count)) ? 3 : 0);
}

int main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		{ "journal: records after a crash are replayed", test_crash_replayed },
		{ "journal: a write cut short by the crash is dropped", test_crash_torn_write },
		{ "journal: an edited frame is refused and recorded", test_crash_edited_frame },
		{ "journal: an edited last frame is no torn write", test_crash_edited_last_frame },
		{ "journal: a zero-filled tail is a torn write", test_crash_zero_tail },
		{ "journal: full files go once RocksDB holds them", test_files_retired },
		{ "journal: files emptied by drainers go too", test_files_retired_drained },
		{ "journal: a clean close leaves none", test_clean_close },
	};

	if (argc == 5 && !strcmp(argv[1], "--crash-child"))
		return crash_child(argv[2], argv[3], argv[4]);
	return unit_tests_run("audit journal", suite_init, suite_clean, tests, UNIT_COUNT(tests));
}
