/* The writer thread's end of `heapdiff snapshot PID` (protocol:
 * include/heapdiff_control.h, docs/PROTOCOL.md), and the notices sent to
 * `heapdiff run`.
 *
 * The listening socket is the recorder's, in a process that is not: the
 * program may close every descriptor it did not open (daemons do) and reuse
 * the number. So the socket sits on a high descriptor number, close-on-exec,
 * and is identified by its inode before every use; a number that no longer
 * holds our socket is forgotten, never closed or read, and a new socket is
 * made. A request can hold the thread for at most HD_CONTROL_REQUEST_WAIT_MS. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "heapdiff_control.h"
#include "recorder.h"
#include "proc_self.h"

bool hd_listener_is_ours(const struct hd_listener *l) {
    return l->fd >= 0 && hd_fd_is(l->fd, l->dev, l->ino);
}

/* Warns once; a failure may be passing (a program closing every descriptor
 * as we made ours), so the writer thread tries again on its next tick. */
static void cannot_listen(struct hd_listener *l, const char *what) {
    if (!l->warned)
        hd_warn("cannot listen on the control socket heapdiff.%d (%s: %s); `heapdiff snapshot %d` cannot reach "
                "this process until it can", (int)hd_own_pid(), what, strerror(errno), (int)hd_own_pid());
    l->warned = true;
}

void hd_listener_open(struct hd_listener *l) {
    l->fd = -1;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        cannot_listen(l, "socket");
        return;
    }
    /* Moved high before it is bound: the number a program may close and
     * reuse is never the one that listens. */
    fd = hd_private_fd(fd);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
        errno = EBADF;
        cannot_listen(l, "socket");
        return;   /* the program took the number: not ours to close */
    }
    struct sockaddr_un address;
    socklen_t length;
    hd_control_address(hd_own_pid(), &address, &length);
    /* EADDRINUSE: another process holds heapdiff.PID; the CLI checks whom
     * it reaches, so the squatter learns nothing. */
    if (bind(fd, (struct sockaddr *)&address, length) != 0 || listen(fd, 8) != 0) {
        cannot_listen(l, "bind");
        if (hd_fd_is(fd, st.st_dev, st.st_ino))
            close(fd);
        return;
    }
    l->fd = fd;
    l->dev = st.st_dev;
    l->ino = st.st_ino;
}

void hd_listener_drop_inherited(struct hd_listener *l) {
    if (hd_listener_is_ours(l))
        close(l->fd);
    l->fd = -1;
    l->warned = false;
}

/* Same user, or root: anyone else only learns that they may not ask. */
static bool may_ask(int fd, char *why, size_t cap) {
    struct ucred peer;
    socklen_t length = sizeof peer;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0) {
        snprintf(why, cap, "cannot read the requester's credentials: %s", strerror(errno));
        return false;
    }
    if (peer.uid == 0 || peer.uid == geteuid() || peer.uid == getuid())
        return true;
    snprintf(why, cap, "only uid %u or root may ask process %d for a snapshot", (unsigned)geteuid(), (int)hd_own_pid());
    return false;
}

static void answer(int fd, bool ok, const char *text) {
    char reply[HD_CONTROL_MAX_MESSAGE];
    int n = hd_control_encode_reply(reply, sizeof reply, ok, text);
    if (n > 0)
        (void)send(fd, reply, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* One connection: a request within the wait, a snapshot, one reply. */
static void serve(int fd, hd_request_snapshot take) {
    char text[4400];
    if (!may_ask(fd, text, sizeof text)) {
        answer(fd, false, text);
        return;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int ready;
    do
        ready = poll(&p, 1, HD_CONTROL_REQUEST_WAIT_MS);
    while (ready < 0 && errno == EINTR);
    if (ready <= 0)
        return;   /* nothing asked in time */
    char message[HD_CONTROL_MAX_MESSAGE];
    ssize_t n = recv(fd, message, sizeof message, MSG_DONTWAIT);
    char label[HD_CONTROL_MAX_LABEL + 1];
    if (n <= 0 || !hd_control_decode_request(message, (size_t)n, label, sizeof label)) {
        answer(fd, false, "not a heapdiff snapshot request");
        return;
    }
    bool ok = take(label, text, sizeof text) == 0;
    answer(fd, ok, text);
}

void hd_listener_serve(struct hd_listener *l, hd_request_snapshot take) {
    for (int served = 0; served < 8 && hd_listener_is_ours(l); served++) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            return;
        serve(fd, take);
        close(fd);
    }
}

void hd_report(const char *kind, const char *fmt, ...) {
    if (!hd_config.report_name[0])
        return;
    char text[HD_REPORT_MAX_MESSAGE - 32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    hd_report_send(hd_config.report_name, kind, text);
}
