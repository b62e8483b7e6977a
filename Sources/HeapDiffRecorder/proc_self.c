/* The process's own /proc files, reached through a descriptor of /proc
 * opened at start-up: a program that confines itself with chroot (Postfix's
 * smtpd, pickup and cleanup; vsftpd; named -t) no longer has /proc by path,
 * yet its snapshots still need its executable's path (to symbolize its
 * frames), its command line and its RSS, and got_hooks.c still needs the
 * protection of a GOT page from /proc/self/maps. "self" is looked up in the
 * descriptor's procfs at each use, so a forked child reads its own files;
 * and it is the process's pid in that procfs's pid namespace, the one
 * heapdiff sees, also for a process that went into a namespace of its own
 * (unshare --pid --fork PROGRAM, whose getpid() is 1). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "recorder.h"
#include "private_fds.h"
#include "proc_self.h"

static int proc_fd = -1;
static dev_t proc_dev;
static ino_t proc_ino;

void hd_proc_self_open(void) {
    if (hd_fd_is(__atomic_load_n(&proc_fd, __ATOMIC_ACQUIRE), proc_dev, proc_ino))
        return;
    int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    fd = hd_private_fd(fd);
    int old = __atomic_exchange_n(&proc_fd, -1, __ATOMIC_ACQ_REL);
    if (old >= 0 && hd_fd_is(old, proc_dev, proc_ino))
        close(old);
    proc_dev = st.st_dev;
    proc_ino = st.st_ino;
    __atomic_store_n(&proc_fd, fd, __ATOMIC_RELEASE);
}

void hd_proc_self_close(void) {
    int fd = __atomic_exchange_n(&proc_fd, -1, __ATOMIC_ACQ_REL);
    if (fd >= 0 && hd_fd_is(fd, proc_dev, proc_ino))
        close(fd);
}

/* Our descriptor when the program has not closed it (daemons close every
 * descriptor they did not open); else /proc by path once more, which a
 * chrooted process no longer has. */
static int proc_dir(void) {
    int fd = __atomic_load_n(&proc_fd, __ATOMIC_ACQUIRE);
    if (hd_fd_is(fd, proc_dev, proc_ino))
        return fd;
    hd_proc_self_open();
    fd = __atomic_load_n(&proc_fd, __ATOMIC_ACQUIRE);
    return fd >= 0 ? fd : AT_FDCWD;   /* AT_FDCWD: "self/…" fails as a path would */
}

static int open_self(const char *name) {
    char path[64] = "self/";
    strncat(path, name, sizeof path - 6);
    int dir = proc_dir();
    if (dir == AT_FDCWD) {
        char absolute[70] = "/proc/";
        strcat(absolute, path);
        return open(absolute, O_RDONLY | O_CLOEXEC);
    }
    return openat(dir, path, O_RDONLY | O_CLOEXEC);
}

size_t hd_proc_self_read(const char *name, char *buf, size_t cap) {
    int fd = open_self(name);
    if (fd < 0)
        return 0;
    size_t len = 0;
    while (len < cap) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    return len;
}

size_t hd_proc_self_exe(char *buf, size_t cap) {
    int dir = proc_dir();
    ssize_t n = dir == AT_FDCWD ? readlink("/proc/self/exe", buf, cap - 1) : readlinkat(dir, "self/exe", buf, cap - 1);
    /* Replaced while it ran (a package upgrade): the kernel says "PATH
     * (deleted)"; the path it was loaded from is what the loader names. */
    static const char deleted[] = " (deleted)";
    if (n >= (ssize_t)sizeof deleted && memcmp(buf + n - (sizeof deleted - 1), deleted, sizeof deleted - 1) == 0)
        n -= (ssize_t)(sizeof deleted - 1);
    buf[n > 0 ? n : 0] = '\0';
    return n > 0 ? (size_t)n : 0;
}

pid_t hd_own_pid(void) {
    static pid_t inside, outside;   /* the last answer, for the getpid() it was given at */
    pid_t now = (pid_t)syscall(SYS_getpid);
    if (now == __atomic_load_n(&inside, __ATOMIC_ACQUIRE))
        return __atomic_load_n(&outside, __ATOMIC_ACQUIRE);
    char self[24];
    int dir = proc_dir();
    ssize_t n = dir == AT_FDCWD ? -1 : readlinkat(dir, "self", self, sizeof self - 1);
    pid_t pid = 0;
    for (ssize_t i = 0; i < n && self[i] >= '0' && self[i] <= '9'; i++)
        pid = pid * 10 + (self[i] - '0');
    __atomic_store_n(&outside, pid > 0 ? pid : now, __ATOMIC_RELEASE);
    __atomic_store_n(&inside, now, __ATOMIC_RELEASE);
    return pid > 0 ? pid : now;
}

bool hd_maps_load(struct hd_maps *m) {
    int fd = open_self("maps");
    if (fd < 0)
        return false;
    m->length = 0;
    for (;;) {
        if (m->length + 4096 > m->capacity) {
            size_t capacity = m->capacity ? m->capacity * 2 : 1 << 20;
            char *bigger = hd_pages_alloc(capacity);
            if (!bigger) {
                close(fd);
                return false;
            }
            if (m->text)
                memcpy(bigger, m->text, m->length);
            hd_pages_free(m->text, m->capacity);
            m->text = bigger;
            m->capacity = capacity;
        }
        ssize_t n = read(fd, m->text + m->length, m->capacity - m->length - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        m->length += (size_t)n;
    }
    close(fd);
    m->text[m->length] = '\0';
    return m->length > 0;
}

static uintptr_t parse_hex(const char **p) {
    uintptr_t v = 0;
    for (;; (*p)++) {
        char c = **p;
        int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (digit < 0)
            return v;
        v = v * 16 + (uintptr_t)digit;
    }
}

/* PROT_* of the mapping that holds address, -1 when none does. */
int hd_maps_protection(const struct hd_maps *m, uintptr_t address) {
    for (const char *line = m->text; line && *line;) {
        const char *p = line;
        uintptr_t start = parse_hex(&p);
        if (*p++ != '-')
            return -1;
        uintptr_t end = parse_hex(&p);
        if (*p++ != ' ')
            return -1;
        if (address >= start && address < end)
            return (p[0] == 'r' ? PROT_READ : 0) | (p[1] == 'w' ? PROT_WRITE : 0) | (p[2] == 'x' ? PROT_EXEC : 0);
        line = strchr(p, '\n');
        if (line)
            line++;
    }
    return -1;
}
