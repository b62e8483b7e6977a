/* Four phases, a snapshot after each. In each, a runtime's cache of freed
 * objects grows by 100 blocks of 64 B: a function named as libdispatch's
 * continuation allocator makes them (RuntimeCaches matches it by name).
 * With "leak", a request log also keeps 100 blocks of 128 B a phase. */
#include <stdlib.h>
#include <string.h>
#include "heapdiff.h"

static void *cached[400], *logged[400];

__attribute__((noinline)) void *_dispatch_continuation_alloc_from_heap(void) {
    return calloc(1, 64); // @site cache
}

int main(int argc, char **argv) {
    int leak = argc > 1 && strcmp(argv[1], "leak") == 0;
    for (int phase = 0; phase < 4; phase++) {
        for (int i = 0; i < 100; i++) {
            cached[phase * 100 + i] = _dispatch_continuation_alloc_from_heap();
            if (leak)
                logged[phase * 100 + i] = malloc(128); // @site log
        }
        if (heapdiff_snapshot_if_traced("phase") != 0)
            return 10;
    }
    return 0;
}
