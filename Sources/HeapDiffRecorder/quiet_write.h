/* quiet_write.c: the recorder's writes to files, without the signal a
 * program's file-size limit would raise. */
#ifndef HEAPDIFF_QUIET_WRITE_H
#define HEAPDIFF_QUIET_WRITE_H
#include <sys/types.h>
#include "common.h"
/* write(2), with SIGXFSZ blocked on this thread meanwhile and the one it
 * raised taken back: past RLIMIT_FSIZE it fails with EFBIG, and that is all. */
ssize_t hd_write_quietly(int fd, const void *buffer, size_t length) HD_HIDDEN;
#endif
