/* One snapshot's prefix tree, as heaptrack and memray store stacks: most
 * stacks share their outer frames (main, the event loop, the interpreter
 * and its outer Python frames), so each stack is one node, a frame and its
 * parent, and every shared prefix is stored once.
 *
 * The tree itself is built as stacks are interned (trace_tree.c); here the
 * nodes a snapshot's stacks use are picked out of it and numbered anew,
 * in one pass down and one up over the nodes that existed at the cut (an
 * exit snapshot uses them all; a periodic one only its live stacks'). Then
 * the distinct frames are listed and sorted, so the file can store them as
 * small differences. */
#define _GNU_SOURCE
#include <string.h>
#include "snapshot_writer.h"

struct hd_tree_slot { uint64_t frame; uint32_t parent, node; };

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
    struct frame_set bigger = {hd_pages_alloc_now(set->count * 2 * sizeof *set->slots), set->count * 2, set->shift - 1,
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

/* Each used node's frame is looked up once, numbered in the order first
 * seen; only the distinct frames are then sorted and looked up again, and
 * the nodes renumbered through an array. SOURCE: each node's number in the
 * snapshot (0: unused); NULL when every node is used as numbered. */
static bool list_frames(struct hd_stack_tree *tree, const uint32_t *source, uint32_t tree_nodes) {
    struct frame_set set = {hd_pages_alloc(1024 * sizeof *set.slots), 1024, 64 - 10, 0};
    bool ok = set.slots != NULL;
    for (uint32_t node = 1; node < tree_nodes && ok; node++) {
        uint32_t number = source ? source[node] : node;
        if (number)   /* used, under this number */
            ok = (tree->frame_index[number] = frame_set_add(&set, hd_tree_node(node)->frame)) != UINT32_MAX;
    }
    uint32_t n = set.used;
    tree->frame_count = n;
    tree->frames = ok ? hd_pages_alloc_now((size_t)(n ? n : 1) * sizeof *tree->frames) : NULL;
    uint32_t *rank = ok ? hd_pages_alloc_now((size_t)(n ? n : 1) * sizeof *rank) : NULL;
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
        ok = false;
    }
    hd_pages_free(rank, (size_t)(n ? n : 1) * sizeof *rank);
    hd_pages_free(set.slots, set.count * sizeof *set.slots);
    return ok;
}

bool hd_stack_tree_select(struct hd_stack_tree *tree, struct hd_stack_copies *stacks, uint32_t tree_nodes) {
    memset(tree, 0, sizeof *tree);
    if (tree_nodes == 0)
        tree_nodes = 1;   /* no stack interned yet: the root alone */
    tree->node_capacity = tree_nodes;
    tree->frame_index = hd_pages_alloc_now((size_t)tree_nodes * sizeof *tree->frame_index);
    if (!tree->frame_index) {
        tree->failed = true;
        return false;
    }
    if (stacks->every_node) {
        /* An exit snapshot: the whole tree, numbered as it is, its parents
         * read from the tree itself (no copies: 8 bytes a node, a few MiB
         * of pages written once at exit). */
        tree->nodes = tree_nodes;
        for (size_t i = 0; i < stacks->count; i++)
            stacks->items[i].node = stacks->items[i].trace->node;
        tree->failed = !list_frames(tree, NULL, tree_nodes);
        return !tree->failed;
    }
    /* Per node of the whole tree: used (1), then its new number (0: unused). */
    uint32_t *number = hd_pages_alloc_now((size_t)tree_nodes * sizeof *number);
    tree->parent = hd_pages_alloc_now((size_t)tree_nodes * sizeof *tree->parent);
    if (!number || !tree->parent) {
        hd_pages_free(number, (size_t)tree_nodes * sizeof *number);
        tree->failed = true;
        return false;
    }
    for (size_t i = 0; i < stacks->count; i++)
        number[stacks->items[i].trace->node] = 1;
    /* A parent precedes its children: one pass down marks every prefix. */
    for (uint32_t node = tree_nodes - 1; node > 0; node--)
        if (number[node])
            number[hd_tree_node(node)->parent] = 1;
    number[0] = 0;
    uint32_t next = 1;
    for (uint32_t node = 1; node < tree_nodes; node++)
        if (number[node]) {
            tree->parent[next] = number[hd_tree_node(node)->parent];
            number[node] = next++;
        }
    tree->nodes = next;
    for (size_t i = 0; i < stacks->count; i++)
        stacks->items[i].node = number[stacks->items[i].trace->node];
    tree->failed = !list_frames(tree, number, tree_nodes);
    hd_pages_free(number, (size_t)tree_nodes * sizeof *number);
    return !tree->failed;
}

void hd_stack_tree_free(struct hd_stack_tree *tree) {
    hd_pages_free(tree->parent, (size_t)tree->node_capacity * sizeof *tree->parent);
    hd_pages_free(tree->frame_index, (size_t)tree->node_capacity * sizeof *tree->frame_index);
    hd_pages_free(tree->frames, (size_t)(tree->frame_count ? tree->frame_count : 1) * sizeof *tree->frames);
    memset(tree, 0, sizeof *tree);
}
