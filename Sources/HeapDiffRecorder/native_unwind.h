/* Native stacks without unw_backtrace on every allocation, and exactly
 * what unw_backtrace gives (native_unwind.c; the rules in eh_frame.c). */
#ifndef HEAPDIFF_NATIVE_UNWIND_H
#define HEAPDIFF_NATIVE_UNWIND_H

#include "recorder.h"

/* ---- eh_frame.c: one return address's unwind rule ----------------- */
enum hd_rule_kind {
    HD_RULE_STANDARD = 0,        /* CFA = RSP/RBP + offset, RA at CFA-8, RBP unsaved or at CFA+offset */
    HD_RULE_LAST = 1,            /* the return address is undefined: the stack ends here */
    HD_RULE_LAST_AFTER_CFA = 2,  /* RBP is undefined: it ends here, once the CFA is sane */
    HD_RULE_OTHER = 3,           /* anything else: unw_backtrace unwinds the stack */
    HD_RULE_UNKNOWN = 4,         /* not read yet */
};
enum { HD_RULE_CFA_RBP = 1, HD_RULE_RBP_SAVED = 2 };
struct hd_unwind_rule {
    int32_t cfa_offset;          /* CFA = RSP (or RBP, HD_RULE_CFA_RBP) + this */
    int16_t rbp_offset;          /* HD_RULE_RBP_SAVED: the caller's RBP is at CFA + this */
    uint8_t kind, flags;
};
_Static_assert(sizeof(struct hd_unwind_rule) == 8, "one word");
/* Reads the rule for a return address (the call before it) from .eh_frame. */
struct hd_unwind_rule hd_eh_frame_rule(uintptr_t return_address) HD_HIDDEN;

/* ---- the stack of one allocation, and the memo looked up inline ------ */
/* One allocation's stack as the recorder files it: native frames from the
 * hook's caller outward (the recorder's own skipped), innermost first. */
struct hd_stack {
    const uintptr_t *frames;
    uint32_t count;
    bool probed;                 /* Python: the frames stop at the innermost eval loop */
    struct hd_trace **trace;     /* a memo's slot for the interned trace, or NULL */
};

/* A stack walked once, remembered per thread with every stack word the walk
 * read that the frames depend on, in the order read. Reading the same
 * words again and finding the same values proves the walk would give the
 * same frames; and since each address read follows from the values read
 * before it, the proof never reads a word the walk itself would not.
 *
 * The walks from one hook frame (its caller and frame address: the key)
 * are kept as a trie of their checks: the walk is a function of the values
 * it has read, so two walks that agree on their first k values read the
 * same address next, and differ at most in the value found there. A path
 * is laid out in one run of checks ending in a leaf (a check that always
 * fails); a walk that leaves an existing path at some check is appended as
 * a new run, linked from that check as a sibling (same address, another
 * value). Proving a stack is then one straight run of compares for a hook
 * frame with a single path, and a sibling list looked at per check where
 * paths part (thousands of paths through one hook frame: the wide churn). */
enum { HD_MEMO_FRAMES = 40, HD_MEMO_CHECKS = 80, HD_MEMO_SETS = 128, HD_MEMO_WAYS = 8, HD_MEMO_SIBLINGS = 16 };
struct hd_memo_check { uintptr_t address, value; };
/* A remembered stack, in the table's word arena. */
struct hd_memo_leaf {
    struct hd_trace *trace;      /* tag 0: the interned trace of these frames, once known */
    uint32_t count;
    uint32_t probed;
    uintptr_t frames[];
};
/* The word every leaf's check reads, and a value it never holds. */
extern const uintptr_t hd_memo_sentinel HD_HIDDEN;
enum { HD_MEMO_SENTINEL_VALUE = 1 };
struct hd_memo_key {
    uintptr_t caller, base;      /* the hook's return address and frame address; caller 0: unused */
    uint64_t tag;                /* 0, or the innermost Python frame */
    uint32_t root;               /* the first check of its trie */
};
/* Memory grows with the paths remembered, up to a bound; past it the
 * whole memo is forgotten and learned again. */
struct hd_memo_table {
    uint8_t recent[HD_MEMO_SETS];   /* the way that hit last, tried first */
    unsigned victim;
    struct hd_memo_key keys[HD_MEMO_SETS * HD_MEMO_WAYS];
    struct hd_memo_check *checks;   /* the trie's nodes; node 0 unused */
    uint32_t *other;                /* per node: its next sibling (0: none); a leaf's: its offset in words */
    uint32_t nodes, node_capacity;
    uintptr_t *words;               /* the leaves */
    uint32_t words_used, word_capacity;
};

/* What a walk did at each frame, kept for the memo: the rule, the CFA, the
 * return address read and RBP after the frame (for the first
 * HD_WALK_LOG_FRAMES frames only: a deeper walk is not remembered). */
enum { HD_SELF_FRAMES_MAX = 8, HD_WALK_LOG_FRAMES = HD_MEMO_FRAMES + HD_SELF_FRAMES_MAX };
struct hd_walk_log {
    uint32_t read;               /* frames whose return address (and RBP) were read */
    bool stop_cfa;               /* then one more frame's CFA was computed, and the walk stopped */
    uintptr_t rbp0;              /* RBP at BASE */
    struct hd_unwind_rule rule[HD_WALK_LOG_FRAMES];
    uintptr_t cfa[HD_WALK_LOG_FRAMES], next[HD_WALK_LOG_FRAMES], rbp[HD_WALK_LOG_FRAMES];
};

/* Where stacks are written: room for the deepest stack kept, the
 * recorder's own frames above it, and one more to tell a truncated stack
 * from one that fits exactly. */
enum { HD_CAPTURE_MAX = HD_TRACE_MAX_FRAMES + HD_SELF_FRAMES_MAX + 1 };

/* One thread's unwinding state, part of its struct hd_thread (thread_state.h). */
struct hd_unwind_thread {
    struct hd_memo_table *memos;    /* NULL until the first walk; freed at thread exit */
    bool memos_gone;                /* the thread is exiting: no new table */
    uint64_t hits, walks, fallbacks;
    uintptr_t capture[HD_CAPTURE_MAX];    /* the frames of the stack walked last */
    uintptr_t expected[HD_CAPTURE_MAX];   /* HEAPDIFF_UNWIND=verify: unw_backtrace's */
    struct hd_walk_log walk_log;          /* what the last walk read, for the memo */
};

static inline size_t hd_memo_set(uintptr_t caller, uintptr_t base, uint64_t tag) {
    uint64_t h = (caller ^ (base << 7) ^ (tag * 0xff51afd7ed558ccdull)) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 40) & (HD_MEMO_SETS - 1);
}

/* The remembered stack for this hook frame, if its words still hold. */
static inline __attribute__((always_inline)) bool hd_memo_find(struct hd_unwind_thread *thread, uintptr_t base,
                                                               uintptr_t caller, uint64_t tag, struct hd_stack *out) {
    struct hd_memo_table *table = thread->memos;
    if (HD_UNLIKELY(table == NULL))
        return false;
    size_t set = hd_memo_set(caller, base, tag);
    const struct hd_memo_key *ways = &table->keys[set * HD_MEMO_WAYS];
    unsigned recent = table->recent[set], way = recent;
    for (unsigned n = 0;; n++) {
        if (n == HD_MEMO_WAYS)
            return false;
        way = (recent + n) % HD_MEMO_WAYS;
        if (ways[way].caller == caller && ways[way].base == base && ways[way].tag == tag)
            break;
    }
    const struct hd_memo_check *checks = table->checks, *check = &checks[ways[way].root];
    for (;;) {
        /* Two checks a round; the leaf's check stops it. */
        for (;; check += 2) {
            if (*(const uintptr_t *)check[0].address != check[0].value)
                break;
            if (*(const uintptr_t *)check[1].address != check[1].value) {
                check++;
                break;
            }
        }
        uint32_t at = (uint32_t)(check - checks);
        if (HD_LIKELY(check->address == (uintptr_t)&hd_memo_sentinel)) {
            struct hd_memo_leaf *leaf = (struct hd_memo_leaf *)&table->words[table->other[at]];
            table->recent[set] = (uint8_t)way;
            thread->hits++;
            *out = (struct hd_stack){leaf->frames, leaf->count, leaf->probed, tag ? NULL : &leaf->trace};
            return true;
        }
        /* Where paths part: another value at the same address. */
        uintptr_t value = *(const uintptr_t *)check->address;
        uint32_t sibling = table->other[at];
        while (sibling && checks[sibling].value != value)
            sibling = table->other[sibling];
        if (!sibling)
            return false;
        check = &checks[sibling + 1];
    }
}

/* ---- stack_memo.c ---------------------------------------------------- */
void hd_memo_init(void) HD_HIDDEN;
/* This thread's table, made on first use (NULL when it cannot be). */
struct hd_memo_table *hd_memo_table(struct hd_unwind_thread *thread) HD_HIDDEN;
/* Remembers a walk under its key in SET; returns the slot for its trace,
 * or NULL when it is not remembered. */
struct hd_trace **hd_memo_remember(struct hd_memo_table *table, size_t set, uintptr_t base, uintptr_t caller,
                                   uint64_t tag, const struct hd_stack *stack, const struct hd_walk_log *log) HD_HIDDEN;

/* The bytes a memo table holds (0 for NULL). */
size_t hd_memo_memory(const struct hd_memo_table *table) HD_HIDDEN;

/* ---- native_unwind.c -------------------------------------------------- */
/* The stack when the memo has none: walked with the rules (and remembered),
 * or from unw_backtrace (HEAPDIFF_UNWIND=libunwind, or a frame the rules do
 * not cover). PYTHON: stop at the innermost eval loop. */
struct hd_stack hd_unwind(struct hd_unwind_thread *thread, uintptr_t base, uintptr_t caller, uint64_t tag,
                          bool python) HD_HIDDEN __attribute__((noinline));
/* HEAPDIFF_UNWIND=verify: the stack found is compared with unw_backtrace's. */
struct hd_stack hd_unwind_verify(struct hd_unwind_thread *thread, struct hd_stack found, bool python) HD_HIDDEN
    __attribute__((noinline));
void hd_unwind_init(void) HD_HIDDEN;
/* A thread's counters into the process's, as it exits. */
void hd_unwind_retire(struct hd_unwind_thread *thread) HD_HIDDEN;
/* HEAPDIFF_STATS / verify: one line on stderr at exit, with the exiting
 * thread's own counters. */
void hd_unwind_report(const struct hd_unwind_thread *thread) HD_HIDDEN;

#endif
