/*
 * store/path_cache.h - the pool paths of directories, remembered.
 *
 * store_path() walks a node's parents one inode record at a time: four
 * point reads for a file four directories deep, at every lookup,
 * getattr and open of a pool mount (whose kernel asks for every path
 * component again: its timeouts are 0). A directory's path changes only
 * by a rename or rmdir (store/tree.c), which call path_cache_moved()
 * after their batch is written; that drops every remembered path. A
 * reader takes the generation before its reads and path_cache_put()
 * keeps its path only if no move was written since, so a path read
 * across a move is never kept.
 */
#ifndef POOL_STORE_PATH_CACHE_H
#define POOL_STORE_PATH_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"

struct path_cache;

struct path_cache *path_cache_new(void);
void path_cache_free(struct path_cache *c);
/* The generation to pass to path_cache_put(), taken before reading. */
uint64_t path_cache_gen(struct path_cache *c);
/* Appends the path of directory ino to out; false when not remembered. */
bool path_cache_get(struct path_cache *c, uint64_t ino, struct strbuf *out);
void path_cache_put(struct path_cache *c, uint64_t gen, uint64_t ino, const char *path,
		    size_t len);
/* A rename or rmdir was written: every remembered path may be stale. */
void path_cache_moved(struct path_cache *c);

#endif
