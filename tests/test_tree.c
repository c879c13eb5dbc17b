/*
 * tests/test_tree.c - the tree: names, directories, renames, lookups as
 * of a time, attributes, and concurrent users, each test on a private
 * pool in a temp directory (tests/tree_util.h). The pool directory,
 * policy versions and the audit chain are tests/test_pool.c.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/audit_int.h"
#include "store/crypt.h"
#include "store/internal.h"
#define POOL_TEST_NAME "test_tree"
#include "tests/tree_util.h"
#include "tests/unit_main.h"

static uint64_t mk(uint64_t parent, const char *name, uint32_t type)
{
	struct store_attr a;
	int ret = store_mknode(S, parent, name, type, type == STORE_DIR ? 0755 : 0644,
			       1000, 1000, type == STORE_LNK ? "target" : NULL, &a, NULL);

	CU_ASSERT_EQUAL_FATAL(ret, 0);
	return a.ino;
}

static uint64_t ino_of(uint64_t parent, const char *name)
{
	struct store_attr a;

	return store_lookup(S, parent, name, &a) ? 0 : a.ino;
}

struct listing {
	char names[64][64];
	uint64_t inos[64];
	int n;
	int stop_after;
};

static int list_cb(void *arg, const struct store_dirent *d)
{
	struct listing *l = arg;

	if (l->n < 64) {
		snprintf(l->names[l->n], sizeof(l->names[0]), "%s", d->name);
		l->inos[l->n] = d->ino;
	}
	l->n++;
	return l->stop_after && l->n == l->stop_after ? 42 : 0;
}

/* The names of dir (as of t when not NULL) joined by ','. */
static const char *ls(uint64_t dir, const struct timespec *t)
{
	static char out[1024];
	struct listing l = { .n = 0 };
	size_t len = 0;

	out[0] = '\0';
	CU_ASSERT_EQUAL(store_readdir(S, dir, t, list_cb, &l), 0);
	for (int i = 0; i < l.n && i < 64; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s",
					i ? "," : "", l.names[i]);
	return out;
}

static struct timespec now_ts(void)
{
	int64_t ns = store_now_ns();
	struct timespec t = { ns / 1000000000, ns % 1000000000 };

	return t;
}

/* ---- the tree ---- */

static void test_mknode(void)
{
	struct store_attr a, root;
	struct strbuf sb = STRBUF_INIT;
	char long_name[STORE_NAME_MAX + 2];
	uint64_t d, f;

	pool_new();
	d = mk(STORE_ROOT_INO, "基础库", STORE_DIR);
	f = mk(d, "人口.csv", STORE_REG);
	mk(d, "link", STORE_LNK);
	CU_ASSERT(f > d && d > STORE_ROOT_INO);

	CU_ASSERT_EQUAL(store_lookup(S, d, "人口.csv", &a), 0);
	CU_ASSERT_EQUAL(a.ino, f);
	CU_ASSERT_EQUAL(a.type, STORE_REG);
	CU_ASSERT_EQUAL(a.mode, 0644);
	CU_ASSERT_EQUAL(a.uid, 1000);
	CU_ASSERT_EQUAL(a.nlink, 1);
	CU_ASSERT_EQUAL(a.version, 0);
	CU_ASSERT_EQUAL(a.size, 0);
	CU_ASSERT_EQUAL(store_getattr(S, STORE_ROOT_INO, &root), 0);
	CU_ASSERT_EQUAL(root.nlink, 3);
	CU_ASSERT_EQUAL(store_getattr(S, d, &a), 0);
	CU_ASSERT_EQUAL(a.nlink, 2);

	CU_ASSERT_EQUAL(store_readlink(S, ino_of(d, "link"), &sb), 0);
	CU_ASSERT_STRING_EQUAL(sb.buf, "target");
	CU_ASSERT_EQUAL(store_readlink(S, f, &sb), -EINVAL);
	strbuf_release(&sb);

	CU_ASSERT_EQUAL(store_mknode(S, d, "人口.csv", STORE_REG, 0644, 0, 0, NULL, NULL, NULL), -EEXIST);
	CU_ASSERT_EQUAL(store_mknode(S, f, "x", STORE_REG, 0644, 0, 0, NULL, NULL, NULL), -ENOTDIR);
	CU_ASSERT_EQUAL(store_mknode(S, 999, "x", STORE_REG, 0644, 0, 0, NULL, NULL, NULL), -ENOENT);
	CU_ASSERT_EQUAL(store_mknode(S, d, "l2", STORE_LNK, 0777, 0, 0, "", NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(store_lookup(S, d, "missing", &a), -ENOENT);
	CU_ASSERT_EQUAL(store_lookup(S, f, "x", &a), -ENOTDIR);

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	CU_ASSERT_EQUAL(store_mknode(S, d, long_name, STORE_REG, 0644, 0, 0, NULL, NULL, NULL),
			-ENAMETOOLONG);
	long_name[STORE_NAME_MAX] = '\0';
	CU_ASSERT_EQUAL(store_mknode(S, d, long_name, STORE_REG, 0644, 0, 0, NULL, NULL, NULL), 0);
	pool_done();
}

static void test_names(void)
{
	static const struct { const char *name; int err; } cases[] = {
		{ "", -EINVAL }, { ".", -EINVAL }, { "..", -EINVAL },
		{ "a/b", -EINVAL }, { "/", -EINVAL }, { "...", 0 }, { ".x", 0 },
		{ "a b", 0 }, { "户籍人口", 0 },
	};

	pool_new();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = store_mknode(S, STORE_ROOT_INO, cases[i].name, STORE_REG,
				       0644, 0, 0, NULL, NULL, NULL);

		CU_ASSERT_EQUAL(ret, cases[i].err);
		if (ret != cases[i].err)
			fprintf(stderr, "name \"%s\": got %d\n", cases[i].name, ret);
	}
	CU_ASSERT_EQUAL(store_rename(S, STORE_ROOT_INO, "...", STORE_ROOT_INO, "..",
				     0, NULL, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(store_unlink(S, STORE_ROOT_INO, ".", NULL), -EINVAL);
	pool_done();
}

static void test_readdir(void)
{
	struct listing l = { .n = 0, .stop_after = 2 };
	uint64_t d;

	pool_new();
	d = mk(STORE_ROOT_INO, "d", STORE_DIR);
	mk(d, "b", STORE_REG);
	mk(d, "a", STORE_REG);
	mk(d, "c", STORE_DIR);
	mk(d, "ab", STORE_LNK);
	mk(STORE_ROOT_INO, "e", STORE_REG);
	CU_ASSERT_STRING_EQUAL(ls(d, NULL), "a,ab,b,c");
	CU_ASSERT_STRING_EQUAL(ls(STORE_ROOT_INO, NULL), "d,e");
	CU_ASSERT_STRING_EQUAL(ls(ino_of(d, "c"), NULL), "");
	CU_ASSERT_EQUAL(store_readdir(S, d, NULL, list_cb, &l), 42);
	CU_ASSERT_EQUAL(l.n, 2);
	CU_ASSERT_EQUAL(store_readdir(S, ino_of(d, "a"), NULL, list_cb, &l), -ENOTDIR);
	pool_done();
}

static void test_unlink_rmdir(void)
{
	struct store_attr a;
	uint64_t d, sub, f;

	pool_new();
	d = mk(STORE_ROOT_INO, "d", STORE_DIR);
	sub = mk(d, "sub", STORE_DIR);
	f = mk(sub, "f", STORE_REG);
	CU_ASSERT_EQUAL(store_unlink(S, d, "sub", NULL), -EISDIR);
	CU_ASSERT_EQUAL(store_rmdir(S, sub, "f", NULL), -ENOTDIR);
	CU_ASSERT_EQUAL(store_rmdir(S, d, "sub", NULL), -ENOTEMPTY);
	CU_ASSERT_EQUAL(store_unlink(S, sub, "nope", NULL), -ENOENT);
	CU_ASSERT_EQUAL(store_unlink(S, sub, "f", NULL), 0);
	CU_ASSERT_EQUAL(store_lookup(S, sub, "f", &a), -ENOENT);
	CU_ASSERT_EQUAL(store_getattr(S, f, &a), 0);	/* open handles still stat */
	CU_ASSERT_EQUAL(a.nlink, 0);
	CU_ASSERT_EQUAL(store_getattr(S, d, &a), 0);
	CU_ASSERT_EQUAL(a.nlink, 3);
	CU_ASSERT_EQUAL(store_rmdir(S, d, "sub", NULL), 0);
	CU_ASSERT_EQUAL(store_getattr(S, d, &a), 0);
	CU_ASSERT_EQUAL(a.nlink, 2);
	CU_ASSERT_EQUAL(store_mknode(S, sub, "g", STORE_REG, 0644, 0, 0, NULL, NULL, NULL), -ENOENT);
	/* the name is free again */
	CU_ASSERT(mk(d, "sub", STORE_REG) > f);
	pool_done();
}

static void test_rename(void)
{
	struct store_attr a;
	uint64_t d1, d2, f, g, e, t;

	pool_new();
	d1 = mk(STORE_ROOT_INO, "d1", STORE_DIR);
	d2 = mk(STORE_ROOT_INO, "d2", STORE_DIR);
	f = mk(d1, "f", STORE_REG);
	g = mk(d2, "g", STORE_REG);

	CU_ASSERT_EQUAL(store_rename(S, d1, "f", d1, "f", 0, NULL, &t, NULL), 0);
	CU_ASSERT_EQUAL(t, f);
	CU_ASSERT_EQUAL(store_rename(S, d1, "f", d1, "f2", 0, NULL, &t, NULL), 0);
	CU_ASSERT_EQUAL(t, f);
	CU_ASSERT_STRING_EQUAL(ls(d1, NULL), "f2");
	CU_ASSERT_EQUAL(store_rename(S, d1, "f2", d2, "g", STORE_RENAME_NOREPLACE, NULL, NULL, NULL),
			-EEXIST);
	CU_ASSERT_EQUAL(store_rename(S, d1, "f2", d2, "x", STORE_RENAME_EXCHANGE, NULL, NULL, NULL),
			-ENOENT);
	CU_ASSERT_EQUAL(store_rename(S, d1, "nope", d2, "x", 0, NULL, NULL, NULL), -ENOENT);
	CU_ASSERT_EQUAL(store_rename(S, d1, "f2", d2, "x", 3, NULL, NULL, NULL), -EINVAL);

	CU_ASSERT_EQUAL(store_rename(S, d1, "f2", d2, "g", STORE_RENAME_EXCHANGE, NULL, &t, NULL), 0);
	CU_ASSERT_EQUAL(t, f);
	CU_ASSERT_EQUAL(ino_of(d1, "f2"), g);
	CU_ASSERT_EQUAL(ino_of(d2, "g"), f);

	/* directories: nlink follows, no moving below itself */
	e = mk(d1, "empty", STORE_DIR);
	CU_ASSERT_EQUAL(store_rename(S, STORE_ROOT_INO, "d1", d1, "x", 0, NULL, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(store_rename(S, STORE_ROOT_INO, "d1", e, "x", 0, NULL, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(store_rename(S, d1, "empty", STORE_ROOT_INO, "d1",
				     STORE_RENAME_EXCHANGE, NULL, NULL, NULL), -EINVAL);
	CU_ASSERT_EQUAL(store_rename(S, d1, "empty", d2, "e", 0, NULL, NULL, NULL), 0);
	CU_ASSERT_EQUAL(store_getattr(S, d1, &a), 0);
	CU_ASSERT_EQUAL(a.nlink, 2);
	CU_ASSERT_EQUAL(store_getattr(S, d2, &a), 0);
	CU_ASSERT_EQUAL(a.nlink, 3);
	CU_ASSERT_EQUAL(store_getattr(S, e, &a), 0);
	CU_ASSERT_EQUAL(a.ino, e);

	/* over a dir: only an empty one, and only by a dir */
	CU_ASSERT_EQUAL(store_rename(S, d2, "g", d2, "e", 0, NULL, NULL, NULL), -EISDIR);
	CU_ASSERT_EQUAL(store_rename(S, d2, "e", d2, "g", 0, NULL, NULL, NULL), -ENOTDIR);
	mk(e, "inner", STORE_REG);
	CU_ASSERT_EQUAL(store_rename(S, STORE_ROOT_INO, "d1", d2, "e", 0, NULL, NULL, NULL), -ENOTEMPTY);
	CU_ASSERT_EQUAL(store_unlink(S, e, "inner", NULL), 0);
	CU_ASSERT_EQUAL(store_rename(S, STORE_ROOT_INO, "d1", d2, "e", 0, NULL, &t, NULL), 0);
	CU_ASSERT_EQUAL(t, d1);
	CU_ASSERT_EQUAL(store_getattr(S, e, &a), 0);
	CU_ASSERT_EQUAL(a.nlink, 0);
	CU_ASSERT_EQUAL(store_getattr(S, STORE_ROOT_INO, &a), 0);
	CU_ASSERT_EQUAL(a.nlink, 3);
	CU_ASSERT_EQUAL(store_getattr(S, d2, &a), 0);
	CU_ASSERT_EQUAL(a.nlink, 3);
	CU_ASSERT_STRING_EQUAL(ls(STORE_ROOT_INO, NULL), "d2");
	CU_ASSERT_STRING_EQUAL(ls(d2, NULL), "e,g");

	/* a symlink over a file replaces the entry: the file's inode ends */
	t = mk(d2, "l", STORE_LNK);
	CU_ASSERT_EQUAL(store_rename(S, d2, "l", d2, "g", 0, NULL, &t, NULL), 0);
	CU_ASSERT_EQUAL(store_getattr(S, f, &a), 0);
	CU_ASSERT_EQUAL(a.nlink, 0);
	CU_ASSERT_EQUAL(store_lookup(S, d2, "g", &a), 0);
	CU_ASSERT_EQUAL(a.type, STORE_LNK);
	CU_ASSERT_EQUAL(a.ino, t);
	pool_done();
}

/* Commits text as the next version of ino. */
static void write_file(uint64_t ino, const char *text)
{
	struct store_writer w = { .uid = 1000 };
	struct store_stage *st = NULL;
	uint64_t v;

	CU_ASSERT_EQUAL_FATAL(store_stage_open(S, ino, &st), 0);
	CU_ASSERT_EQUAL(store_stage_truncate(st, 0), 0);
	CU_ASSERT_EQUAL(store_stage_write(st, text, strlen(text), 0), 0);
	CU_ASSERT_EQUAL(store_stage_commit(st, &w, NULL, &v), 0);
	store_stage_close(st);
}

static void read_file(uint64_t ino, uint64_t version, char *buf, size_t len)
{
	struct store_content *c = NULL;
	ssize_t n;

	buf[0] = '\0';
	CU_ASSERT_EQUAL_FATAL(store_content_open(S, ino, version, &c), 0);
	n = store_content_read(c, buf, len - 1, 0);
	CU_ASSERT(n >= 0);
	buf[n > 0 ? n : 0] = '\0';
	store_content_close(c);
}

/*
 * File over file goes through version_add_from (store/content.c): the
 * target keeps its inode and history, the source ends.
 */
static void test_rename_over_file(void)
{
	struct store_writer w = { .uid = 1000, .dept = "gongan", .user = "etl" };
	struct store_attr a;
	uint64_t src, dst, t;
	char buf[64];

	pool_new();
	dst = mk(STORE_ROOT_INO, "data.csv", STORE_REG);
	src = mk(STORE_ROOT_INO, ".data.csv.tmp", STORE_REG);
	write_file(dst, "id,name\n1,old\n");
	write_file(src, "id,name\n1,new\n");
	CU_ASSERT_EQUAL(store_rename(S, STORE_ROOT_INO, ".data.csv.tmp", STORE_ROOT_INO,
				     "data.csv", 0, &w, &t, NULL), 0);
	CU_ASSERT_EQUAL(t, dst);
	CU_ASSERT_EQUAL(ino_of(STORE_ROOT_INO, "data.csv"), dst);
	CU_ASSERT_EQUAL(ino_of(STORE_ROOT_INO, ".data.csv.tmp"), 0);
	CU_ASSERT_EQUAL(store_getattr(S, src, &a), 0);
	CU_ASSERT_EQUAL(a.nlink, 0);
	CU_ASSERT_EQUAL(store_getattr(S, dst, &a), 0);
	CU_ASSERT_EQUAL(a.version, 2);
	CU_ASSERT_EQUAL(a.size, 14);
	CU_ASSERT_EQUAL(a.nlink, 1);
	read_file(dst, 0, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "id,name\n1,new\n");
	read_file(dst, 1, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "id,name\n1,old\n");
	CU_ASSERT_STRING_EQUAL(ls(STORE_ROOT_INO, NULL), "data.csv");
	pool_done();
}

static void test_as_of(void)
{
	struct timespec t0, t1, before;
	struct store_attr a;
	uint64_t d, fa, fb;

	pool_new();
	before = now_ts();
	d = mk(STORE_ROOT_INO, "d", STORE_DIR);
	fa = mk(d, "a", STORE_REG);
	fb = mk(d, "b", STORE_REG);
	t0 = now_ts();
	CU_ASSERT_EQUAL(store_unlink(S, d, "a", NULL), 0);
	CU_ASSERT_EQUAL(store_rename(S, d, "b", d, "c", 0, NULL, NULL, NULL), 0);
	mk(d, "a", STORE_DIR);
	t1 = now_ts();
	CU_ASSERT_EQUAL(store_rename(S, d, "c", STORE_ROOT_INO, "moved", 0, NULL, NULL, NULL), 0);

	CU_ASSERT_STRING_EQUAL(ls(d, NULL), "a");
	CU_ASSERT_STRING_EQUAL(ls(d, &t0), "a,b");
	CU_ASSERT_STRING_EQUAL(ls(d, &t1), "a,c");
	CU_ASSERT_STRING_EQUAL(ls(d, &before), "");
	CU_ASSERT_STRING_EQUAL(ls(STORE_ROOT_INO, &t1), "d");
	CU_ASSERT_STRING_EQUAL(ls(STORE_ROOT_INO, NULL), "d,moved");

	CU_ASSERT_EQUAL(store_lookup_at(S, d, "a", &t0, &a), 0);
	CU_ASSERT_EQUAL(a.ino, fa);
	CU_ASSERT_EQUAL(a.nlink, 1);
	CU_ASSERT_EQUAL(store_lookup_at(S, d, "a", &t1, &a), 0);
	CU_ASSERT_EQUAL(a.type, STORE_DIR);
	CU_ASSERT_EQUAL(store_lookup_at(S, d, "b", &t0, &a), 0);
	CU_ASSERT_EQUAL(a.ino, fb);
	CU_ASSERT_EQUAL(store_lookup_at(S, d, "b", &t1, &a), -ENOENT);
	CU_ASSERT_EQUAL(store_lookup_at(S, d, "c", &t1, &a), 0);
	CU_ASSERT_EQUAL(a.ino, fb);
	CU_ASSERT_EQUAL(store_lookup_at(S, d, "c", &t0, &a), -ENOENT);
	CU_ASSERT_EQUAL(store_lookup_at(S, d, "c", NULL, &a), -ENOENT);
	CU_ASSERT_EQUAL(store_lookup_at(S, STORE_ROOT_INO, "moved", NULL, &a), 0);
	CU_ASSERT_EQUAL(store_lookup_at(S, d, "a", &before, &a), -ENOENT);
	pool_done();
}

static void test_paths(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct store_attr a;
	uint64_t d1, d2, f;

	pool_new();
	d1 = mk(STORE_ROOT_INO, "基础库", STORE_DIR);
	d2 = mk(d1, "人口", STORE_DIR);
	f = mk(d2, "户籍.csv", STORE_REG);
	CU_ASSERT_EQUAL(store_path(S, f, &sb), 0);
	CU_ASSERT_STRING_EQUAL(sb.buf, "/基础库/人口/户籍.csv");
	strbuf_reset(&sb);
	CU_ASSERT_EQUAL(store_path(S, STORE_ROOT_INO, &sb), 0);
	CU_ASSERT_STRING_EQUAL(sb.buf, "/");

	CU_ASSERT_EQUAL(store_resolve(S, "/基础库//人口/./户籍.csv", &a), 0);
	CU_ASSERT_EQUAL(a.ino, f);
	CU_ASSERT_EQUAL(store_resolve(S, "/", &a), 0);
	CU_ASSERT_EQUAL(a.ino, STORE_ROOT_INO);
	CU_ASSERT_EQUAL(store_resolve(S, "/基础库/人口/", &a), 0);
	CU_ASSERT_EQUAL(a.ino, d2);
	CU_ASSERT_EQUAL(store_resolve(S, "/基础库/../基础库", &a), -EINVAL);
	CU_ASSERT_EQUAL(store_resolve(S, "基础库", &a), -EINVAL);
	CU_ASSERT_EQUAL(store_resolve(S, "/基础库/人口/户籍.csv/x", &a), -ENOTDIR);
	CU_ASSERT_EQUAL(store_resolve(S, "/nope", &a), -ENOENT);

	CU_ASSERT_EQUAL(store_rename(S, d2, "户籍.csv", d1, "r.csv", 0, NULL, NULL, NULL), 0);
	strbuf_reset(&sb);
	CU_ASSERT_EQUAL(store_path(S, f, &sb), 0);
	CU_ASSERT_STRING_EQUAL(sb.buf, "/基础库/r.csv");
	CU_ASSERT_EQUAL(store_unlink(S, d1, "r.csv", NULL), 0);
	CU_ASSERT_EQUAL(store_path(S, f, &sb), -ENOENT);
	strbuf_release(&sb);
	pool_done();
}

/* Records read once are kept (store/inode_cache.c): a move must show in paths at once. */
static void test_paths_moved(void)
{
	struct strbuf sb = STRBUF_INIT;
	uint64_t d1, d2, d3, f, e;

	pool_new();
	d1 = mk(STORE_ROOT_INO, "a", STORE_DIR);
	d2 = mk(d1, "b", STORE_DIR);
	d3 = mk(d2, "c", STORE_DIR);
	f = mk(d3, "f.csv", STORE_REG);
	e = mk(d1, "empty", STORE_DIR);
	CU_ASSERT_EQUAL(store_path(S, f, &sb), 0);
	CU_ASSERT_STRING_EQUAL(sb.buf, "/a/b/c/f.csv");
	strbuf_reset(&sb);
	CU_ASSERT_EQUAL(store_path(S, e, &sb), 0);
	CU_ASSERT_STRING_EQUAL(sb.buf, "/a/empty");

	/* a directory above the file moves: the file's path and its own follow */
	CU_ASSERT_EQUAL(store_rename(S, d1, "b", STORE_ROOT_INO, "B", 0, NULL, NULL, NULL), 0);
	strbuf_reset(&sb);
	CU_ASSERT_EQUAL(store_path(S, f, &sb), 0);
	CU_ASSERT_STRING_EQUAL(sb.buf, "/B/c/f.csv");
	strbuf_reset(&sb);
	CU_ASSERT_EQUAL(store_path(S, d3, &sb), 0);
	CU_ASSERT_STRING_EQUAL(sb.buf, "/B/c");
	/* and one exchanged with another */
	CU_ASSERT_EQUAL(store_rename(S, STORE_ROOT_INO, "B", d1, "empty",
				     STORE_RENAME_EXCHANGE, NULL, NULL, NULL), 0);
	strbuf_reset(&sb);
	CU_ASSERT_EQUAL(store_path(S, d3, &sb), 0);
	CU_ASSERT_STRING_EQUAL(sb.buf, "/a/empty/c");
	strbuf_reset(&sb);
	CU_ASSERT_EQUAL(store_path(S, e, &sb), 0);
	CU_ASSERT_STRING_EQUAL(sb.buf, "/B");
	/* a removed directory has no path */
	CU_ASSERT_EQUAL(store_rmdir(S, STORE_ROOT_INO, "B", NULL), 0);
	strbuf_reset(&sb);
	CU_ASSERT_EQUAL(store_path(S, e, &sb), -ENOENT);
	strbuf_release(&sb);
	pool_done();
}

/* Records and entries read once are kept (store/inode_cache.c): every write must show at once. */
static void test_reads_after_writes(void)
{
	struct store_attr a, b;
	uint64_t d, f, g;

	pool_new();
	d = mk(STORE_ROOT_INO, "d", STORE_DIR);
	f = mk(d, "f.csv", STORE_REG);
	CU_ASSERT_EQUAL(store_getattr(S, f, &a), 0);
	CU_ASSERT_EQUAL(store_lookup(S, d, "f.csv", &a), 0);
	CU_ASSERT_EQUAL(a.ino, f);

	memset(&b, 0, sizeof(b));
	b.mode = 0600;
	CU_ASSERT_EQUAL(store_setattr(S, f, &b, STORE_SET_MODE, NULL), 0);
	CU_ASSERT_EQUAL(store_getattr(S, f, &a), 0);
	CU_ASSERT_EQUAL(a.mode & 07777, 0600);
	CU_ASSERT_EQUAL(store_lookup(S, d, "f.csv", &a), 0);
	CU_ASSERT_EQUAL(a.mode & 07777, 0600);

	CU_ASSERT_EQUAL(store_unlink(S, d, "f.csv", NULL), 0);
	CU_ASSERT_EQUAL(store_lookup(S, d, "f.csv", &a), -ENOENT);
	g = mk(d, "f.csv", STORE_REG);
	CU_ASSERT_NOT_EQUAL(g, f);
	CU_ASSERT_EQUAL(store_lookup(S, d, "f.csv", &a), 0);
	CU_ASSERT_EQUAL(a.ino, g);
	CU_ASSERT_EQUAL(store_rename(S, d, "f.csv", STORE_ROOT_INO, "g.csv", 0, NULL, NULL,
				     NULL), 0);
	CU_ASSERT_EQUAL(store_lookup(S, d, "f.csv", &a), -ENOENT);
	CU_ASSERT_EQUAL(store_lookup(S, STORE_ROOT_INO, "g.csv", &a), 0);
	CU_ASSERT_EQUAL(a.ino, g);
	pool_done();
}

/*
 * Version records read once are kept too (a view's size is found by the
 * version's content id): each is its own, by inode and by version.
 */
static void test_versions_kept(void)
{
	struct store_version_info v1, v2, g1, again;
	uint64_t f, g;

	pool_new();
	f = mk(STORE_ROOT_INO, "f.csv", STORE_REG);
	g = mk(STORE_ROOT_INO, "g.csv", STORE_REG);
	write_file(f, "a");
	CU_ASSERT_EQUAL_FATAL(store_version_get(S, f, 1, &v1), 0);
	CU_ASSERT_EQUAL(v1.size, 1);
	CU_ASSERT_EQUAL(store_version_get(S, f, 2, &v2), -ENOENT);
	write_file(f, "bb");
	write_file(g, "ccc");
	CU_ASSERT_EQUAL_FATAL(store_version_get(S, f, 2, &v2), 0);
	CU_ASSERT_EQUAL_FATAL(store_version_get(S, g, 1, &g1), 0);
	CU_ASSERT_EQUAL_FATAL(store_version_get(S, f, 1, &again), 0);
	CU_ASSERT_EQUAL(v2.size, 2);
	CU_ASSERT_EQUAL(g1.size, 3);
	CU_ASSERT_EQUAL(again.size, 1);
	CU_ASSERT_EQUAL(memcmp(again.content_id, v1.content_id, 32), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(v2.content_id, v1.content_id, 32), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(g1.content_id, v1.content_id, 32), 0);
	CU_ASSERT_EQUAL(store_version_get(S, g, 2, &again), -ENOENT);
	pool_done();
}

static void test_setattr_persist(void)
{
	struct store_attr a = { .mode = 0600, .uid = 5, .gid = 6 };
	uint64_t f, g;

	pool_new();
	f = mk(STORE_ROOT_INO, "f", STORE_REG);
	a.mtime.tv_sec = 1234567890;
	a.mtime.tv_nsec = 42;
	a.atime.tv_sec = -1;	/* before 1970 */
	CU_ASSERT_EQUAL(store_setattr(S, f, &a, STORE_SET_MODE | STORE_SET_UID |
				      STORE_SET_ATIME | STORE_SET_MTIME, NULL), 0);
	pool_reopen();
	CU_ASSERT_EQUAL(store_getattr(S, f, &a), 0);
	CU_ASSERT_EQUAL(a.mode, 0600);
	CU_ASSERT_EQUAL(a.uid, 5);
	CU_ASSERT_EQUAL(a.gid, 1000);	/* not asked for */
	CU_ASSERT_EQUAL(a.mtime.tv_sec, 1234567890);
	CU_ASSERT_EQUAL(a.mtime.tv_nsec, 42);
	CU_ASSERT_EQUAL(a.atime.tv_sec, -1);
	CU_ASSERT_EQUAL(store_setattr(S, 999, &a, STORE_SET_MODE, NULL), -ENOENT);
	/* the inode counter survives a reopen */
	g = mk(STORE_ROOT_INO, "g", STORE_REG);
	CU_ASSERT(g > f);
	pool_done();
}

#define THREADS		4
#define PER_THREAD	100

static void *worker(void *arg)
{
	struct audit_rec r = { .op = "create" };
	long id = (long)arg;
	char name[32];
	long bad = 0;

	for (int i = 0; i < PER_THREAD; i++) {
		snprintf(name, sizeof(name), "t%ld-%03d", id, i);
		bad += store_mknode(S, STORE_ROOT_INO, name, STORE_REG, 0644, 0, 0, NULL, NULL, NULL) != 0;
		bad += audit_append(S, &r) != 0;
	}
	return (void *)bad;
}

static int count_cb(void *arg, const struct store_dirent *d)
{
	uint64_t *seen = arg;

	seen[0]++;
	seen[1] = d->ino > seen[1] ? d->ino : seen[1];
	return 0;
}

/* Mutations from many threads serialize: no lost inode numbers or records. */
static void test_threads(void)
{
	pthread_t th[THREADS];
	uint64_t seen[2] = { 0, 0 };
	void *bad;

	pool_new();
	for (long i = 0; i < THREADS; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, worker, (void *)i), 0);
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], &bad);
		CU_ASSERT_PTR_NULL(bad);
	}
	CU_ASSERT_EQUAL(store_readdir(S, STORE_ROOT_INO, NULL, count_cb, seen), 0);
	CU_ASSERT_EQUAL(seen[0], THREADS * PER_THREAD);
	CU_ASSERT_EQUAL(seen[1], STORE_ROOT_INO + THREADS * PER_THREAD);
	CU_ASSERT_EQUAL(verify_chain(), THREADS * PER_THREAD);
	pool_done();
}

/*
 * Commits while another thread stats the file, in an encrypted pool,
 * where a load checks that the record names the newest version: a commit
 * landing between the record's read and that check is not a rollback.
 */
struct committer {
	uint64_t ino;
	int done, errors;
};

static void *commit_loop(void *arg)
{
	struct committer *c = arg;
	struct store_writer w = { .uid = 1000, .dept = "gongan", .user = "etl" };
	char line[64];

	for (int i = 0; i < 400; i++) {
		struct store_stage *st = NULL;
		uint64_t v;
		int len = snprintf(line, sizeof(line), "row %d\n", i);
		int ret = store_stage_open(S, c->ino, &st);

		if (!ret)
			ret = store_stage_write(st, line, (size_t)len, (uint64_t)i * 16);
		if (!ret)
			ret = store_stage_commit(st, &w, NULL, &v);
		if (st)
			store_stage_close(st);
		if (ret)
			c->errors++;
	}
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_commit_race(void)
{
	struct store_crypt_opts o = { .cipher = CRYPT_AES_GCM };
	struct committer c = { 0 };
	struct store_attr a;
	char keyf[300];
	pthread_t th;
	long loads = 0, eio = 0;

	snprintf(pool_dir, sizeof(pool_dir), "%s/pool%d", tmp_root, ++pool_no);
	snprintf(keyf, sizeof(keyf), "%s.key", pool_dir);
	o.key_file = keyf;
	CU_ASSERT_EQUAL_FATAL(store_create_opts(pool_dir, &o, NULL), 0);
	store_set_key_file(keyf);
	CU_ASSERT_EQUAL_FATAL(store_open(pool_dir, 0, &S, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(store_mknode(S, STORE_ROOT_INO, "f", STORE_REG, 0644, 1000, 1000,
					   NULL, &a, NULL), 0);
	c.ino = a.ino;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, commit_loop, &c), 0);
	while (!__atomic_load_n(&c.done, __ATOMIC_ACQUIRE)) {
		if (store_getattr(S, c.ino, &a) == -EIO)
			eio++;
		loads++;
	}
	pthread_join(th, NULL);
	printf("\n    %ld loads during 400 commits, %ld EIO\n", loads, eio);
	CU_ASSERT_EQUAL(c.errors, 0);
	CU_ASSERT_EQUAL(eio, 0);
	CU_ASSERT_EQUAL(store_getattr(S, c.ino, &a), 0);
	CU_ASSERT_EQUAL(a.version, 400);
	pool_done();
	store_set_key_file(NULL);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "mknode and lookup", test_mknode },
		{ "name validation", test_names },
		{ "readdir", test_readdir },
		{ "unlink and rmdir", test_unlink_rmdir },
		{ "rename", test_rename },
		{ "rename over a file", test_rename_over_file },
		{ "readdir and lookup as of", test_as_of },
		{ "path and resolve", test_paths },
		{ "paths after moves", test_paths_moved },
		{ "reads after writes", test_reads_after_writes },
		{ "version records kept", test_versions_kept },
		{ "setattr and reopen", test_setattr_persist },
		{ "threads", test_threads },
		{ "stat during commits, encrypted pool", test_commit_race },
	};

	return unit_tests_run("tree", suite_init, suite_clean, tests, UNIT_COUNT(tests));
}
