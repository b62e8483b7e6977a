/* pointer_table.c: live block -> (trace, size). */
#ifndef HEAPDIFF_POINTER_TABLE_H
#define HEAPDIFF_POINTER_TABLE_H

#include "common.h"
#include "trace_table.h"

/* Every function here but hd_pointer_prefetch: the caller holds hd_lock. */

/* A block's size as the table keeps it. With sampling on, a block recorded
 * for the sample points it crossed carries their number above HD_SIZE_BITS
 * (hd_sample_pack) and weighs points × R bytes in its trace; one recorded
 * whole weighs its size. Callers hand the value back as they got it
 * (realloc's restore). */
enum { HD_SIZE_BITS = 48 };
void hd_pointer_insert(uintptr_t ptr, uint64_t size, struct hd_trace *trace) HD_HIDDEN;
void hd_pointer_prefetch(uintptr_t ptr) HD_HIDDEN;   /* no lock needed */
/* Puts back a block hd_pointer_remove forgot (its realloc failed). */
void hd_pointer_restore(uintptr_t ptr, uint64_t size, struct hd_trace *trace) HD_HIDDEN;
/* Forgets ptr; returns false when it was not traced. */
bool hd_pointer_remove(uintptr_t ptr, uint64_t *size, struct hd_trace **trace) HD_HIDDEN;
/* Forgets ptr a little later (recording everything only; the caller
 * checks): once the table has grown its slot is probably cold, so it is
 * prefetched and emptied ~32 frees later. Every function here acts as if
 * it had been forgotten at once. */
void hd_pointer_forget_later(uintptr_t ptr) HD_HIDDEN;
/* Does the removals still waiting: before reading the counters. */
void hd_pointer_settle(void) HD_HIDDEN;
/* Moves a live block to another trace, counted there as a new allocation
 * (its old trace sees it freed); false when ptr is not traced. */
bool hd_pointer_retrace(uintptr_t ptr, struct hd_trace *trace) HD_HIDDEN;
bool hd_pointer_contains(uintptr_t ptr) HD_HIDDEN;
/* The size a live block was entered with (packed as hd_pointer_insert took it); false when it is not in the table. */
bool hd_pointer_size(uintptr_t ptr, uint64_t *size) HD_HIDDEN;
size_t hd_pointer_table_memory(void) HD_HIDDEN;
/* Forgets every block (a new attach session: frees since the last one went unseen). */
void hd_pointer_table_clear(void) HD_HIDDEN;
/* Every live block's address. */
void hd_pointer_each(void (*visit)(uintptr_t ptr, void *context), void *context) HD_HIDDEN;
extern uint64_t hd_live_bytes_now HD_HIDDEN, hd_peak_live_bytes HD_HIDDEN;

#endif
