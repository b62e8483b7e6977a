/* Two signals a write can raise end the process by default: SIGXFSZ past
 * its file-size limit (RLIMIT_FSIZE), which programs lower for themselves
 * (OpenSSH's privilege-separated child sets it to 0 before its seccomp
 * sandbox, a service caps its own log files, a shell runs it under
 * `ulimit -f`), and SIGPIPE on a pipe nobody reads any more (a stderr piped
 * to `head`, which has exited). A snapshot, or a note on stderr, must then
 * fail, not end the program: the kernel sends either signal to the writing
 * thread, so both are blocked there for the write, and the one the write
 * raised is taken back (one already pending stays the program's). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include "quiet_write.h"

ssize_t hd_write_quietly(int fd, const void *buffer, size_t length) {
    sigset_t held, previous, pending;
    sigemptyset(&held);
    sigaddset(&held, SIGXFSZ);
    sigaddset(&held, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &held, &previous);
    if (sigpending(&pending) != 0)
        sigfillset(&pending);   /* unknown: nothing is taken back */
    ssize_t written = write(fd, buffer, length);
    int saved = errno;
    int raised = written >= 0 ? 0 : saved == EFBIG ? SIGXFSZ : saved == EPIPE ? SIGPIPE : 0;
    if (raised && !sigismember(&pending, raised) && !sigismember(&previous, raised)) {
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, raised);
        struct timespec now = {0, 0};
        (void)sigtimedwait(&one, NULL, &now);
    }
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    errno = saved;
    return written;
}
