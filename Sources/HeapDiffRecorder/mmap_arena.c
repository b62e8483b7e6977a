/* Bookkeeping memory comes from mmap, never from the allocator being traced:
 * calling malloc from inside malloc would recurse, and would also show up in
 * the very numbers we report. */
#define _GNU_SOURCE
#include <sys/mman.h>
#include "recorder.h"

enum { HD_ARENA_CHUNK = 1 << 20 };

void *hd_pages_alloc(size_t size) {
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void *hd_pages_alloc_now(size_t size) {
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Grows (or shrinks) a hd_pages_alloc block, moving its pages if needed;
 * NULL on failure, when the old block is still valid. */
void *hd_pages_resize(void *pages, size_t old_size, size_t new_size) {
    if (!pages)
        return hd_pages_alloc(new_size);
    void *p = mremap(pages, old_size, new_size, MREMAP_MAYMOVE);
    return p == MAP_FAILED ? NULL : p;
}

void hd_pages_free(void *pages, size_t size) {
    if (pages)
        munmap(pages, size);
}

/* Bump allocation of 16-byte aligned pieces that live until the process ends
 * (interned stacks are never forgotten). The caller serializes access. */
void *hd_arena_alloc(struct hd_arena *arena, size_t size) {
    size = (size + 15) & ~(size_t)15;
    if ((size_t)(arena->end - arena->cursor) < size) {
        size_t chunk = size > HD_ARENA_CHUNK ? size : HD_ARENA_CHUNK;
        /* An arena that filled a chunk will fill the next one too: mapped at once. */
        unsigned char *fresh = arena->end ? hd_pages_alloc_now(chunk) : hd_pages_alloc(chunk);
        if (!fresh)
            return NULL;
        arena->cursor = fresh;
        arena->end = fresh + chunk;
    }
    void *p = arena->cursor;
    arena->cursor += size;
    return p;
}
