/* Threads that end holding a kept home (sampled_home.c): with every block
 * sampled (HEAPDIFF_SAMPLE=1), each of 1,000 threads, one after another,
 * frees sampled blocks until it keeps one's home (at least 1 KiB), then
 * ends. The recorder must give each back as its thread ends, so that the
 * bytes the allocator has in use at the end are what they are without it
 * (printed: mallinfo2's in-use bytes, over every arena), not ~1 MiB more. */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

enum { THREADS = 1000, BLOCKS = 20 };

static void *work(void *unused) {
    (void)unused;
    for (int i = 0; i < BLOCKS; i++) {
        char *block = malloc(100 + (size_t)i);
        if (!block)
            exit(2);
        block[0] = (char)i;
        free(block);
    }
    return NULL;
}

int main(void) {
    for (int i = 0; i < THREADS; i++) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, work, NULL) != 0 || pthread_join(thread, NULL) != 0)
            return 1;
    }
    printf("%zu\n", mallinfo2().uordblks);
    return 0;
}
