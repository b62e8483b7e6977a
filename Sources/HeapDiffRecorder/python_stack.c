/* CPython awareness. When the traced process is a CPython interpreter, each
 * allocation made by a thread that holds the GIL carries that thread's
 * Python frames, read in place from the interpreter's own structures.
 *
 * Reading happens inside malloc, so it calls no Python API: nothing that
 * could allocate, take a lock or touch a reference count. Only the thread
 * that holds the GIL reads, and only its own frames, which no other thread
 * can change meanwhile; a thread without the GIL gets native frames only.
 * The offsets are per CPython version (the table below, printed from each
 * version's headers by scripts/python-layout.c); an unknown version gets
 * native frames only, with one warning. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "capture.h"

struct hd_python hd_python;
__thread uint64_t hd_py_frames[HD_TRACE_MAX_FRAMES] __attribute__((tls_model("initial-exec")));
__thread uint16_t hd_py_groups[HD_TRACE_MAX_FRAMES] __attribute__((tls_model("initial-exec")));
__thread int hd_py_count __attribute__((tls_model("initial-exec")));
__thread int hd_py_group_count __attribute__((tls_model("initial-exec")));

static const struct hd_py_layout layout_3_11 = {
    .major = 3, .minor = 11,
    .runtime_tstate_current = 576, .runtime_finalizing = 24, .runtime_tss_initialized = 592, .runtime_tss_key = 596,
    .tstate_cframe = 56, .cframe_current_frame = 8,
    .frame_code = 32, .frame_previous = 48, .frame_prev_instr = 56, .frame_owner = 69,
    .has_is_entry = true, .frame_is_entry = 68, .owner_generator = 1, .owner_cstack = 0xFF,
    .code_filename = 112, .code_qualname = 128, .code_linetable = 136, .code_firstlineno = 72,
    .code_firsttraceable = 168, .code_code = 184,
    .str_state = 32, .str_length = 16, .ascii_size = 48, .compact_utf8 = 56, .compact_utf8_length = 48,
    .compact_size = 72,
    .bytes_size = 16, .bytes_data = 32,
};

static const struct hd_py_layout layout_3_12 = {
    .major = 3, .minor = 12,
    .gil_in_interpreter = true, .runtime_main_interpreter = 48, .interpreter_gil = 384, .gil_locked = 16,
    .gil_last_holder = 8, .runtime_finalizing = 24, .runtime_tss_initialized = 1544, .runtime_tss_key = 1548,
    .tstate_cframe = 56, .cframe_current_frame = 0,
    .frame_code = 0, .frame_previous = 8, .frame_prev_instr = 56, .frame_owner = 70,
    .owner_generator = 1, .owner_cstack = 3,
    .code_filename = 112, .code_qualname = 128, .code_linetable = 136, .code_firstlineno = 68,
    .code_firsttraceable = 176, .code_code = 192,
    .str_state = 32, .str_length = 16, .ascii_size = 40, .compact_utf8 = 48, .compact_utf8_length = 40,
    .compact_size = 56,
    .bytes_size = 16, .bytes_data = 32,
};

static int capture_3_11(void);
static int capture_3_12(void);
static const struct {
    const struct hd_py_layout *layout;
    int (*capture)(void);
} layouts[] = {{&layout_3_11, capture_3_11}, {&layout_3_12, capture_3_12}};
static int (*capture_for_layout)(void);

static inline uintptr_t load(uintptr_t address) {
    return *(const uintptr_t *)address;
}

/* The interpreter's eval loop: its native frames are where Python frames go. */
static void find_eval_loop(void) {
    void *start = dlsym(RTLD_DEFAULT, "_PyEval_EvalFrameDefault");
    Dl_info info;
    const ElfW(Sym) *symbol = NULL;
    if (!start || !dladdr1(start, &info, (void **)&symbol, RTLD_DL_SYMENT) || !symbol || !symbol->st_size)
        return;
    hd_python.eval_start = (uintptr_t)start;
    hd_python.eval_end = (uintptr_t)start + symbol->st_size;
}

void hd_python_init(void) {
    const unsigned long *version = dlsym(RTLD_DEFAULT, "Py_Version");
    const char *(*get_version)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "Py_GetVersion");
    if (!version && !get_version)
        return;   /* not CPython */
    /* Small objects live in pymalloc's arenas, out of sight: route them to
     * malloc, before the interpreter reads its environment in main(). */
    if (!hd_config.python_keep_pymalloc && !getenv("PYTHONMALLOC"))
        setenv("PYTHONMALLOC", "malloc", 0);
    unsigned major, minor;
    if (version) {
        hd_python.hexversion = (uint32_t)*version;
        major = (unsigned)(*version >> 24) & 0xff;
        minor = (unsigned)(*version >> 16) & 0xff;
    } else {   /* before 3.11 there is no Py_Version; this string is a static buffer */
        const char *text = get_version();
        char *end;
        major = (unsigned)strtoul(text, &end, 10);
        minor = *end == '.' ? (unsigned)strtoul(end + 1, NULL, 10) : 0;
        hd_python.hexversion = (major << 24) | (minor << 16);
    }
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (layouts[i].layout->major == major && layouts[i].layout->minor == minor) {
            hd_python.layout = layouts[i].layout;
            capture_for_layout = layouts[i].capture;
        }
    if (!hd_python.layout) {
        hd_warn("Python %u.%u is not supported yet (3.11 and 3.12 are): Python frames are not recorded, native frames only",
                major, minor);
        return;
    }
    hd_python.runtime = (uintptr_t)dlsym(RTLD_DEFAULT, "_PyRuntime");
    hd_python.code_type = (uintptr_t)dlsym(RTLD_DEFAULT, "PyCode_Type");
    hd_python.str_type = (uintptr_t)dlsym(RTLD_DEFAULT, "PyUnicode_Type");
    hd_python.bytes_type = (uintptr_t)dlsym(RTLD_DEFAULT, "PyBytes_Type");
    find_eval_loop();
    if (!hd_python.runtime || !hd_python.code_type || !hd_python.str_type || !hd_python.bytes_type ||
        !hd_python.eval_start) {
        hd_warn("Python %u.%u: interpreter symbols not found; Python frames are not recorded", major, minor);
        return;
    }
    hd_python.native_inner = !hd_config.python_native_full;
    hd_python.enabled = true;
}

/* The thread state of the GIL holder if that is this thread, else 0. The
 * holder is published in _PyRuntime; this thread's own state is in the
 * interpreter's thread-specific key, so no other thread's memory is read. */
static inline __attribute__((always_inline)) uintptr_t own_thread_state(const struct hd_py_layout *L) {
    uintptr_t current;
    if (L->gil_in_interpreter) {
        uintptr_t interpreter = load(hd_python.runtime + L->runtime_main_interpreter);
        uintptr_t gil = interpreter ? load(interpreter + L->interpreter_gil) : 0;
        if (!gil || !__atomic_load_n((const int *)(gil + L->gil_locked), __ATOMIC_ACQUIRE))
            return 0;
        current = __atomic_load_n((const uintptr_t *)(gil + L->gil_last_holder), __ATOMIC_ACQUIRE);
    } else {
        current = __atomic_load_n((const uintptr_t *)(hd_python.runtime + L->runtime_tstate_current), __ATOMIC_ACQUIRE);
    }
    if (!current || !*(const int *)(hd_python.runtime + L->runtime_tss_initialized))
        return 0;
    pthread_key_t key = *(const pthread_key_t *)(hd_python.runtime + L->runtime_tss_key);
    return (uintptr_t)pthread_getspecific(key) == current ? current : 0;
}

/* Per thread, what each recently seen interpreter frame resolved to: the
 * outer frames of a stack stay put while the inner ones allocate, so most
 * frames are found here, proven by their code object, instruction and line
 * table still being the same, without the type check and code lookup. */
enum { HD_FRAME_MEMOS = 128 };
static __thread struct {
    uintptr_t frame, code, instr, linetable;
    uint64_t encoded;            /* 0: an incomplete frame, nothing to show */
} frame_memos[HD_FRAME_MEMOS] __attribute__((tls_model("initial-exec")));

static inline __attribute__((always_inline)) uint64_t encode_frame(const struct hd_py_layout *L, uintptr_t frame, uintptr_t code, uintptr_t instr) {
    uintptr_t first = code + L->code_code;
    uintptr_t traceable = first + 2 * (uintptr_t)*(const int *)(code + L->code_firsttraceable);
    /* A frame pushed but not yet started has no line to show. */
    bool complete = *(const unsigned char *)(frame + L->frame_owner) == L->owner_generator || instr >= traceable;
    uint32_t id = complete ? hd_pycode_id(code) : 0;
    return id ? HD_PYFRAME_MAKE(id, (instr - first) / 2) : 0;
}

/* Inlined once per layout with the layout constant, so every offset is
 * an immediate rather than a load (this runs for every allocation). */
static inline __attribute__((always_inline)) int capture_with(const struct hd_py_layout *L) {
    int count = 0, groups = 0, in_group = 0;
    uintptr_t tstate = own_thread_state(L);
    uintptr_t cframe = tstate ? load(tstate + L->tstate_cframe) : 0;
    uintptr_t frame = cframe ? load(cframe + L->cframe_current_frame) : 0;
    for (int steps = 0; frame && steps < HD_TRACE_MAX_FRAMES; steps++, frame = load(frame + L->frame_previous)) {
        /* 3.12: the shim frame an eval-loop invocation starts with. */
        if (!L->has_is_entry && *(const unsigned char *)(frame + L->frame_owner) == L->owner_cstack) {
            hd_py_groups[groups++] = (uint16_t)in_group;
            in_group = 0;
            continue;
        }
        uintptr_t code = load(frame + L->frame_code);
        uintptr_t instr = load(frame + L->frame_prev_instr);
        size_t slot = (frame >> 4) & (HD_FRAME_MEMOS - 1);
        uint64_t encoded;
        if (frame_memos[slot].frame == frame && frame_memos[slot].code == code && frame_memos[slot].instr == instr &&
            code && frame_memos[slot].linetable == load(code + L->code_linetable)) {
            encoded = frame_memos[slot].encoded;
        } else {
            if (!code || load(code + sizeof(intptr_t)) != hd_python.code_type)
                break;   /* not a frame we understand: keep what we have */
            encoded = encode_frame(L, frame, code, instr);
            frame_memos[slot].frame = frame;
            frame_memos[slot].code = code;
            frame_memos[slot].instr = instr;
            frame_memos[slot].linetable = load(code + L->code_linetable);
            frame_memos[slot].encoded = encoded;
        }
        if (encoded) {
            hd_py_frames[count++] = encoded;
            in_group++;
        }
        /* The eval loop was entered (a native frame) for this frame: what we
         * collected since the previous entry runs in that invocation. */
        if (L->has_is_entry && *(const unsigned char *)(frame + L->frame_is_entry)) {
            hd_py_groups[groups++] = (uint16_t)in_group;
            in_group = 0;
        }
    }
    if (in_group)
        hd_py_groups[groups++] = (uint16_t)in_group;
    hd_py_group_count = groups;
    hd_py_count = count;
    return count;
}

static int capture_3_11(void) {
    return capture_with(&layout_3_11);
}

static int capture_3_12(void) {
    return capture_with(&layout_3_12);
}

bool hd_python_finalizing(void) {
    return hd_python.enabled &&
           __atomic_load_n((const uintptr_t *)(hd_python.runtime + hd_python.layout->runtime_finalizing),
                           __ATOMIC_ACQUIRE) != 0;
}

int hd_python_capture(void) {
    return capture_for_layout();
}
