/* Shared by the leak scenarios: a phase boundary is a heapdiff snapshot.
 * `heapdiff check` compares the phases; without heapdiff this is a no-op. */
#ifndef LEAKCHECK_H
#define LEAKCHECK_H
#include <stdio.h>
#include "heapdiff.h"

#define PHASES 5

static inline void end_phase(int phase) {
    char label[32];
    snprintf(label, sizeof label, "phase %d", phase);
    heapdiff_snapshot_if_traced(label);
}
#endif
