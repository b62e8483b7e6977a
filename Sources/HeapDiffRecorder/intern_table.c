/* The interning table shared by the call stacks and CPython's code objects
 * (intern_table.h). Memory comes from mmap, never the traced allocator;
 * entries never move or die, so a pointer to one stays valid (per-thread
 * caches rely on that), and a writer can walk the list of every entry
 * outside the lock from a head read under it. */
#define _GNU_SOURCE
#include <string.h>
#include "intern_table.h"

static bool grow(struct hd_intern_table *t) {
    size_t new_count = t->bucket_count ? t->bucket_count * 2 : t->initial_buckets;
    /* Every bucket is read and many written as the entries are filed again. */
    struct hd_interned **fresh = t->bucket_count ? hd_pages_alloc_now(new_count * sizeof *fresh)
                                                 : hd_pages_alloc(new_count * sizeof *fresh);
    if (!fresh)
        return false;
    for (struct hd_interned *e = t->all; e; e = e->all_next) {
        size_t b = e->hash & (new_count - 1);
        e->chain = fresh[b];
        fresh[b] = e;
    }
    hd_pages_free(t->buckets, t->bucket_count * sizeof *t->buckets);
    t->buckets = fresh;
    t->bucket_count = new_count;
    return true;
}

void *hd_intern_alloc(struct hd_intern_table *t, size_t size) {
    if (t->count >= t->bucket_count * 3 / 4 && !grow(t) && !t->buckets)
        return NULL;
    void *entry = hd_arena_alloc(&t->arena, size);
    if (entry)
        t->bytes += size;
    return entry;
}

void *hd_intern_bytes(struct hd_intern_table *t, size_t length) {
    void *p = hd_arena_alloc(&t->arena, length ? length : 1);
    if (p)
        t->bytes += length;
    return p;
}

void *hd_intern_copy(struct hd_intern_table *t, const void *data, size_t length) {
    void *p = hd_intern_bytes(t, length);
    if (p)
        memcpy(p, data, length);
    return p;
}

void hd_intern_add(struct hd_intern_table *t, struct hd_interned *entry, uint64_t hash) {
    size_t b = hash & (t->bucket_count - 1);
    entry->hash = hash;
    entry->chain = t->buckets[b];
    t->buckets[b] = entry;
    entry->all_next = t->all;
    t->all = entry;
    t->count++;
}
