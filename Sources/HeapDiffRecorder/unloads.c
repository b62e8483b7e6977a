/* Libraries unloaded under the recorder's feet.
 *
 * Unwind rules are cached by return address: the recorder's rule table and
 * memos (native_unwind.c, stack_memo.c) and libunwind's own per-thread trace
 * cache. When dlclose unmaps a library and a later dlopen maps another at
 * the same address, a cached rule describes code that is no longer there: a
 * CFA taken from RBP in a function that now uses RBP as a plain register
 * reads an address nothing maps, and the program is killed by SIGSEGV in
 * the middle of a malloc. So the program's dlclose is passed through, and
 * once it has unmapped something (dl_iterate_phdr's dlpi_subs moved), the
 * recorder stops using its own rules and memos for good, and every stack
 * is then walked with unw_step (hd_unwind_step_by_step), whose caches
 * libunwind checks against the loaded objects and unw_flush_cache empties:
 * unw_backtrace's per-thread trace cache is never emptied (libunwind
 * 1.6-1.8, x86_64/Gtrace.c), so it is not used again. Slower, but only in
 * a process that unloaded a library. Not seen here: unloads made inside
 * glibc (__libc_dlclose: iconv modules), and dlclose in a process recorded
 * by heapdiff attach (its calls are bound to libc's). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include "thread_state.h"
#include "unloads.h"

static int (*real_dlclose)(void *);
bool hd_modules_unloaded;

static int read_subs(struct dl_phdr_info *info, size_t size, void *data) {
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs)
        *(unsigned long long *)data = info->dlpi_subs;
    return 1;   /* the counter is the same in every entry: the first is enough */
}

static unsigned long long unloads_so_far(void) {
    unsigned long long subs = 0;
    dl_iterate_phdr(read_subs, &subs);
    return subs;
}

HD_EXPORT int dlclose(void *handle) {
    int (*real)(void *) = __atomic_load_n(&real_dlclose, __ATOMIC_ACQUIRE);
    if (!real) {
        /* Attached, the process's own (it is bound to libc's); preloaded, the next one. */
        real = (int (*)(void *))dlsym(hd_late_load ? RTLD_DEFAULT : RTLD_NEXT, "dlclose");
        if (!real)
            return -1;
        __atomic_store_n(&real_dlclose, real, __ATOMIC_RELEASE);
    }
    unsigned long long before = unloads_so_far();
    int result = real(handle);
    int saved = errno;   /* the program sees dlclose's own */
    if (unloads_so_far() != before) {
        struct hd_thread *t = hd_thread();
        int outer = hd_guard_enter(t);
        __atomic_store_n(&hd_modules_unloaded, true, __ATOMIC_RELEASE);
        __atomic_store_n(&hd_config.unwind, HD_UNWIND_LIBUNWIND, __ATOMIC_RELEASE);
        unw_flush_cache(unw_local_addr_space, 0, 0);
        hd_guard_leave(t, outer);
    }
    errno = saved;
    return result;
}

int hd_unwind_step_by_step(uintptr_t *buffer, int size) {
    unw_context_t context;
    unw_cursor_t cursor;
    if (unw_getcontext(&context) != 0 || unw_init_local(&cursor, &context) != 0)
        return 0;
    int n = 0;
    while (n < size && unw_step(&cursor) > 0) {
        unw_word_t ip;
        if (unw_get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0)
            break;
        buffer[n++] = (uintptr_t)ip;
    }
    return n;
}
