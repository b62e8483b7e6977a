/* The CLI-recorder protocol (include/heapdiff_control.h), compiled into
 * both libheapdiff.so and the CLI's HeapDiffFormat module. Plain system
 * calls and stack buffers only: the recorder calls it with its guard held. */
#define _GNU_SOURCE
#include "heapdiff_control.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static bool parse_number(const char *text, unsigned long max, unsigned long *out) {
    if (!*text || *text == '-' || *text == '+')
        return false;
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

/* Sizes are parsed by hand, not with strtod: its decimal point follows the
 * locale, which the traced program may have set. */
bool hd_parse_sample_rate(const char *text, unsigned long long *bytes) {
    if (!text)
        return false;
    while (*text == ' ')
        text++;
    if (!*text || !strcasecmp(text, "off") || !strcasecmp(text, "none")) {
        *bytes = 0;
        return true;
    }
    double value = 0, scale = 1;
    bool digits = false, point = false;
    for (; (*text >= '0' && *text <= '9') || (*text == '.' && !point); text++) {
        if (*text == '.') {
            point = true;
            continue;
        }
        digits = true;
        if (point)
            value += (*text - '0') * (scale /= 10);
        else if (value < 1e15)
            value = value * 10 + (*text - '0');
    }
    while (*text == ' ')
        text++;
    static const struct { const char *names[3]; double multiplier; } units[] = {
        {{"", "b", "b"}, 1},
        {{"k", "kb", "kib"}, 1024.0},
        {{"m", "mb", "mib"}, 1024.0 * 1024},
        {{"g", "gb", "gib"}, 1024.0 * 1024 * 1024},
    };
    size_t length = strlen(text);
    while (length && text[length - 1] == ' ')
        length--;
    double multiplier = 0;
    for (size_t u = 0; u < sizeof units / sizeof units[0] && !multiplier; u++)
        for (int n = 0; n < 3; n++)
            if (strlen(units[u].names[n]) == length && !strncasecmp(text, units[u].names[n], length))
                multiplier = units[u].multiplier;
    if (!digits || !multiplier || value * multiplier > HD_SAMPLE_RATE_MAX)
        return false;
    *bytes = (unsigned long long)(value * multiplier);
    return *bytes > 0 || value == 0;   /* "0.5" is no rate, "0" is off */
}

bool hd_parse_keep(const char *text, unsigned *count) {
    unsigned long n;
    if (!text || !*text || !strcasecmp(text, "all")) {
        *count = 0;
        return true;
    }
    if (!parse_number(text, HD_KEEP_MAX, &n))
        return false;
    *count = (unsigned)n;
    return true;
}

int hd_parse_signal(const char *text) {
    if (!text)
        return -1;
    if (!strcasecmp(text, "off") || !strcasecmp(text, "none") || !strcmp(text, "0"))
        return 0;
    if (!strncasecmp(text, "SIG", 3))
        text += 3;
    unsigned long n;
    int sig = -1;
    if (!strcasecmp(text, "USR1"))
        sig = SIGUSR1;
    else if (!strcasecmp(text, "USR2"))
        sig = SIGUSR2;
    else if (!strcasecmp(text, "RTMIN"))
        sig = SIGRTMIN;
    else if (!strncasecmp(text, "RTMIN+", 6) && parse_number(text + 6, 64, &n))
        sig = SIGRTMIN + (int)n;
    else if (parse_number(text, 64, &n))
        sig = (int)n;
    bool harmless = sig == SIGUSR1 || sig == SIGUSR2 || (sig >= SIGRTMIN && sig <= SIGRTMAX);
    return harmless ? sig : -1;
}

const char *hd_signal_name(int sig, char *buf, size_t cap) {
    if (sig == SIGUSR1)
        snprintf(buf, cap, "USR1");
    else if (sig == SIGUSR2)
        snprintf(buf, cap, "USR2");
    else if (sig == SIGRTMIN)
        snprintf(buf, cap, "RTMIN");
    else if (sig > SIGRTMIN && sig <= SIGRTMAX)
        snprintf(buf, cap, "RTMIN+%d", sig - SIGRTMIN);
    else
        snprintf(buf, cap, "%d", sig);
    return buf;
}

int hd_snapshot_file_name(char *buf, size_t cap, const char *program, int pid, unsigned seq, bool temporary) {
    int n = snprintf(buf, cap, temporary ? ".%s.%d.%u" HD_SNAPSHOT_SUFFIX ".tmp" : "%s.%d.%u" HD_SNAPSHOT_SUFFIX,
                     program, pid, seq);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

unsigned hd_snapshot_file_seq(const char *name, const char *program, int pid) {
    char prefix[300];
    int n = snprintf(prefix, sizeof prefix, "%s.%d.", program, pid);
    size_t suffix = strlen(HD_SNAPSHOT_SUFFIX), length = strlen(name);
    if (n < 0 || (size_t)n >= sizeof prefix || length <= (size_t)n + suffix || strncmp(name, prefix, (size_t)n) != 0 ||
        strcmp(name + length - suffix, HD_SNAPSHOT_SUFFIX) != 0)
        return 0;
    char digits[16];
    size_t count = length - (size_t)n - suffix;
    if (count >= sizeof digits)
        return 0;
    memcpy(digits, name + n, count);
    digits[count] = '\0';
    unsigned long seq;
    return parse_number(digits, 0xffffffffu, &seq) ? (unsigned)seq : 0;
}

int hd_verdicts_file_name(char *buf, size_t cap, int pid) {
    int n = snprintf(buf, cap, HD_VERDICTS_PREFIX "%d" HD_VERDICTS_SUFFIX, pid);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

int hd_verdicts_file_pid(const char *name) {
    size_t prefix = strlen(HD_VERDICTS_PREFIX), suffix = strlen(HD_VERDICTS_SUFFIX), length = strlen(name);
    if (length <= prefix + suffix || strncmp(name, HD_VERDICTS_PREFIX, prefix) != 0 ||
        strcmp(name + length - suffix, HD_VERDICTS_SUFFIX) != 0)
        return -1;
    char digits[16];
    size_t count = length - prefix - suffix;
    if (count >= sizeof digits)
        return -1;
    memcpy(digits, name + prefix, count);
    digits[count] = '\0';
    unsigned long pid;
    return parse_number(digits, 0x7fffffff, &pid) && pid > 0 ? (int)pid : -1;
}

/* ---- control socket -------------------------------------------------- */

#define REQUEST_HEADER "heapdiff-snapshot 1\n"

/* Abstract names start with a NUL byte and are not NUL-terminated: the
 * length given to bind/connect is the name's. */
static void abstract_address(const char *name, size_t name_length, struct sockaddr_un *address, socklen_t *length) {
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    memcpy(address->sun_path + 1, name, name_length);
    *length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + name_length);
}

void hd_control_address(int pid, struct sockaddr_un *address, socklen_t *length) {
    char name[32];
    int n = snprintf(name, sizeof name, HD_CONTROL_SOCKET_PREFIX "%d", pid);
    abstract_address(name, (size_t)n, address, length);
}

int hd_control_encode_request(char *buf, size_t cap, const char *label) {
    int n = snprintf(buf, cap, REQUEST_HEADER "%.*s", HD_CONTROL_MAX_LABEL, label ? label : "");
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

bool hd_control_decode_request(const char *message, size_t length, char *label, size_t label_cap) {
    size_t header = sizeof REQUEST_HEADER - 1;
    if (length < header || memcmp(message, REQUEST_HEADER, header) != 0 || length - header > HD_CONTROL_MAX_LABEL)
        return false;
    size_t n = length - header < label_cap - 1 ? length - header : label_cap - 1;
    memcpy(label, message + header, n);
    label[n] = '\0';
    return memchr(label, '\0', n) == NULL;
}

int hd_control_encode_reply(char *buf, size_t cap, bool ok, const char *text) {
    int n = snprintf(buf, cap, "%s\n%s", ok ? "ok" : "error", text);
    return n < 0 ? -1 : (size_t)n >= cap ? (int)cap - 1 : n;
}

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Waits for fd to become ready for `events` until deadline; false on timeout. */
static bool wait_ready(int fd, short events, long long deadline) {
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (r > 0)
            return true;
        if (r < 0 && errno != EINTR)
            return true;   /* let the next call report the error */
    }
}

static enum hd_control_result failed(int fd, const char *what, char *text, size_t cap) {
    snprintf(text, cap, "%s: %s", what, strerror(errno));
    if (fd >= 0)
        close(fd);
    return HD_CONTROL_FAILED;
}

enum hd_control_result hd_control_request(int pid, const char *label, int timeout_ms, char *text, size_t cap) {
    text[0] = '\0';
    long long deadline = now_ms() + timeout_ms;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return failed(-1, "socket", text, cap);
    struct sockaddr_un address;
    socklen_t length;
    hd_control_address(pid, &address, &length);
    if (connect(fd, (struct sockaddr *)&address, length) != 0) {
        if (errno == ECONNREFUSED || errno == ENOENT || errno == ECONNRESET) {
            close(fd);
            return HD_CONTROL_NO_LISTENER;
        }
        if (errno != EAGAIN && errno != EINPROGRESS)
            return failed(fd, "connect", text, cap);
        /* A full backlog: wait for the writer thread to take us. */
        if (!wait_ready(fd, POLLOUT, deadline)) {
            close(fd);
            return HD_CONTROL_TIMED_OUT;
        }
    }
    /* Anyone may bind an abstract name: believe only process pid itself. */
    struct ucred peer;
    socklen_t peer_length = sizeof peer;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &peer_length) != 0)
        return failed(fd, "SO_PEERCRED", text, cap);
    if (peer.pid != pid) {
        snprintf(text, cap, "%d", (int)peer.pid);
        close(fd);
        return HD_CONTROL_IMPOSTOR;
    }
    char message[HD_CONTROL_MAX_MESSAGE];
    int n = hd_control_encode_request(message, sizeof message, label);
    if (n < 0 || send(fd, message, (size_t)n, MSG_NOSIGNAL) != n) {
        if (errno == ECONNRESET || errno == EPIPE) {
            close(fd);
            return HD_CONTROL_NO_LISTENER;   /* the socket went away before it took the request */
        }
        return failed(fd, "send", text, cap);
    }
    for (;;) {
        if (!wait_ready(fd, POLLIN, deadline)) {
            close(fd);
            return HD_CONTROL_TIMED_OUT;
        }
        ssize_t got = recv(fd, message, sizeof message - 1, 0);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got < 0 && errno == ECONNRESET) {
            close(fd);
            return HD_CONTROL_NO_LISTENER;   /* closed with our request unread: nothing was taken */
        }
        if (got < 0)
            return failed(fd, "recv", text, cap);
        close(fd);
        message[got] = '\0';
        if (got == 0) {
            snprintf(text, cap, "the process closed the connection without answering");
            return HD_CONTROL_REFUSED;
        }
        bool ok = strncmp(message, "ok\n", 3) == 0;
        const char *body = strchr(message, '\n');
        snprintf(text, cap, "%s", body ? body + 1 : message);
        return ok ? HD_CONTROL_WRITTEN : HD_CONTROL_REFUSED;
    }
}

/* ---- report channel -------------------------------------------------- */

bool hd_report_address(const char *name, struct sockaddr_un *address, socklen_t *length) {
    size_t n = name ? strnlen(name, HD_REPORT_MAX_NAME + 1) : 0;
    if (n == 0 || n > HD_REPORT_MAX_NAME)
        return false;
    abstract_address(name, n, address, length);
    return true;
}

bool hd_report_send(const char *name, const char *kind, const char *text) {
    struct sockaddr_un address;
    socklen_t length;
    if (!hd_report_address(name, &address, &length))
        return false;
    char message[HD_REPORT_MAX_MESSAGE];
    int n = snprintf(message, sizeof message, "%s\n%s", kind, text);
    if (n < 0)
        return false;
    if ((size_t)n >= sizeof message)
        n = sizeof message - 1;
    int saved = errno;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    bool sent = fd >= 0 && sendto(fd, message, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT,
                                  (struct sockaddr *)&address, length) == n;
    if (fd >= 0)
        close(fd);
    errno = saved;
    return sent;
}

int hd_report_open(char *name, size_t cap) {
    unsigned long long nonce = 0;
    if (getrandom(&nonce, sizeof nonce, GRND_NONBLOCK) != sizeof nonce)
        nonce = (unsigned long long)now_ms() ^ ((unsigned long long)getpid() << 32);
    int n = snprintf(name, cap, "heapdiff-run.%d.%016llx", (int)getpid(), nonce);
    if (n < 0 || (size_t)n >= cap || (size_t)n > HD_REPORT_MAX_NAME) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int on = 1;
    struct sockaddr_un address;
    socklen_t length;
    hd_report_address(name, &address, &length);
    if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0 ||
        bind(fd, (struct sockaddr *)&address, length) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int hd_report_receive(int fd, struct hd_report_notice *notice) {
    char message[HD_REPORT_MAX_MESSAGE + 1];
    union {
        struct cmsghdr header;
        char space[CMSG_SPACE(sizeof(struct ucred))];
    } control;
    for (;;) {
        struct iovec io = {.iov_base = message, .iov_len = sizeof message - 1};
        struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof control};
        ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return 0;
        message[n] = '\0';
        notice->pid = notice->uid = -1;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                struct ucred cred;
                memcpy(&cred, CMSG_DATA(c), sizeof cred);
                notice->pid = (int)cred.pid;
                notice->uid = (int)cred.uid;
            }
        }
        char *newline = strchr(message, '\n');
        if (!newline || notice->pid <= 0)
            continue;   /* not ours: skip it */
        *newline = '\0';
        snprintf(notice->kind, sizeof notice->kind, "%.31s", message);
        snprintf(notice->text, sizeof notice->text, "%.1023s", newline + 1);
        return 1;
    }
}
