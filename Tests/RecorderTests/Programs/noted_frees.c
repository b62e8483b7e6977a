/* 120,000 blocks of 40 B kept, so that the live-block table grows and
 * frees are noted before they are removed (pointer_table.c); then freed
 * and replaced in the ways that meet the notes: a free and a malloc of the
 * same size (the block just freed comes straight back), realloc of kept
 * blocks, short-lived blocks, and frees on another thread. Snapshots
 * "before", "after" and "end" bracket the phases; every line's live
 * blocks are known exactly. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "heapdiff.h"

enum { N = 120000 };
static void *kept[N];

static void *free_some(void *unused) {
    (void)unused;
    for (int i = 3; i < N; i += 8)
        free(kept[i]);
    return NULL;
}

int main(void) {
    for (int i = 0; i < N; i++)
        kept[i] = malloc(40); // @site fill
    if (heapdiff_snapshot_if_traced("before") != 0)
        return 10;
    for (int i = 0; i < N; i += 2) {
        free(kept[i]);
        kept[i] = malloc(40); // @site again
    }
    for (int i = 1; i < N; i += 8) {
        kept[i] = realloc(kept[i], 72); // @site grown
        if (!kept[i])
            return 12;
    }
    for (int i = 0; i < 5000; i++) {
        char *brief = malloc(24); // @site brief
        memset(brief, i, 24);
        free(brief);
    }
    pthread_t thread;
    if (pthread_create(&thread, NULL, free_some, NULL) != 0 || pthread_join(thread, NULL) != 0)
        return 13;
    for (int i = 3; i < N; i += 8)
        kept[i] = NULL;
    if (heapdiff_snapshot_if_traced("after") != 0)
        return 11;
    for (int i = 0; i < N; i++)
        free(kept[i]);
    if (heapdiff_snapshot_if_traced("end") != 0)
        return 14;
    return 0;
}
