/* quiet_write.c: the recorder's writes, without the signals a program's
 * file-size limit or a pipe nobody reads would raise. */
#ifndef HEAPDIFF_QUIET_WRITE_H
#define HEAPDIFF_QUIET_WRITE_H
#include <sys/types.h>
#include "common.h"
/* write(2), with SIGXFSZ and SIGPIPE blocked on this thread meanwhile and
 * the one it raised taken back: it fails with EFBIG or EPIPE, and that is all. */
ssize_t hd_write_quietly(int fd, const void *buffer, size_t length) HD_HIDDEN;
#endif
