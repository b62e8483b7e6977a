/* writer_thread.c: the thread that takes the snapshots asked for from
 * outside (`heapdiff snapshot`, the snapshot signal) and the periodic ones;
 * parked for good once the program confines itself with seccomp. */
#ifndef HEAPDIFF_WRITER_THREAD_H
#define HEAPDIFF_WRITER_THREAD_H

#include "common.h"

/* At start-up: the snapshot signal's handler (when one is configured), then
 * the thread. */
void hd_writer_start(void) HD_HIDDEN;
/* Whether the snapshot signal still runs our handler; says once, on stderr
 * and to heapdiff, that the program took it. */
bool hd_writer_signal_is_ours(void) HD_HIDDEN;
/* In a forked child, under the writer lock: forgets the parent's thread,
 * pending signal and socket. Returns whether the child records (FOLLOW and
 * not confined), and then starts its thread when START. */
bool hd_writer_forked_child(bool follow, bool start) HD_HIDDEN;
/* sandbox.c calls this before the program installs a seccomp filter: a
 * last snapshot, then recording stops and the writer thread is parked, so
 * that the recorder makes no system call the filter may forbid. */
void hd_before_seccomp(void) HD_HIDDEN;

#endif
