/* HEAPDIFF_* environment variables, read and validated once at start-up.
 * A bad value never crashes the traced program or changes its exit status:
 * it costs one warning line on stderr and falls back to a safe setting. */
#define _GNU_SOURCE
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
#include "recorder.h"

struct hd_config hd_config;
int hd_message_fd = hd_late_load ? -1 : STDERR_FILENO;

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
    ssize_t ignored = fd >= 0 ? write(fd, line, len) : 0;
    (void)ignored;
    errno = saved;
}

void hd_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    say("warning: ", fmt, ap);
    va_end(ap);
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
    const char *text = getenv("HEAPDIFF_DEPTH");
    unsigned long depth = 64;
    if (text && !parse_unsigned(text, 1, HD_TRACE_MAX_FRAMES, &depth)) {
        hd_warn("HEAPDIFF_DEPTH=%s is not a whole number from 1 to %d; using 64", text, HD_TRACE_MAX_FRAMES);
        depth = 64;
    }
    hd_config.depth = (unsigned)depth;
}

static void load_interval(void) {
    const char *text = getenv("HEAPDIFF_INTERVAL");
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

/* Only signals with no meaning of their own to the kernel or libc are
 * accepted: SIGUSR1, SIGUSR2 and the real-time signals. */
static int parse_signal(const char *text) {
    if (strncasecmp(text, "SIG", 3) == 0)
        text += 3;
    if (strcasecmp(text, "USR1") == 0)
        return SIGUSR1;
    if (strcasecmp(text, "USR2") == 0)
        return SIGUSR2;
    unsigned long n;
    if (strncasecmp(text, "RTMIN+", 6) == 0 && parse_unsigned(text + 6, 0, 64, &n) && SIGRTMIN + (int)n <= SIGRTMAX)
        return SIGRTMIN + (int)n;
    if (strcasecmp(text, "RTMIN") == 0)
        return SIGRTMIN;
    if (parse_unsigned(text, 1, 64, &n) &&
        ((int)n == SIGUSR1 || (int)n == SIGUSR2 || ((int)n >= SIGRTMIN && (int)n <= SIGRTMAX)))
        return (int)n;
    return -1;
}

static void load_signal(void) {
    const char *text = getenv("HEAPDIFF_SIGNAL");
    hd_config.signal = SIGUSR2;
    if (!text || !*text)
        return;
    if (strcasecmp(text, "off") == 0 || strcmp(text, "0") == 0 || strcasecmp(text, "none") == 0) {
        hd_config.signal = 0;
        return;
    }
    int sig = parse_signal(text);
    if (sig < 0) {
        hd_warn("HEAPDIFF_SIGNAL=%s is not USR1, USR2, RTMIN+N or off; snapshot signal disabled", text);
        sig = 0;
    }
    hd_config.signal = sig;
}

static void load_follow_children(void) {
    const char *text = getenv("HEAPDIFF_FOLLOW_CHILDREN");
    hd_config.follow_children = true;
    if (!text || !*text)
        return;
    if (!strcmp(text, "0") || !strcasecmp(text, "no") || !strcasecmp(text, "false") || !strcasecmp(text, "off"))
        hd_config.follow_children = false;
    else if (strcmp(text, "1") && strcasecmp(text, "yes") && strcasecmp(text, "true") && strcasecmp(text, "on"))
        hd_warn("HEAPDIFF_FOLLOW_CHILDREN=%s is not 0 or 1; following children", text);
}

/* The output directory is made absolute now, because the program may chdir
 * later, and created 0700 when missing: snapshots hold command lines. */
static void load_output_dir(void) {
    const char *text = getenv("HEAPDIFF_OUTPUT");
    char *dir = hd_config.output_dir;
    size_t cap = sizeof hd_config.output_dir;
    hd_config.output_ok = false;
    if (!text || !*text)
        text = ".";
    if (text[0] == '/') {
        if (strlen(text) >= cap) {
            hd_warn("HEAPDIFF_OUTPUT is longer than %zu bytes; no snapshots will be written", cap - 1);
            return;
        }
        strcpy(dir, text);
    } else {
        if (!getcwd(dir, cap) || strlen(dir) + 1 + strlen(text) >= cap) {
            hd_warn("cannot resolve HEAPDIFF_OUTPUT=%s against the working directory; no snapshots will be written", text);
            return;
        }
        if (strcmp(text, ".") != 0) {
            strcat(dir, "/");
            strcat(dir, text);
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT || mkdir(dir, 0700) != 0) {
            hd_warn("cannot create output directory %s: %s; no snapshots will be written", dir, strerror(errno));
            return;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        hd_warn("HEAPDIFF_OUTPUT=%s is not a directory; no snapshots will be written", dir);
        return;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        hd_warn("output directory %s is not writable: %s; no snapshots will be written", dir, strerror(errno));
        return;
    }
    hd_config.output_ok = true;
}

/* HEAPDIFF_PYTHONMALLOC=keep leaves pymalloc alone (small objects then hide
 * in its arenas); HEAPDIFF_PYTHON_NATIVE=full unwinds the whole native stack
 * under Python code instead of stopping at the innermost eval loop. */
static void load_python(void) {
    const char *keep = getenv("HEAPDIFF_PYTHONMALLOC");
    hd_config.python_keep_pymalloc = false;
    if (keep && strcmp(keep, "keep") == 0)
        hd_config.python_keep_pymalloc = true;
    else if (keep && *keep && strcmp(keep, "malloc") != 0)
        hd_warn("HEAPDIFF_PYTHONMALLOC=%s is not keep or malloc; using malloc", keep);
    const char *native = getenv("HEAPDIFF_PYTHON_NATIVE");
    hd_config.python_native_full = false;
    if (native && strcmp(native, "full") == 0)
        hd_config.python_native_full = true;
    else if (native && *native && strcmp(native, "inner") != 0)
        hd_warn("HEAPDIFF_PYTHON_NATIVE=%s is not inner or full; using inner", native);
}

void hd_config_load(void) {
    const char *stats = getenv("HEAPDIFF_STATS");
    hd_config.print_stats = stats && strcmp(stats, "1") == 0;
    load_depth();
    load_interval();
    load_signal();
    load_follow_children();
    load_output_dir();
    load_python();
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
        const char *base = start;
        for (const char *q = start; q < p; q++)
            if (*q == '/')
                base = q + 1;
        if (strncmp(base, "libheapdiff", 11) == 0)
            continue;
        if (out != value)
            *out++ = ':';
        memmove(out, start, len);
        out += len;
    }
    *out = '\0';
}
