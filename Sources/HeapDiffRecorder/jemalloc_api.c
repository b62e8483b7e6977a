/* jemalloc's own API (mallocx, rallocx, xallocx, dallocx, sdallocx), which
 * takes and gives back memory without malloc and free: BIND 9.18's named
 * allocates its zones and caches that way, and none of it was seen.
 *
 * These names are not exported: a program that probes for jemalloc through
 * a weak mallocx (folly does) would believe it there. Only where jemalloc is
 * the process's malloc, got_hooks.c points the GOT entries of every module
 * that calls them at the hooks here: at start-up when preloaded (and, for
 * modules loaded later, from the writer thread), and at heapdiff attach.
 *
 * Blocks are recorded where jemalloc put them, never moved to a sampled
 * home (sampled_home.c): a module not switched over yet may give one back
 * with sdallocx, whose size must be what jemalloc handed out. So a block
 * sampled here and freed with plain free() is forgotten only when it sits
 * at a page start (free's fast path asks only there: sampler.h); given back
 * through this API, every recorded block is found. A block sampling did move
 * (a malloc'd one) that reaches sdallocx is freed whole, without its size. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include "capture.h"
#include "got_hooks.h"
#include "jemalloc_api.h"
#include "sampler.h"

struct hd_jemalloc_api hd_jemalloc;

/* Records a block jemalloc returned, with the size the table keeps; inlined
 * into each recording path, so the capture starts at its caller (the
 * recorder's own frames are left out: native_unwind.c). The caller holds the
 * guard. */
static inline __attribute__((always_inline)) void record_kept(struct hd_thread *t, void *p, uint64_t kept) {
    hd_pointer_prefetch((uintptr_t)p);
    struct hd_stack stack;
    if (hd_capture_stack(t, NULL, &stack))
        hd_record_alloc(t, p, kept, &stack);
}

/* A new block, recorded if sampling keeps it (every one without sampling). */
static inline __attribute__((always_inline)) void record(struct hd_thread *t, void *p, size_t size) {
    uint64_t kept;
    if (hd_sample_keep(&t->sampler, size, &kept))
        record_kept(t, p, kept);
}

/* Sampling's fast path crossed a sample point: the block is recorded with
 * the points it crossed (old: a rallocx's block the filter ruled out). */
static __attribute__((noinline)) void *sampled(void *old, size_t size, int flags) {
    struct hd_thread *t = hd_thread();
    uint32_t points = hd_sample_slow(&t->sampler, size);
    void *p = old ? hd_jemalloc.rallocx(old, size, flags) : hd_jemalloc.mallocx(size, flags);
    if (!p) {
        hd_sample_failed(&t->sampler, size);
    } else if (points != HD_SAMPLE_SKIP && hd_recording(t)) {
        int outer = hd_guard_enter(t);
        record_kept(t, p, hd_sample_pack(size, points));
        hd_guard_leave(t, outer);
    }
    return p;
}

static __attribute__((noinline)) void *mallocx_general(size_t size, int flags) {
    struct hd_thread *t = hd_thread();
    if (!hd_recording(t))
        return hd_jemalloc.mallocx(size, flags);
    int outer = hd_guard_enter(t);
    void *p = hd_jemalloc.mallocx(size, flags);
    if (p && !outer)
        record(t, p, size);
    hd_guard_leave(t, outer);
    return p;
}

static void *mallocx_hook(size_t size, int flags) {
    struct hd_thread *t = hd_thread();
    if (hd_sampling_fast(t)) {
        if (HD_LIKELY(!hd_sample_crossed(&t->sampler, size)))
            return hd_jemalloc.mallocx(size, flags);
        return sampled(NULL, size, flags);
    }
    return mallocx_general(size, flags);
}

/* The old block is forgotten first (another thread may get its address as
 * soon as it is released), and put back if jemalloc fails. */
static __attribute__((noinline)) void *rallocx_general(void *old, size_t size, int flags) {
    struct hd_thread *t = hd_thread();
    if (!hd_forgetting(t))
        return hd_jemalloc.rallocx(old, size, flags);
    int outer = hd_guard_enter(t);   /* (HD_GUARD_PAUSED: the old block forgotten, the new one not recorded) */
    uint64_t old_size = 0;
    struct hd_trace *old_trace = NULL;
    bool traced = hd_maybe_sampled(old) && hd_record_free(old, &old_size, &old_trace);
    void *p = hd_jemalloc.rallocx(old, size, flags);
    if (p) {
        if (!outer)
            record(t, p, size);
    } else if (traced) {
        hd_record_restore(old, old_size, old_trace);
    }
    hd_guard_leave(t, outer);
    return p;
}

static void *rallocx_hook(void *old, size_t size, int flags) {
    struct hd_thread *t = hd_thread();
    if (hd_sampling_fast(t) && !hd_filter_may_hold(old)) {
        if (HD_LIKELY(!hd_sample_crossed(&t->sampler, size)))
            return hd_jemalloc.rallocx(old, size, flags);
        return sampled(old, size, flags);
    }
    return rallocx_general(old, size, flags);
}

/* Resized in place: a block recorded whole takes the size asked for when
 * the resize reached it; one sampling recorded by its points keeps them. */
static size_t xallocx_hook(void *p, size_t size, size_t extra, int flags) {
    struct hd_thread *t = hd_thread();
    if ((hd_sampling_fast(t) && !hd_filter_may_hold(p)) || !hd_forgetting(t))
        return hd_jemalloc.xallocx(p, size, extra, flags);
    int outer = hd_guard_enter(t);
    uint64_t kept = 0;
    struct hd_trace *trace = NULL;
    bool traced = hd_maybe_sampled(p) && hd_record_free(p, &kept, &trace);
    size_t now = hd_jemalloc.xallocx(p, size, extra, flags);
    if (traced)
        hd_record_restore(p, now >= size && kept >> HD_SIZE_BITS == 0 ? size : kept, trace);
    hd_guard_leave(t, outer);
    return now;
}

/* dallocx (sized false) and sdallocx. */
static __attribute__((noinline)) void release_general(void *p, size_t size, int flags, bool sized) {
    struct hd_thread *t = hd_thread();
    bool recording = p && hd_forgetting(t);   /* (before the guard, which it asks about) */
    int outer = hd_guard_enter(t);
    bool recorded = recording && hd_maybe_sampled(p) && hd_record_free_later(p);
    if (sized && recorded && hd_config.sample_rate && hd_sampled_home(p))
        hd_real.free(p);   /* maybe moved by sampling: not the size jemalloc handed out */
    else if (sized)
        hd_jemalloc.sdallocx(p, size, flags);
    else
        hd_jemalloc.dallocx(p, flags);
    hd_guard_leave(t, outer);
}

static void dallocx_hook(void *p, int flags) {
    struct hd_thread *t = hd_thread();
    if (hd_sampling_fast(t) && !hd_filter_may_hold(p)) {
        hd_jemalloc.dallocx(p, flags);
        return;
    }
    release_general(p, 0, flags, false);
}

static void sdallocx_hook(void *p, size_t size, int flags) {
    struct hd_thread *t = hd_thread();
    if (hd_sampling_fast(t) && !hd_filter_may_hold(p)) {
        hd_jemalloc.sdallocx(p, size, flags);
        return;
    }
    release_general(p, size, flags, true);
}

#define HOOK_ADDRESS(name, releases, sized) void *const hd_jemalloc_hook_##name = (void *)name##_hook;
HD_JEMALLOC_API(HOOK_ADDRESS)

bool hd_jemalloc_api_wanted(void) {
    void *mallocx = dlsym(RTLD_DEFAULT, "mallocx");
    if (!mallocx)
        (void)dlerror();   /* (the miss is not left for the program's next dlerror) */
    return mallocx && hd_same_module(mallocx, (void *)hd_real.malloc);
}

/* Preloaded: whether the loaded modules' entries were switched. */
static bool hooked;

void hd_jemalloc_api_start(void) {
    if (!hd_jemalloc_api_wanted())
        return;
    (void)hd_got_init();   /* (false: the malloc family, interposed instead, is left alone) */
    hd_got_patch(false, false);
    hooked = true;
}

/* Not by hooking dlopen: a wrapper would make itself dlopen's caller, whose
 * RUNPATH decides what a relative name loads. */
void hd_jemalloc_api_rescan(void) {
    if (hooked && hd_got_modules_changed())
        hd_got_patch(false, false);
}
