/* real_alloc.c: the real allocator and the bootstrap arena. */
#ifndef HEAPDIFF_REAL_ALLOC_H
#define HEAPDIFF_REAL_ALLOC_H

#include "common.h"
#include "hook_list.h"

/* The real function of each hooked name (hook_list.h); NULL when the
 * process has none. Called only under the recursion guard (record.h). */
#define HD_REAL_POINTER(name, result, parameters, releases, required) result(*name) parameters;
struct hd_real_allocator {
    HD_HOOKED_FUNCTIONS(HD_REAL_POINTER)
};
#undef HD_REAL_POINTER
extern struct hd_real_allocator hd_real HD_HIDDEN;
/* Not hooked, but asked of the same allocator (sampled_home.c); may be NULL. */
extern size_t (*hd_real_usable_size)(void *) HD_HIDDEN;
/* The malloc_usable_size the program would call without the recorder
 * (the next one, whichever module defines it): sampled_home.c passes its
 * calls on to it. */
extern size_t (*hd_next_usable_size)(void *) HD_HIDDEN;
void hd_resolve_real_allocator(void) HD_HIDDEN;
/* The definition of NAME that this library's SELF hides: the next one, or,
 * for the attach library (nothing after it), the one the process is bound
 * to; NULL when there is none but ours. */
void *hd_next_definition(const char *name, const void *self) HD_HIDDEN;
/* Whether two functions are defined in the same module (dladdr). */
bool hd_same_module(const void *a, const void *b) HD_HIDDEN;
/* Whether every function the hooks cannot do without was found. */
bool hd_real_allocator_usable(void) HD_HIDDEN;
void hd_resolve_once(void) HD_HIDDEN;   /* hooks.c: resolve unless done */
/* hooks.c: the malloc, free and posix_memalign hooks, called from inside
 * the library (cxx_operators.c) without going through its PLT. */
void *hd_hook_malloc(size_t size) HD_HIDDEN;
void hd_hook_free(void *p) HD_HIDDEN;
int hd_hook_posix_memalign(void **out, size_t alignment, size_t size) HD_HIDDEN;
void *hd_bootstrap_alloc(size_t size, size_t alignment) HD_HIDDEN;
bool hd_is_bootstrap(const void *p) HD_HIDDEN;
size_t hd_bootstrap_size(const void *p) HD_HIDDEN;

#endif
