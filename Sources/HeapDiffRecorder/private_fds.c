/* Descriptors the recorder keeps open in a process that is not its own.
 *
 * A program may close every descriptor it did not open (daemons do) and
 * reuse the numbers. The recorder's descriptors therefore sit above the
 * numbers a program hands out first, close-on-exec, and are identified by
 * their inode before use. That includes libunwind's: it keeps a pipe to
 * validate addresses and, when its numbers were closed under it, reads and
 * writes a byte on whatever file now has them. Its pipe2 call, made while
 * the recorder runs on this thread, goes through here and is moved high. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "recorder.h"
#include "thread_state.h"

enum { PRIVATE_FD_FLOOR = 700 };

/* Called right after fd was made. The low number is closed only while it
 * still holds the same file: a program closing every descriptor may have
 * taken it back in between. */
int hd_private_fd(int fd) {
    struct stat made;
    if (fstat(fd, &made) != 0)
        return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, PRIVATE_FD_FLOOR);
    if (high < 0)
        return fd;   /* a low RLIMIT_NOFILE: keep the number we have */
    if (hd_fd_is(fd, made.st_dev, made.st_ino))
        close(fd);
    return high;
}

bool hd_fd_is(int fd, dev_t dev, ino_t ino) {
    struct stat st;
    return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

/* The program's own calls pass straight to the kernel, as glibc's would. */
HD_EXPORT int pipe2(int fds[2], int flags) {
    int r = (int)syscall(SYS_pipe2, fds, flags);
    if (r == 0 && (hd_thread()->guard & HD_GUARD_HELD)) {
        int saved = errno;
        fds[0] = hd_private_fd(fds[0]);
        fds[1] = hd_private_fd(fds[1]);
        errno = saved;
    }
    return r;
}
/* Our pipe2 by a name the global scope cannot bind elsewhere: attached, the
 * library's own references to "pipe2" lead to libc's (got_hooks.c points
 * libunwind's entry here: hd_got_bind_own). */
__typeof__(pipe2) hd_private_pipe2 __attribute__((alias("pipe2"), copy(pipe2)));
