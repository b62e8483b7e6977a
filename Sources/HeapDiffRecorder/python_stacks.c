/* Each thread's recently seen Python stacks, whole (python_stacks.h says
 * why and what proves one): the table, an entry filled after a walk, and
 * the native variants that carry an interned trace. */
#define _GNU_SOURCE
#include <string.h>
#include "thread_state.h"

static uint64_t retired_hits, retired_misses;

/* At thread exit, with the thread's buffers (thread_buffers.c). */
void hd_py_stacks_release(struct hd_py_thread *py) {
    struct hd_py_stacks *stacks = py->stacks;
    if (!stacks)
        return;
    __atomic_fetch_add(&retired_hits, stacks->hits, __ATOMIC_RELAXED);
    __atomic_fetch_add(&retired_misses, stacks->misses, __ATOMIC_RELAXED);
    py->stacks = NULL;
    py->stack = NULL;
    hd_pages_free(stacks, sizeof(struct hd_py_stacks));
}

struct hd_py_stacks *hd_py_stacks_table(struct hd_py_thread *py) {
    if (py->stacks_gone || !hd_thread_memos_pay())
        return NULL;   /* (sampling: every sampled stack read frame by frame) */
    py->stacks = hd_pages_alloc(sizeof(struct hd_py_stacks));
    if (!py->stacks)
        py->stacks_gone = true;
    return py->stacks;
}

bool hd_py_stack_fill(struct hd_py_thread *py, struct hd_py_stack *e, int n, uint64_t hash) {
    /* The decoding went through all N frames, each running a code object
     * (its entry, proven, by step) or a shim: a stack with a frame running
     * no code object is read frame by frame each time. */
    if (py->id_failed || py->walked != n) {
        e->raw[0] = (struct hd_py_raw){HD_PY_RAW_END_CODE, 0, HD_PY_RAW_END};   /* stays empty */
        memcpy(py->frames, e->frames, (size_t)py->count * sizeof *py->frames);
        memcpy(py->groups, e->groups, (size_t)py->group_count * sizeof *py->groups);
        return false;
    }
    memcpy(e->raw, py->raw, (size_t)n * sizeof *py->raw);
    e->raw[n] = (struct hd_py_raw){HD_PY_RAW_END_CODE, 0, HD_PY_RAW_END};
    e->count = (uint16_t)py->count;
    e->group_count = (uint16_t)py->group_count;
    e->hash = hash;
    e->frames_hash = hd_trace_hash_frames(HD_TRACE_HASH_SEED, (const uintptr_t *)e->frames, e->count);
    e->id = ++py->stacks->next_id;   /* traces remembered under an older id are not this stack's */
    e->code_epoch = hd_pycode_epoch();   /* the decoding just proved every code entry */
    e->raw_count = (uint32_t)n;
    return true;
}

void hd_py_stack_frames(struct hd_py_thread *py) {
    const struct hd_py_stack *e = py->stack;
    if (!py->frames_pending)
        return;
    py->frames_pending = false;
    memcpy(py->frames, e->frames, (size_t)e->count * sizeof *e->frames);
    memcpy(py->groups, e->groups, (size_t)e->group_count * sizeof *e->groups);
}

void hd_py_stack_remember(struct hd_py_stacks *stacks, const struct hd_py_stack *e, const uintptr_t *frames,
                          uint32_t count, bool probed, struct hd_trace *trace) {
    if (!trace || count > HD_PY_NATIVE_MAX)
        return;
    struct hd_py_trace *slot = hd_py_trace_slot(stacks, e->id, frames, count);
    slot->stack_id = e->id;
    slot->count = count;
    slot->probed = probed;
    memcpy(slot->frames, frames, count * sizeof *frames);
    slot->trace = trace;
}

void hd_py_stacks_counts(uint64_t *hits, uint64_t *misses) {
    const struct hd_thread_buffers *b = hd_thread()->buffers;
    const struct hd_py_stacks *own = b ? b->py.stacks : NULL;
    *hits = __atomic_load_n(&retired_hits, __ATOMIC_RELAXED) + (own ? own->hits : 0);
    *misses = __atomic_load_n(&retired_misses, __ATOMIC_RELAXED) + (own ? own->misses : 0);
}
