/*
 * fs/view_defer.h - records of view builds held back to the end of the
 * request that caused them, so that one request building many views
 * (a readdirplus reply sizes every masked file it lists) makes their
 * audit records durable in one synced write rather than one each.
 *
 * Between fs_view_defer_begin() and fs_view_defer_end() on one thread,
 * each view build that thread runs queues its view.build record in df
 * instead of writing it. fs_view_defer_end() writes them all as one
 * group; the request must not reply with anything those builds told it
 * (sizes) unless it returns 0: the records are durable before the
 * request returns, as DESIGN "Audit" asks of every record.
 */
#ifndef POOL_FS_VIEW_DEFER_H
#define POOL_FS_VIEW_DEFER_H

#include "fs/fs.h"

/* A view.build record; queued, it owns a copy of path. */
struct view_defer_rec {
	char *path;
	struct policy_decision d;
	char fp[65];			/* the view's fingerprint, hex */
	int err;
	uint64_t version, bytes;
};

struct fs_view_defer {
	struct view_defer_rec *v;
	size_t n, alloc;
	struct fs_view_defer *prev;	/* an outer deferral on this thread */
};

void fs_view_defer_begin(struct fs_view_defer *df);
/* Writes the queued records and ends the deferral; 0 or -EIO (logged). */
int fs_view_defer_end(struct fs *fs, struct fs_view_defer *df);

/*
 * For fs/view.c's builds: queues rec (copying its path) under this
 * thread's deferral, or writes it now when there is none. 0 or -EIO
 * (logged) when a record written now was not.
 */
int fs_view_defer_record(struct fs *fs, const struct view_defer_rec *rec);

#endif
