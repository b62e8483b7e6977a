/* A metrics buffer appended to with realloc and never truncated: a single
 * block that keeps growing (count stays 1, size climbs). */
#include <stdlib.h>
#include <string.h>
#include "leakcheck.h"

struct sample { double when, value; };
static struct sample *samples;
static size_t used, capacity;

static void record_sample(double when, double value) {
    if (used == capacity) {
        capacity = capacity ? capacity + capacity / 4 + 16 : 64;
        samples = realloc(samples, capacity * sizeof *samples); // @leak
    }
    samples[used++] = (struct sample){when, value};
}

static void render_dashboard(void) {
    char *page = malloc(8192); // @steady
    memset(page, ' ', 8192);
    free(page);
}

int main(void) {
    for (int phase = 0; phase < PHASES; phase++) {
        for (int i = 0; i < 20000; i++) {
            record_sample(phase * 20000.0 + i, i * 0.5);
            if (i % 100 == 0)
                render_dashboard();
        }
        end_phase(phase);
    }
    return 0;
}
