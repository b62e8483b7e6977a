/* python_code.c: CPython code objects interned once (file, name, line table). */
#ifndef HEAPDIFF_PYTHON_CODE_H
#define HEAPDIFF_PYTHON_CODE_H

#include "common.h"
#include "intern_table.h"
#include "python_layout.h"
#include "python_stack.h"

/* A code object's entry, interned on first sight (NULL when out of memory),
 * its line table copied at least as far as INSTRUCTION; py: the calling
 * thread's state, whose cache is looked in first. */
struct hd_py_thread;
const struct hd_pycode *hd_pycode_entry(struct hd_py_thread *py, uintptr_t code, uint32_t instruction) HD_HIDDEN;
/* A line table's copy: the whole table, or while sampling (3.11+) the
 * entries that cover the instructions its frames were seen at so far. */
struct hd_pycode_lines {
    uint32_t length;
    uint32_t covered;   /* the instructions it covers (UINT32_MAX: all) */
    unsigned char bytes[];
};
struct hd_pycode {
    struct hd_interned link;    /* first: the table's chain, list and hash */
    /* What tells this code object from a later one at its address: its
     * line table, file name and qualified name objects and its first line. */
    uintptr_t code, linetable_obj, filename_obj, qualname_obj;
    uint32_t id, first_line;
    /* Its code object was seen freed (hd_pycode_died): never matched again,
     * so a new code object at its address gets an entry of its own even
     * when its line table, names and first line sit at the dead one's
     * addresses (a file name freed with it and reused). Written under
     * hd_lock; a snapshot writer never reads it. */
    bool dead;
    uint32_t filename_length, qualname_length;
    const char *filename, *qualname;
    /* Replaced by a longer copy, under hd_lock, when a frame is seen past
     * what it covers; read outside the lock (hd_pycode_lines) by writers and
     * by the threads that look the entry up. */
    const struct hd_pycode_lines *lines;
};
/* The bytes of a 3.11+ location table (Objects/locations.md: an entry
 * starts with a byte whose top bit is set, its low three bits the code
 * units it covers less one) that cover its first WANTED instructions;
 * *covered: how many they cover, UINT32_MAX when they are the whole table. */
static inline uint32_t hd_pycode_lines_prefix(const unsigned char *table, uint32_t length, uint64_t wanted,
                                              uint32_t *covered) {
    uint64_t units = 0;
    for (uint32_t i = 0; i < length; i++) {
        if (!(table[i] & 0x80))
            continue;
        if (units >= wanted) {
            *covered = units < UINT32_MAX ? (uint32_t)units : UINT32_MAX - 1;
            return i;
        }
        units += (table[i] & 7u) + 1;
    }
    *covered = UINT32_MAX;
    return length;
}
static inline const struct hd_pycode_lines *hd_pycode_lines(const struct hd_pycode *code) {
    return __atomic_load_n(&code->lines, __ATOMIC_ACQUIRE);
}
/* The newest code entry; entries are linked newest first, and immutable
 * but for their line table's copy, so a writer can walk them outside the
 * lock from a head read under it. */
const struct hd_pycode *hd_pycode_newest(void) HD_HIDDEN;
static inline const struct hd_pycode *hd_pycode_older(const struct hd_pycode *code) {
    return (const struct hd_pycode *)code->link.all_next;
}
size_t hd_pycode_memory(void) HD_HIDDEN;

/* Code objects freed so far, counted by the object domain's free wrapper
 * (python_alloc.c) from the moment it is installed at start-up; 0 while no
 * wrapper watches (before it, or attached). A proof that a stack's code
 * objects are still its entries' (hd_pycode_is) holds for as long as this
 * stays what it was when the proof was made: a code object outlives every
 * frame running it, and a dead one's successor at its address can only be
 * allocated after it was freed. */
extern uint64_t hd_py_code_epoch HD_HIDDEN;
static inline uint64_t hd_pycode_epoch(void) {
    return __atomic_load_n(&hd_py_code_epoch, __ATOMIC_RELAXED);
}
/* Turns the epoch on (python_install.c, once its object-domain wrapper is
 * installed), if code objects are plain objects whose block is the object;
 * not when sampling, where frames are read for few allocations and every
 * free stays as cheap as it can be. */
void hd_pycode_watch_frees(void) HD_HIDDEN;
/* A code object is being freed: its entries are marked dead, and the
 * proofs made before end (the epoch moves). */
void hd_pycode_died(uintptr_t code) HD_HIDDEN;
/* The object domain's free, before BLOCK goes back: a code object (every
 * code object is freed there; no version gives them a GC header or a free
 * list) ends the proofs made before it. Told by its type word. */
static inline void hd_pycode_freeing(const void *block) {
    if (__atomic_load_n(&hd_py_code_epoch, __ATOMIC_RELAXED) != 0 && block &&
        HD_UNLIKELY(*(const uintptr_t *)((uintptr_t)block + sizeof(intptr_t)) == hd_python.code_type))
        hd_pycode_died((uintptr_t)block);
}

/* Whether the code object at E's address is still E's: the same line table,
 * file name and qualified name objects and first line. A dead code object's
 * successor at its address with all four the same gives the same lines
 * (every one-line function shares the empty line table before 3.11, so the
 * line table alone does not tell them apart). Compared without a branch each. */
static inline __attribute__((always_inline)) bool hd_pycode_is(const struct hd_pycode *e, const struct hd_py_layout *L,
                                                                uintptr_t code) {
    uintptr_t differ = (uintptr_t)e->dead | (*(const uintptr_t *)(code + L->code_linetable) ^ e->linetable_obj) |
                       (*(const uintptr_t *)(code + L->code_filename) ^ e->filename_obj) |
                       (*(const uintptr_t *)(code + L->code_qualname) ^ e->qualname_obj) |
                       ((uint32_t)*(const int *)(code + L->code_firstlineno) ^ e->first_line);
    return differ == 0;
}

#endif
