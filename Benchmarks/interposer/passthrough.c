/* The floor of malloc interposition: an LD_PRELOAD library whose malloc,
 * calloc, realloc and free do nothing but jump on to glibc's, through a
 * function pointer as the recorder's hooks do. What it costs beside the bare
 * program is what any interposing profiler pays before doing any work
 * (make bench-sampled's "pass-through interposer" row). */
#include <stddef.h>

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

__attribute__((constructor)) static void resolve(void) {
    __atomic_store_n(&next_malloc, __libc_malloc, __ATOMIC_RELAXED);
    __atomic_store_n(&next_calloc, __libc_calloc, __ATOMIC_RELAXED);
    __atomic_store_n(&next_realloc, __libc_realloc, __ATOMIC_RELAXED);
    __atomic_store_n(&next_free, __libc_free, __ATOMIC_RELAXED);
}

EXPORT void *malloc(size_t size) { return __atomic_load_n(&next_malloc, __ATOMIC_RELAXED)(size); }
EXPORT void *calloc(size_t count, size_t size) { return __atomic_load_n(&next_calloc, __ATOMIC_RELAXED)(count, size); }
EXPORT void *realloc(void *block, size_t size) { return __atomic_load_n(&next_realloc, __ATOMIC_RELAXED)(block, size); }
EXPORT void free(void *block) { __atomic_load_n(&next_free, __ATOMIC_RELAXED)(block); }
