/* record.c: the one recording function every allocation hook calls, and the
 * recorder's state. */
#ifndef HEAPDIFF_RECORD_H
#define HEAPDIFF_RECORD_H

#include "common.h"
#include "trace_table.h"

/* UNRESOLVED until a hook first runs; RESOLVING while dlsym finds the real
 * allocator (the bootstrap arena serves meanwhile); PASSTHROUGH; then
 * RECORDING once start-up is complete and the configuration allows it. */
enum { HD_STATE_UNRESOLVED, HD_STATE_RESOLVING, HD_STATE_PASSTHROUGH, HD_STATE_RECORDING };
extern int hd_state HD_HIDDEN;
void hd_record_init(void) HD_HIDDEN;
/* HEAPDIFF_STATS: the tables' sizes and the recorder's memory, on stderr. */
void hd_record_report(void) HD_HIDDEN;
/* Whether a code address is the recorder's own. */
extern uintptr_t hd_self_start HD_HIDDEN, hd_self_end HD_HIDDEN;
static inline bool hd_is_self(uintptr_t ip) {
    return ip - hd_self_start < hd_self_end - hd_self_start;
}
/* Files a new block under the stack hd_capture_stack() (capture.h) found;
 * t: the allocating thread's state (its Python frames, its trace cache). */
struct hd_stack;
struct hd_thread;
void hd_record_alloc(struct hd_thread *t, void *ptr, size_t size, const struct hd_stack *stack) HD_HIDDEN;
/* Forgets ptr before it is released; reports what it was for realloc. */
bool hd_record_free(void *ptr, uint64_t *size, struct hd_trace **trace) HD_HIDDEN;
/* The bytes a recorded live block was asked for (its size, without the
 * sample points packed above it); false when it is not recorded. */
bool hd_record_asked(void *ptr, uint64_t *bytes) HD_HIDDEN;
/* A free (the hooks'): the same, its removal perhaps a little later
 * (hd_pointer_forget_later). With sampling, the removal is at once, and
 * true says the table held the block (a sampled one); false otherwise. */
bool hd_record_free_later(void *ptr) HD_HIDDEN;
/* Puts back a block whose realloc failed: live again, not a new allocation. */
void hd_record_restore(void *ptr, uint64_t size, struct hd_trace *trace) HD_HIDDEN;
/* A live block handed out again without the allocator (an object taken
 * from a CPython free list): charged from now on to the stack
 * hd_capture_stack() found, as a new allocation there. Untraced blocks are
 * left alone. */
void hd_record_reuse(struct hd_thread *t, void *ptr, const struct hd_stack *stack) HD_HIDDEN;

#endif
