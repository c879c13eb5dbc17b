/*
 * common/json.h - the one writer of pretty-printed JSON documents
 * (the /.poolfs documents, policy export, poolctl --json).
 */
#ifndef POOL_JSON_H
#define POOL_JSON_H

#include <jansson.h>

#include "common/strbuf.h"

/*
 * Appends o indented by two spaces, keys in insertion order, and a
 * newline to out. Drops the reference on o, also on failure. Returns 0,
 * or -ENOMEM when o is NULL (a failed build) or cannot be dumped.
 */
int json_pretty(json_t *o, struct strbuf *out);

#endif
