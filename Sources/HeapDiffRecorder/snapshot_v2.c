/* Format 2's stack records (Sources/HeapDiffFormat/include/heapdiff_format.h, docs/FORMAT.md):
 * the Python code objects some frame names (CODES), the distinct frames
 * (FRAMES), the prefix tree (NODES) and one entry per stack (STACKS), each
 * table split into records of about HD_TABLE_RECORD_BYTES. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include "snapshot_writer.h"

/* Ends a table's record once it is big enough, or at the end of the table.
 * Inlined: it follows each of the ~10^5-10^6 entries of an exit snapshot. */
static inline __attribute__((always_inline)) void table_entry_done(struct hd_output *out, uint32_t type, struct hd_payload *entries, uint64_t *count,
                             bool last) {
    if (*count && (last || entries->length >= HD_TABLE_RECORD_BYTES)) {
        hd_output_table(out, type, entries, *count);
        *count = 0;
    }
}

/* ---- CODES ------------------------------------------------------------ */

/* File names, each given once per file: code objects of one module share theirs. */
struct file_names {
    const struct hd_pycode **owners;   /* per slot: the code whose name it is, NULL empty */
    uint32_t *numbers;                 /* per slot: from 1, in the order given */
    size_t slot_count;
    uint32_t given;
};

static uint64_t name_hash(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;   /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

/* 0 when the name is new (and now numbered), else its number. */
static uint32_t file_reference(struct file_names *names, const struct hd_pycode *code) {
    size_t mask = names->slot_count - 1;
    size_t s = (size_t)name_hash(code->filename, code->filename_length) & mask;
    for (; names->owners[s]; s = (s + 1) & mask) {
        const struct hd_pycode *o = names->owners[s];
        if (o->filename_length == code->filename_length &&
            memcmp(o->filename, code->filename, code->filename_length) == 0)
            return names->numbers[s];
    }
    names->owners[s] = code;
    names->numbers[s] = ++names->given;
    return 0;
}

/* How much of a line table the frames of this file need: up to the entry
 * that covers the last instruction they name (hd_pycode_lines_prefix, 3.11
 * and later; the rest of the table is never read). Older tables are written
 * whole. */
static uint32_t line_table_needed(const struct hd_pycode_lines *lines, uint32_t last_instruction) {
    if (hd_python.hexversion < 0x030b0000)
        return lines->length;
    uint32_t covered;
    return hd_pycode_lines_prefix(lines->bytes, lines->length, (uint64_t)last_instruction + 1, &covered);
}

static bool write_codes(struct hd_output *out, const struct hd_stack_tree *tree, const struct hd_pycode *codes,
                        struct hd_payload *entries) {
    if (!hd_python.enabled || !codes)
        return true;
    /* Which code objects the frames name, and the last instruction named in
     * each (+ 1; 0: not named). Ids grow, the newest is first; the sorted
     * frames of one code object are consecutive, its last one the largest. */
    size_t needed_size = ((size_t)codes->id + 1) * sizeof(uint32_t), referenced = 0;
    uint32_t *needed = hd_pages_alloc(needed_size);
    if (!needed)
        return false;
    for (uint32_t i = 0; i < tree->frame_count; i++) {
        if (!hd_pyframe_is(tree->frames[i]))
            continue;
        uint32_t id = hd_pyframe_code(tree->frames[i]);
        if (id <= codes->id) {
            referenced += needed[id] == 0;
            needed[id] = hd_pyframe_instruction(tree->frames[i]) + 1;
        }
    }
    struct file_names names = {.slot_count = 16};
    while (names.slot_count < referenced * 2)
        names.slot_count *= 2;
    names.owners = hd_pages_alloc(names.slot_count * sizeof *names.owners);
    names.numbers = hd_pages_alloc(names.slot_count * sizeof *names.numbers);
    bool ok = names.owners && names.numbers;
    uint64_t count = 0;
    for (const struct hd_pycode *c = codes; c && ok; c = hd_pycode_older(c)) {
        if (!needed[c->id])
            continue;
        hd_payload_varint(entries, c->id);
        hd_payload_varint(entries, hd_zigzag((int32_t)c->first_line));
        uint32_t file = file_reference(&names, c);
        hd_payload_varint(entries, file);
        if (file == 0)
            hd_payload_string(entries, c->filename, c->filename_length);
        hd_payload_string(entries, c->qualname, c->qualname_length);
        const struct hd_pycode_lines *lines = hd_pycode_lines(c);
        hd_payload_string(entries, lines->bytes, line_table_needed(lines, needed[c->id] - 1));
        count++;
        table_entry_done(out, HD_RECORD_CODES, entries, &count, false);
    }
    table_entry_done(out, HD_RECORD_CODES, entries, &count, true);
    hd_pages_free(names.owners, names.slot_count * sizeof *names.owners);
    hd_pages_free(names.numbers, names.slot_count * sizeof *names.numbers);
    hd_pages_free(needed, needed_size);
    return ok;
}

/* ---- FRAMES, NODES, STACKS --------------------------------------------- */

static void write_frames(struct hd_output *out, const struct hd_stack_tree *tree, struct hd_payload *entries) {
    uint64_t count = 0, previous = 0;
    for (uint32_t i = 0; i < tree->frame_count; i++) {
        if (count == 0)
            previous = 0;   /* each record starts from 0 */
        hd_payload_varint(entries, tree->frames[i] - previous);
        previous = tree->frames[i];
        count++;
        table_entry_done(out, HD_RECORD_FRAMES, entries, &count, false);
    }
    table_entry_done(out, HD_RECORD_FRAMES, entries, &count, true);
}

static void write_nodes(struct hd_output *out, const struct hd_stack_tree *tree, struct hd_payload *entries) {
    uint64_t count = 0;
    for (uint32_t node = 1; node < tree->nodes; node++) {
        /* Room for the entry once, then its two varints unchecked. */
        if (!hd_payload_room(entries, 2 * HD_VARINT_MAX))
            return;
        unsigned char *at = entries->bytes + entries->length;
        size_t length = hd_varint_put(at, tree->frame_index[node]);
        length += hd_varint_put(at + length, node - hd_stack_tree_parent(tree, node));
        entries->length += length;
        count++;
        table_entry_done(out, HD_RECORD_NODES, entries, &count, false);
    }
    table_entry_done(out, HD_RECORD_NODES, entries, &count, true);
}

static void write_stacks(struct hd_output *out, const struct hd_stack_copies *stacks, struct hd_payload *entries) {
    uint64_t count = 0;
    uint32_t previous = 0;
    /* An exact recording's sample counts are 0: left out. */
    unsigned fields = hd_config.sample_rate != 0 ? HD_STACK_FIELDS_SAMPLED : HD_STACK_FIELDS_MIN;
    for (size_t i = 0; i < stacks->count; i++) {
        const struct hd_stack_copy *s = &stacks->items[i];
        if (count == 0) {   /* each record states its field count and restarts the node differences */
            hd_payload_varint(entries, fields);
            previous = 0;
        }
        uint64_t field[HD_STACK_FIELDS];
        field[HD_STACK_FIELD_NODE] = hd_zigzag((int64_t)s->node - (int64_t)previous);
        field[HD_STACK_FIELD_FLAGS] = s->trace->flags;
        field[HD_STACK_FIELD_LIVE_BYTES] = s->live_bytes;
        field[HD_STACK_FIELD_LIVE_COUNT] = s->live_count;
        field[HD_STACK_FIELD_ALLOC_BYTES] = s->alloc_bytes;
        field[HD_STACK_FIELD_ALLOC_COUNT] = s->alloc_count;
        field[HD_STACK_FIELD_LIVE_SAMPLES] = s->live_samples;
        field[HD_STACK_FIELD_ALLOC_SAMPLES] = s->alloc_samples;
        if (!hd_payload_room(entries, HD_STACK_FIELDS * HD_VARINT_MAX))
            return;
        size_t length = entries->length;
        for (unsigned f = 0; f < fields; f++)
            length += hd_varint_put(entries->bytes + length, field[f]);
        entries->length = length;
        previous = s->node;
        count++;
        table_entry_done(out, HD_RECORD_STACKS, entries, &count, false);
    }
    table_entry_done(out, HD_RECORD_STACKS, entries, &count, true);
}

bool hd_write_stacks_v2(struct hd_output *out, struct hd_stack_copies *stacks, const struct hd_pycode *codes) {
    struct hd_stack_tree tree;
    struct hd_payload entries;
    bool ok = hd_stack_tree_select(&tree, stacks, stacks->tree_nodes);
    ok = hd_payload_init(&entries, 2 * HD_TABLE_RECORD_BYTES) && ok;
    ok = ok && write_codes(out, &tree, codes, &entries);
    if (ok) {
        write_frames(out, &tree, &entries);
        write_nodes(out, &tree, &entries);
        write_stacks(out, stacks, &entries);
    }
    ok = ok && !entries.failed;
    hd_payload_free(&entries);
    hd_stack_tree_free(&tree);
    if (!ok && !out->failed) {
        out->failed = true;
        out->error = ENOMEM;
    }
    return ok;
}
