/* Internal interfaces of libheapdiff.so, the LD_PRELOAD recorder.
 *
 * Layering, bottom up:
 *   mmap_arena.c     bookkeeping memory straight from mmap
 *   real_alloc.c     the real allocator (dlsym RTLD_NEXT) and the bootstrap arena
 *   config.c         HEAPDIFF_* environment, validated once
 *   lock.c           the one lock that guards both tables
 *   trace_table.c    call stacks interned once, with per-stack counters
 *   pointer_table.c  live block -> (trace, size)
 *   python_stack.c   CPython: the allocating thread's Python frames, read in place
 *   python_code.c    CPython: code objects interned once (file, name, line table)
 *   python_unwind.c  CPython: native frames up to the eval loop, memoized per thread
 *   capture.h        the stack capture (unw_backtrace), inlined into each hook
 *   record.c         the one recording function every allocation hook calls
 *   hooks.c          malloc & friends: thin wrappers
 *   snapshot_writer.c  one snapshot file, written and renamed into place
 *   control.c        start-up, writer thread, signal, interval, fork, exit, API
 *   got_hooks.c      heapdiff attach: GOT entries of loaded modules pointed at the hooks, and back
 *   attach.c         heapdiff attach: the entry point the injector calls, the session thread
 */
#ifndef HEAPDIFF_RECORDER_H
#define HEAPDIFF_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "heapdiff_format.h"

#define HD_HIDDEN __attribute__((visibility("hidden")))
#define HD_EXPORT __attribute__((visibility("default")))
#define HD_LIKELY(x) __builtin_expect(!!(x), 1)
#define HD_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* libheapdiff-attach.so is this code built to be dlopen'ed into a running
 * process by `heapdiff attach` (see the Makefile): its constructor starts
 * nothing, and the real allocator is the one the process's modules are
 * bound to, not the next one after a preloaded library. */
#ifdef HD_LATE_LOAD
enum { hd_late_load = 1 };
#else
enum { hd_late_load = 0 };
#endif

/* ---- mmap_arena.c ---------------------------------------------------- */
struct hd_arena { unsigned char *cursor, *end; };
void *hd_arena_alloc(struct hd_arena *arena, size_t size) HD_HIDDEN;
void *hd_pages_alloc(size_t size) HD_HIDDEN;   /* zeroed, NULL on failure */
void hd_pages_free(void *pages, size_t size) HD_HIDDEN;

/* ---- real_alloc.c ---------------------------------------------------- */
struct hd_real_allocator {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
};
extern struct hd_real_allocator hd_real HD_HIDDEN;
void hd_resolve_real_allocator(void) HD_HIDDEN;
void hd_resolve_once(void) HD_HIDDEN;   /* hooks.c: resolve unless done */
void *hd_bootstrap_alloc(size_t size, size_t alignment) HD_HIDDEN;
bool hd_is_bootstrap(const void *p) HD_HIDDEN;
size_t hd_bootstrap_size(const void *p) HD_HIDDEN;

/* ---- config.c -------------------------------------------------------- */
struct hd_config {
    char output_dir[4096];      /* absolute */
    unsigned depth;             /* frames kept per stack */
    double interval_seconds;    /* 0: no periodic snapshots */
    int signal;                 /* 0: no snapshot signal */
    bool follow_children;
    bool print_stats;           /* HEAPDIFF_STATS=1: recorder memory at exit */
    bool python_keep_pymalloc;  /* HEAPDIFF_PYTHONMALLOC=keep */
    bool python_native_full;    /* HEAPDIFF_PYTHON_NATIVE=full */
    bool output_ok;             /* output_dir exists and is writable */
};
extern struct hd_config hd_config HD_HIDDEN;
void hd_config_load(void) HD_HIDDEN;
void hd_warn(const char *fmt, ...) HD_HIDDEN __attribute__((format(printf, 1, 2)));
void hd_note(const char *fmt, ...) HD_HIDDEN __attribute__((format(printf, 1, 2)));
void hd_strip_self_from_ld_preload(void) HD_HIDDEN;
/* Where hd_warn and hd_note write: the program's stderr when preloaded; under
 * heapdiff attach the session's status pipe, never the program's own output
 * (-1: nowhere). */
extern int hd_message_fd HD_HIDDEN;

/* ---- lock.c ---------------------------------------------------------- */
/* One lock guards the trace table, the pointer table and every counter.
 * Critical sections are a few table operations (the stack is captured before
 * taking it), so a single spinlock costs less than sharded locks plus atomic
 * counters, and a snapshot is one consistent cut by construction. */
void hd_lock(void) HD_HIDDEN;
void hd_unlock(void) HD_HIDDEN;
void hd_lock_reset(void) HD_HIDDEN;   /* fork child: the holder may be gone */

/* ---- trace_table.c (caller holds hd_lock) ---------------------------- */
struct hd_trace {
    struct hd_trace *chain;     /* next in its hash bucket */
    struct hd_trace *all_next;  /* next in its shard's list of every trace */
    uint64_t hash;
    uint64_t live_bytes, live_count, alloc_bytes, alloc_count;
    uint32_t frame_count, flags;
    uintptr_t frames[];
};
uint64_t hd_trace_hash(const uintptr_t *frames, uint32_t count, uint32_t flags) HD_HIDDEN;
/* The trace for this stack, created on first sight; NULL when out of memory. */
struct hd_trace *hd_trace_intern(uint64_t hash, const uintptr_t *frames, uint32_t count, uint32_t flags) HD_HIDDEN;
bool hd_trace_matches(const struct hd_trace *t, uint64_t hash, const uintptr_t *frames, uint32_t count,
                      uint32_t flags) HD_HIDDEN;
void hd_trace_table_each(void (*visit)(struct hd_trace *, void *), void *context) HD_HIDDEN;
size_t hd_trace_table_count(void) HD_HIDDEN;
size_t hd_trace_table_memory(void) HD_HIDDEN;
extern bool hd_traces_dropped HD_HIDDEN;

/* ---- pointer_table.c (caller holds hd_lock) -------------------------- */
void hd_pointer_insert(uintptr_t ptr, uint64_t size, struct hd_trace *trace) HD_HIDDEN;
/* Forgets ptr; returns false when it was not traced. */
void hd_pointer_restore(uintptr_t ptr, uint64_t size, struct hd_trace *trace) HD_HIDDEN;
bool hd_pointer_remove(uintptr_t ptr, uint64_t *size, struct hd_trace **trace) HD_HIDDEN;
size_t hd_pointer_table_memory(void) HD_HIDDEN;
/* Forgets every block (a new attach session: frees since the last one went unseen). */
void hd_pointer_table_clear(void) HD_HIDDEN;
extern uint64_t hd_live_bytes_now HD_HIDDEN, hd_peak_live_bytes HD_HIDDEN;

/* ---- python_stack.c / python_code.c ---------------------------------- */
/* Offsets into one CPython version's private structures (see
 * scripts/python-layout.c, which prints them from that version's headers). */
struct hd_py_layout {
    unsigned major, minor;
    /* Who holds the GIL: 3.11 publishes the holder's thread state in
     * _PyRuntime; 3.12 keeps it as the main interpreter's GIL last_holder. */
    bool gil_in_interpreter;
    size_t runtime_tstate_current;    /* 3.11: _PyRuntime.gilstate.tstate_current */
    size_t runtime_main_interpreter;  /* 3.12: _PyRuntime.interpreters.main */
    size_t interpreter_gil, gil_locked, gil_last_holder;   /* 3.12: interp->ceval.gil */
    size_t runtime_finalizing;        /* _PyRuntime._finalizing: set once Py_FinalizeEx tears down */
    size_t runtime_tss_initialized;   /* _PyRuntime(.gilstate).autoTSSkey._is_initialized */
    size_t runtime_tss_key;           /* _PyRuntime(.gilstate).autoTSSkey._key */
    size_t tstate_cframe, cframe_current_frame;
    size_t frame_code, frame_previous, frame_prev_instr, frame_owner;
    /* An eval-loop invocation starts at a frame marked is_entry (3.11), or
     * under a shim frame owned by the C stack (3.12). */
    bool has_is_entry;
    size_t frame_is_entry;
    unsigned owner_generator, owner_cstack;
    size_t code_filename, code_qualname, code_linetable, code_firstlineno, code_firsttraceable, code_code;
    size_t str_state, str_length, ascii_size, compact_utf8, compact_utf8_length, compact_size;
    size_t bytes_size, bytes_data;
};
struct hd_python {
    bool enabled;                      /* a supported CPython: read its frames */
    bool native_inner;                 /* stop unwinding at the innermost eval loop */
    uint32_t hexversion;               /* Py_Version; 0 when not CPython */
    const struct hd_py_layout *layout;
    uintptr_t runtime, code_type, str_type, bytes_type;
    uintptr_t eval_start, eval_end;    /* _PyEval_EvalFrameDefault */
};
extern struct hd_python hd_python HD_HIDDEN;
/* Frames under Python code that the native probe unwinds before looking for
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
/* At start-up: is this CPython, which version, and PYTHONMALLOC=malloc. */
void hd_python_init(void) HD_HIDDEN;
/* Fills hd_py_frames when this thread holds the GIL and runs Python code;
 * returns hd_py_count (0 otherwise). */
int hd_python_capture(void) HD_HIDDEN;
/* The interpreter has begun finalizing (a snapshot flag). */
bool hd_python_finalizing(void) HD_HIDDEN;
static inline bool hd_python_is_eval(uintptr_t ip) {
    return ip >= hd_python.eval_start && ip < hd_python.eval_end;
}
/* The id of a code object, interned on first sight (0 when out of memory). */
uint32_t hd_pycode_id(uintptr_t code) HD_HIDDEN;
struct hd_pycode {
    struct hd_pycode *chain, *all_next;
    uintptr_t code, linetable_obj;
    uint32_t id, first_line;
    uint32_t filename_length, qualname_length, linetable_length;
    const char *filename, *qualname;
    const unsigned char *linetable;
};
/* The newest code entry; entries are immutable and linked newest first, so
 * a writer can walk them outside the lock from a head read under it. */
const struct hd_pycode *hd_pycode_newest(void) HD_HIDDEN;
size_t hd_pycode_memory(void) HD_HIDDEN;

/* ---- record.c -------------------------------------------------------- */
/* 0 before the real allocator is known, then 1 (pass through), then 2
 * (recording) once start-up is complete and the configuration allows it. */
enum { HD_STATE_UNRESOLVED, HD_STATE_RESOLVING, HD_STATE_PASSTHROUGH, HD_STATE_RECORDING };
extern int hd_state HD_HIDDEN;
/* Per-thread recursion guard: set while the recorder runs on this thread, so
 * allocations made by libunwind, libc or the recorder itself are not traced. */
extern __thread int hd_guard HD_HIDDEN __attribute__((tls_model("initial-exec")));
void hd_record_init(void) HD_HIDDEN;
/* Whether a code address is the recorder's own. */
bool hd_is_self(uintptr_t ip) HD_HIDDEN;
/* Files a new block under the stack that hd_capture_stack() (capture.h)
 * left in hd_capture, N frames deep. */
void hd_record_alloc(void *ptr, size_t size, int n) HD_HIDDEN;
/* Forgets ptr before it is released; reports what it was for realloc. */
bool hd_record_free(void *ptr, uint64_t *size, struct hd_trace **trace) HD_HIDDEN;
/* Puts back a block whose realloc failed: live again, not a new allocation. */
void hd_record_restore(void *ptr, uint64_t size, struct hd_trace *trace) HD_HIDDEN;

/* ---- snapshot_writer.c ----------------------------------------------- */
/* Writes one snapshot file; the caller holds the writer lock (not hd_lock)
 * and the guard.
 * Returns 0 on success, -1 (after one warning) on failure. */
int hd_snapshot_write(uint32_t seq, uint32_t trigger, const char *label) HD_HIDDEN;
extern uint64_t hd_start_monotonic_ns HD_HIDDEN;
extern char hd_program_name[256] HD_HIDDEN;

/* ---- control.c --------------------------------------------------------- */
/* One snapshot, numbered after the last one this process wrote; returns its
 * SEQ, or -1 when not written (after a warning) or when the process is exiting. */
int hd_take_snapshot(uint32_t trigger, const char *label) HD_HIDDEN;
/* The next snapshot's SEQ comes after this one (files another copy of the
 * recorder already wrote into the directory). */
void hd_seq_at_least(uint32_t seq) HD_HIDDEN;
/* The fork and exit handlers and the program's name, once per process. */
void hd_control_prepare(void) HD_HIDDEN;

/* ---- got_hooks.c (heapdiff attach) ------------------------------------ */
struct hd_got_counts {
    unsigned slots;      /* GOT entries pointing at a hook after the pass */
    unsigned changed;    /* entries this pass rewrote */
    unsigned modules;    /* modules with at least one hooked entry */
    unsigned deferred;   /* modules still being loaded by another thread: next pass */
};
/* Finds the hooks and the functions they replace; false when one is missing. */
bool hd_got_init(void) HD_HIDDEN;
/* Points every loaded module's malloc-family GOT entries at the hooks
 * (frees first) or, with restore, back at the real functions. */
struct hd_got_counts hd_got_patch(bool restore) HD_HIDDEN;
/* Cheap: whether a module was loaded or unloaded since the last call. */
bool hd_got_modules_changed(void) HD_HIDDEN;
/* The dynamic loader's code. Attached to a non-PIE program whose PLT entry is
 * malloc's canonical address, the loader's own allocations come through the
 * hooks too, among them the one that gives a thread its block of our
 * (dynamic) TLS: they must pass straight on before anything touches TLS. */
extern uintptr_t hd_loader_start HD_HIDDEN, hd_loader_size HD_HIDDEN;
static inline bool hd_called_by_loader(const void *return_address) {
    return hd_late_load && (uintptr_t)return_address - hd_loader_start < hd_loader_size;
}


#endif /* HEAPDIFF_RECORDER_H */
