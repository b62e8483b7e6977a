/* HEAPDIFF_UNWIND=verify: every stack the recorder files (proven by the
 * memo or walked with the rules, native_unwind.c) is compared with the one
 * unw_backtrace gives for the same allocation, in the same process; the
 * differences are counted, and the first few printed. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "native_unwind.h"

static uint64_t verified, differed;

/* What the recorder files from a native stack: its first DEPTH frames, and
 * whether there were more. */
static bool same_stack(const struct hd_stack *a, const struct hd_stack *b, bool python) {
    uint32_t an = a->count, bn = b->count;
    if (python) {
        if (a->probed != b->probed)
            return false;
    } else {
        bool a_cut = an > hd_config.depth, b_cut = bn > hd_config.depth;
        if (a_cut != b_cut)
            return false;
        if (a_cut)
            an = bn = hd_config.depth;
    }
    return an == bn && memcmp(a->frames, b->frames, an * sizeof *a->frames) == 0;
}

static void print_stack(const char *what, const struct hd_stack *s) {
    char line[400];
    int used = 0;
    for (uint32_t i = 0; i < s->count && used < (int)sizeof line - 20; i++)
        used += snprintf(line + used, sizeof line - (size_t)used, " %lx", (unsigned long)s->frames[i]);
    line[used] = '\0';
    hd_warn("  %s (%u frames%s):%s", what, s->count, s->probed ? ", probed" : "", line);
}

struct hd_stack hd_unwind_verify(struct hd_unwind_thread *thread, struct hd_stack found, bool python) {
    int saved = errno;
    struct hd_stack truth = hd_libunwind_stack(thread->expected, python);
    __atomic_add_fetch(&verified, 1, __ATOMIC_RELAXED);
    if (!same_stack(&found, &truth, python)) {
        uint64_t count = __atomic_add_fetch(&differed, 1, __ATOMIC_RELAXED);
        if (count <= 5) {
            hd_warn("unwind check: this stack differs from unw_backtrace's");
            print_stack("recorded", &found);
            print_stack("libunwind", &truth);
        }
    }
    errno = saved;
    return found;
}

void hd_unwind_verify_report(void) {
    hd_note("unwind check: %llu stacks compared with unw_backtrace, %llu differed", (unsigned long long)verified,
            (unsigned long long)differed);
}
