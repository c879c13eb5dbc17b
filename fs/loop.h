/*
 * fs/loop.h - the session loop (fs/loop.c).
 */
#ifndef POOL_FS_LOOP_H
#define POOL_FS_LOOP_H

#include "fs/fs.h"

/* libfuse's default of max_threads */
#define FS_LOOP_THREADS	10

/*
 * Serves se on threads threads until it exits (a signal, the unmount).
 * 0, or negative errno when reading /dev/fuse failed otherwise.
 */
int fs_loop_run(struct fuse_session *se, unsigned threads);

#endif
