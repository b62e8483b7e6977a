/* A program that locks its memory (mlockall(MCL_CURRENT | MCL_FUTURE), as
 * corosync or chronyd -m do), then allocates from 4 threads, each through
 * 64 call paths. Prints its locked and resident memory (VmLck, VmRSS in
 * KiB) while the threads' blocks are live. */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum { THREADS = 4, BLOCKS = 2000 };
static void *kept[THREADS][BLOCKS];

__attribute__((noinline)) static void *path(int depth, size_t size) {
    if (depth == 0)
        return malloc(size);   // @site kept
    void *p = depth % 2 ? path(depth - 1, size) : path(depth - 1, size + 0);
    __asm__ volatile("" ::: "memory");
    return p;
}

static void *work(void *arg) {
    int t = (int)(long)arg;
    for (int i = 0; i < BLOCKS; i++)
        kept[t][i] = path(i % 64, 100);
    return NULL;
}

static long status_kib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long value = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, strlen(field)) == 0)
            value = atol(line + strlen(field));
    if (f)
        fclose(f);
    return value;
}

int main(void) {
    mallopt(M_ARENA_MAX, 1);   /* one arena: each thread's would add 64 MiB of reserved, locked space at random */
    if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
        perror("mlockall");
        return 2;
    }
    pthread_t threads[THREADS];
    for (long t = 0; t < THREADS; t++)
        pthread_create(&threads[t], NULL, work, (void *)t);
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    printf("locked %ld rss %ld\n", status_kib("VmLck:"), status_kib("VmRSS:"));
    return 0;
}
