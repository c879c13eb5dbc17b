/*
 * fs/kinode.h - which kernel inode a handle reads through, so that the
 * kernel's per-inode page cache and i_size are right for every handle
 * that uses them (docs/filesystem.md "Readers, writers and kernel inodes").
 *
 * The kernel keeps one page cache, one i_size and one set of attributes
 * per kernel inode, answers fstat() from them without saying which
 * descriptor asks, and sets i_size from a short read. So every handle on
 * one kernel inode must see the same bytes. A raw file's kernel inode is
 * either live (what the name shows: the stage while written, else the
 * current version; writers and readers that follow the stage) or kept
 * (one version, to readers that opened it before it changed). A reader
 * that opens a live kernel inode while nobody writes keeps the version
 * it opened; before a writer or a truncate by path changes the file,
 * fs_kinode_claim() makes every live kernel inode with readers kept.
 */
#ifndef POOL_FS_KINODE_H
#define POOL_FS_KINODE_H

#include "fs/fs.h"

/*
 * Before writer or truncate by path on kernel inode kino changes node n
 * (no lock held): when nobody writes yet, readers of n on a live kernel
 * inode keep the current version there, and that kernel inode becomes
 * kept. -ESTALE when kino is (now) kept: the kernel looks the name up
 * again and retries on the live one (open, truncate); another errno
 * when a reader's version could not be kept (nothing changed then).
 */
int fs_kinode_claim(struct fs *fs, struct fs_inode *n, uint64_t kino);
/*
 * For a read-only open of n on kernel inode kino: locks n (returned
 * locked) and says whether kino is kept (*sino, *version: what it keeps;
 * after a rename the store inode may be another than n's).
 */
bool fs_kinode_reader(struct fs *fs, struct fs_inode *n, uint64_t kino, uint64_t *sino,
		      uint64_t *version);
/*
 * After store inode sino got a new current version no writer made
 * (restore): live kernel inodes whose readers keep an older one become
 * kept. Returns the number that did.
 */
size_t fs_kinode_changed(struct fs *fs, uint64_t sino);
/*
 * Runs op(arg), a store operation that gives store inode sino a new
 * current version no writer made (restore), and in the same step under
 * the table lock makes every live kernel inode of sino kept with what it
 * showed (unless a writing is under way: its readers follow the stage).
 * A read-only open decides between kept and current under that lock
 * (fs_kinode_reader), so none gets the new version on a kernel inode
 * whose size the kernel has from the old one. *count: how many became
 * kept (the name needs a new lookup then). Returns op's result.
 */
int fs_kinode_change(struct fs *fs, uint64_t sino, int (*op)(void *), void *arg,
		     size_t *count);

/* What kernel inode ino shows (no handle named): see fs_inode. */
struct fs_kinode_state {
	bool kept;
	bool gone;
	uint64_t version;		/* when kept; 0: empty */
	struct fs_kept_attr attr;	/* when kept */
};
void fs_kinode_state(struct fs *fs, uint64_t ino, struct fs_kinode_state *st);

/*
 * Makes follower fh (on n, locked) keep version from now on (0: empty).
 * 0 or a negative errno (fh unchanged).
 */
int fs_file_keep(struct fs *fs, struct fs_inode *n, struct fs_file *fh, uint64_t version);
static inline bool fs_file_follows(const struct fs_file *fh)
{
	return __atomic_load_n(&fh->follow_stage, __ATOMIC_ACQUIRE);
}

/* Whether o took over handles opened on kernel inode kino (orphan.c). */
bool fs_orphan_serves(struct fs_orphan *o, uint64_t kino);

#endif
