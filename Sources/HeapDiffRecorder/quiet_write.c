/* A write past the process's file-size limit (RLIMIT_FSIZE) raises SIGXFSZ,
 * whose default action ends the process with a core dump. Programs lower
 * that limit for themselves: OpenSSH's privilege-separated child sets it to
 * 0 before its seccomp sandbox, a service caps its own log files, a shell
 * runs it under `ulimit -f`. A snapshot, or a note on a stderr redirected to
 * a file, must then fail, not end the program: the kernel sends SIGXFSZ to
 * the writing thread, so it is blocked there for the write, and taken back
 * when the write raised it (one already pending stays the program's). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include "quiet_write.h"

ssize_t hd_write_quietly(int fd, const void *buffer, size_t length) {
    sigset_t xfsz, previous, pending;
    sigemptyset(&xfsz);
    sigaddset(&xfsz, SIGXFSZ);
    pthread_sigmask(SIG_BLOCK, &xfsz, &previous);
    bool was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGXFSZ);
    ssize_t written = write(fd, buffer, length);
    int saved = errno;
    if (written < 0 && saved == EFBIG && !was_pending && !sigismember(&previous, SIGXFSZ)) {
        struct timespec now = {0, 0};
        (void)sigtimedwait(&xfsz, NULL, &now);
    }
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    errno = saved;
    return written;
}
