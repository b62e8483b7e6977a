/* Keeps N blocks of 24 bytes live until it exits (N from argv[1]): for the
 * recorder's memory figures (HEAPDIFF_STATS), which must grow with the
 * live-block table that N blocks fill. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 10;
    void **kept = calloc((size_t)n, sizeof *kept);
    if (!kept)
        return 1;
    for (long i = 0; i < n; i++)
        if (!(kept[i] = malloc(24))) // @site kept
            return 1;
    printf("%ld blocks\n", n);
    return 0;
}
