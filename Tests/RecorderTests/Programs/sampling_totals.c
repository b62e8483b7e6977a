/* Sampled recording's exact parts, on one deterministic thread: a churn of
 * small blocks (16..1015 bytes, freed one round later) among which, every
 * 100th round, a block of at least 64 KiB is made with malloc, calloc or
 * realloc (a small block grown) and kept. Sampled at 64 KiB, every one of
 * those is recorded whole, wherever the thread's countdown stands; and the
 * process totals (allocations and bytes) equal a full recording's to the
 * unit, since every allocation is counted, sampled or not. Among them one
 * malloc of more than 2^63 bytes, which the allocator refuses: it must not
 * count, nor leave the countdown so far off that nothing is sampled after.
 *
 *   sampling_totals    then a snapshot labelled "end" */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "heapdiff.h"

enum { ROUNDS = 200000, EVERY = 100, BIG = 65536 };

static void *kept[3][ROUNDS / EVERY];

int main(void) {
    void *previous = NULL;
    for (int round = 0; round < ROUNDS; round++) {
        void *small = malloc(16 + (size_t)(round * 7919) % 1000); // @site small
        memset(small, 1, 16);
        free(previous);
        previous = small;
        if (round == 1000 && malloc(SIZE_MAX / 4 * 3) != NULL)   /* on the fast path by now */
            return 3;
        if (round % EVERY == 0) {
            int i = round / EVERY;
            size_t size = BIG + (size_t)(i % 7) * 1000;
            kept[0][i] = malloc(size); // @site big_malloc
            kept[1][i] = calloc(1, size); // @site big_calloc
            kept[2][i] = realloc(malloc(64), size); // @site big_realloc
            if (!kept[0][i] || !kept[1][i] || !kept[2][i])
                return 2;
        }
    }
    free(previous);
    return heapdiff_snapshot_if_traced("end") == 0 ? 0 : 1;
}
