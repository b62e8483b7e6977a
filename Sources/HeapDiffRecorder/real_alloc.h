/* real_alloc.c: the real allocator and the bootstrap arena. */
#ifndef HEAPDIFF_REAL_ALLOC_H
#define HEAPDIFF_REAL_ALLOC_H

#include "common.h"

struct hd_real_allocator {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
};
extern struct hd_real_allocator hd_real HD_HIDDEN;
void hd_resolve_real_allocator(void) HD_HIDDEN;
void hd_resolve_once(void) HD_HIDDEN;   /* hooks.c: resolve unless done */
void *hd_bootstrap_alloc(size_t size, size_t alignment) HD_HIDDEN;
bool hd_is_bootstrap(const void *p) HD_HIDDEN;
size_t hd_bootstrap_size(const void *p) HD_HIDDEN;

#endif
