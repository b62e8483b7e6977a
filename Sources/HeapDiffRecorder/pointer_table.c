/* Live blocks: pointer -> (size, trace). Open addressing with linear probing
 * and backward-shift deletion (no tombstones, so a long-running program with
 * heavy churn never fills its table with them). Split into sub-tables by
 * the pointer's hash so that growing one rehashes 1/64 of the blocks at a
 * time, not all of them at once. Probing never wraps around: a sub-table's
 * last home slot is followed by HD_POINTER_TAIL overflow slots and one that
 * stays empty, so every step is one increment and a removal's backward
 * shift tests one comparison (a run that would reach the empty one grows
 * the table first). Guarded by hd_lock.
 *
 * Sampling keeps a few dozen blocks live in a heap of megabytes, spread by
 * their hash over all 64 sub-tables: a page each would make the table a
 * quarter of a megabyte, more than the 1% of such a heap the recorder may
 * take. So while sampling, the sub-tables' first tables are small (a tail
 * as long as their home slots) and cut from one shared mapping of four
 * pages; a sub-table that outgrows its piece gets a mapping of its own. */
#define _GNU_SOURCE
#include "recorder.h"
#include "block_counts.h"

/* Sampling records few blocks: its sub-tables start small. */
enum {
    HD_POINTER_SUBTABLES = 64,
    HD_POINTER_INITIAL_SLOTS = 1024,
    HD_POINTER_INITIAL_SLOTS_SAMPLED = 4,
    HD_POINTER_TAIL = 64,   /* overflow slots after the last home slot (fewer in a smaller table) */
};

struct slot {
    uintptr_t ptr;              /* 0: empty */
    uint64_t size;
    struct hd_trace *trace;
};

struct subtable {
    struct slot *slots;         /* until allocated, no_slots: an empty table, so that a lookup needs no test */
    size_t mask;                /* home slots - 1; then tail_slots() more and the empty end */
    size_t room;                /* blocks it takes before it grows; 0 until allocated */
    struct slot *end;           /* the slot that always stays empty */
};

static struct slot no_slots[HD_POINTER_TAIL + 1];
#define NO_TABLE ((struct subtable){.slots = no_slots, .end = no_slots + HD_POINTER_TAIL})
static struct subtable tables[HD_POINTER_SUBTABLES] = {[0 ... HD_POINTER_SUBTABLES - 1] = NO_TABLE};
uint64_t hd_live_bytes_now, hd_peak_live_bytes;
/* Sampling: every sub-table's first table, one after another (made at the first insert). */
static struct slot *first_tables;

static inline uint64_t mix(uintptr_t p) {
    uint64_t h = (uint64_t)p * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

static inline struct subtable *table_of(uint64_t h) {
    return &tables[h >> 58];   /* top 6 bits pick the sub-table, low bits the slot */
}

/* Frees whose removal waits (recording everything). A block freed long
 * after it was made has a cold slot, and removing it at once stalls the
 * free on that miss with nothing to overlap it: with a real program's
 * live blocks, most of the recorder's wall time (the STL workload). So a
 * free only notes the address, one note per address hash, and prefetches
 * its slot; the removal happens when a later free needs the note (~32
 * frees later, the line loaded meanwhile). Anything that asks the table
 * about an address first removes that address's noted free (an
 * allocation often gets the address straight back), and
 * hd_pointer_settle removes them all before the counters are read. The
 * peak of the live bytes is taken at allocations: with notes, it may
 * include up to HD_FREED_NOTES blocks already freed. */
enum { HD_FREED_NOTES = 32 };
static uintptr_t freed[HD_FREED_NOTES];   /* 0: no note */
/* Noting starts once a sub-table outgrows its first size (~49,000 live
 * blocks in all): below that the slots stay in the caches, and noting
 * only adds work (the allocation churn, 256 live blocks: +11% wall).
 * Never while sampling, whose frees are few and removed at once. */
static bool noting;

static inline size_t note_index(uint64_t h) {
    return (size_t)(h >> 50) & (HD_FREED_NOTES - 1);   /* bits neither the sub-table (58-63) nor the slot use */
}

/* Overflow slots after a table's last home slot: a run longer than that
 * makes it grow, and a small table would grow long before. */
static inline size_t tail_slots(size_t homes) {
    return homes < HD_POINTER_TAIL ? homes : HD_POINTER_TAIL;
}

/* Slots a sub-table of that many home slots maps, the empty end included. */
static inline size_t mapped_slots(size_t homes) {
    return homes + tail_slots(homes) + 1;
}

static bool place(struct slot *slots, size_t mask, struct slot entry) {
    struct slot *s = slots + (mix(entry.ptr) & mask), *end = slots + mask + tail_slots(mask + 1);
    while (s->ptr)
        s++;
    if (s == end)
        return false;
    *s = entry;
    return true;
}

static size_t size_of_table(const struct subtable *t) {
    return t->slots != no_slots ? mapped_slots(t->mask + 1) * sizeof(struct slot) : 0;
}

static size_t first_tables_size(void) {
    return HD_POINTER_SUBTABLES * mapped_slots(HD_POINTER_INITIAL_SLOTS_SAMPLED) * sizeof(struct slot);
}

/* A piece of first_tables (never unmapped alone). Told by its address, so
 * that struct subtable stays 32 bytes, indexed by a shift on the hot path. */
static bool shared_table(const struct subtable *t) {
    return first_tables && t->slots >= first_tables &&
           t->slots < first_tables + HD_POINTER_SUBTABLES * mapped_slots(HD_POINTER_INITIAL_SLOTS_SAMPLED);
}

/* A sampling sub-table's first table: its piece of first_tables. */
static struct slot *first_table(const struct subtable *t) {
    if (!first_tables && !(first_tables = hd_pages_alloc(first_tables_size())))
        return NULL;
    return first_tables + (size_t)(t - tables) * mapped_slots(HD_POINTER_INITIAL_SLOTS_SAMPLED);
}

/* Doubles the sub-table (again, in the unlikely case that a run of the
 * bigger one would reach its end). */
static bool grow(struct subtable *t) {
    bool allocated = t->slots != no_slots;
    size_t homes = allocated ? (t->mask + 1) * 2
                   : hd_config.sample_rate ? HD_POINTER_INITIAL_SLOTS_SAMPLED
                                           : HD_POINTER_INITIAL_SLOTS;
    for (;; homes *= 2) {
        /* A grown table is filled at once, most of its pages touched: mapped
         * populated, one call instead of a fault a page (the STL workload:
         * 1.71x -> 1.61x wall). */
        size_t bytes = mapped_slots(homes) * sizeof(struct slot);
        bool shared = !allocated && homes == HD_POINTER_INITIAL_SLOTS_SAMPLED;
        struct slot *fresh = shared ? first_table(t) : allocated ? hd_pages_alloc_now(bytes) : hd_pages_alloc(bytes);
        if (!fresh)
            return false;
        const struct slot *s = t->slots;
        size_t used = 0;
        while (s < t->end && (!s->ptr || (used++, place(fresh, homes - 1, *s))))
            s++;
        if (s == t->end) {
            if (allocated && !shared_table(t))
                hd_pages_free(t->slots, size_of_table(t));
            t->slots = fresh;
            t->mask = homes - 1;
            t->end = fresh + homes - 1 + tail_slots(homes);
            t->room = homes / 4 * 3 > used ? homes / 4 * 3 - used : 0;
            if (homes > HD_POINTER_INITIAL_SLOTS && !hd_config.sample_rate)
                noting = true;   /* (a sampled free is removed at once: hd_record_free_later) */
            return true;
        }
        if (!shared)
            hd_pages_free(fresh, mapped_slots(homes) * sizeof *fresh);
        /* (a first table's run cannot reach its end: it starts empty) */
    }
}

/* Room for one more block: grow past 3/4 full; if that fails, fill on
 * until a run reaches the empty end (insert checks). */
static __attribute__((noinline)) bool make_room(struct subtable *t) {
    if (grow(t))   /* (mapping keeps errno: mmap_arena.c) */
        return true;
    if (t->slots == no_slots)
        return false;
    t->room = SIZE_MAX / 2;
    return true;
}

/* A run reached the empty end: the free slot for hash h in the sub-table
 * grown, or NULL if it cannot grow. */
static __attribute__((noinline)) struct slot *slot_past_end(struct subtable *t, uint64_t h) {
    struct slot *s = NULL;
    while (!s && grow(t)) {
        for (s = t->slots + (h & t->mask); s->ptr; s++)
            ;
        if (s == t->end)
            s = NULL;
    }
    return s;
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


static void remove_noted(size_t i);

/* Before the table is asked about ptr: its noted free, removed. */
static inline __attribute__((always_inline)) void settle_address(uintptr_t ptr, uint64_t h) {
    if (HD_UNLIKELY(freed[note_index(h)] == ptr))
        remove_noted(note_index(h));
}

static inline __attribute__((always_inline)) void insert(uintptr_t ptr, uint64_t size, struct hd_trace *trace,
                                                         bool fresh, bool sampled) {
    uint64_t h = mix(ptr);
    settle_address(ptr, h);   /* freed a moment ago, and handed straight back */
    struct subtable *t = table_of(h);
    __asm__("" : "+r"(t));   /* kept, not recomputed from a spilled index at each use */
    if (HD_UNLIKELY(t->room == 0) && !make_room(t)) {
        hd_traces_dropped = true;   /* no memory for bookkeeping: block goes untraced */
        return;
    }
    struct slot *s = t->slots + (h & t->mask);
    bool entered = true;
    if (s->ptr) {   /* (a home slot is never the end) */
        while (s->ptr && s->ptr != ptr)
            s++;
        entered = s->ptr != ptr;
        if (entered && HD_UNLIKELY(s == t->end) && !(s = slot_past_end(t, h))) {
            hd_traces_dropped = true;
            return;
        }
    }
    if (entered) {
        t->room--;
    } else {
        forget_counts(s->trace, s->size, sampled);   /* its free went by untraced */
    }
    *s = (struct slot){ptr, size, trace};
    add_counts(trace, size, fresh, sampled);
    if (entered && sampled)
        hd_sample_filter_add(ptr);   /* after the slot: a filter rebuilt now from the table has it */
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
    settle_address(ptr, h);
    struct subtable *t = table_of(h);
    struct slot *s = t->slots + (h & t->mask);
    while (s->ptr != ptr) {
        if (!s->ptr)
            return NULL;
        s++;
    }
    return s;
}

bool hd_pointer_contains(uintptr_t ptr) {
    return find(ptr) != NULL;
}

bool hd_pointer_size(uintptr_t ptr, uint64_t *size) {
    const struct slot *slot = find(ptr);
    if (slot)
        *size = slot->size;
    return slot != NULL;
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

static inline __attribute__((always_inline)) bool remove_slot(uintptr_t ptr, uint64_t h, uint64_t *size,
                                                              struct hd_trace **trace, bool sampled) {
    struct subtable *t = table_of(h);
    struct slot *s = t->slots + (h & t->mask);
    while (s->ptr != ptr) {
        if (!s->ptr)
            return false;
        s++;
    }
    *size = s->size;
    *trace = s->trace;
    forget_counts(*trace, *size, sampled);
    if (sampled)
        hd_sample_filter_remove(ptr);
    /* Backward shift: pull later members of the run into the hole unless
     * their home slot lies after it (no run wraps around). */
    struct slot *hole = s;
    for (struct slot *next = s + 1; next->ptr; next++) {
        if (t->slots + (mix(next->ptr) & t->mask) <= hole) {
            *hole = *next;
            hole = next;
        }
    }
    hole->ptr = 0;
    t->room++;
    return true;
}

static inline __attribute__((always_inline)) bool remove_block(uintptr_t ptr, uint64_t *size,
                                                               struct hd_trace **trace, bool sampled) {
    uint64_t h = mix(ptr);
    settle_address(ptr, h);   /* freed already: then nothing is left to remove */
    return remove_slot(ptr, h, size, trace, sampled);
}

static void remove_noted(size_t i) {
    uintptr_t ptr = freed[i];
    freed[i] = 0;
    uint64_t size;
    struct hd_trace *trace;
    (void)remove_slot(ptr, mix(ptr), &size, &trace, false);
}

void hd_pointer_settle(void) {
    for (size_t i = 0; i < HD_FREED_NOTES; i++)
        if (freed[i])
            remove_noted(i);
}

__attribute__((always_inline)) inline void hd_pointer_forget_later(uintptr_t ptr) {
    uint64_t h = mix(ptr);
    uint64_t size;
    struct hd_trace *trace;
    if (!noting) {   /* (no notes then: nothing to settle) */
        (void)remove_slot(ptr, h, &size, &trace, false);
        return;
    }
    const struct subtable *t = table_of(h);
    __builtin_prefetch(&t->slots[h & t->mask], 1);
    size_t i = note_index(h);
    uintptr_t earlier = freed[i];
    freed[i] = ptr;
    if (earlier)
        (void)remove_slot(earlier, mix(earlier), &size, &trace, false);
}

static __attribute__((noinline)) bool remove_sampled(uintptr_t ptr, uint64_t *size, struct hd_trace **trace) {
    return remove_block(ptr, size, trace, true);
}

__attribute__((always_inline)) inline bool hd_pointer_remove(uintptr_t ptr, uint64_t *size, struct hd_trace **trace) {
    if (HD_UNLIKELY(hd_config.sample_rate)) {
        /* (through copies: the caller's variables, unused by a free, stay
         * out of memory on the inlined path) */
        uint64_t sampled_size;
        struct hd_trace *sampled_trace;
        if (!remove_sampled(ptr, &sampled_size, &sampled_trace))
            return false;
        *size = sampled_size;
        *trace = sampled_trace;
        return true;
    }
    return remove_block(ptr, size, trace, false);
}

size_t hd_pointer_table_memory(void) {
    size_t n = 0;
    for (int i = 0; i < HD_POINTER_SUBTABLES; i++)
        n += size_of_table(&tables[i]);
    return n;
}

void hd_pointer_table_clear(void) {
    for (size_t i = 0; i < HD_FREED_NOTES; i++)
        freed[i] = 0;
    noting = false;
    for (int i = 0; i < HD_POINTER_SUBTABLES; i++) {
        if (tables[i].slots != no_slots && !shared_table(&tables[i]))
            hd_pages_free(tables[i].slots, size_of_table(&tables[i]));
        tables[i] = NO_TABLE;
    }
    hd_pages_free(first_tables, first_tables_size());
    first_tables = NULL;
    hd_live_bytes_now = hd_peak_live_bytes = 0;
}

void hd_pointer_each(void (*visit)(uintptr_t ptr, void *context), void *context) {
    hd_pointer_settle();
    for (int i = 0; i < HD_POINTER_SUBTABLES; i++)
        for (const struct slot *s = tables[i].slots; s < tables[i].end; s++)
            if (s->ptr)
                visit(s->ptr, context);
}
