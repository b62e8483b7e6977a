/* 8 threads each allocate 500 blocks of (64 + thread) bytes at one line,
 * then, after a barrier, each frees 300 of the blocks its neighbour
 * allocated. Live per thread's site: 200 blocks; totals must be exact. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "heapdiff.h"

enum { THREADS = 8, PER_THREAD = 500, FREED = 300 };
static void *blocks[THREADS][PER_THREAD];
static pthread_barrier_t barrier;

static void *worker(void *arg) {
    long id = (long)arg;
    for (int i = 0; i < PER_THREAD; i++)
        blocks[id][i] = malloc(64 + (size_t)id); // @site worker
    pthread_barrier_wait(&barrier);
    long neighbour = (id + 1) % THREADS;
    for (int i = 0; i < FREED; i++)
        free(blocks[neighbour][i]);
    return NULL;
}

int main(void) {
    pthread_t threads[THREADS];
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (long i = 0; i < THREADS; i++)
        pthread_create(&threads[i], NULL, worker, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    return heapdiff_snapshot_if_traced("joined") == 0 ? 0 : 1;
}
