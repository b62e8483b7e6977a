/* The per-thread memo of walked stacks (native_unwind.h explains the
 * proof): each thread's table, and what a walk leaves in it, in a memo cut
 * to its size from the table's store (most stacks need a few hundred
 * bytes of the ~1.6 KiB the deepest one does). */
#define _GNU_SOURCE
#include <string.h>
#include "thread_state.h"

const uintptr_t hd_memo_sentinel = ~(uintptr_t)HD_MEMO_SENTINEL_VALUE;

/* At thread exit, with the thread's buffers (thread_buffers.c). */
void hd_memo_release(struct hd_unwind_thread *thread, struct hd_memo_table **memos) {
    if (*memos) {
        thread->hits += (*memos)->hits;
        thread->memo_restarts += (*memos)->restarts;
        hd_pages_free(*memos, sizeof(struct hd_memo_table));
    }
    *memos = NULL;
    hd_unwind_retire(thread);
}

struct hd_memo_table *hd_memo_table(struct hd_unwind_thread *thread, struct hd_memo_table **memos) {
    if (HD_LIKELY(*memos) || thread->memos_gone)
        return *memos;
    if (!hd_thread_memos_pay())
        return NULL;   /* every sampled stack walked */
    *memos = hd_pages_alloc(sizeof(struct hd_memo_table));   /* (keeps errno: mmap_arena.c) */
    if (!*memos)
        thread->memos_gone = true;
    return *memos;
}

/* The words the walk's frames depend on, in the order it read them: each
 * return address, and RBP as read (from BASE, or where a frame saved it)
 * whenever a later frame's CFA was computed from it. Returns how many, or
 * -1 when they do not fit. */
static int proof(uintptr_t base, const struct hd_walk_log *log, struct hd_memo_check *check) {
    uint32_t ruled = log->read + log->stop_cfa;   /* the last may have stopped on its CFA */
    if (ruled > HD_WALK_LOG_FRAMES)
        return -1;
    int count = 0;
    struct hd_memo_check rbp = {base, log->rbp0};
    bool rbp_checked = false;
    for (uint32_t k = 0; k < ruled; k++) {
        struct hd_unwind_rule rule = log->rule[k];
        if ((rule.flags & HD_RULE_CFA_RBP) && !rbp_checked) {
            if (count == HD_MEMO_CHECKS)
                return -1;
            check[count++] = rbp;
            rbp_checked = true;
        }
        if (k == log->read)
            break;
        if (count == HD_MEMO_CHECKS)
            return -1;
        check[count++] = (struct hd_memo_check){log->cfa[k] - 8, log->next[k]};
        if (rule.flags & HD_RULE_RBP_SAVED) {
            rbp = (struct hd_memo_check){log->cfa[k] + (intptr_t)rule.rbp_offset, log->rbp[k]};
            rbp_checked = false;
        }
    }
    return count;
}

/* Every way emptied and the store whole again: once the store is cut up
 * into sizes no longer asked for (rare: it has room for every way at the
 * largest size). The stacks are walked and remembered anew. */
static void start_again(struct hd_memo_table *table) {
    memset(table->keys, 0, sizeof table->keys);
    memset(table->spare, 0, sizeof table->spare);
    table->store_used = 0;
    table->restarts++;
}

/* A memo given back at LINES lines, taken off its list; NULL when none. */
static struct hd_memo *take_spare(struct hd_memo_table *table, unsigned lines) {
    struct hd_memo *memo = table->spare[lines];
    if (memo)
        table->spare[lines] = (struct hd_memo *)memo->trace;
    return memo;
}

/* A memo of LINES lines: one given back at that size, else cut from the
 * store, else one given back at a larger size; NULL when none is left. */
static struct hd_memo *cut(struct hd_memo_table *table, unsigned lines) {
    struct hd_memo *memo = take_spare(table, lines);
    if (memo)
        return memo;
    size_t bytes = (size_t)lines * HD_MEMO_LINE;
    if (table->store_used + bytes <= sizeof table->store) {
        memo = (struct hd_memo *)(table->store + table->store_used);
        table->store_used += bytes;
        memo->lines = (uint8_t)lines;
        return memo;
    }
    for (unsigned larger = lines + 1; larger <= HD_MEMO_MAX_LINES && !memo; larger++)
        memo = take_spare(table, larger);
    return memo;
}

static void give_back(struct hd_memo_table *table, struct hd_memo *memo) {
    memo->trace = (struct hd_trace *)table->spare[memo->lines];
    table->spare[memo->lines] = memo;
}

struct hd_memo *hd_memo_remember(struct hd_memo_table *table, size_t set, uintptr_t base, uintptr_t caller,
                                   uint64_t tag, const struct hd_stack *stack, const struct hd_walk_log *log) {
    if (stack->count > HD_MEMO_FRAMES)
        return NULL;
    unsigned way = table->victim++ % HD_MEMO_WAYS;   /* round-robin: cheap, and no path starves */
    struct hd_memo_key *key = &table->keys[set * HD_MEMO_WAYS + way];
    int checks = proof(base, log, table->proof);
    if (checks < 0) {
        key->caller = 0;
        return NULL;
    }
    size_t bytes = sizeof(struct hd_memo) + ((size_t)checks + 1) * sizeof(struct hd_memo_check) +
                   stack->count * sizeof *stack->frames;
    unsigned lines = (unsigned)((bytes + HD_MEMO_LINE - 1) / HD_MEMO_LINE);
    /* The way's memo is filled again when the stack fits in it. */
    struct hd_memo *memo = key->memo;
    if (!memo || memo->lines < lines) {
        if (memo)
            give_back(table, memo);
        key->memo = memo = cut(table, lines);
        if (!memo) {
            start_again(table);
            key->memo = memo = cut(table, lines);
        }
    }
    table->recent[set] = (uint8_t)way;
    key->caller = caller;
    key->base = base;
    key->tag = tag;
    memo->trace = NULL;
    memo->python_id = 0;
    memo->count = (uint16_t)stack->count;
    memo->probed = stack->probed;
    memcpy(memo->check, table->proof, (size_t)checks * sizeof *memo->check);
    memo->check[checks] = (struct hd_memo_check){(uintptr_t)&hd_memo_sentinel, HD_MEMO_SENTINEL_VALUE};
    memo->frames = (const uintptr_t *)&memo->check[checks + 1];
    memcpy(&memo->check[checks + 1], stack->frames, stack->count * sizeof *stack->frames);
    return memo;
}
