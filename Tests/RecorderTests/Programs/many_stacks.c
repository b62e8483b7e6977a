/* 2^19 distinct stacks, each allocating one 64-byte block it keeps: 19
 * levels, each one of two functions, so about a million tree nodes, more
 * than the recorder's stack tree files before it grows its table twice
 * rather than four times (trace_tree.c). Single thread. */
#include <stdlib.h>

enum { LEVELS = 19 };

void *kept[1 << LEVELS];   /* not static: the allocations must not be optimized away */
int count;

static void leaf(void) {
    kept[count++] = malloc(64); // @site leaf
}
#include "binary_paths.h"

int main(void) {
    for (unsigned path = 0; path < 1u << LEVELS; path++)
        next(0, path);
    return count == 1 << LEVELS ? 0 : 1;
}
