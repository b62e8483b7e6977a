/* The interned stacks' frames as one prefix tree (heaptrack's trace tree:
 * each node a frame and its parent), grown as stacks are interned.
 *
 * Why here and not at snapshot time: a Python program's stacks are deep
 * (35 frames on average at start-up) and share almost all of their outer
 * frames, so a stack stored as its innermost node costs a few new nodes,
 * not a copy of every frame; and the exit snapshot, which writes every
 * stack, finds its tree built. trace_table.c keeps a flat copy of short
 * stacks only, whose comparison stays a memcmp on the hot path (and none
 * while sampling, which looks few stacks up).
 *
 * A node is found by (parent, frame) in an open-addressing table of node
 * numbers; the stack interned just before usually shares most outer
 * frames with the next one, so those are taken from its path without a
 * lookup. Everything here runs under hd_lock. */
#define _GNU_SOURCE
#include <string.h>
#include "mmap_arena.h"
#include "trace_tree.h"

/* The first table is small (16 KiB): a sampled program interns a few hundred
 * nodes, and each lands on its own page of a big one. */
enum { CHUNK_NODES = 1 << HD_TREE_CHUNK_BITS, INITIAL_SLOT_BITS = 12, QUADRUPLING_SLOT_BITS = 20 };

struct hd_tree_node *hd_tree_chunks[HD_TREE_CHUNKS];
static uint32_t node_count;          /* the root included, once made */
static uint32_t *slots;              /* node numbers, 0 empty; at most half full */
static size_t slot_count;
static unsigned slot_shift;          /* 64 - log2(slot_count) */
/* The path of the stack added last, from the outermost frame in. */
static uintptr_t last_frames[HD_TRACE_MAX_FRAMES];
static uint32_t last_nodes[HD_TRACE_MAX_FRAMES];
static uint32_t last_depth;

static inline size_t slot_of(uint32_t parent, uint64_t frame) {
    return (size_t)(((frame ^ ((uint64_t)parent * 0xff51afd7ed558ccdull)) * 0x9E3779B97F4A7C15ull) >> slot_shift);
}

static bool make_room(void) {
    if (node_count == UINT32_MAX - 1)
        return false;
    if (node_count % CHUNK_NODES == 0) {
        /* Past the first chunk, mapped at once: a program with that many nodes will fill it. */
        struct hd_tree_node *chunk = node_count ? hd_pages_alloc_now(CHUNK_NODES * sizeof *chunk)
                                                : hd_pages_alloc(CHUNK_NODES * sizeof *chunk);
        if (!chunk)
            return false;
        hd_tree_chunks[node_count / CHUNK_NODES] = chunk;
    }
    return true;
}

static bool grow_slots(void) {
    /* Four times larger each time up to 2^20 slots (4 MiB): fewer rehashes
     * of every node; then twice, so that a table of millions of nodes is
     * never an eighth full (a FastAPI app's imports: 2.1 million nodes took
     * 64 MiB of slots, 4 times what they fill, every page of it written). */
    unsigned bits = !slot_count ? INITIAL_SLOT_BITS
                    : 64 - slot_shift + (64 - slot_shift < QUADRUPLING_SLOT_BITS ? 2 : 1);
    size_t count = (size_t)1 << bits;
    uint32_t *fresh = slot_count ? hd_pages_alloc_now(count * sizeof *fresh) : hd_pages_alloc(count * sizeof *fresh);
    if (!fresh)
        return false;
    hd_pages_free(slots, slot_count * sizeof *slots);
    slots = fresh;
    slot_count = count;
    slot_shift = 64 - bits;
    for (uint32_t node = 1; node < node_count; node++) {
        const struct hd_tree_node *n = hd_tree_node(node);
        size_t s = slot_of(n->parent, n->frame);
        while (slots[s])
            s = (s + 1) & (count - 1);
        slots[s] = node;
    }
    return true;
}

static bool make_root(void) {
    if (node_count)
        return true;
    if (!make_room() || !grow_slots())
        return false;
    node_count = 1;   /* the root: its frame and parent are never read */
    return true;
}

/* One, or more than one: all a lookup needs to know (hd_tree_path). */
static inline void count_child(uint32_t parent) {
    struct hd_tree_node *p = &hd_tree_chunks[parent / CHUNK_NODES][parent % CHUNK_NODES];
    if (p->children < 2)
        p->children++;
}

/* A new node for FRAME under PARENT, filed in slot S, when the table must
 * grow or a chunk be mapped first; UINT32_MAX when out of memory. */
static __attribute__((noinline)) uint32_t add_making_room(uint32_t parent, uint64_t frame, size_t s) {
    if ((size_t)(node_count + 1) * 2 > slot_count) {
        if (!grow_slots())
            return UINT32_MAX;
        s = slot_of(parent, frame);   /* its slot moved */
        while (slots[s])
            s = (s + 1) & (slot_count - 1);
    }
    if (!make_room())
        return UINT32_MAX;
    uint32_t node = node_count++;
    hd_tree_chunks[node / CHUNK_NODES][node % CHUNK_NODES] = (struct hd_tree_node){frame, parent, 0};
    slots[s] = node;
    count_child(parent);
    return node;
}

/* A new node for FRAME under PARENT, filed in slot S; UINT32_MAX when out
 * of memory. Inline: start-up makes ~500,000 nodes, most with room. */
static inline uint32_t add(uint32_t parent, uint64_t frame, size_t s) {
    uint32_t node = node_count;
    if (HD_UNLIKELY((size_t)(node + 1) * 2 > slot_count || node % CHUNK_NODES == 0 || node >= UINT32_MAX - 1))
        return add_making_room(parent, frame, s);
    node_count = node + 1;
    hd_tree_chunks[node / CHUNK_NODES][node % CHUNK_NODES] = (struct hd_tree_node){frame, parent, 0};
    slots[s] = node;
    count_child(parent);
    return node;
}

/* PARENT's child for FRAME, made if new; UINT32_MAX when out of memory. */
static uint32_t child(uint32_t parent, uint64_t frame) {
    size_t mask = slot_count - 1, s = slot_of(parent, frame);
    for (uint32_t node; (node = slots[s]) != 0; s = (s + 1) & mask) {
        const struct hd_tree_node *n = hd_tree_node(node);
        if (n->frame == frame && n->parent == parent)
            return node;
    }
    return add(parent, frame, s);
}

/* A child of a node just made: it has none yet, so no node is compared. */
static uint32_t new_child(uint32_t parent, uint64_t frame) {
    size_t mask = slot_count - 1, s = slot_of(parent, frame);
    while (slots[s])
        s = (s + 1) & mask;
    return add(parent, frame, s);
}

/* How many of a stack piece's frames, taken from its outermost in (the
 * piece ends at END), equal LAST's first ones, up to LIMIT: four a step. */
static uint32_t shared_reversed(const uintptr_t *end, const uintptr_t *last, uint32_t limit) {
    uint32_t d = 0;
    for (; d + 4 <= limit; d += 4, end -= 4)
        if (((end[-1] ^ last[d]) | (end[-2] ^ last[d + 1]) | (end[-3] ^ last[d + 2]) | (end[-4] ^ last[d + 3])) != 0)
            break;
    for (; d < limit && end[-1] == last[d]; d++, end--)
        ;
    return d;
}

/* The frame at depth D from the outermost (0) of the stack FRAMES then MORE
 * (innermost first): MORE's frame more_count - 1 - d, then FRAMES'. */
static inline uintptr_t frame_at(uint32_t d, const uintptr_t *frames, uint32_t count, const uintptr_t *more,
                                 uint32_t more_count) {
    return d < more_count ? more[more_count - 1 - d] : frames[count - 1 - (d - more_count)];
}

/* The slot of every node from depth D to N - 1, fetched ahead as if all
 * were new (their numbers are the next ones given, in order): a new stack
 * at start-up adds ~4 nodes under its first new one, and each slot, in a
 * table of megabytes, is a cache miss; fetched together, the misses
 * overlap instead of following one another. A node that exists after all
 * makes the guesses below it wrong, which costs only the fetches. */
static inline void prefetch_new_path(uint32_t d, uint32_t n, uint32_t parent, const uintptr_t *frames, uint32_t count,
                                     const uintptr_t *more, uint32_t more_count) {
    uint32_t next = node_count;
    for (uint32_t k = 0; d < n && k < 8; d++, k++) {
        uintptr_t frame = frame_at(d, frames, count, more, more_count);
        __builtin_prefetch(&slots[slot_of(parent, frame)], 1);
        parent = next++;
    }
}

uint32_t hd_tree_path(const uintptr_t *frames, uint32_t count, const uintptr_t *more, uint32_t more_count) {
    if (HD_UNLIKELY(!make_root()))
        return UINT32_MAX;
    uint32_t n = count + more_count;
    if (n > HD_TRACE_MAX_FRAMES)
        return UINT32_MAX;   /* cannot happen: the depth limit is at most this */
    /* Outer frames shared with the stack added last (frame_at's depths) keep
     * its nodes. */
    uint32_t limit = n < last_depth ? n : last_depth;
    uint32_t d = more_count ? shared_reversed(more + more_count, last_frames, more_count < limit ? more_count : limit) : 0;
    if (d == more_count && d < limit)
        d += shared_reversed(frames + count, last_frames + d, limit - d);
    /* Then each frame's node is looked up, until one is new: every frame
     * inward of it is new too. */
    uint32_t node = d ? last_nodes[d - 1] : 0, made = node_count;
    prefetch_new_path(d, n, node, frames, count, more, more_count);
    /* The stack added last went on from NODE with another frame, to
     * last_nodes[d]: when that is NODE's only child, this frame's node is
     * new, and the lookup (a slot and a node, each a miss in a table of
     * megabytes) is not made. */
    bool new_below = d < last_depth && d < n && hd_tree_node(node)->children == 1;
    for (; d < n; d++) {
        uintptr_t frame = frame_at(d, frames, count, more, more_count);
        node = node >= made || new_below ? new_child(node, frame) : child(node, frame);
        new_below = false;
        if (node == UINT32_MAX) {
            last_depth = d;
            return UINT32_MAX;
        }
        last_frames[d] = frame;
        last_nodes[d] = node;
    }
    last_depth = n;
    return node;
}

bool hd_tree_is_path(uint32_t node, const uintptr_t *frames, uint32_t count, const uintptr_t *more,
                     uint32_t more_count) {
    for (uint32_t i = 0; i < count; i++) {
        const struct hd_tree_node *n = hd_tree_node(node);
        if (n->frame != frames[i])
            return false;
        node = n->parent;
    }
    for (uint32_t i = 0; i < more_count; i++) {
        const struct hd_tree_node *n = hd_tree_node(node);
        if (n->frame != more[i])
            return false;
        node = n->parent;
    }
    return node == 0;
}

uint32_t hd_tree_node_count(void) {
    return node_count;
}

size_t hd_tree_memory(void) {
    size_t chunks = (node_count + CHUNK_NODES - 1) / CHUNK_NODES;
    return chunks * CHUNK_NODES * sizeof(struct hd_tree_node) + slot_count * sizeof *slots;
}
