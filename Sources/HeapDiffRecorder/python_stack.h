/* python_stack.c: which interpreter; the allocating thread's Python frames
 * (read by python_frames.h). */
#ifndef HEAPDIFF_PYTHON_STACK_H
#define HEAPDIFF_PYTHON_STACK_H

#include "python_layout.h"
#include "python_stacks.h"

struct hd_python {
    bool enabled;                      /* a supported CPython: read its frames */
    bool native_inner;                 /* stop unwinding at the innermost eval loop */
    bool late;                         /* found running: attached, or loaded since start-up */
    uint32_t hexversion;               /* PY_VERSION_HEX; 0 when not CPython */
    int (*is_initialized)(void);       /* Py_IsInitialized, in every version */
    const struct hd_py_layout *layout;
    int (*capture)(struct hd_py_thread *py);   /* the capture for this layout */
    uintptr_t runtime, code_type, str_type, bytes_type;
    uintptr_t eval_start, eval_end;    /* _PyEval_EvalFrameDefault */
    /* Found late (attached, or loaded since start-up) in 3.13+, whose
     * domains may not be wrapped: PyThreadState_GetUnchecked, a
     * thread-local read. */
    uintptr_t (*own_thread_state)(void);
};
extern struct hd_python hd_python HD_HIDDEN;
/* Under Python code, native frames that the probe unwinds before looking for
 * the eval loop (HEAPDIFF_PYTHON_NATIVE=inner). */
enum { HD_PY_PROBE_FRAMES = 20 };
/* Native frames kept when the probe does not reach the eval loop. */
enum { HD_PY_DEEP_NATIVE_FRAMES = 8 };
/* The frame memo (struct hd_py_frame_memo, python_stacks.h): HD_FRAME_MEMOS
 * in the thread's buffers, for a thread without a stacks table (sampling at
 * 64 KiB or more, which reads few stacks; or no memory for the table). */
enum { HD_FRAME_MEMOS = 16 };
/* Per thread, the code objects seen last (python_code.c): a hit costs two
 * compares and no lock. Entries are never freed. While sampling only the
 * first HD_PYCODE_CACHE_SAMPLED are used: a sampled thread's buffers then
 * keep their last pages untouched (code_cache is last in them). */
enum { HD_PYCODE_CACHE = 256, HD_PYCODE_CACHE_SAMPLED = 32 };
struct hd_pycode;

/* One thread's Python state, part of its struct hd_thread (thread_state.h). */
struct hd_py_thread {
    /* The allocating thread's Python stack, innermost first, as
     * HD_PYFRAME_MAKE frames, and how many of them each eval-loop invocation
     * runs (group 0 is the innermost invocation's). Filled by
     * hd_python_capture. */
    int count, group_count;
    /* Set by the allocator-domain hooks whose callers hold the GIL by
     * contract (PyMem_*, PyObject_*): the GIL holder is then this thread (3.13). */
    bool gil_promised;
    /* 3.13: this thread's thread state, learned where the GIL is held by
     * contract and proven each time by the state's own thread id. */
    uintptr_t own_tstate;
    /* pthread_self(), learned at the first check (the buffers are this
     * thread's alone, fresh pages, and a fork child's thread keeps the
     * forking thread's): not a call into libc on every allocation. */
    uintptr_t self;
    uint64_t frames[HD_TRACE_MAX_FRAMES];
    uint16_t groups[HD_TRACE_MAX_FRAMES];
    /* python_stacks.c: this thread's whole stacks (NULL until the first
     * Python frame; freed with the thread's buffers), and the one captured last: found
     * (its frames and groups then copied into the arrays above only if
     * they are needed: FRAMES_PENDING), or to be filled with what the walk
     * and the recording find. RAW: the words that walk read. */
    struct hd_py_stacks *stacks;
    bool stacks_gone, frames_pending, id_failed;
    struct hd_py_stack *stack;
    struct hd_py_raw raw[HD_PY_RAW_MAX];
    /* How many frames the last decoding went through, to the outermost,
     * each running a code object or a shim (-1: it stopped short). */
    int walked;
    struct hd_py_frame_memo frame_memos[HD_FRAME_MEMOS];
    struct {   /* last in struct hd_thread_buffers: see HD_PYCODE_CACHE */
        uintptr_t code;
        const struct hd_pycode *entry;
        uint64_t code_epoch;     /* hd_py_code_epoch when the entry was last proven */
        uint32_t lines_cover;    /* what its line table copy covered when cached (it only grows) */
    } code_cache[HD_PYCODE_CACHE];
};
/* Is this CPython, which version. At start-up (late false) its allocator
 * domains are hooked (python_install.c) once the interpreter starts; found
 * running (late), the caller wraps them holding the GIL. */
void hd_python_init(bool late) HD_HIDDEN;
/* From the writer thread, at each tick: an interpreter loaded since
 * start-up (python_late.c). */
void hd_python_rescan(void) HD_HIDDEN;
void hd_python_late_forked(void) HD_HIDDEN;
/* Fills py->frames when this thread holds the GIL and runs Python code;
 * returns py->count (0 otherwise). */
static inline int hd_python_capture(struct hd_py_thread *py) {
    return hd_python.capture(py);
}
/* A CPython process whose interpreter is finalizing or gone, for a snapshot
 * taken by `trigger` (the PYTHON_FINALIZING flag). */
bool hd_python_finalizing(uint32_t trigger) HD_HIDDEN;
static inline bool hd_python_is_eval(uintptr_t ip) {
    return ip >= hd_python.eval_start && ip < hd_python.eval_end;
}

#endif
