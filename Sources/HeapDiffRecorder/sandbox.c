/* A program that confines itself with seccomp (OpenSSH's privilege-separated
 * child, a parser run under libseccomp, a browser's renderer) lets itself
 * make only the system calls its own work needs, and is killed by SIGSYS at
 * any other: a snapshot's openat, a rename, the writer thread's ppoll, an
 * exit handler's sigaction. So the two ways in, prctl(PR_SET_SECCOMP) and
 * the seccomp system call (libseccomp calls it through syscall()), are
 * passed through here, and before the filter goes in the recorder writes a
 * last snapshot and stops (writer_thread.c: hd_before_seccomp): from then on it
 * makes no system call of its own. Not seen: a filter installed by raw
 * system-call instructions (Chromium's sandbox), or inherited (systemd's
 * SystemCallFilter=, which allows what a service's start-up needs anyway).
 *
 * Both are passed on with the system-call instruction, as glibc's syscall()
 * and prctl() do (neither is a cancellation point). syscall() is also where
 * a program clones itself by hand (vsftpd): clone_calls.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include "control.h"
#include "raw_syscall.h"
#include "writer_thread.h"

static bool confines(long prctl_option, long mode) {
    return prctl_option == PR_SET_SECCOMP && (mode == SECCOMP_MODE_STRICT || mode == SECCOMP_MODE_FILTER);
}

HD_EXPORT int prctl(int option, ...) {
    va_list ap;
    va_start(ap, option);
    long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long), d = va_arg(ap, long);
    va_end(ap);
    if (confines(option, a))
        hd_before_seccomp();
    return (int)hd_system_call(SYS_prctl, option, a, b, c, d, 0);
}

/* (Six arguments read whatever the caller passed: on x86-64 the first five
 * are registers and the sixth a stack word above the return address, as
 * glibc's syscall() reads them.) */
HD_EXPORT long syscall(long number, ...) {
    va_list ap;
    va_start(ap, number);
    long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long), d = va_arg(ap, long),
         e = va_arg(ap, long), f = va_arg(ap, long);
    va_end(ap);
    if ((number == SYS_seccomp && (a == SECCOMP_SET_MODE_STRICT || a == SECCOMP_SET_MODE_FILTER)) ||
        (number == SYS_prctl && confines(a, b)))
        hd_before_seccomp();
    if (number == SYS_clone || number == SYS_clone3)
        return hd_clone_syscall(number, a, b, c, d, e, f);   /* clone_calls.c */
    return hd_system_call(number, a, b, c, d, e, f);
}
