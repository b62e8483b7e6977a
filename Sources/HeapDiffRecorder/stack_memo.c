/* The per-thread memo of walked stacks (native_unwind.h explains the
 * proof): each thread's table, and what a walk leaves in it. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include "thread_state.h"

const uintptr_t hd_memo_sentinel = ~(uintptr_t)HD_MEMO_SENTINEL_VALUE;

/* At thread exit, with the thread's buffers (thread_buffers.c). */
void hd_memo_release(struct hd_unwind_thread *thread, struct hd_memo_table **memos) {
    if (*memos) {
        thread->hits += (*memos)->hits;
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
    int saved = errno;   /* mmap may set it; the hooks leave it alone */
    *memos = hd_pages_alloc(sizeof(struct hd_memo_table));
    if (!*memos)
        thread->memos_gone = true;
    errno = saved;
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

struct hd_memo *hd_memo_remember(struct hd_memo_table *table, size_t set, uintptr_t base, uintptr_t caller,
                                   uint64_t tag, const struct hd_stack *stack, const struct hd_walk_log *log) {
    if (stack->count > HD_MEMO_FRAMES)
        return NULL;
    unsigned way = table->victim++ % HD_MEMO_WAYS;   /* round-robin: cheap, and no path starves */
    struct hd_memo_key *key = &table->keys[set * HD_MEMO_WAYS + way];
    if (!key->memo)
        key->memo = &table->memos[table->used++];
    struct hd_memo *memo = key->memo;
    int checks = proof(base, log, memo->check);
    if (checks < 0) {
        key->caller = 0;
        return NULL;
    }
    table->recent[set] = (uint8_t)way;
    key->caller = caller;
    key->base = base;
    key->tag = tag;
    memo->trace = NULL;
    memo->python_id = 0;
    memo->count = (uint16_t)stack->count;
    memo->probed = stack->probed;
    memo->check[checks] = (struct hd_memo_check){(uintptr_t)&hd_memo_sentinel, HD_MEMO_SENTINEL_VALUE};
    memcpy(memo->frames, stack->frames, stack->count * sizeof *stack->frames);
    return memo;
}

