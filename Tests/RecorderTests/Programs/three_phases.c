/* Three phases, a snapshot after each, each keeping 100 blocks of 64 B: a
 * series of the program's own snapshots a few milliseconds long. */
#include <stdlib.h>
#include "heapdiff.h"

static void *kept[300];

int main(void) {
    for (int phase = 0; phase < 3; phase++) {
        for (int i = 0; i < 100; i++)
            kept[phase * 100 + i] = malloc(64); // @site phase
        if (heapdiff_snapshot_if_traced("phase") != 0)
            return 10;
    }
    return 0;
}
