/* heapdiff attach: the entry point the injector calls in a running process,
 * and the session thread that records from then on until told to detach.
 *
 * The injector (gdb, driven by `heapdiff attach`) dlopens
 * libheapdiff-attach.so and calls heapdiff_attach() in a thread it stopped.
 * That call only copies the request and starts the session thread: the
 * stopped thread may hold locks, so everything else happens in a thread of
 * our own. The session talks to heapdiff through two FIFOs heapdiff created
 * beside the snapshots:
 *   NAME.in   commands, one a line: "detach", "snapshot LABEL" (heapdiff
 *             snapshot PID writes there too); when every writer has gone
 *             (heapdiff killed), the session detaches by itself
 *   NAME.out  status lines: "attached SEQ SLOTS MODULES PYTHON", "snapshot
 *             SEQ", "detached SEQ SLOTS PYTHON KEPT", "error TEXT", and the
 *             recorder's warnings (PYTHON: what became of CPython's
 *             allocator domains, hd_python_domains_word; KEPT: entries
 *             of sized frees left with the recorder, hd_got_patch)
 * Detaching takes a final snapshot, stops recording, and writes the real
 * functions back into the GOT (sized frees excepted once a session has
 * sampled: hd_got_patch). The library stays mapped (a thread may still
 * be inside a hook, and code must not vanish under it), inert until the next
 * attach, which starts from empty tables. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libunwind.h>
#include "recorder.h"
#include "attach_pipes.h"
#include "proc_self.h"
#include "thread_state.h"

enum { REQUEST_MAX = 8192, COMMAND_MAX = 512, TICK_MS = 100, FULL_PASS_TICKS = 10 };
/* How long the session waits for a running interpreter's GIL. */
enum { GIL_WAIT_MS = 2000 };

/* heapdiff_attach() results, printed by gdb for heapdiff to read. */
enum { ATTACH_STARTED = 0, ATTACH_BUSY = 1, ATTACH_PRELOADED = 2, ATTACH_BAD_REQUEST = 3, ATTACH_NO_THREAD = 4 };

static int session_running;          /* 1 from heapdiff_attach() to the end of the session thread */
static char request[REQUEST_MAX];

struct session {
    struct hd_pipe_end in, out;
    double interval;
    char command[COMMAND_MAX];
    size_t command_length;
};
/* The one session, global so that a forked child can close its pipes. */
static struct session current = {.in = {.fd = -1}, .out = {.fd = -1}};

/* ---- the request: KEY=VALUE lines ------------------------------------- */

static const char *field(const char *key) {
    size_t n = strlen(key);
    for (const char *line = request; *line;) {
        const char *end = strchr(line, '\n');
        if (strncmp(line, key, n) == 0 && line[n] == '=')
            return line + n + 1;
        if (!end)
            break;
        line = end + 1;
    }
    return NULL;
}

/* Copies the value of key (up to its end of line) into out. */
static bool field_copy(const char *key, char *out, size_t cap) {
    const char *value = field(key);
    if (!value)
        return false;
    size_t n = strcspn(value, "\n");
    if (n == 0 || n >= cap)
        return false;
    memcpy(out, value, n);
    out[n] = '\0';
    return true;
}

/* ---- start: once per process, then once per session ------------------- */

static void forked_child(void) {
    /* The session thread stays in the parent; the child lets go of its
     * pipes and may be attached anew. */
    __atomic_store_n(&hd_message_fd, -1, __ATOMIC_RELEASE);
    hd_python_domains_forked();
    if (__atomic_load_n(&session_running, __ATOMIC_ACQUIRE)) {
        hd_pipe_close(&current.in);
        hd_pipe_close(&current.out);
    }
    __atomic_store_n(&session_running, 0, __ATOMIC_RELEASE);
}

static const char *prepare_process(void) {
    static bool prepared;
    if (prepared)
        return NULL;
    hd_resolve_real_allocator();
    if (!hd_real_allocator_usable() || !hd_got_init())
        return "the process's malloc, free, calloc or realloc could not be found";
    __atomic_store_n(&hd_state, HD_STATE_PASSTHROUGH, __ATOMIC_RELEASE);
    /* libunwind makes its pipe at its first use (hd_record_init), with the
     * lowest free numbers unless it calls our pipe2, as it does preloaded:
     * a program that later closes and reuses them would get libunwind's
     * reads and writes (private_fds.c). */
    hd_got_bind_own((const void *)&unw_backtrace, "pipe2", (void *)&hd_private_pipe2);
    hd_memory_locks_attach();
    hd_record_init();
    hd_python_init(true);
    hd_control_prepare();
    pthread_atfork(NULL, NULL, forked_child);
    prepared = true;
    return NULL;
}

static const char *configure(struct session *s) {
    char text[64], output[sizeof hd_config.output_dir];
    if (!field_copy("output", output, sizeof output) || output[0] != '/')
        return "no absolute output directory in the request";
    struct stat st;
    if (stat(output, &st) != 0 || !S_ISDIR(st.st_mode) || access(output, W_OK | X_OK) != 0)
        return "the output directory is not a directory this process can write to";
    if (!hd_output_dir_use(output))
        return "the output directory cannot be opened";
    unsigned long depth = 64;
    if (field_copy("depth", text, sizeof text))
        depth = strtoul(text, NULL, 10);
    if (depth < 1 || depth > HD_TRACE_MAX_FRAMES)
        return "bad depth in the request";
    s->interval = field_copy("interval", text, sizeof text) ? strtod(text, NULL) : 0;
    if (!(s->interval == 0 || (s->interval >= 0.01 && s->interval <= 86400.0 * 365)))
        return "bad interval in the request";
    /* --sample: sampled from this session on. The sampler is set up once
     * per process; a thread's countdown left from an earlier session's rate
     * finishes its gap before the new rate's gaps begin. */
    static bool sampler_ready;
    unsigned long long rate = 0;
    if (field_copy("sample", text, sizeof text) && !hd_parse_sample_rate(text, &rate))
        return "bad sample rate in the request";
    if (rate && !sampler_ready) {
        if (!hd_sampler_init())
            return "sampling could not be set up";
        sampler_ready = true;
    }
    hd_config.sample_rate = rate;
    /* SEQ goes on from the files already there: this process may have been
     * attached before by another copy of the library (heapdiff upgraded). */
    if (field_copy("after", text, sizeof text))
        hd_seq_at_least((uint32_t)strtoul(text, NULL, 10));
    hd_config.depth = (unsigned)depth;
    hd_config.interval_seconds = 0;          /* this thread takes the periodic snapshots */
    hd_config.signal = 0;                    /* the program's signal dispositions stay its own */
    hd_config.follow_children = false;       /* a forked child passes its allocations through */
    hd_config.keep_helper_exits = false;
    hd_config.program_parent = 0;            /* no `heapdiff run` above it: the process is the program */
    hd_config.report_name[0] = '\0';         /* nor its report socket */
    hd_config.print_stats = false;
    hd_config.python_malloc = false;         /* the environment was read long ago: never set PYTHONMALLOC */
    hd_config.python_native_full = false;
    hd_config.format = HD_FORMAT_VERSION;
    hd_config.unwind = HD_UNWIND_FAST;
    hd_config.output_ok = true;
    return NULL;
}

static void zero_counts(struct hd_trace *t, void *unused) {
    (void)unused;
    t->live_bytes = t->live_count = t->alloc_bytes = t->alloc_count = 0;
    t->live_samples = t->alloc_samples = 0;
}

/* Blocks from an earlier session whose frees went unseen are forgotten;
 * interned stacks stay (threads' caches point at them) with zero counts. */
static void reset_tables(void) {
    hd_lock();
    hd_pointer_table_clear();
    hd_trace_table_each(zero_counts, NULL);
    hd_traces_dropped = false;
    hd_unlock();
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    hd_start_monotonic_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

/* ---- the session ------------------------------------------------------ */

static double seconds_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

enum command_result { KEEP_GOING, DETACH };

static enum command_result run_command(struct session *s, const char *line) {
    if (strcmp(line, "detach") == 0)
        return DETACH;
    if (strncmp(line, "snapshot", 8) == 0 && (line[8] == '\0' || line[8] == ' ')) {
        char text[4400];
        int seq = hd_take_snapshot(HD_TRIGGER_SIGNAL, line[8] ? line + 9 : "", text, sizeof text);
        hd_pipe_say(&s->out, "snapshot %d", seq);
    }
    return KEEP_GOING;
}

/* Reads what the pipe holds; DETACH also when every writer has gone. */
static enum command_result read_commands(struct session *s) {
    for (;;) {
        char buffer[COMMAND_MAX];
        ssize_t n = read(s->in.fd, buffer, sizeof buffer);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? KEEP_GOING : DETACH;
        if (n == 0)
            return DETACH;   /* heapdiff is gone: leave the process as it was */
        for (ssize_t i = 0; i < n; i++) {
            if (buffer[i] != '\n') {
                if (s->command_length < sizeof s->command - 1)
                    s->command[s->command_length++] = buffer[i];
                continue;
            }
            s->command[s->command_length] = '\0';
            s->command_length = 0;
            if (run_command(s, s->command) == DETACH)
                return DETACH;
        }
    }
}

static void record_until_detached(struct session *s) {
    double next_interval = seconds_now() + s->interval;
    bool deferred = false;
    for (unsigned tick = 1;; tick++) {
        int timeout = TICK_MS;
        if (s->interval > 0) {
            double now = seconds_now();
            if (now >= next_interval) {
                char text[4400];
                hd_take_snapshot(HD_TRIGGER_INTERVAL, NULL, text, sizeof text);
                next_interval += s->interval;
                if (next_interval < now)   /* fell behind: don't burst */
                    next_interval = now + s->interval;
            }
            double wait_ms = (next_interval - seconds_now()) * 1000;
            if (wait_ms < timeout)
                timeout = wait_ms < 0 ? 0 : (int)wait_ms;
        }
        struct pollfd in = {.fd = s->in.fd, .events = POLLIN};
        int ready = poll(&in, 1, timeout);
        if (!hd_pipe_intact(&s->in) || !hd_pipe_intact(&s->out))
            return;
        if (ready > 0 && read_commands(s) == DETACH)
            return;
        /* Modules dlopen'ed since are switched over here, not by hooking
         * dlopen: a wrapper would make itself dlopen's caller, whose RUNPATH
         * and namespace decide what a relative name loads. */
        if (deferred || hd_got_modules_changed() || tick % FULL_PASS_TICKS == 0)
            deferred = hd_got_patch(false, false).deferred > 0;
    }
}

static void *session_main(void *unused) {
    (void)unused;
    (void)hd_guard_enter(hd_thread());   /* for good: nothing this thread allocates is the program's */
    prctl(PR_SET_NAME, "heapdiff-attach", 0, 0, 0);
    struct session *s = &current;
    *s = (struct session){.in = {.fd = -1}, .out = {.fd = -1}};
    char path[4200];
    if (field_copy("out", path, sizeof path) && hd_pipe_open(&s->out, path, O_RDWR) && field_copy("in", path, sizeof path) &&
        hd_pipe_open(&s->in, path, O_RDONLY)) {
        __atomic_store_n(&hd_message_fd, s->out.fd, __ATOMIC_RELEASE);
        const char *problem = configure(s);   /* first: hd_python_init reads it */
        if (!problem)
            problem = prepare_process();
        if (problem) {
            hd_pipe_say(&s->out, "error %s", problem);
        } else {
            reset_tables();
            __atomic_store_n(&hd_state, HD_STATE_RECORDING, __ATOMIC_RELEASE);
            hd_sampling_start();   /* with --sample */
            struct hd_got_counts counts = hd_got_patch(false, false);
            /* Blocks sampling moved to a home (sampled_home.c) must never
             * reach a free that passes a size the allocator relies on: C++'s
             * deletes and sdallocx, where the recorder took them over, stay
             * with it after the detach, and after every later one (such
             * blocks may live on). */
            static bool keep_sized;
            keep_sized |= hd_config.sample_rate != 0;
            /* CPython: its mem and object domains too (pymalloc's small objects). */
            enum hd_py_domains domains = counts.slots ? hd_python_domains(true, GIL_WAIT_MS) : HD_PY_DOMAINS_NONE;
            char text[4400];
            int baseline = counts.slots ? hd_take_snapshot(HD_TRIGGER_SIGNAL, "heapdiff attach", text, sizeof text) : -1;
            if (baseline > 0) {
                hd_pipe_say(&s->out, "attached %d %u %u %s", baseline, counts.slots, counts.modules,
                       hd_python_domains_word(domains));
                record_until_detached(s);
                int final = hd_take_snapshot(HD_TRIGGER_SIGNAL, "heapdiff detach", text, sizeof text);
                hd_sampling_stop();
                __atomic_store_n(&hd_state, HD_STATE_PASSTHROUGH, __ATOMIC_RELEASE);
                counts = hd_got_patch(true, keep_sized);
                enum hd_py_domains back = domains == HD_PY_DOMAINS_WRAPPED ? hd_python_domains(false, GIL_WAIT_MS)
                                                                           : HD_PY_DOMAINS_NONE;
                hd_pipe_say(&s->out, "detached %d %u %s %u", final, counts.slots, hd_python_domains_word(back), counts.kept);
            } else {
                hd_sampling_stop();
                __atomic_store_n(&hd_state, HD_STATE_PASSTHROUGH, __ATOMIC_RELEASE);
                hd_got_patch(true, keep_sized);
                if (domains == HD_PY_DOMAINS_WRAPPED)
                    hd_python_domains(false, GIL_WAIT_MS);
                hd_pipe_say(&s->out, "error %s", counts.slots ? "the first snapshot could not be written"
                                                    : "no loaded module calls malloc through its GOT");
            }
        }
    }
    __atomic_store_n(&hd_message_fd, -1, __ATOMIC_RELEASE);
    hd_pipe_close(&s->in);
    hd_pipe_close(&s->out);
    /* Detached, the process keeps no descriptor of ours. */
    hd_output_dir_release();
    hd_proc_self_close();
    __atomic_store_n(&session_running, 0, __ATOMIC_RELEASE);
    return NULL;
}

/* Called by the injector in a thread it stopped, anywhere: copies the
 * request and starts the session thread, nothing else. The thread starts
 * with every signal blocked, so none of the program's lands on it. */
HD_EXPORT int heapdiff_attach(const char *text) {
    if (!hd_late_load && __atomic_load_n(&hd_state, __ATOMIC_ACQUIRE) >= HD_STATE_PASSTHROUGH)
        return ATTACH_PRELOADED;
    int expected = 0;
    if (!__atomic_compare_exchange_n(&session_running, &expected, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return ATTACH_BUSY;
    size_t length = text ? strnlen(text, REQUEST_MAX) : REQUEST_MAX;
    if (length >= REQUEST_MAX) {
        __atomic_store_n(&session_running, 0, __ATOMIC_RELEASE);
        return ATTACH_BAD_REQUEST;
    }
    memcpy(request, text, length + 1);
    if (hd_start_own_thread(session_main, true) != 0) {
        __atomic_store_n(&session_running, 0, __ATOMIC_RELEASE);
        return ATTACH_NO_THREAD;
    }
    return ATTACH_STARTED;
}
