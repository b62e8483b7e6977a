/* mmap_arena.c: bookkeeping memory straight from mmap, never the traced allocator. */
#ifndef HEAPDIFF_MMAP_ARENA_H
#define HEAPDIFF_MMAP_ARENA_H

#include "common.h"

struct hd_arena { unsigned char *cursor, *end; };
void *hd_arena_alloc(struct hd_arena *arena, size_t size) HD_HIDDEN;
void *hd_pages_alloc(size_t size) HD_HIDDEN;   /* zeroed, NULL on failure */
/* The same, every page mapped at once (MAP_POPULATE): for memory about to
 * be filled whole or hashed into, one call instead of a page fault per page
 * (two when a page is read before it is written). */
void *hd_pages_alloc_now(size_t size) HD_HIDDEN;
void hd_pages_free(void *pages, size_t size) HD_HIDDEN;
void *hd_pages_resize(void *pages, size_t old_size, size_t new_size) HD_HIDDEN;   /* mremap; NULL on failure */

/* The recorder's own memory: every mapping made above, and how much of it is
 * resident (mincore). For HEAPDIFF_STATS; reads the kernel's page tables,
 * so not for a hot path. */
/* memory_locks.c: the program's mlockall(MCL_FUTURE) is in effect, and
 * the recorder's listed mappings unlocked after its MCL_CURRENT. */
extern bool hd_future_locked HD_HIDDEN;
void hd_pages_unlock_all(void) HD_HIDDEN;
void hd_memory_locks_attach(void) HD_HIDDEN;
struct hd_pages_usage { size_t mapped, resident; unsigned mappings; };
struct hd_pages_usage hd_pages_usage(void) HD_HIDDEN;

#endif
