/* exit_signals.c: a terminating signal that arrives while the exit snapshot
 * is written is held until it is written, then sent again. */
#ifndef HEAPDIFF_EXIT_SIGNALS_H
#define HEAPDIFF_EXIT_SIGNALS_H

#include <signal.h>
#include <stdbool.h>
#include "common.h"

enum { HD_EXIT_SIGNALS = 7 };
/* Whether SIG is one of those held: SIGHUP, SIGINT, SIGQUIT, SIGTERM,
 * SIGUSR1, SIGUSR2, SIGALRM. */
bool hd_exit_signal(int sig) HD_HIDDEN;
/* Whether SIG's action (into *ACTION) is the default one: no handler. */
bool hd_signal_action_default(int sig, struct sigaction *action) HD_HIDDEN;
/* The actions replaced while the exit snapshot is written. */
struct hd_exit_signals {
    bool replaced[HD_EXIT_SIGNALS];
    struct sigaction previous[HD_EXIT_SIGNALS];
};
/* Before the exit snapshot: each of those whose action is still the
 * default one (which would end the process) gets a handler that only notes
 * it. */
void hd_exit_signals_hold(struct hd_exit_signals *held) HD_HIDDEN;
/* After it: the default actions back (unless the program changed one
 * meanwhile), and the first signal noted sent to the process again, so it
 * ends as it would have, with its snapshot written. */
void hd_exit_signals_release(struct hd_exit_signals *held) HD_HIDDEN;

#endif
