/* Call stacks are interned once: every allocation from the same stack
 * shares one hd_trace, which carries that stack's counters. This is what
 * makes a snapshot's size grow with distinct stacks, not with allocations.
 *
 * Sharded by stack hash so threads allocating from different stacks rarely
 * meet on a lock. Each shard is a chained hash table over arena memory;
 * traces are never freed, so a trace pointer stays valid forever. */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include "recorder.h"

enum { HD_TRACE_SHARDS = 16, HD_TRACE_INITIAL_BUCKETS = 1024 };

struct trace_shard {
    pthread_mutex_t lock;
    struct hd_trace **buckets;
    size_t bucket_count;        /* power of two */
    size_t count;
    struct hd_trace *all;       /* every trace of the shard, newest first */
    struct hd_arena arena;
    size_t arena_bytes;
    char pad[64];
};

static struct trace_shard shards[HD_TRACE_SHARDS] = {
#define S PTHREAD_MUTEX_INITIALIZER
    [0 ... HD_TRACE_SHARDS - 1] = {.lock = S},
#undef S
};
bool hd_traces_dropped;

static uint64_t hash_frames(const uintptr_t *frames, uint32_t count) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ count;
    for (uint32_t i = 0; i < count; i++) {
        h ^= frames[i];
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    return h;
}

static bool grow(struct trace_shard *s) {
    size_t new_count = s->bucket_count ? s->bucket_count * 2 : HD_TRACE_INITIAL_BUCKETS;
    struct hd_trace **fresh = hd_pages_alloc(new_count * sizeof *fresh);
    if (!fresh)
        return false;
    for (struct hd_trace *t = s->all; t; t = t->all_next) {
        size_t b = (t->hash >> 8) & (new_count - 1);
        t->chain = fresh[b];
        fresh[b] = t;
    }
    hd_pages_free(s->buckets, s->bucket_count * sizeof *s->buckets);
    s->buckets = fresh;
    s->bucket_count = new_count;
    return true;
}

struct hd_trace *hd_trace_intern(const uintptr_t *frames, uint32_t count, uint32_t flags) {
    uint64_t hash = hash_frames(frames, count) ^ flags;
    struct trace_shard *s = &shards[hash & (HD_TRACE_SHARDS - 1)];
    size_t frame_bytes = count * sizeof *frames;
    pthread_mutex_lock(&s->lock);
    if (s->buckets) {
        for (struct hd_trace *t = s->buckets[(hash >> 8) & (s->bucket_count - 1)]; t; t = t->chain) {
            if (t->hash == hash && t->frame_count == count && t->flags == flags &&
                memcmp(t->frames, frames, frame_bytes) == 0) {
                pthread_mutex_unlock(&s->lock);
                return t;
            }
        }
    }
    struct hd_trace *t = NULL;
    if (s->count >= s->bucket_count * 3 / 4 && !grow(s) && !s->buckets)
        goto out;
    t = hd_arena_alloc(&s->arena, sizeof *t + frame_bytes);
    if (!t)
        goto out;
    s->arena_bytes += sizeof *t + frame_bytes;
    memset(t, 0, sizeof *t);
    t->hash = hash;
    t->frame_count = count;
    t->flags = flags;
    memcpy(t->frames, frames, frame_bytes);
    size_t b = (hash >> 8) & (s->bucket_count - 1);
    t->chain = s->buckets[b];
    s->buckets[b] = t;
    t->all_next = s->all;
    s->all = t;
    s->count++;
out:
    if (!t)
        hd_traces_dropped = true;
    pthread_mutex_unlock(&s->lock);
    return t;
}

void hd_trace_table_lock_all(void) {
    for (int i = 0; i < HD_TRACE_SHARDS; i++)
        pthread_mutex_lock(&shards[i].lock);
}

void hd_trace_table_unlock_all(void) {
    for (int i = HD_TRACE_SHARDS - 1; i >= 0; i--)
        pthread_mutex_unlock(&shards[i].lock);
}

/* In a fork child only the forking thread exists; locks held by vanished
 * threads would never be released, so they are made anew. */
void hd_trace_table_reinit_locks(void) {
    for (int i = 0; i < HD_TRACE_SHARDS; i++)
        pthread_mutex_init(&shards[i].lock, NULL);
}

void hd_trace_table_each(void (*visit)(struct hd_trace *, void *), void *context) {
    for (int i = 0; i < HD_TRACE_SHARDS; i++)
        for (struct hd_trace *t = shards[i].all; t; t = t->all_next)
            visit(t, context);
}

size_t hd_trace_table_count(void) {
    size_t n = 0;
    for (int i = 0; i < HD_TRACE_SHARDS; i++)
        n += shards[i].count;
    return n;
}

size_t hd_trace_table_memory(void) {
    size_t n = 0;
    for (int i = 0; i < HD_TRACE_SHARDS; i++)
        n += shards[i].arena_bytes + shards[i].bucket_count * sizeof(struct hd_trace *);
    return n;
}
