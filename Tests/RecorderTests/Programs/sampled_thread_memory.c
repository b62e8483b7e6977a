/* 32 threads, alive together, each allocating through 512 distinct stacks
 * (8 call sites at depths 1 to 64; to 16, 128 stacks, with the argument
 * 16); then, while all still live, prints the process's resident memory
 * (VmRSS, KiB) and lets them end. Under sampling at 64 KiB or more the
 * recorder makes no per-thread stack memos (config.h, hd_thread_memos_pay),
 * which would otherwise hold a few hundred KiB a thread here. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { THREADS = 32, ROUNDS = 16 };
static int depths = 64;
static pthread_barrier_t all_done, may_end;

#define SITE(n) \
    static __attribute__((noinline)) void site##n(int depth) { \
        if (depth > 0) { site##n(depth - 1); __asm__ volatile(""); return; } \
        free(malloc(1024 + n)); \
    }
SITE(0) SITE(1) SITE(2) SITE(3) SITE(4) SITE(5) SITE(6) SITE(7)
static void (*const sites[])(int) = {site0, site1, site2, site3, site4, site5, site6, site7};

static void *worker(void *arg) {
    (void)arg;
    for (int round = 0; round < ROUNDS; round++)
        for (int depth = 1; depth <= depths; depth++)
            for (int s = 0; s < 8; s++)
                for (int i = 0; i < 16; i++)
                    sites[s](depth);
    pthread_barrier_wait(&all_done);
    pthread_barrier_wait(&may_end);
    return NULL;
}

static long resident_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = atol(line + 6);
    if (f)
        fclose(f);
    return kib;
}

int main(int argc, char **argv) {
    if (argc > 1)
        depths = atoi(argv[1]);
    pthread_t threads[THREADS];
    pthread_barrier_init(&all_done, NULL, THREADS + 1);
    pthread_barrier_init(&may_end, NULL, THREADS + 1);
    for (int t = 0; t < THREADS; t++)
        if (pthread_create(&threads[t], NULL, worker, NULL) != 0)
            return 1;
    pthread_barrier_wait(&all_done);
    printf("%ld\n", resident_kib());
    fflush(stdout);
    pthread_barrier_wait(&may_end);
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    return 0;
}
