/* Allocator churn for attach/detach safety: eight threads each keep a pool
 * of live blocks and, for SECONDS seconds (argument 1, default 8), replace
 * them at random through malloc, calloc, realloc (growing and shrinking
 * blocks allocated before, during and after an attach), posix_memalign,
 * aligned_alloc, strdup and free, checking every block's contents. Attaches
 * and detaches come and go meanwhile; any lost, doubled or corrupted block,
 * or a crash, shows. stdout: "ready", then the per-thread checksums of a deterministic
 * sequence, identical whatever the timing (the number of rounds is fixed). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { THREADS = 8, POOL = 512 };

struct block { unsigned char *p; size_t size; unsigned char fill; };

static unsigned rounds;

static uint64_t next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void check(const struct block *b) {
    for (size_t i = 0; i < b->size; i += 61)
        if (b->p[i] != b->fill) {
            fprintf(stderr, "corrupted block\n");
            abort();
        }
}

static void *worker(void *arg) {
    uint64_t state = 0x9E3779B97F4A7C15ull * ((uintptr_t)arg + 1), checksum = 0;
    struct block pool[POOL] = {{0}};
    struct timespec pause = {0, 200000};
    for (unsigned round = 0; round < rounds; round++) {
        for (int k = 0; k < 200; k++) {
            struct block *b = &pool[next(&state) % POOL];
            size_t size = 1 + next(&state) % 3000;
            unsigned char fill = (unsigned char)next(&state);
            if (b->p)
                check(b);
            switch (next(&state) % 7) {
            case 0: free(b->p); b->p = malloc(size); break;
            case 1: free(b->p); b->p = calloc(1, size); break;
            case 2: b->p = realloc(b->p, size); break;
            case 3: free(b->p); if (posix_memalign((void **)&b->p, 64, size)) b->p = NULL; break;
            case 4: free(b->p); b->p = aligned_alloc(32, (size + 31) & ~(size_t)31); break;
            case 5: {
                free(b->p);
                char text[64];
                size = (size_t)snprintf(text, sizeof text, "%llu", (unsigned long long)next(&state)) + 1;
                b->p = (unsigned char *)strdup(text);
                break;
            }
            default: free(b->p); b->p = NULL; size = 0; break;
            }
            b->size = size;
            b->fill = fill;
            if (b->p)
                memset(b->p, fill, size);
            checksum = checksum * 31 + size + fill;
        }
        nanosleep(&pause, NULL);
    }
    for (int i = 0; i < POOL; i++) {
        if (pool[i].p)
            check(&pool[i]);
        free(pool[i].p);
    }
    return (void *)(uintptr_t)checksum;
}

int main(int argc, char **argv) {
    rounds = (unsigned)(argc > 1 ? strtod(argv[1], NULL) : 8) * 1500;
    pthread_t threads[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        pthread_create(&threads[i], NULL, worker, (void *)i);
    printf("ready\n");
    fflush(stdout);
    for (int i = 0; i < THREADS; i++) {
        void *sum;
        pthread_join(threads[i], &sum);
        printf("thread %d: %016llx\n", i, (unsigned long long)(uintptr_t)sum);
    }
    return 0;
}
