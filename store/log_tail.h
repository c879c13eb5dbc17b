/*
 * store/log_tail.h - what the store holds past the end of its audit log
 * (store/log_tail.c), for `audit verify`. Internal to store/.
 */
#ifndef POOL_STORE_LOG_TAIL_H
#define POOL_STORE_LOG_TAIL_H

#include <stddef.h>
#include <stdint.h>

#include "store/internal.h"

/* The newest inode and the versions the log's records made. */
struct log_tail {
	struct log_made {
		uint64_t ino, version;
	} *v;
	size_t n, alloc;
	uint64_t max_ino;		/* the highest inode a tree word names (tree_log's); 0: none */
};

/* A record made version of ino. */
void log_tail_commit(struct log_tail *t, uint64_t ino, uint64_t version);

/*
 * The store read with ro holds no inode above the highest the log names,
 * and no version of an inode above the highest the log made of it: 0;
 * -EBADMSG with one line in msg for the first one found; another
 * negative errno when the store cannot be read. Inodes and files the
 * log never names (made before records named them) are not held.
 */
int log_tail_check(struct store *s, rocksdb_readoptions_t *ro, struct log_tail *t, char *msg,
		   size_t len);

void log_tail_release(struct log_tail *t);

#endif
