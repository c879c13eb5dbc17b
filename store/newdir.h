/*
 * store/newdir.h - whether a directory may hold a new pool (init,
 * restore) or its backups: nobody but its writer may change it or its
 * parent.
 */
#ifndef POOL_STORE_NEWDIR_H
#define POOL_STORE_NEWDIR_H

#include "common/error.h"

/*
 * dir (existing) is a directory, not a link, owned by this user and
 * writable by no one else, in a parent owned by this user or root that
 * no one else may write but in a sticky one, where others cannot move
 * dir: else -EACCES naming who could swap the files written there for
 * their own (or read them in a directory of theirs); what names dir in
 * the message. 0 when it holds.
 */
int store_newdir_check(const char *dir, const char *what, struct perr *e);

#endif
