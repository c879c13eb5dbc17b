/*
 * store/audit_ingest.c - the ingester: the thread that writes journaled
 * groups of audit records into RocksDB without the WAL, and the drain
 * that whatever reads the audit family (or commits a batch that carries
 * a record) runs first, so it sees every record journaled so far. The
 * group commit that feeds it is store/audit.c's; the journal that keeps
 * the records until they are in the tables is store/audit_journal.c.
 *
 * Lock order as in store/audit.c: s->lock, then log->mu; the write
 * itself holds neither.
 */
#include "common/alloc.h"
#include "store/audit_int.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "common/codec.h"
#include "common/log.h"
#include "store/status.h"

uint64_t audit_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void audit_put_cp(struct audit_log *L, rocksdb_writebatch_t *b, const struct audit_seals *sl)
{
	uint8_t key[AUDIT_CP_KEY_LEN];

	audit_cp_key(key, sl->seq);
	rocksdb_writebatch_put_cf(b, L->s->cf[CF_META], (const char *)key, sizeof(key),
				  (const char *)sl->cp, sizeof(sl->cp));
}

void audit_put_head(struct audit_log *L, rocksdb_writebatch_t *b, const struct audit_seals *sl)
{
	rocksdb_writebatch_put_cf(b, L->s->cf[CF_META], AUDIT_META_HEAD,
				  strlen(AUDIT_META_HEAD), (const char *)sl->head,
				  sizeof(sl->head));
}

void audit_put_record(struct audit_log *L, rocksdb_writebatch_t *b, uint64_t seq,
		      const char *value, size_t len)
{
	uint8_t key[8];

	put_be64(key, seq);
	rocksdb_writebatch_put_cf(b, L->s->cf[CF_AUDIT], (const char *)key, sizeof(key),
				  value, len);
}

static bool ingest_due(const struct audit_log *L)
{
	return L->njrec > 0;
}

void audit_ingest_push(struct audit_log *L, struct audit_pending *p, size_t n,
		       const struct audit_seals *sl)
{
	ALLOC_GROW(L->jrec, L->njrec + n, L->ajrec);
	if (sl->has_cp)
		ALLOC_GROW(L->jcp, L->njcp + 1, L->ajcp);
	if (!L->njrec)
		L->jsince = audit_mono_ns();
	memcpy(L->jrec + L->njrec, p, n * sizeof(*p));
	L->njrec += n;
	if (sl->has_cp)
		L->jcp[L->njcp++] = *sl;
	L->jhead = *sl;
	/*
	 * A wakeup per group cost an audited open more than its RocksDB
	 * write: the ingester hears of the first group (and sets its timer)
	 * and of a full batch, not of every group.
	 */
	if (L->njrec == n || L->njrec >= AUDIT_INGEST_BATCH)
		pthread_cond_signal(&L->icond);
}

void audit_ingest_kick(struct audit_log *L)
{
	if (ingest_due(L))
		pthread_cond_signal(&L->icond);
}

/* ---- the ingester: journaled records into RocksDB ---- */

/*
 * Writes the journaled records, checkpoints and head into RocksDB as one
 * batch without the WAL (the journal keeps them until the tables do).
 * Called with mu held, records due and no ingest in flight; drops mu for
 * the write. Returns the last seq written.
 */
static uint64_t ingest_batch(struct audit_log *L)
{
	struct audit_pending *p = L->jrec;
	size_t n = L->njrec, ncp = L->njcp;
	struct audit_seals *cps = L->jcp, head = L->jhead;
	rocksdb_writebatch_t *b;
	char *err = NULL;
	int ret;

	L->jrec = NULL;
	L->njrec = L->ajrec = 0;
	L->jcp = NULL;
	L->njcp = L->ajcp = 0;
	L->ingesting = true;
	pthread_mutex_unlock(&L->mu);

	b = rocksdb_writebatch_create();
	for (size_t i = 0; i < n; i++) {
		audit_put_record(L, b, p[i].seq, p[i].value, p[i].len);
		free(p[i].value);
	}
	for (size_t i = 0; i < ncp; i++)
		audit_put_cp(L, b, &cps[i]);
	audit_put_head(L, b, &head);
	/*
	 * Once one batch could not go in, none after it may (a gap);
	 * they stay in the journal, which the next open replays.
	 */
	ret = __atomic_load_n(&L->broken, __ATOMIC_RELAXED) ? -EIO : store_failed(L->s);
	if (!ret)
		rocksdb_write(L->s->db, L->nowal, b, &err);
	rocksdb_writebatch_destroy(b);
	free(p);
	free(cps);
	if (err) {
		log_err("%s: audit log: records up to %llu cannot reach the store: %s",
			L->s->dir, (unsigned long long)head.seq, err);
		ret = store_fail(L->s, -EIO, err);
		rocksdb_free(err);
	}

	pthread_mutex_lock(&L->mu);
	L->ingesting = false;
	if (ret)
		L->broken = ret;
	else
		L->ingested = head.seq;
	pthread_cond_broadcast(&L->cond);
	return head.seq;
}

/* Files a batch emptied wait for the ingester; caller holds mu. */
static bool retire_due(const struct audit_log *L)
{
	return !L->broken && audit_journal_retirable(L, L->ingested);
}

static void *ingest_main(void *arg)
{
	struct audit_log *L = arg;
	uint64_t last;

	pthread_mutex_lock(&L->mu);
	for (;;) {
		/* a batch waits for more until it is full, old or wanted */
		while (!L->stopping && !retire_due(L) &&
		       !(ingest_due(L) && (L->njrec >= AUDIT_INGEST_BATCH || L->drainers))) {
			uint64_t due = L->jsince + AUDIT_INGEST_NS;
			struct timespec ts = { (time_t)(due / 1000000000u),
					       (long)(due % 1000000000u) };

			if (!ingest_due(L))
				pthread_cond_wait(&L->icond, &L->mu);
			else if (audit_mono_ns() >= due)
				break;
			else
				pthread_cond_timedwait(&L->icond, &L->mu, &ts);
		}
		if (!ingest_due(L)) {
			/* drainers wrote every batch: the files they emptied go from here */
			if (L->stopping || !retire_due(L))
				break;
			last = L->ingested;
		} else if (L->ingesting) {
			/* a drainer may have taken the batch while this thread woke */
			pthread_cond_wait(&L->cond, &L->mu);
			continue;
		} else {
			last = ingest_batch(L);
		}
		/* once a batch failed, a file may hold records only the journal has */
		if (!L->broken) {
			pthread_mutex_unlock(&L->mu);
			audit_journal_retire(L, last);
			pthread_mutex_lock(&L->mu);
		}
	}
	pthread_mutex_unlock(&L->mu);
	return NULL;
}

int audit_ingest_start(struct audit_log *L)
{
	int ret;

	L->nowal = rocksdb_writeoptions_create();
	rocksdb_writeoptions_disable_WAL(L->nowal, 1);
	ret = pthread_create(&L->ingester, NULL, ingest_main, L);
	if (ret)
		return -ret;
	L->has_ingester = true;
	return 0;
}

void audit_ingest_stop(struct audit_log *L)
{
	if (L->has_ingester) {
		pthread_mutex_lock(&L->mu);
		L->stopping = true;
		pthread_cond_signal(&L->icond);
		pthread_mutex_unlock(&L->mu);
		pthread_join(L->ingester, NULL);
		L->has_ingester = false;
	}
	if (L->nowal)
		rocksdb_writeoptions_destroy(L->nowal);
	L->nowal = NULL;
}

/*
 * A drainer (a commit, a query) writes what is due
 * itself rather than wake the ingester and wait for it: one thread
 * switch less in front of every commit. The files it empties are
 * retired by the ingester.
 */
int audit_drained(struct audit_log *L)
{
	L->drainers++;
	while (!L->broken && (ingest_due(L) || L->ingesting)) {
		if (L->ingesting || !L->has_ingester)
			pthread_cond_wait(&L->cond, &L->mu);
		else
			ingest_batch(L);
	}
	L->drainers--;
	/* files are retired by the ingester, off the drainer's path */
	if (retire_due(L))
		pthread_cond_signal(&L->icond);
	return L->broken ? -EIO : 0;
}

void audit_set_flush_hook(struct store *s, void (*fn)(void *arg), void *arg)
{
	s->audit_flush_arg = arg;
	s->audit_flush = fn;
}

int audit_drain(struct store *s)
{
	struct audit_log *L = audit_log_of(s);
	int ret;

	/* records a caller keeps to write later come first: reads see them too */
	if (s->audit_flush)
		s->audit_flush(s->audit_flush_arg);
	if (!L)
		return 0;
	pthread_mutex_lock(&L->mu);
	ret = audit_drained(L);
	pthread_mutex_unlock(&L->mu);
	return ret;
}
