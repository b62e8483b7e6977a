/* Objects CPython hands out again from its free lists (dicts, lists,
 * tuples, floats...) do not go through an allocator: on 3.13+ a reference
 * tracer (PyRefTracer_SetTracer, the hook tracemalloc uses there) is told
 * of every new object, and a block already traced is charged from then on
 * to the line that reuses it. Before 3.13 the only such hook is internal to
 * tracemalloc, so reused objects stay charged to the line that first
 * allocated their memory. A block python_alloc.c's wrappers just recorded
 * is told apart by the thread's py_last_block. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include "capture.h"
#include "python_alloc.h"
#include "sampler.h"

/* The reference tracer's API, and where an object's memory block starts. */
typedef int (*ref_tracer)(uintptr_t object, int event, void *data);
static int (*set_tracer)(ref_tracer tracer, void *data);
static ref_tracer (*get_tracer)(void **data);
static ref_tracer previous_tracer;
static void *previous_tracer_data;
enum { REF_CREATE = 0, TPFLAGS_HAVE_GC = 1 << 14, TPFLAGS_PREHEADER = 1 << 3 | 1 << 4 };

/* A reused object's block, charged from now on to the stack that reuses
 * it; reached from on_new_reference in tail position, so the stack capture
 * starts at the tracer's caller, as from the tracer itself. Flattened, as
 * domain_malloc_general is. */
static __attribute__((noinline, flatten)) int charge_reuse(struct hd_thread *t, uintptr_t block) {
    int saved = errno;
    int outer = hd_guard_enter(t);
    struct hd_thread_buffers *b = hd_buffers(t);
    if (b) {
        b->py.gil_promised = true;
        struct hd_stack stack;
        if (hd_capture_stack(t, b, &stack))
            hd_record_reuse(t, (void *)block, &stack);
        b->py.gil_promised = false;
    }
    hd_guard_leave(t, outer);
    errno = saved;
    return 0;
}

/* Every new object, fresh or reused, and every object destroyed (3.13+).
 * A fresh one was just recorded by domain_malloc; a reused one is charged
 * to the stack that reuses it (charge_reuse). Kept a leaf until then: the
 * tracer runs for every object made and freed, and the reuse path's
 * register saves cost 19 instructions a call when they were made on every
 * path (callgrind, the CPython service loop). */
static inline __attribute__((always_inline)) int on_reference(uintptr_t object, int event) {
    struct hd_thread *t = hd_thread();
    if (event != REF_CREATE || !hd_recording(t))
        return 0;
    const struct hd_py_layout *L = hd_python.layout;
    uintptr_t type = *(const uintptr_t *)(object + sizeof(intptr_t));
    unsigned long flags = *(const unsigned long *)(type + L->type_flags);
    uintptr_t block = object - (flags & TPFLAGS_HAVE_GC ? L->gc_head_size : 0) -
                      (flags & TPFLAGS_PREHEADER ? 2 * sizeof(void *) : 0);
    if (block == t->py_last_block) {
        t->py_last_block = 0;
        return 0;
    }
    if (!hd_maybe_sampled((void *)block))
        return 0;   /* sampling: a block never recorded has nothing to move */
    return charge_reuse(t, block);
}

/* Another tracer was set before ours (tracemalloc's): it is told first. Out
 * of line, so that the tracer itself stays a leaf with no frame to set up
 * (half its calls are for objects destroyed, which it only returns from). */
static __attribute__((noinline)) int on_reference_chained(uintptr_t object, int event) {
    previous_tracer(object, event, previous_tracer_data);
    return on_reference(object, event);
}

static int on_new_reference(uintptr_t object, int event, void *data) {
    (void)data;
    if (HD_UNLIKELY(previous_tracer != NULL))
        return on_reference_chained(object, event);
    return on_reference(object, event);
}

void hd_python_reuse_resolve(uint32_t version, bool frames) {
    /* Free-list reuse needs the object layout, known for the versions read. */
    if (frames && version >= 0x030D0000 && hd_python.layout->type_flags) {
        set_tracer = (int (*)(ref_tracer, void *))dlsym(RTLD_DEFAULT, "PyRefTracer_SetTracer");
        get_tracer = (ref_tracer(*)(void **))dlsym(RTLD_DEFAULT, "PyRefTracer_GetTracer");
        if (!get_tracer)
            set_tracer = NULL;
    }
}

void hd_python_reuse_install(void) {
    if (set_tracer) {
        previous_tracer = get_tracer(&previous_tracer_data);
        set_tracer(on_new_reference, NULL);
    }
}

/* A tracer is one function, not a chain (tracemalloc's replaces ours and
 * stop() clears it): ours goes back unless it is there. */
void hd_python_reuse_attach(void) {
    void *data;
    ref_tracer tracer = set_tracer ? get_tracer(&data) : NULL;
    if (set_tracer && tracer != on_new_reference) {
        previous_tracer = tracer;
        previous_tracer_data = data;
        set_tracer(on_new_reference, NULL);
    }
}

void hd_python_reuse_detach(void) {
    void *data;
    if (set_tracer && get_tracer(&data) == on_new_reference)
        set_tracer(previous_tracer, previous_tracer_data);
}
