/* Call stacks are interned once: every allocation from the same stack
 * shares one hd_trace, which carries that stack's counters. This is what
 * makes a snapshot's size grow with distinct stacks, not with allocations.
 *
 * Interned in an hd_intern_table (intern_table.h), guarded by hd_lock. A
 * trace's frames are its node in the prefix tree of every interned stack
 * (trace_tree.c); a short one also keeps them flat.
 * Traces are never freed, so a trace pointer stays valid for the life of
 * the process (record.c's per-thread cache relies on that). */
#define _GNU_SOURCE
#include <string.h>
#include "config.h"
#include "intern_table.h"
#include "trace_table.h"
#include "trace_tree.h"

static struct hd_intern_table table = {.initial_buckets = 4096};
bool hd_traces_dropped;

/* A stack may come in two pieces, FRAMES then MORE (native frames, then the
 * Python frames merged after them): hashed, compared and copied as the one
 * stack they make, without first copying them together.
 *
 * Frames are hashed from the outermost in, so that the outer piece's share
 * can be worked out once and kept (a remembered Python stack keeps its own,
 * python_stacks.c), and the count and flags last. One rotate, xor and
 * multiply a frame: the rotation carries every earlier frame's high bits
 * into the low bits the next product spreads; the final mix spreads the
 * whole into the low bits the tables index by. Equality is always confirmed
 * by comparing frames, so this only needs to spread well. (About five
 * instructions a frame; independent products rotated by position took ten.) */
uint64_t hd_trace_hash_frames(uint64_t h, const uintptr_t *frames, uint32_t count) {
    uint32_t i = count;
    for (; i >= 2; i -= 2) {
        h = (((h << 23) | (h >> 41)) ^ frames[i - 1]) * 0x9E3779B97F4A7C15ull;
        h = (((h << 23) | (h >> 41)) ^ frames[i - 2]) * 0x9E3779B97F4A7C15ull;
    }
    if (i)
        h = (((h << 23) | (h >> 41)) ^ frames[0]) * 0x9E3779B97F4A7C15ull;
    return h;
}

uint64_t hd_trace_hash_finish(uint64_t h, uint32_t count, uint32_t flags) {
    h ^= ((uint64_t)flags << 32) ^ count;
    h *= 0x9E3779B97F4A7C15ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 29;
    return h;
}

uint64_t hd_trace_hash(const uintptr_t *frames, uint32_t count, uint32_t flags, const uintptr_t *more, uint32_t more_count) {
    uint64_t h = more_count ? hd_trace_hash_frames(HD_TRACE_HASH_SEED, more, more_count) : HD_TRACE_HASH_SEED;
    return hd_trace_hash_finish(hd_trace_hash_frames(h, frames, count), count + more_count, flags);
}

static inline __attribute__((always_inline)) bool matches(const struct hd_trace *t, uint64_t hash,
                                                          const uintptr_t *frames, uint32_t count, uint32_t flags,
                                                          const uintptr_t *more, uint32_t more_count) {
    if (t->link.hash != hash || t->frame_count != count + more_count || t->flags != flags)
        return false;
    if (!t->flat)
        return hd_tree_is_path(t->node, frames, count, more, more_count);
    return memcmp(t->frames, frames, count * sizeof *frames) == 0 &&
           (!more_count || memcmp(t->frames + count, more, more_count * sizeof *more) == 0);
}

bool hd_trace_matches(const struct hd_trace *t, uint64_t hash, const uintptr_t *frames, uint32_t count,
                      uint32_t flags, const uintptr_t *more, uint32_t more_count) {
    return matches(t, hash, frames, count, flags, more, more_count);
}

/* Whether a new trace keeps a flat copy of its frames (trace_table.h). A
 * second piece is Python frames; so may be some of one piece's. Sampling
 * looks a stack up only for the few allocations it samples, so the flat
 * copy would not pay for its memory: the tree alone holds them. */
static bool keeps_flat_copy(const uintptr_t *frames, uint32_t count, uint32_t total, uint32_t more_count) {
    bool flat = !hd_config.sample_rate && (total <= HD_TRACE_FLAT_PYTHON || more_count == 0);
    for (uint32_t i = 0; i < count && flat && total > HD_TRACE_FLAT_PYTHON; i++)
        flat = !hd_pyframe_is(frames[i]);
    return flat;
}

/* A stack seen for the first time, whose innermost frame is tree node
 * NODE (UINT32_MAX: out of memory). */
static inline __attribute__((always_inline)) struct hd_trace *create(uint64_t hash, uint32_t node,
                                                                     const uintptr_t *frames, uint32_t count,
                                                                     uint32_t flags, const uintptr_t *more,
                                                                     uint32_t more_count, bool flat) {
    uint32_t total = count + more_count;
    /* Sampling interns a few hundred stacks: 4 KiB of buckets, not 32 KiB,
     * every page of which a few hundred would touch. */
    if (HD_UNLIKELY(table.bucket_count == 0) && hd_config.sample_rate)
        table.initial_buckets = 512;
    struct hd_trace *t = node == UINT32_MAX ? NULL
                         : hd_intern_alloc(&table, sizeof(struct hd_trace) + (flat ? total * sizeof *frames : 0));
    if (!t) {
        hd_traces_dropped = true;
        return NULL;
    }
    memset(t, 0, sizeof *t);
    t->frame_count = total;
    t->flags = flags;
    t->node = node;
    t->flat = flat;
    if (flat) {
        memcpy(t->frames, frames, count * sizeof *frames);
        if (more_count)
            memcpy(t->frames + count, more, more_count * sizeof *more);
    }
    hd_intern_add(&table, &t->link, hash);
    return t;
}

/* A stack not found by its frames: out of line, so that looking up one
 * already interned (most calls) stays a small function. */
static __attribute__((noinline)) struct hd_trace *create_new(uint64_t hash, const uintptr_t *frames, uint32_t count,
                                                             uint32_t flags, const uintptr_t *more,
                                                             uint32_t more_count) {
    return create(hash, hd_tree_path(frames, count, more, more_count), frames, count, flags, more, more_count,
                  keeps_flat_copy(frames, count, count + more_count, more_count));
}

/* Native frames and Python frames, kept only as a tree node
 * (keeps_flat_copy): its node first. A node just made is a stack never
 * interned, which needs no lookup (most of a Python start-up's stacks,
 * each lookup a cache miss or two in a table of megabytes); an old one is
 * compared as a number, not by walking its path up the tree (a node is
 * one stack's frames, however they were cut in pieces). */
static __attribute__((noinline)) struct hd_trace *intern_by_node(uint64_t hash, const uintptr_t *frames,
                                                                 uint32_t count, uint32_t flags,
                                                                 const uintptr_t *more, uint32_t more_count) {
    uint32_t made = hd_tree_node_count();
    uint32_t node = hd_tree_path(frames, count, more, more_count);
    if (node != UINT32_MAX && node < made)
        for (struct hd_interned *e = hd_intern_chain(&table, hash); e; e = e->chain) {
            const struct hd_trace *t = (const struct hd_trace *)e;
            if (t->node == node && e->hash == hash && t->frame_count == count + more_count && t->flags == flags)
                return (struct hd_trace *)e;
        }
    return create(hash, node, frames, count, flags, more, more_count, false);
}

/* Out of line. (It may map memory, which keeps errno: mmap_arena.c.) */
struct hd_trace *hd_trace_intern(uint64_t hash, const uintptr_t *frames, uint32_t count, uint32_t flags,
                                 const uintptr_t *more, uint32_t more_count) {
    if (more_count && count + more_count > HD_TRACE_FLAT_PYTHON)
        return intern_by_node(hash, frames, count, flags, more, more_count);
    /* One piece (native stacks) or two: the chain compared with the pieces' count known. */
    if (!more_count) {
        for (struct hd_interned *e = hd_intern_chain(&table, hash); e; e = e->chain)
            if (matches((struct hd_trace *)e, hash, frames, count, flags, NULL, 0))
                return (struct hd_trace *)e;
    } else {
        for (struct hd_interned *e = hd_intern_chain(&table, hash); e; e = e->chain)
            if (matches((struct hd_trace *)e, hash, frames, count, flags, more, more_count))
                return (struct hd_trace *)e;
    }
    return create_new(hash, frames, count, flags, more, more_count);
}

void hd_trace_table_each(void (*visit)(struct hd_trace *, void *), void *context) {
    for (struct hd_interned *e = table.all; e; e = e->all_next)
        visit((struct hd_trace *)e, context);
}

size_t hd_trace_table_count(void) {
    return table.count;
}

size_t hd_trace_table_memory(void) {
    return hd_intern_memory(&table) + hd_tree_memory();
}
