/* What a Python frame's raw words decode to, inlined into python_frames.h's
 * capture (and so into python_layout.c once per layout): each frame's raw
 * words (code object, instruction, marks), the trace frame they give through
 * the per-thread frame memo, and a whole stack's frames and groups, read
 * frame by frame or decoded from words already read, a new stack's outer
 * steps taken from a remembered stack's. Reading happens inside malloc:
 * no Python API, only the GIL holder's own frames (python_frames.h). */
#ifndef HEAPDIFF_PYTHON_DECODE_H
#define HEAPDIFF_PYTHON_DECODE_H

#include <string.h>
#include "recorder.h"

static inline uintptr_t hd_py_load(uintptr_t address) {
    return *(const uintptr_t *)address;
}

/* One frame's raw words: its code object, instruction and marks. */
static inline __attribute__((always_inline)) struct hd_py_raw hd_py_raw_frame(const struct hd_py_layout *L,
                                                                              uintptr_t frame) {
    uintptr_t code = hd_py_load(frame + L->frame_code);
    if (L->frames == HD_PY_FRAME_OBJECTS)
        return (struct hd_py_raw){code, (uintptr_t)(intptr_t)*(const int *)(frame + L->frame_lasti), 0};
    uintptr_t mark;
    if (!L->has_is_entry)
        mark = *(const unsigned char *)(frame + L->frame_owner);
    else if (L->frame_owner == L->frame_is_entry + 1)   /* 3.11: both in one load */
        mark = *(const uint16_t *)(frame + L->frame_is_entry);
    else
        mark = *(const unsigned char *)(frame + L->frame_is_entry) |
               (uintptr_t)*(const unsigned char *)(frame + L->frame_owner) << 8;
    return (struct hd_py_raw){code, hd_py_load(frame + L->frame_prev_instr), mark};
}

/* Whether comparing a frame's code object and instruction compares its
 * marks too: before 3.11 there are none; from 3.12 the owner follows from
 * what the frame runs (the entry shim runs a code object, or None, of its
 * own) but for a frame in its prologue, shown when a generator's and not
 * otherwise: a stack with such a frame says so (hd_py_stack.marks_matter).
 * 3.11's is_entry never does. */
static inline bool hd_py_marks_implied(const struct hd_py_layout *L) {
    return !L->has_is_entry;
}

/* The frame's owner, and (3.11) whether the eval loop was entered for it, from its mark. */
static inline unsigned hd_py_raw_owner(const struct hd_py_layout *L, struct hd_py_raw r) {
    return L->has_is_entry ? (unsigned)(r.mark >> 8) : (unsigned)r.mark;
}
static inline bool hd_py_raw_is_entry(const struct hd_py_layout *L, struct hd_py_raw r) {
    return L->has_is_entry && (r.mark & 0xff) != 0;
}

/* 3.11+: whether frame R has not reached its code's first traceable
 * instruction yet (its prologue: making cells, a generator's creation). */
static inline bool hd_py_in_prologue(const struct hd_py_layout *L, struct hd_py_raw r) {
    uintptr_t first = r.code + L->code_code;
    return r.instr < first + 2 * (uintptr_t)*(const int *)(r.code + L->code_firsttraceable);
}

/* The frame with raw words R as a trace frame (code id, instruction
 * index), from the memo or computed: 0 for a frame not started yet, which
 * has no line to show; UINT64_MAX for one that runs no code object (the
 * walk stops there). What it gives depends on R alone (the code object's
 * own fields are proven with its entry, hd_pycode_is), so the memo is
 * keyed by R, not by where the frame is: a new stack is decoded from the
 * raw words its lookup read, without reading its frames again. */
static inline __attribute__((always_inline)) uint64_t hd_py_frame(struct hd_py_thread *py, const struct hd_py_layout *L,
                                                                  struct hd_py_frame_memo *memos, size_t mask,
                                                                  uint64_t epoch, struct hd_py_raw r,
                                                                  const struct hd_pycode **entry_out) {
    /* Both words spread the slots (3.11+: the instruction is an address in the code). */
    struct hd_py_frame_memo *memo = &memos[((r.code >> 4) ^ (r.instr >> 1)) & mask];
    uintptr_t code = r.code, instr = r.instr;
    /* Proven at this epoch (no code object freed since): the words alone
     * (an entry is only ever stored proven, with a code entry). */
    uintptr_t differ = (memo->code ^ code) | (memo->instr ^ instr) | (memo->mark ^ r.mark);
    if (HD_LIKELY((differ | (memo->code_epoch ^ epoch)) == 0 && epoch != 0) ||
        (differ == 0 && memo->entry && hd_pycode_is(memo->entry, L, code))) {
        memo->code_epoch = epoch;
        if (entry_out)
            *entry_out = memo->entry;
        return memo->encoded;
    }
    if (!code || hd_py_load(code + sizeof(intptr_t)) != hd_python.code_type)
        return UINT64_MAX;
    bool complete;
    uint32_t index;
    if (L->frames == HD_PY_FRAME_OBJECTS) {
        int lasti = (int)(intptr_t)instr;
        complete = lasti >= 0;
        index = !complete ? 0 : L->lasti_in_bytes ? (uint32_t)lasti / 2 : (uint32_t)lasti;
    } else {
        complete = hd_py_raw_owner(L, r) == L->owner_generator || !hd_py_in_prologue(L, r);
        index = (uint32_t)((instr - (code + L->code_code)) / 2);
    }
    /* Interned even when not started: its entry proves the memo and a remembered stack. */
    const struct hd_pycode *entry = hd_pycode_entry(py, code, index);
    if (!entry)
        py->id_failed = true;   /* out of memory or ids: this stack is not remembered */
    uint64_t encoded = complete && entry ? HD_PYFRAME_MAKE(entry->id, index) : 0;
    if (entry)
        *memo = (struct hd_py_frame_memo){code, instr, r.mark, entry, encoded, epoch};
    if (entry_out)
        *entry_out = entry;
    return encoded;
}

/* A stack's frames and groups, read frame by frame from FRAME outward into
 * py->frames and py->groups (their counts into py->count and
 * py->group_count), each time: a stack deeper than HD_PY_RAW_MAX, or a
 * thread without a stacks table. 3.11 and later: _PyInterpreterFrames,
 * several per eval-loop call; 3.8 to 3.10: PyFrameObjects, each run by a
 * call of its own of the eval loop (a frame not started yet is an empty
 * group). */
static inline __attribute__((always_inline)) int hd_py_read_frames(struct hd_py_thread *py,
                                                                   const struct hd_py_layout *L, uintptr_t frame) {
    int count = 0, group_count = 0, in_group = 0;
    int steps = 0;
    uint64_t epoch = hd_pycode_epoch();   /* once: only the GIL holder frees code objects, and it is here */
    struct hd_py_frame_memo *memos = HD_LIKELY(py->stacks != NULL) ? py->stacks->frame_memos : py->frame_memos;
    size_t mask = HD_LIKELY(py->stacks != NULL) ? HD_PY_TABLE_FRAME_MEMOS - 1 : HD_FRAME_MEMOS - 1;
    for (; frame && steps < HD_TRACE_MAX_FRAMES; steps++, frame = hd_py_load(frame + L->frame_previous)) {
        struct hd_py_raw r = hd_py_raw_frame(L, frame);
        /* 3.12+: the shim frame an eval-loop invocation starts with. */
        if (L->frames != HD_PY_FRAME_OBJECTS && !L->has_is_entry && hd_py_raw_owner(L, r) == L->owner_cstack) {
            py->groups[group_count++] = (uint16_t)in_group;
            in_group = 0;
            continue;
        }
        uint64_t encoded = hd_py_frame(py, L, memos, mask, epoch, r, NULL);
        if (encoded == UINT64_MAX)
            break;   /* not a frame we understand: keep what we have */
        if (L->frames == HD_PY_FRAME_OBJECTS) {
            if (encoded)
                py->frames[count++] = encoded;
            py->groups[group_count++] = encoded ? 1 : 0;
            continue;
        }
        if (encoded) {
            py->frames[count++] = encoded;
            in_group++;
        }
        /* 3.11: the eval loop was entered (a native frame) for this frame:
         * what was collected since the previous entry runs in that invocation. */
        if (hd_py_raw_is_entry(L, r)) {
            py->groups[group_count++] = (uint16_t)in_group;
            in_group = 0;
        }
    }
    if (in_group)
        py->groups[group_count++] = (uint16_t)in_group;
    py->group_count = group_count;
    py->count = count;
    return count;
}

/* How many outermost raw words the N in RAW share with remembered stack P. */
static inline __attribute__((always_inline)) uint32_t hd_py_shared_outer(const struct hd_py_raw *raw, int n,
                                                                         const struct hd_py_stack *p) {
    uint32_t m = p->raw_count, limit = (uint32_t)n < m ? (uint32_t)n : m;
    const struct hd_py_raw *a = raw + n, *b = p->raw + m, *stop = a - limit;
    for (; a != stop; a--, b--)
        if (hd_py_raw_differs(a[-1], b[-1], true))
            break;
    return (uint32_t)(raw + n - a);
}

/* A new stack's N raw words (py->raw) decoded into E (the entry it will be
 * remembered in): its frames, groups, code entries and the per-step
 * counts below (counts into py->count and py->group_count; py->walked is
 * N, or -1 when a frame runs no code object). Its SHARED outermost words
 * are remembered stack P's outermost (proven at this epoch): those steps
 * are taken from P whole, frames, groups and entries, without a lookup;
 * at start-up a new stack shares most of its frames with the stack its
 * innermost frame was last part of (its caller's callers). Only the
 * steps inward of them are decoded, frame by frame through the memo. */
static inline __attribute__((always_inline)) int hd_py_decode(struct hd_py_thread *py, const struct hd_py_layout *L,
                                                              struct hd_py_stack *e, int n,
                                                              const struct hd_py_stack *p, uint32_t shared) {
    int count = 0, group_count = 0, in_group = 0;
    int inner = n - (int)shared, step = 0;
    bool marks_matter = shared && p->marks_matter;
    uint64_t epoch = hd_pycode_epoch();   /* once: only the GIL holder frees code objects, and it is here */
    struct hd_py_frame_memo *memos = py->stacks->frame_memos;
    /* Until the backward pass: each step's kind in frames_after (1: a frame,
     * 2: a group ends there), the index of the group it ends in groups_after. */
    for (; step < inner; step++) {
        struct hd_py_raw r = py->raw[step];
        /* 3.12+: the shim frame an eval-loop invocation starts with. */
        if (L->frames != HD_PY_FRAME_OBJECTS && !L->has_is_entry && hd_py_raw_owner(L, r) == L->owner_cstack) {
            e->frames_after[step] = 2;
            e->groups_after[step] = (uint8_t)group_count;
            e->groups[group_count++] = (uint16_t)in_group;
            in_group = 0;
            e->code_entry[step] = NULL;   /* runs no code of its own */
            continue;
        }
        uint64_t encoded =
            hd_py_frame(py, L, memos, HD_PY_TABLE_FRAME_MEMOS - 1, epoch, r, &e->code_entry[step]);
        if (encoded == UINT64_MAX) {
            py->walked = -1;   /* not a frame we understand: keep what we have, remember nothing */
            py->count = count;
            py->group_count = group_count;
            return count;
        }
        unsigned kind = encoded != 0;
        if (L->frames != HD_PY_FRAME_OBJECTS &&
            (!encoded || (hd_py_raw_owner(L, r) == L->owner_generator && hd_py_in_prologue(L, r))))
            marks_matter = true;
        if (encoded) {
            e->frames[count++] = encoded;
            in_group++;
        }
        /* 3.8-3.10: one eval-loop call a frame; 3.11: the eval loop was
         * entered (a native frame) for this frame: what was collected since
         * the previous entry runs in that invocation. */
        if (L->frames == HD_PY_FRAME_OBJECTS || hd_py_raw_is_entry(L, r)) {
            kind |= 2;
            e->groups_after[step] = (uint8_t)group_count;
            e->groups[group_count++] = (uint16_t)in_group;
            in_group = 0;
        }
        e->frames_after[step] = (uint8_t)kind;
    }
    if (shared) {
        uint32_t from = p->raw_count - shared;
        uint32_t frames = p->frames_after[from], after = p->groups_after[from];
        memcpy(&e->frames[count], &p->frames[p->count - frames], frames * sizeof *e->frames);
        count += (int)frames;
        in_group += p->open_after[from];
        if (after != HD_PY_NO_GROUP_END) {
            e->groups[group_count++] = (uint16_t)in_group;
            in_group = 0;
            memcpy(&e->groups[group_count], &p->groups[p->group_count - after], after * sizeof *e->groups);
            group_count += (int)after;
        }
        memcpy(&e->code_entry[inner], &p->code_entry[from], shared * sizeof *e->code_entry);
        memcpy(&e->frames_after[inner], &p->frames_after[from], shared);
        memcpy(&e->open_after[inner], &p->open_after[from], shared);
        memcpy(&e->groups_after[inner], &p->groups_after[from], shared);
    }
    if (in_group)
        e->groups[group_count++] = (uint16_t)in_group;
    /* The per-step counts of the decoded steps, from the outermost of them in. */
    unsigned frames_after = shared ? e->frames_after[inner] : 0, open_after = shared ? e->open_after[inner] : 0;
    unsigned groups_after = shared ? e->groups_after[inner] : HD_PY_NO_GROUP_END;
    for (step = inner - 1; step >= 0; step--) {
        unsigned kind = e->frames_after[step], frame = kind & 1;
        frames_after += frame;
        if (kind & 2) {
            open_after = frame;
            groups_after = (unsigned)group_count - e->groups_after[step] - 1;
        } else {
            open_after += frame;
        }
        e->frames_after[step] = (uint8_t)frames_after;
        e->open_after[step] = (uint8_t)open_after;
        e->groups_after[step] = (uint8_t)groups_after;
    }
    e->marks_matter = marks_matter;
    py->walked = n;
    py->count = count;
    py->group_count = group_count;
    return count;
}

#endif
