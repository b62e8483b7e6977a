/* python_layout.c: where each CPython version keeps what the recorder reads. */
#ifndef HEAPDIFF_PYTHON_LAYOUT_H
#define HEAPDIFF_PYTHON_LAYOUT_H

#include "common.h"

/* Where one CPython version keeps what the recorder reads. 3.8 to 3.12:
 * offsets printed from each version's headers by scripts/python-layout.c
 * (a test checks them); 3.13: read at start-up from the interpreter's own
 * _Py_DebugOffsets, plus the few values it does not publish. */
enum hd_py_frame_kind {
    HD_PY_FRAME_OBJECTS,        /* 3.8-3.10: PyFrameObject chain, one eval-loop call each */
    HD_PY_INTERPRETER_FRAMES,   /* 3.11+: _PyInterpreterFrame chain, grouped by eval-loop call */
};
enum hd_py_gil_kind {
    HD_PY_GIL_RUNTIME,          /* 3.8-3.11: _PyRuntime.gilstate.tstate_current */
    HD_PY_GIL_MAIN_INTERPRETER, /* 3.12: _PyRuntime.interpreters.main->ceval.gil */
    HD_PY_GIL_OLDEST_INTERPRETER, /* 3.13: the tail of _PyRuntime.interpreters.head */
};
struct hd_py_layout {
    unsigned major, minor;
    enum hd_py_frame_kind frames;
    enum hd_py_gil_kind gil;
    size_t runtime_tstate_current;    /* HD_PY_GIL_RUNTIME */
    size_t runtime_main_interpreter;  /* HD_PY_GIL_MAIN_INTERPRETER */
    size_t runtime_interpreters_head, interpreter_next;   /* HD_PY_GIL_OLDEST_INTERPRETER */
    size_t interpreter_gil, gil_locked, gil_last_holder;  /* interp->ceval.gil, inside it */
    size_t runtime_finalizing;        /* set once Py_FinalizeEx tears down */
    /* This thread's own thread state: the interpreter's thread-specific
     * key (3.8-3.12), or the holder's thread_id against pthread_self (3.13,
     * whose key is not published). */
    bool own_by_thread_id;
    size_t runtime_tss_initialized, runtime_tss_key, tstate_thread_id;
    /* The innermost frame: tstate->frame (3.8-3.10), ->cframe->current_frame
     * (3.11, 3.12), ->current_frame (3.13). */
    bool has_cframe;
    size_t tstate_frame, cframe_current_frame;
    size_t frame_code, frame_previous;
    size_t frame_lasti;               /* HD_PY_FRAME_OBJECTS: int f_lasti */
    bool lasti_in_bytes;              /* before 3.10 f_lasti counts bytes, not code units */
    size_t frame_prev_instr, frame_owner;   /* HD_PY_INTERPRETER_FRAMES */
    /* An eval-loop invocation starts at a frame marked is_entry (3.11), or
     * under a shim frame owned by the C stack (3.12+). */
    bool has_is_entry;
    size_t frame_is_entry;
    unsigned owner_generator, owner_cstack;
    size_t code_filename, code_qualname, code_linetable, code_firstlineno, code_firsttraceable, code_code;
    size_t str_state, str_length, ascii_size, compact_size;
    size_t bytes_size, bytes_data;
    size_t type_flags, gc_head_size;  /* 3.13: an object's block starts before it (ref tracer) */
};
/* The layout for this version and the frame reader compiled for it (see
 * python_frames.h); NULL, after one warning, when there is none. runtime
 * is _PyRuntime, where 3.13+ publishes its offsets. */
struct hd_py_thread;
const struct hd_py_layout *hd_py_layout_for(unsigned major, unsigned minor, uintptr_t runtime,
                                            int (**capture)(struct hd_py_thread *py)) HD_HIDDEN;

#endif
