/* Where each CPython version keeps what the recorder reads. 3.8 to 3.12:
 * tables printed from each version's headers by scripts/python-layout.c
 * (PythonLayoutTests checks every value against them). 3.13: the offsets
 * the interpreter publishes for debuggers and profilers in _Py_DebugOffsets,
 * the first member of _PyRuntime (what py-spy, austin and memray read), and
 * the few values it does not publish, kept here and checked the same way.
 * Versions outside 3.8 to 3.13 get native frames only, with one warning. */
#define _GNU_SOURCE
#include <string.h>
#include "python_frames.h"

static const struct hd_py_layout layout_3_8 = {
    .major = 3, .minor = 8, .frames = HD_PY_FRAME_OBJECTS, .gil = HD_PY_GIL_RUNTIME,
    .runtime_tstate_current = 1368, .runtime_tss_initialized = 1392, .runtime_tss_key = 1396, .runtime_finalizing = 16,
    .tstate_frame = 24, .tstate_thread_id = 176, .frame_code = 32, .frame_previous = 24, .frame_lasti = 104, .lasti_in_bytes = true,
    .code_qualname = 112, .code_linetable = 120, .code_filename = 104, .code_firstlineno = 40,
    .str_state = 32, .str_length = 16, .ascii_size = 48, .compact_size = 72,
    .bytes_size = 16, .bytes_data = 32,
};

static const struct hd_py_layout layout_3_9 = {
    .major = 3, .minor = 9, .frames = HD_PY_FRAME_OBJECTS, .gil = HD_PY_GIL_RUNTIME,
    .runtime_tstate_current = 568, .runtime_tss_initialized = 584, .runtime_tss_key = 588, .runtime_finalizing = 16,
    .tstate_frame = 24, .tstate_thread_id = 176, .frame_code = 32, .frame_previous = 24, .frame_lasti = 104, .lasti_in_bytes = true,
    .code_qualname = 112, .code_linetable = 120, .code_filename = 104, .code_firstlineno = 40,
    .str_state = 32, .str_length = 16, .ascii_size = 48, .compact_size = 72,
    .bytes_size = 16, .bytes_data = 32,
};

static const struct hd_py_layout layout_3_10 = {
    .major = 3, .minor = 10, .frames = HD_PY_FRAME_OBJECTS, .gil = HD_PY_GIL_RUNTIME,
    .runtime_tstate_current = 568, .runtime_tss_initialized = 584, .runtime_tss_key = 588, .runtime_finalizing = 16,
    .tstate_frame = 24, .tstate_thread_id = 176, .frame_code = 32, .frame_previous = 24, .frame_lasti = 96,
    .code_qualname = 112, .code_linetable = 120, .code_filename = 104, .code_firstlineno = 40,
    .str_state = 32, .str_length = 16, .ascii_size = 48, .compact_size = 72,
    .bytes_size = 16, .bytes_data = 32,
};

static const struct hd_py_layout layout_3_11 = {
    .major = 3, .minor = 11, .frames = HD_PY_INTERPRETER_FRAMES, .gil = HD_PY_GIL_RUNTIME,
    .runtime_tstate_current = 576, .runtime_finalizing = 24, .runtime_tss_initialized = 592, .runtime_tss_key = 596,
    .has_cframe = true, .tstate_frame = 56, .tstate_thread_id = 152, .cframe_current_frame = 8,
    .frame_code = 32, .frame_previous = 48, .frame_prev_instr = 56, .frame_owner = 69,
    .has_is_entry = true, .frame_is_entry = 68, .owner_generator = 1, .owner_cstack = 0xFF,
    .code_filename = 112, .code_qualname = 128, .code_linetable = 136, .code_firstlineno = 72,
    .code_firsttraceable = 168, .code_code = 184,
    .str_state = 32, .str_length = 16, .ascii_size = 48, .compact_size = 72,
    .bytes_size = 16, .bytes_data = 32,
};

static const struct hd_py_layout layout_3_12 = {
    .major = 3, .minor = 12, .frames = HD_PY_INTERPRETER_FRAMES, .gil = HD_PY_GIL_MAIN_INTERPRETER,
    .runtime_main_interpreter = 48, .interpreter_gil = 384, .gil_locked = 16, .gil_last_holder = 8,
    .runtime_finalizing = 24, .runtime_tss_initialized = 1544, .runtime_tss_key = 1548,
    .has_cframe = true, .tstate_frame = 56, .tstate_thread_id = 136, .cframe_current_frame = 0,
    .frame_code = 0, .frame_previous = 8, .frame_prev_instr = 56, .frame_owner = 70,
    .owner_generator = 1, .owner_cstack = 3,
    .code_filename = 112, .code_qualname = 128, .code_linetable = 136, .code_firstlineno = 68,
    .code_firsttraceable = 176, .code_code = 192,
    .str_state = 32, .str_length = 16, .ascii_size = 40, .compact_size = 56,
    .bytes_size = 16, .bytes_data = 32,
};

/* 3.13: what _Py_DebugOffsets does not publish; the rest is filled in from
 * it by load_debug_offsets. */
static struct hd_py_layout layout_3_13 = {
    .major = 3, .minor = 13, .frames = HD_PY_INTERPRETER_FRAMES, .gil = HD_PY_GIL_OLDEST_INTERPRETER,
    .own_by_thread_id = true,
    .code_firsttraceable = 184, .owner_generator = 1, .owner_cstack = 3, .gc_head_size = 16,
};

/* _Py_DebugOffsets as 3.13 lays it out (Include/internal/pycore_runtime.h):
 * the members the recorder uses, the others as padding. Every member is a
 * uint64_t offset from the start of its structure. */
struct debug_offsets_3_13 {
    char cookie[8];                  /* "xdebugpy" */
    uint64_t version;                /* PY_VERSION_HEX */
    uint64_t free_threaded;
    struct { uint64_t size, finalizing, interpreters_head; } runtime_state;
    struct {
        uint64_t size, id, next, threads_head, gc, imports_modules, sysdict, builtins, ceval_gil, gil_runtime_state,
            gil_runtime_state_enabled, gil_runtime_state_locked, gil_runtime_state_holder;
    } interpreter_state;
    struct {
        uint64_t size, prev, next, interp, current_frame, thread_id, native_thread_id, datastack_chunk, status;
    } thread_state;
    struct { uint64_t size, previous, executable, instr_ptr, localsplus, owner; } interpreter_frame;
    struct {
        uint64_t size, filename, name, qualname, linetable, firstlineno, argcount, localsplusnames, localspluskinds,
            co_code_adaptive;
    } code_object;
    struct { uint64_t size, ob_type; } pyobject;
    struct { uint64_t size, tp_name, tp_repr, tp_flags; } type_object;
    struct { uint64_t size, ob_item, ob_size; } tuple_object, list_object;
    struct { uint64_t size, ma_keys, ma_values; } dict_object;
    struct { uint64_t size, ob_fval; } float_object;
    struct { uint64_t size, lv_tag, ob_digit; } long_object;
    struct { uint64_t size, ob_size, ob_sval; } bytes_object;
    struct { uint64_t size, state, length, asciiobject_size; } unicode_object;
};

/* Fills layout_3_13 from the interpreter's own table; false (after one
 * warning) when it is missing or not the 3.13 one of a GIL build. */
static bool load_debug_offsets(uintptr_t runtime) {
    const struct debug_offsets_3_13 *d = (const struct debug_offsets_3_13 *)runtime;
    if (!runtime || memcmp(d->cookie, "xdebugpy", 8) != 0 || (d->version >> 16) != 0x030D) {
        hd_warn("Python 3.13: no _Py_DebugOffsets of 3.13 in _PyRuntime; Python frames are not recorded");
        return false;
    }
    if (d->free_threaded) {
        hd_warn("Python 3.13 built without the GIL is not supported: Python frames are not recorded, native frames only");
        return false;
    }
    /* The values kept here hold for the build they were printed from: an
     * object header of two words, _co_firsttraceable two words before the
     * bytecode. Another build (Py_TRACE_REFS, say) is not read. */
    if (d->pyobject.size != 2 * sizeof(void *) ||
        d->code_object.co_code_adaptive != layout_3_13.code_firsttraceable + 2 * sizeof(void *)) {
        hd_warn("Python 3.13: a build whose layout differs from the one tested; Python frames are not recorded");
        return false;
    }
    struct hd_py_layout *L = &layout_3_13;
    L->runtime_finalizing = d->runtime_state.finalizing;
    L->runtime_interpreters_head = d->runtime_state.interpreters_head;
    L->interpreter_next = d->interpreter_state.next;
    /* The GIL a main interpreter uses is its own, embedded in it; the
     * lock and holder offsets are published from the interpreter. */
    L->interpreter_gil = d->interpreter_state.ceval_gil;
    L->gil_locked = d->interpreter_state.gil_runtime_state_locked - d->interpreter_state.gil_runtime_state;
    L->gil_last_holder = d->interpreter_state.gil_runtime_state_holder - d->interpreter_state.gil_runtime_state;
    L->tstate_thread_id = d->thread_state.thread_id;
    L->tstate_frame = d->thread_state.current_frame;
    L->frame_previous = d->interpreter_frame.previous;
    L->frame_code = d->interpreter_frame.executable;
    L->frame_prev_instr = d->interpreter_frame.instr_ptr;
    L->frame_owner = d->interpreter_frame.owner;
    L->code_filename = d->code_object.filename;
    L->code_qualname = d->code_object.qualname;
    L->code_linetable = d->code_object.linetable;
    L->code_firstlineno = d->code_object.firstlineno;
    L->code_code = d->code_object.co_code_adaptive;
    L->type_flags = d->type_object.tp_flags;
    L->str_state = d->unicode_object.state;
    L->str_length = d->unicode_object.length;
    L->ascii_size = d->unicode_object.asciiobject_size;
    /* PyCompactUnicodeObject: the ASCII header, utf8_length and utf8. */
    L->compact_size = d->unicode_object.asciiobject_size + 2 * sizeof(void *);
    L->bytes_size = d->bytes_object.ob_size;
    L->bytes_data = d->bytes_object.ob_sval;
    return true;
}

static int capture_3_8(struct hd_py_thread *py) { return hd_py_capture(py, &layout_3_8); }
static int capture_3_9(struct hd_py_thread *py) { return hd_py_capture(py, &layout_3_9); }
static int capture_3_10(struct hd_py_thread *py) { return hd_py_capture(py, &layout_3_10); }
static int capture_3_11(struct hd_py_thread *py) { return hd_py_capture(py, &layout_3_11); }
static int capture_3_12(struct hd_py_thread *py) { return hd_py_capture(py, &layout_3_12); }
static int capture_3_13(struct hd_py_thread *py) { return hd_py_capture(py, &layout_3_13); }

/* 3.13 as every GIL build of 3.13.0 on x86-64 publishes it: when the
 * interpreter's table gives exactly these values (load_debug_offsets), the
 * frames are read with this constant layout, every offset an immediate and
 * every version test folded away as for 3.8 to 3.12 (callgrind, the CPython
 * service loop on 3.13.0: 63 instructions an allocation fewer). Any other build is
 * read with the values it publishes, through capture_3_13. */
static const struct hd_py_layout layout_3_13_known = {
    .major = 3, .minor = 13, .frames = HD_PY_INTERPRETER_FRAMES, .gil = HD_PY_GIL_OLDEST_INTERPRETER,
    .own_by_thread_id = true,
    .code_firsttraceable = 184, .owner_generator = 1, .owner_cstack = 3, .gc_head_size = 16,
    .runtime_finalizing = 608, .runtime_interpreters_head = 632, .interpreter_next = 7264,
    .interpreter_gil = 16, .gil_locked = 16, .gil_last_holder = 8, .tstate_thread_id = 152, .tstate_frame = 72,
    .frame_previous = 8, .frame_code = 0, .frame_prev_instr = 56, .frame_owner = 70,
    .code_filename = 112, .code_qualname = 128, .code_linetable = 136, .code_firstlineno = 68, .code_code = 200,
    .type_flags = 168, .str_state = 32, .str_length = 16, .ascii_size = 40, .compact_size = 56,
    .bytes_size = 16, .bytes_data = 32,
};
static int capture_3_13_known(struct hd_py_thread *py) { return hd_py_capture(py, &layout_3_13_known); }

/* Whether the published layout is the known one, field by field (the
 * structures' padding is not compared). */
static bool is_known_3_13(const struct hd_py_layout *a) {
    const struct hd_py_layout *b = &layout_3_13_known;
#define SAME(field) (a->field == b->field)
    return SAME(frames) && SAME(gil) && SAME(own_by_thread_id) && SAME(has_cframe) && SAME(has_is_entry) &&
           SAME(runtime_tstate_current) && SAME(runtime_main_interpreter) && SAME(runtime_interpreters_head) &&
           SAME(interpreter_next) && SAME(interpreter_gil) && SAME(gil_locked) && SAME(gil_last_holder) &&
           SAME(runtime_finalizing) && SAME(runtime_tss_initialized) && SAME(runtime_tss_key) &&
           SAME(tstate_thread_id) && SAME(tstate_frame) && SAME(cframe_current_frame) && SAME(frame_code) &&
           SAME(frame_previous) && SAME(frame_lasti) && SAME(lasti_in_bytes) && SAME(frame_prev_instr) &&
           SAME(frame_owner) && SAME(frame_is_entry) && SAME(owner_generator) && SAME(owner_cstack) &&
           SAME(code_filename) && SAME(code_qualname) && SAME(code_linetable) && SAME(code_firstlineno) &&
           SAME(code_firsttraceable) && SAME(code_code) && SAME(str_state) && SAME(str_length) &&
           SAME(ascii_size) && SAME(compact_size) && SAME(bytes_size) && SAME(bytes_data) && SAME(type_flags) &&
           SAME(gc_head_size);
#undef SAME
}

const struct hd_py_layout *hd_py_layout_for(unsigned major, unsigned minor, uintptr_t runtime,
                                            int (**capture)(struct hd_py_thread *py)) {
    static const struct {
        const struct hd_py_layout *layout;
        int (*capture)(struct hd_py_thread *py);
    } known[] = {
        {&layout_3_8, capture_3_8},   {&layout_3_9, capture_3_9},   {&layout_3_10, capture_3_10},
        {&layout_3_11, capture_3_11}, {&layout_3_12, capture_3_12}, {&layout_3_13, capture_3_13},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (known[i].layout->major != major || known[i].layout->minor != minor)
            continue;
        if (known[i].layout == &layout_3_13 && !load_debug_offsets(runtime))
            return NULL;
        if (known[i].layout == &layout_3_13 && is_known_3_13(&layout_3_13)) {
            *capture = capture_3_13_known;
            return &layout_3_13_known;
        }
        *capture = known[i].capture;
        return known[i].layout;
    }
    bool newer = major > 3 || (major == 3 && minor > 13);
    hd_warn("Python %u.%u is %s than the versions heapdiff reads (3.8 to 3.13): Python frames are not recorded, "
            "native frames only", major, minor, newer ? "newer" : "older");
    return NULL;
}
