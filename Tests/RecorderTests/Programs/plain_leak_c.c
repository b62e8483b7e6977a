/* The plain leak test: one snapshot after warm-up, one after the load, then
 * exit. Each request caches a 256-byte entry that is never evicted. The
 * argument "fixed" bounds the cache to the last 64 entries (the fix); "one"
 * takes only the snapshot after the load. */
#include <stdlib.h>
#include <string.h>
#include "heapdiff.h"

struct entry { struct entry *next; char body[248]; };
static struct entry *cache, *ring[64];

static void handle(int request, int bounded) {
    struct entry *e = malloc(sizeof *e); // @site cache
    memset(e->body, request, sizeof e->body);
    if (bounded) {
        free(ring[request % 64]);
        ring[request % 64] = e;
    } else {
        e->next = cache;
        cache = e;
    }
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "leak";
    int bounded = strcmp(mode, "fixed") == 0;
    for (int i = 0; i < 100; i++)
        handle(i, bounded);
    if (strcmp(mode, "one") != 0)
        heapdiff_snapshot_if_traced("warm");
    for (int i = 100; i < 1100; i++)
        handle(i, bounded);
    heapdiff_snapshot_if_traced("loaded");
    return 0;
}
