/* Poisson sampling by bytes (HEAPDIFF_SAMPLE): what the hooks do not
 * inline (sampler.h). The gaps between sample points, each thread's
 * allocation totals (summed by the snapshot writer, so that the hot path
 * never touches a shared line), and the membership filter that lets a free
 * skip the lock for the blocks that were not sampled. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "recorder.h"
#include "thread_state.h"
#include "sampled_home.h"

struct hd_sample_filter *hd_sample_filter, *hd_free_filter;
uintptr_t hd_free_mask;
uint64_t hd_sampling_key = HD_SAMPLING_OFF;
static uint32_t last_epoch;

/* The sampling word (thread_state.h) of a thread outside the recorder
 * whose countdown was drawn in `epoch`. */
static uint64_t key_of(uint32_t epoch) {
    _Static_assert(offsetof(struct hd_thread, sampling_epoch) == offsetof(struct hd_thread, sampling_word) &&
                       offsetof(struct hd_thread, guard) == offsetof(struct hd_thread, sampling_word) + 4,
                   "the sampling word is the epoch, then the guard");
    return (uint64_t)epoch * HD_SAMPLING_FIRST_KEY;
}

static uint32_t current_epoch(void) {
    uint64_t key = __atomic_load_n(&hd_sampling_key, __ATOMIC_ACQUIRE);
    return key == HD_SAMPLING_OFF ? 0 : (uint32_t)(key / HD_SAMPLING_FIRST_KEY);
}

/* A new epoch: every thread draws its next gap at this rate before its
 * next fast path (a countdown left from an earlier session's rate is not
 * used). Frees ask the filter from now on. */
void hd_sampling_start(void) {
    if (!hd_config.sample_rate || !hd_sample_filter)
        return;
    hd_lock();
    hd_pointer_settle();   /* removals waiting were noted while recording everything */
    __atomic_store_n(&hd_free_filter, hd_sample_filter, __ATOMIC_RELEASE);
    __atomic_store_n(&hd_free_mask, HD_SAMPLED_MARK, __ATOMIC_RELEASE);
    hd_unlock();
    if (!hd_late_load)
        last_epoch = 1;   /* preloaded: started once (hd_sampling_fast) */
    else if (++last_epoch == 0)
        last_epoch = 1;
    __atomic_store_n(&hd_sampling_key, key_of(last_epoch), __ATOMIC_RELEASE);
}

void hd_sampling_stop(void) {
    __atomic_store_n(&hd_sampling_key, HD_SAMPLING_OFF, __ATOMIC_RELEASE);
    if (!hd_late_load)   /* preloaded, only a fork child stops: its one thread */
        hd_thread()->sampling_epoch = 0;
    hd_lock();
    __atomic_store_n(&hd_free_mask, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&hd_free_filter, NULL, __ATOMIC_RELEASE);
    hd_unlock();
}

/* ---- the gaps: exponential with mean R -------------------------------- */

static uint64_t seed;
static uint64_t threads_seeded;

static uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* xorshift64*: a few instructions, no call, good enough to place points. */
static inline uint64_t next_random(struct hd_sampler *s) {
    uint64_t x = s->random;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->random = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* -ln(u) for u in (0, 1], without libm (the recorder links libc and
 * libunwind only): u = m·2^e with m in [√½, √2), and ln m = 2·atanh(z),
 * z = (m-1)/(m+1), |z| ≤ 0.172, whose series to z¹¹ is good to 2e-11. */
static double minus_log(double u) {
    uint64_t bits;
    memcpy(&bits, &u, sizeof bits);
    int exponent = (int)((bits >> 52) & 0x7FF) - 1023;
    bits = (bits & 0xFFFFFFFFFFFFFull) | (1023ull << 52);
    double m;
    memcpy(&m, &bits, sizeof m);
    if (m > 1.4142135623730951) {
        m /= 2;
        exponent++;
    }
    double z = (m - 1) / (m + 1), z2 = z * z;
    double series = z * (2 + z2 * (2.0 / 3 + z2 * (2.0 / 5 + z2 * (2.0 / 7 + z2 * (2.0 / 9 + z2 * (2.0 / 11))))));
    return -(exponent * 0.6931471805599453 + series);
}

/* The next gap, in bytes: at least 1. */
static int64_t next_gap(struct hd_sampler *s, uint64_t rate) {
    double u = (double)((next_random(s) >> 11) + 1) * (1.0 / 9007199254740992.0);   /* (0, 1] */
    double gap = (double)rate * minus_log(u);
    return gap < 4e18 ? (int64_t)gap + 1 : (int64_t)4e18;
}

static uint64_t fresh_seed(void) {
    uint64_t value = 0;
    if (getrandom(&value, sizeof value, GRND_NONBLOCK) != sizeof value) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        value = (uint64_t)t.tv_nsec ^ ((uint64_t)t.tv_sec << 32);
    }
    return value ^ ((uint64_t)getpid() << 17);
}

/* ---- each thread's totals ----------------------------------------------- */

/* Listed threads, and what the threads that ended had allocated: a
 * snapshot adds them up under hd_lock. A thread is listed at its first
 * sample decision (its first allocation of a byte or more), and taken off
 * by its key's destructor as it ends, before its TLS goes away. */
static struct hd_sampler *threads;
static uint64_t gone_bytes, gone_count;
static pthread_key_t thread_key;

/* A thread's bytes so far (sampler.h). */
static uint64_t bytes_of(const struct hd_sampler *s) {
    return (uint64_t)(__atomic_load_n(&s->credit, __ATOMIC_RELAXED) - __atomic_load_n(&s->countdown, __ATOMIC_RELAXED));
}

/* Moves both, so the bytes counted stay right (wrapping arithmetic: a
 * refused size of 2^63 or more passes through them). */
static void add_credit(struct hd_sampler *s, uint64_t bytes) {
    __atomic_store_n(&s->credit, (int64_t)((uint64_t)s->credit + bytes), __ATOMIC_RELAXED);
    __atomic_store_n(&s->countdown, (int64_t)((uint64_t)s->countdown + bytes), __ATOMIC_RELAXED);
}

static void thread_ends(void *value) {
    struct hd_sampler *s = value;
    int outer = hd_guard_enter(hd_thread());
    hd_lock();
    for (struct hd_sampler **link = &threads; *link; link = &(*link)->next)
        if (*link == s) {
            *link = s->next;
            break;
        }
    gone_bytes += bytes_of(s);
    gone_count += __atomic_load_n(&s->count, __ATOMIC_RELAXED);
    /* What it allocates after this (other destructors) is not counted. */
    s->state = HD_SAMPLER_GONE;
    hd_unlock();
    hd_home_release(s);
    hd_guard_leave(hd_thread(), outer);
}

/* Seeds the thread's generator, and lists it (under the guard: the key's
 * value may take memory). */
static void start_thread(struct hd_sampler *s) {
    s->random = splitmix64(seed + __atomic_add_fetch(&threads_seeded, 1, __ATOMIC_RELAXED)) | 1;
    if (s->state != HD_SAMPLER_NEW)
        return;
    int outer = hd_guard_enter(hd_thread());
    hd_lock();
    s->next = threads;
    threads = s;
    s->state = HD_SAMPLER_LISTED;
    hd_unlock();
    (void)pthread_setspecific(thread_key, s);
    hd_guard_leave(hd_thread(), outer);
}

/* The distance to the next point after this allocation, d ≥ 0, split
 * into the countdown (at most R - 1) and the reserve; credit follows the
 * countdown, so the thread's bytes stay exact. */
static void place(struct hd_sampler *s, int64_t d, uint64_t rate) {
    int64_t countdown = d < (int64_t)rate - 1 ? d : (int64_t)rate - 1;
    add_credit(s, (uint64_t)countdown - (uint64_t)s->countdown);
    __atomic_store_n(&s->reserve, d - countdown, __ATOMIC_RELAXED);
}

/* Under the guard: an allocation made meanwhile (a signal handler's) goes
 * by uncounted rather than meet this thread's state half updated. */
uint32_t hd_sample_slow(struct hd_sampler *s, size_t size) {
    struct hd_thread *t = hd_thread();
    int outer = hd_guard_enter(t);
    uint64_t rate = hd_config.sample_rate;
    uint32_t epoch = current_epoch();
    /* The distance to the next point after this allocation (< 0: crossed),
     * in wrapping arithmetic: a size of 2^63 or more, which the real
     * allocator refuses, is taken back out whole. */
    uint64_t after;
    if (HD_UNLIKELY(t->sampling_epoch != epoch)) {
        if (epoch == 0) {   /* sampling stopped meanwhile: nothing to decide */
            hd_guard_leave(t, outer);
            return HD_SAMPLE_SKIP;
        }
        /* Armed: the thread's first point is a gap away from the first
         * byte of this allocation (a gap drawn at an earlier rate is
         * dropped: the exponential has no memory, so this is one too). */
        if (HD_UNLIKELY(s->random == 0)) {
            int saved = errno;
            start_thread(s);
            errno = saved;
        }
        after = (uint64_t)next_gap(s, rate) - size;
        t->sampling_epoch = epoch;
    } else {
        after = (uint64_t)s->countdown + (uint64_t)s->reserve;
    }
    uint32_t points = 0;
    int64_t d;
    if (size >= rate) {   /* recorded whole, and left out of the byte stream */
        d = (int64_t)(after + size);
        points = HD_SAMPLE_WHOLE;
    } else {
        d = (int64_t)after;
        while (d < 0) {
            points++;
            d += next_gap(s, rate);
        }
        if (points >= HD_SAMPLE_WHOLE)
            points = HD_SAMPLE_WHOLE - 1;   /* for size < R, never reached */
    }
    place(s, d, rate);   /* (the bytes counted include this allocation's, whole or not) */
    hd_guard_leave(t, outer);
    return points;
}

void hd_sample_failed(struct hd_sampler *s, size_t size) {
    __atomic_store_n(&s->count, s->count - 1, __ATOMIC_RELAXED);
    __atomic_store_n(&s->credit, (int64_t)((uint64_t)s->credit - size), __ATOMIC_RELAXED);
}

uint32_t hd_sample(struct hd_sampler *s, size_t size) {
    bool crossed = hd_sample_crossed(s, size);
    if (!crossed && hd_thread()->sampling_epoch == current_epoch())
        return HD_SAMPLE_SKIP;
    return hd_sample_slow(s, size);
}

void hd_sampler_totals(uint64_t *bytes, uint64_t *count) {
    uint64_t b = gone_bytes, c = gone_count;
    for (const struct hd_sampler *s = threads; s; s = s->next) {
        b += bytes_of(s);
        c += __atomic_load_n(&s->count, __ATOMIC_RELAXED);
    }
    *bytes = b;
    *count = c;
}

/* Fork child (hd_lock reset, the forking thread alone): the other threads
 * are gone, their totals stay as part of the history the child inherits.
 * The child draws its own points from now on. */
void hd_sampler_after_fork_child(void) {
    if (!hd_config.sample_rate)
        return;
    struct hd_sampler *self = &hd_thread()->sampler;
    for (struct hd_sampler *s = threads; s; s = s->next)
        if (s != self) {
            gone_bytes += bytes_of(s);
            gone_count += s->count;
        }
    threads = self->state == HD_SAMPLER_LISTED ? self : NULL;
    self->next = NULL;
    seed = hd_config.sample_seeded ? splitmix64(seed ^ (uint64_t)getpid()) : fresh_seed();
    if (self->random)
        self->random = splitmix64(seed) | 1;
}

/* ---- the membership filter ---------------------------------------------- */

/* At most one sampled live block per this many slots, so that a free of
 * another block rarely finds its slot taken. The first filter fits one page
 * with its header (2,048 slots, 64 sampled live blocks: at 512 KiB a 32 MiB
 * heap; 4,096 took a second page for the header's 4 bytes), and a bigger
 * first one would be resident whole, since blocks hash all over it.
 * Filters are never unmapped: a free may still be reading one that was
 * replaced. */
enum { FILTER_FIRST_BITS = 11, FILTER_SLOTS_PER_BLOCK = 32 };
static size_t filter_live, filter_bytes;

static struct hd_sample_filter *new_filter(unsigned bits) {
    size_t size = sizeof(struct hd_sample_filter) + ((size_t)1 << bits);
    struct hd_sample_filter *f = hd_pages_alloc(size);
    if (f) {
        f->shift = 64 - bits;
        filter_bytes += size;
    }
    return f;
}

static void count_in(struct hd_sample_filter *f, uintptr_t ptr) {
    uint8_t *slot = &f->counts[hd_sample_filter_slot(ptr, f->shift)];
    if (*slot < 255)
        __atomic_store_n(slot, (uint8_t)(*slot + 1), __ATOMIC_RELAXED);
}

static void count_in_each(uintptr_t ptr, void *filter) {
    count_in(filter, ptr);
}

/* Four times the slots, filled from the live-block table, then published:
 * a free that loads it sees every block entered before. */
static void grow_filter(void) {
    struct hd_sample_filter *old = hd_sample_filter;
    struct hd_sample_filter *f = new_filter(64 - old->shift + 2);
    if (!f)
        return;   /* the old one stays right, only busier */
    hd_pointer_each(count_in_each, f);
    __atomic_store_n(&hd_sample_filter, f, __ATOMIC_RELEASE);
    if (hd_free_filter)   /* sampling on: frees ask the new one */
        __atomic_store_n(&hd_free_filter, f, __ATOMIC_RELEASE);
}

void hd_sample_filter_add(uintptr_t ptr) {
    struct hd_sample_filter *f = hd_sample_filter;
    if (!f)
        return;
    count_in(f, ptr);
    if (++filter_live * FILTER_SLOTS_PER_BLOCK > ((size_t)1 << (64 - f->shift)))
        grow_filter();
}

void hd_sample_filter_remove(uintptr_t ptr) {
    struct hd_sample_filter *f = hd_sample_filter;
    if (!f)
        return;
    uint8_t *slot = &f->counts[hd_sample_filter_slot(ptr, f->shift)];
    if (*slot > 0 && *slot < 255)
        __atomic_store_n(slot, (uint8_t)(*slot - 1), __ATOMIC_RELAXED);
    filter_live--;
}

size_t hd_sampler_memory(void) {
    return filter_bytes;
}

/* At start-up, with sampling asked for: false (sampling then off) when the
 * filter or the thread key cannot be had. */
bool hd_sampler_init(void) {
    seed = hd_config.sample_seeded ? hd_config.sample_seed : fresh_seed();
    struct hd_sample_filter *f = new_filter(FILTER_FIRST_BITS);
    if (!f || pthread_key_create(&thread_key, thread_ends) != 0)
        return false;
    __atomic_store_n(&hd_sample_filter, f, __ATOMIC_RELEASE);
    return true;
}
