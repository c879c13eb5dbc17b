/*
 * fs/heap.h - hands the heap's free memory back to the kernel once the
 * daemon holds much of it (why: fs/heap.c).
 */
#ifndef POOL_FS_HEAP_H
#define POOL_FS_HEAP_H

/* Starts the thread that trims; a failure is logged and only costs memory. */
void fs_heap_start(void);
/* Stops it; nothing when it did not start. */
void fs_heap_stop(void);

#endif
