/* A cache of 500 hot keys: it fills during the first phase, then every
 * lookup hits. Grows during warm-up only: must NOT be reported after it. */
#include <stdlib.h>
#include <string.h>
#include "leakcheck.h"

enum { KEYS = 500 };
static char *values[KEYS];

static const char *lookup(int key) {
    if (!values[key]) {
        values[key] = malloc(2048); // @steady
        memset(values[key], key & 0xff, 2048);
    }
    return values[key];
}

int main(void) {
    unsigned long sum = 0;
    for (int phase = 0; phase < PHASES; phase++) {
        for (int i = 0; i < 20000; i++)
            sum += (unsigned char)lookup((i * 7919) % KEYS)[0];
        end_phase(phase);
    }
    return sum == 1;
}
