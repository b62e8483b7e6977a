/* When snapshots are taken: start-up, heapdiff_snapshot(), fork, exit, and a
 * program ending itself with a signal; writer_thread.c takes those requested
 * from outside and the periodic ones. Everything that decides *when*;
 * snapshot_writer.c decides *what*. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "exit_signals.h"
#include "heapdiff.h"
#include "jemalloc_api.h"
#include "proc_self.h"
#include "thread_state.h"
#include "writer_thread.h"

/* One snapshot at a time, and SEQ in the order the files are taken. The
 * writer lock also guards the writer thread's listener, so that fork copies
 * it whole. */
static pthread_mutex_t writer_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t last_seq;
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

void hd_writer_lock_take(void) {
    pthread_mutex_lock(&writer_lock);
}

void hd_writer_lock_release(void) {
    pthread_mutex_unlock(&writer_lock);
}

void hd_seq_at_least(uint32_t seq) {
    pthread_mutex_lock(&writer_lock);
    if (last_seq < seq)
        last_seq = seq;
    pthread_mutex_unlock(&writer_lock);
}

static void at_exit(void) {
    if (__atomic_load_n(&hd_state, __ATOMIC_ACQUIRE) != HD_STATE_RECORDING)
        return;   /* e.g. a fork child with HEAPDIFF_FOLLOW_CHILDREN=0 */
    int outer = hd_guard_enter(hd_thread());
    (void)hd_writer_signal_is_ours();   /* says so if the program took the signal */
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
    if (__atomic_load_n(&hd_state, __ATOMIC_ACQUIRE) != HD_STATE_RECORDING || (hd_thread()->guard & HD_GUARD_HELD) ||
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
static int paused_at_fork;   /* the forking thread's heapdiff_pause, under the writer lock */

static void before_fork(void) {
    /* The program forks, never the recorder: the guard is given back as
     * free, or paused if the thread was. */
    int outer = hd_guard_enter(hd_thread());
    pthread_mutex_lock(&writer_lock);
    paused_at_fork = outer & HD_GUARD_PAUSED;
    hd_lock();
}

static void after_fork_parent(void) {
    int paused = paused_at_fork;
    hd_unlock();
    pthread_mutex_unlock(&writer_lock);
    hd_guard_leave(hd_thread(), paused);
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
    hd_python_late_forked();
    is_program = !hd_config.program_parent;   /* preloaded by hand: every process is the program */
    if (!hd_writer_forked_child(hd_config.follow_children, own_thread)) {
        hd_sampling_stop();
        __atomic_store_n(&hd_state, HD_STATE_PASSTHROUGH, __ATOMIC_RELEASE);
    }
    hd_guard_leave(hd_thread(), paused_at_fork);
}

static void after_fork_child(void) {
    forked_child(true);
}

static bool fork_handled;   /* hd_control_prepare registered the fork handlers */

bool hd_raw_fork_prepare(void) {
    if (!__atomic_load_n(&fork_handled, __ATOMIC_ACQUIRE) || (hd_thread()->guard & HD_GUARD_HELD))
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
        hd_python_init(false);
        hd_control_prepare();
        hd_exit_calls_init();
        hd_jemalloc_api_start();
        hd_writer_start();
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

/* A pause of the calling thread (heapdiff.h): in the guard word, which the
 * recorder's own use (hd_guard_enter) saves and gives back around it. */
HD_EXPORT int heapdiff_pause(void) {
    struct hd_thread *t = hd_thread();
    int was_paused = (t->guard & HD_GUARD_PAUSED) != 0;
    t->guard |= HD_GUARD_PAUSED;
    return was_paused;
}

HD_EXPORT void heapdiff_resume(int was_paused) {
    struct hd_thread *t = hd_thread();
    if (!was_paused)
        t->guard &= ~HD_GUARD_PAUSED;
}
