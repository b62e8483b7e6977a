/* Python code objects, interned once: a code object's file name, qualified
 * name and line table are copied into recorder memory the first time one of
 * its frames is seen, and a trace refers to it by a small id. The copies
 * outlive the code object, and the line is computed offline from the line
 * table, so the hook only records (code id, instruction index).
 *
 * A code object is recognised by its address and the addresses of its line
 * table, file name and qualified name, and its first line (hd_pycode_is):
 * when a code object dies and a new one takes its address, one of them
 * differs and the new one gets a new id, or none does and its lines are the
 * dead one's. */
#define _GNU_SOURCE
#include <string.h>
#include "intern_table.h"
#include "recorder.h"

enum { HD_PYNAME_MAX = 4096 };

uint64_t hd_py_code_epoch;

/* Entries and their copied strings (intern_table.h), under hd_lock. */
static struct hd_intern_table table = {.initial_buckets = 1024};   /* 64 while sampling: hd_pycode_entry */

static inline uintptr_t load_ptr(uintptr_t address) {
    return *(const uintptr_t *)address;
}

static inline uint64_t hash_of(uintptr_t code) {
    return (code >> 4) * 0x9E3779B97F4A7C15ull >> 32;
}

/* Appends code point c as UTF-8. */
static size_t put_utf8(unsigned char *out, size_t at, size_t cap, uint32_t c) {
    unsigned char b[4];
    size_t n;
    if (c < 0x80) { b[0] = (unsigned char)c; n = 1; }
    else if (c < 0x800) { b[0] = (unsigned char)(0xC0 | c >> 6); b[1] = (unsigned char)(0x80 | (c & 0x3F)); n = 2; }
    else if (c < 0x10000) {
        b[0] = (unsigned char)(0xE0 | c >> 12); b[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (c & 0x3F)); n = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | c >> 18); b[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3F)); b[3] = (unsigned char)(0x80 | (c & 0x3F)); n = 4;
    }
    if (at + n > cap)
        return at;
    memcpy(out + at, b, n);
    return at + n;
}

/* The copies of the str objects copied last, by address: the code objects
 * of one module share its file name object, so its text is copied once
 * (the text is compared too, as another str may have taken the address). */
enum { HD_RECENT_NAMES = 64 };
static struct recent_name { uintptr_t obj; const char *copy; uint32_t length; } recent_names[HD_RECENT_NAMES];

/* A str object's text as UTF-8, read from its compact representation
 * (ASCII, or 1-, 2- or 4-byte code points); "?" for anything else. */
static const char *copy_str(uintptr_t obj, uint32_t *length) {
    const struct hd_py_layout *L = hd_python.layout;
    static unsigned char text[HD_PYNAME_MAX];   /* under hd_lock, as every copy is */
    size_t n = 0;
    if (obj && *(const uintptr_t *)(obj + sizeof(intptr_t)) == hd_python.str_type) {
        uint32_t state = *(const uint32_t *)(obj + L->str_state);
        unsigned kind = (state >> 2) & 7, compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
        size_t chars = (size_t)*(const intptr_t *)(obj + L->str_length);
        if (compact && ascii) {
            n = chars < sizeof text ? chars : sizeof text;
            memcpy(text, (const void *)(obj + L->ascii_size), n);
        } else if (compact) {
            const unsigned char *data = (const unsigned char *)(obj + L->compact_size);
            for (size_t i = 0; i < chars && n + 4 <= sizeof text; i++) {
                uint32_t c = kind == 1 ? data[i] : kind == 2 ? ((const uint16_t *)data)[i] : ((const uint32_t *)data)[i];
                n = put_utf8(text, n, sizeof text, c);
            }
        }
    }
    if (n == 0) {
        text[0] = '?';
        n = 1;
    }
    *length = (uint32_t)n;
    struct recent_name *recent = &recent_names[(obj >> 4) % HD_RECENT_NAMES];
    if (recent->obj == obj && recent->length == n && memcmp(recent->copy, text, n) == 0)
        return recent->copy;
    const char *copy = hd_intern_copy(&table, text, n);
    if (copy)
        *recent = (struct recent_name){obj, copy, (uint32_t)n};
    return copy;
}

/* Copies the line table of E's code object (its bytes object, E's since
 * E was proven) as far as the entries covering its first WANTED
 * instructions, or whole; published for writers that read it unlocked.
 * While sampling (3.11+) a table is first copied only as far as the frame
 * that named its code object needs, and whole when a later frame is seen
 * past that: sampled stacks name most code objects at a line or two, and
 * whole tables were most of the sampled recorder's memory under CPython
 * (the snapshots write the same prefixes, snapshot_v2.c). Caller holds
 * hd_lock. */
static bool copy_lines(struct hd_pycode *e, uint64_t wanted) {
    const struct hd_py_layout *L = hd_python.layout;
    uintptr_t obj = e->linetable_obj;
    const unsigned char *data = (const unsigned char *)"";
    uint32_t length = 0, covered = UINT32_MAX;
    if (obj && *(const uintptr_t *)(obj + sizeof(intptr_t)) == hd_python.bytes_type) {
        intptr_t size = *(const intptr_t *)(obj + L->bytes_size);
        length = size > 0 && size < HD_MAX_STRING ? (uint32_t)size : 0;
        data = (const unsigned char *)(obj + L->bytes_data);
    }
    if (hd_config.sample_rate && hd_python.hexversion >= 0x030b0000)
        length = hd_pycode_lines_prefix(data, length, wanted, &covered);
    struct hd_pycode_lines *lines = hd_intern_bytes(&table, sizeof *lines + length);
    if (!lines)
        return false;
    lines->length = length;
    lines->covered = covered;
    memcpy(lines->bytes, data, length);
    __atomic_store_n(&e->lines, lines, __ATOMIC_RELEASE);
    return true;
}

/* Caller holds hd_lock. */
static const struct hd_pycode *intern(uintptr_t code, const struct hd_py_layout *L, uint32_t instruction) {
    if (HD_UNLIKELY(table.bucket_count == 0) && hd_config.sample_rate)
        table.initial_buckets = 64;   /* sampled stacks name few code objects */
    uint64_t hash = hash_of(code);
    for (struct hd_interned *i = hd_intern_chain(&table, hash); i; i = i->chain) {
        struct hd_pycode *e = (struct hd_pycode *)i;
        if (e->code == code && hd_pycode_is(e, L, code))
            return instruction < e->lines->covered || copy_lines(e, UINT64_MAX) ? e : NULL;
    }
    if (table.count >= HD_PYCODE_MAX_ID)
        return NULL;
    struct hd_pycode *e = hd_intern_alloc(&table, sizeof *e);
    if (!e)
        return NULL;
    memset(e, 0, sizeof *e);
    e->code = code;
    e->linetable_obj = load_ptr(code + L->code_linetable);
    e->filename_obj = load_ptr(code + L->code_filename);
    e->qualname_obj = load_ptr(code + L->code_qualname);
    e->first_line = (uint32_t)*(const int *)(code + L->code_firstlineno);
    e->filename = copy_str(e->filename_obj, &e->filename_length);
    e->qualname = copy_str(e->qualname_obj, &e->qualname_length);
    if (!e->filename || !e->qualname || !copy_lines(e, (uint64_t)instruction + 1))
        return NULL;
    e->id = (uint32_t)table.count + 1;
    hd_intern_add(&table, &e->link, hash);
    return e;
}

const struct hd_pycode *hd_pycode_entry(struct hd_py_thread *py, uintptr_t code, uint32_t instruction) {
    const struct hd_py_layout *L = hd_python.layout;
    size_t slot = (code >> 4) & ((hd_config.sample_rate ? HD_PYCODE_CACHE_SAMPLED : HD_PYCODE_CACHE) - 1);
    uint64_t epoch = hd_pycode_epoch();   /* no code object freed since: still proven */
    if (py->code_cache[slot].code == code && instruction < py->code_cache[slot].lines_cover &&
        ((epoch != 0 && py->code_cache[slot].code_epoch == epoch) || hd_pycode_is(py->code_cache[slot].entry, L, code))) {
        py->code_cache[slot].code_epoch = epoch;
        return py->code_cache[slot].entry;
    }
    hd_lock();
    const struct hd_pycode *e = intern(code, L, instruction);
    hd_unlock();
    if (!e)
        return NULL;
    py->code_cache[slot].code = code;
    py->code_cache[slot].entry = e;
    py->code_cache[slot].code_epoch = epoch;
    py->code_cache[slot].lines_cover = hd_pycode_lines(e)->covered;
    return e;
}

/* PyTypeObject's tp_flags follows 21 pointer-sized fields in every version
 * read (3.8+); a GC header or a pre-header would put the type elsewhere in
 * the block than hd_pycode_freeing looks. */
enum { TYPE_FLAGS_OFFSET = 21 * sizeof(void *), TPFLAGS_NOT_PLAIN = 1 << 14 | 1 << 3 | 1 << 4 };

void hd_pycode_watch_frees(void) {
    if (!hd_python.enabled || hd_python.late || hd_config.sample_rate != 0)
        return;
    unsigned long flags = *(const unsigned long *)(hd_python.code_type + TYPE_FLAGS_OFFSET);
    if (!(flags & TPFLAGS_NOT_PLAIN))
        __atomic_store_n(&hd_py_code_epoch, 1, __ATOMIC_RELAXED);
}

void hd_pycode_died(uintptr_t code) {
    hd_lock();   /* nothing under it allocates: no guard needed */
    for (struct hd_interned *i = hd_intern_chain(&table, hash_of(code)); i; i = i->chain) {
        struct hd_pycode *e = (struct hd_pycode *)i;
        if (e->code == code)
            e->dead = true;
    }
    hd_unlock();
    __atomic_fetch_add(&hd_py_code_epoch, 1, __ATOMIC_RELAXED);
}

const struct hd_pycode *hd_pycode_newest(void) {
    return (const struct hd_pycode *)table.all;
}

size_t hd_pycode_memory(void) {
    return hd_intern_memory(&table);
}
