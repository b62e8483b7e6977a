/* sampled_home.c: where a block sampling keeps is moved, so that free's
 * fast path finds it by its address (sampler.h: HD_SAMPLED_MARK). */
#ifndef HEAPDIFF_SAMPLED_HOME_H
#define HEAPDIFF_SAMPLED_HOME_H

#include "thread_state.h"

/* A block at the start of a page from the real allocator, with p's first
 * `size` bytes when `contents` (calloc's zeros, realloc's data), p itself
 * released; NULL, p untouched, when no memory is left for the move. Keeps
 * errno. Called outside the guard. */
void *hd_home_move(struct hd_thread *t, void *p, size_t size, bool contents) HD_HIDDEN;
/* At the free of a sampled block the table held: true when its home is
 * kept for this thread's next sampled block instead of released (the
 * caller then does not free it). Called under the guard. */
bool hd_home_keep(struct hd_sampler *s, void *p) HD_HIDDEN;
/* The thread's kept home released (its end; caller holds the guard). */
void hd_home_release(struct hd_sampler *s) HD_HIDDEN;

#endif
