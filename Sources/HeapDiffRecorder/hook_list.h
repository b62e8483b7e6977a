/* The allocator functions the recorder interposes, listed once. From this
 * list real_alloc.h makes hd_real's pointers, real_alloc.c their dlsym,
 * and got_hooks.c its table of GOT entries to redirect; hooks.c defines
 * one hook for each name.
 *
 * X(name, return type, parameter types, releases, required):
 *   releases: the function can release a block (got_hooks.c switches those
 *             first, so no recorded block is freed unseen meanwhile);
 *   required: without it the hooks cannot pass calls on at all. */
#ifndef HEAPDIFF_HOOK_LIST_H
#define HEAPDIFF_HOOK_LIST_H

#define HD_HOOKED_FUNCTIONS(X)                                           \
    X(free, void, (void *), true, true)                                  \
    X(realloc, void *, (void *, size_t), true, true)                     \
    X(malloc, void *, (size_t), false, true)                             \
    X(calloc, void *, (size_t, size_t), false, true)                     \
    X(posix_memalign, int, (void **, size_t, size_t), false, false)      \
    X(aligned_alloc, void *, (size_t, size_t), false, false)             \
    X(memalign, void *, (size_t, size_t), false, false)                  \
    X(valloc, void *, (size_t), false, false)                            \
    X(pvalloc, void *, (size_t), false, false)

/* Hooked, but passed to the real realloc (glibc's reallocarray calls
 * realloc through the PLT, which would record the block twice). */
#define HD_HOOKED_AS_REALLOC(X) X(reallocarray, void *, (void *, size_t, size_t), true, false)

#endif
