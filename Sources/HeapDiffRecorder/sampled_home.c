/* Homes for sampled blocks. Each block sampling keeps must start a page
 * (sampler.h: HD_SAMPLED_MARK), so when the real allocator put it elsewhere
 * it is moved to a block from the real memalign. That memalign is not free:
 * glibc serves it from a request a page larger, then frees the pieces before
 * and after, and a request that large first consolidates the fast bins.
 * Callgrind put it at 1.6 instructions per malloc/free pair of the churn at
 * 512KiB, a fifth of everything sampling adds. So each thread keeps the home
 * of the last sampled block it freed and hands it to its next one, and a
 * new home is made at least HD_HOME_SIZE bytes, so that one kept home fits
 * whatever small block comes next.
 *
 * Homes are the real allocator's own blocks throughout: whatever path frees
 * or reallocates one (the real functions called by code the hooks do not
 * see, malloc_usable_size) finds a block it made. A kept home is at most
 * HD_HOME_KEPT_MAX bytes, one per thread, released at the thread's end; a
 * thread that stops sampling keeps its one until then, and a fork child
 * keeps the other threads' for good, as it keeps every block they held. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include "recorder.h"
#include "sampled_home.h"
#include "sampler.h"

enum { HD_HOME_ALIGN = 4096, HD_HOME_SIZE = 1024, HD_HOME_KEPT_MAX = 4096 };

/* The kept home when it holds `size` bytes (taken: the thread has none
 * after this), else NULL. */
static void *take_kept(struct hd_sampler *s, size_t size) {
    void *home = s->kept_home;
    if (!home || hd_real_usable_size(home) < size)
        return NULL;
    s->kept_home = NULL;
    return home;
}

static void *new_home(size_t size) {
    size_t asked = size < HD_HOME_SIZE ? HD_HOME_SIZE : size;
    if (hd_real.memalign)
        return hd_real.memalign(HD_HOME_ALIGN, asked);
    if (hd_real.aligned_alloc)   /* (C11 wants a multiple of the alignment) */
        return hd_real.aligned_alloc(HD_HOME_ALIGN, (asked + HD_HOME_ALIGN - 1) & ~(size_t)(HD_HOME_ALIGN - 1));
    return NULL;
}

void *hd_home_move(struct hd_thread *t, void *p, size_t size, bool contents) {
    int saved = errno;
    int outer = hd_guard_enter(t);
    void *home = take_kept(&t->sampler, size);
    if (!home)
        home = new_home(size);
    if (home) {
        if (contents)
            memcpy(home, p, size);
        hd_real.free(p);
    }
    hd_guard_leave(t, outer);
    errno = saved;
    return home;
}

bool hd_home_keep(struct hd_sampler *s, void *p) {
    /* Only a page-start block (not one of glibc's mmapped blocks, which
     * start 16 bytes in), by a listed thread (one whose end releases it),
     * and small: a home kept is memory the program has given back. */
    if (s->kept_home || ((uintptr_t)p & (HD_HOME_ALIGN - 1)) != 0 || s->state != HD_SAMPLER_LISTED ||
        !hd_real_usable_size || hd_real_usable_size(p) > HD_HOME_KEPT_MAX)
        return false;
    s->kept_home = p;
    return true;
}

void hd_home_release(struct hd_sampler *s) {
    void *home = s->kept_home;
    s->kept_home = NULL;
    if (home)
        hd_real.free(home);
}

/* ---- what a home changes: malloc_usable_size ------------------------- */
/* A home is a bigger block than the one the program's allocator would have
 * made (at least HD_HOME_SIZE bytes; a whole page from jemalloc), and a
 * program told its room would use it or give it back: redis trims a string
 * with room to spare by realloc, which draws its sample again, and so lost
 * nearly every sample of its values. A block sampling recorded therefore
 * reports the size it was asked for, the least any allocator may report;
 * every other block the allocator's own answer, from the function the
 * program would have called. */
static __attribute__((noinline)) size_t usable_size_general(void *p) {
    if (HD_UNLIKELY(hd_is_bootstrap(p)))
        return hd_bootstrap_size(p);
    size_t (*next)(void *) = __atomic_load_n(&hd_next_usable_size, __ATOMIC_ACQUIRE);
    if (HD_UNLIKELY(!next)) {
        hd_resolve_once();
        if (!(next = __atomic_load_n(&hd_next_usable_size, __ATOMIC_ACQUIRE)))
            return 0;
    }
    size_t usable = next(p);
    struct hd_thread *t = hd_thread();
    uint64_t asked;
    if (p && hd_config.sample_rate && hd_forgetting(t) && hd_maybe_sampled(p)) {
        int outer = hd_guard_enter(t);
        if (hd_record_asked(p, &asked) && asked < usable)
            usable = (size_t)asked;
        hd_guard_leave(t, outer);
    }
    return usable;
}

/* Every block not at a page start (where sampled blocks are) goes straight
 * on, as free's fast path does. */
HD_EXPORT size_t malloc_usable_size(void *p) {
    size_t (*next)(void *) = __atomic_load_n(&hd_next_usable_size, __ATOMIC_RELAXED);
    if (HD_LIKELY(((uintptr_t)p & hd_free_mask) != 0 && next != NULL))
        return next(p);
    return usable_size_general(p);
}
