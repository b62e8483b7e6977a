/* cxx_operators.c: C++'s global operator new and delete. */
#ifndef HEAPDIFF_CXX_OPERATORS_H
#define HEAPDIFF_CXX_OPERATORS_H

#include <stddef.h>
#include "common.h"

/* X(symbol, shape): one line per operator; a shape's parameters are
 * SHAPE_PARAMETERS (cxx_operators.c), its kind HD_CXX_RELEASES_SHAPE. */
#define HD_CXX_OPERATORS(X)                                                   \
    X(_Znwm, NEW) X(_Znam, NEW)                                               \
    X(_ZnwmRKSt9nothrow_t, NEW_NOTHROW) X(_ZnamRKSt9nothrow_t, NEW_NOTHROW)   \
    X(_ZnwmSt11align_val_t, NEW_ALIGNED) X(_ZnamSt11align_val_t, NEW_ALIGNED) \
    X(_ZnwmSt11align_val_tRKSt9nothrow_t, NEW_ALIGNED_NOTHROW)                \
    X(_ZnamSt11align_val_tRKSt9nothrow_t, NEW_ALIGNED_NOTHROW)                \
    X(_ZdlPv, DELETE) X(_ZdaPv, DELETE)                                       \
    X(_ZdlPvm, DELETE_SIZED) X(_ZdaPvm, DELETE_SIZED)                         \
    X(_ZdlPvRKSt9nothrow_t, DELETE_NOTHROW) X(_ZdaPvRKSt9nothrow_t, DELETE_NOTHROW) \
    X(_ZdlPvSt11align_val_t, DELETE_ALIGNED) X(_ZdaPvSt11align_val_t, DELETE_ALIGNED) \
    X(_ZdlPvmSt11align_val_t, DELETE_SIZED_ALIGNED) X(_ZdaPvmSt11align_val_t, DELETE_SIZED_ALIGNED) \
    X(_ZdlPvSt11align_val_tRKSt9nothrow_t, DELETE_ALIGNED_NOTHROW)            \
    X(_ZdaPvSt11align_val_tRKSt9nothrow_t, DELETE_ALIGNED_NOTHROW)

/* Whether an operator of each shape releases a block (got_hooks.c switches
 * those first). */
#define HD_CXX_RELEASES_NEW false
#define HD_CXX_RELEASES_NEW_NOTHROW false
#define HD_CXX_RELEASES_NEW_ALIGNED false
#define HD_CXX_RELEASES_NEW_ALIGNED_NOTHROW false
#define HD_CXX_RELEASES_DELETE true
#define HD_CXX_RELEASES_DELETE_SIZED true
#define HD_CXX_RELEASES_DELETE_NOTHROW true
#define HD_CXX_RELEASES_DELETE_ALIGNED true
#define HD_CXX_RELEASES_DELETE_SIZED_ALIGNED true
#define HD_CXX_RELEASES_DELETE_ALIGNED_NOTHROW true

/* Whether an operator of each shape passes the allocator a size or an
 * alignment it may rely on to find the block's size class (got_hooks.c
 * keeps those with the recorder after a sampled attach). */
#define HD_CXX_SIZED_NEW false
#define HD_CXX_SIZED_NEW_NOTHROW false
#define HD_CXX_SIZED_NEW_ALIGNED false
#define HD_CXX_SIZED_NEW_ALIGNED_NOTHROW false
#define HD_CXX_SIZED_DELETE false
#define HD_CXX_SIZED_DELETE_SIZED true
#define HD_CXX_SIZED_DELETE_NOTHROW false
#define HD_CXX_SIZED_DELETE_ALIGNED true
#define HD_CXX_SIZED_DELETE_SIZED_ALIGNED true
#define HD_CXX_SIZED_DELETE_ALIGNED_NOTHROW true

/* The allocator's own operator of each name, which a failed new is passed
 * on to (preloaded: the next definition; attached: got_hooks.c fills these
 * in with what the process is bound to). */
#define HD_CXX_NEXT_FIELD(name, shape) void *name;
extern struct hd_cxx_next {
    HD_CXX_OPERATORS(HD_CXX_NEXT_FIELD)
} hd_cxx_next HD_HIDDEN;
#undef HD_CXX_NEXT_FIELD

/* heapdiff attach: the exported operators lead through the hooks from now
 * on (the process's operators are its allocator's own; got_hooks.c points
 * the GOT entries at them). */
void hd_cxx_operators_take_over(void) HD_HIDDEN;

#endif
