/* Each thread's buffers (thread_state.h says why they are not in TLS):
 * made at the thread's first recording, released with the tables they own
 * (the memo of walked stacks, the remembered Python stacks) when the
 * thread exits. One key for all of them, so that no destructor of ours
 * finds another's memory gone. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include "thread_state.h"

static pthread_key_t buffers_key;
static bool buffers_key_ok;

/* Runs at thread exit, in any order among the program's own destructors,
 * which may allocate afterwards: the thread then gets plain buffers,
 * released in the next round of destructors. */
static void release(void *buffers) {
    struct hd_thread *t = hd_thread();
    struct hd_thread_buffers *b = buffers;
    int outer = hd_guard_enter(t);
    hd_memo_release(&b->unwind, &t->memos);
    hd_py_stacks_release(&b->py);
    if (t->buffers == b)
        t->buffers = NULL;
    t->exiting = true;
    hd_pages_free(b, sizeof *b);
    hd_guard_leave(t, outer);
}

void hd_thread_buffers_init(void) {
    buffers_key_ok = pthread_key_create(&buffers_key, release) == 0;
}

struct hd_thread_buffers *hd_thread_buffers_make(struct hd_thread *t) {
    int saved = errno;   /* mmap may set it; the hooks leave it alone */
    struct hd_thread_buffers *b = hd_pages_alloc(sizeof *b);
    if (b) {
        /* Released at thread exit (again in the next round of destructors
         * if made during one); an exiting thread keeps no tables. */
        bool released = buffers_key_ok && pthread_setspecific(buffers_key, b) == 0;
        if (t->exiting || !released) {
            b->unwind.memos_gone = true;
            b->py.stacks_gone = true;
        }
        t->buffers = b;
    } else {
        __atomic_store_n(&hd_traces_dropped, true, __ATOMIC_RELAXED);
    }
    errno = saved;
    return b;
}
