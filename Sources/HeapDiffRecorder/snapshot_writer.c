/* Writes one snapshot file (layout: include/heapdiff_format.h, docs/FORMAT.md).
 *
 * Counters are copied under hd_lock, which is brief; the file is then
 * written without it, so allocating threads wait only for
 * the copy, never for the disk. The file appears under its final name only
 * once complete: it is written as .NAME.tmp and renamed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "recorder.h"

uint64_t hd_start_monotonic_ns;
char hd_program_name[256] = "program";

enum { WRITE_BUFFER = 256 * 1024, CMDLINE_MAX = 128 * 1024 };

struct writer {
    int fd;
    unsigned char *buffer;
    size_t length;
    uint32_t crc;
    uint64_t records;
    bool failed;
    int error;
};

static void flush(struct writer *w) {
    w->crc = hd_crc32_update(w->crc, w->buffer, w->length);
    size_t done = 0;
    while (done < w->length && !w->failed) {
        ssize_t n = write(w->fd, w->buffer + done, w->length - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            w->failed = true;
            w->error = n < 0 ? errno : EIO;
        } else {
            done += (size_t)n;
        }
    }
    w->length = 0;
}

static void put(struct writer *w, const void *data, size_t size) {
    const unsigned char *p = data;
    while (size) {
        if (w->length == WRITE_BUFFER)
            flush(w);
        size_t n = WRITE_BUFFER - w->length < size ? WRITE_BUFFER - w->length : size;
        memcpy(w->buffer + w->length, p, n);
        w->length += n;
        p += n;
        size -= n;
    }
}

/* x86_64 and aarch64 are little-endian, as the format is. */
static void put_u32(struct writer *w, uint32_t v) { put(w, &v, 4); }
static void put_u64(struct writer *w, uint64_t v) { put(w, &v, 8); }
static void put_string(struct writer *w, const char *s, size_t n) {
    put_u32(w, (uint32_t)n);
    put(w, s, n);
}
static void put_record_header(struct writer *w, uint32_t type, size_t payload) {
    put_u32(w, type);
    put_u32(w, (uint32_t)payload);
    w->records++;
}

static uint64_t clock_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Reads a small /proc file into buf; returns its length (0 on failure). */
static size_t read_proc(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t len = 0;
    while (len < cap) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    return len;
}

static uint64_t status_kib(const char *status, const char *field) {
    const char *p = strstr(status, field);
    unsigned long long kib = 0;
    if (p)
        sscanf(p + strlen(field), " %llu", &kib);
    return kib * 1024;
}

/* ---- module table ---------------------------------------------------- */

struct module_context {
    struct writer *w;
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
    put_record_header(m->w, HD_RECORD_MODULE,
                      HD_MODULE_FIXED_SIZE + 4 + path_length + 4 + id_length + ranges * HD_MODULE_RANGE_SIZE);
    put_u32(m->w, m->index++);
    put_u32(m->w, ranges);
    put_u64(m->w, info->dlpi_addr);
    put_string(m->w, path, path_length);
    put_u32(m->w, (uint32_t)id_length);
    put(m->w, id, id_length);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            put_u64(m->w, info->dlpi_addr + ph->p_vaddr);
            put_u64(m->w, info->dlpi_addr + ph->p_vaddr + ph->p_memsz);
        }
    }
    return 0;
}

/* ---- trace counters, copied under the locks -------------------------- */

struct trace_copy {
    const struct hd_trace *trace;
    uint64_t live_bytes, live_count, alloc_bytes, alloc_count;
};

struct copy_context {
    struct trace_copy *copies;
    size_t count, capacity;
};

static void copy_trace(struct hd_trace *t, void *data) {
    struct copy_context *c = data;
    if (c->count == c->capacity)
        return;
    c->copies[c->count++] = (struct trace_copy){t, t->live_bytes, t->live_count, t->alloc_bytes, t->alloc_count};
}

/* ---- the file -------------------------------------------------------- */

/* The interpreter's version, then every code object a trace may refer to. */
static void write_python(struct writer *w, const struct hd_pycode *newest) {
    if (!hd_python.enabled)
        return;
    put_record_header(w, HD_RECORD_PYTHON, HD_PYTHON_SIZE);
    put_u32(w, hd_python.hexversion);
    put_u32(w, 0);
    for (const struct hd_pycode *e = newest; e; e = e->all_next) {
        put_record_header(w, HD_RECORD_PYCODE, HD_PYCODE_FIXED_SIZE + 12 + e->filename_length + e->qualname_length +
                                                   e->linetable_length);
        put_u32(w, e->id);
        put_u32(w, e->first_line);
        put_string(w, e->filename, e->filename_length);
        put_string(w, e->qualname, e->qualname_length);
        put_string(w, (const char *)e->linetable, e->linetable_length);
    }
}

static void write_file(struct writer *w, uint32_t seq, uint32_t trigger, const char *label,
                       const struct copy_context *traces, const struct hd_pycode *codes, uint64_t peak_live,
                       const char *exe_path,
                       const char *cmdline, size_t cmdline_length) {
    uint64_t live_bytes = 0, live_count = 0, alloc_bytes = 0, alloc_count = 0;
    for (size_t i = 0; i < traces->count; i++) {
        live_bytes += traces->copies[i].live_bytes;
        live_count += traces->copies[i].live_count;
        alloc_bytes += traces->copies[i].alloc_bytes;
        alloc_count += traces->copies[i].alloc_count;
    }
    char status[4096] = {0};
    read_proc("/proc/self/status", status, sizeof status - 1);

    put(w, HD_MAGIC, HD_MAGIC_SIZE);
    put_u32(w, HD_FORMAT_VERSION);
    put_u32(w, HD_FILE_HEADER_SIZE);

    size_t exe_length = strlen(exe_path), label_length = label ? strnlen(label, 4096) : 0;
    put_record_header(w, HD_RECORD_PROCESS, HD_PROCESS_FIXED_SIZE + 12 + exe_length + label_length + cmdline_length);
    put_u32(w, (uint32_t)getpid());
    put_u32(w, (uint32_t)getppid());
    put_u32(w, seq);
    put_u32(w, trigger);
    put_u64(w, clock_ns(CLOCK_REALTIME));
    put_u64(w, clock_ns(CLOCK_MONOTONIC));
    put_u64(w, hd_start_monotonic_ns);
    put_u64(w, status_kib(status, "VmRSS:"));
    put_u64(w, status_kib(status, "VmHWM:"));
    put_u64(w, live_bytes);
    put_u64(w, live_count);
    put_u64(w, alloc_bytes);
    put_u64(w, alloc_count);
    put_u64(w, alloc_bytes - live_bytes);
    put_u64(w, alloc_count - live_count);
    put_u64(w, peak_live);
    put_u32(w, hd_config.depth);
    put_u32(w, (hd_traces_dropped ? HD_PROCESS_FLAG_TRACES_DROPPED : 0) |
                   (hd_python_finalizing(trigger) ? HD_PROCESS_FLAG_PYTHON_FINALIZING : 0));
    put_string(w, exe_path, exe_length);
    put_string(w, label ? label : "", label_length);
    put_string(w, cmdline, cmdline_length);

    struct module_context modules = {w, 0, exe_path};
    dl_iterate_phdr(write_module, &modules);
    write_python(w, codes);

    for (size_t i = 0; i < traces->count; i++) {
        const struct trace_copy *c = &traces->copies[i];
        const struct hd_trace *t = c->trace;
        put_record_header(w, HD_RECORD_TRACE, HD_TRACE_FIXED_SIZE + t->frame_count * 8u);
        put_u64(w, c->live_bytes);
        put_u64(w, c->live_count);
        put_u64(w, c->alloc_bytes);
        put_u64(w, c->alloc_count);
        put_u32(w, t->frame_count);
        put_u32(w, t->flags);
        for (uint32_t f = 0; f < t->frame_count; f++)
            put_u64(w, t->frames[f]);
    }

    flush(w);   /* the checksum covers everything before END */
    uint64_t records = w->records;
    uint32_t crc = w->crc;
    put_record_header(w, HD_RECORD_END, HD_END_SIZE);
    put_u64(w, records);
    put_u32(w, crc);
    put_u32(w, 0);
    flush(w);
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
    pid_t pid = getpid();
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

    /* Copy every trace's counters in one consistent cut. */
    struct copy_context traces = {0};
    hd_lock();
    size_t capacity = hd_trace_table_count();
    size_t copies_size = (capacity ? capacity : 1) * sizeof *traces.copies;
    traces.copies = hd_pages_alloc(copies_size);
    traces.capacity = traces.copies ? capacity : 0;
    if (traces.copies)
        hd_trace_table_each(copy_trace, &traces);
    uint64_t peak_live = hd_peak_live_bytes;
    const struct hd_pycode *codes = hd_pycode_newest();
    hd_unlock();

    unsigned char *buffer = hd_pages_alloc(WRITE_BUFFER);
    char *cmdline = hd_pages_alloc(CMDLINE_MAX);
    int result = -1;
    if (!traces.copies || !buffer || !cmdline) {
        FAIL(text, text_cap, "out of memory writing snapshot %s/%s", hd_config.output_dir, final_name);
        goto done;
    }
    size_t cmdline_length = read_proc("/proc/self/cmdline", cmdline, CMDLINE_MAX);
    if (cmdline_length && cmdline[cmdline_length - 1] == '\0')
        cmdline_length--;
    char exe_path[4096];
    ssize_t exe_length = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
    exe_path[exe_length > 0 ? exe_length : 0] = '\0';

    /* O_EXCL | O_NOFOLLOW: a pre-existing name, symlink or not, is never
     * followed or reused. */
    int fd = openat(dir, temp_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        FAIL(text, text_cap, "cannot create %s/%s as uid %u: %s; snapshot %u not written", hd_config.output_dir,
             temp_name, (unsigned)geteuid(), strerror(errno), seq);
        goto done;
    }
    struct writer w = {.fd = fd, .buffer = buffer};
    write_file(&w, seq, trigger, label, &traces, codes, peak_live, exe_path, cmdline, cmdline_length);
    if (close(fd) != 0 && !w.failed) {
        w.failed = true;
        w.error = errno;
    }
    if (w.failed) {
        FAIL(text, text_cap, "cannot write %s/%s: %s; snapshot %u not written", hd_config.output_dir, temp_name,
             strerror(w.error), seq);
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
    hd_pages_free(traces.copies, copies_size);
    hd_pages_free(buffer, WRITE_BUFFER);
    hd_pages_free(cmdline, CMDLINE_MAX);
    return result;
}
