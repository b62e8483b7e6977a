/* 1000 x 100 B allocated at one line, 400 of them freed: that line must
 * show 600 blocks and 60,000 B. A second site allocates 10 x calloc(3, 7).
 * Snapshots "before" and "after" bracket the work. */
#include <stdlib.h>
#include "heapdiff.h"

static void *blocks[1000];
static void *zeroed[10];

int main(void) {
    if (heapdiff_snapshot_if_traced("before") != 0)
        return 10;
    for (int i = 0; i < 1000; i++)
        blocks[i] = malloc(100); // @site hundred
    for (int i = 0; i < 400; i++)
        free(blocks[i]);
    for (int i = 0; i < 10; i++)
        zeroed[i] = calloc(3, 7); // @site calloc
    if (heapdiff_snapshot_if_traced("after") != 0)
        return 11;
    return 0;
}
