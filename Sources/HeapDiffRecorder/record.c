/* The one recording function every allocation hook calls: skips the
 * recorder's own frames in the stack the hook captured (capture.h), interns
 * the stack and files the block under it; and its counterpart for frees. */
#define _GNU_SOURCE
#include <link.h>
#include <string.h>
#include "capture.h"

int hd_state = HD_STATE_UNRESOLVED;
__thread int hd_guard __attribute__((tls_model("initial-exec")));

__thread uintptr_t hd_capture[HD_CAPTURE_MAX] __attribute__((tls_model("initial-exec")));

/* Our own text: frames in it are skipped, whatever the compiler inlined. */
static uintptr_t self_start, self_end;

static int find_self(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    uintptr_t probe = (uintptr_t)data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (probe >= start && probe < start + ph->p_memsz) {
            self_start = start;
            self_end = start + ph->p_memsz;
            return 1;
        }
    }
    return 0;
}

void hd_record_init(void) {
    dl_iterate_phdr(find_self, (void *)(uintptr_t)&hd_record_alloc);
    /* Per-thread caches of unwind info: no global lock on the hot path. */
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

static inline bool is_self(uintptr_t ip) {
    return ip >= self_start && ip < self_end;
}

/* Per-thread cache of recently seen stacks: a hit finds the trace without
 * touching the shared table. Entries stay valid because traces are never
 * freed; a hit is confirmed by comparing the frames, not just the hash. */
enum { HD_TRACE_CACHE = 64 };
static __thread struct hd_trace *trace_cache[HD_TRACE_CACHE] __attribute__((tls_model("initial-exec")));

void hd_record_alloc(void *ptr, size_t size, int n) {
    const uintptr_t *capture = hd_capture;
    int first = 0;
    while (first < n && is_self(capture[first]))
        first++;
    uint32_t count = (uint32_t)(n - first), flags = 0;
    if (count > hd_config.depth) {
        count = hd_config.depth;
        flags |= HD_TRACE_FLAG_TRUNCATED;
    }
    const uintptr_t *frames = capture + first;
    uint64_t hash = hd_trace_hash(frames, count, flags);
    struct hd_trace **cached = &trace_cache[(hash >> 20) & (HD_TRACE_CACHE - 1)];
    struct hd_trace *trace = *cached;
    hd_lock();
    if (!trace || !hd_trace_matches(trace, hash, frames, count, flags))
        trace = *cached = hd_trace_intern(hash, frames, count, flags);
    if (trace)
        hd_pointer_insert((uintptr_t)ptr, size, trace);
    hd_unlock();
}

bool hd_record_free(void *ptr, uint64_t *size, struct hd_trace **trace) {
    hd_lock();
    bool traced = hd_pointer_remove((uintptr_t)ptr, size, trace);
    hd_unlock();
    return traced;
}

void hd_record_restore(void *ptr, uint64_t size, struct hd_trace *trace) {
    hd_lock();
    hd_pointer_restore((uintptr_t)ptr, size, trace);
    hd_unlock();
}
