/* Sampled recording's bookkeeping, where a lost or doubled block would show:
 * 8 threads each allocate blocks that are kept, blocks handed to the next
 * thread and freed there, blocks grown and shrunk with realloc (in place or
 * moved) and then freed or kept, and calloc'd and aligned blocks; then the
 * process forks, and parent and child each free the blocks made before the
 * fork at @site forked, and take a snapshot ("parent", "child").
 *
 * Whatever was sampled, a site whose blocks are all freed must show nothing
 * live, and a site none of whose blocks is freed must show as live exactly
 * what it allocated (estimates and sample points alike). With every block
 * recorded whole (HEAPDIFF_SAMPLE=1) the counts are exact: see the test.
 * Sampling moves a kept block the allocator put elsewhere to where free's
 * fast path sends its free on, and a thread hands the home of a sampled
 * block it freed to its next one: the program checks that what it wrote
 * survives realloc and until the block is freed, that calloc's blocks are
 * zero, and that every block is as large as asked (exit status 5). */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "heapdiff.h"

enum { THREADS = 8, ROUNDS = 3000, FORKED = 2000 };

static void *handed[THREADS][ROUNDS];
static void *grown_kept[THREADS][ROUNDS / 10];
static pthread_barrier_t barrier;
static int damaged;   /* a block's contents were not what the program put there */

static size_t size_of(int thread, int round) {
    return 16 + (size_t)((round * 37 + thread * 11) % 700);
}

static void *worker(void *arg) {
    int id = (int)(long)arg;
    for (int round = 0; round < ROUNDS; round++) {
        void *kept = malloc(size_of(id, round)); // @site kept
        memset(kept, 1, 8);
        handed[id][round] = malloc(size_of(id, round + 1)); // @site handed
        memset(handed[id][round], id + 1, size_of(id, round + 1));
        if (malloc_usable_size(kept) < size_of(id, round) || malloc_usable_size(handed[id][round]) < size_of(id, round + 1))
            __atomic_store_n(&damaged, 1, __ATOMIC_RELAXED);
        /* A realloc chain: grows (mostly moving), shrinks (in place), freed. */
        char *chain = malloc(24); // @site chain
        memcpy(chain, "0123456789abcdefghijklm", 24);
        for (size_t size = 48; size < 6000; size = size * 3 / 2) {
            chain = realloc(chain, size); // @site chain_grow
            if (memcmp(chain, "0123456789abcdefghijklm", 24) != 0 || malloc_usable_size(chain) < size)
                __atomic_store_n(&damaged, 1, __ATOMIC_RELAXED);
        }
        chain = realloc(chain, 40); // @site chain_shrink
        if (memcmp(chain, "0123456789abcdefghijklm", 24) != 0)
            __atomic_store_n(&damaged, 1, __ATOMIC_RELAXED);
        free(chain);
        if (round % 10 == 0) {
            char *block = malloc(100); // @site grown_start
            if (malloc_usable_size(block) < 100)
                __atomic_store_n(&damaged, 1, __ATOMIC_RELAXED);
            block = realloc(block, 100 + (size_t)round); // @site grown_kept
            if (malloc_usable_size(block) < 100 + (size_t)round)
                __atomic_store_n(&damaged, 1, __ATOMIC_RELAXED);
            grown_kept[id][round / 10] = block;
        }
        unsigned char *zeroed = calloc(3, 40); // @site calloc_freed
        if (malloc_usable_size(zeroed) < 120)
            __atomic_store_n(&damaged, 1, __ATOMIC_RELAXED);
        for (int i = 0; i < 120; i++)
            if (zeroed[i] != 0)
                __atomic_store_n(&damaged, 1, __ATOMIC_RELAXED);
        memset(zeroed, 0xAB, 120);   /* so that a block it gets back next round is not zero already */
        free(zeroed);
        void *aligned = NULL;
        if (posix_memalign(&aligned, 64, 200) == 0) { // @site aligned_freed
            if ((uintptr_t)aligned % 64 != 0 || malloc_usable_size(aligned) < 200)
                __atomic_store_n(&damaged, 1, __ATOMIC_RELAXED);
            free(aligned);
        }
        (void)kept;
    }
    pthread_barrier_wait(&barrier);
    /* Each thread frees the blocks its neighbour handed over. */
    int neighbour = (id + 1) % THREADS;
    for (int round = 0; round < ROUNDS; round++) {
        const unsigned char *block = handed[neighbour][round];
        if (block[0] != neighbour + 1 || block[size_of(neighbour, round + 1) - 1] != neighbour + 1)
            __atomic_store_n(&damaged, 1, __ATOMIC_RELAXED);
        free(handed[neighbour][round]);
    }
    return NULL;
}

int main(void) {
    pthread_t threads[THREADS];
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (long i = 0; i < THREADS; i++)
        pthread_create(&threads[i], NULL, worker, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    if (damaged)
        return 5;

    static void *forked[FORKED];
    for (int i = 0; i < FORKED; i++)
        forked[i] = malloc(size_of(i, 7)); // @site forked
    fflush(stdout);
    pid_t child = fork();
    if (child < 0)
        return 2;
    for (int i = 0; i < FORKED; i++)
        free(forked[i]);
    if (child == 0)
        _exit(heapdiff_snapshot_if_traced("child") == 0 ? 0 : 3);
    int status;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return 4;
    printf("%d\n", (int)child);
    return heapdiff_snapshot_if_traced("parent") == 0 ? 0 : 1;
}
