/* Sampled blocks and malloc_usable_size: 20,000 blocks of 200 bytes, each
 * trimmed by realloc when its usable size leaves more than a tenth of it
 * spare, as redis trims its strings (trimStringObjectIfNeeded). glibc
 * gives a 200-byte block 200 usable bytes, so none is trimmed unless the
 * recorder's home for a sampled block shows through. Prints how many were
 * trimmed and how many had twice the room asked for (a home's: at least
 * 1,024 bytes); every block stays live. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

enum { BLOCKS = 20000, SIZE = 200 };
static char *blocks[BLOCKS];

int main(void) {
    size_t trims = 0, roomy = 0;
    for (int i = 0; i < BLOCKS; i++) {
        char *p = malloc(SIZE); // @site allocated
        size_t usable = malloc_usable_size(p);
        if (usable >= 2 * SIZE)
            roomy++;
        if (usable - SIZE > SIZE / 10) {
            p = realloc(p, SIZE); // @site trimmed
            trims++;
        }
        p[0] = (char)i;
        blocks[i] = p;
    }
    printf("trims %zu roomy %zu\n", trims, roomy);
    return blocks[BLOCKS - 1][0] == (char)(BLOCKS - 1) ? 0 : 1;
}
