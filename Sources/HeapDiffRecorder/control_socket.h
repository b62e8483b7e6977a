/* control_socket.c: `heapdiff snapshot PID` requests and notices to `heapdiff run`. */
#ifndef HEAPDIFF_CONTROL_SOCKET_H
#define HEAPDIFF_CONTROL_SOCKET_H

#include "common.h"

struct hd_listener {
    int fd;             /* -1: none */
    dev_t dev;
    ino_t ino;
    bool warned;        /* could not listen, and said so */
};
/* Takes a snapshot for a request: as hd_snapshot_write. */
typedef int (*hd_request_snapshot)(const char *label, char *text, size_t text_cap);
void hd_listener_open(struct hd_listener *l) HD_HIDDEN;
bool hd_listener_is_ours(const struct hd_listener *l) HD_HIDDEN;
/* Fork child: the parent's socket is the parent's. */
void hd_listener_drop_inherited(struct hd_listener *l) HD_HIDDEN;
/* Answers the requests waiting (a few at most), one snapshot each. */
void hd_listener_serve(struct hd_listener *l, hd_request_snapshot take) HD_HIDDEN;
/* A notice to `heapdiff run` (HEAPDIFF_REPORT), when it listens. */
void hd_report(const char *kind, const char *fmt, ...) HD_HIDDEN __attribute__((format(printf, 2, 3)));

#endif
