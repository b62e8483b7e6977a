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
 * sides use relaxed atomics, or (the fast path) single read-modify-write
 * instructions, which another thread sees whole. The bytes the thread
 * allocated are not added up one by one: they are credit - countdown, where
 * credit (the gap bytes moved into the countdown plus the allocations
 * recorded whole) changes only when the countdown runs out; read by another
 * thread meanwhile, they may be off by one gap.
 *
 * The countdown holds at most R - 1 bytes of the gap to the next point; the
 * rest of a longer gap waits in reserve. An allocation of R bytes or more
 * then always takes the countdown to 0 or below, so the fast path asks one
 * question for both "crossed a point" and "as large as the rate". */
struct hd_sampler {
    int64_t countdown;          /* ≤ R - 1; ≤ 0 after an allocation: hd_sample_slow decides */
    uint64_t count;             /* every allocation this thread made while sampling */
    int64_t reserve;            /* the rest of the gap, beyond the countdown */
    uint64_t random;            /* xorshift64* state; 0 until the thread's first point */
    int64_t credit;
    struct hd_sampler *next;    /* in the list of threads (sampler.c, under hd_lock) */
    int state;                  /* HD_SAMPLER_* */
    void *kept_home;            /* sampled_home.c: for the next sampled block */
};
enum { HD_SAMPLER_NEW, HD_SAMPLER_LISTED, HD_SAMPLER_GONE };
/* (In the thread's struct hd_thread, thread_state.h: hooks pass &t->sampler.) */

/* While sampling is on (recording, with HEAPDIFF_SAMPLE): the sampling
 * epoch (≥ 1, a new one each time sampling starts) beside a guard of 0;
 * while it is off, HD_SAMPLING_OFF, which no thread's word equals. A thread whose
 * sampling word (thread_state.h: its guard, and the epoch its countdown was
 * drawn in) equals it takes a hook's fast path: one compare stands for
 * "sampling on, outside the recorder, countdown drawn at this rate". */
extern uint64_t hd_sampling_key HD_HIDDEN;
#define HD_SAMPLING_OFF (~(uint64_t)0)
/* The key of epoch 1 (the epoch, then a guard of 0, in one word). */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HD_SAMPLING_FIRST_KEY ((uint64_t)1)
#else
#define HD_SAMPLING_FIRST_KEY ((uint64_t)1 << 32)
#endif

/* hd_sampling_fast(t), whether a hook's sampling fast path applies, is in
 * thread_state.h: it reads the thread's word. */

/* What hd_sample decided: not recorded, recorded with n sample points
 * (1 ≤ n < HD_SAMPLE_WHOLE), or recorded whole (R bytes or more). */
enum { HD_SAMPLE_SKIP = 0, HD_SAMPLE_WHOLE = 0xFFFF };
/* After hd_sample_crossed said true (or for a thread whose countdown was not
 * drawn in this epoch): decides, draws the next gap, and (re)arms the
 * thread. Keeps errno (it may list the thread, which may call into libc). */
uint32_t hd_sample_slow(struct hd_sampler *s, size_t size) HD_HIDDEN __attribute__((noinline));
/* An allocation counted before the real call, which refused it, taken
 * back out of the totals (the slow path's: sizes of R and more always). */
void hd_sample_failed(struct hd_sampler *s, size_t size) HD_HIDDEN;
/* Counts an allocation and decides, off the fast path (a thread not armed
 * yet, calloc and realloc's general paths, CPython's domains). */
uint32_t hd_sample(struct hd_sampler *s, size_t size) HD_HIDDEN __attribute__((noinline));

/* Counts an allocation of `size` bytes on an armed thread; true when it
 * took the countdown (0 ≤ countdown < R between allocations) to 0 or past
 * it, compared unsigned, so that a size of 2^63 or more does too: a sample
 * point crossed, size >= R, or only the countdown's share of a long gap
 * used up (hd_sample_slow tells). On x86-64 each update is one instruction,
 * so a signal handler's allocation that interrupts the hook is never lost,
 * and the snapshot writer reads either value whole. */
static inline __attribute__((always_inline)) bool hd_sample_crossed(struct hd_sampler *s, size_t size) {
#if defined(__x86_64__)
    bool crossed;
    __asm__ volatile("addq $1, %0" : "+m"(s->count));
    __asm__ volatile("subq %2, %0" : "+m"(s->countdown), "=@ccbe"(crossed) : "r"(size));
    return HD_UNLIKELY(crossed);
#else
    __atomic_store_n(&s->count, s->count + 1, __ATOMIC_RELAXED);
    uint64_t countdown = (uint64_t)s->countdown;
    __atomic_store_n(&s->countdown, (int64_t)(countdown - size), __ATOMIC_RELAXED);
    return HD_UNLIKELY(countdown <= size);
#endif
}

/* The size the live-block table keeps for a block recorded by sampling:
 * the points it crossed above HD_SIZE_BITS (pointer_table.c weighs it as
 * points × R bytes), or the plain size for a block recorded whole. */
static inline uint64_t hd_sample_pack(size_t size, uint32_t points) {
    return points == HD_SAMPLE_WHOLE ? (uint64_t)size : (uint64_t)size | (uint64_t)points << HD_SIZE_BITS;
}

/* The one sampling decision of a hook's general path, for a new block of
 * `size` bytes: whether it is recorded, and the size to record it with.
 * Without sampling, every block, with its size. (A block of 0 bytes
 * crosses no sample point.) */
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

/* Where sampled blocks sit: every block recorded while sampling is on
 * starts at offset 0x000 or 0x010 of a page (hooks.c puts it there:
 * glibc's own large blocks, served by mmap, start at 0x010, and the rest
 * move to a home from sampled_home.c). So free's fast path needs one AND
 * to rule out nearly every block, unsampled ones being where the allocator puts
 * them: at any 16-byte step of a page, of which this mask sends 2 in 256
 * (and every large block) on to free_general, which asks the filter. */
#define HD_SAMPLED_MARK ((uintptr_t)0xFEF)
static inline bool hd_sampled_home(const void *p) {
    return ((uintptr_t)p & HD_SAMPLED_MARK) == 0;
}
/* HD_SAMPLED_MARK while sampling is on, 0 otherwise (every free then goes
 * to free_general, as recording without sampling needs). */
extern uintptr_t hd_free_mask HD_HIDDEN;

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
/* The filter the table keeps (NULL until sampling is first set up), and
 * the one frees ask: the same while sampling is on, NULL otherwise (every
 * free then goes to the table, as recording without sampling needs). Every
 * path that asks it has set the bootstrap arena's blocks (real_alloc.c)
 * apart already, or never meets them (CPython's domains). */
extern struct hd_sample_filter *hd_sample_filter HD_HIDDEN;
extern struct hd_sample_filter *hd_free_filter HD_HIDDEN;

static inline size_t hd_sample_filter_slot(uintptr_t ptr, unsigned shift) {
    return (size_t)(((uint64_t)ptr * 0x9E3779B97F4A7C15ull) >> shift);
}

static inline bool hd_filter_slot_taken(const struct hd_sample_filter *f, const void *ptr) {
    return __atomic_load_n(&f->counts[hd_sample_filter_slot((uintptr_t)ptr, f->shift)], __ATOMIC_RELAXED) != 0;
}

/* Whether ptr may be a sampled block, for a caller that found its thread
 * on the fast path (hd_sampling_fast: the filter exists). */
static inline bool hd_filter_may_hold(const void *ptr) {
    return hd_filter_slot_taken(__atomic_load_n(&hd_sample_filter, __ATOMIC_ACQUIRE), ptr);
}

/* Whether a free must ask the live-block table about ptr (false: it was
 * certainly never recorded while sampling). Always true without sampling. */
static inline bool hd_maybe_sampled(const void *ptr) {
    const struct hd_sample_filter *f = __atomic_load_n(&hd_free_filter, __ATOMIC_ACQUIRE);
    if (HD_UNLIKELY(!f))   /* (so hinted, full recording's free_general keeps a register: callgrind) */
        return true;
    return hd_filter_slot_taken(f, ptr);   /* (not sampling: the general paths) */
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
