/* The recorder's single lock (lock.h takes it): test-and-test-and-set,
 * yielding the CPU when the holder seems preempted (on a 2-core machine spinning on a descheduled
 * holder would burn its whole time slice). No allocation, no futex setup, and
 * trivially reset in a fork child. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include "recorder.h"

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ volatile("yield" ::: "memory")
#else
#define cpu_relax() ((void)0)
#endif

int hd_lock_word;

/* Taking the lock is inlined (recorder.h); this is the wait when it is held. */
void hd_lock_contended(void) {
    int saved = errno;   /* the hooks leave errno alone on their fast paths */
    do {
        for (int spins = 0; __atomic_load_n(&hd_lock_word, __ATOMIC_RELAXED); spins++) {
            if (spins < 64)
                cpu_relax();
            else
                sched_yield();
        }
    } while (__atomic_exchange_n(&hd_lock_word, 1, __ATOMIC_ACQUIRE));
    errno = saved;
}

void hd_lock_reset(void) {
    __atomic_store_n(&hd_lock_word, 0, __ATOMIC_RELAXED);
}
