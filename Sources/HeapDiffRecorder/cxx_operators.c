/* C++'s global operator new and delete. libstdc++'s (and libc++'s) take
 * their memory with malloc and give it back with free, which the hooks see.
 * An allocator that defines operators of its own (jemalloc, tcmalloc,
 * mimalloc, linked or preloaded before libstdc++, so theirs are the ones
 * bound) takes the memory itself, and every C++ allocation of the program
 * went unseen. So each operator is exported here as one indirect jump:
 *  - to the next definition, when that is not the real malloc's module's
 *    (libstdc++'s: it calls the hooks itself, and costs one jump more);
 *  - else to a version that allocates through the hooks (malloc,
 *    posix_memalign, free), as that allocator's own operators do, and
 *    passes a failure on to the allocator's operator, whose new_handler
 *    loop and std::bad_alloc stay as they were. Deletes of every shape go
 *    to free: these allocators' free takes any of their blocks, and a
 *    sampled block sampling moved must not reach a sized delete.
 * The recorder's own frames are left out of stacks (native_unwind.c), so a
 * block is recorded where the program called new. Under heapdiff attach
 * nothing binds these until got_hooks.c points the process's GOT entries
 * at them, which it does only where its operators are its allocator's own;
 * they then lead through the hooks (hd_cxx_operators_take_over). */
#define _GNU_SOURCE
#include <stdlib.h>
#include "recorder.h"
#include "cxx_operators.h"

struct hd_cxx_next hd_cxx_next;

/* A block through the posix_memalign hook, NULL when it fails. (Apart, so
 * that the operators reach the allocator's own in a tail call, out of the
 * way of the std::bad_alloc it may throw.) */
static __attribute__((noinline)) void *aligned_block(size_t size, size_t alignment) {
    void *p = NULL;
    return hd_hook_posix_memalign(&p, alignment, size) == 0 ? p : NULL;
}

/* Each shape: its result, how it returns, parameters, arguments, and the
 * body through the hooks (NEXT: the allocator's own operator of that name). */
#define NEW_RESULT void *
#define NEW_RETURN return
#define NEW_PARAMETERS (size_t size)
#define NEW_ARGUMENTS (size)
#define NEW_BODY(NEXT)                                                        \
    void *p = hd_hook_malloc(size);                                           \
    return p || !NEXT ? p : NEXT(size);

#define NEW_NOTHROW_RESULT void *
#define NEW_NOTHROW_RETURN return
#define NEW_NOTHROW_PARAMETERS (size_t size, const void *nothrow)
#define NEW_NOTHROW_ARGUMENTS (size, nothrow)
#define NEW_NOTHROW_BODY(NEXT)                                                \
    void *p = hd_hook_malloc(size);                                           \
    return p || !NEXT ? p : NEXT(size, nothrow);

#define NEW_ALIGNED_RESULT void *
#define NEW_ALIGNED_RETURN return
#define NEW_ALIGNED_PARAMETERS (size_t size, size_t alignment)
#define NEW_ALIGNED_ARGUMENTS (size, alignment)
#define NEW_ALIGNED_BODY(NEXT)                                                \
    void *p = aligned_block(size, alignment);                                 \
    return p || !NEXT ? p : NEXT(size, alignment);

#define NEW_ALIGNED_NOTHROW_RESULT void *
#define NEW_ALIGNED_NOTHROW_RETURN return
#define NEW_ALIGNED_NOTHROW_PARAMETERS (size_t size, size_t alignment, const void *nothrow)
#define NEW_ALIGNED_NOTHROW_ARGUMENTS (size, alignment, nothrow)
#define NEW_ALIGNED_NOTHROW_BODY(NEXT)                                        \
    void *p = aligned_block(size, alignment);                                 \
    return p || !NEXT ? p : NEXT(size, alignment, nothrow);

#define DELETE_RESULT void
#define DELETE_RETURN
#define DELETE_PARAMETERS (void *p)
#define DELETE_ARGUMENTS (p)
#define DELETE_SIZED_RESULT void
#define DELETE_SIZED_RETURN
#define DELETE_SIZED_PARAMETERS (void *p, size_t size)
#define DELETE_SIZED_ARGUMENTS (p, size)
#define DELETE_NOTHROW_RESULT void
#define DELETE_NOTHROW_RETURN
#define DELETE_NOTHROW_PARAMETERS (void *p, const void *nothrow)
#define DELETE_NOTHROW_ARGUMENTS (p, nothrow)
#define DELETE_ALIGNED_RESULT void
#define DELETE_ALIGNED_RETURN
#define DELETE_ALIGNED_PARAMETERS (void *p, size_t alignment)
#define DELETE_ALIGNED_ARGUMENTS (p, alignment)
#define DELETE_SIZED_ALIGNED_RESULT void
#define DELETE_SIZED_ALIGNED_RETURN
#define DELETE_SIZED_ALIGNED_PARAMETERS (void *p, size_t size, size_t alignment)
#define DELETE_SIZED_ALIGNED_ARGUMENTS (p, size, alignment)
#define DELETE_ALIGNED_NOTHROW_RESULT void
#define DELETE_ALIGNED_NOTHROW_RETURN
#define DELETE_ALIGNED_NOTHROW_PARAMETERS (void *p, size_t alignment, const void *nothrow)
#define DELETE_ALIGNED_NOTHROW_ARGUMENTS (p, alignment, nothrow)
#define DELETE_ANY_BODY hd_hook_free(p);
#define DELETE_BODY(NEXT) DELETE_ANY_BODY
#define DELETE_SIZED_BODY(NEXT) DELETE_ANY_BODY
#define DELETE_NOTHROW_BODY(NEXT) DELETE_ANY_BODY
#define DELETE_ALIGNED_BODY(NEXT) DELETE_ANY_BODY
#define DELETE_SIZED_ALIGNED_BODY(NEXT) DELETE_ANY_BODY
#define DELETE_ALIGNED_NOTHROW_BODY(NEXT) DELETE_ANY_BODY

#define RESULT(shape) shape##_RESULT
#define PARAMETERS(shape) shape##_PARAMETERS
#define ARGUMENTS(shape) shape##_ARGUMENTS

/* The allocator's own operator NAME (hd_cxx_next), typed. */
#define NEXT(name, shape) ((RESULT(shape)(*) PARAMETERS(shape))__atomic_load_n(&hd_cxx_next.name, __ATOMIC_ACQUIRE))

/* Per operator: the version through the hooks (the deletes leave their
 * size and alignment unused), the target the exported symbol jumps to
 * (first: one that finds the targets). */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define DECLARE(name, shape)                                                  \
    HD_EXPORT RESULT(shape) name PARAMETERS(shape);                           \
    static RESULT(shape) hooked_##name PARAMETERS(shape) { shape##_BODY(NEXT(name, shape)) } \
    static RESULT(shape) first_##name PARAMETERS(shape);                      \
    static RESULT(shape)(*target_##name) PARAMETERS(shape) = first_##name;
HD_CXX_OPERATORS(DECLARE)

/* Preloaded: run by whichever operator is called first (in any thread:
 * every one finds the same targets). */
static void find_targets(void) {
    if (hd_late_load)
        return;   /* attached: hd_cxx_operators_take_over decides */
    hd_resolve_once();
#define FIND_NEXT(name, shape) \
    __atomic_store_n(&hd_cxx_next.name, hd_next_definition(#name, (void *)name), __ATOMIC_RELEASE);
    HD_CXX_OPERATORS(FIND_NEXT)
    /* (Another thread still finding the real malloc: decided later.) */
    if (!__atomic_load_n(&hd_real.malloc, __ATOMIC_ACQUIRE))
        return;
    /* The allocator's own operators: the module the real malloc is in
     * defines operator new too. */
    bool own = hd_same_module(hd_cxx_next._Znwm, (void *)hd_real.malloc);
#define SET_TARGET(name, shape)                                               \
    __atomic_store_n(&target_##name, own || !NEXT(name, shape) ? hooked_##name : NEXT(name, shape), __ATOMIC_RELEASE);
    HD_CXX_OPERATORS(SET_TARGET)
}

void hd_cxx_operators_take_over(void) {
#define TAKE_OVER(name, shape) __atomic_store_n(&target_##name, hooked_##name, __ATOMIC_RELEASE);
    HD_CXX_OPERATORS(TAKE_OVER)
}

#define DEFINE(name, shape)                                                   \
    static RESULT(shape) first_##name PARAMETERS(shape) {                     \
        find_targets();                                                       \
        RESULT(shape)(*target) PARAMETERS(shape) = __atomic_load_n(&target_##name, __ATOMIC_ACQUIRE); \
        if (target == first_##name)   /* not decided yet */                  \
            target = NEXT(name, shape) ?: hooked_##name;                      \
        shape##_RETURN target ARGUMENTS(shape);                               \
    }                                                                         \
    HD_EXPORT RESULT(shape) name PARAMETERS(shape) {                          \
        shape##_RETURN __atomic_load_n(&target_##name, __ATOMIC_RELAXED) ARGUMENTS(shape); \
    }
HD_CXX_OPERATORS(DEFINE)
