/* The system-call instruction itself, as glibc's syscall() makes it, for the
 * calls the recorder looks at before passing them on (sandbox.c,
 * clone_calls.c): -1 with errno set on failure. */
#ifndef HEAPDIFF_RAW_SYSCALL_H
#define HEAPDIFF_RAW_SYSCALL_H

#include <errno.h>

static inline long hd_system_call(long number, long a, long b, long c, long d, long e, long f) {
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long result;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    if ((unsigned long)result > -4096ul) {
        errno = (int)-result;
        return -1;
    }
    return result;
}

#endif
