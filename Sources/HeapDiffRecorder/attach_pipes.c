/* An attach session's FIFOs. Our descriptors live far from the low numbers
 * a program expects to get back from open() after closing one (a daemon
 * reopening fd 0 on /dev/null), and are checked before each use, in case
 * the program dup2'ed over one. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include "attach_pipes.h"

enum { HIGH_FD = 512 };

bool hd_pipe_open(struct hd_pipe_end *end, const char *path, int flags) {
    int fd = open(path, flags | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return false;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, HIGH_FD);
    if (high >= 0) {
        close(fd);
        fd = high;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
        close(fd);
        return false;
    }
    *end = (struct hd_pipe_end){fd, st.st_dev, st.st_ino};
    return true;
}

bool hd_pipe_intact(const struct hd_pipe_end *end) {
    struct stat st;
    return end->fd >= 0 && fstat(end->fd, &st) == 0 && st.st_dev == end->dev && st.st_ino == end->ino;
}

void hd_pipe_close(struct hd_pipe_end *end) {
    if (hd_pipe_intact(end))
        close(end->fd);
    end->fd = -1;
}

void hd_pipe_say(const struct hd_pipe_end *end, const char *fmt, ...) {
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0 || !hd_pipe_intact(end))
        return;
    size_t length = (size_t)n < sizeof line - 1 ? (size_t)n : sizeof line - 2;
    line[length++] = '\n';
    ssize_t ignored = write(end->fd, line, length);   /* O_RDWR end: never SIGPIPE */
    (void)ignored;
}
