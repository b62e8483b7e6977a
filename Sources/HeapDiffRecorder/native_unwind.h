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
    HD_RULE_SIGNAL = 5,          /* a signal trampoline: the interrupted frame's registers are in the ucontext at RSP */
};
enum { HD_RULE_CFA_RBP = 1, HD_RULE_RBP_SAVED = 2 };
struct hd_unwind_rule {
    int32_t cfa_offset;          /* CFA = RSP (or RBP, HD_RULE_CFA_RBP) + this */
    int16_t rbp_offset;          /* HD_RULE_RBP_SAVED: the caller's RBP is at CFA + this */
    uint8_t kind, flags;
};
_Static_assert(sizeof(struct hd_unwind_rule) == 8, "one word");
/* Reads the rule for a return address (the call before it) from .eh_frame;
 * AT_ADDRESS: for the instruction at ADDRESS itself (a frame a signal
 * interrupted there, which made no call). */
struct hd_unwind_rule hd_eh_frame_rule(uintptr_t address, bool at_address) HD_HIDDEN;

/* ---- the stack of one allocation, and the memo looked up inline ------ */
/* One allocation's stack as the recorder files it: native frames from the
 * hook's caller outward (the recorder's own skipped), innermost first. */
struct hd_memo;
struct hd_stack {
    const uintptr_t *frames;
    uint32_t count;
    bool probed;                 /* Python: the frames stop at the innermost eval loop */
    struct hd_memo *memo;        /* the memo that proved these frames (or just remembered them), or NULL */
};

/* A stack walked once, remembered per thread with every stack word the walk
 * read that the frames depend on, in the order read. Reading the same
 * words again and finding the same values proves the walk would give the
 * same frames; and since each address read follows from the values read
 * before it, the proof never reads a word the walk itself would not. */
enum { HD_MEMO_FRAMES = 40, HD_MEMO_CHECKS = 80, HD_MEMO_SETS = 128, HD_MEMO_WAYS = 8 };
struct hd_memo_check { uintptr_t address, value; };
/* A memo takes the room its stack needs, no more (stack_memo.c): most
 * stacks need a few hundred bytes, the deepest ~1.6 KiB. */
struct hd_memo {
    struct hd_trace *trace;      /* tag 0: the interned trace of these frames, once known */
    /* Under Python code: the trace of these frames with the remembered
     * Python stack of this id (python_stacks.h), the last one seen with
     * them; 0: none. Ids are never given twice, and a memo filled again
     * starts with none, so an equal id is that very pair. */
    uint64_t python_id;
    struct hd_trace *python_trace;
    const uintptr_t *frames;     /* COUNT of them, right after the sentinel's check */
    uint16_t count;
    bool probed;
    uint8_t lines;               /* its size in HD_MEMO_LINE-byte units */
    /* The checks, then one that always fails (the sentinel's), then the
     * frames. */
    struct hd_memo_check check[];
};
/* The word every memo's last check reads, and a value it never holds. */
extern const uintptr_t hd_memo_sentinel HD_HIDDEN;
enum { HD_MEMO_SENTINEL_VALUE = 1 };
enum {
    HD_MEMO_LINE = 64,
    HD_MEMO_MAX_LINES = (sizeof(struct hd_memo) + (HD_MEMO_CHECKS + 1) * sizeof(struct hd_memo_check) +
                         HD_MEMO_FRAMES * sizeof(uintptr_t) + HD_MEMO_LINE - 1) / HD_MEMO_LINE,
};
/* The keys are apart from the memos, and memos are cut from STORE in the
 * order first used, each its own size: a thread's memory grows with the
 * stacks it remembers and their depth, not with the table's size. */
struct hd_memo_key {
    uintptr_t caller, base;      /* the hook's return address and frame address */
    uint64_t tag;                /* 0, or the innermost Python frame */
    struct hd_memo *memo;        /* NULL until this way is first used */
};
struct hd_memo_table {
    uint8_t recent[HD_MEMO_SETS];   /* the way that hit last, tried first */
    /* How well a set pays: +2 a proof found, -1 a miss, within +-64. Below
     * HD_MEMO_THRASH (under 1 in 3 found, where looking and remembering
     * cost more than the walks saved: thousands of paths through one hook
     * frame) the set is looked in, and walks remembered, 1 time in 64. */
    int8_t score[HD_MEMO_SETS];
    unsigned victim;
    unsigned skip;                  /* lookups in sets below HD_MEMO_THRASH */
    uint64_t hits;                  /* stacks proven from it */
    uint64_t restarts;              /* times the store was used up and started again */
    size_t store_used;              /* bytes of STORE handed out, from its start */
    /* Memos given back (a way filled again with a stack too deep for its
     * memo), by size in lines, each linked through its trace field. */
    struct hd_memo *spare[HD_MEMO_MAX_LINES + 1];
    struct hd_memo_check proof[HD_MEMO_CHECKS];   /* a walk's checks, before its memo is cut */
    struct hd_memo_key keys[HD_MEMO_SETS * HD_MEMO_WAYS];
    /* Room for every way's memo at the largest size, so that a store cut
     * up by sizes no longer asked for is the only way to run out (then it
     * starts again: stack_memo.c). */
    _Alignas(HD_MEMO_LINE) unsigned char store[HD_MEMO_SETS * HD_MEMO_WAYS * HD_MEMO_MAX_LINES * HD_MEMO_LINE];
};
enum { HD_MEMO_THRASH = -32 };
/* This set is not looked in this time (the walk is not remembered either).
 * COUNTED: a lookup, which counts a thrashing set's turn (only those are
 * counted: a set that pays costs no counting). */
static inline bool hd_memo_skipped(struct hd_memo_table *table, size_t set, bool counted) {
    return HD_UNLIKELY(table->score[set] < HD_MEMO_THRASH) && ((counted ? ++table->skip : table->skip) & 63) != 0;
}

/* What a walk did at each frame, kept for the memo: the rule, the CFA, the
 * return address read and RBP after the frame (for the first
 * HD_WALK_LOG_FRAMES frames only: a deeper walk is not remembered). */
enum { HD_SELF_FRAMES_MAX = 8, HD_WALK_LOG_FRAMES = HD_MEMO_FRAMES + HD_SELF_FRAMES_MAX };
struct hd_walk_log {
    uint32_t read;               /* frames whose return address (and RBP) were read */
    bool crossed_signal;         /* the walk went on past a signal frame: not remembered */
    bool stop_cfa;               /* then one more frame's CFA was computed, and the walk stopped */
    uintptr_t rbp0;              /* RBP at BASE */
    struct hd_unwind_rule rule[HD_WALK_LOG_FRAMES];
    uintptr_t cfa[HD_WALK_LOG_FRAMES], next[HD_WALK_LOG_FRAMES], rbp[HD_WALK_LOG_FRAMES];
};

/* Where stacks are written: room for the deepest stack kept, the
 * recorder's own frames above it, and one more to tell a truncated stack
 * from one that fits exactly. */
enum { HD_CAPTURE_MAX = HD_TRACE_MAX_FRAMES + HD_SELF_FRAMES_MAX + 1 };

/* One thread's unwinding state, in its buffers (thread_state.h). Its memo
 * table is not here but in the thread's TLS (struct hd_thread's memos,
 * passed to the functions below): a stack proven from the memo then reads
 * nothing else of the thread's. */
struct hd_unwind_thread {
    bool memos_gone;                /* no table: none could be made, or the thread is exiting */
    uint64_t hits, walks, fallbacks;   /* hits: those of its tables already released */
    uint64_t memo_restarts;            /* the same: its tables' restarts */
    uintptr_t capture[HD_CAPTURE_MAX];    /* the frames of the stack walked last */
    uintptr_t expected[HD_CAPTURE_MAX];   /* HEAPDIFF_UNWIND=verify: unw_backtrace's */
    struct hd_walk_log walk_log;          /* what the last walk read, for the memo */
};

static inline size_t hd_memo_set(uintptr_t caller, uintptr_t base, uint64_t tag) {
    uint64_t h = (caller ^ (base << 7) ^ (tag * 0xff51afd7ed558ccdull)) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 40) & (HD_MEMO_SETS - 1);
}

/* The remembered stack for this hook frame, if its words still hold
 * (TABLE: the thread's, or NULL). */
static inline __attribute__((always_inline)) bool hd_memo_find(struct hd_memo_table *table, uintptr_t base,
                                                               uintptr_t caller, uint64_t tag, struct hd_stack *out) {
    if (HD_UNLIKELY(table == NULL))
        return false;
    size_t set = hd_memo_set(caller, base, tag);
    /* A set that keeps missing is only looked in now and then. */
    if (hd_memo_skipped(table, set, true))
        return false;
    const struct hd_memo_key *ways = &table->keys[set * HD_MEMO_WAYS];
    unsigned recent = table->recent[set];
    for (unsigned n = 0; n < HD_MEMO_WAYS; n++) {
        unsigned way = (recent + n) % HD_MEMO_WAYS;
        const struct hd_memo_key *key = &ways[way];
        if (key->caller != caller || key->base != base || key->tag != tag)
            continue;
        struct hd_memo *memo = key->memo;
        /* Two checks a round; the sentinel after the last one stops it. */
        const struct hd_memo_check *check = memo->check;
        for (;; check += 2) {
            if (*(const uintptr_t *)check[0].address != check[0].value)
                break;
            if (*(const uintptr_t *)check[1].address != check[1].value) {
                check++;
                break;
            }
        }
        /* Only the sentinel's address is in the library, not on a stack. */
        if (check->address == (uintptr_t)&hd_memo_sentinel) {
            table->recent[set] = (uint8_t)way;
            if (table->score[set] <= 62)
                table->score[set] += 2;
            table->hits++;
            *out = (struct hd_stack){memo->frames, memo->count, memo->probed, memo};
            return true;
        }
    }
    if (table->score[set] > -64)
        table->score[set]--;
    return false;
}

/* ---- stack_memo.c ---------------------------------------------------- */
/* Frees this thread's table (*MEMOS), at its exit (thread_buffers.c), its counts kept. */
void hd_memo_release(struct hd_unwind_thread *thread, struct hd_memo_table **memos) HD_HIDDEN;
/* This thread's table (*MEMOS), made on first use (NULL when it cannot be). */
struct hd_memo_table *hd_memo_table(struct hd_unwind_thread *thread, struct hd_memo_table **memos) HD_HIDDEN;
/* Remembers a walk in SET (a way chosen round-robin); returns the memo, or
 * NULL when it is not remembered. */
struct hd_memo *hd_memo_remember(struct hd_memo_table *table, size_t set, uintptr_t base, uintptr_t caller,
                                   uint64_t tag, const struct hd_stack *stack, const struct hd_walk_log *log) HD_HIDDEN;

/* ---- native_unwind.c -------------------------------------------------- */
/* The stack when the memo has none (or HEAPDIFF_UNWIND is not the
 * default): walked with the rules (and remembered), or from unw_backtrace
 * (HEAPDIFF_UNWIND=libunwind, or a frame the rules do not cover); under
 * HEAPDIFF_UNWIND=verify, also the memo's, each checked. PYTHON: stop at
 * the innermost eval loop. */
struct hd_stack hd_unwind(struct hd_unwind_thread *thread, struct hd_memo_table **memos, uintptr_t base,
                          uintptr_t caller, uint64_t tag, bool python) HD_HIDDEN __attribute__((noinline));
/* unw_backtrace's stack, into BUFFER (the recorder's own frames skipped;
 * under Python code, cut at the innermost eval loop). */
struct hd_stack hd_libunwind_stack(uintptr_t *buffer, bool python) HD_HIDDEN;

/* ---- unwind_verify.c -------------------------------------------------- */
/* HEAPDIFF_UNWIND=verify: the stack found is compared with unw_backtrace's. */
struct hd_stack hd_unwind_verify(struct hd_unwind_thread *thread, struct hd_stack found, bool python) HD_HIDDEN
    __attribute__((noinline));
/* Its one line on stderr at exit: how many compared, how many differed. */
void hd_unwind_verify_report(void) HD_HIDDEN;
void hd_unwind_init(void) HD_HIDDEN;
/* A thread's counters into the process's, as it exits. */
void hd_unwind_retire(struct hd_unwind_thread *thread) HD_HIDDEN;
/* HEAPDIFF_STATS / verify: one line on stderr at exit, with the exiting
 * thread's own counters (either may be NULL). */
void hd_unwind_report(const struct hd_unwind_thread *thread, const struct hd_memo_table *memos) HD_HIDDEN;

#endif
