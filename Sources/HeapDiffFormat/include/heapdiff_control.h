/*
 * The protocol between the heapdiff CLI and the recorder, defined once: the
 * recorder (libheapdiff.so) and the CLI (Swift, module HeapDiffFormat) both
 * call these functions, so neither side restates a name, a default or a
 * message layout. docs/PROTOCOL.md explains it in prose.
 *
 *   environment  HEAPDIFF_* variables the CLI sets and the recorder reads
 *   signals      the optional snapshot signal, parsed the same on both sides
 *   file names   PROGRAM.PID.SEQ.heapsnap, written as .NAME.tmp then renamed
 *   control      `heapdiff snapshot PID`: one request, one reply, over the
 *                abstract UNIX socket "heapdiff.PID" the process listens on
 *   report       the recorder's notices to `heapdiff run` (a process could
 *                not write, a program took the snapshot signal), datagrams
 *                to the abstract socket named in HEAPDIFF_REPORT
 *   verdicts     what a test harness (pytest-heapdiff, HeapDiffTesting)
 *                decided about each leak test it judged, for `check`/`run`
 *
 * Nothing here allocates: the recorder calls it with its guard held.
 */
#ifndef HEAPDIFF_CONTROL_H
#define HEAPDIFF_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

/* ---- environment ----------------------------------------------------- */
#define HD_ENV_OUTPUT "HEAPDIFF_OUTPUT"                  /* default: the working directory */
#define HD_ENV_DEPTH "HEAPDIFF_DEPTH"                    /* default HD_DEFAULT_DEPTH */
#define HD_ENV_INTERVAL "HEAPDIFF_INTERVAL"              /* default: no periodic snapshots */
#define HD_ENV_SIGNAL "HEAPDIFF_SIGNAL"                  /* default: off */
#define HD_ENV_FOLLOW_CHILDREN "HEAPDIFF_FOLLOW_CHILDREN" /* default: 1 */
#define HD_ENV_REPORT "HEAPDIFF_REPORT"                  /* set by `heapdiff run`/`check` only */
#define HD_ENV_FORMAT "HEAPDIFF_FORMAT"                  /* default: the current version; 1 writes version 1 */
#define HD_ENV_PROGRAM_PARENT "HEAPDIFF_PROGRAM_PARENT"  /* set by `heapdiff run`/`check` only: their pid */
#define HD_ENV_SAMPLE "HEAPDIFF_SAMPLE"                  /* default: every allocation recorded */
#define HD_ENV_KEEP "HEAPDIFF_KEEP"                      /* default: every periodic snapshot kept */
/* The heapdiff command for test harnesses (pytest-heapdiff) in the traced
 * program: `run` and `check` set it to themselves unless it is set. */
#define HD_ENV_CLI "HEAPDIFF_CLI"
enum { HD_DEFAULT_DEPTH = 64 };

/* ---- sampling and the ring of periodic snapshots --------------------- */
/* HEAPDIFF_SAMPLE (`--sample` of run, check and attach): the mean number
 * of bytes between two sample points, written as sizes are on the command
 * line: "524288", "512KiB", "512k", "1.5 MiB" (units are powers of 1024,
 * any case). "0", "off" and "" record every allocation (*bytes = 0).
 * Returns false for anything else, or a rate over HD_SAMPLE_RATE_MAX. */
enum { HD_SAMPLE_RATE_MAX = 1 << 30 };
bool hd_parse_sample_rate(const char *text, unsigned long long *bytes);
/* HEAPDIFF_KEEP (`--keep`): how many of its latest periodic (--interval)
 * snapshots a process keeps, each new one deleting the oldest; "0", "all"
 * and "" keep them all (*count = 0). Snapshots taken by the program, on
 * request or at exit are always kept. False for anything else. */
enum { HD_KEEP_MAX = 1000000 };
bool hd_parse_keep(const char *text, unsigned *count);

/* ---- the snapshot signal --------------------------------------------- */
/* USR1, USR2, RTMIN, RTMIN+N, SIG-prefixed or not, any case, or their
 * numbers; "off", "none" and "0" turn it off. Only signals that mean nothing
 * to the kernel or libc are accepted, so a typo cannot make a request kill
 * the program. Returns the signal number, 0 for off, -1 when not accepted. */
int hd_parse_signal(const char *text);
/* "USR1", "USR2", "RTMIN+3" into buf; returns buf. */
const char *hd_signal_name(int signal_number, char *buf, size_t cap);

/* ---- snapshot file names --------------------------------------------- */
#define HD_SNAPSHOT_SUFFIX ".heapsnap"
/* Under `heapdiff run`/`check`, where the exit snapshots of processes the
 * program started that took none of their own go, inside the output
 * directory. */
#define HD_HELPERS_SUBDIRECTORY "helpers"
/* "PROGRAM.PID.SEQ.heapsnap", or ".PROGRAM.PID.SEQ.heapsnap.tmp" while
 * being written. Returns the length, or -1 when it does not fit. */
int hd_snapshot_file_name(char *buf, size_t cap, const char *program, int pid, unsigned seq, bool temporary);
/* The SEQ of NAME when it is PROGRAM.PID.SEQ.heapsnap for this program and
 * pid, else 0. */
unsigned hd_snapshot_file_seq(const char *name, const char *program, int pid);

/* ---- control socket: `heapdiff snapshot PID` ------------------------- */
/* A SOCK_SEQPACKET socket in the abstract namespace, "\0heapdiff.PID"; the
 * listening process's credentials prove the name is not squatted, the
 * requester's say whether it may ask (same user, or root). */
#define HD_CONTROL_SOCKET_PREFIX "heapdiff."   /* then the pid */
enum {
    HD_CONTROL_MAX_LABEL = 4095,
    HD_CONTROL_MAX_MESSAGE = 8192,         /* one request or one reply */
    HD_CONTROL_REQUEST_WAIT_MS = 1000,     /* a connection that sends nothing is dropped */
};
void hd_control_address(int pid, struct sockaddr_un *address, socklen_t *length);
/* Request: "heapdiff-snapshot 1\n" then the label (may be empty). */
int hd_control_encode_request(char *buf, size_t cap, const char *label);
bool hd_control_decode_request(const char *message, size_t length, char *label, size_t label_cap);
/* Reply: "ok\n" then the snapshot's absolute path, or "error\n" then why. */
int hd_control_encode_reply(char *buf, size_t cap, bool ok, const char *text);

/* The client side, whole: connect, check the listener is process pid, send
 * one request, wait up to timeout_ms for the reply. */
enum hd_control_result {
    HD_CONTROL_WRITTEN = 0,     /* text: the snapshot's path */
    HD_CONTROL_REFUSED = 1,     /* text: the recorder's reason */
    HD_CONTROL_NO_LISTENER = 2, /* nothing listens on heapdiff.PID (yet), or it closed before taking the request */
    HD_CONTROL_IMPOSTOR = 3,    /* text: the pid of the process that does listen */
    HD_CONTROL_TIMED_OUT = 4,
    HD_CONTROL_FAILED = 5,      /* text: strerror of the failing call */
};
enum hd_control_result hd_control_request(int pid, const char *label, int timeout_ms, char *text, size_t text_cap);

/* ---- report channel: recorder -> `heapdiff run` ---------------------- */
/* SOCK_DGRAM in the abstract namespace, named by HEAPDIFF_REPORT; every
 * process of the run, whatever its user, can send to it, and the kernel
 * stamps each datagram with the sender's pid and uid (SO_PASSCRED). A
 * datagram is "KIND\n" then a one-line text. */
#define HD_REPORT_WRITE_FAILED "write-failed"    /* text: what failed, in the recorder's words */
#define HD_REPORT_SIGNAL_TAKEN "signal-taken"    /* text: the signal's name */
/* text: "NAME\tPROGRAM\tVARIABLE VARIABLE…": a process NAME started PROGRAM
 * with an environment that leaves out these (exec_calls.c) */
#define HD_REPORT_ENVIRONMENT_LEFT_OUT "environment-left-out"
/* text: "NAME\tPROGRAM\tDETAIL": a process NAME started PROGRAM, with the
 * recorder in LD_PRELOAD, in secure-execution mode (DETAIL: "real user R,
 * effective user E" or the same of groups), where the loader ignores it */
#define HD_REPORT_SECURE_EXECUTION "secure-execution"
enum { HD_REPORT_MAX_MESSAGE = 1024, HD_REPORT_MAX_NAME = 100 };
/* Fills the address for a name as found in HEAPDIFF_REPORT; false when the
 * name is empty or too long. */
bool hd_report_address(const char *name, struct sockaddr_un *address, socklen_t *length);
/* Sends one notice, never blocking; false when it could not be sent. */
bool hd_report_send(const char *name, const char *kind, const char *text);

/* `heapdiff run`'s side: a fresh, unique name and a socket bound to it
 * (close-on-exec, non-blocking); -1 with errno on failure. */
int hd_report_open(char *name, size_t name_cap);
struct hd_report_notice {
    int pid, uid;
    char kind[32];
    char text[HD_REPORT_MAX_MESSAGE];
};
/* The next queued notice: 1, or 0 when none is left. */
int hd_report_receive(int fd, struct hd_report_notice *notice);

/* ---- leak-test verdicts: test harnesses -> `heapdiff check`/`run` -- */
/* A harness that judges leak tests inside the traced process (pytest-heapdiff,
 * HeapDiffTesting) moves each test's snapshots out of the process's own
 * series and records its verdict in the output directory, in its own file
 * "leak-tests.PID.verdicts" (PID: the writing process), created 0600 with
 * O_NOFOLLOW. One line per judged test, appended with a single O_APPEND
 * write(), so threads and processes never mix lines (the summary is cut to
 * keep a line within HD_VERDICT_MAX_LINE bytes); five fields separated by
 * tabs (a tab, CR or LF inside a field is written as a space):
 *
 *   STATUS \t HARNESS \t TEST \t SNAPSHOTS \t SUMMARY \n
 *
 *   STATUS     HD_VERDICT_PASSED, HD_VERDICT_LEAKED or HD_VERDICT_ERROR (the
 *              harness could not judge; the summary says why)
 *   HARNESS    who judged: "pytest-heapdiff", "HeapDiffTesting"
 *   TEST       the test's name as its framework shows it
 *   SNAPSHOTS  the absolute path of the folder keeping the test's snapshots
 *              (leaked), else empty
 *   SUMMARY    one line: each grown site and its growth (leaked), the reason
 *              (error), or empty (passed)
 *
 * Readers ignore fields after the fifth (added ones go at the end), count an
 * unknown STATUS as one that could not be judged, believe only regular files
 * owned by their own user, and read only the records added since the run
 * began (an --output directory may hold earlier runs' files). */
#define HD_VERDICTS_PREFIX "leak-tests."
#define HD_VERDICTS_SUFFIX ".verdicts"
#define HD_VERDICT_PASSED "passed"
#define HD_VERDICT_LEAKED "leaked"
#define HD_VERDICT_ERROR "error"
enum { HD_VERDICT_MAX_LINE = 4096 };
/* "leak-tests.PID.verdicts"; returns the length, or -1 when it does not fit. */
int hd_verdicts_file_name(char *buf, size_t cap, int pid);
/* The PID in such a name, or -1 when `name` is not one. */
int hd_verdicts_file_pid(const char *name);

#endif /* HEAPDIFF_CONTROL_H */
