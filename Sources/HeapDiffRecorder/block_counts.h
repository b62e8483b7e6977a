/* What one live block adds to its trace and to the process's live bytes
 * (pointer_table.c, which holds hd_lock around every use). */
#ifndef HEAPDIFF_BLOCK_COUNTS_H
#define HEAPDIFF_BLOCK_COUNTS_H

#include "recorder.h"

/* What one block adds to its trace. Exact: its size and one block. With
 * sampling on, counts are in 2^-HD_COUNT_SHIFT blocks: a block recorded
 * whole counts its size and one block; one recorded for n sample points
 * stands for n·R bytes, i.e. n·R / size blocks of its size, and n samples.
 * The functions below take `sampled` as a constant where they are inlined:
 * full recording (the default) tests hd_config.sample_rate once an
 * operation and touches only the exact counts; sampling's insertions and
 * removals (few: sampled blocks) run out of line. */
struct weight { uint64_t bytes, count, samples; };

/* A counter updated on its own: gcc would otherwise pack neighbouring
 * counters into SSE loads, shuffles and stores (8 instructions for what
 * two read-modify-writes do). The empty asm says the counter may have
 * changed, so it is not combined with the one before it. */
#define ON_ITS_OWN(counter) __asm__("" : "+m"(counter))

static inline __attribute__((always_inline)) struct weight weight_of(uint64_t size) {
    uint64_t rate = hd_config.sample_rate;
    uint64_t points = size >> HD_SIZE_BITS, bytes = size & ((1ull << HD_SIZE_BITS) - 1);
    if (points == 0)
        return (struct weight){bytes, 1ull << HD_COUNT_SHIFT, 0};
    uint64_t estimate = points * rate;
    return (struct weight){estimate, (estimate << HD_COUNT_SHIFT) / (bytes ? bytes : 1), points};
}

static inline __attribute__((always_inline)) void forget_counts(struct hd_trace *trace, uint64_t size, bool sampled) {
    if (!sampled) {
        trace->live_bytes -= size;
        ON_ITS_OWN(trace->live_count);
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

static inline __attribute__((always_inline)) void add_counts(struct hd_trace *trace, uint64_t size, bool fresh,
                                                             bool sampled) {
    if (!sampled) {
        trace->live_bytes += size;
        ON_ITS_OWN(trace->live_count);
        trace->live_count++;
        if (fresh) {
            ON_ITS_OWN(trace->alloc_bytes);   /* not paired with live_count either */
            trace->alloc_bytes += size;
            ON_ITS_OWN(trace->alloc_count);
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

#endif
