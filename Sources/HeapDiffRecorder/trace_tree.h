/* trace_tree.c: the frames of every interned stack as one prefix tree,
 * built as stacks are interned. */
#ifndef HEAPDIFF_TRACE_TREE_H
#define HEAPDIFF_TRACE_TREE_H

#include "common.h"

/* Node 0 is the root (the empty stack); node i > 0 is a frame and the node
 * of the stack's next frame outward, created after its parent, never
 * changed or freed. Nodes live in fixed chunks that never move, so a
 * snapshot writer reads the nodes that existed at its cut without the lock
 * while new ones are added. */
struct hd_tree_node {
    uint64_t frame;
    uint32_t parent;
    uint32_t children;          /* how many nodes have it as parent: 0, 1, or 2 for more */
};
enum { HD_TREE_CHUNK_BITS = 16, HD_TREE_CHUNKS = 1 << 16 };
extern struct hd_tree_node *hd_tree_chunks[HD_TREE_CHUNKS] HD_HIDDEN;

static inline const struct hd_tree_node *hd_tree_node(uint32_t node) {
    return &hd_tree_chunks[node >> HD_TREE_CHUNK_BITS][node & ((1u << HD_TREE_CHUNK_BITS) - 1)];
}

/* Under hd_lock: the node of the stack FRAMES then MORE (innermost first,
 * as trace_table.h takes them), its missing nodes added; UINT32_MAX when
 * out of memory. */
uint32_t hd_tree_path(const uintptr_t *frames, uint32_t count, const uintptr_t *more, uint32_t more_count) HD_HIDDEN;
/* Under hd_lock: whether NODE's path is that stack (COUNT + MORE_COUNT frames, NODE at that depth). */
bool hd_tree_is_path(uint32_t node, const uintptr_t *frames, uint32_t count, const uintptr_t *more,
                     uint32_t more_count) HD_HIDDEN;
/* Under hd_lock: nodes so far, the root included; memory taken. */
uint32_t hd_tree_node_count(void) HD_HIDDEN;
size_t hd_tree_memory(void) HD_HIDDEN;

#endif
