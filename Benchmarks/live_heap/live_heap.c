/* A large live heap: fills MIB mebibytes with blocks of 16..4,111 bytes
 * from 64 call sites, then replaces PAIRS randomly chosen blocks (a free and
 * a malloc each), so that the heap stays near MIB while it churns, the way a
 * long-running service's caches do. Single thread, deterministic.
 *
 *   live_heap [MIB] [PAIRS]      (defaults: 1024, 5000000)
 *
 * For the recorder's memory beside the heap it traces (make bench-sampled). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long state = 0x9E3779B97F4A7C15ull;

static unsigned next_random(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (unsigned)(state >> 11);
}

typedef void *(*site_fn)(size_t);

/* 64 distinct allocation sites: each a function of its own. */
#define SITE(n) static __attribute__((noinline)) void *site_##n(size_t size) { \
        void *p = malloc(size); __asm__ volatile("" ::: "memory"); return p; }
#define SITES8(a) SITE(a##0) SITE(a##1) SITE(a##2) SITE(a##3) SITE(a##4) SITE(a##5) SITE(a##6) SITE(a##7)
SITES8(0) SITES8(1) SITES8(2) SITES8(3) SITES8(4) SITES8(5) SITES8(6) SITES8(7)
#define REF8(a) site_##a##0, site_##a##1, site_##a##2, site_##a##3, site_##a##4, site_##a##5, site_##a##6, site_##a##7
static const site_fn sites[64] = {REF8(0), REF8(1), REF8(2), REF8(3), REF8(4), REF8(5), REF8(6), REF8(7)};

static void *allocate(unsigned r) {
    size_t size = 16 + (r >> 6) % 4096;
    char *p = sites[r & 63](size);
    if (!p) {
        perror("malloc");
        exit(1);
    }
    memset(p, (int)r, size < 64 ? size : 64);
    return p;
}

int main(int argc, char **argv) {
    size_t target = (size_t)(argc > 1 ? atol(argv[1]) : 1024) << 20;
    long pairs = argc > 2 ? atol(argv[2]) : 5000000;
    /* Blocks average ~2 KiB: room for twice as many as the target needs. */
    size_t capacity = target / 1024 + 16, count = 0, live = 0;
    void **blocks = calloc(capacity, sizeof *blocks);
    size_t *sizes = calloc(capacity, sizeof *sizes);
    if (!blocks || !sizes)
        return 1;
    while (live < target && count < capacity) {
        unsigned r = next_random();
        blocks[count] = allocate(r);
        sizes[count] = 16 + (r >> 6) % 4096;
        live += sizes[count++];
    }
    unsigned long long checksum = 0;
    for (long i = 0; i < pairs; i++) {
        unsigned r = next_random();
        size_t slot = (size_t)next_random() % count;
        checksum += (unsigned char)*(char *)blocks[slot];
        free(blocks[slot]);
        live -= sizes[slot];
        blocks[slot] = allocate(r);
        sizes[slot] = 16 + (r >> 6) % 4096;
        live += sizes[slot];
    }
    printf("%zu blocks, %zu MiB live, checksum %llu\n", count, live >> 20, checksum);
    for (size_t i = 0; i < count; i++)
        free(blocks[i]);
    free(blocks);
    free(sizes);
    return 0;
}
