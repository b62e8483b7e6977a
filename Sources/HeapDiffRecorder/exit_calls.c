/* A process that ends without exit() never runs the exit handler that
 * writes its exit snapshot (control.c's at_exit), so the calls that end it
 * that way write it first:
 *  - a signal to itself whose default action terminates it (CPython after an
 *    uncaught KeyboardInterrupt kills itself with SIGINT, as shells expect; a
 *    SIGTERM handler that cleans up and re-raises). Faults and abort() are
 *    left alone: a crashing process is no place to write files.
 *  - _exit and _Exit: os._exit, with which CPython's forked multiprocessing
 *    workers end, a SIGTERM handler's cleanup, a forked child's end. Their
 *    heaps were lost before, however much they held.
 * Each then does what the program asked. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "exit_signals.h"
#include "heapdiff.h"
#include "thread_state.h"

static int (*real_raise)(int);
static void (*real_exit)(int);

void hd_exit_calls_init(void) {
    real_raise = (int (*)(int))dlsym(RTLD_NEXT, "raise");
    real_exit = (void (*)(int))dlsym(RTLD_NEXT, "_exit");
}

/* The signals exit_signals.c holds, and SIGPIPE, while their action is the
 * default one and this thread does not block them. */
static bool ends_process(int sig) {
    if (!hd_exit_signal(sig) && sig != SIGPIPE)
        return false;
    struct sigaction action;
    sigset_t blocked;
    return hd_signal_action_default(sig, &action) && pthread_sigmask(SIG_BLOCK, NULL, &blocked) == 0 &&
           !sigismember(&blocked, sig);
}

static void snapshot_before_self_signal(int sig) {
    /* Not recording (confined by seccomp, say): not a system call more. */
    if (!hd_forgetting(hd_thread()) || !ends_process(sig))
        return;
    char label[32], name[16];
    snprintf(label, sizeof label, "SIG%s", sig == SIGINT    ? "INT"
                                       : sig == SIGTERM ? "TERM"
                                       : sig == SIGHUP  ? "HUP"
                                       : sig == SIGQUIT ? "QUIT"
                                       : sig == SIGALRM ? "ALRM"
                                       : sig == SIGPIPE ? "PIPE"
                                                        : hd_signal_name(sig, name, sizeof name));
    hd_snapshot_before_end(label, false);
}

HD_EXPORT int kill(pid_t pid, int sig) {
    if (hd_forgetting(hd_thread()) && (pid == 0 || pid == getpid()))
        snapshot_before_self_signal(sig);
    return (int)syscall(SYS_kill, pid, sig);
}

HD_EXPORT int raise(int sig) {
    snapshot_before_self_signal(sig);
    if (real_raise)
        return real_raise(sig);
    return (int)syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), sig);
}

static __attribute__((noreturn)) void end_now(int status) {
    hd_snapshot_before_end("_exit", true);
    if (real_exit)
        real_exit(status);
    for (;;)
        syscall(SYS_exit_group, status);
}

HD_EXPORT void _exit(int status) {
    end_now(status);
}

HD_EXPORT void _Exit(int status) {
    end_now(status);
}
