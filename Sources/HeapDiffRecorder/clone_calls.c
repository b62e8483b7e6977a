/* A process made by clone without CLONE_VM is a fork that runs no fork
 * handlers (glibc runs them in fork() alone). vsftpd starts each FTP session
 * so, syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET |
 * SIGCHLD, NULL), to give it namespaces of its own; sandboxes and container
 * tools call glibc's clone() with a function to run. Such a child inherited
 * the recorder's lock as the writer thread, which does not exist in it, may
 * have held it (its first malloc then waited for ever), and was never
 * recorded as itself: its pid is not the one noted at start-up, so no exit
 * snapshot was written and its heap went unseen. So the recorder's fork
 * handlers run around such a clone (control.c: hd_raw_fork_*). A clone that
 * shares memory (a thread) or descriptors, suspends the parent
 * (CLONE_VFORK) or gives syscall's child a stack of its own is passed on
 * untouched. */
#define _GNU_SOURCE
#include <linux/sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/syscall.h>
#include "control.h"
#include "raw_syscall.h"
#include "real_alloc.h"

static int (*real_clone)(int (*)(void *), void *, int, void *, ...);

HD_EXPORT int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...);

void hd_clone_calls_init(void) {
    real_clone = (int (*)(int (*)(void *), void *, int, void *, ...))hd_next_definition("clone", (void *)clone);
}

/* The flags of a clone that is no fork: shared memory (a thread); CLONE_VFORK
 * (the parent would hold the recorder's locks until the child executes or
 * ends, and its other threads wait meanwhile); CLONE_FILES (the child's
 * handler closes the parent's control socket, which a shared descriptor
 * table would close for both). */
#define NOT_A_FORK (CLONE_VM | CLONE_VFORK | CLONE_FILES)

static bool copies_memory(long number, long a, long b) {
    if (number == SYS_clone)
        return !(a & NOT_A_FORK) && b == 0;   /* flags, the child's stack */
    const struct clone_args *args = (const struct clone_args *)a;
    return number == SYS_clone3 && args && (size_t)b >= offsetof(struct clone_args, tls) &&
           !(args->flags & NOT_A_FORK) && args->stack == 0;
}

long hd_clone_syscall(long number, long a, long b, long c, long d, long e, long f) {
    if (!copies_memory(number, a, b) || !hd_raw_fork_prepare())
        return hd_system_call(number, a, b, c, d, e, f);
    long r = hd_system_call(number, a, b, c, d, e, f);
    int saved = errno;
    if (r == 0)
        hd_raw_fork_child();
    else
        hd_raw_fork_parent();
    errno = saved;
    return r;
}

/* Where the child starts: the caller's function and argument, read from the
 * child's copy of the parent's stack. */
struct start {
    int (*fn)(void *);
    void *arg;
};

static int start_child(void *start) {
    struct start *s = start;
    hd_raw_fork_child();
    int status = s->fn(s->arg);
    /* glibc ends the child with the exit system call: no exit handler runs. */
    hd_snapshot_before_end("_exit", true);
    return status;
}

HD_EXPORT int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...) {
    va_list ap;
    va_start(ap, arg);
    void *parent_tid = va_arg(ap, void *), *tls = va_arg(ap, void *), *child_tid = va_arg(ap, void *);
    va_end(ap);
    if (!real_clone) {
        errno = ENOSYS;
        return -1;
    }
    if ((flags & NOT_A_FORK) || !hd_raw_fork_prepare())
        return real_clone(fn, stack, flags, arg, parent_tid, tls, child_tid);
    struct start s = {fn, arg};
    int r = real_clone(start_child, stack, flags, &s, parent_tid, tls, child_tid);
    int saved = errno;
    hd_raw_fork_parent();
    errno = saved;
    return r;
}
