/* Bookkeeping memory comes from mmap, never from the allocator being traced:
 * calling malloc from inside malloc would recurse, and would also show up in
 * the very numbers we report.
 *
 * Every mapping made here is listed, so that HEAPDIFF_STATS can say how much
 * of the recorder's memory is resident and not only how much is mapped: its
 * tables are mapped at their full first size and touched as they fill, so the
 * mapped figure overstates what a small program pays. The list is lock-free:
 * mappings are made and dropped by the program's threads inside hooks, by the
 * writer thread and at exit. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>
#include "recorder.h"

enum { HD_ARENA_CHUNK = 1 << 20, HD_LISTED_MAPPINGS = 2048 };

static struct listed_mapping { uintptr_t start; size_t size; } listed[HD_LISTED_MAPPINGS];
static size_t unlisted_bytes;   /* made while the list was full: counted as resident */

static void list_mapping(void *pages, size_t size) {
    for (unsigned i = 0; i < HD_LISTED_MAPPINGS; i++) {
        uintptr_t empty = 0;
        if (__atomic_load_n(&listed[i].start, __ATOMIC_RELAXED) == 0 &&
            __atomic_compare_exchange_n(&listed[i].start, &empty, (uintptr_t)pages, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            __atomic_store_n(&listed[i].size, size, __ATOMIC_RELEASE);
            return;
        }
    }
    __atomic_add_fetch(&unlisted_bytes, size, __ATOMIC_RELAXED);
}

static void unlist_mapping(void *pages, size_t size) {
    for (unsigned i = 0; i < HD_LISTED_MAPPINGS; i++)
        if (__atomic_load_n(&listed[i].start, __ATOMIC_RELAXED) == (uintptr_t)pages) {
            __atomic_store_n(&listed[i].size, 0, __ATOMIC_RELAXED);
            __atomic_store_n(&listed[i].start, 0, __ATOMIC_RELEASE);
            return;
        }
    __atomic_sub_fetch(&unlisted_bytes, size, __ATOMIC_RELAXED);
}

/* errno is kept, here and in resize and free: the hooks leave it alone on
 * their paths, and a table that grows (an interned code object, a stack
 * table) must not set it when the mapping fails. */
static void *map_pages(size_t size, int extra_flags) {
    int saved = errno;
    void *p;
    if (__atomic_load_n(&hd_future_locked, __ATOMIC_ACQUIRE)) {
        /* Locked at birth (the program's mlockall(MCL_FUTURE)): made with no
         * access, which faults nothing in, then unlocked, then opened
         * (memory_locks.c). */
        p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED && (munlock(p, size) != 0 || mprotect(p, size, PROT_READ | PROT_WRITE) != 0)) {
            munmap(p, size);
            p = MAP_FAILED;
        }
    } else {
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extra_flags, -1, 0);
    }
    errno = saved;
    if (p == MAP_FAILED)
        return NULL;
    list_mapping(p, size);
    return p;
}

void *hd_pages_alloc(size_t size) {
    return map_pages(size, 0);
}

void *hd_pages_alloc_now(size_t size) {
    return map_pages(size, MAP_POPULATE);
}

/* Grows (or shrinks) a hd_pages_alloc block, moving its pages if needed;
 * NULL on failure, when the old block is still valid. */
void *hd_pages_resize(void *pages, size_t old_size, size_t new_size) {
    if (!pages)
        return hd_pages_alloc(new_size);
    int saved = errno;
    void *p = mremap(pages, old_size, new_size, MREMAP_MAYMOVE);
    errno = saved;
    if (p == MAP_FAILED)
        return NULL;
    unlist_mapping(pages, old_size);
    list_mapping(p, new_size);
    return p;
}

void hd_pages_free(void *pages, size_t size) {
    if (pages) {
        unlist_mapping(pages, size);
        int saved = errno;
        munmap(pages, size);
        errno = saved;
    }
}

void hd_pages_unlock_all(void) {
    int saved = errno;
    for (unsigned i = 0; i < HD_LISTED_MAPPINGS; i++) {
        uintptr_t start = __atomic_load_n(&listed[i].start, __ATOMIC_ACQUIRE);
        size_t size = __atomic_load_n(&listed[i].size, __ATOMIC_ACQUIRE);
        if (start && size)
            munlock((void *)start, size);   /* dropped meanwhile by another thread: ENOMEM, harmless */
    }
    errno = saved;
}

/* What the listed mappings take: mapped, and resident as mincore sees it (a
 * page of an anonymous mapping is resident once touched). A mapping dropped
 * by another thread meanwhile just stops counting (mincore fails on it). */
struct hd_pages_usage hd_pages_usage(void) {
    struct hd_pages_usage usage = {0};
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char in_core[1024];
    for (unsigned i = 0; i < HD_LISTED_MAPPINGS; i++) {
        uintptr_t start = __atomic_load_n(&listed[i].start, __ATOMIC_ACQUIRE);
        size_t pages = (__atomic_load_n(&listed[i].size, __ATOMIC_ACQUIRE) + page - 1) / page;
        if (!start || !pages)
            continue;
        usage.mappings++;
        usage.mapped += pages * page;
        for (size_t done = 0; done < pages;) {
            size_t n = pages - done < sizeof in_core ? pages - done : sizeof in_core;
            if (mincore((void *)(start + done * page), n * page, in_core) != 0)
                break;
            for (size_t j = 0; j < n; j++)
                usage.resident += (in_core[j] & 1) * page;
            done += n;
        }
    }
    size_t unlisted = __atomic_load_n(&unlisted_bytes, __ATOMIC_RELAXED);
    usage.mapped += unlisted;
    usage.resident += unlisted;
    return usage;
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
