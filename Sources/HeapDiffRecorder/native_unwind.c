/* Native stacks at a fraction of unw_backtrace's cost, and exactly its
 * frames.
 *
 * unw_backtrace (libunwind's fast trace) walks each frame with a rule it
 * caches per return address: CFA = RSP or RBP + offset, return address at
 * CFA-8, RBP unsaved or at CFA+offset. eh_frame.c reads the same rules
 * from the same .eh_frame, so a walk with them reads the same stack words
 * and finds the same return addresses, for about a fifth of the
 * instructions (no cursor to set up, one table probe a frame). Any frame
 * whose rule is not of that form, or a stack that looks broken, is handed
 * whole to unw_backtrace.
 *
 * Most allocations repeat a stack the thread has seen: each walk is
 * remembered with the words it read (stack_memo.c), and the next
 * allocation from the same hook frame proves the stack unchanged by
 * reading them again (capture.h), a few loads instead of a walk.
 *
 * An allocation in a signal handler is walked through the kernel's signal
 * frame as libunwind's trace walks it (walk_after_signal): unw_backtrace
 * there would take 5 KiB more of what may be a small alternate stack.
 *
 * HEAPDIFF_UNWIND=libunwind calls unw_backtrace for every allocation;
 * HEAPDIFF_UNWIND=verify does both and counts every difference
 * (unwind_verify.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include "native_unwind.h"
#include "unloads.h"
#include "unwind_rules.h"

static uint64_t total_hits, total_walks, total_fallbacks, total_memo_restarts;

/* ---- the walk --------------------------------------------------------- */
enum { WALK_OTHER = -1 };

enum step { STEP_NEXT, STEP_END, STEP_OTHER, STEP_SIGNAL };

/* CFA = RBP + 16, the caller's RBP at CFA - 16, as one word (x86-64 is
 * little-endian): struct hd_unwind_rule's fields in order. */
#define FRAME_POINTER_RULE                                                                              \
    ((uint64_t)(uint32_t)16 | (uint64_t)(uint16_t)-16 << 32 | (uint64_t)HD_RULE_STANDARD << 48 |      \
     (uint64_t)(HD_RULE_CFA_RBP | HD_RULE_RBP_SAVED) << 56)
_Static_assert(offsetof(struct hd_unwind_rule, rbp_offset) == 4 && offsetof(struct hd_unwind_rule, kind) == 6 &&
                   offsetof(struct hd_unwind_rule, flags) == 7 && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "FRAME_POINTER_RULE and RBP_SAVED_SHAPE spell the rule's fields in memory order");
/* The rule's top 16 bits (kind, flags) when CFA = RSP + offset with RBP saved. */
#define RBP_SAVED_SHAPE ((uint64_t)HD_RULE_STANDARD | (uint64_t)HD_RULE_RBP_SAVED << 8)

/* A standard rule's step once its CFA is known: the caller's return address
 * at CFA-8 (into *RIP), its RBP at CFA+RBP_OFFSET when RESTORES_RBP, its
 * RSP = CFA; what LOG (when not NULL) keeps for the memo. Inlined with
 * constant arguments into each fast case below, so each stays a few loads. */
static inline __attribute__((always_inline)) enum step advance(const struct hd_unwind_rule *rule, uintptr_t cfa,
                                                               bool restores_rbp, intptr_t rbp_offset,
                                                               uintptr_t *rip, uintptr_t *rsp, uintptr_t *rbp,
                                                               struct hd_walk_log *log, uint32_t k) {
    if (HD_UNLIKELY(cfa <= *rsp))
        return STEP_OTHER;
    if (log && k < HD_WALK_LOG_FRAMES) {
        log->rule[k] = *rule;
        log->cfa[k] = cfa;
    }
    *rip = *(const uintptr_t *)(cfa - 8);
    if (restores_rbp)
        *rbp = *(const uintptr_t *)(cfa + rbp_offset);
    *rsp = cfa;
    if (log && k < HD_WALK_LOG_FRAMES) {
        log->next[k] = *rip;
        log->rbp[k] = *rbp;
    }
    return STEP_NEXT;
}

/* One frame: the rule of its return address RIP applied to (RSP, RBP) as
 * libunwind's trace applies it: CFA = RSP or RBP + offset, the caller's
 * return address at CFA-8 (into *RIP), its RBP at CFA+offset when saved,
 * its RSP = CFA. LOG (when not NULL) gets what the memo needs. */
static inline __attribute__((always_inline)) enum step step(const struct hd_rule_slot *slots, unsigned shift,
                                                            uintptr_t *rip, uintptr_t *rsp, uintptr_t *rbp,
                                                            struct hd_walk_log *log, uint32_t k) {
    const struct hd_rule_slot *slot = &slots[hd_rule_home(shift, *rip)];
    /* Frame-pointer code's rule, the one most frames have where there are
     * frame pointers, told by one compare of the whole rule in the table:
     * the same step as below, with its offsets as immediates. */
    if (HD_LIKELY(slot->ip == *rip && slot->word == FRAME_POINTER_RULE))
        return advance(&slot->rule, *rbp + 16, true, -16, rip, rsp, rbp, log, k);
    /* Code without frame pointers: CFA = RSP + offset, RBP unsaved (the
     * rule's upper half zero). */
    if (HD_LIKELY(slot->ip == *rip && slot->word >> 32 == 0))
        return advance(&slot->rule, *rsp + (intptr_t)slot->rule.cfa_offset, false, 0, rip, rsp, rbp, log, k);
    /* Without frame pointers, RBP saved as any other register. */
    if (HD_LIKELY(slot->ip == *rip && slot->word >> 48 == RBP_SAVED_SHAPE))
        return advance(&slot->rule, *rsp + (intptr_t)slot->rule.cfa_offset, true, (intptr_t)slot->rule.rbp_offset,
                       rip, rsp, rbp, log, k);
    struct hd_unwind_rule rule = slot->rule;
    if (HD_UNLIKELY(slot->ip != *rip))
        rule = hd_rule_slow(*rip);
    if (HD_UNLIKELY(rule.kind != HD_RULE_STANDARD)) {
        if (rule.kind == HD_RULE_LAST)
            return STEP_END;
        if (rule.kind == HD_RULE_SIGNAL)
            return STEP_SIGNAL;   /* RSP: the ucontext */
        if (rule.kind != HD_RULE_LAST_AFTER_CFA)
            return STEP_OTHER;
    }
    uintptr_t cfa = (rule.flags & HD_RULE_CFA_RBP ? *rbp : *rsp) + (intptr_t)rule.cfa_offset;
    /* A CFA at or below the stack pointer is a broken stack (or one
     * libunwind would refuse): libunwind decides. */
    if (HD_UNLIKELY(cfa <= *rsp))
        return STEP_OTHER;
    if (log && k < HD_WALK_LOG_FRAMES) {
        log->rule[k] = rule;
        log->cfa[k] = cfa;
    }
    if (HD_UNLIKELY(rule.kind == HD_RULE_LAST_AFTER_CFA)) {
        if (log)
            log->stop_cfa = true;
        return STEP_END;
    }
    *rip = *(const uintptr_t *)(cfa - 8);
    if (rule.flags & HD_RULE_RBP_SAVED)
        *rbp = *(const uintptr_t *)(cfa + (intptr_t)rule.rbp_offset);
    *rsp = cfa;
    if (log && k < HD_WALK_LOG_FRAMES) {
        log->next[k] = *rip;
        log->rbp[k] = *rbp;
    }
    return STEP_NEXT;
}

/* The walk's rest from a signal frame on (RSP: the ucontext the kernel
 * left, where the handler returns to the trampoline), as libunwind's trace
 * does it: the interrupted frame's RIP, RSP and RBP from the ucontext (on
 * the stack the signal interrupted: the handler may run on another), its
 * rule looked up at RIP itself (the frame made no call there), every
 * further frame as usual. Out of line, as rare as signal handlers that
 * allocate; such walks are not remembered. */
static __attribute__((noinline)) int walk_after_signal(uintptr_t rsp, uintptr_t *out, uint32_t n, uint32_t limit,
                                                       bool python, bool *stopped) {
    for (;;) {
        const mcontext_t *registers = &((const ucontext_t *)rsp)->uc_mcontext;
        uintptr_t rip = (uintptr_t)registers->gregs[REG_RIP], rbp = (uintptr_t)registers->gregs[REG_RBP];
        rsp = (uintptr_t)registers->gregs[REG_RSP];
        uintptr_t key = rip | HD_RULE_AT_ADDRESS;
        enum step result;
        do {
            if (rip < 0x4000)
                return (int)n;
            out[n++] = rip;
            if ((python && hd_python_is_eval(rip)) || n == limit) {
                *stopped = true;
                return (int)n;
            }
            struct hd_unwind_rule rule = hd_rule_slow(key);
            if (rule.kind == HD_RULE_SIGNAL)
                result = STEP_SIGNAL;
            else if (rule.kind == HD_RULE_LAST)
                result = STEP_END;
            else if (rule.kind != HD_RULE_STANDARD && rule.kind != HD_RULE_LAST_AFTER_CFA)
                result = STEP_OTHER;
            else {
                uintptr_t cfa = (rule.flags & HD_RULE_CFA_RBP ? rbp : rsp) + (intptr_t)rule.cfa_offset;
                if (cfa <= rsp)
                    result = STEP_OTHER;
                else if (rule.kind == HD_RULE_LAST_AFTER_CFA)
                    result = STEP_END;
                else {
                    result = advance(&rule, cfa, rule.flags & HD_RULE_RBP_SAVED, (intptr_t)rule.rbp_offset, &rip,
                                     &rsp, &rbp, NULL, 0);
                    key = rip;
                }
            }
        } while (result == STEP_NEXT);
        if (result == STEP_END)
            return (int)n;
        if (result == STEP_OTHER)
            return WALK_OTHER;
    }
}

/* Walks from the hook's frame as libunwind's trace would (BASE: the hook's
 * frame address; the recorder is built with frame pointers, so its
 * caller's return address is at BASE+8, the caller's RBP at BASE and its
 * stack pointer is BASE+16), writing the frames past the recorder's own
 * into OUT, at most LIMIT of them; under Python code it stops at the first
 * eval loop (*STOPPED then, as at LIMIT). LOG (when not NULL) is filled
 * for the memo. Returns how many frames, or WALK_OTHER. */
static inline __attribute__((always_inline)) int walk(const struct hd_rule_table *table, uintptr_t base, uintptr_t *out,
                                                      uint32_t limit, bool python, struct hd_walk_log *log, bool *stopped) {
    const struct hd_rule_slot *slots = table->slots;
    const unsigned shift = table->shift;
    uintptr_t rip = *(const uintptr_t *)(base + 8);   /* proven by the memo's key */
    uintptr_t rbp = *(const uintptr_t *)base;
    uintptr_t rsp = base + 16;
    uint32_t n = 0, k = 0;   /* frames kept; frames whose words were read */
    enum step result = STEP_NEXT;
    if (log) {
        log->rbp0 = rbp;
        log->stop_cfa = false;
        log->crossed_signal = false;
    }
    *stopped = false;
    /* The recorder's own frames (reallocarray calling realloc, say). */
    while (HD_UNLIKELY(hd_is_self(rip)) && rip >= 0x4000 &&
           (result = step(slots, shift, &rip, &rsp, &rbp, log, k)) == STEP_NEXT)
        k++;
    if (result == STEP_NEXT)
        while (rip >= 0x4000) {
            out[n++] = rip;
            if ((python && hd_python_is_eval(rip)) || n == limit) {
                *stopped = true;
                break;
            }
            if ((result = step(slots, shift, &rip, &rsp, &rbp, log, k)) != STEP_NEXT)
                break;
            k++;
        }
    if (HD_UNLIKELY(result == STEP_SIGNAL)) {
        if (log)
            log->crossed_signal = true;
        return n > 0 ? walk_after_signal(rsp, out, n, limit, python, stopped) : WALK_OTHER;
    }
    if (result == STEP_OTHER)
        return WALK_OTHER;
    if (log)
        log->read = k;
    return (int)n;
}

/* One copy of the loop per use, so that each has only what it needs. */
static __attribute__((noinline, noclone)) int walk_native(const struct hd_rule_table *table, uintptr_t base, uintptr_t *out,
                                                  uint32_t limit, bool *stopped) {
    return walk(table, base, out, limit, false, NULL, stopped);
}

static __attribute__((noinline, noclone)) int walk_native_logged(const struct hd_rule_table *table, uintptr_t base,
                                                         uintptr_t *out, uint32_t limit, struct hd_walk_log *log,
                                                         bool *stopped) {
    return walk(table, base, out, limit, false, log, stopped);
}

static __attribute__((noinline, noclone)) int walk_python_logged(const struct hd_rule_table *table, uintptr_t base,
                                                         uintptr_t *out, struct hd_walk_log *log, bool *stopped) {
    return walk(table, base, out, HD_PY_PROBE_FRAMES, true, log, stopped);
}

/* ---- unw_backtrace, and what the recorder keeps of it ----------------- */
/* Under Python code, the native frames up to and including the innermost
 * eval loop; when none is among the first HD_PY_PROBE_FRAMES, deep native
 * code (a recursive parser, say): its innermost few frames. */
static uint32_t python_cut(const uintptr_t *frames, uint32_t count, bool *probed) {
    for (uint32_t i = 0; i < count && i < HD_PY_PROBE_FRAMES; i++)
        if (hd_python_is_eval(frames[i])) {
            *probed = true;
            return i + 1;
        }
    *probed = count >= HD_PY_PROBE_FRAMES;
    return *probed ? HD_PY_DEEP_NATIVE_FRAMES : count;
}

struct hd_stack hd_libunwind_stack(uintptr_t *buffer, bool python) {
    int saved = errno;
    unsigned keep = hd_config.depth > HD_PY_PROBE_FRAMES || !python ? hd_config.depth : HD_PY_PROBE_FRAMES;
    int size = (int)(keep + HD_SELF_FRAMES_MAX + 1);
    /* After a library was unloaded, unw_backtrace's cache may be stale (unloads.h). */
    int n = HD_UNLIKELY(__atomic_load_n(&hd_modules_unloaded, __ATOMIC_ACQUIRE)) ? hd_unwind_step_by_step(buffer, size)
                                                                                 : unw_backtrace((void **)buffer, size);
    uint32_t first = 0;
    while (first < (uint32_t)(n > 0 ? n : 0) && hd_is_self(buffer[first]))
        first++;
    struct hd_stack stack = {buffer + first, n > 0 ? (uint32_t)n - first : 0, false, NULL};
    if (python)
        stack.count = python_cut(stack.frames, stack.count, &stack.probed);
    errno = saved;
    return stack;
}

/* The hooks leave errno alone on their fast paths, and so does the walk:
 * each part of it that may call libc (learning a rule, the memo table's
 * memory, unw_backtrace, the verify check) keeps errno itself. */
struct hd_stack hd_unwind(struct hd_unwind_thread *thread, struct hd_memo_table **memo_table, uintptr_t base,
                          uintptr_t caller, uint64_t tag, bool python) {
    /* HEAPDIFF_UNWIND=verify: the memo's stacks are checked too (capture.h
     * looks in it only in the default mode). */
    struct hd_stack found;
    if (HD_UNLIKELY(hd_config.unwind == HD_UNWIND_VERIFY) && hd_memo_find(*memo_table, base, caller, tag, &found))
        return hd_unwind_verify(thread, found, python);
    const struct hd_rule_table *table = hd_rules_now();
    if (HD_UNLIKELY(hd_config.unwind == HD_UNWIND_LIBUNWIND || table == NULL)) {
        thread->fallbacks++;
        return hd_libunwind_stack(thread->capture, python);
    }
    /* Remember the walk, unless this hook frame's memo set keeps missing
     * (thousands of paths through one frame address): then only now and
     * then, so that the few that repeat still get in. */
    struct hd_memo_table *memos = hd_memo_table(thread, memo_table);
    size_t set = hd_memo_set(caller, base, tag);
    struct hd_walk_log *log = memos && !hd_memo_skipped(memos, set, false) ? &thread->walk_log : NULL;
    uintptr_t *capture = thread->capture;
    bool stopped;
    int n = python ? walk_python_logged(table, base, capture, &thread->walk_log, &stopped)
            : log  ? walk_native_logged(table, base, capture, hd_config.depth + 1, log, &stopped)
                   : walk_native(table, base, capture, hd_config.depth + 1, &stopped);
    struct hd_stack stack;
    if (n == WALK_OTHER) {
        thread->fallbacks++;
        stack = hd_libunwind_stack(capture, python);
    } else {
        thread->walks++;
        stack = (struct hd_stack){capture, (uint32_t)n, false, NULL};
        if (python && stopped) {
            stack.probed = true;
            if (!hd_python_is_eval(capture[n - 1]))
                stack.count = HD_PY_DEEP_NATIVE_FRAMES;
        }
        if (log && !log->crossed_signal)
            stack.memo = hd_memo_remember(memos, set, base, caller, tag, &stack, log);
    }
    if (HD_UNLIKELY(hd_config.unwind == HD_UNWIND_VERIFY))
        return hd_unwind_verify(thread, stack, python);
    return stack;
}

/* ---- start-up and report ---------------------------------------------- */
void hd_unwind_init(void) {
    /* Sampling walks a few hundred distinct return addresses: a table of
     * 4,096 (64 KiB, every page of it touched) would be most of what the
     * recorder takes in a small heap. It grows as it fills either way. */
    hd_rules_init(hd_config.sample_rate ? 9 : 12);
}

void hd_unwind_retire(struct hd_unwind_thread *thread) {
    __atomic_add_fetch(&total_hits, thread->hits, __ATOMIC_RELAXED);
    __atomic_add_fetch(&total_walks, thread->walks, __ATOMIC_RELAXED);
    __atomic_add_fetch(&total_fallbacks, thread->fallbacks, __ATOMIC_RELAXED);
    __atomic_add_fetch(&total_memo_restarts, thread->memo_restarts, __ATOMIC_RELAXED);
    thread->hits = thread->walks = thread->fallbacks = thread->memo_restarts = 0;
}

void hd_unwind_report(const struct hd_unwind_thread *thread, const struct hd_memo_table *memos) {
    static const struct hd_unwind_thread none;   /* the exiting thread never recorded */
    if (!thread)
        thread = &none;
    uint64_t hits = total_hits + thread->hits + (memos ? memos->hits : 0), walks = total_walks + thread->walks;
    uint64_t fallbacks = total_fallbacks + thread->fallbacks;
    uint64_t restarts = total_memo_restarts + thread->memo_restarts + (memos ? memos->restarts : 0);
    if (hd_config.unwind == HD_UNWIND_VERIFY)
        hd_unwind_verify_report();
    if (hd_config.print_stats || hd_config.unwind == HD_UNWIND_VERIFY)
        hd_note("stats: stacks proven from memory %llu, walked %llu, by unw_backtrace %llu; %llu return addresses "
                "read from .eh_frame; memo stores used up %llu times",
                (unsigned long long)hits, (unsigned long long)walks, (unsigned long long)fallbacks,
                (unsigned long long)hd_rules_learned(), (unsigned long long)restarts);
}
