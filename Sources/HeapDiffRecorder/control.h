/* control.c: start-up, fork, exit, heapdiff_snapshot(); writer_thread.h:
 * the snapshots requested from outside and the periodic ones. */
#ifndef HEAPDIFF_RECORDER_CONTROL_H
#define HEAPDIFF_RECORDER_CONTROL_H

#include "common.h"

/* One snapshot, numbered after the last one this process wrote; returns its
 * SEQ with the file's path in text, or -1 with the reason in text (not
 * written, after a warning, or the process is exiting). */
int hd_take_snapshot(uint32_t trigger, const char *label, char *text, size_t text_cap) HD_HIDDEN;
/* The writer lock (one snapshot at a time), which also guards the writer
 * thread's listener (writer_thread.c), so that fork copies it whole. */
void hd_writer_lock_take(void) HD_HIDDEN;
void hd_writer_lock_release(void) HD_HIDDEN;
/* The next snapshot's SEQ comes after this one (files another copy of the
 * recorder already wrote into the directory). */
void hd_seq_at_least(uint32_t seq) HD_HIDDEN;
/* The fork and exit handlers and the program's name, once per process. */
void hd_control_prepare(void) HD_HIDDEN;
/* The exit snapshot of a process ending without exit(), labelled LABEL
 * ("SIGTERM", "_exit"); FINAL when nothing may follow it (_exit). */
void hd_snapshot_before_end(const char *label, bool final) HD_HIDDEN;
/* clone_calls.c: a clone without CLONE_VM is a fork that runs no fork
 * handlers; these are the recorder's, run around it. prepare is false when
 * there are none to run (not recording, or the recorder's own call). */
bool hd_raw_fork_prepare(void) HD_HIDDEN;
void hd_raw_fork_parent(void) HD_HIDDEN;
void hd_raw_fork_child(void) HD_HIDDEN;
/* clone_calls.c: glibc's clone, found once at start-up; and syscall()'s
 * clone and clone3 (sandbox.c passes them here). */
void hd_clone_calls_init(void) HD_HIDDEN;
long hd_clone_syscall(long number, long a, long b, long c, long d, long e, long f) HD_HIDDEN;
/* exit_calls.c: the next raise and _exit, found once at start-up. */
void hd_exit_calls_init(void) HD_HIDDEN;
/* exec_calls.c: the real exec functions, and what the environment held. */
void hd_exec_calls_init(void) HD_HIDDEN;

#endif
