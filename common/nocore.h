/*
 * common/nocore.h - no core dump of a process that holds keys or raw
 * data (common/nocore.c).
 */
#ifndef POOL_COMMON_NOCORE_H
#define POOL_COMMON_NOCORE_H

/*
 * Makes the calling process undumpable (PR_SET_DUMPABLE 0: no core file,
 * and /proc/PID/mem, environ and fd are root's alone) and its core size
 * limit 0, hard and soft, so a child it starts inherits none either.
 * 0, or -errno with one line logged. Call it again after an exec: the
 * kernel makes a new image dumpable.
 */
int nocore(void);

#endif
