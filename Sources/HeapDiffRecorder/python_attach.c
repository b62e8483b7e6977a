/* heapdiff attach in a running CPython: its allocator domains wrapped, and
 * later given back, holding its GIL.
 *
 * PyMem_SetAllocator wants the GIL once the interpreter runs, as
 * tracemalloc's start() has it when called late. It is taken the way any
 * foreign thread takes it, PyGILState_Ensure (exported by libpython and by
 * Debian's static interpreter alike): the interpreter makes a thread state
 * for the caller and asks the holder to let go at its next switch interval.
 * That call cannot be bounded, so it is made by a thread of its own while
 * the session thread waits a bounded time: a thread holding the GIL in C
 * code for longer does not stop the session, which goes on without the
 * domains and says so. The waiting thread, when it gets the GIL at last,
 * does what is wanted then: a request the session gave up on gives the
 * domains back instead (a no-op unless an earlier session wrapped them).
 *
 * One such thread at most: while one still waits, further requests are
 * answered at once as the GIL being busy. If the interpreter starts to
 * finalize meanwhile, CPython ends the waiting thread (as it does any
 * thread that asks for the GIL then), which holds nothing of ours. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <time.h>
#include "recorder.h"
#include "thread_state.h"

/* UNWATCHED: asked by python_late.c, which does not wait for the answer. */
enum job_state { IDLE, WAITING, GAVE_UP, RUNNING, DONE, UNWATCHED };

static int state = IDLE;          /* enum job_state, atomic */
static bool job_wrap;             /* what the waiting session asks for */
static enum hd_py_domains job_result;

static int (*gil_ensure)(void);   /* PyGILState_STATE is an enum */
static void (*gil_release)(int);

static bool interpreter_running(void) {
    return hd_python.is_initialized && hd_python.is_initialized() && !hd_python_finalizing(HD_TRIGGER_SIGNAL);
}

static void *gil_thread(void *unused) {
    (void)unused;
    (void)hd_guard_enter(hd_thread());   /* for good: the thread state the interpreter makes for us is not the program's */
    prctl(PR_SET_NAME, "heapdiff-gil", 0, 0, 0);
    int gil = gil_ensure();
    int expected = WAITING;
    bool watched = __atomic_compare_exchange_n(&state, &expected, RUNNING, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    expected = UNWATCHED;
    bool asked = watched ||
                 __atomic_compare_exchange_n(&state, &expected, RUNNING, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    bool wrap = asked && job_wrap;   /* given up on: the domains are not wanted any more */
    enum hd_py_domains result = HD_PY_DOMAINS_NOT_RUNNING;
    if (interpreter_running()) {
        if (wrap)
            result = hd_python_alloc_attach() ? HD_PY_DOMAINS_WRAPPED : HD_PY_DOMAINS_NONE;
        else
            result = hd_python_alloc_detach() ? HD_PY_DOMAINS_KEPT : HD_PY_DOMAINS_GIVEN_BACK;
    }
    gil_release(gil);
    job_result = result;
    __atomic_store_n(&state, watched ? DONE : IDLE, __ATOMIC_RELEASE);
    return NULL;
}


static bool resolve(void) {
    if (!hd_python.enabled)
        return false;
    if (!gil_ensure) {
        gil_ensure = (int (*)(void))dlsym(RTLD_DEFAULT, "PyGILState_Ensure");
        gil_release = (void (*)(int))dlsym(RTLD_DEFAULT, "PyGILState_Release");
    }
    return gil_ensure && gil_release && hd_python_alloc_resolve(hd_python.hexversion, true);
}

bool hd_python_domains_unwatched(void) {
    int expected = IDLE;
    if (!resolve() || !interpreter_running() ||
        !__atomic_compare_exchange_n(&state, &expected, UNWATCHED, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return false;
    job_wrap = true;
    if (hd_start_own_thread(gil_thread, true) != 0) {
        __atomic_store_n(&state, IDLE, __ATOMIC_RELEASE);
        return false;
    }
    return true;
}

enum hd_py_domains hd_python_domains(bool wrap, unsigned wait_ms) {
    if (!resolve())
        return HD_PY_DOMAINS_NONE;
    if (!interpreter_running())
        return HD_PY_DOMAINS_NOT_RUNNING;
    int expected = IDLE;
    if (!__atomic_compare_exchange_n(&state, &expected, WAITING, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return HD_PY_DOMAINS_GIL_BUSY;   /* a thread from before still waits for it */
    job_wrap = wrap;
    if (hd_start_own_thread(gil_thread, true) != 0) {
        __atomic_store_n(&state, IDLE, __ATOMIC_RELEASE);
        return HD_PY_DOMAINS_GIL_BUSY;
    }
    const struct timespec tick = {0, 1000000};
    for (unsigned waited = 0;; waited++) {
        int now = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
        if (now == DONE) {
            enum hd_py_domains result = job_result;
            __atomic_store_n(&state, IDLE, __ATOMIC_RELEASE);
            return result;
        }
        /* Once it runs it holds the GIL for a few calls: wait for it. */
        if (now == WAITING && waited >= wait_ms) {
            expected = WAITING;
            if (__atomic_compare_exchange_n(&state, &expected, GAVE_UP, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                return HD_PY_DOMAINS_GIL_BUSY;
        }
        nanosleep(&tick, NULL);
    }
}

/* The child of a fork has no waiting thread. */
void hd_python_domains_forked(void) {
    __atomic_store_n(&state, IDLE, __ATOMIC_RELEASE);
}

const char *hd_python_domains_word(enum hd_py_domains d) {
    switch (d) {
    case HD_PY_DOMAINS_WRAPPED: return "wrapped";
    case HD_PY_DOMAINS_GIVEN_BACK: return "given-back";
    case HD_PY_DOMAINS_KEPT: return "kept";
    case HD_PY_DOMAINS_NOT_RUNNING: return "not-running";
    case HD_PY_DOMAINS_GIL_BUSY: return "gil-busy";
    case HD_PY_DOMAINS_NONE: break;
    }
    return "-";
}
