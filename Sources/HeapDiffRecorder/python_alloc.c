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
 * The wrappers must be installed after the interpreter has chosen its
 * allocators (PYTHONMALLOC, read in Py_PreInitialize, replaces whatever is
 * there) and before the program runs. Both ends are met by the first
 * event of an audit hook registered from the recorder's constructor
 * (PySys_AddAuditHook may be called before Py_Initialize, and every
 * interpreter raises events as it starts). That needs no symbol interposed,
 * so it works the same for a libpython-linked interpreter and for a static
 * one whose internal calls never go through the PLT, and under -E and -I.
 *
 * Objects CPython hands out again from its free lists do not go through
 * an allocator: python_reuse.c charges them (3.13+). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include "capture.h"
#include "sampler.h"

/* PyMemAllocatorEx, unchanged since 3.5. */
struct mem_allocator {
    void *ctx;
    void *(*malloc)(void *ctx, size_t size);
    void *(*calloc)(void *ctx, size_t count, size_t size);
    void *(*realloc)(void *ctx, void *ptr, size_t size);
    void (*free)(void *ctx, void *ptr);
};
enum { DOMAIN_RAW, DOMAIN_MEM, DOMAIN_OBJ, DOMAINS };

/* The allocators replaced; each wrapper's ctx points at its domain's. */
static struct mem_allocator previous[DOMAINS];
static int installed;
static void (*get_allocator)(int domain, struct mem_allocator *allocator);
static void (*set_allocator)(int domain, struct mem_allocator *allocator);

/* The callers of the mem and object domains hold the GIL by contract. */
static inline bool gil_promised(const struct mem_allocator *prev) {
    return prev != &previous[DOMAIN_RAW];
}

/* Records a block the previous allocator just returned, with the size the
 * table keeps (hd_sample_keep); inlined into each wrapper so the stack
 * capture starts at the wrapper's caller. */
static inline __attribute__((always_inline)) void record_kept(struct hd_thread *t, const struct mem_allocator *prev,
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
static inline __attribute__((always_inline)) void record(struct hd_thread *t, const struct mem_allocator *prev,
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
static inline void *call_previous(const struct mem_allocator *prev, enum call call, void *old, size_t count,
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
static inline __attribute__((always_inline)) void *pass_on(struct hd_thread *t, const struct mem_allocator *prev,
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
    const struct mem_allocator *prev = ctx;
    struct hd_thread *t = hd_thread();
    uint32_t points = hd_sample_slow(&t->sampler, count * size);
    int outer = hd_guard_enter(t);
    void *p = call_previous(prev, call, old, count, size);
    int saved = errno;
    t->py_last_block = (uintptr_t)p;
    if (p && points != HD_SAMPLE_SKIP)
        record_kept(t, prev, p, hd_sample_pack(count * size, points));
    hd_guard_leave(t, outer);
    errno = saved;
    return p;
}

/* Flattened, as charge_reuse and domain_free_general are: the recording
 * (hd_record_alloc) inlined rather than a call that saves and restores its
 * registers (callgrind, the CPython service loop: -43 instructions an
 * allocation on 3.13, -16 on 3.11). */
static __attribute__((noinline, flatten)) void *domain_malloc_general(void *ctx, size_t size) {
    const struct mem_allocator *prev = ctx;
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
    const struct mem_allocator *prev = ctx;
    struct hd_thread *t = hd_thread();
    if (!hd_recording(t))
        return prev->calloc(prev->ctx, count, size);
    int outer = hd_guard_enter(t);
    void *p = prev->calloc(prev->ctx, count, size);
    int saved = errno;
    if (p)
        record(t, prev, p, count * size);   /* no overflow: the allocator checked */
    hd_guard_leave(t, outer);
    errno = saved;
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
    const struct mem_allocator *prev = ctx;
    struct hd_thread *t = hd_thread();
    if (!hd_recording(t))
        return prev->realloc(prev->ctx, old, size);
    int outer = hd_guard_enter(t);
    uint64_t old_size = 0;
    struct hd_trace *old_trace = NULL;
    bool traced = old && hd_maybe_sampled(old) && hd_record_free(old, &old_size, &old_trace);
    void *p = prev->realloc(prev->ctx, old, size);
    int saved = errno;
    if (p)
        record(t, prev, p, size);
    else if (traced)
        hd_record_restore(old, old_size, old_trace);
    hd_guard_leave(t, outer);
    errno = saved;
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

/* The audit hook's entry is allocated before the interpreter chooses its
 * allocators, by the plain one; at exit the interpreter frees it with the
 * chosen raw allocator, whose debug version (PYTHONMALLOC=debug, -X dev,
 * debug builds) would reject it. It is caught here and given back to libc. */
static void *early_block;

/* Flattened as hooks.c's free_general: the table's removal inlined, not a
 * call into record.c that saves and restores its registers (callgrind, the
 * CPython service loop: -34 instructions a free). Every free comes here when
 * not sampling, so the code objects' watch (only then on) is here. */
static __attribute__((noinline, flatten)) void domain_free_general(void *ctx, void *p) {
    const struct mem_allocator *prev = ctx;
    struct hd_thread *t = hd_thread();
    if (HD_UNLIKELY(p == early_block) && p) {
        early_block = NULL;
        int outer = hd_guard_enter(t);
        hd_real.free(p);
        hd_guard_leave(t, outer);
        return;
    }
    if (ctx == &previous[DOMAIN_OBJ])   /* where code objects are freed */
        hd_pycode_freeing(p);
    if (!p || !hd_recording(t)) {
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
        const struct mem_allocator *prev = ctx;
        prev->free(prev->ctx, p);
        return;
    }
    domain_free_general(ctx, p);
}

/* The raw domain's: the audit hook's entry goes back to libc. */
static void domain_free_raw(void *ctx, void *p) {
    if (HD_UNLIKELY(p == early_block) && p) {
        domain_free_general(ctx, p);
        return;
    }
    domain_free(ctx, p);
}

/* The wrappers of one domain, each given the domain's previous allocator. */
static struct mem_allocator wrapper_of(int domain) {
    struct mem_allocator wrapper = {&previous[domain], domain_malloc, domain_calloc, domain_realloc,
                                    domain == DOMAIN_RAW ? domain_free_raw : domain_free};
    return wrapper;
}

/* Runs once, at the interpreter's first audit event: allocators chosen,
 * program not started. (Attaching later would call it with the GIL held.) */
void hd_python_alloc_install(void) {
    int expected = 0;
    if (!__atomic_compare_exchange_n(&installed, &expected, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;
    struct hd_thread *t = hd_thread();
    int outer = hd_guard_enter(t);
    for (int domain = 0; domain < DOMAINS; domain++) {
        get_allocator(domain, &previous[domain]);
        struct mem_allocator wrapper = wrapper_of(domain);
        set_allocator(domain, &wrapper);
    }
    hd_python_reuse_install();
    hd_pycode_watch_frees();   /* from now on every code object freed is seen */
    hd_guard_leave(t, outer);
}

/* An audit hook cannot be removed; after the first event it only returns. */
static int on_audit_event(const char *event, void *arguments, void *data) {
    (void)event, (void)arguments, (void)data;
    if (HD_UNLIKELY(!__atomic_load_n(&installed, __ATOMIC_ACQUIRE)))
        hd_python_alloc_install();
    return 0;
}

/* Serves the audit hook's entry (the constructor holds the guard). */
static void *early_malloc(void *ctx, size_t size) {
    (void)ctx;
    void *p = hd_real.malloc(size ? size : 1);
    if (!early_block)
        early_block = p;
    return p;
}

static void *early_calloc(void *ctx, size_t count, size_t size) {
    (void)ctx;
    return hd_real.calloc(count ? count : 1, size ? size : 1);
}

static void *early_realloc(void *ctx, void *p, size_t size) {
    (void)ctx;
    return hd_real.realloc(p, size ? size : 1);
}

static void early_free(void *ctx, void *p) {
    (void)ctx;
    if (p == early_block)
        early_block = NULL;
    hd_real.free(p);
}

bool hd_python_alloc_resolve(uint32_t version, bool frames) {
    get_allocator = (void (*)(int, struct mem_allocator *))dlsym(RTLD_DEFAULT, "PyMem_GetAllocator");
    set_allocator = (void (*)(int, struct mem_allocator *))dlsym(RTLD_DEFAULT, "PyMem_SetAllocator");
    hd_python_reuse_resolve(version, frames);
    return get_allocator && set_allocator;
}

void hd_python_alloc_init(uint32_t version, bool frames) {
    int (*add_audit_hook)(int (*)(const char *, void *, void *), void *) =
        (int (*)(int (*)(const char *, void *, void *), void *))dlsym(RTLD_DEFAULT, "PySys_AddAuditHook");
    if (!hd_python_alloc_resolve(version, frames) || version < 0x03080000 || !add_audit_hook)
        return;   /* before 3.8: no audit hooks; small objects stay in pymalloc's arenas */
    /* The entry comes from a raw allocator of our own, whose block is
     * known (see domain_free_raw). */
    struct mem_allocator plain;
    get_allocator(DOMAIN_RAW, &plain);
    struct mem_allocator early = {NULL, early_malloc, early_calloc, early_realloc, early_free};
    set_allocator(DOMAIN_RAW, &early);
    int failed = add_audit_hook(on_audit_event, NULL);
    set_allocator(DOMAIN_RAW, &plain);
    if (failed)
        hd_warn("cannot add an audit hook to Python: objects pymalloc serves are not seen");
}

/* ---- heapdiff attach: wrapped in a running interpreter, and given back --
 * Called by python_attach.c's thread while it holds the GIL. Only the mem
 * and object domains are wrapped: their callers hold the GIL by contract,
 * so none of them reads a domain while it is rewritten. The raw domain is
 * used without the GIL (a torn ctx/function pair would crash), and its
 * default allocator is malloc, which the GOT hooks already see. The
 * wrappers add no header: a block they saw is freed by the original
 * allocator after the detach, and one allocated before is freed through
 * them to where it came from, unknown to the tables. */
static bool late_wrapped[DOMAINS];   /* our wrapper is in the domain's chain */

static bool is_ours(int domain, const struct mem_allocator *a) {
    return a->malloc == domain_malloc && a->ctx == &previous[domain];
}

unsigned hd_python_alloc_attach(void) {
    int outer = hd_guard_enter(hd_thread());
    unsigned wrapped = 0;
    for (int domain = DOMAIN_MEM; domain < DOMAINS; domain++) {
        /* Still in the chain from an earlier session, below a wrapper
         * installed since: wrapping again would make previous[] lead
         * back to ourselves. */
        if (!late_wrapped[domain]) {
            get_allocator(domain, &previous[domain]);
            struct mem_allocator wrapper = wrapper_of(domain);
            set_allocator(domain, &wrapper);
            late_wrapped[domain] = true;
        }
        wrapped++;
    }
    hd_python_reuse_attach();
    hd_guard_leave(hd_thread(), outer);
    return wrapped;
}

unsigned hd_python_alloc_detach(void) {
    int outer = hd_guard_enter(hd_thread());
    unsigned kept = 0;
    for (int domain = DOMAIN_MEM; domain < DOMAINS; domain++) {
        if (!late_wrapped[domain])
            continue;
        struct mem_allocator current;
        get_allocator(domain, &current);
        if (is_ours(domain, &current)) {
            set_allocator(domain, &previous[domain]);
            late_wrapped[domain] = false;
        } else {
            kept++;   /* another wrapper calls ours: ours stays, passing through */
        }
    }
    hd_python_reuse_detach();
    hd_guard_leave(hd_thread(), outer);
    return kept;
}
