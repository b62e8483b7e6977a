/* trace_table.c: call stacks interned once, with per-stack counters. */
#ifndef HEAPDIFF_TRACE_TABLE_H
#define HEAPDIFF_TRACE_TABLE_H

#include "common.h"
#include "intern_table.h"

/* Every function here: the caller holds hd_lock. */

/* With sampling on, bytes and counts are estimates and counts have
 * fractions: they are kept in units of 2^-HD_COUNT_SHIFT blocks. Sample
 * counts are the sample points of the blocks recorded by sampling (not
 * those recorded whole), live and since start. */
enum { HD_COUNT_SHIFT = 16 };
struct hd_trace {
    struct hd_interned link;    /* first: the table's chain, list and hash */
    uint32_t frame_count, flags;
    uint64_t live_bytes, live_count, alloc_bytes, alloc_count;
    uint64_t live_samples, alloc_samples;
    uint32_t node;              /* its innermost frame's node in trace_tree.h's tree */
    uint32_t flat;              /* frames[] holds a copy of its frames */
    uintptr_t frames[];
};
/* Each takes a stack in up to two pieces, FRAMES then MORE (MORE_COUNT 0: one piece). */
uint64_t hd_trace_hash(const uintptr_t *frames, uint32_t count, uint32_t flags, const uintptr_t *more,
                       uint32_t more_count) HD_HIDDEN;
/* The same hash in steps: the outer piece's share (from the seed), kept
 * and continued with the inner piece's, then finished with the whole
 * stack's frame count and flags. */
enum { HD_TRACE_HASH_SEED = 0x243F6A88 };
uint64_t hd_trace_hash_frames(uint64_t h, const uintptr_t *frames, uint32_t count) HD_HIDDEN;
uint64_t hd_trace_hash_finish(uint64_t h, uint32_t count, uint32_t flags) HD_HIDDEN;
/* The trace for this stack, created on first sight; NULL when out of memory.
 * A new native stack (or a stack of at most HD_TRACE_FLAT_PYTHON frames)
 * also keeps a copy of its frames, so that comparing it
 * is a memcmp rather than a walk up the tree: the hot path's trace cache
 * compares a native stack's repeats each time. A stack with Python frames
 * is only its node, a few new nodes where a copy would take its 35-odd
 * frames: its repeats are found by the thread's Python stack table
 * (python_stacks.h) without a comparison. */
enum { HD_TRACE_FLAT_PYTHON = 16 };   /* a Python stack this short is copied too */
struct hd_trace *hd_trace_intern(uint64_t hash, const uintptr_t *frames, uint32_t count, uint32_t flags,
                                 const uintptr_t *more, uint32_t more_count) HD_HIDDEN __attribute__((noinline));
bool hd_trace_matches(const struct hd_trace *t, uint64_t hash, const uintptr_t *frames, uint32_t count,
                      uint32_t flags, const uintptr_t *more, uint32_t more_count) HD_HIDDEN;
void hd_trace_table_each(void (*visit)(struct hd_trace *, void *), void *context) HD_HIDDEN;
size_t hd_trace_table_count(void) HD_HIDDEN;
size_t hd_trace_table_memory(void) HD_HIDDEN;
extern bool hd_traces_dropped HD_HIDDEN;

#endif
