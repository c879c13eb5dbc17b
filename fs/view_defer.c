/*
 * fs/view_defer.c - view.build audit records held back to the end of a
 * request (fs/view_defer.h). The deferral is per thread because a
 * request runs on one thread from its start to its reply; a nested one
 * keeps the outer deferral on prev.
 */
#include "common/alloc.h"
#include "fs/view_defer.h"
#include "fs/access.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

static __thread struct fs_view_defer *defer_cur;

void fs_view_defer_begin(struct fs_view_defer *df)
{
	memset(df, 0, sizeof(*df));
	df->prev = defer_cur;
	defer_cur = df;
}

/* Writes recs as one group: one synced journal write for all of them. */
static int records_write(struct fs *fs, const struct view_defer_rec *recs, size_t n)
{
	struct audit_rec *r;
	struct fs_who w;
	size_t done = 0;
	int err;

	if (!n)
		return 0;
	memset(&w, 0, sizeof(w));
	snprintf(w.comm, sizeof(w.comm), "poolfs");
	r = xcalloc(n, sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		fs_audit_rec(&r[i], &w, "view.build", recs[i].path, recs[i].err, &recs[i].d);
		r[i].view = recs[i].fp;
		r[i].version = recs[i].version;
		r[i].bytes = recs[i].bytes;
	}
	err = audit_append_many(fs->store, r, n, &done);
	if (err < 0)
		log_err("audit records of %zu view builds (\"%s\" first) not written: %s",
			n - done, recs[done < n ? done : 0].path, strerror(-err));
	free(r);
	return err < 0 ? -EIO : 0;
}

int fs_view_defer_end(struct fs *fs, struct fs_view_defer *df)
{
	int err = records_write(fs, df->v, df->n);

	for (size_t i = 0; i < df->n; i++)
		free(df->v[i].path);
	free(df->v);
	defer_cur = df->prev;
	memset(df, 0, sizeof(*df));
	return err;
}

int fs_view_defer_record(struct fs *fs, const struct view_defer_rec *rec)
{
	struct view_defer_rec *q;

	if (!defer_cur)
		return records_write(fs, rec, 1);
	ALLOC_GROW(defer_cur->v, defer_cur->n + 1, defer_cur->alloc);
	q = &defer_cur->v[defer_cur->n++];
	*q = *rec;
	q->path = xstrdup(rec->path);
	return 0;
}
