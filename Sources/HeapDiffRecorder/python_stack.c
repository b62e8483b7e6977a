/* CPython awareness. When the traced process is a CPython interpreter, each
 * allocation made by a thread that holds the GIL carries that thread's
 * Python frames, read in place from the interpreter's own structures
 * (python_frames.h, with the version's layout from python_layout.c), and
 * the interpreter's allocator domains are wrapped so that objects pymalloc
 * serves are seen too (python_alloc.c). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include "capture.h"
#include "python_frames.h"

struct hd_python hd_python;
uintptr_t hd_py_main_seen;

static int no_frames(struct hd_py_thread *py) {
    py->count = 0;
    return 0;
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

/* PY_VERSION_HEX: Py_Version from 3.11 on; before, parsed from the static
 * string Py_GetVersion returns ("3.10.13 (main, ...)", "3.9.0rc1 ..."). */
static uint32_t interpreter_version(void) {
    const unsigned long *version = dlsym(RTLD_DEFAULT, "Py_Version");
    if (version)
        return (uint32_t)*version;
    const char *(*get_version)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "Py_GetVersion");
    if (!get_version)
        return 0;
    const char *text = get_version();
    char *end;
    unsigned long part[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        part[i] = strtoul(text, &end, 10);
        if (*end != '.')
            break;
        text = end + 1;
    }
    unsigned level = 0xF0;   /* final, unless the string says alpha, beta or candidate */
    if (*end == 'a')
        level = 0xA0;
    else if (*end == 'b')
        level = 0xB0;
    else if (*end == 'r' && end[1] == 'c')
        level = 0xC0;
    return (uint32_t)((part[0] & 0xFF) << 24 | (part[1] & 0xFF) << 16 | (part[2] & 0xFF) << 8 | level);
}

/* Found running, a 3.13 interpreter may have subinterpreters already, so
 * the main one was never seen alone (hd_py_main_interpreter): it is the
 * oldest, last in the list, walked once here. */
static void find_main_interpreter(const struct hd_py_layout *L) {
    uintptr_t at = hd_py_load(hd_python.runtime + L->runtime_interpreters_head);
    for (int steps = 0; at && steps < 4096; steps++) {
        uintptr_t next = hd_py_load(at + L->interpreter_next);
        if (!next) {
            __atomic_store_n(&hd_py_main_seen, at, __ATOMIC_RELAXED);
            return;
        }
        at = next;
    }
}

void hd_python_init(bool late) {
    hd_python.capture = no_frames;
    uint32_t version = interpreter_version();
    if (!version)
        return;   /* not CPython */
    hd_python.hexversion = version;
    hd_python.late = late;
    unsigned major = version >> 24, minor = (version >> 16) & 0xFF;
    /* Opt-in: pymalloc off for the program, as PYTHONMALLOC=malloc does
     * (before the interpreter reads its environment in main()). */
    if (!late && hd_config.python_malloc && !getenv("PYTHONMALLOC"))
        setenv("PYTHONMALLOC", "malloc", 0);
    hd_python.runtime = (uintptr_t)dlsym(RTLD_DEFAULT, "_PyRuntime");
    hd_python.is_initialized = (int (*)(void))dlsym(RTLD_DEFAULT, "Py_IsInitialized");
    int (*capture)(struct hd_py_thread *py) = NULL;
    hd_python.layout = hd_py_layout_for(major, minor, hd_python.runtime, &capture);
    if (hd_python.layout) {
        hd_python.code_type = (uintptr_t)dlsym(RTLD_DEFAULT, "PyCode_Type");
        hd_python.str_type = (uintptr_t)dlsym(RTLD_DEFAULT, "PyUnicode_Type");
        hd_python.bytes_type = (uintptr_t)dlsym(RTLD_DEFAULT, "PyBytes_Type");
        find_eval_loop();
        if (!hd_python.runtime || !hd_python.code_type || !hd_python.str_type || !hd_python.bytes_type ||
            !hd_python.eval_start) {
            hd_warn("Python %u.%u: interpreter symbols not found; Python frames are not recorded", major, minor);
            hd_python.layout = NULL;
        }
    }
    /* Attached to a running interpreter (libheapdiff-attach.so), or one
     * loaded since start-up (python_late.c), the audit-hook install is not
     * for us (it is made for start-up: it swaps the raw allocator for a
     * moment, while no other thread can use it): the mem and object domains
     * are wrapped holding the GIL (python_attach.c, python_late.c). A 3.13
     * thread's own state is told by the interpreter's accessor for
     * allocations that do not come through them. */
    if (hd_python.layout && late && hd_python.layout->own_by_thread_id)
        hd_python.own_thread_state = (uintptr_t (*)(void))dlsym(RTLD_DEFAULT, "PyThreadState_GetUnchecked");
    if (hd_python.layout && late && hd_python.layout->gil == HD_PY_GIL_OLDEST_INTERPRETER)
        find_main_interpreter(hd_python.layout);
    if (hd_python.layout) {
        hd_python.native_inner = !hd_config.python_native_full;
        hd_python.capture = capture;
        /* Last: found late, the program's threads allocate meanwhile and
         * read the rest once they see this. */
        __atomic_store_n(&hd_python.enabled, true, __ATOMIC_RELEASE);
    }
    if (!late)
        hd_python_alloc_init(version, hd_python.enabled);
}

/* While the program runs, a version whose layout is known tells that
 * Py_FinalizeEx has begun by _PyRuntime._finalizing. The exit snapshot is
 * recognised in every version: it is taken by an exit handler, which runs
 * from exit() after Py_RunMain has finalized the interpreter (sys.exit and
 * the end of the script go the same way; os._exit runs no handler), and
 * Py_IsInitialized() has been 0 since finalization began. An embedding
 * program that calls exit() with its interpreter still up is not flagged,
 * nor one that never started it (its first audit event never came). */
bool hd_python_finalizing(uint32_t trigger) {
    if (!hd_python.hexversion)
        return false;
    if (hd_python.enabled &&
        __atomic_load_n((const uintptr_t *)(hd_python.runtime + hd_python.layout->runtime_finalizing),
                        __ATOMIC_ACQUIRE) != 0)
        return true;
    /* Not initialized now, but only after it ran: a program that links
     * libpython and never starts it (unbound) is not finalizing anything.
     * Before 3.8 no audit event says it ran: then as before. */
    return trigger == HD_TRIGGER_EXIT && hd_python.is_initialized && !hd_python.is_initialized() &&
           (hd_python.late || hd_python_started() || hd_python.hexversion < 0x03080000);
}
