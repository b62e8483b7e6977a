/* The real allocator, found with dlsym(RTLD_NEXT), and the bootstrap arena
 * that serves allocations made while dlsym itself is still resolving it
 * (glibc's dlsym may call malloc/calloc). Bootstrap blocks are never handed
 * to the real free: they live in a static buffer. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include "recorder.h"

struct hd_real_allocator hd_real;

enum { HD_BOOTSTRAP_SIZE = 256 * 1024, HD_BOOTSTRAP_HEADER = 16 };
static unsigned char bootstrap[HD_BOOTSTRAP_SIZE] __attribute__((aligned(4096)));
static size_t bootstrap_used;

/* Each block is preceded by a 16-byte header holding its size, so realloc of
 * a bootstrap block knows how much to copy. Each starts a page of its own,
 * at an offset free's sampling fast path sends on to free_general (sampler.h:
 * HD_SAMPLED_MARK), which knows it: only the few blocks dlsym may ask for
 * are served here (none with glibc 2.34 and later). */
void *hd_bootstrap_alloc(size_t size, size_t alignment) {
    if (alignment < 16)
        alignment = 16;
    if (alignment > 4096 || (alignment & (alignment - 1)) || size > HD_BOOTSTRAP_SIZE) {
        errno = ENOMEM;
        return NULL;
    }
    size_t used = __atomic_load_n(&bootstrap_used, __ATOMIC_RELAXED);
    for (;;) {
        size_t start = alignment == 16 ? ((used + 4095) & ~(size_t)4095) + HD_BOOTSTRAP_HEADER
                                       : (used + HD_BOOTSTRAP_HEADER + 4095) & ~(size_t)4095;
        size_t end = start + ((size + 15) & ~(size_t)15);
        if (end > HD_BOOTSTRAP_SIZE) {
            errno = ENOMEM;
            return NULL;
        }
        if (__atomic_compare_exchange_n(&bootstrap_used, &used, end, false,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
            memcpy(bootstrap + start - HD_BOOTSTRAP_HEADER, &size, sizeof size);
            return bootstrap + start; /* static storage: already zeroed */
        }
    }
}

bool hd_is_bootstrap(const void *p) {
    return (uintptr_t)p - (uintptr_t)bootstrap < HD_BOOTSTRAP_SIZE;   /* one compare: every free asks */
}

size_t hd_bootstrap_size(const void *p) {
    size_t size;
    memcpy(&size, (const unsigned char *)p - HD_BOOTSTRAP_HEADER, sizeof size);
    return size;
}

/* Preloaded, the real function is the next definition after ours; attached,
 * it is the one the process's modules are bound to (the global scope's, which
 * may be another allocator than libc's). */
#define RESOLVE(name, result, parameters, releases, required) \
    hd_real.name = (__typeof__(hd_real.name))dlsym(hd_late_load ? RTLD_DEFAULT : RTLD_NEXT, #name);

size_t (*hd_real_usable_size)(void *);
size_t (*hd_next_usable_size)(void *);

void *hd_next_definition(const char *name, const void *self) {
    void *f = dlsym(RTLD_NEXT, name);
    if (!f || f == self)
        f = dlsym(RTLD_DEFAULT, name);
    if (!f)
        (void)dlerror();   /* (the miss is not left for the program's next dlerror) */
    return f == self ? NULL : f;
}

bool hd_same_module(const void *a, const void *b) {
    Dl_info in_a, in_b;
    return a && b && dladdr(a, &in_a) && dladdr(b, &in_b) && in_a.dli_fbase == in_b.dli_fbase;
}

void hd_resolve_real_allocator(void) {
    HD_HOOKED_FUNCTIONS(RESOLVE)
    /* Only the real malloc's own: an allocator that defines malloc but not
     * malloc_usable_size would otherwise have glibc's asked about its blocks. */
    void *usable = dlsym(hd_late_load ? RTLD_DEFAULT : RTLD_NEXT, "malloc_usable_size");
    __atomic_store_n(&hd_next_usable_size, (size_t(*)(void *))usable, __ATOMIC_RELEASE);
    if (hd_same_module(usable, (void *)hd_real.malloc))
        hd_real_usable_size = (size_t(*)(void *))usable;
}

#define REQUIRED(name, result, parameters, releases, required) && (!(required) || hd_real.name)

bool hd_real_allocator_usable(void) {
    return true HD_HOOKED_FUNCTIONS(REQUIRED);
}
