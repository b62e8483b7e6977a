/* config.c: the HEAPDIFF_* environment, validated once; warnings and notes. */
#ifndef HEAPDIFF_CONFIG_H
#define HEAPDIFF_CONFIG_H

#include "common.h"

/* HEAPDIFF_UNWIND: fast (default), libunwind (unw_backtrace every time), or
 * verify (both, every difference counted and reported at exit). */
enum hd_unwind_mode { HD_UNWIND_FAST, HD_UNWIND_LIBUNWIND, HD_UNWIND_VERIFY };
struct hd_config {
    char output_dir[4096];      /* absolute */
    int output_fd;              /* output_dir, held open (see hd_output_fd) */
    dev_t output_dev;
    ino_t output_ino;
    char report_name[HD_REPORT_MAX_NAME + 1];   /* HEAPDIFF_REPORT, "" when unset */
    unsigned depth;             /* frames kept per stack */
    double interval_seconds;    /* 0: no periodic snapshots */
    int signal;                 /* 0: no snapshot signal */
    bool follow_children;
    bool keep_helper_exits;     /* HEAPDIFF_FOLLOW_CHILDREN=all */
    int program_parent;         /* HEAPDIFF_PROGRAM_PARENT, 0 when unset */
    bool print_stats;           /* HEAPDIFF_STATS=1: recorder memory at exit */
    bool python_malloc;         /* HEAPDIFF_PYTHONMALLOC=malloc: pymalloc off (opt-in) */
    bool python_native_full;    /* HEAPDIFF_PYTHON_NATIVE=full */
    unsigned format;            /* HEAPDIFF_FORMAT: snapshot format version written */
    enum hd_unwind_mode unwind; /* HEAPDIFF_UNWIND */
    uint64_t sample_rate;       /* HEAPDIFF_SAMPLE: mean bytes between sample points; 0: every allocation */
    uint64_t sample_seed;       /* HEAPDIFF_SAMPLE_SEED, when sample_seeded */
    bool sample_seeded;
    unsigned keep;              /* HEAPDIFF_KEEP: periodic snapshots kept; 0: all */
    bool output_ok;             /* output_dir exists and is writable */
};
extern struct hd_config hd_config HD_HIDDEN;

/* Whether a thread should make its stack memos (the native memo,
 * stack_memo.c; the Python stacks table, python_stacks.c). Each is mapped
 * at ~1.7 MiB; the native memo touches what its stacks need (~40 bytes a
 * frame), the Python table a page or so per stack remembered, so a
 * long-lived thread ends up holding hundreds of KiB; that pays only when
 * stacks are captured often. Sampling at 64 KiB or more, walking every sampled stack costs less
 * than 0.2% more instructions (Benchmarks/README.md, "Recorder memory"),
 * while a service's hundred threads would hold hundreds of MiB. Asked each
 * time a table would be made, so an attach session at another rate decides
 * anew. */
enum { HD_MEMO_SAMPLE_RATE_LIMIT = 64 * 1024 };
static inline bool hd_thread_memos_pay(void) {
    return hd_config.sample_rate < HD_MEMO_SAMPLE_RATE_LIMIT;   /* 0: every allocation */
}
void hd_config_load(void) HD_HIDDEN;
void hd_warn(const char *fmt, ...) HD_HIDDEN __attribute__((format(printf, 1, 2)));
void hd_note(const char *fmt, ...) HD_HIDDEN __attribute__((format(printf, 1, 2)));
/* hd_warn, and a HD_REPORT_WRITE_FAILED notice to `heapdiff run`. */
void hd_fail(const char *fmt, ...) HD_HIDDEN __attribute__((format(printf, 1, 2)));
/* HEAPDIFF_OUTPUT resolved, created and opened (output_dir.c); on
 * failure one line on stderr and output_ok stays false. */
void hd_output_dir_load(void) HD_HIDDEN;
/* The output directory, opened again by path when the program closed our
 * descriptor; -1 (errno set) when it cannot be opened. */
int hd_output_fd(void) HD_HIDDEN;
/* HEAPDIFF_KEEP: a periodic snapshot just written, the oldest kept one
 * deleted past N; and, in a fork child, the parent's forgotten. */
void hd_output_keep_periodic(uint32_t seq) HD_HIDDEN;
void hd_output_keep_forget(void) HD_HIDDEN;
/* The SEQ a new snapshot of this process takes, SEQ or past the files of
 * this program and pid already in the folder (the output directory, or
 * its helpers subfolder): a file is never replaced. */
uint32_t hd_output_free_seq(bool to_helpers, uint32_t seq) HD_HIDDEN;
/* heapdiff attach: the session's output directory (absolute) opened and
 * held instead of the previous one; false (errno set) when it cannot be. */
bool hd_output_dir_use(const char *dir) HD_HIDDEN;
/* heapdiff attach, at the end of a session: the directory let go, so that
 * the process keeps no descriptor of ours once detached. */
void hd_output_dir_release(void) HD_HIDDEN;
void hd_strip_self_from_ld_preload(void) HD_HIDDEN;
/* The LD_PRELOAD entry [start, end) is the recorder: a file named
 * libheapdiff*, or named as this library is (HEAPDIFF_LIBRARY may name a
 * copy by another name). */
bool hd_preload_entry_is_recorder(const char *start, const char *end) HD_HIDDEN;
/* OUTPUT/helpers (under the output directory's descriptor dir), created
 * 0700 if missing: where the exit snapshots of helper processes go. False
 * (errno set) when it cannot be used. */
bool hd_helpers_directory(int dir) HD_HIDDEN;
/* Where hd_warn and hd_note write: the program's stderr when preloaded; under
 * heapdiff attach the session's status pipe, never the program's own output
 * (-1: nowhere). */
extern int hd_message_fd HD_HIDDEN;

#endif
