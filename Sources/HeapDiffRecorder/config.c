/* HEAPDIFF_* environment variables, read and validated once at start-up.
 * A bad value never crashes the traced program or changes its exit status:
 * it costs one warning line on stderr and falls back to a safe setting. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "private_fds.h"
#include "quiet_write.h"
#include "recorder.h"

struct hd_config hd_config;
int hd_message_fd = hd_late_load ? -1 : STDERR_FILENO;

/* The stderr the process started with. Messages go there only while fd 2
 * still is that file: a daemon that closed it may have been given the
 * number back for a file of its own (a database, a socket), which a
 * warning would corrupt; one that put its log there has its own words
 * there, and `heapdiff run` hears of failures through its report pipe. */
static struct { bool known; dev_t dev; ino_t ino; } started_stderr;

static void note_started_stderr(void) {
    struct stat st;
    if (fstat(STDERR_FILENO, &st) == 0)
        started_stderr = (__typeof__(started_stderr)){true, st.st_dev, st.st_ino};
}

/* Formats into a stack buffer and writes once: no stdio buffers, no malloc. */
static void say(const char *kind, const char *fmt, va_list ap) {
    char line[512];
    int n = snprintf(line, sizeof line, "heapdiff: %s", kind);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    if (m < 0)
        return;
    size_t len = (size_t)n + ((size_t)m < sizeof line - (size_t)n - 1 ? (size_t)m : sizeof line - (size_t)n - 2);
    line[len++] = '\n';
    int saved = errno, fd = __atomic_load_n(&hd_message_fd, __ATOMIC_ACQUIRE);
    if (fd == STDERR_FILENO && !(started_stderr.known && hd_fd_is(fd, started_stderr.dev, started_stderr.ino)))
        fd = -1;
    ssize_t ignored = fd >= 0 ? hd_write_quietly(fd, line, len) : 0;
    (void)ignored;
    errno = saved;
}

void hd_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    say("warning: ", fmt, ap);
    va_end(ap);
}

/* A warning that `heapdiff run` also learns of: this process cannot write. */
void hd_fail(const char *fmt, ...) {
    char text[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    hd_warn("%s", text);
    hd_report(HD_REPORT_WRITE_FAILED, "%s", text);
}

void hd_note(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    say("", fmt, ap);
    va_end(ap);
}

static bool parse_unsigned(const char *text, unsigned long min, unsigned long max, unsigned long *out) {
    if (!text || !*text)
        return false;
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || *end || text[0] == '-' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static void load_depth(void) {
    const char *text = getenv(HD_ENV_DEPTH);
    unsigned long depth = HD_DEFAULT_DEPTH;
    if (text && !parse_unsigned(text, 1, HD_TRACE_MAX_FRAMES, &depth)) {
        hd_warn("HEAPDIFF_DEPTH=%s is not a whole number from 1 to %d; using %d", text, HD_TRACE_MAX_FRAMES,
                HD_DEFAULT_DEPTH);
        depth = HD_DEFAULT_DEPTH;
    }
    hd_config.depth = (unsigned)depth;
}

static void load_interval(void) {
    const char *text = getenv(HD_ENV_INTERVAL);
    hd_config.interval_seconds = 0;
    if (!text || !*text)
        return;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || *end || !isfinite(v) || v < 0 || (v > 0 && v < 0.01) || v > 86400.0 * 365) {
        hd_warn("HEAPDIFF_INTERVAL=%s is not a number of seconds from 0.01 to 31536000; no periodic snapshots", text);
        return;
    }
    hd_config.interval_seconds = v;
}

/* Off unless asked for: a signal the program may own is never taken by
 * default (the JVM, nginx and gunicorn all give SIGUSR2 a meaning). */
static void load_signal(void) {
    const char *text = getenv(HD_ENV_SIGNAL);
    hd_config.signal = 0;
    if (!text || !*text)
        return;
    int sig = hd_parse_signal(text);
    if (sig < 0) {
        hd_warn("HEAPDIFF_SIGNAL=%s is not USR1, USR2, RTMIN+N or off; snapshot signal disabled", text);
        sig = 0;
    }
    hd_config.signal = sig;
}

/* HEAPDIFF_FOLLOW_CHILDREN: 0 traces only this process; 1 (the default)
 * follows children too, the exit snapshots of helpers going to helpers/;
 * all keeps every child's files in the output directory itself. */
static void load_follow_children(void) {
    const char *text = getenv(HD_ENV_FOLLOW_CHILDREN);
    hd_config.follow_children = true;
    hd_config.keep_helper_exits = false;
    if (!text || !*text)
        return;
    if (!strcmp(text, "0") || !strcasecmp(text, "no") || !strcasecmp(text, "false") || !strcasecmp(text, "off"))
        hd_config.follow_children = false;
    else if (!strcasecmp(text, "all"))
        hd_config.keep_helper_exits = true;
    else if (strcmp(text, "1") && strcasecmp(text, "yes") && strcasecmp(text, "true") && strcasecmp(text, "on"))
        hd_warn("HEAPDIFF_FOLLOW_CHILDREN=%s is not 0, 1 or all; following children", text);
}

/* HEAPDIFF_PROGRAM_PARENT: set by `heapdiff run` and `check` to their own
 * pid, so that the program they start (whatever it executes in the same
 * pid) knows itself from its descendants. Unset: every process counts as
 * the program, as when the recorder is preloaded by hand. */
static void load_program_parent(void) {
    const char *text = getenv(HD_ENV_PROGRAM_PARENT);
    unsigned long pid = 0;
    hd_config.program_parent = 0;
    if (!text || !*text)
        return;
    if (!parse_unsigned(text, 1, 0x7fffffff, &pid)) {
        hd_warn("HEAPDIFF_PROGRAM_PARENT=%s is not a process id; every process counts as the program", text);
        return;
    }
    hd_config.program_parent = (int)pid;
}

/* HEAPDIFF_PYTHONMALLOC=malloc turns pymalloc off for the program (it sets
 * PYTHONMALLOC=malloc, which the program then sees); the default, keep,
 * leaves it on and wraps the interpreter's allocator domains instead.
 * HEAPDIFF_PYTHON_NATIVE=full unwinds the whole native stack under Python
 * code instead of stopping at the innermost eval loop. */
static void load_python(void) {
    const char *allocator = getenv("HEAPDIFF_PYTHONMALLOC");
    hd_config.python_malloc = allocator && strcmp(allocator, "malloc") == 0;
    if (allocator && *allocator && !hd_config.python_malloc && strcmp(allocator, "keep") != 0)
        hd_warn("HEAPDIFF_PYTHONMALLOC=%s is not keep or malloc; keeping pymalloc", allocator);
    const char *native = getenv("HEAPDIFF_PYTHON_NATIVE");
    hd_config.python_native_full = false;
    if (native && strcmp(native, "full") == 0)
        hd_config.python_native_full = true;
    else if (native && *native && strcmp(native, "inner") != 0)
        hd_warn("HEAPDIFF_PYTHON_NATIVE=%s is not inner or full; using inner", native);
}

/* Copied now: a program may overwrite its environment (setproctitle). */
static void load_report(void) {
    const char *name = getenv(HD_ENV_REPORT);
    hd_config.report_name[0] = '\0';
    if (name && strlen(name) < sizeof hd_config.report_name)
        strcpy(hd_config.report_name, name);
}

/* HEAPDIFF_FORMAT=1 writes the format-1 layout (to compare sizes, or for
 * an older reader); the default is the current format. */
static void load_format(void) {
    const char *format = getenv(HD_ENV_FORMAT);
    unsigned long v = HD_FORMAT_VERSION;
    if (format && *format && !parse_unsigned(format, HD_FORMAT_V1, HD_FORMAT_VERSION, &v)) {
        hd_warn("HEAPDIFF_FORMAT=%s is not %d or %d; using %d", format, HD_FORMAT_V1, HD_FORMAT_VERSION,
                HD_FORMAT_VERSION);
        v = HD_FORMAT_VERSION;
    }
    hd_config.format = (unsigned)v;
}

/* HEAPDIFF_UNWIND=libunwind calls unw_backtrace for every allocation, as
 * a reference; verify does both and reports every difference at exit. */
static void load_unwind(void) {
    const char *mode = getenv("HEAPDIFF_UNWIND");
    hd_config.unwind = HD_UNWIND_FAST;
    if (!mode || !*mode || strcmp(mode, "fast") == 0)
        return;
    if (strcmp(mode, "libunwind") == 0)
        hd_config.unwind = HD_UNWIND_LIBUNWIND;
    else if (strcmp(mode, "verify") == 0)
        hd_config.unwind = HD_UNWIND_VERIFY;
    else
        hd_warn("HEAPDIFF_UNWIND=%s is not fast, libunwind or verify; using fast", mode);
}

/* HEAPDIFF_SAMPLE: sample allocations by bytes (sampler.c); a sampled
 * snapshot needs format 2's fields, so HEAPDIFF_FORMAT=1 is overruled.
 * HEAPDIFF_KEEP: the ring of periodic snapshots (output_dir.c). */
static void load_sampling(void) {
    const char *text = getenv(HD_ENV_SAMPLE);
    unsigned long long rate = 0;
    if (text && !hd_parse_sample_rate(text, &rate)) {
        hd_warn("HEAPDIFF_SAMPLE=%s is not a size from 1 byte to 1 GiB (512KiB, 64k, 1048576) or off; "
                "recording every allocation", text);
        rate = 0;
    }
    hd_config.sample_rate = rate;
    if (rate && hd_config.format == HD_FORMAT_V1) {
        hd_warn("HEAPDIFF_FORMAT=1 cannot hold sampled estimates; writing format %d", HD_FORMAT_VERSION);
        hd_config.format = HD_FORMAT_VERSION;
    }
    /* HEAPDIFF_SAMPLE_SEED: the sample points a run draws, fixed (tests
     * compare runs; the default seed is fresh for every process). */
    text = getenv("HEAPDIFF_SAMPLE_SEED");
    if (text && *text) {
        char *end;
        errno = 0;
        unsigned long long seed = strtoull(text, &end, 10);
        if (errno || *end || *text == '-')
            hd_warn("HEAPDIFF_SAMPLE_SEED=%s is not a number; drawing a fresh seed", text);
        else {
            hd_config.sample_seed = seed;
            hd_config.sample_seeded = true;
        }
    }
    text = getenv(HD_ENV_KEEP);
    if (!hd_parse_keep(text, &hd_config.keep)) {
        hd_warn("HEAPDIFF_KEEP=%s is not a number of snapshots from 1 to %d, or all; keeping every snapshot", text,
                HD_KEEP_MAX);
        hd_config.keep = 0;
    }
}

/* This library's file name, for hd_preload_entry_is_recorder. */
static char recorder_file[256];

static void load_recorder_file(void) {
    Dl_info self;
    if (dladdr((void *)hd_config_load, &self) && self.dli_fname) {
        const char *base = strrchr(self.dli_fname, '/');
        snprintf(recorder_file, sizeof recorder_file, "%s", base ? base + 1 : self.dli_fname);
    }
}

bool hd_preload_entry_is_recorder(const char *start, const char *end) {
    const char *base = start;
    for (const char *q = start; q < end; q++)
        if (*q == '/')
            base = q + 1;
    size_t n = (size_t)(end - base), own = strlen(recorder_file);
    return (n >= 11 && strncmp(base, "libheapdiff", 11) == 0) ||
           (own && n == own && strncmp(base, recorder_file, n) == 0);
}

void hd_config_load(void) {
    note_started_stderr();
    load_recorder_file();
    load_report();
    const char *stats = getenv("HEAPDIFF_STATS");
    hd_config.print_stats = stats && strcmp(stats, "1") == 0;
    load_depth();
    load_interval();
    load_signal();
    load_follow_children();
    load_program_parent();
    hd_output_dir_load();
    load_python();
    load_format();
    load_unwind();
    load_sampling();
}

/* HEAPDIFF_FOLLOW_CHILDREN=0: remove our entry from LD_PRELOAD in place, so
 * programs this one executes run untraced while other preloads stay. */
void hd_strip_self_from_ld_preload(void) {
    char *value = getenv("LD_PRELOAD");
    if (!value)
        return;
    char *out = value;
    const char *p = value;
    while (*p) {
        while (*p == ':' || *p == ' ')
            p++;
        const char *start = p;
        while (*p && *p != ':' && *p != ' ')
            p++;
        size_t len = (size_t)(p - start);
        if (len == 0)
            break;
        if (hd_preload_entry_is_recorder(start, p))
            continue;
        if (out != value)
            *out++ = ':';
        memmove(out, start, len);
        out += len;
    }
    *out = '\0';
}
