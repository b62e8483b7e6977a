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

#include <errno.h>
#include "thread_state.h"

/* Also fills the thread's Python frames (in B, its buffers: hd_buffers)
 * under Python code. */
static inline __attribute__((always_inline)) struct hd_stack hd_capture_stack(struct hd_thread_buffers *b) {
    uintptr_t base = (uintptr_t)__builtin_frame_address(0), caller = (uintptr_t)__builtin_return_address(0);
    struct hd_unwind_thread *thread = &b->unwind;
    uint64_t tag = 0;
    bool python = false;
    b->py.count = 0;
    if (HD_UNLIKELY(hd_python.enabled)) {
        int saved = errno;   /* the hooks leave errno alone on their fast paths */
        if (hd_python_capture(&b->py) > 0 && hd_python.native_inner) {
            python = true;
            tag = b->py.frames[0];
        }
        errno = saved;
    }
    struct hd_stack stack;
    if (HD_LIKELY(hd_config.unwind != HD_UNWIND_LIBUNWIND) && hd_memo_find(thread, base, caller, tag, &stack))
        return HD_UNLIKELY(hd_config.unwind == HD_UNWIND_VERIFY) ? hd_unwind_verify(thread, stack, python) : stack;
    return hd_unwind(thread, base, caller, tag, python);
}

#endif
