/*
 * fs/inode.h - the inode table (fs/inode.c): kernel node ids, their
 * entries and pins, virtual inodes, per-view and per-department aliases,
 * and the renames and orphans that redirect them. One lock: table_lock.
 */
#ifndef POOL_FS_INODE_H
#define POOL_FS_INODE_H

#include "fs/fs.h"

int fs_table_init(struct fs *fs);
/* Frees every entry; stages still open are closed uncommitted. */
void fs_table_release(struct fs *fs);
/*
 * Returns the entry of real inode ino, creating it, with one kernel
 * reference (lookup) or one pin (!lookup). NULL on out of memory.
 */
struct fs_inode *fs_inode_get(struct fs *fs, uint64_t ino, bool lookup);
/*
 * The kernel inode to show for store inode sino, with one kernel
 * reference: its own, unless that one stands for the file's previous
 * life (orphaned); then one that redirects to it (see fs_inode_end_name).
 */
struct fs_inode *fs_inode_get_live(struct fs *fs, uint64_t sino);
/*
 * fs_inode_get_live() for callers who see view vid of sino, or for the
 * callers of department class dept (fs_dept_kid) of a directory (both
 * 0: as the above): a kernel inode of theirs alone, redirecting to sino,
 * so the page cache, size, dentries and inotify watches the kernel keeps
 * per inode are one view's or one department's.
 */
struct fs_inode *fs_inode_get_view(struct fs *fs, uint64_t sino, uint32_t vid,
				   uint32_t dept);
/*
 * The department class directories' kernel inodes of callers of dept are
 * keyed by in a pool mount: a number standing for dept for the life of
 * the mount; 0 where every caller acts alike (allow_all, department
 * mounts). FS_VID_NONE when dept is "" or memory ran out: no inode.
 */
uint32_t fs_dept_kid(struct fs *fs, const char *dept);
/*
 * The inode number callers see for kernel inode ino: a keyed permutation,
 * so numbers say nothing about the order or count of creations.
 */
uint64_t fs_ino_public(const struct fs *fs, uint64_t ino);
/* Sets fs->ino_key from the pool's secret; before the loop. */
int fs_ino_key_init(struct fs *fs);
/*
 * Entry and attribute timeout for replies: the kernel's caches serve every
 * caller alike, so only a mount where every caller is answered alike
 * (allow_all) lets them keep anything.
 */
double fs_cache_timeout(const struct fs *fs);
/* The view kernel inode ino shows (its key's vid), 0 when none or unknown. */
uint32_t fs_inode_vid(struct fs *fs, uint64_t ino);
/*
 * Runs op(fs, parent, name, arg), a store operation that ends the name
 * parent/name of regular file a->ino (path: its pool path; a: its
 * attributes before), so that handles still open on the file keep it
 * to themselves (orphan.c), and marks the file's kernel inodes: those
 * the orphan took handles over from answer its size, the others keep
 * the version they showed; one marked before (a rename over it before)
 * stays as it was. The table lock is held from before op until they are
 * marked: a read-only open decides between what its kernel inode keeps
 * and the current version under that lock (fs_kinode_reader), so none
 * can open the name's new file on a kernel inode that stands for the
 * old one and still has its size.
 */
int fs_inode_end_name(struct fs *fs, const struct store_attr *a, const char *path,
		      int (*op)(struct fs *, uint64_t, const char *, void *),
		      uint64_t parent, const char *name, void *arg);
/* The version kernel inode ino keeps (kinode.h), 0 if the current. */
uint64_t fs_inode_kversion(struct fs *fs, uint64_t ino);
/* The orphan of kernel inode ino with a reference, or NULL. */
struct fs_orphan *fs_inode_orphan(struct fs *fs, uint64_t ino);
/* The entry of ino pinned, or NULL when the table has none. */
struct fs_inode *fs_inode_find(struct fs *fs, uint64_t ino);
/* The entry of kernel inode ino, or NULL; caller holds fs->table_lock. */
struct fs_inode *fs_table_find(struct fs *fs, uint64_t ino);
/*
 * The rnext chain that holds every table entry redirecting to sino (with
 * others: check k->redirect == sino). One chain per target, not one list
 * of all, so a lookup of a masked file (an alias per view) costs the
 * file's own aliases, not every alias the mount made. Table lock held.
 */
struct fs_inode *fs_redirects(struct fs *fs, uint64_t sino);
/* The virtual inode for key (path: its pool path), as fs_inode_get. */
struct fs_inode *fs_vnode_get(struct fs *fs, const struct fs_vkey *key,
			      const char *path, bool lookup);
void fs_inode_put(struct fs *fs, struct fs_inode *n);
void fs_inode_forget(struct fs *fs, uint64_t ino, uint64_t nlookup);
/* Records that store inode to now stands where the file of ino stood. */
void fs_inode_redirect(struct fs *fs, uint64_t ino, uint64_t to);
/*
 * The kernel node ids showing store inode sino (its own and aliases);
 * *out is malloc'd, caller frees.
 */
void fs_inode_views(struct fs *fs, uint64_t sino, uint64_t **out, size_t *n);
/* Drops the kernel caches of every kernel inode showing store inode sino. */
void fs_invalidate_sino(struct fs *fs, uint64_t sino);
/* The kernel node ids in the table; *out is malloc'd, caller frees. */
void fs_inode_list(struct fs *fs, uint64_t **out, size_t *n);

/* Calls fn on every entry; the table lock is held. */
void fs_inode_each(struct fs *fs, void (*fn)(struct fs *, struct fs_inode *));

#endif
