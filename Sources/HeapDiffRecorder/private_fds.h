/* private_fds.c: the recorder's descriptors, kept apart from the program's. */
#ifndef HEAPDIFF_PRIVATE_FDS_H
#define HEAPDIFF_PRIVATE_FDS_H

#include "common.h"

/* fd moved to a high, close-on-exec number (it is closed). */
int hd_private_fd(int fd) HD_HIDDEN;
/* Whether fd still refers to the file (dev, ino): the program may have
 * closed our descriptor and reused the number. */
bool hd_fd_is(int fd, dev_t dev, ino_t ino) HD_HIDDEN;
/* The exported pipe2 (its descriptors moved high while the recorder runs). */
int hd_private_pipe2(int fds[2], int flags) HD_HIDDEN;

#endif
