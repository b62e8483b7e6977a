/* python_stacks.c: each thread's recently seen Python stacks, whole.
 *
 * Reading a Python stack frame by frame (python_frames.h) and then merging,
 * hashing and looking up the merged stack costs most of what an allocation
 * under Python code costs. But a service allocates from the same few
 * hundred stacks over and over. So each walk first reads only the raw
 * words the frames are decided by — per frame its code object, instruction
 * pointer (f_lasti before 3.11) and the marks that group frames (is_entry,
 * owner) — and looks for that exact list among the stacks this thread has
 * seen. A stack found is proven by comparing every raw word, and each code
 * object against its interned entry (hd_pycode_is: line table, file name,
 * qualified name, first line), as the per-frame memo proves one frame: the
 * same code object at the same instruction, with the same marks, gives the
 * same frames. It then gives the frames (code id, instruction) without decoding
 * them, and, when the native frames up to the eval loop are also the same
 * as last time, the interned trace, without merging, hashing or a lookup. */
#ifndef HEAPDIFF_PYTHON_STACKS_H
#define HEAPDIFF_PYTHON_STACKS_H

#include "common.h"

struct hd_pycode;
/* Raw frames a remembered stack has at most (deeper ones are read frame by
 * frame every time); remembered stacks per thread; (Python stack, native
 * frames) pairs whose trace is remembered per thread, and their native
 * depth at most. */
enum { HD_PY_RAW_MAX = 128, HD_PY_STACKS = 256, HD_PY_TRACES = 1024, HD_PY_NATIVE_MAX = 16 };
/* Innermost frames (code word, instruction) whose last stack is tried first. */
enum { HD_PY_PREDICT = 256 };
enum { HD_PY_RAW_END = 1 << 20 };   /* no mark read is this big */
enum { HD_PY_RAW_END_CODE = 1 };     /* nor is any object at an odd address */
struct hd_py_raw {
    uintptr_t code;              /* the code object (3.13: any executable) */
    uintptr_t instr;             /* prev_instr (3.11+), or f_lasti */
    uintptr_t mark;              /* the frame's owner, and is_entry (3.11); 0 before 3.11; */
                                 /* {HD_PY_RAW_END_CODE, 0, HD_PY_RAW_END} after the last */
};

/* Whether two frames' raw words differ: code and instruction, and the
 * owner when MARKS (a constant where inlined). */
static inline __attribute__((always_inline)) bool hd_py_raw_differs(struct hd_py_raw a, struct hd_py_raw b,
                                                                    bool marks) {
    return ((a.code ^ b.code) | (a.instr ^ b.instr) | (marks ? a.mark ^ b.mark : 0)) != 0;
}

struct hd_py_stack {
    uint64_t hash;
    uint64_t id;                 /* this thread's number for the stack, new each time an entry is filled */
    uint64_t code_epoch;         /* hd_py_code_epoch when its code objects were last proven its entries' */
    uint32_t raw_count;          /* 0: an empty entry */
    uint16_t count, group_count; /* what hd_python_capture gave for it */
    /* 3.12+: a frame in its prologue (hd_py_in_prologue), whose owner
     * decides whether it is shown: comparing this stack compares the marks
     * too (hd_py_marks_implied). */
    bool marks_matter;
    uint64_t frames_hash;        /* its frames' share of a trace's hash (hd_trace_hash_frames) */
    /* Then a word whose mark no frame has, which stops a comparison. */
    struct hd_py_raw raw[HD_PY_RAW_MAX + 1];
    const struct hd_pycode *code_entry[HD_PY_RAW_MAX];   /* each code object's then; NULL for a shim frame (3.12+) */
    uint64_t frames[HD_PY_RAW_MAX];
    uint16_t groups[HD_PY_RAW_MAX];
    /* By step (raw word), what the steps from it outward give, which is
     * the same in any stack with those outer steps (hd_py_decode takes
     * them from here): their frames; those up to the first step that ends
     * a group (that step's included); how many groups follow that group
     * (HD_PY_NO_GROUP_END: no step from it outward ends one). */
    uint8_t frames_after[HD_PY_RAW_MAX], open_after[HD_PY_RAW_MAX], groups_after[HD_PY_RAW_MAX];
};
enum { HD_PY_NO_GROUP_END = 255 };

/* The trace of a Python stack (by id) under these native frames. */
struct hd_trace;
struct hd_py_trace {
    uint64_t stack_id;           /* 0: empty */
    struct hd_trace *trace;
    uint32_t count;
    bool probed;
    uintptr_t frames[HD_PY_NATIVE_MAX];
};

/* Per thread, what the raw words of recently seen frames resolved to: the
 * outer frames of a stack recur while the inner ones allocate, so most
 * frames are found here (python_frames.h), proven by their raw words and
 * code entry (hd_pycode_is) still being the same, without the type check
 * and code lookup. */
struct hd_py_frame_memo {
    uintptr_t code, instr, mark;
    const struct hd_pycode *entry;   /* the code object's, proven by hd_pycode_is; NULL: none */
    uint64_t encoded;            /* 0: an incomplete frame, nothing to show */
    uint64_t code_epoch;         /* hd_py_code_epoch when the entry was last proven */
};
/* Per thread with a table, the frame memo made larger than
 * the one in TLS, which every thread's static TLS would carry: start-up
 * reads tens of thousands of new stacks whose outer frames recur. */
enum { HD_PY_TABLE_FRAME_MEMOS = 2048 };
struct hd_py_stacks {
    struct hd_py_frame_memo frame_memos[HD_PY_TABLE_FRAME_MEMOS];
    struct hd_py_stack entry[HD_PY_STACKS];
    struct hd_py_trace traces[HD_PY_TRACES];
    struct hd_py_stack *predict[HD_PY_PREDICT];
    uint64_t next_id;
    uint64_t hits, misses;
};

struct hd_py_thread;
struct hd_stack;
/* This thread's table, made on first use (NULL when it cannot be). */
struct hd_py_stacks *hd_py_stacks_table(struct hd_py_thread *py) HD_HIDDEN;
/* Frees it, at thread exit (its counts kept for the exit's stats). */
void hd_py_stacks_release(struct hd_py_thread *py) HD_HIDDEN;
/* Completes E, whose frames, groups, code entries and per-step counts
 * were just decoded into it from its N raw words (py->raw; counts in py),
 * as a remembered stack; false when it cannot be proven later (a frame not
 * running a code object, an id not given): E is left empty, and the frames
 * and groups are copied to py->frames and py->groups. */
bool hd_py_stack_fill(struct hd_py_thread *py, struct hd_py_stack *e, int n, uint64_t hash) HD_HIDDEN;
/* The frames and groups of a stack found, copied for merging. */
void hd_py_stack_frames(struct hd_py_thread *py) HD_HIDDEN;
/* Remembers the trace of stack E under these native frames. */
void hd_py_stack_remember(struct hd_py_stacks *stacks, const struct hd_py_stack *e, const uintptr_t *frames,
                          uint32_t count, bool probed, struct hd_trace *trace) HD_HIDDEN;
/* HEAPDIFF_STATS: stacks found and read, summed over threads. */
void hd_py_stacks_counts(uint64_t *hits, uint64_t *misses) HD_HIDDEN;

/* The slot of (Python stack, native frames), by where the frames are: a
 * native stack proven from the memo is read in place, so its address
 * tells it apart cheaply; the frames are still compared. */
static inline struct hd_py_trace *hd_py_trace_slot(struct hd_py_stacks *stacks, uint64_t id, const uintptr_t *frames,
                                                   uint32_t count) {
    uint64_t h = (id ^ (uintptr_t)frames ^ ((uint64_t)count << 58)) * 0x9E3779B97F4A7C15ull;
    return &stacks->traces[(h >> 40) & (HD_PY_TRACES - 1)];
}

/* The trace remembered for stack E under these native frames, or NULL. */
static inline struct hd_trace *hd_py_stack_trace(struct hd_py_stacks *stacks, const struct hd_py_stack *e,
                                                 const uintptr_t *frames, uint32_t count, bool probed) {
    const struct hd_py_trace *slot = hd_py_trace_slot(stacks, e->id, frames, count);
    if (slot->stack_id != e->id || slot->count != count || slot->probed != probed)
        return NULL;
    uintptr_t differ = 0;   /* a few frames: compared without a branch each */
    for (uint32_t i = 0; i < count; i++)
        differ |= slot->frames[i] ^ frames[i];
    return differ ? NULL : slot->trace;
}

static inline uint64_t hd_py_raw_mix(uint64_t hash, uintptr_t code, uintptr_t instr) {
    return ((hash ^ code) * 0x9E3779B97F4A7C15ull) ^ instr;
}
static inline uint64_t hd_py_raw_final(uint64_t hash, uint32_t count) {
    hash ^= count;
    hash ^= hash >> 31;
    hash *= 0xff51afd7ed558ccdull;
    return hash ^ (hash >> 29);
}

#endif
