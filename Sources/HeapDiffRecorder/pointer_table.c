/* Live blocks: pointer -> (size, trace). Open addressing with linear probing
 * and backward-shift deletion (no tombstones, so a long-running program with
 * heavy churn never fills its table with them). Split into sub-tables by
 * the pointer's hash so that growing one rehashes 1/64 of the blocks at a
 * time, not all of them at once. Guarded by hd_lock. */
#define _GNU_SOURCE
#include <errno.h>
#include "recorder.h"

/* Sampling records few blocks: its sub-tables start small. */
enum { HD_POINTER_SUBTABLES = 64, HD_POINTER_INITIAL_SLOTS = 1024, HD_POINTER_INITIAL_SLOTS_SAMPLED = 64 };

struct slot {
    uintptr_t ptr;              /* 0: empty */
    uint64_t size;
    struct hd_trace *trace;
};

struct subtable {
    struct slot *slots;         /* until allocated, no_slots: one empty slot, so that a lookup needs no test */
    size_t mask;                /* slot count - 1 */
    size_t used;
    size_t limit;               /* used may grow to this before the table does; 0 until allocated */
};

static struct slot no_slots[1];
#define NO_TABLE ((struct subtable){.slots = no_slots})
static struct subtable tables[HD_POINTER_SUBTABLES] = {[0 ... HD_POINTER_SUBTABLES - 1] = NO_TABLE};
uint64_t hd_live_bytes_now, hd_peak_live_bytes;

static inline uint64_t mix(uintptr_t p) {
    uint64_t h = (uint64_t)p * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

static inline struct subtable *table_of(uint64_t h) {
    return &tables[h >> 58];   /* top 6 bits pick the sub-table, low bits the slot */
}

static void place(struct slot *slots, size_t mask, struct slot entry) {
    size_t i = mix(entry.ptr) & mask;
    while (slots[i].ptr)
        i = (i + 1) & mask;
    slots[i] = entry;
}

static bool grow(struct subtable *t) {
    size_t old_count = t->slots != no_slots ? t->mask + 1 : 0;
    size_t new_count = old_count            ? old_count * 2
                       : hd_config.sample_rate ? HD_POINTER_INITIAL_SLOTS_SAMPLED
                                               : HD_POINTER_INITIAL_SLOTS;
    struct slot *fresh = hd_pages_alloc(new_count * sizeof *fresh);
    if (!fresh)
        return false;
    for (size_t i = 0; i < old_count; i++)
        if (t->slots[i].ptr)
            place(fresh, new_count - 1, t->slots[i]);
    if (old_count)
        hd_pages_free(t->slots, old_count * sizeof *t->slots);
    t->slots = fresh;
    t->mask = new_count - 1;
    t->limit = new_count / 4 * 3;
    return true;
}

/* Room for one more block: grow past 3/4 full; if that fails, fill up to
 * one free slot (probing needs one). */
static __attribute__((noinline)) bool make_room(struct subtable *t) {
    int saved = errno;   /* mmap: the hooks leave errno alone on their fast paths */
    bool grown = grow(t);
    errno = saved;
    if (grown)
        return true;
    if (t->slots == no_slots || t->used + 1 >= t->mask)
        return false;
    t->limit = t->mask;
    return true;
}

/* Starts loading ptr's slot into the cache, without the lock: the table may
 * be growing meanwhile, and then this only warms a line for nothing. Called
 * early enough that the miss overlaps other work (the stack capture). */
__attribute__((always_inline)) inline void hd_pointer_prefetch(uintptr_t ptr) {
    uint64_t h = mix(ptr);
    struct subtable *t = table_of(h);
    struct slot *slots = __atomic_load_n(&t->slots, __ATOMIC_RELAXED);
    size_t mask = __atomic_load_n(&t->mask, __ATOMIC_RELAXED);
    __builtin_prefetch(&slots[h & mask], 1);
}

/* What one block adds to its trace. Exact: its size and one block. With
 * sampling on, counts are in 2^-HD_COUNT_SHIFT blocks: a block recorded
 * whole counts its size and one block; one recorded for n sample points
 * stands for n·R bytes, i.e. n·R / size blocks of its size, and n samples. */
struct weight { uint64_t bytes, count, samples; };

static inline __attribute__((always_inline)) struct weight weight_of(uint64_t size) {
    uint64_t rate = hd_config.sample_rate;
    uint64_t points = size >> HD_SIZE_BITS, bytes = size & ((1ull << HD_SIZE_BITS) - 1);
    if (points == 0)
        return (struct weight){bytes, 1ull << HD_COUNT_SHIFT, 0};
    uint64_t estimate = points * rate;
    return (struct weight){estimate, (estimate << HD_COUNT_SHIFT) / (bytes ? bytes : 1), points};
}

/* Without sampling (the default) the exact counts alone are touched, so
 * that full recording pays nothing for the sampled fields (callgrind,
 * churn 1M narrow: 807M -> see Benchmarks/README). */
static inline __attribute__((always_inline)) void forget_counts(struct hd_trace *trace, uint64_t size, bool sampled) {
    if (!sampled) {
        trace->live_bytes -= size;
        trace->live_count--;
        hd_live_bytes_now -= size;
        return;
    }
    struct weight w = weight_of(size);
    trace->live_bytes -= w.bytes;
    trace->live_count -= w.count;
    trace->live_samples -= w.samples;
    hd_live_bytes_now -= w.bytes;
}

static inline __attribute__((always_inline)) void add_counts(struct hd_trace *trace, uint64_t size, bool fresh, bool sampled) {
    if (!sampled) {
        trace->live_bytes += size;
        trace->live_count++;
        if (fresh) {
            trace->alloc_bytes += size;
            trace->alloc_count++;
        }
        hd_live_bytes_now += size;
        if (hd_live_bytes_now > hd_peak_live_bytes)
            hd_peak_live_bytes = hd_live_bytes_now;
        return;
    }
    struct weight w = weight_of(size);
    trace->live_bytes += w.bytes;
    trace->live_count += w.count;
    trace->live_samples += w.samples;
    if (fresh) {
        trace->alloc_bytes += w.bytes;
        trace->alloc_count += w.count;
        trace->alloc_samples += w.samples;
    }
    hd_live_bytes_now += w.bytes;
    if (hd_live_bytes_now > hd_peak_live_bytes)
        hd_peak_live_bytes = hd_live_bytes_now;
}

static inline __attribute__((always_inline)) void insert(uintptr_t ptr, uint64_t size, struct hd_trace *trace,
                                                         bool fresh, bool sampled) {
    uint64_t h = mix(ptr);
    struct subtable *t = table_of(h);
    if (HD_UNLIKELY(t->used >= t->limit) && !make_room(t)) {
        hd_traces_dropped = true;   /* no memory for bookkeeping: block goes untraced */
        return;
    }
    size_t i = h & t->mask;
    while (t->slots[i].ptr && t->slots[i].ptr != ptr)
        i = (i + 1) & t->mask;
    bool entered = t->slots[i].ptr != ptr;
    if (entered)
        t->used++;
    else
        forget_counts(t->slots[i].trace, t->slots[i].size, sampled);   /* its free went by untraced */
    t->slots[i] = (struct slot){ptr, size, trace};
    add_counts(trace, size, fresh, sampled);
    if (entered && sampled) {
        int saved = errno;           /* the filter may grow */
        hd_sample_filter_add(ptr);   /* after the slot: a filter rebuilt now from the table has it */
        errno = saved;
    }
}

static __attribute__((noinline)) void insert_sampled(uintptr_t ptr, uint64_t size, struct hd_trace *trace,
                                                     bool fresh) {
    insert(ptr, size, trace, fresh, true);
}

__attribute__((always_inline)) inline void hd_pointer_insert(uintptr_t ptr, uint64_t size, struct hd_trace *trace) {
    if (HD_UNLIKELY(hd_config.sample_rate))
        insert_sampled(ptr, size, trace, true);
    else
        insert(ptr, size, trace, true, false);
}

void hd_pointer_restore(uintptr_t ptr, uint64_t size, struct hd_trace *trace) {
    if (hd_config.sample_rate)
        insert_sampled(ptr, size, trace, false);
    else
        insert(ptr, size, trace, false, false);
}

/* The slot holding ptr, or NULL. */
static struct slot *find(uintptr_t ptr) {
    uint64_t h = mix(ptr);
    struct subtable *t = table_of(h);
    size_t i = h & t->mask;
    while (t->slots[i].ptr != ptr) {
        if (!t->slots[i].ptr)
            return NULL;
        i = (i + 1) & t->mask;
    }
    return &t->slots[i];
}

bool hd_pointer_contains(uintptr_t ptr) {
    return find(ptr) != NULL;
}

bool hd_pointer_retrace(uintptr_t ptr, struct hd_trace *trace) {
    struct slot *slot = find(ptr);
    if (!slot)
        return false;
    bool sampled = hd_config.sample_rate != 0;
    forget_counts(slot->trace, slot->size, sampled);
    slot->trace = trace;
    add_counts(trace, slot->size, true, sampled);
    return true;
}

static inline __attribute__((always_inline)) bool remove_block(uintptr_t ptr, uint64_t *size,
                                                               struct hd_trace **trace, bool sampled) {
    uint64_t h = mix(ptr);
    struct subtable *t = table_of(h);
    size_t i = h & t->mask;
    while (t->slots[i].ptr != ptr) {
        if (!t->slots[i].ptr)
            return false;
        i = (i + 1) & t->mask;
    }
    *size = t->slots[i].size;
    *trace = t->slots[i].trace;
    forget_counts(*trace, *size, sampled);
    if (sampled)
        hd_sample_filter_remove(ptr);
    /* Backward shift: pull later members of the probe run into the hole,
     * unless their home slot lies cyclically in (hole, j]. */
    size_t hole = i;
    for (size_t j = (i + 1) & t->mask; t->slots[j].ptr; j = (j + 1) & t->mask) {
        size_t home = mix(t->slots[j].ptr) & t->mask;
        bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            t->slots[hole] = t->slots[j];
            hole = j;
        }
    }
    t->slots[hole].ptr = 0;
    t->used--;
    return true;
}

static __attribute__((noinline)) bool remove_sampled(uintptr_t ptr, uint64_t *size, struct hd_trace **trace) {
    return remove_block(ptr, size, trace, true);
}

__attribute__((always_inline)) inline bool hd_pointer_remove(uintptr_t ptr, uint64_t *size, struct hd_trace **trace) {
    if (HD_UNLIKELY(hd_config.sample_rate))
        return remove_sampled(ptr, size, trace);
    return remove_block(ptr, size, trace, false);
}

size_t hd_pointer_table_memory(void) {
    size_t n = 0;
    for (int i = 0; i < HD_POINTER_SUBTABLES; i++)
        n += tables[i].slots != no_slots ? (tables[i].mask + 1) * sizeof(struct slot) : 0;
    return n;
}

void hd_pointer_table_clear(void) {
    for (int i = 0; i < HD_POINTER_SUBTABLES; i++) {
        if (tables[i].slots != no_slots)
            hd_pages_free(tables[i].slots, (tables[i].mask + 1) * sizeof(struct slot));
        tables[i] = NO_TABLE;
    }
    hd_live_bytes_now = hd_peak_live_bytes = 0;
}

void hd_pointer_each(void (*visit)(uintptr_t ptr, void *context), void *context) {
    for (int i = 0; i < HD_POINTER_SUBTABLES; i++)
        for (size_t s = 0; s <= tables[i].mask; s++)
            if (tables[i].slots[s].ptr)
                visit(tables[i].slots[s].ptr, context);
}
