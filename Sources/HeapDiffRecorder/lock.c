/* The recorder's single lock: test-and-test-and-set, yielding the CPU when
 * the holder seems preempted (on a 2-core machine spinning on a descheduled
 * holder would burn its whole time slice). No allocation, no futex setup, and
 * trivially reset in a fork child. */
#define _GNU_SOURCE
#include <sched.h>
#include "recorder.h"

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ volatile("yield" ::: "memory")
#else
#define cpu_relax() ((void)0)
#endif

static int locked;

void hd_lock(void) {
    for (;;) {
        if (!__atomic_exchange_n(&locked, 1, __ATOMIC_ACQUIRE))
            return;
        for (int spins = 0; __atomic_load_n(&locked, __ATOMIC_RELAXED); spins++) {
            if (spins < 64)
                cpu_relax();
            else
                sched_yield();
        }
    }
}

void hd_unlock(void) {
    __atomic_store_n(&locked, 0, __ATOMIC_RELEASE);
}

void hd_lock_reset(void) {
    __atomic_store_n(&locked, 0, __ATOMIC_RELAXED);
}
