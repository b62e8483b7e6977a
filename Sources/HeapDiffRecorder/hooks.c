/* The interposed allocator entry points. Each is a thin wrapper: call the
 * real function, then hand a successful result to hd_record_alloc (or the
 * pointer to hd_record_free before it is released, so that an address reused
 * by another thread is never confused with the block being freed).
 * With sampling on (HEAPDIFF_SAMPLE), a new block is recorded only when it
 * crosses a sample point (sampler.h), at an address where free's fast path
 * cannot miss it, and a free goes to the live-block table only when its
 * address could be a sampled block's and the membership filter says it may
 * be there.
 * Results, alignment and errno are the real allocator's own. The names
 * hooked are listed once, in hook_list.h; the real functions are called
 * under the recursion guard (thread_state.h), except by the dynamic loader's own
 * calls under heapdiff attach, which must not touch TLS (got_hooks.h), and
 * by sampling's fast path, which tail-calls them (see there). */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include "capture.h"
#include "sampler.h"
#include "sampled_home.h"

static inline int state(void) {
    return __atomic_load_n(&hd_state, __ATOMIC_ACQUIRE);
}

/* Until dlsym has found the real functions (and while it is doing so, since
 * it allocates), requests are served from the bootstrap arena. */
static __attribute__((noinline, cold)) bool resolving(void) {
    int expected = HD_STATE_UNRESOLVED;
    if (__atomic_compare_exchange_n(&hd_state, &expected, HD_STATE_RESOLVING, false,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        hd_resolve_real_allocator();
        __atomic_store_n(&hd_state, HD_STATE_PASSTHROUGH, __ATOMIC_RELEASE);
    }
    return state() == HD_STATE_RESOLVING;
}

void hd_resolve_once(void) {
    (void)resolving();
}


/* A real allocator function called under the guard: an allocator that
 * implements one entry point through another public one (as glibc's
 * reallocarray calls realloc) is then not recorded twice. */
#define REAL(t, call)                                                         \
    ({                                                                        \
        int outer_ = hd_guard_enter(t);                                       \
        __typeof__(call) result_ = (call);                                    \
        hd_guard_leave(t, outer_);                                            \
        result_;                                                              \
    })

/* Records a new block; the caller holds the guard. errno is left alone:
 * the fast path calls nothing that sets it, and each slow path that may
 * (unwinding, Python frames, interning, a table growing, the lock's wait)
 * keeps it itself. */
static inline __attribute__((always_inline)) void record_guarded(struct hd_thread *t, void *p, uint64_t size) {
    hd_pointer_prefetch((uintptr_t)p);   /* its slot loads while the stack is captured */
    struct hd_stack stack;
    if (HD_LIKELY(hd_capture_stack(t, NULL, &stack)))   /* else no memory for bookkeeping (said in the snapshot) */
        hd_record_alloc(t, p, size, &stack);
}

static inline __attribute__((always_inline)) void after_alloc(struct hd_thread *t, void *p, uint64_t size) {
    int outer = hd_guard_enter(t);
    record_guarded(t, p, size);
    hd_guard_leave(t, outer);
}

/* Records a block sampling kept (packed: hd_sample_pack), at home (moved
 * there when the real call put it elsewhere: sampled_home.c; left where it
 * is and not recorded, as if not sampled, when there is no memory for the
 * move); returns the block to hand out. */
static __attribute__((noinline)) void *record_sampled(struct hd_thread *t, void *p, size_t size, uint64_t kept,
                                                      bool contents) {
    if (HD_UNLIKELY(!hd_sampled_home(p))) {
        void *home = hd_home_move(t, p, size, contents);
        if (!home)
            return p;
        p = home;
    }
    after_alloc(t, p, kept);
    return p;
}

/* A new block, recorded if sampling keeps it (every one without sampling);
 * returns the block to hand out (sampling may move it: record_sampled). */
static inline __attribute__((always_inline)) void *record_new(struct hd_thread *t, void *p, size_t size,
                                                               bool contents) {
    uint64_t kept;
    if (hd_sample_keep(&t->sampler, size, &kept)) {
        if (HD_UNLIKELY(hd_config.sample_rate))
            return record_sampled(t, p, size, kept, contents);
        after_alloc(t, p, kept);
    }
    return p;
}

static inline bool before_free(struct hd_thread *t, void *p, uint64_t *size, struct hd_trace **trace) {
    int saved = errno;
    int outer = hd_guard_enter(t);
    bool traced = hd_record_free(p, size, trace);
    hd_guard_leave(t, outer);
    errno = saved;
    return traced;
}

static void *missing(void) {
    errno = ENOMEM;
    return NULL;
}

/* Sampling's fast path: with sampling on (recording, with HEAPDIFF_SAMPLE)
 * and outside the recorder (one compare: hd_sampling_fast), an allocation
 * that crosses no sample point (nearly all) is counted and passed on in a
 * tail call, 7 instructions on x86-64 (preloaded); a free of a block no
 * sampled block can be (sampler.h: HD_SAMPLED_MARK) goes straight to the
 * real free, 4 (with sampling off the mask is 0 and every free goes to
 * free_general). The hook keeps no frame, and so takes no guard (an allocator
 * that calls its own public entry points then has those counted too, an
 * estimate's worth). The allocations that crossed a point are recorded by
 * the *_sampled functions, called in tail position so that the stack
 * capture starts at the program's frame as the hook's would. They are
 * counted before the real call: one that fails on the fast path is counted
 * too; on the slow path (sizes of R and more among them) it is taken back. */
static __attribute__((noinline)) void *malloc_sampled(size_t size) {
    struct hd_thread *t = hd_thread();
    uint32_t points = hd_sample_slow(&t->sampler, size);
    void *p = REAL(t, hd_real.malloc(size));
    if (!p)
        hd_sample_failed(&t->sampler, size);
    else if (points != HD_SAMPLE_SKIP && hd_recording(t))
        p = record_sampled(t, p, size, hd_sample_pack(size, points), false);
    return p;
}

static __attribute__((noinline)) void *calloc_sampled(size_t count, size_t size, size_t total) {
    struct hd_thread *t = hd_thread();
    uint32_t points = hd_sample_slow(&t->sampler, total);
    void *p = REAL(t, hd_real.calloc(count, size));
    if (!p)
        hd_sample_failed(&t->sampler, total);
    else if (points != HD_SAMPLE_SKIP && hd_recording(t))
        p = record_sampled(t, p, total, hd_sample_pack(total, points), true);
    return p;
}

/* The old block was never recorded (the caller asked the filter). */
static __attribute__((noinline)) void *realloc_sampled(void *old, size_t total) {
    struct hd_thread *t = hd_thread();
    uint32_t points = hd_sample_slow(&t->sampler, total);
    void *p = REAL(t, hd_real.realloc(old, total));
    if (!p)
        hd_sample_failed(&t->sampler, total);
    else if (points != HD_SAMPLE_SKIP && hd_recording(t))
        p = record_sampled(t, p, total, hd_sample_pack(total, points), true);
    return p;
}

/* Everything but sampling's fast path, out of the hook (in tail position:
 * the stack capture starts at the program's frame as the hook's would), so
 * that the hook itself sets up no frame before that path. */
static __attribute__((noinline, flatten)) void *malloc_general(size_t size) {
    int now = state();   /* read once: (hd_recording's test, spelled out) */
    if (HD_UNLIKELY(now < HD_STATE_PASSTHROUGH)) {
        if (resolving())
            return hd_bootstrap_alloc(size, 16);
        now = state();
    }
    /* The guard taken once, for the real call and the recording (the
     * hottest path of full recording). */
    struct hd_thread *t = hd_thread();
    int outer = hd_guard_enter(t);
    void *p = hd_real.malloc(size);
    uint64_t kept;
    if (HD_LIKELY(p != NULL) && now == HD_STATE_RECORDING && !outer && hd_sample_keep(&t->sampler, size, &kept)) {
        if (HD_UNLIKELY(hd_config.sample_rate))
            p = record_sampled(t, p, size, kept, false);   /* (a thread's first allocation) */
        else
            record_guarded(t, p, kept);
    }
    hd_guard_leave(t, outer);
    return p;
}

HD_EXPORT void *malloc(size_t size) {
    if (HD_UNLIKELY(hd_called_by_loader(__builtin_return_address(0))))
        return hd_real.malloc(size);
    struct hd_thread *t = hd_thread();
    if (hd_sampling_fast(t)) {
        if (HD_LIKELY(!hd_sample_crossed(&t->sampler, size)))
            return hd_real.malloc(size);
        return malloc_sampled(size);
    }
    return malloc_general(size);
}

static __attribute__((noinline, flatten)) void free_general(void *p) {
    if (!p || HD_UNLIKELY(hd_is_bootstrap(p)))
        return;
    /* Freed while another thread is still finding the real free: the real
     * function is not known yet, so the block is leaked rather than crash. */
    int now = state();   /* read once: (hd_recording's test, spelled out) */
    if (HD_UNLIKELY(now < HD_STATE_PASSTHROUGH)) {
        if (resolving())
            return;
        now = state();
    }
    struct hd_thread *t = hd_thread();
    int outer = hd_guard_enter(t);   /* once, for the table and the real call */
    /* (Both leave errno alone: see record_guarded.) A sampled block's home
     * may be kept for the thread's next one (sampled_home.c). */
    if (now == HD_STATE_RECORDING && !(outer & HD_GUARD_HELD) && hd_maybe_sampled(p) && hd_record_free_later(p) &&
        hd_home_keep(&t->sampler, p)) {
        hd_guard_leave(t, outer);
        return;
    }
    hd_real.free(p);
    hd_guard_leave(t, outer);
}

HD_EXPORT void free(void *p) {
    if (HD_UNLIKELY(hd_called_by_loader(__builtin_return_address(0)))) {
        hd_real.free(p);
        return;
    }
    /* Sampling on: a block away from the sampled blocks' offsets was never
     * recorded, nor is it NULL or the bootstrap arena's (sampler.h:
     * HD_SAMPLED_MARK). Off, the mask is 0: every free goes on. */
    if (HD_LIKELY(((uintptr_t)p & __atomic_load_n(&hd_free_mask, __ATOMIC_RELAXED)) != 0)) {
        hd_real.free(p);   /* (the guard does not matter) */
        return;
    }
    free_general(p);
}

static __attribute__((noinline)) void *calloc_general(size_t count, size_t size) {
    size_t total;
    if (HD_UNLIKELY(state() < HD_STATE_PASSTHROUGH) && resolving())
        return __builtin_mul_overflow(count, size, &total) ? missing() : hd_bootstrap_alloc(total, 16);
    struct hd_thread *t = hd_thread();
    void *p = REAL(t, hd_real.calloc(count, size));
    if (p && hd_recording(t))
        p = record_new(t, p, count * size, true);
    return p;
}

HD_EXPORT void *calloc(size_t count, size_t size) {
    if (HD_UNLIKELY(hd_called_by_loader(__builtin_return_address(0))))
        return hd_real.calloc(count, size);
    size_t total;
    struct hd_thread *t = hd_thread();
    if (hd_sampling_fast(t) && !__builtin_mul_overflow(count, size, &total)) {
        if (HD_LIKELY(!hd_sample_crossed(&t->sampler, total)))
            return hd_real.calloc(count, size);
        return calloc_sampled(count, size, total);
    }
    return calloc_general(count, size);
}

/* realloc on a paused thread: the old block is forgotten, the new one not
 * recorded. */
static __attribute__((noinline)) void *realloc_paused(struct hd_thread *t, void *old, size_t total) {
    uint64_t old_size = 0;
    struct hd_trace *old_trace = NULL;
    bool traced = old && hd_maybe_sampled(old) && before_free(t, old, &old_size, &old_trace);
    void *p = REAL(t, hd_real.realloc(old, total));
    if (!p && traced && total != 0) {
        int saved = errno, outer = hd_guard_enter(t);
        hd_record_restore(old, old_size, old_trace);
        hd_guard_leave(t, outer);
        errno = saved;
    }
    return p;
}

/* realloc: the old block is forgotten first; if the real call fails it is
 * still the caller's, so its record is put back. (A static body, so that
 * reallocarray reaches it without the PLT, which in libheapdiff-attach.so
 * resolves to the process's own realloc.) */
static inline __attribute__((always_inline)) void *realloc_hooked(void *old, size_t total) {
    if (HD_UNLIKELY(state() < HD_STATE_PASSTHROUGH) && resolving()) {
        void *p = hd_bootstrap_alloc(total, 16);
        if (p && old)
            memcpy(p, old, hd_is_bootstrap(old) && hd_bootstrap_size(old) < total ? hd_bootstrap_size(old) : total);
        return p;
    }
    if (old && HD_UNLIKELY(hd_is_bootstrap(old))) {
        void *p = malloc(total);
        if (p)
            memcpy(p, old, hd_bootstrap_size(old) < total ? hd_bootstrap_size(old) : total);
        return p;
    }
    struct hd_thread *t = hd_thread();
    if (!hd_recording(t))
        return hd_forgetting(t) ? realloc_paused(t, old, total) : REAL(t, hd_real.realloc(old, total));
    /* Sampling, and the old block certainly not recorded: as malloc.
     * (realloc(p, 0), which frees, takes the general path.) */
    if (hd_sampling_fast(t) && total != 0 && (!old || !hd_sampled_home(old) || !hd_maybe_sampled(old))) {
        if (HD_LIKELY(!hd_sample_crossed(&t->sampler, total)))
            return REAL(t, hd_real.realloc(old, total));
        return realloc_sampled(old, total);
    }
    uint64_t old_size = 0;
    struct hd_trace *old_trace = NULL;
    bool traced = old && hd_maybe_sampled(old) && before_free(t, old, &old_size, &old_trace);
    void *p = REAL(t, hd_real.realloc(old, total));
    if (p) {
        p = record_new(t, p, total, true);
    } else if (traced && total != 0) {   /* realloc(p, 0) frees p and returns NULL */
        int saved = errno;
        int outer = hd_guard_enter(t);
        hd_record_restore(old, old_size, old_trace);
        hd_guard_leave(t, outer);
        errno = saved;
    }
    return p;
}

HD_EXPORT void *realloc(void *old, size_t total) {
    if (HD_UNLIKELY(hd_called_by_loader(__builtin_return_address(0))))
        return hd_real.realloc(old, total);
    return realloc_hooked(old, total);
}

/* glibc's reallocarray calls realloc through the PLT, which would record the
 * block twice; it is exactly realloc after an overflow check, so it is that. */
HD_EXPORT void *reallocarray(void *old, size_t count, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(count, size, &total))
        return missing();
    return realloc_hooked(old, total);
}

/* The aligned family: alignment rules and error returns stay the real ones. */
#define ALIGNED_BODY(call, size, alignment)                                   \
    if (HD_UNLIKELY(state() < HD_STATE_PASSTHROUGH) && resolving())           \
        return hd_bootstrap_alloc(size, alignment);                           \
    struct hd_thread *t = hd_thread();                                        \
    void *p = REAL(t, call);                                                  \
    if (p && hd_recording(t))                                                 \
        p = record_new(t, p, size, false);                                    \
    return p;

HD_EXPORT void *aligned_alloc(size_t alignment, size_t size) {
    if (!hd_real.aligned_alloc && state() >= HD_STATE_PASSTHROUGH)
        return missing();
    ALIGNED_BODY(hd_real.aligned_alloc(alignment, size), size, alignment)
}

HD_EXPORT void *memalign(size_t alignment, size_t size) {
    if (!hd_real.memalign && state() >= HD_STATE_PASSTHROUGH)
        return missing();
    ALIGNED_BODY(hd_real.memalign(alignment, size), size, alignment)
}

HD_EXPORT void *valloc(size_t size) {
    if (!hd_real.valloc && state() >= HD_STATE_PASSTHROUGH)
        return missing();
    ALIGNED_BODY(hd_real.valloc(size), size, 4096)
}

HD_EXPORT void *pvalloc(size_t size) {
    if (!hd_real.pvalloc && state() >= HD_STATE_PASSTHROUGH)
        return missing();
    ALIGNED_BODY(hd_real.pvalloc(size), size, 4096)
}

HD_EXPORT int posix_memalign(void **out, size_t alignment, size_t size) {
    if (HD_UNLIKELY(state() < HD_STATE_PASSTHROUGH) && resolving()) {
        void *p = hd_bootstrap_alloc(size, alignment);
        if (!p)
            return ENOMEM;
        *out = p;
        return 0;
    }
    if (!hd_real.posix_memalign)
        return ENOMEM;
    struct hd_thread *t = hd_thread();
    int r = REAL(t, hd_real.posix_memalign(out, alignment, size));
    if (r == 0 && hd_recording(t))
        *out = record_new(t, *out, size, false);
    return r;
}

/* The hooks by names of this library's own, which calls from inside it
 * reach even where the library is not the process's malloc (attached). */
__typeof__(malloc) hd_hook_malloc __attribute__((alias("malloc"), copy(malloc)));
__typeof__(free) hd_hook_free __attribute__((alias("free"), copy(free)));
__typeof__(posix_memalign) hd_hook_posix_memalign __attribute__((alias("posix_memalign"), copy(posix_memalign)));

/* Every hook has the signature hook_list.h gives its name. */
#define SAME_SIGNATURE(name, result, parameters, releases, required) \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&name), result(*) parameters), #name " as listed");
HD_HOOKED_FUNCTIONS(SAME_SIGNATURE)
HD_HOOKED_AS_REALLOC(SAME_SIGNATURE)
