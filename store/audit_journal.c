/*
 * store/audit_journal.c - the audit log's journal: where a group of
 * records becomes durable before RocksDB holds it.
 *
 * A synced RocksDB write costs an audited open about as much again as the
 * open itself (docs/audit.md, "The journal"). So a leader appends its group to a
 * file of its own and syncs that, and a thread (audit.c) moves the records
 * into RocksDB later, in batches and without RocksDB's WAL. A file is
 * deleted once its records are in RocksDB's tables (the audit and meta
 * families flushed); a clean close deletes them all.
 *
 * DIR/journal/audit.<20-digit number>, frames back to back (big-endian):
 *
 *   0   4  "PAJ1"
 *   4   4  body bytes (everything after this 13-byte header)
 *   8   4  number of records n >= 1
 *   12  1  1 when a checkpoint seal follows the head, else 0
 *   13     n times: 4-byte length, the record as stored
 *          the head seal of the last record (AUDIT_SEAL_LEN bytes)
 *          the checkpoint seal, when flagged
 *
 * A frame is authentic when its records chain (each one's hash over the
 * one before, from the "prev" the first names) to the hash its head seal
 * signs: without the key no frame can be forged or edited.
 *
 * At open, every authentic frame is replayed into RocksDB. Only a frame
 * that is incomplete may be dropped as the write a crash cut short (its
 * caller got no answer): its declared length runs past the end of the
 * file, or the check fails in a zero-filled tail (the file grew but its
 * blocks never came: zeros from the frame's start, or from a 512-byte
 * boundary, to the end of the file). A complete frame that fails its
 * check is an edit, even the last one: it and everything after it are
 * refused, the files kept as refused.<number>, and the caller records an
 * audit_break. So is a frame cut short whose bytes hold a whole
 * authentic frame (its length field was edited). A frame whose first
 * record is at or below records of an earlier frame replaces them, as
 * the daemon did when a write failed and the chain resumed.
 */
#include "common/alloc.h"
#include "store/audit_int.h"
#include "store/crypt_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/log.h"

#define FRAME_MAGIC	"PAJ1"
#define FRAME_HDR	13
#define FILE_PREFIX	"audit."
#define REFUSED_PREFIX	"refused."

/* a file is set aside past this size, so its records can leave the journal */
#define JOURNAL_MAX	(8u << 20)
#ifdef POOL_TEST
uint64_t audit_journal_max = JOURNAL_MAX;	/* tests lower it */
#else
#define audit_journal_max JOURNAL_MAX
#endif

/* ---- appending ---- */

static void file_name(char *buf, size_t len, const char *prefix, uint64_t num)
{
	snprintf(buf, len, "%s%020" PRIu64, prefix, num);
}

static bool file_num(const char *name, uint64_t *num)
{
	const char *d = name + strlen(FILE_PREFIX);
	char *end;

	if (strncmp(name, FILE_PREFIX, strlen(FILE_PREFIX)) || strlen(d) != 20)
		return false;
	errno = 0;
	*num = strtoull(d, &end, 10);
	return !errno && *end == '\0';
}

static int sync_dir(struct audit_journal *j)
{
	return fsync(j->dirfd) ? -errno : 0;
}

/* The numbers of the journal files in DIR/journal, ascending. */
static int list_files(struct audit_journal *j, uint64_t **nums, size_t *n)
{
	size_t cap = 0;
	uint64_t num;
	struct dirent *de;
	DIR *d;
	int fd;

	*nums = NULL;
	*n = 0;
	fd = dup(j->dirfd);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		if (!file_num(de->d_name, &num))
			continue;
		ALLOC_GROW(*nums, *n + 1, cap);
		/* few files: keep them sorted as they come */
		size_t i = (*n)++;
		for (; i > 0 && (*nums)[i - 1] > num; i--)
			(*nums)[i] = (*nums)[i - 1];
		(*nums)[i] = num;
	}
	closedir(d);
	return 0;
}

int audit_journal_open(struct audit_log *L)
{
	struct audit_journal *j = &L->j;
	char path[4096];
	uint64_t *nums;
	size_t n;
	int ret;

	j->fd = -1;
	snprintf(path, sizeof(path), "%s/journal", L->s->dir);
	if (mkdir(path, 0700) && errno != EEXIST)
		goto fail;
	j->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd < 0)
		goto fail;
	ret = list_files(j, &nums, &n);
	if (ret)
		return ret;
	j->num = n ? nums[n - 1] : 0;
	free(nums);
	return 0;
fail:
	ret = -errno;
	log_err("%s: audit journal: %s", path, strerror(errno));
	return ret;
}

static void retire_push(struct audit_log *L, uint64_t num, uint64_t last)
{
	struct audit_journal *j = &L->j;

	pthread_mutex_lock(&L->mu);
	ALLOC_GROW(j->retired, j->nretired + 1, j->aretired);
	j->retired[j->nretired++] = (struct audit_retired){ num, last };
	pthread_mutex_unlock(&L->mu);
}

/* Sets the current file aside: later groups go to a new one. */
static void set_aside(struct audit_log *L)
{
	struct audit_journal *j = &L->j;

	if (j->fd < 0)
		return;
	close(j->fd);
	j->fd = -1;
	retire_push(L, j->num, j->last);
}

static int new_file(struct audit_log *L)
{
	struct audit_journal *j = &L->j;
	char name[64];
	int ret;

	set_aside(L);
	file_name(name, sizeof(name), FILE_PREFIX, j->num + 1);
	j->fd = openat(j->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (j->fd < 0)
		return -errno;
	j->num++;
	j->size = 0;
	j->last = 0;
	/* the name must be durable before anything in the file counts */
	ret = sync_dir(j);
	if (ret) {
		close(j->fd);
		j->fd = -1;
		unlinkat(j->dirfd, name, 0);
	}
	return ret;
}

/* set once pwritev2() turns RWF_DSYNC down (a kernel before 4.7) */
static bool no_dsync;

/*
 * Writes buf at off and makes it durable as fdatasync() would. One
 * pwritev2(RWF_DSYNC) call instead of a write and a sync: two syscalls
 * per group were a tenth of an audited open's daemon CPU on a tmpfs.
 */
static int write_synced(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	struct iovec v = { (void *)buf, len };
	ssize_t n = -1;
	int ret;

	if (!__atomic_load_n(&no_dsync, __ATOMIC_RELAXED)) {
		n = pwritev2(fd, &v, 1, (off_t)off, RWF_DSYNC);
		if (n < 0 && (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL))
			__atomic_store_n(&no_dsync, true, __ATOMIC_RELAXED);
		else if (n < 0 && errno != EINTR)
			return -errno;
		if (n == (ssize_t)len)
			return 0;
	}
	/* all of it without RWF_DSYNC, or the rest of a short write */
	if (n > 0) {
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	ret = store_pwrite_full(fd, buf, len, off);
	if (!ret && fdatasync(fd))
		ret = -errno;
	return ret;
}

int audit_journal_append(struct audit_log *L, const struct audit_pending *p, size_t n,
			 const struct audit_seals *sl)
{
	struct audit_journal *j = &L->j;
	size_t body = AUDIT_SEAL_LEN + (sl->has_cp ? AUDIT_SEAL_LEN : 0), off;
	uint8_t *f;
	int ret;

	for (size_t i = 0; i < n; i++)
		body += 4 + p[i].len;
	if (body > UINT32_MAX || n > UINT32_MAX)
		return -EFBIG;
	f = xmalloc(FRAME_HDR + body);
	memcpy(f, FRAME_MAGIC, 4);
	put_be32(f + 4, (uint32_t)body);
	put_be32(f + 8, (uint32_t)n);
	f[12] = sl->has_cp;
	off = FRAME_HDR;
	for (size_t i = 0; i < n; i++) {
		put_be32(f + off, (uint32_t)p[i].len);
		memcpy(f + off + 4, p[i].value, p[i].len);
		off += 4 + p[i].len;
	}
	memcpy(f + off, sl->head, AUDIT_SEAL_LEN);
	if (sl->has_cp)
		memcpy(f + off + AUDIT_SEAL_LEN, sl->cp, AUDIT_SEAL_LEN);

	ret = 0;
	if (j->fd < 0 || j->size >= audit_journal_max)
		ret = new_file(L);
	if (!ret)
		ret = write_synced(j->fd, f, FRAME_HDR + body, j->size);
	free(f);
	if (ret) {
		log_err("%s: audit journal: file %" PRIu64 ": %s", L->s->dir, j->num,
			strerror(-ret));
		set_aside(L);
		return ret;
	}
	j->size += FRAME_HDR + body;
	j->last = sl->seq;
	return 0;
}

/* ---- retiring ---- */

static int flush_tables(struct audit_log *L)
{
	int ret = store_flush(L->s, CF_AUDIT);

	return ret ? ret : store_flush(L->s, CF_META);
}

static void unlink_file(struct audit_log *L, uint64_t num)
{
	char name[64];

	file_name(name, sizeof(name), FILE_PREFIX, num);
	if (unlinkat(L->j.dirfd, name, 0) && errno != ENOENT)
		log_err("%s: audit journal: cannot delete %s: %s", L->s->dir, name,
			strerror(errno));
}

bool audit_journal_retirable(const struct audit_log *L, uint64_t ingested)
{
	for (size_t i = 0; i < L->j.nretired; i++)
		if (L->j.retired[i].last <= ingested)
			return true;
	return false;
}

void audit_journal_retire(struct audit_log *L, uint64_t ingested)
{
	struct audit_journal *j = &L->j;
	uint64_t nums[16];
	size_t n = 0, k = 0;

	pthread_mutex_lock(&L->mu);
	for (size_t i = 0; i < j->nretired; i++) {
		if (j->retired[i].last <= ingested && n < sizeof(nums) / sizeof(nums[0]))
			nums[n++] = j->retired[i].num;
		else
			j->retired[k++] = j->retired[i];
	}
	j->nretired = k;
	pthread_mutex_unlock(&L->mu);
	if (!n)
		return;
	if (flush_tables(L)) {
		/* kept: the next open replays them, which only repeats what is there */
		return;
	}
	for (size_t i = 0; i < n; i++)
		unlink_file(L, nums[i]);
	sync_dir(j);
}

void audit_journal_close(struct audit_log *L, bool ingested)
{
	struct audit_journal *j = &L->j;

	if (j->dirfd < 0)
		return;
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	if (ingested) {
		uint64_t *nums;
		size_t n;

		if (!list_files(j, &nums, &n) && n && !flush_tables(L)) {
			for (size_t i = 0; i < n; i++)
				unlink_file(L, nums[i]);
			sync_dir(j);
		}
		free(nums);
	}
	free(j->retired);
	j->retired = NULL;
	j->nretired = j->aretired = 0;
	close(j->dirfd);
	j->dirfd = -1;
}

/* ---- replay at open ---- */

struct replay_rec {
	uint64_t seq;
	const char *value;
	size_t len;
};

struct replay {
	struct audit_log *L;
	struct replay_rec *recs;
	size_t nrecs, arecs;
	const uint8_t *head;			/* the newest authentic head seal */
	uint64_t head_seq;
	struct { uint64_t seq; const uint8_t *v; } *cps;
	size_t ncps, acps;
	struct strbuf plain;			/* a record being checked, opened */
};

/*
 * Checks the frame body b (n records, cp flagged), staging its records
 * past the authentic ones in rp. NULL when authentic, else why not and
 * in *at where in b the check needed bytes up to (the end of the record
 * or seal that failed), so that a failure can be told to lie in a
 * zero-filled tail or not.
 */
static const char *frame_check(struct replay *rp, const uint8_t *b, size_t blen, uint32_t n,
			       bool has_cp, size_t *at)
{
	struct audit_log *L = rp->L;
	size_t off = 0, base = rp->nrecs;
	uint8_t prev[32], hash[32], stored[32];
	uint64_t seq = 0;
	struct audit_seal c;

	*at = blen;
	for (uint32_t i = 0; i < n; i++) {
		struct audit_rec r;
		char prev_hex[65];
		const char *why = NULL;
		json_t *o;
		const char *pv;
		size_t plen;
		uint32_t len;

		if (blen - off < 4 || (len = get_be32(b + off), blen - off - 4 < len))
			return "a record runs past the frame";
		*at = off + 4 + len;
		if (audit_value_open(L->s, 0, (const char *)b + off + 4, len, &rp->plain, &pv, &plen))
			return "a record does not open with the pool's keys";
		if (audit_decode(pv, plen, &o, &r, prev_hex))
			return "a record is not a record";
		json_decref(o);
		if (i == 0 && hex_decode(prev_hex, prev, 32))
			why = "the first record's prev is not a hash";
		else if (i > 0 && r.seq != seq + 1)
			why = "the records are not consecutive";
		else if (audit_hash_value(pv, plen, prev, L->md, hash, stored) ||
			 memcmp(hash, stored, 32))
			why = "a record does not match its hash";
		if (why)
			return why;
		/* staged past the authentic ones until the frame proves itself */
		ALLOC_GROW(rp->recs, base + i + 1, rp->arecs);
		rp->recs[base + i] = (struct replay_rec){ r.seq, (const char *)b + off + 4, len };
		memcpy(prev, hash, 32);
		seq = r.seq;
		off += 4 + len;
	}
	*at = blen;
	if (blen - off != AUDIT_SEAL_LEN * (has_cp ? 2u : 1u))
		return "the seals are not where the frame says";
	if (audit_seal_decode(b + off, AUDIT_SEAL_LEN, &c) ||
	    audit_seal_check(&L->keys, L->algo, AUDIT_SEAL_HEAD, &c) ||
	    c.seq != seq || memcmp(c.hash, prev, 32)) {
		*at = off + AUDIT_SEAL_LEN;
		return "its head seal does not sign its records";
	}
	if (has_cp && (audit_seal_decode(b + off + AUDIT_SEAL_LEN, AUDIT_SEAL_LEN, &c) ||
		       audit_seal_check(&L->keys, L->algo, AUDIT_SEAL_CP, &c) ||
		       c.seq != seq))
		return "its checkpoint seal does not sign its records";
	return NULL;
}

/* Makes the frame frame_check() just passed (body b, n records) the newest in rp. */
static const char *frame_take(struct replay *rp, const uint8_t *b, size_t blen, uint32_t n,
			      bool has_cp)
{
	size_t base = rp->nrecs, first, off = blen - AUDIT_SEAL_LEN * (has_cp ? 2u : 1u);

	/* this frame replaces what earlier ones said from its first record on */
	for (first = base; first > 0 && rp->recs[first - 1].seq >= rp->recs[base].seq; first--)
		;
	memmove(rp->recs + first, rp->recs + base, n * sizeof(*rp->recs));
	rp->nrecs = first + n;
	while (rp->ncps > 0 && rp->cps[rp->ncps - 1].seq >= rp->recs[first].seq)
		rp->ncps--;
	rp->head = b + off;
	rp->head_seq = rp->recs[rp->nrecs - 1].seq;
	if (has_cp) {
		ALLOC_GROW(rp->cps, rp->ncps + 1, rp->acps);
		rp->cps[rp->ncps].seq = rp->head_seq;
		rp->cps[rp->ncps++].v = b + off + AUDIT_SEAL_LEN;
	}
	return NULL;
}

/*
 * Where the zero-filled tail of a file of len bytes begins as a torn
 * write leaves one: the zeros that run to the end, from the frame at
 * start on, or from the first 512-byte boundary inside them (a
 * filesystem exposes unwritten blocks, never single bytes). len when
 * there is none.
 */
static size_t zero_tail(const uint8_t *buf, size_t len, size_t start)
{
	size_t z = len;

	while (z > start && buf[z - 1] == 0)
		z--;
	if (z == start)
		return start;
	z = (z + 511) & ~(size_t)511;
	return z < len ? z : len;
}

/*
 * The frame at buf[off] of a file of len bytes, its header whole and of
 * known shape: NULL when authentic (and taken into rp), else why not.
 * *torn says whether the failure lies in a zero-filled tail.
 */
static const char *frame_read(struct replay *rp, const uint8_t *buf, size_t len, size_t off,
			      size_t body, bool *torn)
{
	const uint8_t *f = buf + off;
	const char *bad;
	size_t at;

	*torn = false;
	bad = frame_check(rp, f + FRAME_HDR, body, get_be32(f + 8), f[12], &at);
	if (!bad)
		return frame_take(rp, f + FRAME_HDR, body, get_be32(f + 8), f[12]);
	*torn = off + FRAME_HDR + at > zero_tail(buf, len, off);
	return bad;
}

static bool frame_shaped(const uint8_t *f)
{
	return !memcmp(f, FRAME_MAGIC, 4) && get_be32(f + 8) != 0 && f[12] <= 1;
}

static int read_file(struct audit_journal *j, uint64_t num, uint8_t **buf, size_t *len)
{
	char name[64];
	struct stat st;
	int fd, ret = 0;

	*buf = NULL;
	*len = 0;
	file_name(name, sizeof(name), FILE_PREFIX, num);
	fd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		goto out;
	}
	*buf = xmalloc((size_t)st.st_size);
	ret = store_pread_full(fd, *buf, (size_t)st.st_size, 0);
	if (!ret)
		*len = (size_t)st.st_size;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * Puts what rp holds into RocksDB: records and checkpoints that are not
 * there (one that is stays as it is: verify judges it), and the head when
 * it is newer than the stored one.
 */
static int replay_apply(struct replay *rp)
{
	struct store *s = rp->L->s;
	rocksdb_writebatch_t *b = rocksdb_writebatch_create();
	struct strbuf v = STRBUF_INIT;
	struct audit_seal c;
	uint8_t key[AUDIT_CP_KEY_LEN];
	int ret = 0;

	for (size_t i = 0; i < rp->nrecs && !ret; i++) {
		put_be64(key, rp->recs[i].seq);
		ret = store_get(s, CF_AUDIT, key, 8, &v);
		if (ret == -ENOENT) {
			rocksdb_writebatch_put_cf(b, s->cf[CF_AUDIT], (const char *)key, 8,
						  rp->recs[i].value, rp->recs[i].len);
			ret = 0;
		}
	}
	for (size_t i = 0; i < rp->ncps && !ret; i++) {
		audit_cp_key(key, rp->cps[i].seq);
		ret = store_get(s, CF_META, key, sizeof(key), &v);
		if (ret == -ENOENT) {
			rocksdb_writebatch_put_cf(b, s->cf[CF_META], (const char *)key, sizeof(key),
						  (const char *)rp->cps[i].v, AUDIT_SEAL_LEN);
			ret = 0;
		}
	}
	if (!ret && rp->head) {
		ret = store_get(s, CF_META, AUDIT_META_HEAD, strlen(AUDIT_META_HEAD), &v);
		if (ret == -ENOENT || (!ret && (audit_seal_decode(v.buf, v.len, &c) ||
						c.seq < rp->head_seq))) {
			rocksdb_writebatch_put_cf(b, s->cf[CF_META], AUDIT_META_HEAD,
						  strlen(AUDIT_META_HEAD),
						  (const char *)rp->head, AUDIT_SEAL_LEN);
			ret = 0;
		}
	}
	if (!ret && rocksdb_writebatch_count(b))
		ret = store_write(s, b, true);
	rocksdb_writebatch_destroy(b);
	strbuf_release(&v);
	return ret;
}

/* Keeps the files from the one at index from on as refused.<number>. */
static void refuse_files(struct audit_log *L, const uint64_t *nums, size_t n, size_t from)
{
	char name[64], to[64];

	for (size_t i = from; i < n; i++) {
		file_name(name, sizeof(name), FILE_PREFIX, nums[i]);
		file_name(to, sizeof(to), REFUSED_PREFIX, nums[i]);
		if (renameat(L->j.dirfd, name, L->j.dirfd, to))
			log_err("%s: audit journal: cannot set %s aside: %s", L->s->dir, name,
				strerror(errno));
	}
}

int audit_journal_replay(struct audit_log *L, struct strbuf *why)
{
	struct replay rp = { .L = L, .plain = STRBUF_INIT };
	uint64_t *nums = NULL;
	uint8_t **bufs = NULL;
	size_t n = 0, refused = SIZE_MAX, len;
	int ret;

	ret = list_files(&L->j, &nums, &n);
	if (ret || !n)
		goto out;
	bufs = xcalloc(n, sizeof(*bufs));

	for (size_t i = 0; i < n && refused == SIZE_MAX; i++) {
		size_t off = 0;

		ret = read_file(&L->j, nums[i], &bufs[i], &len);
		if (ret)
			goto out;
		while (off < len) {
			const uint8_t *f = bufs[i] + off;
			const char *bad = NULL;
			size_t body = len - off >= FRAME_HDR ? get_be32(f + 4) : SIZE_MAX, at;
			bool torn = false;

			if (body > len - off - (len - off >= FRAME_HDR ? FRAME_HDR : 0)) {
				/*
				 * Cut short: the write the crash interrupted, unless what
				 * is there is a whole authentic frame with its length
				 * field made larger (an edit that would drop it).
				 */
				if (body == SIZE_MAX || !frame_shaped(f) ||
				    frame_check(&rp, f + FRAME_HDR, len - off - FRAME_HDR,
						get_be32(f + 8), f[12], &at)) {
					log_warn("%s: audit journal: file %" PRIu64 " ends in an unfinished write of %zu bytes; dropped",
						 L->s->dir, nums[i], len - off);
					break;
				}
				bad = "its length field was changed (the frame is whole)";
			} else if (!frame_shaped(f)) {
				bad = "it is not a frame";
				torn = off + FRAME_HDR > zero_tail(bufs[i], len, off);
			} else {
				bad = frame_read(&rp, bufs[i], len, off, body, &torn);
			}

			if (bad && torn) {
				/* zeros where the write never landed: its caller got no answer */
				log_warn("%s: audit journal: file %" PRIu64 " ends in a zero-filled unfinished write (%s); dropped",
					 L->s->dir, nums[i], bad);
				break;
			}
			if (bad) {
				strbuf_addf(why, "journal file %" PRIu64 " has a frame at byte %zu that fails its check: %s; it and all after it are refused (kept as journal/%s*)",
					    nums[i], off, bad, REFUSED_PREFIX);
				refused = i;
				break;
			}
			off += FRAME_HDR + body;
		}
	}
	ret = replay_apply(&rp);
	if (ret)
		goto out;
	if (refused != SIZE_MAX)
		refuse_files(L, nums, n, refused);
	for (size_t i = 0; i < (refused == SIZE_MAX ? n : refused); i++)
		unlink_file(L, nums[i]);
	ret = sync_dir(&L->j);
	if (!ret)
		ret = refused != SIZE_MAX;
	log_info("%s: audit journal: %zu record(s) replayed from %zu file(s)", L->s->dir,
		 rp.nrecs, n);
out:
	for (size_t i = 0; bufs && i < n; i++)
		free(bufs[i]);
	free(bufs);
	free(nums);
	free(rp.recs);
	free(rp.cps);
	strbuf_release(&rp.plain);
	return ret;
}
