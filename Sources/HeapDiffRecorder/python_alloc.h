/* CPython's allocator domains wrapped: the wrappers (python_alloc.c), and
 * their installation (python_install.c). */
#ifndef HEAPDIFF_PYTHON_ALLOC_H
#define HEAPDIFF_PYTHON_ALLOC_H

#include "common.h"

/* PyMemAllocatorEx, unchanged since 3.5. */
struct hd_py_allocator {
    void *ctx;
    void *(*malloc)(void *ctx, size_t size);
    void *(*calloc)(void *ctx, size_t count, size_t size);
    void *(*realloc)(void *ctx, void *ptr, size_t size);
    void (*free)(void *ctx, void *ptr);
};
enum { HD_PY_DOMAIN_RAW, HD_PY_DOMAIN_MEM, HD_PY_DOMAIN_OBJ, HD_PY_DOMAIN_COUNT };

/* ---- python_alloc.c ---------------------------------------------------- */
/* The allocators the wrappers replaced; each wrapper's ctx points at its
 * domain's. */
extern struct hd_py_allocator hd_py_previous[HD_PY_DOMAIN_COUNT] HD_HIDDEN;
/* The wrappers of one domain, each given the domain's previous allocator. */
struct hd_py_allocator hd_py_wrapper(int domain) HD_HIDDEN;
/* The audit hook's entry, from python_install.c's early allocator: the raw
 * domain's wrapper gives it back to libc. */
extern void *hd_py_early_block HD_HIDDEN;

/* ---- python_install.c -------------------------------------------------- */
/* The interpreter's raw, mem and object allocator domains wrapped, as
 * tracemalloc wraps them, from its first audit event on; on 3.13 also a
 * reference tracer that charges objects reused from free lists to the line
 * that reuses them. version: PY_VERSION_HEX; frames: its frames are read. */
void hd_python_alloc_init(uint32_t version, bool frames) HD_HIDDEN;
/* The parts of it: the interpreter's allocator API found (false when it is
 * missing), and the wrappers installed, once, by a thread holding the GIL. */
bool hd_python_alloc_resolve(uint32_t version, bool frames) HD_HIDDEN;
void hd_python_alloc_install(void) HD_HIDDEN;
/* Whether the interpreter has run (its first audit event came; 3.8+). */
bool hd_python_started(void) HD_HIDDEN;

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
