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

/* Fills hd_capture, innermost first; returns the number of frames. */
static inline __attribute__((always_inline)) int hd_capture_stack(void) {
    return unw_backtrace((void **)hd_capture, (int)(hd_config.depth + HD_SELF_FRAMES_MAX + 1));
}

#endif
