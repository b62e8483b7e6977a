/* Allocation churn: 5 million malloc/free pairs of 16..527 bytes, made from
 * call stacks 2 to 14 frames deep. A ring of 256 blocks keeps a small live
 * set. Single thread.
 *
 *   churn [PAIRS] [narrow|wide]
 * narrow (default): one stack per depth, 13 distinct stacks.
 * wide: each level is one of two functions, so about 8,000 distinct stacks,
 *       as in a real service with many call paths into the allocator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING 256
static void *ring[RING];
static unsigned long long state = 0x2545F4914F6CDD1Dull;

static unsigned next_random(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (unsigned)(state >> 11);
}

static void descend_a(int levels, unsigned path, size_t size, unsigned slot);
static void descend_b(int levels, unsigned path, size_t size, unsigned slot);

static __attribute__((noinline)) void allocate(size_t size, unsigned slot) {
    free(ring[slot]);
    ring[slot] = malloc(size);
    memset(ring[slot], (int)slot, 8);
}

/* Work after the call keeps every level a real frame (no tail calls). */
#define DESCEND(levels, path, size, slot)                       \
    do {                                                        \
        if ((levels) == 0)                                      \
            allocate(size, slot);                               \
        else if ((path) & 1)                                    \
            descend_a((levels) - 1, (path) >> 1, size, slot);   \
        else                                                    \
            descend_b((levels) - 1, (path) >> 1, size, slot);   \
        __asm__ volatile("" ::: "memory");                      \
    } while (0)

static __attribute__((noinline)) void descend_a(int levels, unsigned path, size_t size, unsigned slot) {
    DESCEND(levels, path, size, slot);
}
static __attribute__((noinline)) void descend_b(int levels, unsigned path, size_t size, unsigned slot) {
    DESCEND(levels, path, size, slot);
}

int main(int argc, char **argv) {
    long pairs = argc > 1 ? atol(argv[1]) : 5000000;
    unsigned path_mask = argc > 2 && strcmp(argv[2], "wide") == 0 ? ~0u : 0u;
    unsigned long long checksum = 0;
    for (long i = 0; i < pairs; i++) {
        unsigned r = next_random();
        size_t size = 16 + r % 512;
        int levels = (int)((r >> 9) % 13);          /* + allocate + main = 2..14 frames */
        DESCEND(levels, (r >> 13) & path_mask, size, (unsigned)i % RING);
        checksum += (unsigned char)((char *)ring[i % RING])[0];
    }
    for (int i = 0; i < RING; i++)
        free(ring[i]);
    printf("%ld pairs, checksum %llu\n", pairs, checksum);
    return 0;
}
