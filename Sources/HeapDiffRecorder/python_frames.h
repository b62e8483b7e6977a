/* Reading the GIL holder's own Python frames in place, inlined by
 * python_layout.c once per layout with the layout constant, so that every
 * offset of 3.8 to 3.12 is an immediate rather than a load (this runs for
 * every allocation under Python code).
 *
 * Reading happens inside malloc, so it calls no Python API: nothing that
 * could allocate, take a lock or touch a reference count. Only the thread
 * that holds the GIL reads, and only its own frames, which no other thread
 * can change meanwhile; a thread without the GIL gets native frames only. */
#ifndef HEAPDIFF_PYTHON_FRAMES_H
#define HEAPDIFF_PYTHON_FRAMES_H

#include <pthread.h>
#include <string.h>
#include "recorder.h"
#include "python_decode.h"

/* 3.13: the main interpreter, as last seen alone in the list. */
extern uintptr_t hd_py_main_seen HD_HIDDEN;

/* The interpreter whose GIL is read: the main one. */
static inline __attribute__((always_inline)) uintptr_t hd_py_main_interpreter(const struct hd_py_layout *L) {
    if (L->gil == HD_PY_GIL_MAIN_INTERPRETER)
        return hd_py_load(hd_python.runtime + L->runtime_main_interpreter);
    /* The list is newest first and the main interpreter is created first:
     * alone, the head is the main one; with subinterpreters, it is the one
     * seen alone before (their memory is not walked). */
    uintptr_t head = __atomic_load_n((const uintptr_t *)(hd_python.runtime + L->runtime_interpreters_head),
                                     __ATOMIC_ACQUIRE);
    if (!head)
        return 0;
    uintptr_t seen = __atomic_load_n(&hd_py_main_seen, __ATOMIC_RELAXED);
    if (hd_py_load(head + L->interpreter_next))
        return seen;
    if (seen != head)   /* written once, not on every allocation of every thread */
        __atomic_store_n(&hd_py_main_seen, head, __ATOMIC_RELAXED);
    return head;
}

/* Found late (attached, or loaded since start-up), the domain wrappers
 * tell a 3.13 thread its own state only once it allocates through them
 * (and not at all when the GIL was not free to wrap them,
 * python_attach.c); for a thread's native allocations before that, the
 * interpreter's own accessor does, with no lock and no allocation. */
static inline bool hd_py_attached_own(uintptr_t current) {
    return hd_python.own_thread_state && hd_python.own_thread_state() == current;
}

/* This thread's pthread_self, which CPython keeps in its states'
 * thread_id: read once. */
static inline uintptr_t hd_py_self(struct hd_py_thread *py) {
    if (HD_UNLIKELY(py->self == 0))
        py->self = (uintptr_t)pthread_self();
    return py->self;
}

/* The thread state of the GIL holder if that is this thread, else 0. The
 * holder is published in _PyRuntime or the main interpreter's GIL; whether
 * it is this thread is told without reading another thread's memory. */
static inline __attribute__((always_inline)) uintptr_t hd_py_own_thread_state(struct hd_py_thread *py,
                                                                               const struct hd_py_layout *L) {
    uintptr_t current;
    if (L->gil == HD_PY_GIL_RUNTIME) {
        current = __atomic_load_n((const uintptr_t *)(hd_python.runtime + L->runtime_tstate_current), __ATOMIC_ACQUIRE);
    } else {
        uintptr_t interpreter = hd_py_main_interpreter(L);
        uintptr_t gil = interpreter ? hd_py_load(interpreter + L->interpreter_gil) : 0;
        if (!gil || !__atomic_load_n((const int *)(gil + L->gil_locked), __ATOMIC_ACQUIRE))
            return 0;
        current = __atomic_load_n((const uintptr_t *)(gil + L->gil_last_holder), __ATOMIC_ACQUIRE);
    }
    if (!current)
        return 0;
    if (L->own_by_thread_id) {
        /* Only a state this thread held the GIL with is read (or, where the
         * caller holds the GIL by contract, the holder, which is then this
         * thread), and it must still be this thread's. */
        if (current != py->own_tstate && !py->gil_promised && !hd_py_attached_own(current))
            return 0;
        if (hd_py_load(current + L->tstate_thread_id) != hd_py_self(py))
            return 0;
        py->own_tstate = current;
        return current;
    }
    /* 3.8-3.12: the state CPython's key gives this thread (as
     * PyGILState_GetThisThreadState), a call; once it has, the same state
     * still carrying this thread's id is told without one (the id is set
     * before a new thread first takes the GIL, so a state at a freed one's
     * address that another thread holds has that thread's; py->self is 0
     * until the first time). */
    if (L->tstate_thread_id && current == py->own_tstate && py->self &&
        hd_py_load(current + L->tstate_thread_id) == py->self)
        return current;
    /* The key gives a thread the first state it had: under a second one
     * (a subinterpreter's, as mod_wsgi runs applications) the thread is
     * told by a wrapped domain's call, whose caller holds the GIL: the
     * runtime's holder is then this thread; 3.12's main GIL is, unless the
     * subinterpreter has a GIL of its own, which the id tells. */
    if (py->gil_promised) {
        if (!L->tstate_thread_id)
            return L->gil == HD_PY_GIL_RUNTIME ? current : 0;
        if (hd_py_load(current + L->tstate_thread_id) != hd_py_self(py))
            return 0;
        py->own_tstate = current;
        return current;
    }
    if (!*(const int *)(hd_python.runtime + L->runtime_tss_initialized))
        return 0;
    pthread_key_t key = *(const pthread_key_t *)(hd_python.runtime + L->runtime_tss_key);
    if ((uintptr_t)pthread_getspecific(key) != current)
        return 0;
    if (L->tstate_thread_id) {
        py->own_tstate = current;
        (void)hd_py_self(py);
    }
    return current;
}

/* The GIL holder's innermost frame if that is this thread, else 0. */
static inline __attribute__((always_inline)) uintptr_t hd_py_first_frame(struct hd_py_thread *py,
                                                                         const struct hd_py_layout *L) {
    uintptr_t tstate = hd_py_own_thread_state(py, L);
    if (L->frames == HD_PY_FRAME_OBJECTS)
        return tstate ? hd_py_load(tstate + L->tstate_frame) : 0;
    uintptr_t holder = tstate && L->has_cframe ? hd_py_load(tstate + L->tstate_frame) : tstate;
    return holder ? hd_py_load(holder + (L->has_cframe ? L->cframe_current_frame : L->tstate_frame)) : 0;
}

/* The raw words the frames from FRAME outward are decided by, into
 * py->raw, and their hash; -1 when the stack is deeper than
 * HD_PY_RAW_MAX (not remembered). */
static inline __attribute__((always_inline)) int hd_py_read_raw(struct hd_py_thread *py, const struct hd_py_layout *L,
                                                                 uintptr_t frame, uint64_t *hash) {
    struct hd_py_raw *raw = py->raw;
    uint64_t h = 0;
    int n = 0;
    for (; frame; frame = hd_py_load(frame + L->frame_previous), n++) {
        if (HD_UNLIKELY(n == HD_PY_RAW_MAX))
            return -1;
        struct hd_py_raw r = hd_py_raw_frame(L, frame);
        raw[n] = r;
        h = hd_py_raw_mix(h, r.code ^ (r.mark << 56), r.instr);
    }
    *hash = hd_py_raw_final(h, (uint32_t)n);
    return n;
}

/* Whether the frames from FRAME outward have E's raw words, their marks
 * compared when MARKS (a constant where inlined: with it false the owner is
 * not even read, 3 of 13 instructions a frame). The words after the last
 * are ones no frame has (hd_py_stack_fill). */
static inline __attribute__((always_inline)) bool hd_py_same_raw(const struct hd_py_stack *e,
                                                                 const struct hd_py_layout *L, uintptr_t frame,
                                                                 bool marks) {
    const struct hd_py_raw *want = e->raw;
    for (; frame; frame = hd_py_load(frame + L->frame_previous), want++) {
        struct hd_py_raw r = hd_py_raw_frame(L, frame);
        if (hd_py_raw_differs(r, *want, marks))
            return false;
    }
    return want == e->raw + e->raw_count;
}

/* Whether the stack from FRAME outward is remembered stack E, read and
 * compared in one pass: every raw word the same, and every code object
 * still its entry's (hd_pycode_is) — which needs no rereading while no code
 * object has been freed since E's were last proven (python_code.h). */
static inline __attribute__((always_inline)) bool hd_py_stack_is(struct hd_py_stack *e, const struct hd_py_layout *L,
                                                                 uintptr_t frame) {
    uint32_t i = 0;
    uint64_t epoch = hd_pycode_epoch();
    if (HD_LIKELY(epoch != 0 && e->code_epoch == epoch))
        return hd_py_marks_implied(L) && HD_LIKELY(!e->marks_matter) ? hd_py_same_raw(e, L, frame, false)
                                                                     : hd_py_same_raw(e, L, frame, true);
    for (; frame; frame = hd_py_load(frame + L->frame_previous), i++) {
        struct hd_py_raw r = hd_py_raw_frame(L, frame);
        if (hd_py_raw_differs(r, e->raw[i], true))
            return false;
        const struct hd_pycode *entry = e->code_entry[i];
        if (entry && !hd_pycode_is(entry, L, r.code))
            return false;
    }
    if (i != e->raw_count)
        return false;
    e->code_epoch = epoch;
    return true;
}

/* Where the stack an innermost frame was last part of is looked for first. */
static inline size_t hd_py_predict_slot(struct hd_py_raw innermost) {
    return (size_t)(((innermost.code ^ (innermost.instr << 7)) * 0x9E3779B97F4A7C15ull) >> 40) & (HD_PY_PREDICT - 1);
}

/* The stack remembered for these raw words, if every word is the same and
 * every code object still its entry's (or none freed since it was proven). */
static inline __attribute__((always_inline)) struct hd_py_stack *hd_py_stack_find(struct hd_py_stack *e,
                                                                                  const struct hd_py_raw *raw, int n,
                                                                                  uint64_t hash,
                                                                                  const struct hd_py_layout *L) {
    if (e->hash != hash || e->raw_count != (uint32_t)n)
        return NULL;
    uint64_t epoch = hd_pycode_epoch();
    bool proven = epoch != 0 && e->code_epoch == epoch;
    for (int i = 0; i < n; i++) {
        uintptr_t code = raw[i].code;
        const struct hd_pycode *entry = e->code_entry[i];
        if (hd_py_raw_differs(raw[i], e->raw[i], true))
            return NULL;
        if (!proven && entry && !hd_pycode_is(entry, L, code))
            return NULL;
    }
    e->code_epoch = epoch;
    return e;
}

/* The capture for one layout: the stack remembered if its raw words prove
 * it, else read frame by frame (and remembered). */
static inline __attribute__((always_inline)) int hd_py_capture(struct hd_py_thread *py, const struct hd_py_layout *L) {
    py->stack = NULL;
    uintptr_t frame = hd_py_first_frame(py, L);
    if (!frame) {
        py->count = py->group_count = 0;
        return 0;
    }
    struct hd_py_stacks *stacks = HD_LIKELY(py->stacks != NULL) ? py->stacks : hd_py_stacks_table(py);
    if (HD_UNLIKELY(!stacks))
        return hd_py_read_frames(py, L, frame);
    /* First the stack this innermost frame was last seen in: one pass. */
    struct hd_py_stack **predicted = &stacks->predict[hd_py_predict_slot(hd_py_raw_frame(L, frame))];
    struct hd_py_stack *e = *predicted;
    if (HD_LIKELY(e != NULL) && hd_py_stack_is(e, L, frame))
        goto found;
    uint64_t hash;
    int n = hd_py_read_raw(py, L, frame, &hash);
    if (n < 0)
        return hd_py_read_frames(py, L, frame);
    struct hd_py_stack *p = *predicted;
    e = &stacks->entry[(hash >> 40) & (HD_PY_STACKS - 1)];
    *predicted = e;
    if (hd_py_stack_find(e, py->raw, n, hash, L)) {
    found:
        stacks->hits++;
        py->stack = e;
        py->frames_pending = true;
        py->count = e->count;
        py->group_count = e->group_count;
        py->frames[0] = e->frames[0];
        return e->count;
    }
    stacks->misses++;
    /* A new stack: decoded from the words just read (no second walk),
     * straight into the entry it will be remembered in, its outer frames
     * taken from the stack predicted when they are the same. */
    uint64_t epoch = hd_pycode_epoch();
    uint32_t shared = p && p != e && p->raw_count && epoch != 0 && p->code_epoch == epoch
                          ? hd_py_shared_outer(py->raw, n, p) : 0;
    py->id_failed = false;
    e->raw_count = 0;   /* empty until it is whole */
    int count = hd_py_decode(py, L, e, n, p, shared);
    if (!hd_py_stack_fill(py, e, n, hash)) {
        py->frames_pending = false;
        return count;
    }
    py->stack = e;
    py->frames_pending = true;
    py->frames[0] = e->frames[0];
    return count;
}

#endif
