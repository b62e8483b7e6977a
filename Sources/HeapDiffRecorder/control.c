/* When snapshots are taken: start-up, the writer thread (woken by the
 * snapshot signal or by the interval timer), heapdiff_snapshot(), fork and
 * exit. Everything that decides *when*; snapshot_writer.c decides *what*. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "heapdiff.h"
#include "recorder.h"

/* One snapshot at a time, and SEQ in the order the files are taken. */
static pthread_mutex_t writer_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t last_seq;
static sem_t wake;                  /* posted by the signal handler */
static int signal_pending;
static int exiting;

int hd_take_snapshot(uint32_t trigger, const char *label) {
    pthread_mutex_lock(&writer_lock);
    int result = -1;
    if (!(exiting && trigger != HD_TRIGGER_EXIT)) {
        result = hd_snapshot_write(last_seq + 1, trigger, label);
        if (result == 0)
            result = (int)++last_seq;
    }
    pthread_mutex_unlock(&writer_lock);
    return result;
}

void hd_seq_at_least(uint32_t seq) {
    pthread_mutex_lock(&writer_lock);
    if (last_seq < seq)
        last_seq = seq;
    pthread_mutex_unlock(&writer_lock);
}

/* `heapdiff snapshot PID --label L` leaves the label in a request file
 * beside the snapshots before it signals us. Only a regular file of our
 * own user is believed. */
static void read_request_label(char *label, size_t cap) {
    char path[4200];
    label[0] = '\0';
    snprintf(path, sizeof path, "%s/.heapdiff-request.%d", hd_config.output_dir, (int)getpid());
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid()) {
        ssize_t n = read(fd, label, cap - 1);
        label[n > 0 ? n : 0] = '\0';
    }
    close(fd);
    unlink(path);
}

static void timespec_add(struct timespec *t, double seconds) {
    long long ns = (long long)(seconds * 1e9);
    t->tv_sec += ns / 1000000000;
    t->tv_nsec += ns % 1000000000;
    if (t->tv_nsec >= 1000000000) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000;
    }
}

static void *writer_main(void *unused) {
    (void)unused;
    hd_guard = 1;   /* nothing this thread allocates is the program's */
    prctl(PR_SET_NAME, "heapdiff", 0, 0, 0);
    /* Only the snapshot signal may interrupt us; the program's signals go
     * to the program's threads. */
    sigset_t mask;
    sigfillset(&mask);
    if (hd_config.signal)
        sigdelset(&mask, hd_config.signal);
    pthread_sigmask(SIG_SETMASK, &mask, NULL);

    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    timespec_add(&next, hd_config.interval_seconds);
    for (;;) {
        int r = hd_config.interval_seconds > 0 ? sem_clockwait(&wake, CLOCK_MONOTONIC, &next) : sem_wait(&wake);
        if (r == 0 && __atomic_exchange_n(&signal_pending, 0, __ATOMIC_ACQ_REL)) {
            char label[256];
            read_request_label(label, sizeof label);
            hd_take_snapshot(HD_TRIGGER_SIGNAL, label);
        } else if (r != 0 && errno == ETIMEDOUT) {
            hd_take_snapshot(HD_TRIGGER_INTERVAL, NULL);
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            timespec_add(&next, hd_config.interval_seconds);
            if (next.tv_sec < now.tv_sec) {   /* fell behind: don't burst */
                next = now;
                timespec_add(&next, hd_config.interval_seconds);
            }
        }
    }
    return NULL;
}

/* The handler only wakes the writer thread: sem_post is async-signal-safe. */
static void on_snapshot_signal(int sig) {
    (void)sig;
    int saved = errno;
    __atomic_store_n(&signal_pending, 1, __ATOMIC_RELEASE);
    sem_post(&wake);
    errno = saved;
}

static void start_writer_thread(void) {
    if (!hd_config.signal && hd_config.interval_seconds <= 0)
        return;
    sem_init(&wake, 0, 0);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t thread;
    int r = pthread_create(&thread, &attr, writer_main, NULL);
    pthread_attr_destroy(&attr);
    if (r != 0)
        hd_warn("cannot start the snapshot thread: %s; only heapdiff_snapshot() and exit snapshots", strerror(r));
}

static void at_exit(void) {
    if (__atomic_load_n(&hd_state, __ATOMIC_ACQUIRE) != HD_STATE_RECORDING)
        return;   /* e.g. a fork child with HEAPDIFF_FOLLOW_CHILDREN=0 */
    int saved = hd_guard;
    hd_guard = 1;
    hd_take_snapshot(HD_TRIGGER_EXIT, NULL);
    __atomic_store_n(&exiting, 1, __ATOMIC_RELEASE);
    if (hd_config.print_stats) {
        hd_lock();
        size_t traces = hd_trace_table_count(), trace_bytes = hd_trace_table_memory();
        size_t pointer_bytes = hd_pointer_table_memory(), code_bytes = hd_pycode_memory();
        hd_unlock();
        hd_note("stats: %zu distinct stacks in %zu KiB, live-block table %zu KiB, Python code table %zu KiB", traces,
                trace_bytes / 1024, pointer_bytes / 1024, code_bytes / 1024);
    }
    hd_guard = saved;
}

/* fork: hold every lock across it, so the child never inherits a table
 * or a file half-written by a thread that does not exist in the child. */
static void before_fork(void) {
    hd_guard = 1;
    pthread_mutex_lock(&writer_lock);
    hd_lock();
}

static void after_fork_parent(void) {
    hd_unlock();
    pthread_mutex_unlock(&writer_lock);
    hd_guard = 0;
}

static void after_fork_child(void) {
    hd_lock_reset();
    pthread_mutex_init(&writer_lock, NULL);
    last_seq = 0;               /* the child's files count from 1 */
    signal_pending = 0;
    if (hd_config.follow_children)
        start_writer_thread();
    else
        __atomic_store_n(&hd_state, HD_STATE_PASSTHROUGH, __ATOMIC_RELEASE);
    hd_guard = 0;
}

static void program_name_from_exe(void) {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    const char *base = strrchr(exe, '/');
    base = base ? base + 1 : exe;
    if (*base)
        snprintf(hd_program_name, sizeof hd_program_name, "%.255s", base);
}

/* Preloaded, this runs before main(). Attached, the program's own fork
 * handlers were registered long before ours, so ours run on the wrong side
 * of them (our prepare handler first, our parent and child handlers last);
 * theirs then run with the guard set, so what they allocate passes through
 * untraced instead of waiting for the lock we hold. */
void hd_control_prepare(void) {
    static bool prepared;
    if (prepared)
        return;
    prepared = true;
    program_name_from_exe();
    /* Registered first, so our prepare handler runs last and our child
     * handler first: no other fork handler allocates while we hold locks. */
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
    atexit(at_exit);
}

__attribute__((constructor)) static void heapdiff_start(void) {
    if (hd_late_load)
        return;   /* dlopen'ed by heapdiff attach: heapdiff_attach() starts recording */
    hd_resolve_once();
    hd_guard = 1;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    hd_start_monotonic_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
    hd_config_load();
    if (!hd_config.follow_children)
        hd_strip_self_from_ld_preload();
    if (hd_config.output_ok) {
        hd_record_init();
        hd_python_init();
        hd_control_prepare();
        start_writer_thread();
        if (hd_config.signal) {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = on_snapshot_signal;
            sa.sa_flags = SA_RESTART;
            sigemptyset(&sa.sa_mask);
            sigaction(hd_config.signal, &sa, NULL);
        }
        __atomic_store_n(&hd_state, HD_STATE_RECORDING, __ATOMIC_RELEASE);
    }
    hd_guard = 0;
}

HD_EXPORT int heapdiff_snapshot(const char *label) {
    if (__atomic_load_n(&hd_state, __ATOMIC_ACQUIRE) != HD_STATE_RECORDING)
        return -1;
    int saved_errno = errno, saved_guard = hd_guard;
    hd_guard = 1;
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", label ? label : "");
    int result = hd_take_snapshot(HD_TRIGGER_API, copy) > 0 ? 0 : -1;
    hd_guard = saved_guard;
    errno = saved_errno;
    return result;
}
