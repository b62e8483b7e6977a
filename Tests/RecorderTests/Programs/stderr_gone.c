/* A program whose stderr is gone by the time heapdiff has something to say:
 * its exit snapshot cannot be written (it removes the output directory,
 * HEAPDIFF_OUTPUT, which it is given empty), so the recorder warns.
 *
 *   stderr_gone pipe        its stderr is now a pipe whose reader is gone
 *   stderr_gone wait        it waits 300 ms, long enough for the reader of
 *                           the pipe it was started with to be gone (run it
 *                           as `stderr_gone wait 2>&1 >/dev/null | true`):
 *                           the warning would raise SIGPIPE and end it
 *   stderr_gone reuse FILE  it closed stderr, and its next file, FILE,
 *                           got fd 2: the warning would be written into it
 * Either way it exits 0, and FILE holds only what it wrote. */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *kept[20];

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_DFL);   /* as a program started from a shell has it */
    sigset_t pipe_signal;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    sigprocmask(SIG_UNBLOCK, &pipe_signal, NULL);
    for (int i = 0; i < 20; i++)
        kept[i] = malloc(100);
    const char *out = getenv("HEAPDIFF_OUTPUT");
    if (!out || rmdir(out) != 0)
        return 2;
    if (argc > 1 && strcmp(argv[1], "pipe") == 0) {
        int ends[2];
        if (pipe(ends) != 0 || dup2(ends[1], 2) < 0)
            return 3;
        close(ends[0]);
        close(ends[1]);
    } else if (argc > 1 && strcmp(argv[1], "wait") == 0) {
        usleep(300000);
    } else if (argc > 2 && strcmp(argv[1], "reuse") == 0) {
        close(2);
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd != 2 || write(fd, "data\n", 5) != 5)
            return 4;
    } else {
        return 5;
    }
    return 0;
}
