/* Stack capture, inlined into each allocation hook: the hook is then the
 * only recorder frame that libunwind walks through and record.c skips
 * (unwinding costs ~86 instructions a frame, every allocation). */
#ifndef HEAPDIFF_CAPTURE_H
#define HEAPDIFF_CAPTURE_H

#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include "recorder.h"

/* A per-thread buffer reused across calls (no stack-size surprises for
 * programs with small thread stacks): room for the deepest stack kept, the
 * recorder's own frames above it, and one more to tell a truncated stack
 * from one that fits exactly. */
enum { HD_SELF_FRAMES_MAX = 8, HD_CAPTURE_MAX = HD_TRACE_MAX_FRAMES + HD_SELF_FRAMES_MAX + 1 };
extern __thread uintptr_t hd_capture[HD_CAPTURE_MAX] HD_HIDDEN __attribute__((tls_model("initial-exec")));
/* The capture stopped at the native probe: frames past the innermost eval
 * loop are missing, not absent. */
extern __thread bool hd_capture_probed HD_HIDDEN __attribute__((tls_model("initial-exec")));
/* Native frames found in the memo (python_unwind.c) are read from there,
 * not copied into hd_capture; NULL otherwise. */
extern __thread const uintptr_t *hd_capture_memo HD_HIDDEN __attribute__((tls_model("initial-exec")));

/* Under Python code (CPython, GIL held) the Python frames say where the
 * allocation comes from, and native frames outside the innermost eval loop
 * are the interpreter's own: only the frames up to that eval loop are
 * taken, from the per-thread memo when the stack proves it still holds
 * (python_unwind.c), else by unwinding them. */
struct hd_stack_memo {
    uintptr_t caller, base;    /* the hook's return address and frame address */
    uint64_t python;           /* the innermost Python frame */
    uint32_t count;
    int32_t slots[HD_PY_PROBE_FRAMES];   /* where ips[i] sits, from base */
    uintptr_t ips[HD_PY_PROBE_FRAMES];
};
/* Set-associative: one call site under one Python line often leads to
 * several native paths (a C encoder recursing through dicts and lists), and
 * they must not evict each other. */
enum { HD_MEMO_SETS = 128, HD_MEMO_WAYS = 16, HD_MEMO_COUNT = HD_MEMO_SETS * HD_MEMO_WAYS };
extern __thread struct hd_stack_memo *hd_memos HD_HIDDEN __attribute__((tls_model("initial-exec")));
/* The way of each set that hit last: tried first. */
extern __thread uint8_t hd_memo_recent[HD_MEMO_SETS] HD_HIDDEN __attribute__((tls_model("initial-exec")));
/* Different native paths often share the caller and frame address (every
 * object goes through the same PyObject_Malloc); the bytecode being run
 * tells them apart, so it is part of the key. */
static inline size_t hd_memo_set(uintptr_t caller, uintptr_t base, uint64_t python) {
    uint64_t h = (caller ^ (base << 7) ^ (python * 0xff51afd7ed558ccdull)) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 40) & (HD_MEMO_SETS - 1);
}
/* Unwinds from the hook's caller to the innermost eval loop (at most
 * HD_PY_PROBE_FRAMES frames) into hd_capture, sets hd_capture_probed when
 * it stopped before the end, and remembers the path; -1 on failure. */
int hd_python_unwind_slow(uintptr_t base, uintptr_t caller) HD_HIDDEN __attribute__((noinline));
void hd_python_unwind_init(void) HD_HIDDEN;

static inline __attribute__((always_inline)) int hd_capture_python(uintptr_t base, uintptr_t caller) {
    const struct hd_stack_memo *table = hd_memos;
    if (HD_LIKELY(table != NULL)) {
        uint64_t python = hd_py_frames[0];
        size_t set = hd_memo_set(caller, base, python);
        const struct hd_stack_memo *ways = &table[set * HD_MEMO_WAYS];
        unsigned recent = hd_memo_recent[set];
        for (unsigned n = 0; n < HD_MEMO_WAYS; n++) {
            unsigned way = (recent + n) % HD_MEMO_WAYS;
            const struct hd_stack_memo *memo = &ways[way];
            if (memo->caller != caller || memo->base != base || memo->python != python)
                continue;
            uint32_t i = 1;
            while (i < memo->count && *(const uintptr_t *)(base + (uintptr_t)memo->slots[i]) == memo->ips[i])
                i++;
            if (i == memo->count) {
                hd_memo_recent[set] = (uint8_t)way;
                hd_capture_probed = true;
                hd_capture_memo = memo->ips;
                return (int)memo->count;
            }
        }
    }
    return hd_python_unwind_slow(base, caller);
}

/* Fills hd_capture (or points hd_capture_memo at the frames), innermost
 * first, and hd_py_frames; returns the number of native frames. */
static inline __attribute__((always_inline)) int hd_capture_stack(void) {
    hd_py_count = 0;
    hd_capture_probed = false;
    hd_capture_memo = NULL;
    if (HD_UNLIKELY(hd_python.enabled) && hd_python_capture() > 0 && hd_python.native_inner) {
        int n = hd_capture_python((uintptr_t)__builtin_frame_address(0), (uintptr_t)__builtin_return_address(0));
        if (n > 0)
            return n;
    }
    return unw_backtrace((void **)hd_capture, (int)(hd_config.depth + HD_SELF_FRAMES_MAX + 1));
}

#endif
