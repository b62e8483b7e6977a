/* Allocations behind C wrappers, compiled -O2 -g by the tests. argv[1]
 * picks a scenario; it allocates from one marked line between the "before"
 * and "after" snapshots, so the diff's top row must be that line. */
#include <stdlib.h>
#include <string.h>
#include "heapdiff.h"

/* Not static, so that -O2 cannot drop the allocations as unused. */
char *names[300];
void *buffers[200];

/* The program's own wrapper around strdup: its strdup line is the site. */
static __attribute__((noinline)) char *copy_name(const char *name) {
    char *copy = strdup(name); // @site strdup_wrapper
    if (copy)
        copy[0] = 'N';
    return copy;
}

/* Always inlined: the site is this malloc line, in an inlined frame. */
static inline __attribute__((always_inline)) void *make_buffer(size_t size) {
    void *buffer = malloc(size); // @site inline_helper
    if (buffer)
        memset(buffer, 0, size);
    return buffer;
}

int main(int argc, char **argv) {
    const char *scenario = argc > 1 ? argv[1] : "";
    static const char long_name[] = "a name long enough to be worth copying, 64 bytes and a bit more";
    if (heapdiff_snapshot_if_traced("before") != 0)
        return 10;
    if (strcmp(scenario, "strdup") == 0) {
        for (int i = 0; i < 300; i++)
            names[i] = copy_name(long_name); // @site strdup_caller
    } else if (strcmp(scenario, "inline") == 0) {
        for (int i = 0; i < 200; i++)
            buffers[i] = make_buffer(1000 + (size_t)i); // @site inline_caller
    } else {
        return 2;
    }
    return heapdiff_snapshot_if_traced("after") == 0 ? 0 : 11;
}
