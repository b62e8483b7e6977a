/* python_alloc.c: CPython's allocator domains wrapped. */
#ifndef HEAPDIFF_PYTHON_ALLOC_H
#define HEAPDIFF_PYTHON_ALLOC_H

#include "common.h"

/* The interpreter's raw, mem and object allocator domains wrapped, as
 * tracemalloc wraps them, from its first audit event on; on 3.13 also a
 * reference tracer that charges objects reused from free lists to the line
 * that reuses them. version: PY_VERSION_HEX; frames: its frames are read. */
void hd_python_alloc_init(uint32_t version, bool frames) HD_HIDDEN;
/* The parts of it: the interpreter's allocator API found (false when it is
 * missing), and the wrappers installed, once, by a thread holding the GIL. */
bool hd_python_alloc_resolve(uint32_t version, bool frames) HD_HIDDEN;
void hd_python_alloc_install(void) HD_HIDDEN;

/* python_reuse.c: 3.13+'s reference tracer, which charges an object taken
 * from a free list to the line that takes it. All called with the GIL held
 * (or before the program runs), under the recursion guard. */
void hd_python_reuse_resolve(uint32_t version, bool frames) HD_HIDDEN;
void hd_python_reuse_install(void) HD_HIDDEN;
void hd_python_reuse_attach(void) HD_HIDDEN;   /* heapdiff attach: ours back unless it is there */
void hd_python_reuse_detach(void) HD_HIDDEN;
/* heapdiff attach, by a thread holding the GIL: the mem and object domains
 * (and 3.13's reference tracer) wrapped, returning how many domains are;
 * and given back, returning how many stay because another wrapper was
 * installed over ours since (ours then passes allocations through). */
unsigned hd_python_alloc_attach(void) HD_HIDDEN;
unsigned hd_python_alloc_detach(void) HD_HIDDEN;

#endif
