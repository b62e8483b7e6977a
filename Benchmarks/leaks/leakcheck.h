/* Shared by the leak scenarios: a phase boundary is a heapdiff snapshot.
 * `heapdiff check` compares the phases; without heapdiff this is a no-op.
 * LEAKCHECK_SNAPSHOTS=two takes only the plain pattern's two: after the
 * first phase (warm-up) and after the last (the load). */
#ifndef LEAKCHECK_H
#define LEAKCHECK_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "heapdiff.h"

#define PHASES 5

static inline void end_phase(int phase) {
    const char *pattern = getenv("LEAKCHECK_SNAPSHOTS");
    if (pattern && strcmp(pattern, "two") == 0 && phase != 0 && phase != PHASES - 1)
        return;
    char label[32];
    snprintf(label, sizeof label, "phase %d", phase);
    heapdiff_snapshot_if_traced(label);
}
#endif
