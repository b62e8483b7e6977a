/* An upload handler reads whole files into memory, processes them and frees
 * them: large, but nothing accumulates. Must NOT be reported. */
#include <stdlib.h>
#include <string.h>
#include "leakcheck.h"

static unsigned long checksum;

static void handle_upload(int id) {
    size_t size = 256 * 1024 + (size_t)(id % 4) * 65536;
    unsigned char *contents = malloc(size); // @steady
    memset(contents, id & 0xff, size);
    unsigned char *thumbnail = malloc(size / 16); // @steady
    for (size_t i = 0; i < size / 16; i++)
        thumbnail[i] = contents[i * 16];
    checksum += thumbnail[0];
    free(thumbnail);
    free(contents);
}

int main(void) {
    int id = 0;
    for (int phase = 0; phase < PHASES; phase++) {
        for (int i = 0; i < 200; i++)
            handle_upload(id++);
        end_phase(phase);
    }
    return checksum == 0xdeadbeef;
}
