/* The per-thread memo of walked stacks (native_unwind.h explains the
 * proof): each thread's table, and what a walk leaves in it. */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include "thread_state.h"

const uintptr_t hd_memo_sentinel = ~(uintptr_t)HD_MEMO_SENTINEL_VALUE;

static pthread_key_t memo_key;
static bool memo_key_ok;

/* Bounds of a thread's trie: past them it is forgotten and learned again. */
enum { INITIAL_NODES = 1 << 12, MAX_NODES = 1 << 18, INITIAL_WORDS = 1 << 12, MAX_WORDS = 1 << 18 };

static void free_table(struct hd_memo_table *table) {
    hd_pages_free(table->checks, (size_t)table->node_capacity * sizeof *table->checks);
    hd_pages_free(table->other, (size_t)table->node_capacity * sizeof *table->other);
    hd_pages_free(table->words, (size_t)table->word_capacity * sizeof *table->words);
    hd_pages_free(table, sizeof *table);
}

static void release_memos(void *memos) {
    struct hd_unwind_thread *thread = &hd_thread()->unwind;
    free_table(memos);
    thread->memos = NULL;
    thread->memos_gone = true;   /* a later allocation in this exiting thread walks */
    hd_unwind_retire(thread);
}

void hd_memo_init(void) {
    memo_key_ok = pthread_key_create(&memo_key, release_memos) == 0;
}

static struct hd_memo_table *new_table(void) {
    struct hd_memo_table *table = hd_pages_alloc(sizeof *table);
    if (!table)
        return NULL;
    table->checks = hd_pages_alloc(INITIAL_NODES * sizeof *table->checks);
    table->other = hd_pages_alloc(INITIAL_NODES * sizeof *table->other);
    table->words = hd_pages_alloc(INITIAL_WORDS * sizeof *table->words);
    table->node_capacity = INITIAL_NODES;
    table->word_capacity = INITIAL_WORDS;
    table->nodes = 1;
    if (!table->checks || !table->other || !table->words) {
        free_table(table);
        return NULL;
    }
    return table;
}

struct hd_memo_table *hd_memo_table(struct hd_unwind_thread *thread) {
    if (HD_LIKELY(thread->memos) || thread->memos_gone || !memo_key_ok)
        return thread->memos;
    thread->memos = new_table();
    if (thread->memos && pthread_setspecific(memo_key, thread->memos) != 0) {
        free_table(thread->memos);
        thread->memos = NULL;
        thread->memos_gone = true;
    }
    return thread->memos;
}

/* Everything remembered is forgotten (the memory is kept). */
static void forget_all(struct hd_memo_table *table) {
    for (size_t i = 0; i < HD_MEMO_SETS * HD_MEMO_WAYS; i++)
        table->keys[i].caller = 0;
    table->nodes = 1;
    table->words_used = 0;
}

/* Room for NODES more nodes and WORDS more words: the arrays doubled, or at
 * their bound everything forgotten. */
static bool reserve(struct hd_memo_table *table, uint32_t nodes, uint32_t words) {
    if (table->nodes + nodes > table->node_capacity) {
        uint32_t capacity = table->node_capacity;
        if (capacity * 2 > MAX_NODES) {
            forget_all(table);
        } else {
            struct hd_memo_check *checks =
                hd_pages_resize(table->checks, capacity * sizeof *checks, capacity * 2 * sizeof *checks);
            if (!checks)
                return false;
            table->checks = checks;
            uint32_t *other = hd_pages_resize(table->other, capacity * sizeof *other, capacity * 2 * sizeof *other);
            if (!other)
                return false;   /* the checks' extra room is kept unused */
            table->other = other;
            table->node_capacity = capacity * 2;
        }
    }
    if (table->words_used + words > table->word_capacity) {
        uint32_t capacity = table->word_capacity;
        if (capacity * 2 > MAX_WORDS) {
            forget_all(table);
        } else {
            uintptr_t *fresh = hd_pages_resize(table->words, capacity * sizeof *fresh, capacity * 2 * sizeof *fresh);
            if (!fresh)
                return false;
            table->words = fresh;
            table->word_capacity = capacity * 2;
        }
    }
    return true;
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

/* This key's way in SET: found, or an unused one, or one taken round-robin
 * (its trie is left unreachable until everything is forgotten). */
static struct hd_memo_key *key_of(struct hd_memo_table *table, size_t set, uintptr_t base, uintptr_t caller,
                                  uint64_t tag) {
    struct hd_memo_key *ways = &table->keys[set * HD_MEMO_WAYS], *unused = NULL;
    for (unsigned way = 0; way < HD_MEMO_WAYS; way++) {
        if (ways[way].caller == caller && ways[way].base == base && ways[way].tag == tag)
            return &ways[way];
        if (!ways[way].caller && !unused)
            unused = &ways[way];
    }
    struct hd_memo_key *key = unused ? unused : &ways[table->victim++ % HD_MEMO_WAYS];
    *key = (struct hd_memo_key){caller, base, tag, 0};
    return key;
}

struct hd_trace **hd_memo_remember(struct hd_memo_table *table, size_t set, uintptr_t base, uintptr_t caller,
                                   uint64_t tag, const struct hd_stack *stack, const struct hd_walk_log *log) {
    uint32_t leaf_words = 2 + stack->count;
    if (stack->count > HD_MEMO_FRAMES || !reserve(table, HD_MEMO_CHECKS + 1, leaf_words))
        return NULL;
    /* The proof is written where its new nodes will go, then the trie is
     * followed along it to where it parts from every remembered path. */
    struct hd_memo_check *checks = table->checks, *fresh = &checks[table->nodes];
    int count = proof(base, log, fresh);
    if (count < 0)
        return NULL;
    struct hd_memo_key *key = key_of(table, set, base, caller, tag);
    uint32_t *link = &key->root, at = key->root;
    int k = 0;
    while (at) {
        const struct hd_memo_check *check = &checks[at];
        if (check->address == (uintptr_t)&hd_memo_sentinel || k == count || check->address != fresh[k].address)
            return NULL;   /* remembered already, or not the same walk: left as it is */
        if (check->value == fresh[k].value) {
            at++;
            k++;
            continue;
        }
        unsigned siblings = 0;
        link = &table->other[at];
        while (*link && checks[*link].value != fresh[k].value) {
            link = &table->other[*link];
            siblings++;
        }
        if (!*link) {
            if (siblings >= HD_MEMO_SIBLINGS)
                return NULL;   /* too many paths part here: looking would cost more than walking */
            break;             /* fresh[k] becomes the last sibling */
        }
        at = *link + 1;
        k++;
    }
    /* The new run: the checks from where it parts, then the leaf. */
    uint32_t start = table->nodes, run = (uint32_t)(count - k);
    memmove(&checks[start], &fresh[k], run * sizeof *checks);
    for (uint32_t i = 0; i < run; i++)
        table->other[start + i] = 0;
    checks[start + run] = (struct hd_memo_check){(uintptr_t)&hd_memo_sentinel, HD_MEMO_SENTINEL_VALUE};
    table->other[start + run] = table->words_used;
    struct hd_memo_leaf *leaf = (struct hd_memo_leaf *)&table->words[table->words_used];
    leaf->trace = NULL;
    leaf->count = stack->count;
    leaf->probed = stack->probed;
    memcpy(leaf->frames, stack->frames, stack->count * sizeof *stack->frames);
    table->words_used += leaf_words;
    table->nodes = start + run + 1;
    *link = start;
    table->recent[set] = (uint8_t)(key - &table->keys[set * HD_MEMO_WAYS]);
    return tag ? NULL : &leaf->trace;   /* a Python stack's trace depends on more than its native frames */
}

size_t hd_memo_memory(const struct hd_memo_table *table) {
    if (!table)
        return 0;
    return sizeof *table + (size_t)table->node_capacity * (sizeof *table->checks + sizeof *table->other) +
           (size_t)table->word_capacity * sizeof *table->words;
}
