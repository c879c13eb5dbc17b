/*
 * store/crypt_bind.h - whether a pool is encrypted is not meta "format"
 * alone (store/crypt_bind.c). Internal to store/.
 */
#ifndef POOL_STORE_CRYPT_BIND_H
#define POOL_STORE_CRYPT_BIND_H

#include "common/error.h"
#include "store/internal.h"

/*
 * For a pool whose meta "format" says plain: -EKEYREJECTED and one line
 * in e when the store shows an encrypted pool's traces (meta "crypt",
 * sealed keys/NAME.key, a sealed audit record or version record), so
 * flipping "format" cannot serve an encrypted pool, or one partly
 * replaced, as plain.
 */
int crypt_bind_plain(struct store *s, struct perr *e);

#endif
