/* The stacks of one snapshot as a prefix tree, as heaptrack and memray store
 * them: most stacks share their outer frames (main, the event loop, the
 * interpreter and its outer Python frames), so each stack becomes one node,
 * a frame and its parent, and every shared prefix is stored once.
 *
 * Built at snapshot time, in the writer, from the flat stacks the hot path
 * interned (trace_table.c), so the allocation path does not change. One
 * open-addressing table, (parent, frame) -> node, with the key in the slot
 * so a lookup touches one cache line; outer frames shared with the stack
 * added just before are not looked up at all. Then the distinct frames are
 * listed and sorted, so the file can store them as small differences. */
#define _GNU_SOURCE
#include <string.h>
#include "snapshot_writer.h"

enum { INITIAL_SLOT_BITS = 14, AVERAGE_OWN_NODES = 4 };

/* Nodes in the last snapshot's tree (the writer lock orders snapshots). */
static uint32_t last_node_count;

/* A node's slot comes from the hash of its whole path (its frames from the
 * outermost in), not from its parent's number: so the slots of every frame
 * of a stack are known before any is looked up, and all of them can be
 * fetched from memory at once instead of one miss after another. */
static inline uint64_t extend_hash(uint64_t path_hash, uint64_t frame) {
    uint64_t h = (path_hash ^ frame) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 31);
}

static inline size_t slot_of(const struct hd_stack_tree *tree, uint64_t path_hash) {
    return (size_t)((path_hash * 0xff51afd7ed558ccdull) >> tree->slot_shift);
}

bool hd_stack_tree_init(struct hd_stack_tree *tree, uint64_t frames, size_t stacks) {
    memset(tree, 0, sizeof *tree);
    /* Nodes never outnumber the frames, plus the root. The arrays are
     * reserved, not touched: only the pages the nodes use cost memory. */
    uint64_t capacity = frames + 1;
    if (capacity > UINT32_MAX - 1)
        capacity = UINT32_MAX - 1;
    tree->node_capacity = (uint32_t)capacity;
    tree->parent = hd_pages_alloc(capacity * sizeof *tree->parent);
    tree->frame = hd_pages_alloc(capacity * sizeof *tree->frame);
    tree->path_hash = hd_pages_alloc(capacity * sizeof *tree->path_hash);
    /* Sized for as many nodes as the last snapshot had, so that a series
     * of similar snapshots does not grow the table each time, and for the
     * first (an exit snapshot is often the first) by its stacks: each is a
     * node, and each adds a few of its own (about 5 in a Python program's
     * start-up), so the table is not rebuilt again and again as it fills. */
    uint64_t expected = last_node_count;
    if (expected < AVERAGE_OWN_NODES * (uint64_t)stacks)
        expected = AVERAGE_OWN_NODES * (uint64_t)stacks;
    if (expected > capacity)
        expected = capacity;
    unsigned bits = INITIAL_SLOT_BITS;
    while (bits < 31 && ((size_t)1 << bits) < 2 * (size_t)expected + (expected >> 3))
        bits++;
    tree->slot_count = (size_t)1 << bits;
    tree->slot_shift = 64 - bits;
    tree->slots = hd_pages_alloc(tree->slot_count * sizeof *tree->slots);
    tree->nodes = 1;   /* the root; its parent and frame are never read */
    tree->failed = !tree->parent || !tree->frame || !tree->path_hash || !tree->slots;
    return !tree->failed;
}

void hd_stack_tree_free(struct hd_stack_tree *tree) {
    if (!tree->failed)
        last_node_count = tree->nodes;
    hd_pages_free(tree->parent, (size_t)tree->node_capacity * sizeof *tree->parent);
    hd_pages_free(tree->frame, (size_t)tree->node_capacity * sizeof *tree->frame);
    hd_pages_free(tree->path_hash, (size_t)tree->node_capacity * sizeof *tree->path_hash);
    hd_pages_free(tree->frame_index, (size_t)tree->node_capacity * sizeof *tree->frame_index);
    hd_pages_free(tree->slots, tree->slot_count * sizeof *tree->slots);
    hd_pages_free(tree->frames, (size_t)(tree->frame_count ? tree->frame_count : 1) * sizeof *tree->frames);
    memset(tree, 0, sizeof *tree);
}

static bool grow_slots(struct hd_stack_tree *tree) {
    size_t count = tree->slot_count * 2, mask = count - 1;
    struct hd_tree_slot *slots = hd_pages_alloc(count * sizeof *slots);
    if (!slots)
        return false;
    hd_pages_free(tree->slots, tree->slot_count * sizeof *slots);
    tree->slots = slots;
    tree->slot_count = count;
    tree->slot_shift--;
    for (uint32_t node = 1; node < tree->nodes; node++) {
        size_t s = slot_of(tree, tree->path_hash[node]);
        while (slots[s].node)
            s = (s + 1) & mask;
        slots[s] = (struct hd_tree_slot){tree->frame[node], tree->parent[node], node + 1};
    }
    return true;
}

static uint32_t child(struct hd_stack_tree *tree, uint32_t parent, uint64_t frame, uint64_t path_hash) {
    size_t mask = tree->slot_count - 1, s = slot_of(tree, path_hash);
    for (; tree->slots[s].node; s = (s + 1) & mask)
        if (tree->slots[s].frame == frame && tree->slots[s].parent == parent)
            return tree->slots[s].node - 1;
    if (tree->nodes == tree->node_capacity) {   /* cannot happen: capacity counts every frame */
        tree->failed = true;
        return 0;
    }
    uint32_t node = tree->nodes++;
    tree->parent[node] = parent;
    tree->frame[node] = frame;
    tree->path_hash[node] = path_hash;
    tree->slots[s] = (struct hd_tree_slot){frame, parent, node + 1};
    if ((size_t)tree->nodes * 2 > tree->slot_count && !grow_slots(tree))
        tree->failed = true;
    return node;
}

/* The outer frames a stack shares with the one before it: compared from
 * the outermost in, four at a time (most stacks share tens of frames). */
static uint32_t shared_depth(const struct hd_trace *t, const struct hd_trace *before) {
    if (!before)
        return 0;
    uint32_t limit = t->frame_count < before->frame_count ? t->frame_count : before->frame_count, shared = 0;
    const uintptr_t *a = t->frames + t->frame_count, *b = before->frames + before->frame_count;
    for (; shared + 4 <= limit; shared += 4, a -= 4, b -= 4)
        if (((a[-1] ^ b[-1]) | (a[-2] ^ b[-2]) | (a[-3] ^ b[-3]) | (a[-4] ^ b[-4])) != 0)
            break;
    for (; shared < limit && a[-1] == b[-1]; shared++, a--, b--)
        ;
    return shared;
}

/* A stack made ready to add: the outer frames it shares with the stack
 * before it keep that stack's nodes; for each frame after them, the hash of
 * its path (depth d is frames[count - 1 - d], the outermost frame depth 0)
 * and a prefetch of its slot. Only those hashes are set. */
struct prepared {
    uint32_t shared;
    uint64_t hashes[HD_TRACE_MAX_FRAMES];
};

static void prepare(const struct hd_stack_tree *tree, const struct hd_trace *t, const struct hd_trace *before,
                    const struct prepared *previous, struct prepared *p) {
    p->shared = shared_depth(t, before);
    uint64_t h = 0;
    if (p->shared) {
        /* The path hash at the last shared depth: the stack before computed
         * it past the frames it shared with its own predecessor; below
         * them, its node is that predecessor's, added already. */
        uint32_t d = p->shared - 1;
        h = d >= previous->shared ? previous->hashes[d] : tree->path_hash[tree->last_path[d]];
    }
    for (uint32_t d = p->shared; d < t->frame_count; d++) {
        h = p->hashes[d] = extend_hash(h, t->frames[t->frame_count - 1 - d]);
        __builtin_prefetch(&tree->slots[slot_of(tree, h)]);
    }
}

static uint32_t add(struct hd_stack_tree *tree, const struct hd_trace *t, const struct prepared *p) {
    uint32_t node = p->shared ? tree->last_path[p->shared - 1] : 0;
    for (uint32_t d = p->shared; d < t->frame_count && !tree->failed; d++)
        node = tree->last_path[d] = child(tree, node, t->frames[t->frame_count - 1 - d], p->hashes[d]);
    return tree->failed ? 0 : node;
}

/* Stacks are added in a pipeline, so that the memory each needs is on its
 * way while the one before is added: three stacks ahead its record is
 * fetched, two ahead its frames, one ahead the slots of its new frames. The
 * tree is mostly cache misses otherwise, one per new frame. */
bool hd_stack_tree_add_stacks(struct hd_stack_tree *tree, struct hd_stack_copies *stacks) {
    /* (Mapped, not TLS nor stack: 4 KB in TLS is taken from every thread's stack.) */
    struct prepared *ready = hd_pages_alloc(2 * sizeof *ready);
    if (!ready)
        return !(tree->failed = true);
    struct hd_stack_copy *items = stacks->items;
    size_t n = stacks->count;
    if (n)
        prepare(tree, items[0].trace, NULL, &ready[1], &ready[0]);
    for (size_t i = 0; i < n && !tree->failed; i++) {
        if (i + 3 < n)
            __builtin_prefetch(items[i + 3].trace);
        if (i + 2 < n) {
            const struct hd_trace *t = items[i + 2].trace;
            const char *end = (const char *)(t->frames + t->frame_count);
            for (const char *line = (const char *)t->frames; line < end; line += 64)
                __builtin_prefetch(line);
        }
        if (i + 1 < n)
            prepare(tree, items[i + 1].trace, items[i].trace, &ready[i & 1], &ready[(i + 1) & 1]);
        items[i].node = add(tree, items[i].trace, &ready[i & 1]);
    }
    hd_pages_free(ready, 2 * sizeof *ready);
    return !tree->failed;
}

/* Heapsort in place: no allocation, n log n on the distinct frames. */
static void sift_down(uint64_t *a, size_t root, size_t end) {
    for (size_t c; (c = 2 * root + 1) < end; root = c) {
        if (c + 1 < end && a[c + 1] > a[c])
            c++;
        if (a[root] >= a[c])
            return;
        uint64_t t = a[root];
        a[root] = a[c];
        a[c] = t;
    }
}

static void sort_u64(uint64_t *a, size_t n) {
    for (size_t i = n / 2; i-- > 0;)
        sift_down(a, i, n);
    for (size_t end = n; end > 1; end--) {
        uint64_t t = a[0];
        a[0] = a[end - 1];
        a[end - 1] = t;
        sift_down(a, 0, end - 1);
    }
}

/* The distinct frames: far fewer than the nodes, so their table stays in
 * cache. Each slot: a frame and its number in the order first seen. */
struct frame_set {
    struct hd_tree_slot *slots;   /* frame; parent = number; node = 1 when used */
    size_t count;                 /* power of two */
    unsigned shift;
    uint32_t used;
};

static struct hd_tree_slot *frame_slot(struct frame_set *set, uint64_t frame) {
    size_t s = (size_t)((frame * 0x9E3779B97F4A7C15ull) >> set->shift), mask = set->count - 1;
    while (set->slots[s].node && set->slots[s].frame != frame)
        s = (s + 1) & mask;
    return &set->slots[s];
}

/* The frame's number in the order first seen (UINT32_MAX: out of memory). */
static uint32_t frame_set_add(struct frame_set *set, uint64_t frame) {
    struct hd_tree_slot *slot = frame_slot(set, frame);
    if (slot->node)
        return slot->parent;
    uint32_t number = set->used;
    *slot = (struct hd_tree_slot){frame, number, 1};
    if (++set->used * 2 <= set->count)
        return number;
    struct frame_set bigger = {hd_pages_alloc(set->count * 2 * sizeof *set->slots), set->count * 2, set->shift - 1,
                               set->used};
    if (!bigger.slots)
        return UINT32_MAX;
    for (size_t i = 0; i < set->count; i++)
        if (set->slots[i].node)
            *frame_slot(&bigger, set->slots[i].frame) = set->slots[i];
    hd_pages_free(set->slots, set->count * sizeof *set->slots);
    *set = bigger;
    return number;
}

/* Each node's frame is looked up once, numbered in the order first seen;
 * only the distinct frames are then sorted and looked up again, and the
 * nodes renumbered through an array. */
bool hd_stack_tree_finish(struct hd_stack_tree *tree) {
    if (tree->failed)
        return false;
    struct frame_set set = {hd_pages_alloc(1024 * sizeof *set.slots), 1024, 64 - 10, 0};
    tree->frame_index = hd_pages_alloc((size_t)tree->node_capacity * sizeof *tree->frame_index);
    bool ok = set.slots != NULL && tree->frame_index != NULL;
    for (uint32_t node = 1; node < tree->nodes && ok; node++)
        ok = (tree->frame_index[node] = frame_set_add(&set, tree->frame[node])) != UINT32_MAX;
    uint32_t n = set.used;
    tree->frame_count = n;
    tree->frames = ok ? hd_pages_alloc((size_t)(n ? n : 1) * sizeof *tree->frames) : NULL;
    uint32_t *rank = ok ? hd_pages_alloc((size_t)(n ? n : 1) * sizeof *rank) : NULL;
    if (tree->frames && rank) {
        uint32_t i = 0;
        for (size_t s = 0; s < set.count; s++)
            if (set.slots[s].node)
                tree->frames[i++] = set.slots[s].frame;
        sort_u64(tree->frames, n);
        for (i = 0; i < n; i++)
            rank[frame_slot(&set, tree->frames[i])->parent] = i;
        for (uint32_t node = 1; node < tree->nodes; node++)
            tree->frame_index[node] = rank[tree->frame_index[node]];
    } else {
        tree->failed = true;
    }
    hd_pages_free(rank, (size_t)(n ? n : 1) * sizeof *rank);
    hd_pages_free(set.slots, set.count * sizeof *set.slots);
    return !tree->failed;
}
