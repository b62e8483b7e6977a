/* The one recording function every allocation hook calls: captures the call
 * stack with libunwind, interns it, and files the block under it. */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <link.h>
#include <string.h>
#include "recorder.h"

int hd_state = HD_STATE_UNRESOLVED;
__thread int hd_guard __attribute__((tls_model("initial-exec")));

/* Frames are captured into a per-thread buffer reused across calls (no
 * stack-size surprises for programs with small thread stacks). Room for the
 * deepest stack we keep, our own frames above it, and one more to tell a
 * truncated stack from one that fits exactly. */
enum { HD_SELF_FRAMES_MAX = 8, HD_CAPTURE_MAX = HD_TRACE_MAX_FRAMES + HD_SELF_FRAMES_MAX + 1 };
static __thread uintptr_t capture[HD_CAPTURE_MAX] __attribute__((tls_model("initial-exec")));

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

void hd_record_alloc(void *ptr, size_t size) {
    int n = unw_backtrace((void **)capture, (int)(hd_config.depth + HD_SELF_FRAMES_MAX + 1));
    int first = 0;
    while (first < n && is_self(capture[first]))
        first++;
    uint32_t count = (uint32_t)(n - first), flags = 0;
    if (count > hd_config.depth) {
        count = hd_config.depth;
        flags |= HD_TRACE_FLAG_TRUNCATED;
    }
    struct hd_trace *trace = hd_trace_intern(capture + first, count, flags);
    if (trace)
        hd_pointer_insert((uintptr_t)ptr, size, trace);
}
