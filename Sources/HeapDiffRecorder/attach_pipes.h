/* The two FIFOs an attach session talks to heapdiff through (attach.c):
 * descriptors kept apart from the program's own. */
#ifndef HEAPDIFF_ATTACH_PIPES_H
#define HEAPDIFF_ATTACH_PIPES_H

#include <stdbool.h>
#include <sys/types.h>
#include "recorder.h"

/* One end, with the identity of the FIFO it was opened on. */
struct hd_pipe_end {
    int fd;
    dev_t dev;
    ino_t ino;
};

/* Opens PATH (a FIFO, or it fails) non-blocking and close-on-exec, at a
 * high descriptor number. */
bool hd_pipe_open(struct hd_pipe_end *end, const char *path, int flags) HD_HIDDEN;

/* Whether END's descriptor is still the FIFO it was opened on (the program
 * may have closed it, or dup2'ed over it). */
bool hd_pipe_intact(const struct hd_pipe_end *end) HD_HIDDEN;

/* Closes END if it is still ours; forgets it either way. */
void hd_pipe_close(struct hd_pipe_end *end) HD_HIDDEN;

/* Writes one line to END (a newline added; cut at ~600 bytes), if intact. */
void hd_pipe_say(const struct hd_pipe_end *end, const char *fmt, ...) HD_HIDDEN __attribute__((format(printf, 2, 3)));

#endif
