/* An interpreter loaded after start-up: a host that dlopens libpython as a
 * plugin (uWSGI's python3 plugin, Apache's mod_wsgi, an application
 * embedding Python through one of its modules). hd_python_init looked at
 * start-up and found none; this looks again, from the writer thread, each
 * time the loader's count of objects added moves, and then at every tick
 * until the interpreter says it is initialized.
 *
 * Not by hooking dlopen: a wrapper would make itself dlopen's caller, whose
 * RUNPATH and namespace decide what a relative name loads. Found late, the
 * interpreter is already running: it is taken as heapdiff attach takes it.
 * Its frames are read from the next allocation on, and its mem and object
 * domains are wrapped holding the GIL: first by a pending call that the
 * main thread runs at its next check of the eval loop (Py_AddPendingCall
 * wants no thread state and no GIL), which needs no thread of ours; when
 * the main thread has not run Python code within FALLBACK_TICKS (Apache's
 * mod_wsgi serves from other threads), by a thread of ours that waits for
 * the GIL (python_attach.c). That one is second because a thread waiting
 * for the GIL asks the holder to let go, and a host that forked then and
 * went on running Python in the child without PyOS_AfterFork_Child would
 * wait there for a thread the child does not have (uWSGI and mod_wsgi
 * call it, as os.fork does). Symbols are looked
 * up in the global scope: an interpreter loaded RTLD_LOCAL could not load
 * extension modules (they leave libpython's symbols to the global scope),
 * and embedding hosts load it RTLD_GLOBAL. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include "python_alloc.h"
#include "python_attach.h"
#include "python_stack.h"
#include "thread_state.h"

static unsigned long long seen_adds;
static bool loaded;     /* libpython is loaded; its interpreter may not be initialized yet */
static bool taken;      /* hd_python_init has taken it */
static bool asked;      /* the wrapping is queued, or cannot be */
static int done;        /* the pending call ran (atomic) */
static unsigned waited; /* ticks since it was queued */
enum { FALLBACK_TICKS = 3 };

static int count_adds(struct dl_phdr_info *info, size_t size, void *data) {
    if (size >= offsetof(struct dl_phdr_info, dlpi_adds) + sizeof info->dlpi_adds)
        *(unsigned long long *)data = info->dlpi_adds;
    return 1;   /* the counter is the process's: the first entry is enough */
}

/* Run by the main thread holding the GIL. Once is enough: wrapping again
 * is a no-op (hd_python_alloc_attach knows its own wrappers). */
static int wrap_domains(void *unused) {
    (void)unused;
    if (hd_python.is_initialized())
        (void)hd_python_alloc_attach();
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    return 0;
}

void hd_python_rescan(void) {
    /* (hexversion set before any rescan: found at start-up.) */
    if (hd_late_load || (hd_python.hexversion && !taken))
        return;
    if (asked) {
        if (waited <= FALLBACK_TICKS && ++waited > FALLBACK_TICKS && !__atomic_load_n(&done, __ATOMIC_ACQUIRE))
            (void)hd_python_domains_unwatched();
        return;
    }
    if (!loaded) {
        unsigned long long adds = 0;
        dl_iterate_phdr(count_adds, &adds);
        if (adds == seen_adds)
            return;
        seen_adds = adds;
        int (*is_initialized)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "Py_IsInitialized");
        if (!is_initialized)
            return;
        hd_python.is_initialized = is_initialized;
        loaded = true;
    }
    if (!taken) {
        if (!hd_python.is_initialized())
            return;
        hd_python_init(true);
        taken = true;
        if (!hd_python.enabled || !hd_python_alloc_resolve(hd_python.hexversion, true)) {
            asked = true;   /* not a version whose frames are read: nothing to wrap */
            return;
        }
    }
    int (*add_pending_call)(int (*)(void *), void *) =
        (int (*)(int (*)(void *), void *))dlsym(RTLD_DEFAULT, "Py_AddPendingCall");
    /* (Its queue full: the next tick asks again.) */
    asked = !add_pending_call || add_pending_call(wrap_domains, NULL) == 0;
}

/* The child of a fork has no thread waiting for the GIL, and may never
 * run what its parent queued: it asks anew. */
void hd_python_late_forked(void) {
    hd_python_domains_forked();
    if (asked && !__atomic_load_n(&done, __ATOMIC_ACQUIRE))
        waited = 0;
}
