/* own_thread.c: the recorder's own threads (the snapshot writer, the attach
 * session, the thread that takes CPython's GIL). */
#ifndef HEAPDIFF_OWN_THREAD_H
#define HEAPDIFF_OWN_THREAD_H

#include "common.h"

/* Starts a detached thread with a small stack; with block_signals, every
 * signal blocked on it, so that none of the program's is delivered there.
 * Returns pthread_create's result (0: started). */
int hd_start_own_thread(void *(*main)(void *), bool block_signals) HD_HIDDEN;

#endif
