/* Python objects that pymalloc serves, seen without turning pymalloc off.
 *
 * As tracemalloc does, the interpreter's three allocator domains (raw, mem,
 * object) are wrapped with PyMem_GetAllocator/PyMem_SetAllocator: each
 * wrapper calls the allocator it replaced, so pymalloc keeps serving, and
 * records the block with the size asked for. The previous allocator runs
 * under the recursion guard: the malloc it may call underneath is not
 * counted a second time. Frees always go to the previous allocator, so
 * blocks handed out before the wrappers were installed are released where
 * they came from (and forgotten if the malloc hooks had seen them).
 *
 * They are installed, and given back, by python_install.c.
 *
 * Objects CPython hands out again from its free lists do not go through
 * an allocator: python_reuse.c charges them (3.13+). */
#define _GNU_SOURCE
#include "capture.h"
#include "python_alloc.h"
#include "sampler.h"

/* The allocators replaced; each wrapper's ctx points at its domain's. */
struct hd_py_allocator hd_py_previous[HD_PY_DOMAIN_COUNT];

/* The callers of the mem and object domains hold the GIL by contract. */
static inline bool gil_promised(const struct hd_py_allocator *prev) {
    return prev != &hd_py_previous[HD_PY_DOMAIN_RAW];
}

/* Records a block the previous allocator just returned, with the size the
 * table keeps (hd_sample_keep); inlined into each wrapper so the stack
 * capture starts at the wrapper's caller. */
static inline __attribute__((always_inline)) void record_kept(struct hd_thread *t, const struct hd_py_allocator *prev,
                                                              void *p, uint64_t kept) {
    struct hd_thread_buffers *b = hd_buffers(t);
    if (HD_UNLIKELY(!b))
        return;   /* no memory for bookkeeping (said in the snapshot) */
    b->py.gil_promised = gil_promised(prev);
    hd_pointer_prefetch((uintptr_t)p);   /* its slot loads while the stack is captured */
    struct hd_stack stack;
    if (hd_capture_stack(t, b, &stack))
        hd_record_alloc(t, p, kept, &stack);
    b->py.gil_promised = false;
}

/* The same, if sampling keeps it (every block without sampling). */
static inline __attribute__((always_inline)) void record(struct hd_thread *t, const struct hd_py_allocator *prev,
                                                          void *p, size_t size) {
    t->py_last_block = (uintptr_t)p;   /* a new object there is a fresh allocation, not a reuse */
    uint64_t kept;
    if (hd_sample_keep(&t->sampler, size, &kept))
        record_kept(t, prev, p, kept);
}

/* Sampling's fast paths, as in hooks.c: an allocation that crosses no sample
 * point is counted and passed on under the guard (so that the allocator's
 * own calls into the raw domain and malloc are not counted again), without
 * the recording path's frame; domain_sampled records the others, called
 * in tail position, so that the stack capture there starts at the
 * wrapper's caller. Everything else goes to the *_general functions. On the
 * fast path hd_sampling_fast has said the guard is free: it is taken and
 * given back without keeping an outer value (pass_on). */

/* The previous allocator's malloc (count 1), calloc or realloc (old). */
enum call { CALL_MALLOC, CALL_CALLOC, CALL_REALLOC };
static inline void *call_previous(const struct hd_py_allocator *prev, enum call call, void *old, size_t count,
                                  size_t size) {
    switch (call) {
    case CALL_MALLOC:
        return prev->malloc(prev->ctx, size);
    case CALL_CALLOC:
        return prev->calloc(prev->ctx, count, size);
    default:
        return prev->realloc(prev->ctx, old, size);
    }
}

/* Sampling's fast path, once it knows the call crosses no sample point:
 * the previous allocator called under the guard, which hd_sampling_fast
 * has just found free. */
static inline __attribute__((always_inline)) void *pass_on(struct hd_thread *t, const struct hd_py_allocator *prev,
                                                            enum call call, void *old, size_t count, size_t size) {
    hd_guard_take(t);
    void *p = call_previous(prev, call, old, count, size);
    hd_guard_drop(t);
    t->py_last_block = (uintptr_t)p;
    return p;
}

/* A new block of count * size bytes (no overflow: the fast path checked)
 * that crossed a sample point; a realloc's old block is one the filter says
 * was never recorded, so there is nothing to forget. */
static __attribute__((noinline)) void *domain_sampled(void *ctx, enum call call, void *old, size_t count,
                                                       size_t size) {
    const struct hd_py_allocator *prev = ctx;
    struct hd_thread *t = hd_thread();
    uint32_t points = hd_sample_slow(&t->sampler, count * size);
    int outer = hd_guard_enter(t);
    void *p = call_previous(prev, call, old, count, size);
    t->py_last_block = (uintptr_t)p;
    if (p && points != HD_SAMPLE_SKIP)   /* (errno left alone, as by domain_malloc_general) */
        record_kept(t, prev, p, hd_sample_pack(count * size, points));
    hd_guard_leave(t, outer);
    return p;
}

/* Flattened, as charge_reuse and domain_free_general are: the recording
 * (hd_record_alloc) inlined rather than a call that saves and restores its
 * registers (callgrind, the CPython service loop: -43 instructions an
 * allocation on 3.13, -16 on 3.11). */
static __attribute__((noinline, flatten)) void *domain_malloc_general(void *ctx, size_t size) {
    const struct hd_py_allocator *prev = ctx;
    struct hd_thread *t = hd_thread();
    if (!hd_recording(t))
        return prev->malloc(prev->ctx, size);
    int outer = hd_guard_enter(t);
    void *p = prev->malloc(prev->ctx, size);
    if (p)   /* (leaves errno alone, as hooks.c's recording does: each slow path keeps it) */
        record(t, prev, p, size);
    hd_guard_leave(t, outer);
    return p;
}

static void *domain_malloc(void *ctx, size_t size) {
    struct hd_thread *t = hd_thread();
    if (hd_sampling_fast(t)) {
        if (HD_UNLIKELY(hd_sample_crossed(&t->sampler, size)))
            return domain_sampled(ctx, CALL_MALLOC, NULL, 1, size);
        return pass_on(t, ctx, CALL_MALLOC, NULL, 1, size);
    }
    return domain_malloc_general(ctx, size);
}

static __attribute__((noinline)) void *domain_calloc_general(void *ctx, size_t count, size_t size) {
    const struct hd_py_allocator *prev = ctx;
    struct hd_thread *t = hd_thread();
    if (!hd_recording(t))
        return prev->calloc(prev->ctx, count, size);
    int outer = hd_guard_enter(t);
    void *p = prev->calloc(prev->ctx, count, size);
    if (p)   /* (errno left alone, as by domain_malloc_general) */
        record(t, prev, p, count * size);   /* no overflow: the allocator checked */
    hd_guard_leave(t, outer);
    return p;
}

static void *domain_calloc(void *ctx, size_t count, size_t size) {
    struct hd_thread *t = hd_thread();
    size_t total;
    if (hd_sampling_fast(t) && !__builtin_mul_overflow(count, size, &total)) {
        if (HD_UNLIKELY(hd_sample_crossed(&t->sampler, total)))
            return domain_sampled(ctx, CALL_CALLOC, NULL, count, size);
        return pass_on(t, ctx, CALL_CALLOC, NULL, count, size);
    }
    return domain_calloc_general(ctx, count, size);
}

/* The old block is forgotten first (another thread may get its address as
 * soon as it is released); put back if the allocator fails, since it is
 * then still the caller's. */
static __attribute__((noinline)) void *domain_realloc_general(void *ctx, void *old, size_t size) {
    const struct hd_py_allocator *prev = ctx;
    struct hd_thread *t = hd_thread();
    if (!hd_forgetting(t))
        return prev->realloc(prev->ctx, old, size);
    bool recording = hd_recording(t);   /* (not on a paused thread, which still forgets the old block) */
    int outer = hd_guard_enter(t);
    uint64_t old_size = 0;
    struct hd_trace *old_trace = NULL;
    bool traced = old && hd_maybe_sampled(old) && hd_record_free(old, &old_size, &old_trace);
    void *p = prev->realloc(prev->ctx, old, size);
    /* (errno left alone, as by domain_malloc_general: the allocator's
     * ENOMEM stays, since putting the old block back keeps errno too.) */
    if (p) {
        if (recording)
            record(t, prev, p, size);
    } else if (traced) {
        hd_record_restore(old, old_size, old_trace);
    }
    hd_guard_leave(t, outer);
    return p;
}

static void *domain_realloc(void *ctx, void *old, size_t size) {
    struct hd_thread *t = hd_thread();
    if (hd_sampling_fast(t) && !hd_filter_may_hold(old)) {
        if (HD_UNLIKELY(hd_sample_crossed(&t->sampler, size)))
            return domain_sampled(ctx, CALL_REALLOC, old, 1, size);
        return pass_on(t, ctx, CALL_REALLOC, old, 1, size);
    }
    return domain_realloc_general(ctx, old, size);
}

/* The audit hook's entry (python_install.c) is caught here and given back
 * to libc. */
void *hd_py_early_block;

/* Flattened as hooks.c's free_general: the table's removal inlined, not a
 * call into record.c that saves and restores its registers (callgrind, the
 * CPython service loop: -34 instructions a free). Every free comes here when
 * not sampling, so the code objects' watch (only then on) is here. */
static __attribute__((noinline, flatten)) void domain_free_general(void *ctx, void *p) {
    const struct hd_py_allocator *prev = ctx;
    struct hd_thread *t = hd_thread();
    if (HD_UNLIKELY(p == hd_py_early_block) && p) {
        hd_py_early_block = NULL;
        int outer = hd_guard_enter(t);
        hd_real.free(p);
        hd_guard_leave(t, outer);
        return;
    }
    if (ctx == &hd_py_previous[HD_PY_DOMAIN_OBJ])   /* where code objects are freed */
        hd_pycode_freeing(p);
    if (!p || !hd_forgetting(t)) {
        prev->free(prev->ctx, p);
        return;
    }
    /* (errno left alone, as hooks.c's free_general leaves it: the removal's
     * slow paths, the lock's wait and the table's, keep it themselves.) */
    int outer = hd_guard_enter(t);
    if (hd_maybe_sampled(p))   /* with sampling, most blocks were never recorded */
        hd_record_free_later(p);
    prev->free(prev->ctx, p);
    hd_guard_leave(t, outer);
}

/* Sampling's fast path: a block the filter says was never recorded goes to
 * the allocator in a tail call, without the guard, as hooks.c's free goes
 * to glibc's: every layer below asks about the same address and gets the
 * same answer, and a free makes no new block to count twice. */
static void domain_free(void *ctx, void *p) {
    struct hd_thread *t = hd_thread();
    if (hd_sampling_fast(t) && !hd_filter_may_hold(p)) {
        const struct hd_py_allocator *prev = ctx;
        prev->free(prev->ctx, p);
        return;
    }
    domain_free_general(ctx, p);
}

/* The raw domain's: the audit hook's entry goes back to libc. */
static void domain_free_raw(void *ctx, void *p) {
    if (HD_UNLIKELY(p == hd_py_early_block) && p) {
        domain_free_general(ctx, p);
        return;
    }
    domain_free(ctx, p);
}
struct hd_py_allocator hd_py_wrapper(int domain) {
    struct hd_py_allocator wrapper = {&hd_py_previous[domain], domain_malloc, domain_calloc, domain_realloc,
                                      domain == HD_PY_DOMAIN_RAW ? domain_free_raw : domain_free};
    return wrapper;
}
