/* Live blocks: pointer -> (size, trace). Sharded open addressing with linear
 * probing and backward-shift deletion (no tombstones, so a long-running
 * program with heavy churn does not slowly fill its table with them).
 *
 * A block's trace counters are changed while its shard is locked; a snapshot
 * that holds every shard lock therefore sees no half-done update. */
#define _GNU_SOURCE
#include <pthread.h>
#include "recorder.h"

enum { HD_POINTER_SHARDS = 64, HD_POINTER_INITIAL_SLOTS = 1024 };

struct slot {
    uintptr_t ptr;              /* 0: empty */
    uint64_t size;
    struct hd_trace *trace;
};

struct pointer_shard {
    pthread_mutex_t lock;
    struct slot *slots;
    size_t mask;                /* slot count - 1 */
    size_t used;
    char pad[64];
};

static struct pointer_shard shards[HD_POINTER_SHARDS] = {
    [0 ... HD_POINTER_SHARDS - 1] = {.lock = PTHREAD_MUTEX_INITIALIZER},
};
uint64_t hd_live_bytes_now, hd_peak_live_bytes;

static inline uint64_t mix(uintptr_t p) {
    uint64_t h = (uint64_t)p * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

static inline struct pointer_shard *shard_of(uint64_t h) {
    return &shards[h >> 58];   /* top 6 bits: 64 shards */
}

static void place(struct slot *slots, size_t mask, struct slot entry) {
    size_t i = mix(entry.ptr) & mask;
    while (slots[i].ptr)
        i = (i + 1) & mask;
    slots[i] = entry;
}

static bool grow(struct pointer_shard *s) {
    size_t old_count = s->slots ? s->mask + 1 : 0;
    size_t new_count = old_count ? old_count * 2 : HD_POINTER_INITIAL_SLOTS;
    struct slot *fresh = hd_pages_alloc(new_count * sizeof *fresh);
    if (!fresh)
        return false;
    for (size_t i = 0; i < old_count; i++)
        if (s->slots[i].ptr)
            place(fresh, new_count - 1, s->slots[i]);
    hd_pages_free(s->slots, old_count * sizeof *s->slots);
    s->slots = fresh;
    s->mask = new_count - 1;
    return true;
}

static void count_alloc(struct hd_trace *t, uint64_t size, bool fresh) {
    __atomic_fetch_add(&t->live_bytes, size, __ATOMIC_RELAXED);
    __atomic_fetch_add(&t->live_count, 1, __ATOMIC_RELAXED);
    if (fresh) {
        __atomic_fetch_add(&t->alloc_bytes, size, __ATOMIC_RELAXED);
        __atomic_fetch_add(&t->alloc_count, 1, __ATOMIC_RELAXED);
    }
    uint64_t live = __atomic_add_fetch(&hd_live_bytes_now, size, __ATOMIC_RELAXED);
    uint64_t peak = __atomic_load_n(&hd_peak_live_bytes, __ATOMIC_RELAXED);
    while (live > peak &&
           !__atomic_compare_exchange_n(&hd_peak_live_bytes, &peak, live, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

static void count_free(struct hd_trace *t, uint64_t size) {
    __atomic_fetch_sub(&t->live_bytes, size, __ATOMIC_RELAXED);
    __atomic_fetch_sub(&t->live_count, 1, __ATOMIC_RELAXED);
    __atomic_fetch_sub(&hd_live_bytes_now, size, __ATOMIC_RELAXED);
}

static void insert(uintptr_t ptr, uint64_t size, struct hd_trace *trace, bool fresh) {
    struct pointer_shard *s = shard_of(mix(ptr));
    pthread_mutex_lock(&s->lock);
    if ((!s->slots || (s->used + 1) * 4 > (s->mask + 1) * 3) && !grow(s) &&
        (!s->slots || s->used == s->mask)) {
        hd_traces_dropped = true;   /* out of memory for bookkeeping: untraced */
        pthread_mutex_unlock(&s->lock);
        return;
    }
    place(s->slots, s->mask, (struct slot){ptr, size, trace});
    s->used++;
    count_alloc(trace, size, fresh);
    pthread_mutex_unlock(&s->lock);
}

void hd_pointer_insert(uintptr_t ptr, uint64_t size, struct hd_trace *trace) {
    insert(ptr, size, trace, true);
}

/* A block removed for a realloc that then failed: live again, but not a
 * new allocation. */
void hd_pointer_restore(uintptr_t ptr, uint64_t size, struct hd_trace *trace) {
    insert(ptr, size, trace, false);
}

bool hd_pointer_remove(uintptr_t ptr, uint64_t *size, struct hd_trace **trace) {
    struct pointer_shard *s = shard_of(mix(ptr));
    pthread_mutex_lock(&s->lock);
    if (!s->slots) {
        pthread_mutex_unlock(&s->lock);
        return false;
    }
    size_t i = mix(ptr) & s->mask;
    while (s->slots[i].ptr != ptr) {
        if (!s->slots[i].ptr) {
            pthread_mutex_unlock(&s->lock);
            return false;
        }
        i = (i + 1) & s->mask;
    }
    *size = s->slots[i].size;
    *trace = s->slots[i].trace;
    count_free(*trace, *size);
    /* Backward-shift: pull later members of the probe run into the hole. */
    size_t hole = i;
    for (size_t j = (i + 1) & s->mask; s->slots[j].ptr; j = (j + 1) & s->mask) {
        size_t home = mix(s->slots[j].ptr) & s->mask;
        /* move j into hole unless its home lies cyclically in (hole, j] */
        bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            s->slots[hole] = s->slots[j];
            hole = j;
        }
    }
    s->slots[hole].ptr = 0;
    s->used--;
    pthread_mutex_unlock(&s->lock);
    return true;
}

void hd_pointer_table_lock_all(void) {
    for (int i = 0; i < HD_POINTER_SHARDS; i++)
        pthread_mutex_lock(&shards[i].lock);
}

void hd_pointer_table_unlock_all(void) {
    for (int i = HD_POINTER_SHARDS - 1; i >= 0; i--)
        pthread_mutex_unlock(&shards[i].lock);
}

void hd_pointer_table_reinit_locks(void) {
    for (int i = 0; i < HD_POINTER_SHARDS; i++)
        pthread_mutex_init(&shards[i].lock, NULL);
}

size_t hd_pointer_table_memory(void) {
    size_t n = 0;
    for (int i = 0; i < HD_POINTER_SHARDS; i++)
        n += shards[i].slots ? (shards[i].mask + 1) * sizeof(struct slot) : 0;
    return n;
}
