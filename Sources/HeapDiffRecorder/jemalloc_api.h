/* jemalloc_api.c: jemalloc's own API, hooked through the GOT where jemalloc
 * is the process's malloc. */
#ifndef HEAPDIFF_JEMALLOC_API_H
#define HEAPDIFF_JEMALLOC_API_H

#include <stddef.h>
#include "common.h"

/* X(name, releases, sized): the functions hooked (releases: it can give a
 * block back, got_hooks.c switches those first; sized: with a size, which
 * must be what jemalloc handed out). */
#define HD_JEMALLOC_API(X) \
    X(dallocx, true, false) X(sdallocx, true, true) X(rallocx, true, false) X(xallocx, false, false) \
    X(mallocx, false, false)

/* jemalloc's functions, which the hooks call (got_hooks.c fills them in). */
extern struct hd_jemalloc_api {
    void (*dallocx)(void *, int);
    void (*sdallocx)(void *, size_t, int);
    void *(*rallocx)(void *, size_t, int);
    size_t (*xallocx)(void *, size_t, size_t, int);
    void *(*mallocx)(size_t, int);
} hd_jemalloc HD_HIDDEN;

/* The hooks' addresses, for got_hooks.c's table. */
#define HD_JEMALLOC_HOOK_ADDRESS(name, releases, sized) extern void *const hd_jemalloc_hook_##name HD_HIDDEN;
HD_JEMALLOC_API(HD_JEMALLOC_HOOK_ADDRESS)
#undef HD_JEMALLOC_HOOK_ADDRESS

/* Whether the process's mallocx is its malloc's module's: jemalloc is the
 * allocator, and its API is worth hooking. */
bool hd_jemalloc_api_wanted(void) HD_HIDDEN;
/* Preloaded: switches the loaded modules' entries at start-up, where wanted;
 * then, from the writer thread each tick, those of modules loaded since. */
void hd_jemalloc_api_start(void) HD_HIDDEN;
void hd_jemalloc_api_rescan(void) HD_HIDDEN;

#endif
