/* Stack capture, inlined into each allocation hook, so that the hook's own
 * frame address and return address say where the program's stack starts.
 *
 * A stack this thread has seen from the same hook frame is proven from
 * the stack words it was read from (the memo, native_unwind.h); anything
 * else is walked (native_unwind.c). Under Python code (CPython, GIL held)
 * the Python frames say where the allocation comes from, and native frames
 * outside the innermost eval loop are the interpreter's own: only the
 * frames up to that eval loop are taken, and the innermost Python frame
 * is part of the memo's key, since many native paths share one hook frame
 * (every object goes through the same PyObject_Malloc). */
#ifndef HEAPDIFF_CAPTURE_H
#define HEAPDIFF_CAPTURE_H

#include "thread_state.h"

/* The stack at the hook, into OUT; under Python code also the thread's
 * Python frames (in its buffers). B: those buffers when the caller has
 * them at hand (hd_buffers), else NULL: they are then made only if needed,
 * as a stack the memo proves reads nothing but the memo (in TLS).
 * False when the thread has no buffers and none can be made: nothing is
 * recorded then (the snapshots say so). */
static inline __attribute__((always_inline)) bool hd_capture_stack(struct hd_thread *t, struct hd_thread_buffers *b,
                                                                   struct hd_stack *out) {
    uintptr_t base = (uintptr_t)__builtin_frame_address(0), caller = (uintptr_t)__builtin_return_address(0);
    uint64_t tag = 0;
    bool python = false;
    if (HD_UNLIKELY(hd_python.enabled)) {
        if (!b && HD_UNLIKELY(!(b = hd_buffers(t))))
            return false;
        /* (errno left alone: reading frames calls nothing that sets it, and
         * what maps memory for a new stack keeps it: mmap_arena.c.) */
        b->py.count = 0;
        if (hd_python_capture(&b->py) > 0 && hd_python.native_inner) {
            python = true;
            tag = b->py.frames[0];
        }
    }
    /* (HEAPDIFF_UNWIND=libunwind or verify: hd_unwind decides, one test here.) */
    if (HD_LIKELY(hd_config.unwind == HD_UNWIND_FAST) && hd_memo_find(t->memos, base, caller, tag, out))
        return true;
    if (!b && HD_UNLIKELY(!(b = hd_buffers(t))))
        return false;
    *out = hd_unwind(&b->unwind, &t->memos, base, caller, tag, python);
    return true;
}

#endif
