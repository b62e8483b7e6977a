/* What every part of the recorder uses: visibility, branch hints, how it was
 * loaded, and the format and protocol headers shared with the analyzer. */
#ifndef HEAPDIFF_COMMON_H
#define HEAPDIFF_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "heapdiff_control.h"
#include "heapdiff_format.h"

#define HD_HIDDEN __attribute__((visibility("hidden")))
#define HD_EXPORT __attribute__((visibility("default")))
#define HD_LIKELY(x) __builtin_expect(!!(x), 1)
#define HD_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* libheapdiff-attach.so is this code built to be dlopen'ed into a running
 * process by `heapdiff attach` (see the Makefile): its constructor starts
 * nothing, and the real allocator is the one the process's modules are
 * bound to, not the next one after a preloaded library. */
#ifdef HD_LATE_LOAD
enum { hd_late_load = 1 };
#else
enum { hd_late_load = 0 };
#endif

#endif
