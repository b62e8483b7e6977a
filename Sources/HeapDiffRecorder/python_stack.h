/* python_stack.c: which interpreter; the allocating thread's Python frames
 * (read by python_frames.h). */
#ifndef HEAPDIFF_PYTHON_STACK_H
#define HEAPDIFF_PYTHON_STACK_H

#include "python_layout.h"

struct hd_python {
    bool enabled;                      /* a supported CPython: read its frames */
    bool native_inner;                 /* stop unwinding at the innermost eval loop */
    uint32_t hexversion;               /* PY_VERSION_HEX; 0 when not CPython */
    int (*is_initialized)(void);       /* Py_IsInitialized, in every version */
    const struct hd_py_layout *layout;
    int (*capture)(void);              /* the capture for this layout */
    uintptr_t runtime, code_type, str_type, bytes_type;
    uintptr_t eval_start, eval_end;    /* _PyEval_EvalFrameDefault */
    /* Attached (libheapdiff-attach.so) to 3.13+, whose domains are not
     * wrapped: PyThreadState_GetUnchecked, a thread-local read. */
    uintptr_t (*own_thread_state)(void);
};
extern struct hd_python hd_python HD_HIDDEN;
/* Under Python code, native frames that the probe unwinds before looking for
 * the eval loop (HEAPDIFF_PYTHON_NATIVE=inner). */
enum { HD_PY_PROBE_FRAMES = 20 };
/* Native frames kept when the probe does not reach the eval loop. */
enum { HD_PY_DEEP_NATIVE_FRAMES = 8 };
/* The allocating thread's Python stack, innermost first, as HD_PYFRAME_MAKE
 * frames, and how many of them each eval-loop invocation runs (group 0 is
 * the innermost invocation's). Filled by hd_python_capture. */
extern __thread uint64_t hd_py_frames[HD_TRACE_MAX_FRAMES] HD_HIDDEN __attribute__((tls_model("initial-exec")));
extern __thread uint16_t hd_py_groups[HD_TRACE_MAX_FRAMES] HD_HIDDEN __attribute__((tls_model("initial-exec")));
extern __thread int hd_py_count HD_HIDDEN __attribute__((tls_model("initial-exec")));
extern __thread int hd_py_group_count HD_HIDDEN __attribute__((tls_model("initial-exec")));
/* Set by the allocator-domain hooks whose callers hold the GIL by contract
 * (PyMem_*, PyObject_*): the GIL holder is then this thread (3.13). */
extern __thread bool hd_py_gil_promised HD_HIDDEN __attribute__((tls_model("initial-exec")));
/* At start-up: is this CPython, which version; its allocator domains hooked
 * (python_alloc.c) once the interpreter starts. */
void hd_python_init(void) HD_HIDDEN;
/* Fills hd_py_frames when this thread holds the GIL and runs Python code;
 * returns hd_py_count (0 otherwise). */
static inline int hd_python_capture(void) {
    return hd_python.capture();
}
/* A CPython process whose interpreter is finalizing or gone, for a snapshot
 * taken by `trigger` (the PYTHON_FINALIZING flag). */
bool hd_python_finalizing(uint32_t trigger) HD_HIDDEN;
static inline bool hd_python_is_eval(uintptr_t ip) {
    return ip >= hd_python.eval_start && ip < hd_python.eval_end;
}

#endif
