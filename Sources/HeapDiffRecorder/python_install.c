/* CPython's allocator domains wrapped (python_alloc.c's wrappers), and
 * given back.
 *
 * The wrappers must be installed after the interpreter has chosen its
 * allocators (PYTHONMALLOC, read in Py_PreInitialize, replaces whatever is
 * there) and before the program runs. Both ends are met by the first
 * event of an audit hook registered from the recorder's constructor
 * (PySys_AddAuditHook may be called before Py_Initialize, and every
 * interpreter raises events as it starts). That needs no symbol interposed,
 * so it works the same for a libpython-linked interpreter and for a static
 * one whose internal calls never go through the PLT, and under -E and -I.
 * Under heapdiff attach, the attach thread wraps them holding the GIL. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include "python_alloc.h"
#include "python_code.h"
#include "thread_state.h"

static int installed;
static void (*get_allocator)(int domain, struct hd_py_allocator *allocator);
static void (*set_allocator)(int domain, struct hd_py_allocator *allocator);

/* Runs once, at the interpreter's first audit event: allocators chosen,
 * program not started. (Attaching later would call it with the GIL held.) */
void hd_python_alloc_install(void) {
    int expected = 0;
    if (!__atomic_compare_exchange_n(&installed, &expected, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;
    struct hd_thread *t = hd_thread();
    int outer = hd_guard_enter(t);
    for (int domain = 0; domain < HD_PY_DOMAIN_COUNT; domain++) {
        get_allocator(domain, &hd_py_previous[domain]);
        struct hd_py_allocator wrapper = hd_py_wrapper(domain);
        set_allocator(domain, &wrapper);
    }
    hd_python_reuse_install();
    hd_pycode_watch_frees();   /* from now on every code object freed is seen */
    hd_guard_leave(t, outer);
}

bool hd_python_started(void) {
    return __atomic_load_n(&installed, __ATOMIC_ACQUIRE);
}

/* An audit hook cannot be removed; after the first event it only returns. */
static int on_audit_event(const char *event, void *arguments, void *data) {
    (void)event, (void)arguments, (void)data;
    if (HD_UNLIKELY(!__atomic_load_n(&installed, __ATOMIC_ACQUIRE)))
        hd_python_alloc_install();
    return 0;
}

/* Serves the audit hook's entry (the constructor holds the guard). It is
 * allocated before the interpreter chooses its allocators; at exit the
 * interpreter frees it with the chosen raw allocator, whose debug version
 * (PYTHONMALLOC=debug, -X dev, debug builds) would reject it: the raw
 * domain's wrapper knows it (hd_py_early_block) and gives it back to libc. */
static void *early_malloc(void *ctx, size_t size) {
    (void)ctx;
    void *p = hd_real.malloc(size ? size : 1);
    if (!hd_py_early_block)
        hd_py_early_block = p;
    return p;
}

static void *early_calloc(void *ctx, size_t count, size_t size) {
    (void)ctx;
    return hd_real.calloc(count ? count : 1, size ? size : 1);
}

static void *early_realloc(void *ctx, void *p, size_t size) {
    (void)ctx;
    return hd_real.realloc(p, size ? size : 1);
}

static void early_free(void *ctx, void *p) {
    (void)ctx;
    if (p == hd_py_early_block)
        hd_py_early_block = NULL;
    hd_real.free(p);
}

bool hd_python_alloc_resolve(uint32_t version, bool frames) {
    get_allocator = (void (*)(int, struct hd_py_allocator *))dlsym(RTLD_DEFAULT, "PyMem_GetAllocator");
    set_allocator = (void (*)(int, struct hd_py_allocator *))dlsym(RTLD_DEFAULT, "PyMem_SetAllocator");
    hd_python_reuse_resolve(version, frames);
    return get_allocator && set_allocator;
}

void hd_python_alloc_init(uint32_t version, bool frames) {
    int (*add_audit_hook)(int (*)(const char *, void *, void *), void *) =
        (int (*)(int (*)(const char *, void *, void *), void *))dlsym(RTLD_DEFAULT, "PySys_AddAuditHook");
    if (!hd_python_alloc_resolve(version, frames) || version < 0x03080000 || !add_audit_hook)
        return;   /* before 3.8: no audit hooks; small objects stay in pymalloc's arenas */
    /* The entry comes from a raw allocator of our own, whose block is
     * known (see domain_free_raw). */
    struct hd_py_allocator plain;
    get_allocator(HD_PY_DOMAIN_RAW, &plain);
    struct hd_py_allocator early = {NULL, early_malloc, early_calloc, early_realloc, early_free};
    set_allocator(HD_PY_DOMAIN_RAW, &early);
    int failed = add_audit_hook(on_audit_event, NULL);
    set_allocator(HD_PY_DOMAIN_RAW, &plain);
    if (failed)
        hd_warn("cannot add an audit hook to Python: objects pymalloc serves are not seen");
}

/* ---- heapdiff attach: wrapped in a running interpreter, and given back --
 * Called by python_attach.c's thread while it holds the GIL. Only the mem
 * and object domains are wrapped: their callers hold the GIL by contract,
 * so none of them reads a domain while it is rewritten. The raw domain is
 * used without the GIL (a torn ctx/function pair would crash), and its
 * default allocator is malloc, which the GOT hooks already see. The
 * wrappers add no header: a block they saw is freed by the original
 * allocator after the detach, and one allocated before is freed through
 * them to where it came from, unknown to the tables. */
static bool late_wrapped[HD_PY_DOMAIN_COUNT];   /* our wrapper is in the domain's chain */

static bool is_ours(int domain, const struct hd_py_allocator *a) {
    return a->malloc == hd_py_wrapper(domain).malloc && a->ctx == &hd_py_previous[domain];
}

unsigned hd_python_alloc_attach(void) {
    int outer = hd_guard_enter(hd_thread());
    unsigned wrapped = 0;
    for (int domain = HD_PY_DOMAIN_MEM; domain < HD_PY_DOMAIN_COUNT; domain++) {
        /* Still in the chain from an earlier session, below a wrapper
         * installed since: wrapping again would make hd_py_previous[] lead
         * back to ourselves. */
        if (!late_wrapped[domain]) {
            get_allocator(domain, &hd_py_previous[domain]);
            struct hd_py_allocator wrapper = hd_py_wrapper(domain);
            set_allocator(domain, &wrapper);
            late_wrapped[domain] = true;
        }
        wrapped++;
    }
    hd_python_reuse_attach();
    hd_guard_leave(hd_thread(), outer);
    return wrapped;
}

unsigned hd_python_alloc_detach(void) {
    int outer = hd_guard_enter(hd_thread());
    unsigned kept = 0;
    for (int domain = HD_PY_DOMAIN_MEM; domain < HD_PY_DOMAIN_COUNT; domain++) {
        if (!late_wrapped[domain])
            continue;
        struct hd_py_allocator current;
        get_allocator(domain, &current);
        if (is_ours(domain, &current)) {
            set_allocator(domain, &hd_py_previous[domain]);
            late_wrapped[domain] = false;
        } else {
            kept++;   /* another wrapper calls ours: ours stays, passing through */
        }
    }
    hd_python_reuse_detach();
    hd_guard_leave(hd_thread(), outer);
    return kept;
}
