/* Native stacks without unw_backtrace on every allocation, and exactly
 * what unw_backtrace gives (native_unwind.c; the rules in eh_frame.c). */
#ifndef HEAPDIFF_NATIVE_UNWIND_H
#define HEAPDIFF_NATIVE_UNWIND_H

#include "recorder.h"

/* ---- eh_frame.c: one return address's unwind rule, in one word ------- */
/* bits 0-31 CFA offset; 32-47 RBP's offset from the CFA; 48 CFA from RBP
 * (else RSP); 49 RBP saved; 56-63 the kind. 0 means "not known yet". */
enum { HD_RULE_RBP_SHIFT = 32, HD_RULE_KIND_SHIFT = 56 };
#define HD_RULE_CFA_RBP (1ull << 48)
#define HD_RULE_RBP_SAVED (1ull << 49)
enum hd_rule_kind {
    HD_RULE_STANDARD = 1,        /* CFA = RSP/RBP + offset, RA at CFA-8, RBP unsaved or at CFA+offset */
    HD_RULE_LAST = 2,            /* the return address is undefined: the stack ends here */
    HD_RULE_LAST_AFTER_CFA = 3,  /* RBP is undefined: it ends here, once the CFA is sane */
    HD_RULE_OTHER = 4,           /* anything else: unw_backtrace unwinds the stack */
};
static inline unsigned hd_rule_kind(uint64_t rule) { return (unsigned)(rule >> HD_RULE_KIND_SHIFT); }
static inline int32_t hd_rule_cfa_offset(uint64_t rule) { return (int32_t)(uint32_t)rule; }
static inline int16_t hd_rule_rbp_offset(uint64_t rule) { return (int16_t)(uint16_t)(rule >> HD_RULE_RBP_SHIFT); }
/* Reads the rule for a return address (the call before it) from .eh_frame. */
uint64_t hd_eh_frame_rule(uintptr_t return_address) HD_HIDDEN;

/* ---- native_unwind.c ------------------------------------------------- */

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
 * before it, the proof never reads a word the walk itself would not. */
enum { HD_MEMO_FRAMES = 24, HD_MEMO_CHECKS = 48, HD_MEMO_SETS = 128, HD_MEMO_WAYS = 8, HD_MEMO_THRASH = 32 };
struct hd_memo_check { uintptr_t address, value; };
struct hd_memo {
    uintptr_t caller, base;      /* the hook's return address and frame address */
    uint64_t tag;                /* 0, or the innermost Python frame */
    struct hd_trace *trace;      /* tag 0: the interned trace of these frames, once known */
    uint16_t count, checks;
    bool probed;
    struct hd_memo_check check[HD_MEMO_CHECKS];
    uintptr_t frames[HD_MEMO_FRAMES];
};
struct hd_memo_table {
    uint8_t recent[HD_MEMO_SETS];   /* the way that hit last, tried first */
    uint8_t misses[HD_MEMO_SETS];   /* lookups without a proof since the last one with */
    unsigned victim, skip;
    struct hd_memo memos[HD_MEMO_SETS * HD_MEMO_WAYS];
};
/* Per-thread unwinding state (initial-exec TLS). */
struct hd_unwind_thread {
    struct hd_memo_table *memos;    /* NULL until the first walk; freed at thread exit */
    bool memos_gone;                /* the thread is exiting: no new table */
    uint64_t hits, walks, fallbacks;
};
extern __thread struct hd_unwind_thread hd_unwind_tls HD_HIDDEN __attribute__((tls_model("initial-exec")));

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
    /* A set that keeps missing is only looked in now and then. */
    if (HD_UNLIKELY(table->misses[set] >= HD_MEMO_THRASH) && (++table->skip & 15) != 0)
        return false;
    struct hd_memo *ways = &table->memos[set * HD_MEMO_WAYS];
    unsigned recent = table->recent[set];
    for (unsigned n = 0; n < HD_MEMO_WAYS; n++) {
        unsigned way = (recent + n) % HD_MEMO_WAYS;
        struct hd_memo *memo = &ways[way];
        if (memo->caller != caller || memo->base != base || memo->tag != tag)
            continue;
        const struct hd_memo_check *check = memo->check, *end = check + memo->checks;
        while (check < end && *(const uintptr_t *)check->address == check->value)
            check++;
        if (check == end) {
            table->recent[set] = (uint8_t)way;
            table->misses[set] = 0;
            thread->hits++;
            *out = (struct hd_stack){memo->frames, memo->count, memo->probed, tag ? NULL : &memo->trace};
            return true;
        }
    }
    if (table->misses[set] < 255)
        table->misses[set]++;
    return false;
}

/* The stack when the memo has none: walked with the rules (and remembered),
 * or from unw_backtrace (HEAPDIFF_UNWIND=libunwind, or a frame the rules do
 * not cover). PYTHON: stop at the innermost eval loop. */
struct hd_stack hd_unwind(struct hd_unwind_thread *thread, uintptr_t base, uintptr_t caller, uint64_t tag,
                          bool python) HD_HIDDEN __attribute__((noinline));
/* HEAPDIFF_UNWIND=verify: the stack found is compared with unw_backtrace's. */
struct hd_stack hd_unwind_verify(struct hd_unwind_thread *thread, struct hd_stack found, bool python) HD_HIDDEN
    __attribute__((noinline));
void hd_unwind_init(void) HD_HIDDEN;
/* HEAPDIFF_STATS / verify: one line on stderr at exit. */
void hd_unwind_report(void) HD_HIDDEN;

#endif
