/*
 * store/stage.c - a file being written, and its commit as a new version.
 *
 * A stage is the base version's chunk map plus dirty extents whose bytes
 * sit in a sparse spill file (O_TMPFILE under STORE/staging, gone with
 * the last descriptor), so a 10 GiB write never sits in memory and a
 * crash leaves nothing to clean up. A byte reads from the newest of:
 * a dirty extent, the base below base_valid, else zero (what a truncate
 * down and up again leaves).
 *
 * Commit walks the new content once. At a position where a base chunk
 * starts that is untouched and still whole, the chunk is reused without
 * reading or hashing it; elsewhere the chunker runs over the stage's
 * bytes until its cuts land on such a position again. Cuts depend only on
 * the bytes of the chunk they end (store/chunker.h), so reused chunks are
 * the ones a full re-chunk would find, and appending a line to a 1 GiB
 * file re-hashes its last chunk, not the gigabyte.
 *
 * Most files are written front to back (cp, dd, ETL output, a temp file
 * then rename), and for them the spill file is a detour: every byte is
 * written, read back and only then hashed. So while writes extend the
 * content strictly in order from a point where a commit would start
 * chunking anyway (the start of the base chunk holding the old end, or
 * 0 after a truncate to 0), they skip the spill file and go down a chunk
 * pipe (store/chunk_pipe.c): chunks are cut, hashed and stored as they
 * complete, on a second thread, and only the bytes after the last cut
 * stay in memory. The commit then chunks that tail and writes its batch.
 * The content is the same either way, chunk for chunk. The first write
 * out of order, truncate or read ends the sequential run: the chunks
 * stored so far become the stage's base (they are whole chunks that
 * end at cuts, so the commit reuses them like a version's) and the tail
 * goes to the spill file.
 *
 * Chunks stored ahead of the commit carry no refs row until it: a crash
 * before it leaves the file at its old version, and the chunk writer
 * deletes what an abandoned stage stored (store/chunk_writer.c).
 */
#include "common/alloc.h"
#include "store/commit_mark.h"
#include "store/content.h"
#include "store/crypt_store.h"
#include "store/internal.h"
#include "store/limits.h"
#include "store/stage_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

/* ---- dirty extents ---- */

static void ext_insert(struct store_stage *st, uint64_t off, uint64_t end)
{
	size_t i = ext_first_reaching(st, off), j = i;

	while (j < st->n_ext && st->ext[j].off <= end)
		j++;
	if (i < j) {
		if (st->ext[i].off < off)
			off = st->ext[i].off;
		if (st->ext[j - 1].end > end)
			end = st->ext[j - 1].end;
		memmove(st->ext + i + 1, st->ext + j, (st->n_ext - j) * sizeof(*st->ext));
		st->n_ext -= j - i - 1;
	} else {
		ALLOC_GROW(st->ext, st->n_ext + 1, st->ext_alloc);
		memmove(st->ext + i + 1, st->ext + i, (st->n_ext - i) * sizeof(*st->ext));
		st->n_ext++;
	}
	st->ext[i].off = off;
	st->ext[i].end = end;
}

static void ext_cut(struct store_stage *st, uint64_t size)
{
	while (st->n_ext && st->ext[st->n_ext - 1].off >= size)
		st->n_ext--;
	if (st->n_ext && st->ext[st->n_ext - 1].end > size)
		st->ext[st->n_ext - 1].end = size;
}

/* ---- the spill file ---- */

/* The spill file's sealing: the pool's cipher, or tags only in a plain pool. */
static enum crypt_cipher spill_cipher(const struct store_stage *st)
{
	return st->s->crypt ? crypt_cipher_of(st->s->crypt->k) : CRYPT_PLAIN;
}

static int spill_open(struct store_stage *st)
{
	struct strbuf path = STRBUF_INIT;
	int ret = 0;

	strbuf_addf(&path, "%s/staging", store_dir(st->s));
	if (mkdir(path.buf, 0700) && errno != EEXIST) {
		ret = -errno;
		goto out;
	}
	st->fd = open(path.buf, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (st->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
		strbuf_addstr(&path, "/spill-XXXXXX");
		st->fd = mkostemp(path.buf, O_CLOEXEC);
		if (st->fd >= 0 && unlink(path.buf)) {
			ret = -errno;
			close(st->fd);
			st->fd = -1;
			goto out;
		}
	}
	if (st->fd < 0)
		ret = -errno;
	/*
	 * A key per stage that never leaves memory: the file dies with the
	 * handle (O_TMPFILE) and is noise after a crash. Each 4 KiB block is
	 * sealed on its own, its tag kept in memory (crypt_scratch_seal), so
	 * a byte changed in the file while the writer works is EIO to it,
	 * never a wrong byte in the commit; a plain pool's file stays plain
	 * and gets the tags only.
	 */
	if (!ret && !st->scratch)
		ret = crypt_scratch_new(spill_cipher(st), &st->scratch);
out:
	if (ret)
		log_err("%s/staging: cannot make a spill file: %s", store_dir(st->s),
			strerror(-ret));
	strbuf_release(&path);
	return ret;
}

#define SPILL_BLOCK	CRYPT_SCRATCH_BLOCK
#define SPILL_PIECE	(1u << 20)	/* a multiple of SPILL_BLOCK */

/*
 * Blocks [b, b + n) of the spill file into buf, checked and opened; a
 * block never written reads as zeros (past the file's end, or a hole).
 */
static int spill_blocks_read(struct store_stage *st, uint8_t *buf, uint64_t b, size_t n)
{
	size_t len = n * SPILL_BLOCK, got = 0;
	ssize_t r;
	int ret;

	while (got < len) {
		r = pread(st->fd, buf + got, len - got, (off_t)(b * SPILL_BLOCK + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			break;
		got += (size_t)r;
	}
	memset(buf + got, 0, len - got);
	for (size_t i = 0; i < n; i++) {
		ret = crypt_scratch_open(st->scratch, b + i, buf + i * SPILL_BLOCK);
		if (ret == 1) {
			memset(buf + i * SPILL_BLOCK, 0, SPILL_BLOCK);
		} else if (ret) {
			log_err("%s/staging: inode %llu: spill block at %llu fails its check "
				"(changed on disk)", store_dir(st->s), (unsigned long long)st->ino,
				(unsigned long long)((b + i) * SPILL_BLOCK));
			return -EIO;
		}
	}
	return 0;
}

/* Writes len bytes at off to the spill file, sealing whole blocks (partial ones read first). */
static int spill_write(struct store_stage *st, const uint8_t *buf, size_t len, uint64_t off)
{
	uint8_t *tmp;
	int ret = 0;

	if (!len)
		return 0;
	tmp = xmalloc(SPILL_PIECE);
	while (len && !ret) {
		uint64_t b = off / SPILL_BLOCK, skip = off % SPILL_BLOCK;
		size_t n = len < SPILL_PIECE - skip ? len : (size_t)(SPILL_PIECE - skip);
		size_t nb = (size_t)((skip + n + SPILL_BLOCK - 1) / SPILL_BLOCK);

		if (skip)
			ret = spill_blocks_read(st, tmp, b, 1);
		if (!ret && (skip + n) % SPILL_BLOCK && (nb > 1 || !skip))
			ret = spill_blocks_read(st, tmp + (nb - 1) * SPILL_BLOCK, b + nb - 1, 1);
		if (ret)
			break;
		memcpy(tmp + skip, buf, n);
		for (size_t i = 0; i < nb && !ret; i++)
			ret = crypt_scratch_seal(st->scratch, b + i, tmp + i * SPILL_BLOCK);
		if (!ret)
			ret = store_pwrite_full(st->fd, tmp, nb * SPILL_BLOCK, b * SPILL_BLOCK);
		buf += n;
		off += n;
		len -= n;
	}
	free(tmp);
	return ret;
}

static int spill_read(struct store_stage *st, uint8_t *buf, size_t len, uint64_t off)
{
	uint8_t *tmp;
	int ret = 0;

	if (!len)
		return 0;
	tmp = xmalloc(SPILL_PIECE);
	while (len && !ret) {
		uint64_t b = off / SPILL_BLOCK, skip = off % SPILL_BLOCK;
		size_t n = len < SPILL_PIECE - skip ? len : (size_t)(SPILL_PIECE - skip);

		ret = spill_blocks_read(st, tmp, b, (size_t)((skip + n + SPILL_BLOCK - 1) /
							    SPILL_BLOCK));
		if (!ret)
			memcpy(buf, tmp + skip, n);
		buf += n;
		off += n;
		len -= n;
	}
	free(tmp);
	return ret;
}

/* Ends the spill file at size (whole blocks: the one holding size keeps its tag). */
static int spill_truncate(struct store_stage *st, uint64_t size)
{
	uint64_t nb = (size + SPILL_BLOCK - 1) / SPILL_BLOCK;

	if (st->scratch)
		crypt_scratch_forget(st->scratch, nb);
	return ftruncate(st->fd, (off_t)(nb * SPILL_BLOCK)) ? -errno : 0;
}

/* ---- the stage ---- */

int store_stage_open(struct store *s, uint64_t ino, struct store_stage **out)
{
	struct store_stage *st;
	int ret;

	*out = NULL;
	if (s->flags & STORE_OPEN_RDONLY)
		return -EROFS;
	st = xcalloc(1, sizeof(*st));
	/* a commit joins the base's list to the new chunks: all of it, at once */
	ret = content_open_whole(s, ino, &st->base);
	if (ret) {
		free(st);
		return ret;
	}
	st->s = s;
	st->ino = ino;
	st->size = st->base_valid = store_content_size(st->base);
	st->fd = -1;
	*out = st;
	return 0;
}

void store_stage_close(struct store_stage *st)
{
	if (!st)
		return;
	chunk_pipe_free(st->pipe);
	chunk_list_release(&st->seq_done);
	chunk_writer_free(st->cw, false);
	if (st->fd >= 0)
		close(st->fd);
	crypt_scratch_free(st->scratch);
	store_content_close(st->base);
	free(st->ext);
	free(st);
}

uint64_t store_stage_size(const struct store_stage *st)
{
	return st->size;
}

bool store_stage_dirty(const struct store_stage *st)
{
	return st->dirty;
}

/* ---- the sequential run ---- */

static void stage_cw(struct store_stage *st)
{
	if (!st->cw)
		st->cw = chunk_writer_new(st->s);
}

/*
 * Starts a run at the end of the content, which must be the base's bytes
 * (no extents, no zeros past base_valid), unless the content ends in a
 * hole (st->pipe stays NULL then). The run starts where a commit
 * would start chunking: at the end itself when a base chunk that is not
 * the last ends there (its end is a cut), else at the start of the base
 * chunk holding the end, whose bytes up to the end go down the pipe first.
 */
static int seq_begin(struct store_stage *st)
{
	const struct chunk_list *base = content_chunks(st->base);
	uint64_t end = st->size, start = 0;
	uint8_t *head = NULL;
	ssize_t n;
	size_t i = 0;
	int ret;

	if (end) {
		i = chunk_list_find(base, end - 1);
		/* after a hole the spill path writes: it cuts the hole where the data starts */
		if (base->v[i].hole)
			return 0;
		start = base->v[i].off;
		/* a chunk cut short by a hole after it ends at no content cut */
		if (base->v[i].off + base->v[i].len == end && i + 1 < base->n &&
		    !base->v[i + 1].hole) {
			start = end;
			i++;
		}
	}
	stage_cw(st);
	st->pipe = chunk_pipe_new(st->cw, &st->seq_done);
	st->seq_base = i;
	if (start == end)
		return 0;
	head = xmalloc((size_t)(end - start));
	n = store_content_read(st->base, head, (size_t)(end - start), start);
	ret = n < 0 ? (int)n : (uint64_t)n != end - start ? -EIO : 0;
	if (!ret)
		ret = chunk_pipe_write(st->pipe, head, (size_t)(end - start));
	if (ret) {
		chunk_pipe_free(st->pipe);
		st->pipe = NULL;
		chunk_list_release(&st->seq_done);
	}
	free(head);
	return ret;
}

/* The base chunks before the run, then the ones the pipe stored; into l. */
static void seq_list(struct store_stage *st, struct chunk_list *l)
{
	const struct chunk_list *base = content_chunks(st->base);

	for (size_t i = 0; i < st->seq_base; i++)
		chunk_list_add(l, base->v[i].sha, base->v[i].len);
	for (size_t i = 0; i < st->seq_done.n; i++)
		chunk_list_add(l, st->seq_done.v[i].sha, st->seq_done.v[i].len);
}

static void seq_free(struct store_stage *st)
{
	chunk_pipe_free(st->pipe);
	st->pipe = NULL;
	chunk_list_release(&st->seq_done);
}

/*
 * Ends the run, for a write out of order, a truncate or a read: the
 * chunks stored so far become the base (readable once the writer's batch
 * is written) and the bytes after the last cut go to the spill file. A
 * failure leaves the run as it was.
 */
static int seq_end(struct store_stage *st)
{
	struct chunk_list l = CHUNK_LIST_INIT;
	struct chunk_stream *tail = chunk_pipe_stream(st->pipe);
	struct store_content *nb;
	uint8_t id[32];
	int ret;

	ret = chunk_pipe_drain(st->pipe);
	if (!ret)
		ret = chunk_writer_flush(st->cw);
	if (!ret && tail->len && st->fd < 0)
		ret = spill_open(st);
	if (ret)
		goto out;
	seq_list(st, &l);
	if (tail->len) {
		ret = spill_write(st, tail->buf, tail->len, l.size);
		if (ret)
			goto out;
	}
	store_content_id(st->base, id);
	nb = content_from_list(st->s, st->ino, store_content_version(st->base), &l, id);
	store_content_close(st->base);
	st->base = nb;
	st->base_valid = store_content_size(nb);
	if (tail->len)
		ext_insert(st, st->base_valid, st->base_valid + tail->len);
	seq_free(st);
out:
	chunk_list_release(&l);
	return ret;
}

int store_stage_write(struct store_stage *st, const void *buf, size_t len, uint64_t off)
{
	int ret;

	if (!len)
		return 0;
	if (off > STORE_MAX_FILE_SIZE || len > STORE_MAX_FILE_SIZE - off)
		return -EFBIG;
	if (st->pipe && off != st->size) {
		ret = seq_end(st);
		if (ret)
			return ret;
	}
	if (!st->pipe && off == st->size && !st->n_ext && st->base_valid == st->size) {
		ret = seq_begin(st);
		if (ret)
			return ret;
	}
	if (st->pipe) {
		ret = chunk_pipe_write(st->pipe, buf, len);
		if (ret)
			return ret;
		st->size += len;
		st->dirty = true;
		return 0;
	}
	if (st->fd < 0) {
		ret = spill_open(st);
		if (ret)
			return ret;
	}
	ret = spill_write(st, buf, len, off);
	if (ret)
		return ret;
	ext_insert(st, off, off + len);
	if (off + len > st->size)
		st->size = off + len;
	st->dirty = true;
	return 0;
}

int stage_read_at(struct store_stage *st, uint8_t *buf, size_t len, uint64_t off)
{
	uint64_t pos = off, stop = off + len, e;
	size_t i = ext_first_reaching(st, off + 1);
	ssize_t n;
	int ret;

	while (pos < stop) {
		uint8_t *dst = buf + (pos - off);

		if (i < st->n_ext && st->ext[i].off <= pos) {
			e = st->ext[i].end < stop ? st->ext[i].end : stop;
			ret = spill_read(st, dst, (size_t)(e - pos), pos);
			if (ret)
				return ret;
			pos = e;
			i++;
			continue;
		}
		e = i < st->n_ext && st->ext[i].off < stop ? st->ext[i].off : stop;
		if (pos < st->base_valid) {
			if (e > st->base_valid)
				e = st->base_valid;
			n = store_content_read(st->base, dst, (size_t)(e - pos), pos);
			if (n < 0)
				return (int)n;
			if ((uint64_t)n != e - pos)
				return -EIO;
		} else {
			memset(dst, 0, (size_t)(e - pos));
		}
		pos = e;
	}
	return 0;
}

ssize_t store_stage_read(struct store_stage *st, void *buf, size_t len, uint64_t off)
{
	int ret;

	if (off >= st->size)
		return 0;
	if (st->pipe) {
		ret = seq_end(st);
		if (ret)
			return ret;
	}
	if (len > st->size - off)
		len = (size_t)(st->size - off);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	ret = stage_read_at(st, buf, len, off);
	return ret ? ret : (ssize_t)len;
}

int store_stage_truncate(struct store_stage *st, uint64_t size)
{
	int ret;

	if (size > STORE_MAX_FILE_SIZE)
		return -EFBIG;
	if (size == st->size)
		return 0;
	if (st->pipe) {
		ret = seq_end(st);
		if (ret)
			return ret;
	}
	if (size < st->size) {
		/* gives the spill file's blocks back; the extents say what is valid */
		if (st->fd >= 0) {
			ret = spill_truncate(st, size);
			if (ret)
				return ret;
		}
		ext_cut(st, size);
		if (st->base_valid > size)
			st->base_valid = size;
	}
	st->size = size;
	st->dirty = true;
	return 0;
}

/* ---- commit ---- */

/* Writes l as the next version in one synced batch with its audit record. */
static int stage_link(struct store_stage *st, const struct chunk_list *l,
		      const struct store_writer *w, const struct audit_rec *audit,
		      uint64_t *version, uint8_t id[32])
{
	struct store *s = st->s;
	rocksdb_writebatch_t *b = rocksdb_writebatch_create();
	struct inode_rec r;
	struct audit_rec a;
	char mark[COMMIT_MARK_HEX + 1];
	uint8_t cid[32];
	bool audited = false;
	int ret;

	inode_rec_init(&r);
	pthread_mutex_lock(&s->lock);
	ret = inode_load(s, st->ino, &r);
	if (!ret && r.attr.type != STORE_REG)
		ret = -EINVAL;
	if (!ret)
		ret = version_add(s, b, &r, l, w, cid);
	if (!ret && id)
		memcpy(id, cid, 32);
	if (!ret && audit) {
		a = *audit;
		if (!a.version)
			a.version = r.attr.version;
		ret = commit_audit_mark(s, &a, &r, cid, mark);
		if (!ret)
			ret = audit_add(s, b, &a);
		audited = !ret;
	}
	if (!ret)
		ret = store_write(s, b, true);
	if (ret && audited)
		audit_rollback(s);
	pthread_mutex_unlock(&s->lock);
	if (!ret)
		*version = r.attr.version;
	inode_rec_release(&r);
	rocksdb_writebatch_destroy(b);
	return ret;
}

int store_stage_commit(struct store_stage *st, const struct store_writer *w,
		       const struct audit_rec *audit, uint64_t *version)
{
	struct chunk_list l = CHUNK_LIST_INIT;
	struct store_content *nb;
	uint8_t id[32];
	int ret;

	if (!st->dirty) {
		*version = store_content_version(st->base);
		return 0;
	}
	stage_cw(st);
	if (st->pipe) {

		ret = chunk_pipe_drain(st->pipe);
		if (!ret) {
			seq_list(st, &l);
			ret = chunk_stream_finish(chunk_pipe_stream(st->pipe), &l);
		}
		if (!ret && l.size != st->size) {
			log_err("%s: inode %llu: sequential write lost track of its size",
				store_dir(st->s), (unsigned long long)st->ino);
			ret = -EIO;
		}
	} else {
		ret = stage_chunk(st, st->cw, &l);
	}
	if (!ret)
		ret = chunk_writer_finish(st->cw);
	if (!ret)
		ret = stage_link(st, &l, w, audit, version, id);
	if (ret)
		goto out;

	nb = content_from_list(st->s, st->ino, *version, &l, id);

	store_content_close(st->base);
	st->base = nb;
	st->base_valid = st->size;
	st->n_ext = 0;
	st->dirty = false;
	seq_free(st);
	chunk_writer_free(st->cw, true);
	st->cw = NULL;
	if (st->fd >= 0 && ftruncate(st->fd, 0))
		log_warn("%s/staging: cannot empty a spill file: %s", store_dir(st->s),
			 strerror(errno));
	/* the next bytes at the same offsets get a key stream of their own */
	crypt_scratch_free(st->scratch);
	st->scratch = NULL;
	if (st->fd >= 0 && crypt_scratch_new(spill_cipher(st), &st->scratch)) {
		close(st->fd);
		st->fd = -1;
	}
out:
	chunk_list_release(&l);
	return ret;
}
