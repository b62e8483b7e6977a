/* The one recording function every allocation hook calls: merges Python
 * frames into the stack the hook captured (capture.h), interns the stack
 * and files the block under it; and its counterpart for frees. */
#define _GNU_SOURCE
#include <link.h>
#include <stdio.h>
#include <string.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include "thread_state.h"

int hd_state = HD_STATE_UNRESOLVED;
__thread struct hd_thread hd_thread_tls __attribute__((tls_model("initial-exec")));

/* Our own text: frames in it are skipped, whatever the compiler inlined. */
uintptr_t hd_self_start, hd_self_end;

static int find_self(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    uintptr_t probe = (uintptr_t)data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (probe >= start && probe < start + ph->p_memsz) {
            hd_self_start = start;
            hd_self_end = start + ph->p_memsz;
            return 1;
        }
    }
    return 0;
}

void hd_record_init(void) {
    dl_iterate_phdr(find_self, (void *)(uintptr_t)&hd_record_alloc);
    /* Per-thread caches of unwind info: no global lock on the hot path. */
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    hd_unwind_init();
    hd_thread_buffers_init();
}

/* Each eval-loop frame is followed by the Python frames that invocation
 * runs (py->groups says how many), innermost first, as memray and py-spy
 * show them. Python frames left over (eval frames the unwinder did not see,
 * or beyond a probe that stopped in deep native code) go after the last
 * native frame kept. */
static uint32_t merge_python(struct hd_thread *t, const uintptr_t *native, uint32_t native_count, bool probed,
                             uint32_t *flags) {
    /* (A probe's stack that fits is not merged: captured_trace_locked.) */
    const struct hd_py_thread *py = &t->buffers->py;
    uintptr_t *merged = t->buffers->merged;
    uint32_t limit = hd_config.depth;
    /* Each frame is placed only while there is room: FULL says one did not
     * fit (an exact fit is not truncated). */
    uint32_t out = 0;
    int group = 0, next = 0;
    bool full = false;
    for (uint32_t i = 0; i < native_count && !full; i++) {
        if (out == limit) {
            full = true;
            break;
        }
        merged[out++] = native[i];
        if (!hd_python_is_eval(native[i]) || group >= py->group_count)
            continue;
        for (int end = next + py->groups[group++]; next < end; next++) {
            if (out == limit) {
                full = true;
                break;
            }
            merged[out++] = (uintptr_t)py->frames[next];
        }
        if (probed)
            break;   /* the native frames stop at the innermost eval loop */
    }
    /* Native frames between the probe and the Python frames were not unwound. */
    if (probed)
        *flags |= HD_TRACE_FLAG_NATIVE_OUTER_OMITTED;
    for (; next < py->count && !full; next++) {
        if (out == limit)
            full = true;
        else
            merged[out++] = (uintptr_t)py->frames[next];
    }
    if (full)
        *flags |= HD_TRACE_FLAG_TRUNCATED;
    return out;
}

/* The trace of the stack the hook captured, or NULL; the caller holds
 * hd_lock after it returns (taken here, once the stack is ready). reused:
 * a block that must already be traced, else 0. */
static inline __attribute__((always_inline)) struct hd_trace *captured_trace_locked(struct hd_thread *t,
                                                                                    const struct hd_stack *stack,
                                                                                    uintptr_t reused) {
    /* Python frames, in the buffers: outside CPython they are not read, as
     * a stack the memo proved did not need them. */
    int python_count = HD_UNLIKELY(hd_python.enabled) ? t->buffers->py.count : 0;
    /* A native stack proven by the memo carries its trace. */
    struct hd_memo *memo = stack->memo;
    struct hd_trace **remembered = python_count == 0 && memo ? &memo->trace : NULL;
    struct hd_trace *trace = remembered ? *remembered : NULL;
    if (HD_LIKELY(trace != NULL)) {
        hd_lock();
        return !reused || hd_pointer_contains(reused) ? trace : NULL;
    }
    struct hd_thread_buffers *b = t->buffers;   /* read only under Python code, which made them */
    uint32_t count = stack->count, flags = 0;
    const uintptr_t *frames = stack->frames;
    struct hd_py_stack *python = python_count > 0 ? b->py.stack : NULL;
    if (python) {
        /* A Python stack found whole, with native frames the memo proved:
         * the pair seen last with them (no frame compared), else any pair
         * this thread has seen. */
        if (memo && memo->python_id == python->id) {
            trace = memo->python_trace;
            hd_lock();
            return !reused || hd_pointer_contains(reused) ? trace : NULL;
        }
        trace = hd_py_stack_trace(b->py.stacks, python, frames, count, stack->probed);
        if (HD_LIKELY(trace != NULL)) {
            if (memo) {
                memo->python_id = python->id;
                memo->python_trace = trace;
            }
            hd_lock();
            return !reused || hd_pointer_contains(reused) ? trace : NULL;
        }
    }
    /* The usual case under Python code, the native probe: it stops at the
     * first eval-loop frame (or has none, in deep native code), so every
     * Python frame follows the native ones: the stack is those two pieces,
     * not merged into one copy (a remembered stack's frames read in place). */
    const uintptr_t *more = NULL;
    uint32_t more_count = 0;
    if (HD_UNLIKELY(python_count > 0) && stack->probed && count + (uint32_t)python_count <= hd_config.depth) {
        more = (const uintptr_t *)(b->py.frames_pending ? python->frames : b->py.frames);
        more_count = (uint32_t)python_count;
        flags |= HD_TRACE_FLAG_NATIVE_OUTER_OMITTED;
    } else if (HD_UNLIKELY(python_count > 0)) {
        if (python)
            hd_py_stack_frames(&b->py);
        count = merge_python(t, frames, count, stack->probed, &flags);
        frames = b->merged;
    } else if (count > hd_config.depth) {
        count = hd_config.depth;
        flags |= HD_TRACE_FLAG_TRUNCATED;
    }
    /* A remembered Python stack's share of the hash is kept with it. */
    uint64_t hash = python && more ? hd_trace_hash_finish(hd_trace_hash_frames(python->frames_hash, frames, count),
                                                          count + more_count, flags)
                                   : hd_trace_hash(frames, count, flags, more, more_count);
    struct hd_trace **cached = &t->trace_cache[(hash >> 20) & (HD_TRACE_CACHE - 1)];
    trace = *cached;
    hd_lock();
    if (reused && !hd_pointer_contains(reused))
        return NULL;
    if (!trace || !hd_trace_matches(trace, hash, frames, count, flags, more, more_count))
        trace = *cached = hd_trace_intern(hash, frames, count, flags, more, more_count);
    if (remembered)
        *remembered = trace;   /* the memo is this thread's */
    if (python) {
        hd_py_stack_remember(b->py.stacks, python, stack->frames, stack->count, stack->probed, trace);
        if (memo && trace) {
            memo->python_id = python->id;
            memo->python_trace = trace;
        }
    }
    return trace;
}

void hd_record_alloc(struct hd_thread *t, void *ptr, size_t size, const struct hd_stack *stack) {
    struct hd_trace *trace = captured_trace_locked(t, stack, 0);
    if (trace)
        hd_pointer_insert((uintptr_t)ptr, size, trace);
    hd_unlock();
}

void hd_record_reuse(struct hd_thread *t, void *ptr, const struct hd_stack *stack) {
    struct hd_trace *trace = captured_trace_locked(t, stack, (uintptr_t)ptr);
    if (trace)
        (void)hd_pointer_retrace((uintptr_t)ptr, trace);
    hd_unlock();
}

bool hd_record_free(void *ptr, uint64_t *size, struct hd_trace **trace) {
    /* (No prefetch of the slot here: with only the lock to overlap, it cost
     * 11 instructions a pair and 1-2% of wall time: Benchmarks/README.md.) */
    hd_lock();
    bool traced = hd_pointer_remove((uintptr_t)ptr, size, trace);
    hd_unlock();
    return traced;
}

bool hd_record_asked(void *ptr, uint64_t *bytes) {
    uint64_t size = 0;
    hd_lock();
    bool found = hd_pointer_size((uintptr_t)ptr, &size);
    hd_unlock();
    *bytes = size & ((1ull << HD_SIZE_BITS) - 1);
    return found;
}

bool hd_record_free_later(void *ptr) {
    if (HD_UNLIKELY(hd_config.sample_rate)) {
        uint64_t size;
        struct hd_trace *trace;
        return hd_record_free(ptr, &size, &trace);
    }
    hd_lock();
    hd_pointer_forget_later((uintptr_t)ptr);
    hd_unlock();
    return false;
}

void hd_record_restore(void *ptr, uint64_t size, struct hd_trace *trace) {
    hd_lock();
    hd_pointer_restore((uintptr_t)ptr, size, trace);
    hd_unlock();
}

/* HEAPDIFF_STATS: the tables' sizes and the recorder's memory, at exit. */
void hd_record_report(void) {
    hd_lock();
    size_t traces = hd_trace_table_count(), trace_bytes = hd_trace_table_memory();
    size_t pointer_bytes = hd_pointer_table_memory(), code_bytes = hd_pycode_memory();
    size_t filter_bytes = hd_sampler_memory();
    hd_unlock();
    char filter[64] = "";
    if (filter_bytes)   /* sampling on */
        snprintf(filter, sizeof filter, ", sampling filter %zu KiB", filter_bytes / 1024);
    hd_note("stats: %zu distinct stacks in %zu KiB, live-block table %zu KiB, Python code table %zu KiB%s", traces,
            trace_bytes / 1024, pointer_bytes / 1024, code_bytes / 1024, filter);
    /* The tables above as mapped; what the program pays is what is resident. */
    struct hd_pages_usage usage = hd_pages_usage();
    hd_note("stats: recorder memory %zu KiB resident of %zu KiB mapped, in %u mappings", usage.resident / 1024,
            usage.mapped / 1024, usage.mappings);
    uint64_t found, read;
    hd_py_stacks_counts(&found, &read);
    if (found + read)
        hd_note("stats: Python stacks found whole %llu, read frame by frame %llu", (unsigned long long)found,
                (unsigned long long)read);
}
