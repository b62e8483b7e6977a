/* A program that locks its memory with mlockall (corosync, keepalived,
 * chronyd -m, real-time audio) has every mapping made after MCL_FUTURE
 * faulted in whole and locked, the recorder's too. Those are mapped at their
 * full first size to be touched as they fill (a thread's stack memo alone is
 * 1.7 MiB), and locked they count against the program's RLIMIT_MEMLOCK, so
 * that its own mlock or mmap could fail where it would not bare. So
 * mlockall and munlockall are looked at: while MCL_FUTURE holds,
 * mmap_arena.c maps the recorder's pages unlocked (nothing faulted in), and
 * after MCL_CURRENT the recorder's mappings are unlocked again (what the
 * call faulted in stays resident, but is not the program's to account). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include "recorder.h"
#include "proc_self.h"
#include "raw_syscall.h"

bool hd_future_locked;

HD_EXPORT int mlockall(int flags) {
    int r = (int)hd_system_call(SYS_mlockall, flags, 0, 0, 0, 0, 0);
    if (r == 0) {
        if (flags & MCL_FUTURE)
            __atomic_store_n(&hd_future_locked, true, __ATOMIC_RELEASE);
        if (flags & MCL_CURRENT)
            hd_pages_unlock_all();
    }
    return r;
}

HD_EXPORT int munlockall(void) {
    int r = (int)hd_system_call(SYS_munlockall, 0, 0, 0, 0, 0, 0);
    if (r == 0)
        __atomic_store_n(&hd_future_locked, false, __ATOMIC_RELEASE);
    return r;
}

/* Attached to a process that locked its memory before: mapped unlocked from
 * the start, as if the call had been seen. VmLck only says something is
 * locked; if it was not MCL_FUTURE, that costs two system calls a mapping. */
void hd_memory_locks_attach(void) {
    char status[4096];
    status[hd_proc_self_read("status", status, sizeof status - 1)] = '\0';
    const char *locked = strstr(status, "\nVmLck:");
    if (locked && strtoul(locked + 7, NULL, 10) > 0)
        __atomic_store_n(&hd_future_locked, true, __ATOMIC_RELEASE);
}
