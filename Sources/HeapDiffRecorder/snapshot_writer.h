/* Internal interface of the snapshot writer's files:
 *   snapshot_writer.c  the cut under the lock, the file's name and life, PROCESS and MODULEs
 *   snapshot_output.c  buffered output with the running CRC, records, varints
 *   stack_tree.c       the part of trace_tree.c's prefix tree a snapshot's stacks use
 *   snapshot_v2.c      format 2: CODES, FRAMES, NODES, STACKS
 *   snapshot_v1.c      format 1: PYCODEs, TRACEs (HEAPDIFF_FORMAT=1)
 * Everything here runs in the thread taking the snapshot, outside hd_lock,
 * on memory from mmap. */
#ifndef HEAPDIFF_SNAPSHOT_WRITER_H
#define HEAPDIFF_SNAPSHOT_WRITER_H

#include "recorder.h"
#include "trace_tree.h"

/* ---- snapshot_output.c ----------------------------------------------- */
enum { HD_OUTPUT_BUFFER = 256 * 1024 };
struct hd_output {
    int fd;
    unsigned char *buffer;      /* HD_OUTPUT_BUFFER bytes */
    size_t length;
    uint32_t crc;               /* of every byte flushed so far */
    uint64_t records;
    uint64_t bytes;             /* written so far */
    bool failed;
    int error;
};
void hd_output_flush(struct hd_output *out) HD_HIDDEN;
void hd_output_put(struct hd_output *out, const void *data, size_t size) HD_HIDDEN;
void hd_output_record(struct hd_output *out, uint32_t type, const void *payload, size_t size) HD_HIDDEN;
/* A record's header, its payload written next by the caller. */
void hd_output_record_header(struct hd_output *out, uint32_t type, size_t payload_size) HD_HIDDEN;
/* A string field (HD_STRING_LENGTH_SIZE bytes of length, then the bytes). */
void hd_output_string(struct hd_output *out, const void *data, size_t length) HD_HIDDEN;
/* The END record: count and CRC of everything before it; then flushes. */
void hd_output_end(struct hd_output *out) HD_HIDDEN;

/* A record payload assembled in memory before its header is written. */
struct hd_payload {
    unsigned char *bytes;
    size_t length, capacity;
    bool failed;                /* out of memory: the snapshot is not written */
};
bool hd_payload_init(struct hd_payload *p, size_t capacity) HD_HIDDEN;
void hd_payload_free(struct hd_payload *p) HD_HIDDEN;
void hd_payload_bytes(struct hd_payload *p, const void *data, size_t size) HD_HIDDEN;
bool hd_payload_reserve(struct hd_payload *p, size_t more) HD_HIDDEN;
/* Room for MORE bytes: checked inline, grown out of line. */
static inline bool hd_payload_room(struct hd_payload *p, size_t more) {
    return p->capacity - p->length >= more || hd_payload_reserve(p, more);
}
static inline void hd_payload_varint(struct hd_payload *p, uint64_t value) {
    if (hd_payload_room(p, HD_VARINT_MAX))
        p->length += hd_varint_put(p->bytes + p->length, value);
}
static inline void hd_payload_string(struct hd_payload *p, const void *data, size_t size) {
    hd_payload_varint(p, size);
    hd_payload_bytes(p, data, size);
}
/* Writes a table's record (entry count, then the entries in `entries`) and
 * empties `entries` for the next one. */
void hd_output_table(struct hd_output *out, uint32_t type, struct hd_payload *entries, uint64_t count) HD_HIDDEN;

static inline void hd_store_u32(unsigned char *at, uint32_t v) {
    for (int i = 0; i < 4; i++)
        at[i] = (unsigned char)(v >> (8 * i));
}
static inline void hd_store_u64(unsigned char *at, uint64_t v) {
    for (int i = 0; i < 8; i++)
        at[i] = (unsigned char)(v >> (8 * i));
}

/* ---- the stacks of one snapshot, copied under hd_lock ---------------- */
struct hd_stack_copy {
    const struct hd_trace *trace;   /* frames and flags; immutable once interned */
    uint64_t live_bytes, live_count, alloc_bytes, alloc_count;   /* counts in blocks, rounded */
    uint64_t live_samples, alloc_samples;
    uint32_t node;                  /* format 2: its node in the tree */
};
struct hd_stack_copies {
    struct hd_stack_copy *items;
    size_t count, capacity;
    uint64_t frames;                /* sum of their frame counts */
    uint32_t tree_nodes;            /* trace_tree.h's nodes when they were copied */
    bool every_node;                /* every stack copied, none dropped: each of those nodes is used */
};

/* ---- stack_tree.c ------------------------------------------------------ */
/* The part of trace_tree.h's tree that one snapshot's stacks use, numbered
 * anew in the same order (node 0 the root, a parent before its children). */
struct hd_stack_tree {
    uint32_t *parent;               /* per node; NULL when the whole tree is taken as numbered (an exit snapshot) */
    uint32_t *frame_index;          /* per node: index in `frames` */
    uint32_t nodes, node_capacity;
    uint64_t *frames;               /* the distinct frames, ascending */
    uint32_t frame_count;
    bool failed;                    /* out of memory */
};
/* The nodes the stacks use among the tree's first `tree_nodes` (those that
 * existed when they were copied), each stack's node set; then the distinct
 * frames listed, ascending, and each node given its frame's index. */
bool hd_stack_tree_select(struct hd_stack_tree *tree, struct hd_stack_copies *stacks, uint32_t tree_nodes) HD_HIDDEN;
void hd_stack_tree_free(struct hd_stack_tree *tree) HD_HIDDEN;
/* NODE's parent in the snapshot's numbering. */
static inline uint32_t hd_stack_tree_parent(const struct hd_stack_tree *tree, uint32_t node) {
    return tree->parent ? tree->parent[node] : hd_tree_node(node)->parent;
}

/* ---- snapshot_v2.c / snapshot_v1.c ------------------------------------- */
/* The records after PROCESS, MODULEs and PYTHON; false when out of memory. */
bool hd_write_stacks_v2(struct hd_output *out, struct hd_stack_copies *stacks, const struct hd_pycode *codes) HD_HIDDEN;
void hd_write_stacks_v1(struct hd_output *out, const struct hd_stack_copies *stacks,
                        const struct hd_pycode *codes) HD_HIDDEN;

#endif /* HEAPDIFF_SNAPSHOT_WRITER_H */
