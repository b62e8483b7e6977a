/* The floor of malloc interposition: an LD_PRELOAD library whose malloc,
 * calloc, realloc and free do nothing but jump on to glibc's, through a
 * function pointer as the recorder's hooks do. What it costs beside the bare
 * program is what any interposing profiler pays before doing any work
 * (make bench-sampled's "pass-through interposer" row).
 *
 * With PASSTHROUGH_THREAD=1 it also starts one thread that only wakes once
 * a second, as the recorder's snapshot writer does when idle: the floor of a
 * profiler with a thread of its own, since glibc's malloc takes its arena
 * locks from the moment a process has a second thread ("pass-through
 * interposer + idle thread"). */
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#define EXPORT __attribute__((visibility("default")))

/* glibc's own entry points, exported for exactly this use. */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *block, size_t size);
extern void __libc_free(void *block);

/* Set again at load, so that the compiler cannot turn the jumps into direct
 * calls: one memory-indirect jump a call, like a hook's tail call. */
static void *(*next_malloc)(size_t) = __libc_malloc;
static void *(*next_calloc)(size_t, size_t) = __libc_calloc;
static void *(*next_realloc)(void *, size_t) = __libc_realloc;
static void (*next_free)(void *) = __libc_free;

static void *idle(void *unused) {
    for (;;)
        poll(NULL, 0, 1000);
    return unused;
}

__attribute__((constructor)) static void resolve(void) {
    __atomic_store_n(&next_malloc, __libc_malloc, __ATOMIC_RELAXED);
    __atomic_store_n(&next_calloc, __libc_calloc, __ATOMIC_RELAXED);
    __atomic_store_n(&next_realloc, __libc_realloc, __ATOMIC_RELAXED);
    __atomic_store_n(&next_free, __libc_free, __ATOMIC_RELAXED);
    const char *thread = getenv("PASSTHROUGH_THREAD");
    if (thread && thread[0] == '1') {
        pthread_attr_t attr;
        pthread_t id;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 256 * 1024);   /* the recorder's writer's */
        pthread_create(&id, &attr, idle, NULL);
        pthread_attr_destroy(&attr);
    }
}

EXPORT void *malloc(size_t size) { return __atomic_load_n(&next_malloc, __ATOMIC_RELAXED)(size); }
EXPORT void *calloc(size_t count, size_t size) { return __atomic_load_n(&next_calloc, __ATOMIC_RELAXED)(count, size); }
EXPORT void *realloc(void *block, size_t size) { return __atomic_load_n(&next_realloc, __ATOMIC_RELAXED)(block, size); }
EXPORT void free(void *block) { __atomic_load_n(&next_free, __ATOMIC_RELAXED)(block); }
