/* Poisson sampling by bytes (HEAPDIFF_SAMPLE=R), the part inlined into
 * each hook; the rest is in sampler.c.
 *
 * Each thread counts down the bytes it allocates to its next sample point;
 * the gaps between points are drawn from an exponential distribution of
 * mean R, so the points form a Poisson process over the bytes allocated. An
 * allocation that crosses n points is recorded with n (n ≥ 1), and stands
 * for n·R bytes: an unbiased estimate of its size whatever that size
 * (heapprofd's and ddprof's counting estimator), whose variance R·size is
 * estimated by R²·n. Allocations of R bytes or more are recorded whole.
 * Everything else costs the hook a few additions on its own thread's state:
 * no lock, no shared cache line, no call. */
#ifndef HEAPDIFF_SAMPLER_H
#define HEAPDIFF_SAMPLER_H

#include "config.h"

/* One thread's sampling state and allocation totals, in initial-exec TLS.
 * Written by their thread only and read by the snapshot writer, so both
 * sides use relaxed atomics (plain moves). The bytes the thread allocated
 * are not added up one by one: they are credit - countdown, where credit
 * (the gaps drawn plus the allocations recorded whole) changes only at a
 * sample point; read by another thread while a gap is being added, they
 * may be off by that gap. */
struct hd_sampler {
    int64_t countdown;          /* bytes to the next sample point; < 0: one was crossed */
    uint64_t random;            /* xorshift64* state; 0 until the thread's first point */
    int64_t credit;
    uint64_t count;             /* every allocation this thread made while recording */
    struct hd_sampler *next;    /* in the list of threads (sampler.c, under hd_lock) */
    int state;                  /* HD_SAMPLER_* */
};
enum { HD_SAMPLER_NEW, HD_SAMPLER_LISTED, HD_SAMPLER_GONE };
/* (In the thread's struct hd_thread, thread_state.h: hooks pass &t->sampler.) */

/* Set while recording with sampling on (hd_state is then RECORDING), so
 * that a hook asks one question before its sampling fast path; cleared
 * when recording stops (a fork child that is not followed). */
extern int hd_sampling HD_HIDDEN;

/* hd_sampling_fast(t), whether a hook's sampling fast path applies, is in
 * thread_state.h: it reads the guard. */

/* What hd_sample decided: not recorded, recorded with n sample points
 * (1 ≤ n < HD_SAMPLE_WHOLE), or recorded whole (R bytes or more). */
enum { HD_SAMPLE_SKIP = 0, HD_SAMPLE_WHOLE = 0xFFFF };
/* Keeps errno (it may list the thread, which may call into libc). */
uint32_t hd_sample_slow(struct hd_sampler *s, size_t size) HD_HIDDEN __attribute__((noinline));

/* Counts an allocation of `size` bytes; true when it crossed a sample
 * point or is as large as the rate (hd_sample_slow then says how to record
 * it). Only with sampling on (hd_config.sample_rate > 0). */
static inline __attribute__((always_inline)) bool hd_sample_crossed(struct hd_sampler *s, size_t size) {
    __atomic_store_n(&s->count, s->count + 1, __ATOMIC_RELAXED);
    int64_t left = s->countdown - (int64_t)size;
    __atomic_store_n(&s->countdown, left, __ATOMIC_RELAXED);
    /* One test for both: a point was crossed, or size >= R. */
    return HD_UNLIKELY((left | (int64_t)(hd_config.sample_rate - 1 - size)) < 0);
}

/* Counts an allocation and decides: HD_SAMPLE_SKIP, the points, or WHOLE. */
static inline __attribute__((always_inline)) uint32_t hd_sample(struct hd_sampler *s, size_t size) {
    return hd_sample_crossed(s, size) ? hd_sample_slow(s, size) : HD_SAMPLE_SKIP;
}

/* The size the live-block table keeps for a block recorded by sampling:
 * the points it crossed above HD_SIZE_BITS (pointer_table.c weighs it as
 * points × R bytes), or the plain size for a block recorded whole. */
static inline uint64_t hd_sample_pack(size_t size, uint32_t points) {
    return points == HD_SAMPLE_WHOLE ? (uint64_t)size : (uint64_t)size | (uint64_t)points << HD_SIZE_BITS;
}

/* The one sampling decision of a hook, for a new block of `size` bytes:
 * whether it is recorded, and the size to record it with. Without sampling,
 * every block, with its size. (A block of 0 bytes crosses no sample point.) */
static inline __attribute__((always_inline)) bool hd_sample_keep(struct hd_sampler *s, size_t size, uint64_t *kept) {
    *kept = size;
    if (HD_LIKELY(hd_config.sample_rate == 0))
        return true;
    uint32_t points = hd_sample(s, size);
    if (HD_LIKELY(points == HD_SAMPLE_SKIP))
        return false;
    *kept = hd_sample_pack(size, points);
    return true;
}

/* The membership filter: per slot, how many sampled live blocks hash
 * there. A free looks at its slot without any lock; only a block whose
 * slot is not 0 (a sampled one, or rarely another that shares its slot)
 * goes on to the live-block table. Updated under hd_lock by the table.
 * Correct without a lock because a block is entered before its malloc
 * returns, and so before any thread can free it, and leaves at its free. */
struct hd_sample_filter {
    unsigned shift;             /* 64 - log2(slots) */
    uint8_t counts[];           /* saturating at 255, which then stays */
};
extern struct hd_sample_filter *hd_sample_filter HD_HIDDEN;

static inline size_t hd_sample_filter_slot(uintptr_t ptr, unsigned shift) {
    return (size_t)(((uint64_t)ptr * 0x9E3779B97F4A7C15ull) >> shift);
}

/* The same, when sampling is on (hd_sampling: the filter exists). */
static inline bool hd_filter_may_hold(const void *ptr) {
    const struct hd_sample_filter *f = __atomic_load_n(&hd_sample_filter, __ATOMIC_ACQUIRE);
    return __atomic_load_n(&f->counts[hd_sample_filter_slot((uintptr_t)ptr, f->shift)], __ATOMIC_RELAXED) != 0;
}

/* Whether ptr may be a sampled block (false: certainly not). */
static inline bool hd_maybe_sampled(const void *ptr) {
    const struct hd_sample_filter *f = __atomic_load_n(&hd_sample_filter, __ATOMIC_ACQUIRE);
    if (HD_UNLIKELY(!f))
        return true;
    return __atomic_load_n(&f->counts[hd_sample_filter_slot((uintptr_t)ptr, f->shift)], __ATOMIC_RELAXED) != 0;
}

/* ---- sampler.c: the rest ------------------------------------------- */
/* At start-up, when HEAPDIFF_SAMPLE asks for sampling; false when it
 * cannot be set up (sampling is then off). */
bool hd_sampler_init(void) HD_HIDDEN;
/* Every allocation made while recording, over all threads (caller holds
 * hd_lock); counted only with sampling on. */
void hd_sampler_totals(uint64_t *bytes, uint64_t *count) HD_HIDDEN;
void hd_sampler_after_fork_child(void) HD_HIDDEN;
/* The hooks' sampling fast path on (recording starts) and off (it stops). */
void hd_sampling_start(void) HD_HIDDEN;
void hd_sampling_stop(void) HD_HIDDEN;
/* The live-block table enters and forgets sampled blocks here (hd_lock held). */
void hd_sample_filter_add(uintptr_t ptr) HD_HIDDEN;
void hd_sample_filter_remove(uintptr_t ptr) HD_HIDDEN;
size_t hd_sampler_memory(void) HD_HIDDEN;

#endif
