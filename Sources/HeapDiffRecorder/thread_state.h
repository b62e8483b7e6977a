/* Everything the recorder keeps per thread: a small struct in initial-exec
 * TLS (global-dynamic in libheapdiff-attach.so, see the Makefile), which a
 * hook finds once, with hd_thread(), and passes down the allocation path,
 * so each function's signature shows what per-thread state it reads and
 * writes; and the thread's larger buffers, which it points to.
 *
 * The buffers (~27 KB) are kept out of TLS because glibc carves every
 * module's initial-exec TLS out of each new thread's stack: with them there,
 * a thread started with a PTHREAD_STACK_MIN stack failed to start (EINVAL)
 * and every small stack lost that much (node printed "pthread_create:
 * Invalid argument"). */
#ifndef HEAPDIFF_THREAD_STATE_H
#define HEAPDIFF_THREAD_STATE_H

#include "native_unwind.h"

enum { HD_TRACE_CACHE = 64 };

struct hd_thread {
    union {
        struct {
            /* sampler.c: the sampling epoch this thread's countdown was
             * drawn in (0: none yet). */
            uint32_t sampling_epoch;
            /* The recursion guard: held while the recorder runs on this
             * thread, around every call into the real allocator, and always
             * on the recorder's own threads, so that what libunwind, libc,
             * the allocator or the recorder itself allocate meanwhile is not
             * traced. Taken and given back only through hd_guard_enter and
             * hd_guard_leave. */
            int guard;
        };
        /* Both in one word, which equals the sampling key (sampler.h) only
         * outside the recorder with a countdown of the current epoch: the
         * hooks' fast path asks that alone. */
        uint64_t sampling_word;
    };
    /* sampler.h: bytes to the next sample point, this thread's totals
     * (HEAPDIFF_SAMPLE); beside the word above, read by the same hooks. */
    struct hd_sampler sampler;
    /* record.c: recently seen stacks, by hash: a hit finds the trace without
     * the shared table (traces are never freed), confirmed by the frames. */
    struct hd_trace *trace_cache[HD_TRACE_CACHE];
    /* python_alloc.c: the block the object domains handed out last on this
     * thread: a new object there is a fresh allocation, not a reuse. */
    uintptr_t py_last_block;
    /* native_unwind.h: the memo of walked stacks, made at the first walk
     * (which makes the buffers first), released with the buffers. Here, not
     * in them, so that a stack the memo proves reads nothing else of the
     * thread's (capture.h). */
    struct hd_memo_table *memos;
    /* NULL until the thread first records (thread_buffers.c); released at
     * its exit, after which it gets plain ones (no memo, no remembered
     * Python stacks) if it records again. */
    struct hd_thread_buffers *buffers;
    bool exiting;
};
extern __thread struct hd_thread hd_thread_tls HD_HIDDEN __attribute__((tls_model("initial-exec")));

static inline __attribute__((always_inline)) struct hd_thread *hd_thread(void) {
    return &hd_thread_tls;
}

struct hd_thread_buffers {
    /* record.c: a Python stack merged into the native one. */
    uintptr_t merged[HD_TRACE_MAX_FRAMES];
    struct hd_unwind_thread unwind;   /* the memo, the walk's scratch (native_unwind.h) */
    struct hd_py_thread py;           /* Python frames and caches (python_stack.h) */
};

/* At start-up, before any thread records. */
void hd_thread_buffers_init(void) HD_HIDDEN;
/* Makes this thread's buffers; NULL when no memory is left (the caller
 * then records nothing, and the snapshots say blocks went untraced).
 * Keeps errno. */
struct hd_thread_buffers *hd_thread_buffers_make(struct hd_thread *t) HD_HIDDEN __attribute__((noinline));

/* The thread's buffers, made at its first recording. */
static inline __attribute__((always_inline)) struct hd_thread_buffers *hd_buffers(struct hd_thread *t) {
    struct hd_thread_buffers *b = t->buffers;
    return HD_LIKELY(b != NULL) ? b : hd_thread_buffers_make(t);
}

/* The guard word's values: 0, HD_GUARD_HELD inside the recorder (and on
 * its own threads), HD_GUARD_PAUSED between heapdiff_pause and
 * heapdiff_resume, where the thread's new blocks go unrecorded but its
 * frees still forget recorded ones. hd_guard_enter holds the guard alone
 * and hd_guard_leave restores the pause. */
enum { HD_GUARD_HELD = 1, HD_GUARD_PAUSED = 2 };

/* Takes the guard; returns what hd_guard_leave gives back (nesting keeps
 * an outer holder's guard). */
static inline int hd_guard_enter(struct hd_thread *t) {
    int outer = t->guard;
    t->guard = 1;
    return outer;
}
static inline void hd_guard_leave(struct hd_thread *t, int outer) {
    t->guard = outer;
}
/* The same on a hook's fast path, where hd_sampling_fast has just said the
 * guard is free: no outer value to keep in a register across the call. */
static inline void hd_guard_take(struct hd_thread *t) {
    t->guard = 1;
}
static inline void hd_guard_drop(struct hd_thread *t) {
    t->guard = 0;
}

/* A hook's sampling fast path applies: sampling on, outside the recorder,
 * and this thread's countdown drawn at the current rate (sampler.h).
 * Preloaded, sampling starts once (epoch 1) and stops only in a fork child
 * that is not followed, whose one thread is disarmed then: the key is a
 * constant, compared in one instruction. Attached, sessions start and stop
 * it: the key is loaded. */
static inline bool hd_sampling_fast(const struct hd_thread *t) {
    if (hd_late_load)
        return t->sampling_word == __atomic_load_n(&hd_sampling_key, __ATOMIC_RELAXED);
    return t->sampling_word == HD_SAMPLING_FIRST_KEY;
}

/* Hooks record only once start-up is complete, and never for the recorder
 * nor a paused thread. */
static inline bool hd_recording(const struct hd_thread *t) {
    return __atomic_load_n(&hd_state, __ATOMIC_ACQUIRE) == HD_STATE_RECORDING && !t->guard;
}

/* Recorded blocks are forgotten when freed or moved: once start-up is
 * complete, outside the recorder, paused or not. */
static inline bool hd_forgetting(const struct hd_thread *t) {
    return __atomic_load_n(&hd_state, __ATOMIC_ACQUIRE) == HD_STATE_RECORDING && !(t->guard & HD_GUARD_HELD);
}

#endif
