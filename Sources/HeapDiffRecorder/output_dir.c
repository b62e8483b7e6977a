/* The output directory (HEAPDIFF_OUTPUT, or an attach session's): made
 * absolute and created at start-up, held open as a descriptor so that a
 * process that later switches user or working directory still writes
 * there, and its helpers/ subdirectory for helper processes' snapshots;
 * and which periodic snapshots it keeps (HEAPDIFF_KEEP). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "recorder.h"
#include "proc_self.h"
#include "snapshot.h"

bool hd_helpers_directory(int dir) {
    /* Like the output directory: 1733 when made by root, so that processes
     * that switched user can add their files too; 0700 otherwise. */
    bool shared = geteuid() == 0;
    if (mkdirat(dir, HD_HELPERS_SUBDIRECTORY, 0700) == 0) {
        if (shared)
            fchmodat(dir, HD_HELPERS_SUBDIRECTORY, 01733, 0);
    } else if (errno != EEXIST) {
        return false;
    }
    /* Only a real directory of our own, or root's shared one: never a link
     * planted in its place. */
    struct stat st;
    if (fstatat(dir, HD_HELPERS_SUBDIRECTORY, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return false;
    bool ours = st.st_uid == geteuid(), roots_shared = st.st_uid == 0 && (st.st_mode & 07777) == 01733;
    if (!S_ISDIR(st.st_mode) || !(ours || roots_shared)) {
        errno = EPERM;
        return false;
    }
    return true;
}

void hd_output_dir_release(void) {
    if (hd_config.output_ino && hd_fd_is(hd_config.output_fd, hd_config.output_dev, hd_config.output_ino))
        close(hd_config.output_fd);
    hd_config.output_fd = -1;
    hd_config.output_ino = 0;
}

/* mkdir -p: missing parents as mkdir(1) makes them, the directory itself
 * private (0700), or, for root, 1733: a process that switches to another
 * user (an nginx or postgres worker) can still add its files, while nobody
 * but root can list the directory or read a file in it (files are 0600) and
 * the sticky bit keeps users from renaming each other's files. */
static int make_output_dir(char *dir) {
    for (char *slash = strchr(dir + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        int r = mkdir(dir, 0777);
        int error = errno;
        *slash = '/';
        if (r != 0 && error != EEXIST) {
            errno = error;
            return -1;
        }
    }
    if (mkdir(dir, 0700) != 0)
        return -1;
    if (geteuid() == 0)
        chmod(dir, 01733);
    return 0;
}

static bool open_output_dir(void) {
    int fd = open(hd_config.output_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    hd_config.output_fd = hd_private_fd(fd);
    hd_config.output_dev = st.st_dev;
    hd_config.output_ino = st.st_ino;
    return true;
}

/* The directory is held open from start-up, so that a process that later
 * switches user writes there without needing to reach it by path (a root
 * user's home is 0700); when the program has closed our descriptor, the
 * path is tried again. */
int hd_output_fd(void) {
    if (hd_fd_is(hd_config.output_fd, hd_config.output_dev, hd_config.output_ino))
        return hd_config.output_fd;
    return open_output_dir() ? hd_config.output_fd : -1;
}

/* heapdiff attach: each session names its directory, held open as
 * HEAPDIFF_OUTPUT's is; the previous session's descriptor is let go. */
bool hd_output_dir_use(const char *dir) {
    if (strlen(dir) >= sizeof hd_config.output_dir)
        return false;
    hd_output_dir_release();
    strcpy(hd_config.output_dir, dir);
    return open_output_dir();
}

/* The output directory is made absolute now, because the program may chdir
 * later, and created when missing (see make_output_dir). */
void hd_output_dir_load(void) {
    const char *text = getenv(HD_ENV_OUTPUT);
    bool given = text && *text;
    char *dir = hd_config.output_dir;
    size_t cap = sizeof hd_config.output_dir;
    hd_config.output_ok = false;
    hd_config.output_fd = -1;
    if (!given)
        text = ".";
    if (text[0] == '/') {
        if (strlen(text) >= cap) {
            hd_fail("HEAPDIFF_OUTPUT is longer than %zu bytes; no snapshots will be written", cap - 1);
            return;
        }
        strcpy(dir, text);
    } else {
        if (!getcwd(dir, cap) || strlen(dir) + 1 + strlen(text) >= cap) {
            hd_fail("cannot resolve HEAPDIFF_OUTPUT=%s against the working directory; no snapshots will be written",
                    text);
            return;
        }
        if (strcmp(text, ".") != 0) {
            strcat(dir, "/");
            strcat(dir, text);
        }
        /* Resolved for the processes it starts too, which may do so from
         * another directory (`cd / && exec …`): one run, one directory. (At
         * start-up, under the guard: setenv's allocation is not traced.) */
        if (given)
            setenv(HD_ENV_OUTPUT, dir, 1);
    }
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT || (make_output_dir(dir) != 0 && errno != EEXIST)) {
            hd_fail("cannot create output directory %s: %s; no snapshots will be written", dir, strerror(errno));
            return;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        hd_fail("HEAPDIFF_OUTPUT=%s is not a directory; no snapshots will be written", dir);
        return;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        hd_fail("output directory %s is not writable: %s; no snapshots will be written", dir, strerror(errno));
        return;
    }
    if (!open_output_dir()) {
        hd_fail("cannot open output directory %s: %s; no snapshots will be written", dir, strerror(errno));
        return;
    }
    hd_config.output_ok = true;
}

/* The highest SEQ among this program's and pid's files in FOLDER (an fd
 * opened for reading), by getdents64: no allocation, as this may run at
 * exit in a signal handler. */
static uint32_t highest_seq_listed(int folder, const char *program, int pid) {
    enum { BUFFER = 16384 };
    char *buffer = hd_pages_alloc(BUFFER);
    uint32_t highest = 0;
    if (!buffer)
        return 0;
    long n;
    while ((n = syscall(SYS_getdents64, folder, buffer, BUFFER)) > 0) {
        for (long at = 0; at < n;) {
            /* struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name */
            unsigned short length;
            memcpy(&length, buffer + at + 16, sizeof length);
            uint32_t seq = hd_snapshot_file_seq(buffer + at + 19, program, pid);
            if (seq > highest)
                highest = seq;
            at += length;
        }
    }
    hd_pages_free(buffer, BUFFER);
    return highest;
}

/* The SEQ a new snapshot takes: SEQ itself, unless a file of this program
 * and pid already has that name. That happens when the program executes
 * itself again in its pid (haproxy's reload, a service restarting in
 * place), whose recording starts over at 1, or when a recycled pid writes
 * into a directory used for days; then the files already there are never
 * replaced: the new one takes the SEQ past the highest of them, or, where
 * the folder cannot be listed (a worker that switched user cannot read the
 * 1733 directory), the next free name. The analyzer tells the images
 * apart by the time their recording began. */
uint32_t hd_output_free_seq(bool to_helpers, uint32_t seq) {
    int dir = hd_output_fd(), saved = errno;
    const char *folder = to_helpers ? HD_HELPERS_SUBDIRECTORY : ".";
    char name[400];
    int pid = (int)hd_own_pid();
    struct stat st;
    for (unsigned probes = 0; dir >= 0 && probes < 100000; probes++) {
        size_t length = (size_t)snprintf(name, sizeof name, "%s/", folder);
        if (length >= sizeof name ||
            hd_snapshot_file_name(name + length, sizeof name - length, hd_program_name, pid, seq, false) < 0 ||
            fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            break;
        if (probes == 0) {
            int listed = openat(dir, folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (listed >= 0) {
                uint32_t highest = highest_seq_listed(listed, hd_program_name, pid);
                close(listed);
                if (highest >= seq) {
                    seq = highest + 1;
                    continue;
                }
            }
        }
        seq++;
    }
    errno = saved;
    return seq;
}

/* HEAPDIFF_KEEP=N: the SEQs of the latest N periodic snapshots, oldest
 * first from `oldest`; each new one past N deletes the oldest file, so a
 * service under --interval for days keeps a bounded directory. Guarded by
 * the writer lock (control.c); per process (a fork child starts empty). */
static uint32_t *kept;
static unsigned kept_count, kept_oldest;

void hd_output_keep_periodic(uint32_t seq) {
    if (!kept && !(kept = hd_pages_alloc(hd_config.keep * sizeof *kept)))
        return;   /* no room to remember: nothing is deleted */
    if (kept_count < hd_config.keep) {
        kept[(kept_oldest + kept_count++) % hd_config.keep] = seq;
        return;
    }
    char name[400];
    int dir = hd_output_fd();
    if (dir >= 0 && hd_snapshot_file_name(name, sizeof name, hd_program_name, (int)hd_own_pid(), kept[kept_oldest], false) > 0)
        unlinkat(dir, name, 0);   /* already gone (moved away by the user) is fine */
    kept[kept_oldest] = seq;
    kept_oldest = (kept_oldest + 1) % hd_config.keep;
}

void hd_output_keep_forget(void) {
    kept_count = kept_oldest = 0;
}
