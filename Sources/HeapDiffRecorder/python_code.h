/* python_code.c: CPython code objects interned once (file, name, line table). */
#ifndef HEAPDIFF_PYTHON_CODE_H
#define HEAPDIFF_PYTHON_CODE_H

#include "common.h"
#include "intern_table.h"

/* The id of a code object, interned on first sight (0 when out of memory);
 * py: the calling thread's state, whose cache is looked in first. */
struct hd_py_thread;
uint32_t hd_pycode_id(struct hd_py_thread *py, uintptr_t code) HD_HIDDEN;
struct hd_pycode {
    struct hd_interned link;    /* first: the table's chain, list and hash */
    uintptr_t code, linetable_obj;
    uint32_t id, first_line;
    uint32_t filename_length, qualname_length, linetable_length;
    const char *filename, *qualname;
    const unsigned char *linetable;
};
/* The newest code entry; entries are immutable and linked newest first, so
 * a writer can walk them outside the lock from a head read under it. */
const struct hd_pycode *hd_pycode_newest(void) HD_HIDDEN;
static inline const struct hd_pycode *hd_pycode_older(const struct hd_pycode *code) {
    return (const struct hd_pycode *)code->link.all_next;
}
size_t hd_pycode_memory(void) HD_HIDDEN;

#endif
