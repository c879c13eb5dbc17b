/*
 * store/newdir.h - whether a directory may become a new pool (init,
 * restore): nobody but its maker may change it or its parent.
 */
#ifndef POOL_STORE_NEWDIR_H
#define POOL_STORE_NEWDIR_H

#include "common/error.h"

/*
 * dir (existing) is a directory, not a link, owned by this user and
 * writable by no one else, in a parent owned by this user or root that
 * no one else may write but in a sticky one, where others cannot move
 * dir: else -EACCES naming who could swap the pool's files for their
 * own (or read them in their own directory). 0 when it holds.
 */
int store_newdir_check(const char *dir, struct perr *e);

#endif
