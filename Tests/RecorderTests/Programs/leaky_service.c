/* A request loop with an unbounded cache (leaks 512 B per request) and a
 * scratch buffer that is freed (steady). Snapshots after 100 and after 1100
 * requests: the diff's first row must be the cache line. */
#include <stdlib.h>
#include <string.h>
#include "heapdiff.h"

struct entry { struct entry *next; char body[496]; };
static struct entry *cache;

static void handle_request(int i) {
    char *scratch = malloc(4096); // @site scratch
    memset(scratch, i, 4096);
    struct entry *e = malloc(sizeof *e); // @site cache
    memcpy(e->body, scratch, sizeof e->body);
    e->next = cache;
    cache = e;
    free(scratch);
}

int main(void) {
    for (int i = 0; i < 100; i++)
        handle_request(i);
    heapdiff_snapshot_if_traced("warm");
    for (int i = 0; i < 1000; i++)
        handle_request(i); // @site second batch
    heapdiff_snapshot_if_traced("later");
    return 0;
}
