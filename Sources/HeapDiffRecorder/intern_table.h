/* intern_table.c: entries interned once and never freed, in a chained hash
 * table over arena memory: the call stacks (trace_table.c) and CPython's
 * code objects (python_code.c). The caller holds hd_lock, compares its own
 * keys along a chain, and embeds struct hd_interned first in its entries. */
#ifndef HEAPDIFF_INTERN_TABLE_H
#define HEAPDIFF_INTERN_TABLE_H

#include "mmap_arena.h"

struct hd_interned {
    struct hd_interned *chain;      /* next in its hash bucket */
    struct hd_interned *all_next;   /* next in the list of every entry, newest first */
    uint64_t hash;
};

struct hd_intern_table {
    size_t initial_buckets;         /* a power of two, set by the owner */
    struct hd_interned **buckets;   /* NULL until the first entry */
    size_t bucket_count, count;
    size_t bytes;                   /* arena bytes taken: entries and copies */
    struct hd_interned *all;        /* every entry, newest first */
    struct hd_arena arena;
};

/* The chain of entries whose hash may equal this one. */
static inline struct hd_interned *hd_intern_chain(const struct hd_intern_table *t, uint64_t hash) {
    return t->buckets ? t->buckets[hash & (t->bucket_count - 1)] : NULL;
}
/* Memory for a new entry of `size` bytes (the table grown first past 3/4
 * load; if it cannot grow, chains get longer), or NULL when there is none. */
void *hd_intern_alloc(struct hd_intern_table *t, size_t size) HD_HIDDEN;
/* LENGTH bytes of the table's arena, for data an entry refers to. */
void *hd_intern_bytes(struct hd_intern_table *t, size_t length) HD_HIDDEN;
/* Data copied into the table's arena (one byte taken for an empty copy). */
void *hd_intern_copy(struct hd_intern_table *t, const void *data, size_t length) HD_HIDDEN;
/* Files an entry from hd_intern_alloc, filled in, under its hash: it is now
 * the newest, and stays for the life of the process. */
void hd_intern_add(struct hd_intern_table *t, struct hd_interned *entry, uint64_t hash) HD_HIDDEN;
static inline size_t hd_intern_memory(const struct hd_intern_table *t) {
    return t->bytes + t->bucket_count * sizeof(struct hd_interned *);
}

#endif
