/* Threads started with the smallest stack the system allows, one after
 * another: under the recorder each must still start (its thread state
 * takes none of that stack) and have its blocks recorded. Each keeps 10
 * blocks of 100 bytes, and a destructor of a key of the program's allocates
 * one block of 48 bytes as the thread exits, after the recorder let go of
 * the thread's buffers. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "heapdiff.h"

enum { THREADS = 20, KEPT = 10 };
static void *kept[THREADS][KEPT];
static void *at_exit[THREADS];
static pthread_key_t key;

static void on_exit_of_thread(void *slot) {
    *(void **)slot = malloc(48); // @site exiting
}

static void *worker(void *arg) {
    long id = (long)arg;
    for (int i = 0; i < KEPT; i++)
        kept[id][i] = malloc(100); // @site small
    pthread_setspecific(key, &at_exit[id]);
    return NULL;
}

int main(void) {
    pthread_key_create(&key, on_exit_of_thread);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN);
    for (long i = 0; i < THREADS; i++) {
        pthread_t thread;
        int r = pthread_create(&thread, &attr, worker, (void *)i);
        if (r != 0) {
            printf("pthread_create with a %d-byte stack: %s\n", (int)PTHREAD_STACK_MIN, strerror(r));
            return 1;
        }
        pthread_join(thread, NULL);
    }
    printf("%d threads\n", THREADS);
    return heapdiff_snapshot_if_traced("joined") == 0 ? 0 : 1;
}
