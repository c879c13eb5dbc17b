/*
 * fs/dirbuf.h - a directory listing as the daemon builds it for
 * opendir (fs/dirbuf.c), and pool-path joining. Depends on nothing
 * else in fs/.
 */
#ifndef POOL_FS_DIRBUF_H
#define POOL_FS_DIRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/strbuf.h"

struct fs_inode;

struct fs_dirent {
	char *name;
	uint64_t ino;			/* 0 when only a lookup can tell */
	uint32_t type;			/* enum store_ftype */
	bool hidden;			/* no longer the caller's to look up */
};

struct fs_dir {
	struct fs_inode *node;		/* pinned */
	struct strbuf path;
	struct fs_dirent *ents;		/* ".", "..", then the listing at opendir */
	size_t n, alloc;
	bool unlisted;			/* the mount root opened by one who runs the
					 * mount without a list right: no names */
	int action;			/* enum policy_action opendir decided */
	unsigned long policy_gen;	/* the policy the names were decided on */
	time_t decided;			/* the second of the last list decision */
};

/* Appends an entry (name copied) to d's listing; returns 0. */
int fs_dir_add(struct fs_dir *d, const char *name, uint64_t ino, uint32_t type);
/* Frees d, its entries and path; the caller has unpinned d->node. */
void fs_dir_free(struct fs_dir *d);
/* Appends dir "/" name to out, with one "/" between them. */
void fs_path_join(struct strbuf *out, const char *dir, const char *name);

#endif
