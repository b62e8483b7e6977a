/* The writer thread: waits on the control socket for `heapdiff snapshot`
 * requests, for the snapshot signal and for the interval, and takes those
 * snapshots through control.c. It makes the control socket only once the
 * process has settled, wakes at least once a second to remake it when the
 * program closed it, and parks for good once the program confines itself
 * with seccomp (hd_before_seccomp). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "jemalloc_api.h"
#include "proc_self.h"
#include "thread_state.h"
#include "writer_thread.h"

static int signal_pending;          /* set by the snapshot signal's handler */
static pid_t writer_tid;            /* the writer thread, 0 until it runs */
/* Guarded by the writer lock, so that fork copies it whole. */
static struct hd_listener listener = {.fd = -1};
static int signal_taken_said;       /* the program replaced our handler: said once */

/* `heapdiff snapshot PID`: the trigger is "requested from outside", as the
 * signal's is. */
static int take_requested(const char *label, char *text, size_t cap) {
    return hd_take_snapshot(HD_TRIGGER_SIGNAL, label, text, cap) > 0 ? 0 : -1;
}

static void on_snapshot_signal(int sig, siginfo_t *info, void *context);

/* Whether the configured snapshot signal still runs our handler. A program
 * that installs its own keeps it: it is told once, and so is `heapdiff run`. */
bool hd_writer_signal_is_ours(void) {
    if (!hd_config.signal)
        return false;
    struct sigaction current;
    if (sigaction(hd_config.signal, NULL, &current) != 0)
        return false;
    if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_snapshot_signal)
        return true;
    if (!__atomic_exchange_n(&signal_taken_said, 1, __ATOMIC_ACQ_REL)) {
        char name[16];
        hd_signal_name(hd_config.signal, name, sizeof name);
        hd_warn("the program installed its own SIG%s handler, so SIG%s no longer takes snapshots; use "
                "`heapdiff snapshot %d`", name, name, (int)hd_own_pid());
        hd_report(HD_REPORT_SIGNAL_TAKEN, "SIG%s", name);
    }
    return false;
}

static long long monotonic_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Wakes at least once a second: to make a new control socket when the
 * program closed ours, and to notice a program taking the snapshot signal. */
enum { WRITER_TICK_MS = 1000 };
/* The control socket is made this long after start: a forked child that
 * execs, or a daemon that closes every descriptor as it starts, is done by
 * then, so the recorder makes no descriptor while they rearrange theirs. */
enum { LISTEN_DELAY_MS = 100 };

static long long min_ll(long long a, long long b) { return a < b ? a : b; }

/* Confined by seccomp (hd_before_seccomp): the writer thread waits for
 * good in a futex, begun before the filter, which nearly every filter allows
 * anyway (threads need it), so that it never makes another system call. */
static int confined, parked, writer_started;

static __attribute__((noreturn)) void park(void) {
    __atomic_store_n(&parked, 1, __ATOMIC_RELEASE);
    for (;;)
        syscall(SYS_futex, &parked, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
}

void hd_before_seccomp(void) {
    if (hd_late_load || __atomic_load_n(&hd_state, __ATOMIC_ACQUIRE) != HD_STATE_RECORDING)
        return;   /* (attached, prctl and syscall are the program's own, unhooked) */
    int saved = errno, outer = hd_guard_enter(hd_thread());
    char text[4400];
    int seq = hd_take_snapshot(HD_TRIGGER_API, "seccomp", text, sizeof text);
    hd_sampling_stop();
    __atomic_store_n(&hd_state, HD_STATE_PASSTHROUGH, __ATOMIC_RELEASE);
    __atomic_store_n(&confined, 1, __ATOMIC_RELEASE);
    /* The writer thread parks when its wait ends (at most WRITER_TICK_MS),
     * or as it starts: one started moments ago may not run yet, and a filter
     * for every thread (TSYNC) would catch it in glibc's start-up calls. */
    if (__atomic_load_n(&writer_started, __ATOMIC_ACQUIRE))
        for (int waited = 0; !__atomic_load_n(&parked, __ATOMIC_ACQUIRE) && waited < 5 * WRITER_TICK_MS; waited++)
            nanosleep(&(struct timespec){0, 1000000}, NULL);
    hd_note("the program is confining itself with seccomp: recording stops here, as the filter may forbid what "
            "a snapshot needs; the last one is %s", seq > 0 ? text : "not written");
    hd_guard_leave(hd_thread(), outer);
    errno = saved;
}

static void *writer_main(void *unused) {
    (void)unused;
    if (__atomic_load_n(&confined, __ATOMIC_ACQUIRE))
        park();
    (void)hd_guard_enter(hd_thread());   /* for good: nothing this thread allocates is the program's */
    prctl(PR_SET_NAME, "heapdiff", 0, 0, 0);
    /* The program's signals go to the program's threads. (glibc never lets
     * its own internal signals, which setuid() needs, be blocked.) */
    sigset_t blocked;
    sigfillset(&blocked);
    pthread_sigmask(SIG_SETMASK, &blocked, NULL);
    pthread_sigmask(SIG_BLOCK, NULL, &blocked);
    __atomic_store_n(&writer_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);

    long long interval_ms = (long long)(hd_config.interval_seconds * 1000);
    long long next = monotonic_ms() + interval_ms;
    long long listen_at = monotonic_ms() + LISTEN_DELAY_MS;
    char text[4400];
    for (;;) {
        long long now = monotonic_ms();
        hd_writer_lock_take();
        if (!hd_listener_is_ours(&listener) && now >= listen_at) {
            hd_listener_open(&listener);
            listen_at = now + WRITER_TICK_MS;   /* when it failed, the next try */
        }
        int fd = listener.fd;
        hd_writer_lock_release();

        /* The snapshot signal is let in only while we wait, and only while
         * its handler is ours. */
        sigset_t wait_mask = blocked;
        if (hd_writer_signal_is_ours())
            sigdelset(&wait_mask, hd_config.signal);
        long long wait_ms = fd >= 0 ? WRITER_TICK_MS : min_ll(WRITER_TICK_MS, listen_at - now);
        if (interval_ms > 0)
            wait_ms = min_ll(wait_ms, next - now);
        if (wait_ms < 0)
            wait_ms = 0;
        struct timespec wait = {.tv_sec = wait_ms / 1000, .tv_nsec = (wait_ms % 1000) * 1000000};
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int ready = ppoll(&p, fd >= 0 ? 1 : 0, &wait, &wait_mask);

        if (__atomic_load_n(&confined, __ATOMIC_ACQUIRE))
            park();
        hd_jemalloc_api_rescan();
        hd_python_rescan();
        if (__atomic_exchange_n(&signal_pending, 0, __ATOMIC_ACQ_REL))
            hd_take_snapshot(HD_TRIGGER_SIGNAL, NULL, text, sizeof text);
        if (ready > 0 && p.revents) {
            hd_writer_lock_take();
            bool ours = hd_listener_is_ours(&listener);
            if (!ours)
                listener.fd = -1;   /* the number is the program's now: forget it */
            hd_writer_lock_release();
            if (ours && (p.revents & POLLIN))
                hd_listener_serve(&listener, take_requested);
        }
        if (interval_ms > 0 && monotonic_ms() >= next) {
            hd_take_snapshot(HD_TRIGGER_INTERVAL, NULL, text, sizeof text);
            now = monotonic_ms();
            next += interval_ms;
            if (next < now)   /* fell behind: don't burst */
                next = now + interval_ms;
        }
    }
    return NULL;
}

/* Runs on whichever thread the kernel picked; the writer thread waits in
 * ppoll, so it is woken by the same signal, sent to it alone. That copy only
 * wakes it: the request was counted when it first arrived. */
static void on_snapshot_signal(int sig, siginfo_t *info, void *context) {
    (void)context;
    if (__atomic_load_n(&confined, __ATOMIC_ACQUIRE))
        return;   /* no system call a seccomp filter may forbid */
    int saved = errno;
    pid_t self = (pid_t)syscall(SYS_gettid);
    pid_t writer = __atomic_load_n(&writer_tid, __ATOMIC_ACQUIRE);
    bool forwarded = self == writer && info && info->si_code == SI_TKILL && info->si_pid == getpid();
    if (!forwarded)
        __atomic_store_n(&signal_pending, 1, __ATOMIC_RELEASE);
    if (writer && self != writer)
        syscall(SYS_tgkill, getpid(), writer, sig);
    errno = saved;
}

static void start_writer_thread(void) {
    /* Signals stay unblocked: the snapshot signal is forwarded to this thread. */
    int r = hd_start_own_thread(writer_main, false);
    __atomic_store_n(&writer_started, r == 0, __ATOMIC_RELEASE);
    if (r != 0)
        hd_warn("cannot start the snapshot thread: %s; only heapdiff_snapshot() and exit snapshots", strerror(r));
}

void hd_writer_start(void) {
    /* The handler first: the writer thread checks it is ours. */
    if (hd_config.signal) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_snapshot_signal;
        sa.sa_flags = SA_RESTART | SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        sigaction(hd_config.signal, &sa, NULL);
    }
    start_writer_thread();
}

bool hd_writer_forked_child(bool follow, bool start) {
    signal_pending = 0;
    writer_tid = 0;
    hd_listener_drop_inherited(&listener);
    if (!follow || __atomic_load_n(&confined, __ATOMIC_ACQUIRE))
        return false;
    if (start)
        start_writer_thread();
    return true;
}
