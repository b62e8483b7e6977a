/* Call stacks are interned once: every allocation from the same stack
 * shares one hd_trace, which carries that stack's counters. This is what
 * makes a snapshot's size grow with distinct stacks, not with allocations.
 *
 * A chained hash table over arena memory, guarded by hd_lock. Traces are
 * never freed, so a trace pointer stays valid for the life of the process
 * (record.c's per-thread cache relies on that). */
#define _GNU_SOURCE
#include <string.h>
#include "recorder.h"

enum { HD_TRACE_INITIAL_BUCKETS = 4096 };

static struct hd_trace **buckets;
static size_t bucket_count;     /* power of two */
static size_t trace_count;
static struct hd_trace *all;    /* every trace, newest first */
static struct hd_arena arena;
static size_t arena_bytes;
bool hd_traces_dropped;

/* The per-frame products are independent, so they pipeline instead of
 * forming one long dependency chain; the final mix spreads them. Equality is
 * always confirmed by comparing frames, so this only needs to spread well. */
uint64_t hd_trace_hash(const uintptr_t *frames, uint32_t count, uint32_t flags) {
    uint64_t h = ((uint64_t)flags << 32) ^ count;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t m = frames[i] * 0x9E3779B97F4A7C15ull;
        unsigned r = (i * 7) & 63;   /* position matters: rotate each product differently */
        h += r ? (m << r) | (m >> (64 - r)) : m;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 29;
    return h;
}

bool hd_trace_matches(const struct hd_trace *t, uint64_t hash, const uintptr_t *frames, uint32_t count,
                      uint32_t flags) {
    return t->hash == hash && t->frame_count == count && t->flags == flags &&
           memcmp(t->frames, frames, count * sizeof *frames) == 0;
}

static bool grow(void) {
    size_t new_count = bucket_count ? bucket_count * 2 : HD_TRACE_INITIAL_BUCKETS;
    struct hd_trace **fresh = hd_pages_alloc(new_count * sizeof *fresh);
    if (!fresh)
        return false;
    for (struct hd_trace *t = all; t; t = t->all_next) {
        size_t b = t->hash & (new_count - 1);
        t->chain = fresh[b];
        fresh[b] = t;
    }
    hd_pages_free(buckets, bucket_count * sizeof *buckets);
    buckets = fresh;
    bucket_count = new_count;
    return true;
}

struct hd_trace *hd_trace_intern(uint64_t hash, const uintptr_t *frames, uint32_t count, uint32_t flags) {
    if (buckets)
        for (struct hd_trace *t = buckets[hash & (bucket_count - 1)]; t; t = t->chain)
            if (hd_trace_matches(t, hash, frames, count, flags))
                return t;
    /* Past 3/4 load, grow; if that fails, longer chains still work. */
    if (trace_count >= bucket_count * 3 / 4 && !grow() && !buckets) {
        hd_traces_dropped = true;
        return NULL;
    }
    size_t size = sizeof(struct hd_trace) + count * sizeof *frames;
    struct hd_trace *t = hd_arena_alloc(&arena, size);
    if (!t) {
        hd_traces_dropped = true;
        return NULL;
    }
    arena_bytes += size;
    memset(t, 0, sizeof *t);
    t->hash = hash;
    t->frame_count = count;
    t->flags = flags;
    memcpy(t->frames, frames, count * sizeof *frames);
    size_t b = hash & (bucket_count - 1);
    t->chain = buckets[b];
    buckets[b] = t;
    t->all_next = all;
    all = t;
    trace_count++;
    return t;
}

void hd_trace_table_each(void (*visit)(struct hd_trace *, void *), void *context) {
    for (struct hd_trace *t = all; t; t = t->all_next)
        visit(t, context);
}

size_t hd_trace_table_count(void) {
    return trace_count;
}

size_t hd_trace_table_memory(void) {
    return arena_bytes + bucket_count * sizeof(struct hd_trace *);
}
