/* The recorder's own threads: detached, so nothing has to join them at exit,
 * and on a 256 KiB stack, enough for the snapshot writer and the attach
 * session, which allocate their buffers elsewhere (mmap_arena.c). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include "own_thread.h"

int hd_start_own_thread(void *(*main)(void *), bool block_signals) {
    sigset_t all, previous;
    if (block_signals) {   /* a new thread inherits the creator's mask */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &previous);
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t thread;
    int r = pthread_create(&thread, &attr, main, NULL);
    pthread_attr_destroy(&attr);
    if (block_signals)
        pthread_sigmask(SIG_SETMASK, &previous, NULL);
    return r;
}
