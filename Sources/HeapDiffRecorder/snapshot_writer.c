/* Writes one snapshot file (layout: Sources/HeapDiffFormat/include/heapdiff_format.h, docs/FORMAT.md).
 *
 * Counters are copied under hd_lock, which is brief; the file is then
 * written without it, so allocating threads wait only for the copy, never
 * for the tree, the encoding or the disk. The file appears under its final
 * name only once complete: it is written as .NAME.tmp and renamed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "proc_self.h"
#include "snapshot_writer.h"

uint64_t hd_start_monotonic_ns;
char hd_program_name[256] = "program";

enum { CMDLINE_MAX = 128 * 1024 };

/* This thread's minor page faults so far (HEAPDIFF_STATS). */
static uint64_t minor_faults(void) {
    struct rusage usage;
    return getrusage(RUSAGE_THREAD, &usage) == 0 ? (uint64_t)usage.ru_minflt : 0;
}

static uint64_t clock_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t status_number(const char *status, const char *field) {
    const char *p = strstr(status, field);
    unsigned long long value = 0;
    if (p)
        sscanf(p + strlen(field), " %llu", &value);
    return value;
}

/* ---- module table ---------------------------------------------------- */

struct module_context {
    struct hd_output *out;
    uint32_t index;
    const char *exe_path;
};

static size_t find_build_id(const struct dl_phdr_info *info, const unsigned char **id) {
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        size_t align = ph->p_align == 8 ? 8 : 4;
        const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        const unsigned char *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *note = (const ElfW(Nhdr) *)p;
            size_t name = (note->n_namesz + align - 1) & ~(align - 1);
            size_t desc = (note->n_descsz + align - 1) & ~(align - 1);
            const unsigned char *name_at = p + sizeof *note;
            if (name_at + name + desc > end)
                break;
            if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 && memcmp(name_at, "GNU", 4) == 0 &&
                note->n_descsz <= HD_MAX_BUILD_ID) {
                *id = name_at + name;
                return note->n_descsz;
            }
            p = name_at + name + desc;
        }
    }
    return 0;
}

static int write_module(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct module_context *m = data;
    const char *path = info->dlpi_name;
    if (!path || !*path) {
        if (m->index != 0)
            return 0;   /* only the first nameless object is the program */
        path = m->exe_path;
    }
    uint32_t ranges = 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_LOAD && (info->dlpi_phdr[i].p_flags & PF_X))
            ranges++;
    if (ranges == 0 || ranges > HD_MAX_RANGES)
        return 0;
    const unsigned char *id = NULL;
    size_t id_length = find_build_id(info, &id);
    size_t path_length = strnlen(path, 4096);
    hd_output_record_header(m->out, HD_RECORD_MODULE,
                            HD_MODULE_FIXED_SIZE + HD_STRING_LENGTH_SIZE + path_length + HD_STRING_LENGTH_SIZE +
                                id_length + ranges * HD_MODULE_RANGE_SIZE);
    unsigned char fixed[HD_MODULE_FIXED_SIZE];
    hd_store_u32(fixed + HD_MODULE_INDEX, m->index++);
    hd_store_u32(fixed + HD_MODULE_RANGE_COUNT, ranges);
    hd_store_u64(fixed + HD_MODULE_LOAD_BIAS, info->dlpi_addr);
    hd_output_put(m->out, fixed, sizeof fixed);
    hd_output_string(m->out, path, path_length);
    hd_output_string(m->out, id, id_length);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            unsigned char range[HD_MODULE_RANGE_SIZE];
            hd_store_u64(range + HD_MODULE_RANGE_START, info->dlpi_addr + ph->p_vaddr);
            hd_store_u64(range + HD_MODULE_RANGE_END, info->dlpi_addr + ph->p_vaddr + ph->p_memsz);
            hd_output_put(m->out, range, sizeof range);
        }
    }
    return 0;
}

/* ---- stack counters, copied under the lock ----------------------------- */

struct process_totals {
    uint64_t live_bytes, live_count, alloc_bytes, alloc_count, peak_live;
    uint64_t live_samples;
    uint32_t flags;
};

struct copy_context {
    struct hd_stack_copies *stacks;
    struct process_totals *totals;   /* of every stack, copied or not */
    bool every_stack;                /* freed-out stacks too (format 1, exit and sampled snapshots) */
    bool sampled;                    /* counts are in 2^-HD_COUNT_SHIFT blocks */
};

/* A sampled trace's estimated count, to the nearest block. */
static uint64_t blocks(uint64_t count, bool sampled) {
    return sampled ? (count + (1ull << (HD_COUNT_SHIFT - 1))) >> HD_COUNT_SHIFT : count;
}

static void copy_trace(struct hd_trace *t, void *data) {
    struct copy_context *c = data;
    uint64_t live_count = blocks(t->live_count, c->sampled), alloc_count = blocks(t->alloc_count, c->sampled);
    c->totals->live_bytes += t->live_bytes;
    c->totals->live_count += live_count;
    c->totals->alloc_bytes += t->alloc_bytes;
    c->totals->alloc_count += alloc_count;
    c->totals->live_samples += t->live_samples;
    struct hd_stack_copies *s = c->stacks;
    if (s->count == s->capacity || (!c->every_stack && t->live_count == 0))
        return;
    s->items[s->count++] = (struct hd_stack_copy){t, t->live_bytes, live_count, t->alloc_bytes, alloc_count,
                                                  t->live_samples, t->alloc_samples, 0};
    s->frames += t->frame_count;
}

/* ---- the file -------------------------------------------------------- */

static void write_process(struct hd_output *out, uint32_t seq, uint32_t trigger, const char *label,
                          const struct process_totals *totals, const char *exe_path, const char *cmdline,
                          size_t cmdline_length) {
    char status[4096] = {0};
    hd_proc_self_read("status", status, sizeof status - 1);
    unsigned char p[HD_PROCESS_FIXED_SIZE];
    /* As heapdiff sees them: read through the /proc held from start-up, the
     * parent of a process in a pid namespace of its own is not 0. */
    uint64_t parent = status_number(status, "\nPPid:");
    hd_store_u32(p + HD_PROCESS_PID, (uint32_t)hd_own_pid());
    hd_store_u32(p + HD_PROCESS_PPID, parent ? (uint32_t)parent : (uint32_t)getppid());
    hd_store_u32(p + HD_PROCESS_SEQ, seq);
    hd_store_u32(p + HD_PROCESS_TRIGGER, trigger);
    hd_store_u64(p + HD_PROCESS_WALL_NS, clock_ns(CLOCK_REALTIME));
    hd_store_u64(p + HD_PROCESS_MONO_NS, clock_ns(CLOCK_MONOTONIC));
    hd_store_u64(p + HD_PROCESS_START_MONO_NS, hd_start_monotonic_ns);
    hd_store_u64(p + HD_PROCESS_RSS, status_number(status, "VmRSS:") * 1024);
    hd_store_u64(p + HD_PROCESS_PEAK_RSS, status_number(status, "VmHWM:") * 1024);
    hd_store_u64(p + HD_PROCESS_LIVE_BYTES, totals->live_bytes);
    hd_store_u64(p + HD_PROCESS_LIVE_COUNT, totals->live_count);
    hd_store_u64(p + HD_PROCESS_ALLOC_BYTES, totals->alloc_bytes);
    hd_store_u64(p + HD_PROCESS_ALLOC_COUNT, totals->alloc_count);
    /* Sampling: every allocation counted, live ones estimated. */
    hd_store_u64(p + HD_PROCESS_FREE_BYTES, totals->alloc_bytes > totals->live_bytes ? totals->alloc_bytes - totals->live_bytes : 0);
    hd_store_u64(p + HD_PROCESS_FREE_COUNT, totals->alloc_count > totals->live_count ? totals->alloc_count - totals->live_count : 0);
    hd_store_u64(p + HD_PROCESS_PEAK_LIVE_BYTES, totals->peak_live);
    hd_store_u32(p + HD_PROCESS_DEPTH, hd_config.depth);
    hd_store_u32(p + HD_PROCESS_FLAGS, totals->flags);
    /* Format 2 minor 1 appends the sampling rate after the strings. */
    unsigned char tail[HD_PROCESS_TAIL_SIZE];
    hd_store_u64(tail + HD_PROCESS_TAIL_SAMPLE_RATE, hd_config.sample_rate);
    hd_store_u64(tail + HD_PROCESS_TAIL_LIVE_SAMPLES, totals->live_samples);
    size_t tail_length = hd_config.format == HD_FORMAT_V1 ? 0 : sizeof tail;
    size_t exe_length = strlen(exe_path), label_length = label ? strnlen(label, 4096) : 0;
    hd_output_record_header(out, HD_RECORD_PROCESS,
                            sizeof p + 3 * HD_STRING_LENGTH_SIZE + exe_length + label_length + cmdline_length +
                                tail_length);
    hd_output_put(out, p, sizeof p);
    hd_output_string(out, exe_path, exe_length);
    hd_output_string(out, label ? label : "", label_length);
    hd_output_string(out, cmdline, cmdline_length);
    hd_output_put(out, tail, tail_length);
}

static void write_file(struct hd_output *out, uint32_t seq, uint32_t trigger, const char *label,
                       struct hd_stack_copies *stacks, const struct process_totals *totals,
                       const struct hd_pycode *codes, const char *exe_path, const char *cmdline,
                       size_t cmdline_length) {
    unsigned char header[HD_FILE_HEADER_SIZE];
    bool v1 = hd_config.format == HD_FORMAT_V1;
    size_t header_size = v1 ? HD_FILE_HEADER_SIZE_V1 : HD_FILE_HEADER_SIZE;
    memcpy(header, HD_MAGIC, HD_MAGIC_SIZE);
    hd_store_u32(header + HD_FILE_HEADER_VERSION_OFFSET, v1 ? HD_FORMAT_V1 : HD_FORMAT_VERSION);
    hd_store_u32(header + HD_FILE_HEADER_SIZE_OFFSET, (uint32_t)header_size);
    hd_store_u32(header + HD_FILE_HEADER_MINOR_OFFSET, HD_FORMAT_MINOR);
    hd_output_put(out, header, header_size);

    write_process(out, seq, trigger, label, totals, exe_path, cmdline, cmdline_length);
    struct module_context modules = {out, 0, exe_path};
    dl_iterate_phdr(write_module, &modules);
    if (hd_python.enabled) {
        unsigned char python[HD_PYTHON_SIZE] = {0};
        hd_store_u32(python + HD_PYTHON_HEXVERSION, hd_python.hexversion);
        hd_output_record(out, HD_RECORD_PYTHON, python, sizeof python);
    }
    if (v1)
        hd_write_stacks_v1(out, stacks, codes);
    else if (!hd_write_stacks_v2(out, stacks, codes))
        return;
    hd_output_end(out);
}

/* The failure, as a warning, a notice to `heapdiff run` and the reply text. */
#define FAIL(text, cap, ...)                  \
    do {                                      \
        snprintf(text, cap, __VA_ARGS__);     \
        hd_fail("%s", text);                  \
    } while (0)

int hd_snapshot_write(bool to_helpers, uint32_t seq, uint32_t trigger, const char *label, char *text,
                      size_t text_cap) {
    if (!hd_config.output_ok) {
        snprintf(text, text_cap, "this process writes no snapshots (see its first heapdiff warning)");
        return -1;
    }
    uint64_t started = clock_ns(CLOCK_MONOTONIC), started_cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    uint64_t started_faults = hd_config.print_stats ? minor_faults() : 0;
    pid_t pid = hd_own_pid();
    /* Names relative to the output directory: a helper's exit snapshot
     * goes to its subfolder (control.c decides). */
    char final_name[400], temp_name[400];
    const char *folder = to_helpers ? HD_HELPERS_SUBDIRECTORY "/" : "";
    size_t folder_length = strlen(folder);
    memcpy(final_name, folder, folder_length + 1);
    memcpy(temp_name, folder, folder_length + 1);
    if (hd_snapshot_file_name(final_name + folder_length, sizeof final_name - folder_length, hd_program_name,
                              (int)pid, seq, false) < 0 ||
        hd_snapshot_file_name(temp_name + folder_length, sizeof temp_name - folder_length, hd_program_name,
                              (int)pid, seq, true) < 0) {
        FAIL(text, text_cap, "snapshot name too long for %s", hd_program_name);
        return -1;
    }
    /* By descriptor: a process that switched user may no longer reach the
     * directory by its path. */
    int dir = hd_output_fd();
    if (dir < 0) {
        FAIL(text, text_cap, "cannot open %s as uid %u: %s; snapshot %u not written", hd_config.output_dir,
             (unsigned)geteuid(), strerror(errno), seq);
        return -1;
    }
    if (to_helpers && !hd_helpers_directory(dir)) {
        FAIL(text, text_cap, "cannot use %s/%s: %s; snapshot %u not written", hd_config.output_dir,
             HD_HELPERS_SUBDIRECTORY, strerror(errno), seq);
        return -1;
    }

    /* Copy every stack's counters in one consistent cut. Format 2 leaves
     * out stacks without live blocks except at exit, where every stack's
     * allocation totals are written once, and when sampling, where they
     * are few and tell the analyzer how many points each stack's
     * allocations crossed since the last snapshot (docs/FORMAT.md). */
    struct hd_stack_copies stacks = {0};
    struct process_totals totals = {0};
    bool sampled = hd_config.sample_rate != 0;
    bool every_stack = hd_config.format == HD_FORMAT_V1 || trigger == HD_TRIGGER_EXIT || sampled;
    struct copy_context copy = {&stacks, &totals, every_stack, sampled};
    hd_lock();
    hd_pointer_settle();   /* frees whose removal waited: counted now */
    uint64_t locked = clock_ns(CLOCK_MONOTONIC);
    size_t capacity = hd_trace_table_count();
    size_t copies_size = (capacity ? capacity : 1) * sizeof *stacks.items;
    stacks.items = hd_pages_alloc_now(copies_size);
    stacks.capacity = stacks.items ? capacity : 0;
    if (stacks.items)
        hd_trace_table_each(copy_trace, &copy);
    stacks.tree_nodes = hd_tree_node_count();
    /* A node is made only for a stack interned, unless interning it failed. */
    stacks.every_node = every_stack && stacks.count == capacity && !hd_traces_dropped;
    totals.peak_live = hd_peak_live_bytes;
    if (sampled)   /* every allocation, not only the sampled ones */
        hd_sampler_totals(&totals.alloc_bytes, &totals.alloc_count);
    const struct hd_pycode *codes = hd_pycode_newest();
    uint64_t unlocked = clock_ns(CLOCK_MONOTONIC);
    hd_unlock();
    totals.flags = (hd_traces_dropped ? HD_PROCESS_FLAG_TRACES_DROPPED : 0) |
                   (hd_python_finalizing(trigger) ? HD_PROCESS_FLAG_PYTHON_FINALIZING : 0) |
                   (every_stack ? HD_PROCESS_FLAG_EVERY_STACK : 0);

    unsigned char *buffer = hd_pages_alloc(HD_OUTPUT_BUFFER);
    char *cmdline = hd_pages_alloc(CMDLINE_MAX);
    int result = -1;
    struct hd_output out = {.fd = -1, .buffer = buffer};
    if (!stacks.items || !buffer || !cmdline) {
        FAIL(text, text_cap, "out of memory writing snapshot %s/%s", hd_config.output_dir, final_name);
        goto done;
    }
    size_t cmdline_length = hd_proc_self_read("cmdline", cmdline, CMDLINE_MAX);
    if (cmdline_length && cmdline[cmdline_length - 1] == '\0')
        cmdline_length--;
    char exe_path[4096];
    hd_proc_self_exe(exe_path, sizeof exe_path);

    /* O_EXCL | O_NOFOLLOW: a pre-existing name, symlink or not, is never
     * followed or reused. */
    out.fd = openat(dir, temp_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out.fd < 0) {
        FAIL(text, text_cap, "cannot create %s/%s as uid %u: %s; snapshot %u not written", hd_config.output_dir,
             temp_name, (unsigned)geteuid(), strerror(errno), seq);
        goto done;
    }
    write_file(&out, seq, trigger, label, &stacks, &totals, codes, exe_path, cmdline, cmdline_length);
    if (close(out.fd) != 0 && !out.failed) {
        out.failed = true;
        out.error = errno;
    }
    if (out.failed) {
        FAIL(text, text_cap, "cannot write %s/%s: %s; snapshot %u not written", hd_config.output_dir, temp_name,
             strerror(out.error), seq);
        unlinkat(dir, temp_name, 0);
        goto done;
    }
    if (renameat(dir, temp_name, dir, final_name) != 0) {
        FAIL(text, text_cap, "cannot rename %s/%s to %s: %s", hd_config.output_dir, temp_name, final_name,
             strerror(errno));
        unlinkat(dir, temp_name, 0);
        goto done;
    }
    snprintf(text, text_cap, "%s/%s", hd_config.output_dir, final_name);
    result = 0;
done:
    hd_pages_free(stacks.items, copies_size);
    hd_pages_free(buffer, HD_OUTPUT_BUFFER);
    hd_pages_free(cmdline, CMDLINE_MAX);
    if (hd_config.print_stats && result == 0) {
        uint64_t finished = clock_ns(CLOCK_MONOTONIC), cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - started_cpu;
        /* The recorder's memory once this snapshot's buffers are given back:
         * what a long-running service pays between snapshots. */
        struct hd_pages_usage usage = hd_pages_usage();
        hd_note("snapshot %u (format %u): %zu stacks, %llu bytes, lock held %.3f ms, written in %.3f ms (%.3f ms CPU, "
                "%llu page faults); recorder memory %zu KiB resident",
                seq, hd_config.format, stacks.count, (unsigned long long)out.bytes,
                (double)(unlocked - locked) / 1e6, (double)(finished - started) / 1e6, (double)cpu / 1e6,
                (unsigned long long)(minor_faults() - started_faults), usage.resident / 1024);
    }
    return result;
}
