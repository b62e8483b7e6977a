/* got_hooks.c: heapdiff attach's GOT rewriting. */
#ifndef HEAPDIFF_GOT_HOOKS_H
#define HEAPDIFF_GOT_HOOKS_H

#include "common.h"

struct hd_got_counts {
    unsigned slots;      /* GOT entries pointing at a hook after the pass */
    unsigned changed;    /* entries this pass rewrote */
    unsigned modules;    /* modules with at least one hooked entry */
    unsigned deferred;   /* modules still being loaded by another thread: next pass */
    unsigned kept;       /* restoring with keep_sized: sized-free entries left with the recorder */
};
/* Finds the hooks and the functions they replace; false when one is missing. */
bool hd_got_init(void) HD_HIDDEN;
/* Points every loaded module's malloc-family GOT entries at the hooks
 * (frees first) or, with restore, back at the real functions; with
 * keep_sized, the frees that pass a size (C++'s deletes, jemalloc's
 * sdallocx) stay with the recorder (a session that sampled moved blocks,
 * whose size the allocator did not hand out). Preloaded, only the names this
 * library does not interpose are switched (jemalloc's API). */
struct hd_got_counts hd_got_patch(bool restore, bool keep_sized) HD_HIDDEN;
/* Points the GOT entries for name of the module holding in_module (a
 * library the recorder itself depends on) at function, for good; whether
 * one was. */
bool hd_got_bind_own(const void *in_module, const char *name, void *function) HD_HIDDEN;
/* Cheap: whether a module was loaded or unloaded since the last call. */
bool hd_got_modules_changed(void) HD_HIDDEN;
/* The dynamic loader's code. Attached to a non-PIE program whose PLT entry is
 * malloc's canonical address, the loader's own allocations come through the
 * hooks too, among them the one that gives a thread its block of our
 * (dynamic) TLS: they must pass straight on before anything touches TLS. */
extern uintptr_t hd_loader_start HD_HIDDEN, hd_loader_size HD_HIDDEN;
static inline bool hd_called_by_loader(const void *return_address) {
    return hd_late_load && (uintptr_t)return_address - hd_loader_start < hd_loader_size;
}

#endif
