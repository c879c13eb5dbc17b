/*
 * store/key_log.h - an encrypted pool's key record held to the log's last
 * rotation (store/key_log.c). Internal to store/.
 */
#ifndef POOL_STORE_KEY_LOG_H
#define POOL_STORE_KEY_LOG_H

#include "common/error.h"
#include "store/internal.h"

/*
 * EKEYREJECTED (with e) when the log recorded a rotation to a data key
 * the pool's key record does not hold as current: the record was put
 * back from before `poolctl key rotate`. 0 for a plain pool, or when the
 * log and record agree; another errno when the log cannot be read.
 */
int key_log_check(struct store *s, struct perr *e);

#endif
