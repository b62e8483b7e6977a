/* The recorder's single lock (lock.c waits when it is held).
 *
 * One lock guards the trace table, the pointer table and every counter.
 * Critical sections are a few table operations (the stack is captured before
 * taking it), so a single spinlock costs less than sharded locks plus atomic
 * counters, and a snapshot is one consistent cut by construction. Taking it
 * uncontended is one exchange, inlined into the hooks. */
#ifndef HEAPDIFF_LOCK_H
#define HEAPDIFF_LOCK_H

extern int hd_lock_word __attribute__((visibility("hidden")));
void hd_lock_contended(void) __attribute__((visibility("hidden")));
void hd_lock_reset(void) __attribute__((visibility("hidden")));   /* fork child: the holder may be gone */

static inline void hd_lock(void) {
    if (__builtin_expect(__atomic_exchange_n(&hd_lock_word, 1, __ATOMIC_ACQUIRE), 0))
        hd_lock_contended();
}

static inline void hd_unlock(void) {
    __atomic_store_n(&hd_lock_word, 0, __ATOMIC_RELEASE);
}

#endif
