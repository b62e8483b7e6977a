/* Internal interfaces of libheapdiff.so, the LD_PRELOAD recorder.
 *
 * Layering, bottom up:
 *   mmap_arena.c     bookkeeping memory straight from mmap
 *   real_alloc.c     the real allocator (dlsym RTLD_NEXT) and the bootstrap arena
 *   config.c         HEAPDIFF_* environment, validated once
 *   private_fds.c    the recorder's descriptors (and libunwind's), kept high
 *   lock.c           the one lock that guards both tables
 *   trace_table.c    call stacks interned once, with per-stack counters
 *   pointer_table.c  live block -> (trace, size)
 *   python_layout.c  CPython: where each version keeps what is read (tables, _Py_DebugOffsets)
 *   python_stack.c   CPython: which interpreter; the allocating thread's Python frames (python_frames.h)
 *   python_alloc.c   CPython: the allocator domains wrapped; free-list reuse re-attributed
 *   python_code.c    CPython: code objects interned once (file, name, line table)
 *   eh_frame.c       one return address's unwind rule, read from .eh_frame as libunwind reads it
 *   native_unwind.c  native stacks: proven from memory, walked with the rules, or unw_backtrace
 *   stack_memo.c     the per-thread memo of walked stacks and the words that prove them
 *   capture.h        the stack capture, inlined into each hook
 *   record.c         the one recording function every allocation hook calls
 *   hooks.c          malloc & friends: thin wrappers
 *   snapshot_writer.c  one snapshot file, written and renamed into place
 *   control_protocol.c the CLI-recorder protocol, shared with the CLI
 *   control_socket.c   `heapdiff snapshot PID` requests; notices to `heapdiff run`
 *   control.c        start-up, writer thread, signal, interval, fork, exit, API
 *   got_hooks.c      heapdiff attach: GOT entries of loaded modules pointed at the hooks, and back
 *   attach.c         heapdiff attach: the entry point the injector calls, the session thread
 */
#ifndef HEAPDIFF_RECORDER_H
#define HEAPDIFF_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "heapdiff_control.h"
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
void *hd_pages_resize(void *pages, size_t old_size, size_t new_size) HD_HIDDEN;   /* mremap; NULL on failure */

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
/* HEAPDIFF_UNWIND: fast (default), libunwind (unw_backtrace every time), or
 * verify (both, every difference counted and reported at exit). */
enum hd_unwind_mode { HD_UNWIND_FAST, HD_UNWIND_LIBUNWIND, HD_UNWIND_VERIFY };
struct hd_config {
    char output_dir[4096];      /* absolute */
    int output_fd;              /* output_dir, held open (see hd_output_fd) */
    dev_t output_dev;
    ino_t output_ino;
    char report_name[HD_REPORT_MAX_NAME + 1];   /* HEAPDIFF_REPORT, "" when unset */
    unsigned depth;             /* frames kept per stack */
    double interval_seconds;    /* 0: no periodic snapshots */
    int signal;                 /* 0: no snapshot signal */
    bool follow_children;
    bool keep_helper_exits;     /* HEAPDIFF_FOLLOW_CHILDREN=all */
    int program_parent;         /* HEAPDIFF_PROGRAM_PARENT, 0 when unset */
    bool print_stats;           /* HEAPDIFF_STATS=1: recorder memory at exit */
    bool python_malloc;         /* HEAPDIFF_PYTHONMALLOC=malloc: pymalloc off (opt-in) */
    bool python_native_full;    /* HEAPDIFF_PYTHON_NATIVE=full */
    unsigned format;            /* HEAPDIFF_FORMAT: snapshot format version written */
    enum hd_unwind_mode unwind; /* HEAPDIFF_UNWIND */
    uint64_t sample_rate;       /* HEAPDIFF_SAMPLE: mean bytes between sample points; 0: every allocation */
    uint64_t sample_seed;       /* HEAPDIFF_SAMPLE_SEED, when sample_seeded */
    bool sample_seeded;
    unsigned keep;              /* HEAPDIFF_KEEP: periodic snapshots kept; 0: all */
    bool output_ok;             /* output_dir exists and is writable */
};
extern struct hd_config hd_config HD_HIDDEN;
void hd_config_load(void) HD_HIDDEN;
void hd_warn(const char *fmt, ...) HD_HIDDEN __attribute__((format(printf, 1, 2)));
void hd_note(const char *fmt, ...) HD_HIDDEN __attribute__((format(printf, 1, 2)));
/* hd_warn, and a HD_REPORT_WRITE_FAILED notice to `heapdiff run`. */
void hd_fail(const char *fmt, ...) HD_HIDDEN __attribute__((format(printf, 1, 2)));
/* The output directory, opened again by path when the program closed our
 * descriptor; -1 (errno set) when it cannot be opened. */
int hd_output_fd(void) HD_HIDDEN;
/* heapdiff attach: the session's output directory (absolute) opened and
 * held instead of the previous one; false (errno set) when it cannot be. */
bool hd_output_dir_use(const char *dir) HD_HIDDEN;
void hd_strip_self_from_ld_preload(void) HD_HIDDEN;
/* OUTPUT/helpers (under the output directory's descriptor dir), created
 * 0700 if missing: where the exit snapshots of helper processes go. False
 * (errno set) when it cannot be used. */
bool hd_helpers_directory(int dir) HD_HIDDEN;
/* Where hd_warn and hd_note write: the program's stderr when preloaded; under
 * heapdiff attach the session's status pipe, never the program's own output
 * (-1: nowhere). */
extern int hd_message_fd HD_HIDDEN;

/* ---- private_fds.c -------------------------------------------------- */
/* fd moved to a high, close-on-exec number (it is closed). */
int hd_private_fd(int fd) HD_HIDDEN;
/* Whether fd still refers to the file (dev, ino): the program may have
 * closed our descriptor and reused the number. */
bool hd_fd_is(int fd, dev_t dev, ino_t ino) HD_HIDDEN;

/* ---- lock.c, lock.h -------------------------------------------------- */
#include "lock.h"

/* ---- trace_table.c (caller holds hd_lock) ---------------------------- */
/* With sampling on, bytes and counts are estimates and counts have
 * fractions: they are kept in units of 2^-HD_COUNT_SHIFT blocks. Sample
 * counts are the sample points of the blocks recorded by sampling (not
 * those recorded whole), live and since start. */
enum { HD_COUNT_SHIFT = 16 };
struct hd_trace {
    struct hd_trace *chain;     /* next in its hash bucket */
    struct hd_trace *all_next;  /* next in its shard's list of every trace */
    uint64_t hash;
    uint64_t live_bytes, live_count, alloc_bytes, alloc_count;
    uint64_t live_samples, alloc_samples;
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
/* A block's size as the table keeps it. With sampling on, a block recorded
 * for the sample points it crossed carries their number above HD_SIZE_BITS
 * (hd_sample_pack) and weighs points × R bytes in its trace; one recorded
 * whole weighs its size. Callers hand the value back as they got it
 * (realloc's restore). */
enum { HD_SIZE_BITS = 48 };
void hd_pointer_insert(uintptr_t ptr, uint64_t size, struct hd_trace *trace) HD_HIDDEN;
void hd_pointer_prefetch(uintptr_t ptr) HD_HIDDEN;   /* no lock needed */
/* Forgets ptr; returns false when it was not traced. */
void hd_pointer_restore(uintptr_t ptr, uint64_t size, struct hd_trace *trace) HD_HIDDEN;
bool hd_pointer_remove(uintptr_t ptr, uint64_t *size, struct hd_trace **trace) HD_HIDDEN;
/* Moves a live block to another trace, counted there as a new allocation
 * (its old trace sees it freed); false when ptr is not traced. */
bool hd_pointer_retrace(uintptr_t ptr, struct hd_trace *trace) HD_HIDDEN;
bool hd_pointer_contains(uintptr_t ptr) HD_HIDDEN;
size_t hd_pointer_table_memory(void) HD_HIDDEN;
/* Forgets every block (a new attach session: frees since the last one went unseen). */
void hd_pointer_table_clear(void) HD_HIDDEN;
/* Every live block's address. */
void hd_pointer_each(void (*visit)(uintptr_t ptr, void *context), void *context) HD_HIDDEN;
extern uint64_t hd_live_bytes_now HD_HIDDEN, hd_peak_live_bytes HD_HIDDEN;

/* ---- sampler.c (the hot part: sampler.h) ----------------------------- */
/* At start-up, when HEAPDIFF_SAMPLE asks for sampling; false when it
 * cannot be set up (sampling is then off). */
bool hd_sampler_init(void) HD_HIDDEN;
/* Every allocation made while recording, over all threads (caller holds
 * hd_lock); counted only with sampling on. */
void hd_sampler_totals(uint64_t *bytes, uint64_t *count) HD_HIDDEN;
void hd_sampler_after_fork_child(void) HD_HIDDEN;
/* The hooks' sampling fast path on (recording starts) and off (it stops). */
void hd_sampling_start(void) HD_HIDDEN;
void hd_sampling_stop(void) HD_HIDDEN;
/* The live-block table enters and forgets sampled blocks here (hd_lock held). */
void hd_sample_filter_add(uintptr_t ptr) HD_HIDDEN;
void hd_sample_filter_remove(uintptr_t ptr) HD_HIDDEN;
size_t hd_sampler_memory(void) HD_HIDDEN;

/* ---- python_layout.c / python_stack.c / python_code.c --------------- */
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
const struct hd_py_layout *hd_py_layout_for(unsigned major, unsigned minor, uintptr_t runtime,
                                            int (**capture)(void)) HD_HIDDEN;

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

/* ---- python_alloc.c -------------------------------------------------- */
/* The interpreter's raw, mem and object allocator domains wrapped, as
 * tracemalloc wraps them, from its first audit event on; on 3.13 also a
 * reference tracer that charges objects reused from free lists to the line
 * that reuses them. version: PY_VERSION_HEX; frames: its frames are read. */
void hd_python_alloc_init(uint32_t version, bool frames) HD_HIDDEN;
/* The parts of it: the interpreter's allocator API found (false when it is
 * missing), and the wrappers installed, once, by a thread holding the GIL. */
bool hd_python_alloc_resolve(uint32_t version, bool frames) HD_HIDDEN;
void hd_python_alloc_install(void) HD_HIDDEN;

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
extern uintptr_t hd_self_start HD_HIDDEN, hd_self_end HD_HIDDEN;
static inline bool hd_is_self(uintptr_t ip) {
    return ip - hd_self_start < hd_self_end - hd_self_start;
}
/* Files a new block under the stack hd_capture_stack() (capture.h) found. */
struct hd_stack;
void hd_record_alloc(void *ptr, size_t size, const struct hd_stack *stack) HD_HIDDEN;
/* Forgets ptr before it is released; reports what it was for realloc. */
bool hd_record_free(void *ptr, uint64_t *size, struct hd_trace **trace) HD_HIDDEN;
/* Puts back a block whose realloc failed: live again, not a new allocation. */
void hd_record_restore(void *ptr, uint64_t size, struct hd_trace *trace) HD_HIDDEN;
/* A live block handed out again without the allocator (an object taken
 * from a CPython free list): charged from now on to the stack
 * hd_capture_stack() found, as a new allocation there. Untraced blocks are
 * left alone. */
void hd_record_reuse(void *ptr, const struct hd_stack *stack) HD_HIDDEN;
/* Hooks record only once start-up is complete, and never for the recorder. */
static inline bool hd_recording(void) {
    return __atomic_load_n(&hd_state, __ATOMIC_ACQUIRE) == HD_STATE_RECORDING && !hd_guard;
}

/* ---- snapshot_writer.c (internals: snapshot_writer.h) ----------------- */
/* Writes one snapshot file into the output directory, or its helpers
 * subfolder; the caller holds the writer lock (not hd_lock) and the guard.
 * Returns 0 with the file's path in text, or -1 (after one warning, and a
 * notice to `heapdiff run`) with the reason in text. */
int hd_snapshot_write(bool to_helpers, uint32_t seq, uint32_t trigger, const char *label, char *text,
                      size_t text_cap) HD_HIDDEN;
extern uint64_t hd_start_monotonic_ns HD_HIDDEN;
extern char hd_program_name[256] HD_HIDDEN;

/* ---- control_socket.c (writer thread only) --------------------------- */
struct hd_listener {
    int fd;             /* -1: none */
    dev_t dev;
    ino_t ino;
    bool warned;        /* could not listen, and said so */
};
/* Takes a snapshot for a request: as hd_snapshot_write. */
typedef int (*hd_request_snapshot)(const char *label, char *text, size_t text_cap);
void hd_listener_open(struct hd_listener *l) HD_HIDDEN;
bool hd_listener_is_ours(const struct hd_listener *l) HD_HIDDEN;
/* Fork child: the parent's socket is the parent's. */
void hd_listener_drop_inherited(struct hd_listener *l) HD_HIDDEN;
/* Answers the requests waiting (a few at most), one snapshot each. */
void hd_listener_serve(struct hd_listener *l, hd_request_snapshot take) HD_HIDDEN;
/* A notice to `heapdiff run` (HEAPDIFF_REPORT), when it listens. */
void hd_report(const char *kind, const char *fmt, ...) HD_HIDDEN __attribute__((format(printf, 2, 3)));

/* ---- control.c --------------------------------------------------------- */
/* One snapshot, numbered after the last one this process wrote; returns its
 * SEQ with the file's path in text, or -1 with the reason in text (not
 * written, after a warning, or the process is exiting). */
int hd_take_snapshot(uint32_t trigger, const char *label, char *text, size_t text_cap) HD_HIDDEN;
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
