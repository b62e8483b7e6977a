/* Format 1's stack records, written when HEAPDIFF_FORMAT=1 asks for them
 * (to compare sizes, or for a reader that predates format 2): every code
 * object seen so far as a PYCODE record, every stack as a TRACE record with
 * its frames as u64s. Layouts: Sources/HeapDiffFormat/include/heapdiff_format.h. */
#define _GNU_SOURCE
#include <string.h>
#include "snapshot_writer.h"

void hd_write_stacks_v1(struct hd_output *out, const struct hd_stack_copies *stacks, const struct hd_pycode *codes) {
    if (hd_python.enabled)
        for (const struct hd_pycode *c = codes; c; c = hd_pycode_older(c)) {
            const struct hd_pycode_lines *lines = hd_pycode_lines(c);
            unsigned char fixed[HD_PYCODE_FIXED_SIZE];
            hd_store_u32(fixed + HD_PYCODE_ID, c->id);
            hd_store_u32(fixed + HD_PYCODE_FIRST_LINE, c->first_line);
            hd_output_record_header(out, HD_RECORD_PYCODE,
                                    sizeof fixed + 3 * HD_STRING_LENGTH_SIZE + c->filename_length +
                                        c->qualname_length + lines->length);
            hd_output_put(out, fixed, sizeof fixed);
            hd_output_string(out, c->filename, c->filename_length);
            hd_output_string(out, c->qualname, c->qualname_length);
            hd_output_string(out, lines->bytes, lines->length);
        }
    for (size_t i = 0; i < stacks->count; i++) {
        const struct hd_stack_copy *s = &stacks->items[i];
        const struct hd_trace *t = s->trace;
        unsigned char fixed[HD_TRACE_FIXED_SIZE];
        hd_store_u64(fixed + HD_TRACE_LIVE_BYTES, s->live_bytes);
        hd_store_u64(fixed + HD_TRACE_LIVE_COUNT, s->live_count);
        hd_store_u64(fixed + HD_TRACE_ALLOC_BYTES, s->alloc_bytes);
        hd_store_u64(fixed + HD_TRACE_ALLOC_COUNT, s->alloc_count);
        hd_store_u32(fixed + HD_TRACE_FRAME_COUNT, t->frame_count);
        hd_store_u32(fixed + HD_TRACE_FLAGS, t->flags);
        hd_output_record_header(out, HD_RECORD_TRACE, sizeof fixed + (size_t)t->frame_count * HD_TRACE_FRAME_SIZE);
        hd_output_put(out, fixed, sizeof fixed);
        /* Its frames, innermost first: the path up the tree from its node.
         * x86_64 and aarch64 are little-endian, as the format is. */
        uint64_t frames[HD_TRACE_MAX_FRAMES];
        uint32_t node = t->node, count = t->frame_count <= HD_TRACE_MAX_FRAMES ? t->frame_count : HD_TRACE_MAX_FRAMES;
        for (uint32_t f = 0; f < count; f++, node = hd_tree_node(node)->parent)
            frames[f] = hd_tree_node(node)->frame;
        hd_output_put(out, frames, (size_t)count * HD_TRACE_FRAME_SIZE);
    }
}
