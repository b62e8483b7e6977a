/* The exit snapshot is written by exit() (control.c's at_exit), after the
 * program's own atexit handlers, and a large one takes a while (about 1 ms
 * for 4,000 stacks, a tenth of a second for 100,000). By then an interpreter
 * has put its signals back to their default actions (CPython does so as it
 * finalizes). A SIGTERM arriving meanwhile, from a service manager or a
 * master process stopping its workers, ended the process with its snapshot
 * half written: lost, and its temporary file left in the directory.
 *
 * Such a signal is now held: while the snapshot is written, the signals
 * that would end the process by default get a handler that only notes
 * them (in whichever thread takes them), and once it is written the first
 * one noted is sent again with the default action back. The process ends
 * by that signal, as it did before, and its exit snapshot is complete.
 * Signals the program handles itself are left alone. */
#define _GNU_SOURCE
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "exit_signals.h"

static const int exit_signals[HD_EXIT_SIGNALS] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM};
static volatile sig_atomic_t noted;   /* the first signal held, 0 if none */

bool hd_exit_signal(int sig) {
    bool listed = false;
    for (int i = 0; i < HD_EXIT_SIGNALS; i++)
        listed |= exit_signals[i] == sig;
    return listed;
}

bool hd_signal_action_default(int sig, struct sigaction *action) {
    return sigaction(sig, NULL, action) == 0 && !(action->sa_flags & SA_SIGINFO) && action->sa_handler == SIG_DFL;
}

static void note(int sig) {
    if (!noted)
        noted = sig;
}

void hd_exit_signals_hold(struct hd_exit_signals *held) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = note;
    sigfillset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (int i = 0; i < HD_EXIT_SIGNALS; i++) {
        held->replaced[i] = hd_signal_action_default(exit_signals[i], &held->previous[i]) &&
                            sigaction(exit_signals[i], &action, NULL) == 0;
    }
}

void hd_exit_signals_release(struct hd_exit_signals *held) {
    for (int i = 0; i < HD_EXIT_SIGNALS; i++) {
        struct sigaction current;
        if (held->replaced[i] && sigaction(exit_signals[i], NULL, &current) == 0 && current.sa_handler == note)
            sigaction(exit_signals[i], &held->previous[i], NULL);
    }
    int sig = noted;
    if (sig)   /* not kill(): control.c's would take a snapshot first */
        syscall(SYS_kill, getpid(), sig);
}
