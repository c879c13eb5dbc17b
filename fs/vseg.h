/*
 * fs/vseg.h - views served in segments: a masked view larger than the
 * view cache budget is never stored whole; a small map of matching
 * source and view offsets at record boundaries, computed by the build's
 * full pass and kept in the view cache, lets any segment be produced on
 * demand (docs/desensitization.md "Views in segments").
 *
 * Fail closed: a map that does not fit its source, or a segment that
 * does not come out the size its map says, is -EIO with a reason in e,
 * never bytes of another segment or raw bytes.
 */
#ifndef POOL_FS_VSEG_H
#define POOL_FS_VSEG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "policy/desens/desens.h"

struct fs;
struct policy;

/* ---- the map, made during a build's full pass (fs/view.c; fs/vseg_map.c) ---- */

struct vseg_builder {
	uint64_t step;			/* least source bytes per segment */
	uint64_t *b;			/* per boundary: source off, view off, line */
	size_t n, alloc;		/* boundaries, the first at 0 */
};

/* Starts a map whose segments suit a view cache budget of budget bytes. */
void vseg_builder_init(struct vseg_builder *m, uint64_t budget);
/* Bytes of source to feed the engine at a time, so boundaries fall near step. */
size_t vseg_builder_feed(const struct vseg_builder *m);
/* After a feed whose output was view_off bytes in all: maybe a boundary. */
void vseg_builder_note(struct vseg_builder *m, const struct desens *d, uint64_t view_off);
/*
 * The map of a whole pass (src_size bytes in, view_size out) into out.
 * -EFBIG with the reason in e when d's format cannot be cut.
 */
int vseg_builder_finish(struct vseg_builder *m, const struct desens *d, uint64_t src_size,
			uint64_t view_size, struct strbuf *out, struct perr *e);
void vseg_builder_release(struct vseg_builder *m);

/* The view size a map records; -EIO when map is not one. */
int vseg_map_size(const void *map, size_t len, uint64_t *size);
/*
 * The figures of map: its source and view sizes, its body, and its *np
 * boundaries, three figures each (source off, view off, line), in *bp
 * (left as it was until they are read; free() it, whatever the result).
 * -EIO unless every figure fits the others.
 */
int vseg_map_load(const struct strbuf *map, uint64_t *src_size, uint64_t *view_size,
		  uint64_t *body, uint64_t **bp, size_t *np);

/* ---- reading ---- */

struct fs_vseg;			/* an open segmented view; thread-safe */

/*
 * Opens the view of rules r (of policy p, held until close) of version
 * version of store inode sino, whose content id is cid and whose map is
 * map. -EIO when the map does not fit the version.
 */
int fs_vseg_open(struct fs *fs, struct policy *p, const struct view_rules *r, uint64_t sino,
		 uint64_t version, const uint8_t cid[32], const struct strbuf *map,
		 struct fs_vseg **out, struct perr *e);
uint64_t fs_vseg_size(const struct fs_vseg *v);
/* pread() of the view: bytes read, or -EIO with the reason in e. */
ssize_t fs_vseg_read(struct fs_vseg *v, void *buf, size_t size, uint64_t off, struct perr *e);

/* The bytes of one read, in order, in the segments themselves (read-only). */
struct fs_vseg_iov {
	struct iovec *iov;
	void **segs;			/* held, one per iov */
	size_t n, alloc, ialloc;
};

#define FS_VSEG_IOV_INIT { NULL, NULL, 0, 0, 0 }

/*
 * As fs_vseg_read(), into rv (empty) without copying: the count (0 at
 * the end) or -EIO. Release rv in either case.
 */
ssize_t fs_vseg_readv(struct fs_vseg *v, struct fs_vseg_iov *rv, size_t size, uint64_t off,
		      struct perr *e);
void fs_vseg_iov_release(struct fs_vseg_iov *rv);
void fs_vseg_close(struct fs_vseg *v);

/* Stops the read-ahead worker and frees cached segments; at unmount. */
void fs_vsegs_stop(void);

#endif
