/* 2^19 distinct stacks, each allocating one 64-byte block it keeps: 19
 * levels, each one of two functions, so about a million tree nodes, more
 * than the recorder's stack tree files before it grows its table twice
 * rather than four times (trace_tree.c). Single thread. */
#include <stdlib.h>

enum { LEVELS = 19 };

void *kept[1 << LEVELS];   /* not static: the allocations must not be optimized away */
int count;

__attribute__((noinline)) static void descend_a(int level, unsigned path);
__attribute__((noinline)) static void descend_b(int level, unsigned path);

static void next(int level, unsigned path) {
    if (level == LEVELS) {
        kept[count++] = malloc(64); // @site leaf
        return;
    }
    if (path >> level & 1)
        descend_b(level + 1, path);
    else
        descend_a(level + 1, path);
}
__attribute__((noinline)) static void descend_a(int level, unsigned path) {
    next(level, path);
    __asm__ volatile("" ::: "memory");   /* not a tail call: each level keeps its frame */
}
__attribute__((noinline)) static void descend_b(int level, unsigned path) {
    next(level, path);
    __asm__ volatile("" ::: "memory");
}

int main(void) {
    for (unsigned path = 0; path < 1u << LEVELS; path++)
        next(0, path);
    return count == 1 << LEVELS ? 0 : 1;
}
