/* When snapshots are taken: start-up, the writer thread (woken by a
 * `heapdiff snapshot` request, the optional snapshot signal or the interval
 * timer), heapdiff_snapshot(), fork, exit, and a program ending itself with
 * a signal. Everything that decides *when*; snapshot_writer.c decides *what*. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "exit_signals.h"
#include "heapdiff.h"
#include "jemalloc_api.h"
#include "proc_self.h"
#include "thread_state.h"

/* One snapshot at a time, and SEQ in the order the files are taken. The
 * writer lock also guards `listener`, so that fork copies it whole. */
static pthread_mutex_t writer_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t last_seq;
static int signal_pending;          /* set by the snapshot signal's handler */
static pid_t writer_tid;            /* the writer thread, 0 until it runs */
static struct hd_listener listener = {.fd = -1};
static int signal_taken_said;       /* the program replaced our handler: said once */
static int exiting;
static pid_t process_pid;           /* this process's pid, noted at start-up and fork */
/* The program heapdiff started (in whatever it executes in the same pid),
 * as opposed to a process it forked or started. */
static bool is_program = true;

/* Where a snapshot goes: the output directory, except the exit snapshot of
 * a descendant of the program that took no snapshot of its own (pyenv's
 * bash and readlink, a compiler under `make`): those go to helpers/, so
 * that they never bury the program's files. Workers that took snapshots
 * keep their exit snapshot beside them; a worker that took none cannot be
 * told here from a launcher's subshell (the launcher may still execute the
 * program), so heapdiff moves it back once the program has ended; one that
 * outlives heapdiff itself (a daemon the program left) stays beside it. */
static bool goes_to_helpers(uint32_t trigger) {
    if (trigger != HD_TRIGGER_EXIT || last_seq != 0 || is_program || hd_config.keep_helper_exits)
        return false;
    int saved = errno;
    bool run_ended = kill((pid_t)hd_config.program_parent, 0) != 0 && errno == ESRCH;
    errno = saved;
    return !run_ended;
}

int hd_take_snapshot(uint32_t trigger, const char *label, char *text, size_t cap) {
    pthread_mutex_lock(&writer_lock);
    int result = -1;
    if (exiting && trigger != HD_TRIGGER_EXIT) {
        snprintf(text, cap, "process %d is exiting", (int)hd_own_pid());
    } else {
        /* Under the writer lock, which fork takes: no child inherits the hold. */
        struct hd_exit_signals held;
        if (trigger == HD_TRIGGER_EXIT)
            hd_exit_signals_hold(&held);
        bool to_helpers = goes_to_helpers(trigger);
        uint32_t seq = hd_output_free_seq(to_helpers, last_seq + 1);
        result = hd_snapshot_write(to_helpers, seq, trigger, label, text, cap);
        if (result == 0) {
            result = (int)(last_seq = seq);
            if (trigger == HD_TRIGGER_INTERVAL && hd_config.keep && !to_helpers)
                hd_output_keep_periodic(last_seq);
        }
        if (trigger == HD_TRIGGER_EXIT)
            hd_exit_signals_release(&held);
    }
    pthread_mutex_unlock(&writer_lock);
    return result;
}

/* `heapdiff snapshot PID`: the trigger is "requested from outside", as the
 * signal's is. */
static int take_requested(const char *label, char *text, size_t cap) {
    return hd_take_snapshot(HD_TRIGGER_SIGNAL, label, text, cap) > 0 ? 0 : -1;
}

void hd_seq_at_least(uint32_t seq) {
    pthread_mutex_lock(&writer_lock);
    if (last_seq < seq)
        last_seq = seq;
    pthread_mutex_unlock(&writer_lock);
}

static void on_snapshot_signal(int sig, siginfo_t *info, void *context);

/* Whether the configured snapshot signal still runs our handler. A program
 * that installs its own keeps it: it is told once, and so is `heapdiff run`. */
static bool signal_is_ours(void) {
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
        pthread_mutex_lock(&writer_lock);
        if (!hd_listener_is_ours(&listener) && now >= listen_at) {
            hd_listener_open(&listener);
            listen_at = now + WRITER_TICK_MS;   /* when it failed, the next try */
        }
        int fd = listener.fd;
        pthread_mutex_unlock(&writer_lock);

        /* The snapshot signal is let in only while we wait, and only while
         * its handler is ours. */
        sigset_t wait_mask = blocked;
        if (signal_is_ours())
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
        if (__atomic_exchange_n(&signal_pending, 0, __ATOMIC_ACQ_REL))
            hd_take_snapshot(HD_TRIGGER_SIGNAL, NULL, text, sizeof text);
        if (ready > 0 && p.revents) {
            pthread_mutex_lock(&writer_lock);
            bool ours = hd_listener_is_ours(&listener);
            if (!ours)
                listener.fd = -1;   /* the number is the program's now: forget it */
            pthread_mutex_unlock(&writer_lock);
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

static void at_exit(void) {
    if (__atomic_load_n(&hd_state, __ATOMIC_ACQUIRE) != HD_STATE_RECORDING)
        return;   /* e.g. a fork child with HEAPDIFF_FOLLOW_CHILDREN=0 */
    int outer = hd_guard_enter(hd_thread());
    (void)signal_is_ours();   /* says so if the program took the signal */
    /* Exiting first: an interval or signal snapshot that would start after
     * the exit snapshot could be cut off by the process's end mid-write. */
    __atomic_store_n(&exiting, 1, __ATOMIC_RELEASE);
    char text[4400];
    hd_take_snapshot(HD_TRIGGER_EXIT, NULL, text, sizeof text);
    hd_unwind_report(hd_thread()->buffers ? &hd_thread()->buffers->unwind : NULL, hd_thread()->memos);
    if (hd_config.print_stats)
        hd_record_report();
    hd_guard_leave(hd_thread(), outer);
}

/* The exit snapshot of a process that ends without exit() (exit_calls.c:
 * a signal to itself, _exit). The writer lock is waited for a bounded time,
 * because this may run in a signal handler that interrupted a thread the
 * writer waits for. Never in the recorder, nor in a vfork child (or a raw
 * clone), which is not the process the recorder set up: it shares the
 * parent's memory, and its pid is not the one noted at start-up or fork.
 * FINAL (_exit): nothing after it, so no other snapshot may start, and the
 * terminating signals are held while it is written, as at exit. */
void hd_snapshot_before_end(const char *label, bool final) {
    if (__atomic_load_n(&hd_state, __ATOMIC_ACQUIRE) != HD_STATE_RECORDING || hd_thread()->guard ||
        (pid_t)syscall(SYS_getpid) != process_pid)
        return;
    int saved_errno = errno;
    int outer = hd_guard_enter(hd_thread());
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 5;
    if (pthread_mutex_timedlock(&writer_lock, &deadline) == 0) {
        char text[4400];
        struct hd_exit_signals held;
        if (!exiting) {
            if (final) {
                exiting = 1;
                hd_exit_signals_hold(&held);
            }
            bool to_helpers = goes_to_helpers(HD_TRIGGER_EXIT);
            uint32_t seq = hd_output_free_seq(to_helpers, last_seq + 1);
            if (hd_snapshot_write(to_helpers, seq, HD_TRIGGER_EXIT, label, text, sizeof text) == 0)
                last_seq = seq;
            if (final)
                hd_exit_signals_release(&held);
        }
        pthread_mutex_unlock(&writer_lock);
    }
    hd_guard_leave(hd_thread(), outer);
    errno = saved_errno;
}

/* fork: hold every lock across it, so the child never inherits a table
 * or a file half-written by a thread that does not exist in the child. */
static void before_fork(void) {
    (void)hd_guard_enter(hd_thread());   /* the program forks, never the recorder: given back as 0 */
    pthread_mutex_lock(&writer_lock);
    hd_lock();
}

static void after_fork_parent(void) {
    hd_unlock();
    pthread_mutex_unlock(&writer_lock);
    hd_guard_leave(hd_thread(), 0);
}

/* The child answers on its own socket, heapdiff.CHILDPID, from its own
 * writer thread; the parent's socket stays the parent's alone. A child of
 * a raw clone (clone_calls.c) gets no thread: glibc did not set it up as
 * fork does (its thread still has the parent's id), so it keeps to what
 * needs none, its exit snapshot and those it asks for. */
static void forked_child(bool own_thread) {
    hd_lock_reset();
    pthread_mutex_init(&writer_lock, NULL);
    process_pid = (pid_t)syscall(SYS_getpid);
    last_seq = 0;               /* the child's files count from 1 */
    hd_output_keep_forget();   /* and it keeps its own periodic ones */
    hd_sampler_after_fork_child();
    is_program = !hd_config.program_parent;   /* preloaded by hand: every process is the program */
    signal_pending = 0;
    writer_tid = 0;
    hd_listener_drop_inherited(&listener);
    if (hd_config.follow_children && !confined) {
        if (own_thread)
            start_writer_thread();
    } else {
        hd_sampling_stop();
        __atomic_store_n(&hd_state, HD_STATE_PASSTHROUGH, __ATOMIC_RELEASE);
    }
    hd_guard_leave(hd_thread(), 0);
}

static void after_fork_child(void) {
    forked_child(true);
}

static bool fork_handled;   /* hd_control_prepare registered the fork handlers */

bool hd_raw_fork_prepare(void) {
    if (!__atomic_load_n(&fork_handled, __ATOMIC_ACQUIRE) || hd_thread()->guard)
        return false;
    before_fork();
    return true;
}

void hd_raw_fork_parent(void) {
    after_fork_parent();
}

void hd_raw_fork_child(void) {
    forked_child(false);
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
    process_pid = (pid_t)syscall(SYS_getpid);
    hd_proc_self_open();
    hd_program_name_init();
    /* Registered first, so our prepare handler runs last and our child
     * handler first: no other fork handler allocates while we hold locks. */
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
    __atomic_store_n(&fork_handled, true, __ATOMIC_RELEASE);
    atexit(at_exit);
}

__attribute__((constructor)) static void heapdiff_start(void) {
    if (hd_late_load)
        return;   /* dlopen'ed by heapdiff attach: heapdiff_attach() starts recording */
    hd_resolve_once();
    int outer = hd_guard_enter(hd_thread());
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    hd_start_monotonic_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
    hd_config_load();
    if (hd_config.sample_rate && hd_config.output_ok && !hd_sampler_init()) {
        hd_warn("cannot set up sampling (HEAPDIFF_SAMPLE); recording every allocation");
        hd_config.sample_rate = 0;
    }
    if (!hd_config.follow_children)
        hd_strip_self_from_ld_preload();
    hd_exec_calls_init();   /* whatever the output: the exec hooks must not resolve in a forked child */
    hd_clone_calls_init();
    if (hd_config.output_ok) {
        /* A process executed by a descendant: its parent is not heapdiff. */
        is_program = !hd_config.program_parent || getppid() == hd_config.program_parent;
        /* A program run as root may start helpers as other users (dovecot's
         * login and mail processes): helpers/ is made now, root's and shared
         * (heapdiff removes it if it stays empty), or the first helper would
         * make it its own and the next user's could not write there. */
        if (is_program && hd_config.program_parent && !hd_config.keep_helper_exits && geteuid() == 0)
            (void)hd_helpers_directory(hd_output_fd());
        hd_record_init();
        hd_python_init();
        hd_control_prepare();
        hd_exit_calls_init();
        hd_jemalloc_api_start();
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
        __atomic_store_n(&hd_state, HD_STATE_RECORDING, __ATOMIC_RELEASE);
        hd_sampling_start();
    }
    hd_guard_leave(hd_thread(), outer);
}

HD_EXPORT int heapdiff_snapshot(const char *label) {
    if (__atomic_load_n(&hd_state, __ATOMIC_ACQUIRE) != HD_STATE_RECORDING)
        return -1;
    int saved_errno = errno, outer = hd_guard_enter(hd_thread());
    char copy[4096], text[4400];
    snprintf(copy, sizeof copy, "%s", label ? label : "");
    int result = hd_take_snapshot(HD_TRIGGER_API, copy, text, sizeof text) > 0 ? 0 : -1;
    hd_guard_leave(hd_thread(), outer);
    errno = saved_errno;
    return result;
}
