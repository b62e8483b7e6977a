/* unloads.c: the program's dlclose passed through; once a library has been
 * unmapped, cached unwind rules are no longer trusted. */
#ifndef HEAPDIFF_UNLOADS_H
#define HEAPDIFF_UNLOADS_H

#include "common.h"

/* Set once the program has unloaded a library: stacks are then taken with
 * hd_unwind_step_by_step (HEAPDIFF_UNWIND is libunwind from then on). */
extern bool hd_modules_unloaded HD_HIDDEN;
/* unw_backtrace's frames, from the caller out, by unw_step (no trace
 * cache); returns how many (at most SIZE). */
int hd_unwind_step_by_step(uintptr_t *buffer, int size) HD_HIDDEN __attribute__((noinline));

#endif
