/* Native frames under Python code, without unwinding every time.
 *
 * Under Python code the native frames that matter are the few between the
 * allocator and the innermost eval loop, and the same few repeat millions of
 * times. The first time a path is seen it is unwound with libunwind, which
 * also tells where on the stack each frame's return address lives; that is
 * remembered per thread, keyed by the allocator's caller and frame address.
 * Next time, reading those stack slots and finding the same return
 * addresses proves the path is the same (each slot's position follows from
 * the return addresses inside it), at the cost of a few loads instead of a
 * full unwind. Any difference falls back to libunwind. */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include "capture.h"

__thread struct hd_stack_memo *hd_memos __attribute__((tls_model("initial-exec")));
__thread uint8_t hd_memo_recent[HD_MEMO_SETS] __attribute__((tls_model("initial-exec")));
static __thread bool memos_gone __attribute__((tls_model("initial-exec")));
static pthread_key_t memo_key;
static bool memo_key_ok;

static void release_memos(void *memos) {
    hd_pages_free(memos, HD_MEMO_COUNT * sizeof(struct hd_stack_memo));
    hd_memos = NULL;
    memos_gone = true;   /* a later allocation in this exiting thread unwinds */
}

void hd_python_unwind_init(void) {
    memo_key_ok = pthread_key_create(&memo_key, release_memos) == 0;
}

static struct hd_stack_memo *memos(void) {
    if (HD_LIKELY(hd_memos) || memos_gone || !memo_key_ok)
        return hd_memos;
    hd_memos = hd_pages_alloc(HD_MEMO_COUNT * sizeof(struct hd_stack_memo));
    if (hd_memos && pthread_setspecific(memo_key, hd_memos) != 0) {
        hd_pages_free(hd_memos, HD_MEMO_COUNT * sizeof(struct hd_stack_memo));
        hd_memos = NULL;
        memos_gone = true;
    }
    return hd_memos;
}

int hd_python_unwind_slow(uintptr_t base, uintptr_t caller) {
    unw_context_t context;
    unw_cursor_t cursor;
    unw_word_t ip, sp;
    if (unw_getcontext(&context) != 0 || unw_init_local(&cursor, &context) != 0)
        return -1;
    /* Past this function and the hook, to the hook's caller. */
    do {
        if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0)
            return -1;
    } while (hd_is_self(ip) && unw_step(&cursor) > 0);
    int n = 0;
    int32_t slots[HD_PY_PROBE_FRAMES];
    bool provable = ip == caller, eval = false;
    for (;;) {
        if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0 || unw_get_reg(&cursor, UNW_REG_SP, &sp) != 0)
            return n > 0 ? n : -1;
        /* The call that made this frame pushed its return address just
         * below the frame's stack pointer. */
        intptr_t slot = (intptr_t)(sp - sizeof(uintptr_t)) - (intptr_t)base;
        provable = provable && slot > 0 && slot < INT32_MAX;
        hd_capture[n] = ip;
        slots[n] = provable ? (int32_t)slot : 0;
        n++;
        if ((eval = hd_python_is_eval(ip)))
            break;
        /* Deep native code under Python (a recursive parser, say): its
         * innermost few frames and the Python frames above it, not every
         * recursion of it, which would make most allocations a stack of
         * their own. */
        if (n == HD_PY_PROBE_FRAMES) {
            hd_capture_probed = true;
            return HD_PY_DEEP_NATIVE_FRAMES;
        }
        if (unw_step(&cursor) <= 0)
            return n;   /* the whole stack, and no eval loop in it */
    }
    hd_capture_probed = true;
    struct hd_stack_memo *table = memos();
    if (table && provable && eval) {
        /* Round-robin over the set's ways: cheap, and no path is starved. */
        static __thread unsigned victim __attribute__((tls_model("initial-exec")));
        size_t set = hd_memo_set(caller, base, hd_py_frames[0]);
        unsigned way = victim++ % HD_MEMO_WAYS;
        struct hd_stack_memo *memo = &table[set * HD_MEMO_WAYS + way];
        hd_memo_recent[set] = (uint8_t)way;
        memo->caller = caller;
        memo->base = base;
        memo->python = hd_py_frames[0];
        memo->count = (uint32_t)n;
        memcpy(memo->slots, slots, (size_t)n * sizeof *slots);
        memcpy(memo->ips, hd_capture, (size_t)n * sizeof *hd_capture);
    }
    return n;
}
