/* heapdiff attach: the malloc family of a process that is already running
 * (with C++'s operators and jemalloc's API where the allocator defines
 * them), taken over by rewriting the GOT entries its modules call it through (the
 * loader filled them in at start-up; a call reads its entry every time, so
 * one aligned pointer store redirects it, atomically for a thread calling it
 * at that moment), and given back at detach.
 *
 * What keeps the process safe:
 * - Only GOT relocations (JUMP_SLOT, GLOB_DAT) are touched, never data the
 *   program owns (an R_X86_64_64 in .data is a function-pointer variable).
 * - An entry is redirected only when it holds what the loader resolved: the
 *   function the global scope binds the name to (which the hooks call), or,
 *   bound lazily and not called yet, the module's own PLT stub. Anything else
 *   (an entry not relocated yet, a module bound to another allocator) stays.
 * - A module another thread is still loading (its RELRO pages not read-only
 *   yet) waits for a later pass: the loader may still write its entries.
 * - Read-only pages are made writable for the store, then put back.
 * - Entries that release a block switch before entries that record one, so
 *   no recorded block can be freed unseen while the switch is under way.
 * - All of it happens inside dl_iterate_phdr's callback, which holds the
 *   loader's lock: no module is unmapped meanwhile. Nothing in the callback
 *   takes that lock again (no dlsym) or allocates.
 * Preloaded, the same passes switch jemalloc's API alone (jemalloc_api.c):
 * the recorder interposes everything else by name.
 * Giving back writes the real function into every entry that holds a hook;
 * for a lazily bound one that is what its first call would have written.
 *
 * "The real function" has two addresses when a non-PIE executable takes
 * malloc's address (Debian's /usr/bin/python3.11 does): its PLT entry is then
 * malloc's canonical address, which dlsym returns and other modules' GLOB_DAT
 * entries hold, while JUMP_SLOT entries hold libc's malloc itself. The hooks
 * must call the latter (the canonical one jumps through a GOT entry we
 * rewrite), and each entry gets back the kind it had.
 *
 * Reading a module's relocations and writing an entry: loaded_module.c. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>
#include "recorder.h"
#include "cxx_operators.h"
#include "jemalloc_api.h"
#include "loaded_module.h"

/* One entry per hooked name (hook_list.h), then C++'s operators and
 * jemalloc's API, which are taken over only where the allocator defines
 * them (cxx_operators.c, jemalloc_api.c). */
#define HOOK(name, result, parameters, releases, required) \
    {#name, releases, required, (void **)&hd_real.name, 0, 0, 0, ALLOCATOR, false, NULL},
#define HOOK_AS_REALLOC(name, result, parameters, releases, required) \
    {#name, releases, required, NULL, 0, 0, 0, ALLOCATOR, false, NULL},
#define HOOK_OPERATOR(name, shape) \
    {#name, HD_CXX_RELEASES_##shape, false, &hd_cxx_next.name, 0, 0, 0, CXX_OPERATOR, HD_CXX_SIZED_##shape, NULL},
#define HOOK_JEMALLOC(name, releases, sized) \
    {#name, releases, false, (void **)&hd_jemalloc.name, 0, 0, 0, JEMALLOC_API, sized, &hd_jemalloc_hook_##name},
enum family { ALLOCATOR, CXX_OPERATOR, JEMALLOC_API };
static struct hook {
    const char *name;
    bool releases;              /* switched in the first pass */
    bool required;              /* the hooks cannot pass calls on without it */
    void **called;              /* hd_real's field: what the hook calls (NULL: reallocarray calls realloc's) */
    uintptr_t hook;
    uintptr_t real;             /* the definition; 0: the process has none we can use */
    uintptr_t canonical;        /* its address as dlsym and GLOB_DAT entries have it */
    enum family family;
    bool sized;                 /* frees with a size or alignment the allocator relies on (C++'s sized
                                 * and aligned deletes, sdallocx) */
    void *const *own;           /* a hook this library does not export (jemalloc_api.c) */
} hooks[] = {
    HD_HOOKED_FUNCTIONS(HOOK)
    HD_HOOKED_AS_REALLOC(HOOK_AS_REALLOC)
    /* Not an allocator entry point: sampled_home.c answers it for the
     * blocks sampling moved to a home and passes every other call on. */
    {"malloc_usable_size", false, false, (void **)&hd_next_usable_size, 0, 0, 0, ALLOCATOR, false, NULL},
    HD_CXX_OPERATORS(HOOK_OPERATOR)
    HD_JEMALLOC_API(HOOK_JEMALLOC)
};
enum { HOOK_COUNT = sizeof hooks / sizeof hooks[0] };

static uintptr_t loader_base;   /* ld.so: its relocations bind the loader to itself */
uintptr_t hd_loader_start, hd_loader_size;
static unsigned long long seen_adds, seen_subs;
static int visit_module(struct dl_phdr_info *info, size_t size, void *data);

/* ---- one pass over the loaded modules --------------------------------- */

enum which { RELEASES, ALL };
enum action { FIND, PATCH, RESTORE };

struct pass {
    enum action action;
    enum which which;
    bool last;                  /* the pass that counts */
    bool keep_sized;            /* restoring: sized frees stay (hd_got_patch) */
    uintptr_t self;             /* an address in this library */
    struct hd_got_writer writer;
    struct hd_got_counts counts;
};

static struct hook *hook_named(const char *name) {
    for (int i = 0; i < HOOK_COUNT; i++)
        if (hooks[i].canonical && strcmp(hooks[i].name, name) == 0)
            return &hooks[i];
    return NULL;
}

static bool in_pass(const struct pass *p, const struct hook *h) {
    return p->which == ALL || h->releases;
}

/* One relocation table; false when the module must wait for a later pass. */
static bool visit_relocations(struct pass *p, struct hd_module *mod, int table, bool *hooked) {
    uintptr_t base = mod->info->dlpi_addr;
    for (size_t i = 0; i < mod->table_bytes[table] / sizeof *mod->tables[table]; i++) {
        const ElfW(Rela) *r = &mod->tables[table][i];
        const ElfW(Sym) *symbol;
        unsigned type;
        const char *name = hd_module_symbol(mod, r, &symbol, &type);
        if ((type != HD_R_JUMP_SLOT && type != HD_R_GLOB_DAT) || !name)
            continue;
        struct hook *h = hook_named(name);
        if (!h)
            continue;
        uintptr_t slot = base + r->r_offset;
        uintptr_t value = __atomic_load_n((const uintptr_t *)slot, __ATOMIC_ACQUIRE);
        if (p->action == FIND) {
            /* This module's PLT entry is the canonical address: its own
             * JUMP_SLOT, once bound, holds the definition. */
            if (symbol->st_shndx == SHN_UNDEF && symbol->st_value && base + symbol->st_value == h->canonical &&
                type == HD_R_JUMP_SLOT)
                h->real = value != h->hook && !hd_module_contains(mod->info, value) ? value : 0;
            continue;
        }
        bool kept = p->action == RESTORE && p->keep_sized && h->sized;
        if (in_pass(p, h) && !kept) {
            if (p->action == RESTORE) {
                if (value == h->hook && hd_got_store(&p->writer, slot, type == HD_R_GLOB_DAT ? h->canonical : h->real))
                    p->counts.changed++;
            } else if (value == h->real || value == h->canonical ||
                       (type == HD_R_JUMP_SLOT && value != h->hook && hd_module_contains(mod->info, value))) {
                if (!hd_module_ready(mod, &p->writer)) {
                    p->counts.deferred++;
                    return false;
                }
                if (hd_got_store(&p->writer, slot, h->hook))
                    p->counts.changed++;
            }
        }
        if (p->last && __atomic_load_n((const uintptr_t *)slot, __ATOMIC_ACQUIRE) == h->hook) {
            if (kept) {
                p->counts.kept++;
                continue;
            }
            p->counts.slots++;
            *hooked = true;
        }
    }
    return true;
}

static int visit_module(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct pass *p = data;
    if (p->action == FIND && loader_base && info->dlpi_addr == loader_base)
        for (int i = 0; i < info->dlpi_phnum; i++)
            if (info->dlpi_phdr[i].p_type == PT_LOAD && (info->dlpi_phdr[i].p_flags & PF_X)) {
                hd_loader_start = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
                hd_loader_size = info->dlpi_phdr[i].p_memsz;
            }
    if ((loader_base && info->dlpi_addr == loader_base) || hd_module_contains(info, p->self) ||
        (info->dlpi_name && strncmp(info->dlpi_name, "linux-", 6) == 0))   /* the vDSO */
        return 0;
    struct hd_module mod;
    if (!hd_module_read(info, p->writer.page, &mod))
        return 0;
    bool hooked = false;
    for (int table = 0; table < 2; table++)
        if (mod.tables[table] && !visit_relocations(p, &mod, table, &hooked))
            return 0;
    if (hooked)
        p->counts.modules++;
    return 0;
}

/* ---- one entry of the recorder's own dependency ----------------------- */

struct own_binding {
    const void *in_module;
    const char *name;
    uintptr_t function;
    struct hd_got_writer writer;
    bool bound;
};

static int bind_own(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct own_binding *b = data;
    struct hd_module mod;
    if (!hd_module_contains(info, (uintptr_t)b->in_module) || !hd_module_read(info, b->writer.page, &mod))
        return 0;
    for (int table = 0; table < 2; table++)
        for (size_t i = 0; mod.tables[table] && i < mod.table_bytes[table] / sizeof *mod.tables[table]; i++) {
            const ElfW(Sym) *symbol;
            unsigned type;
            const char *name = hd_module_symbol(&mod, &mod.tables[table][i], &symbol, &type);
            if ((type == HD_R_JUMP_SLOT || type == HD_R_GLOB_DAT) && name && strcmp(name, b->name) == 0)
                b->bound |= hd_got_store(&b->writer, info->dlpi_addr + mod.tables[table][i].r_offset, b->function);
        }
    return 1;
}

bool hd_got_bind_own(const void *in_module, const char *name, void *function) {
    struct own_binding b = {in_module, name, (uintptr_t)function, {.page = (size_t)sysconf(_SC_PAGESIZE)}, false};
    dl_iterate_phdr(bind_own, &b);
    hd_got_writer_done(&b.writer);
    return b.bound;
}

static int first_module_counters(struct dl_phdr_info *info, size_t size, void *data) {
    unsigned long long *counters = data;
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
        counters[0] = info->dlpi_adds;
        counters[1] = info->dlpi_subs;
    }
    return 1;   /* one module is enough: the counters are the process's */
}

bool hd_got_modules_changed(void) {
    unsigned long long counters[2] = {0, 0};
    dl_iterate_phdr(first_module_counters, counters);
    return counters[0] != seen_adds || counters[1] != seen_subs;
}

bool hd_got_init(void) {
    /* Our own definitions: `&malloc` here would go through our GOT, which
     * (dlopen'ed without RTLD_GLOBAL) the global scope's malloc fills. */
    Dl_info self;
    if (!dladdr((void *)&hd_got_init, &self) || !self.dli_fname)
        return false;
    void *handle = dlopen(self.dli_fname, RTLD_NOLOAD | RTLD_LAZY);
    if (!handle)
        return false;
    for (int i = 0; i < HOOK_COUNT; i++) {
        hooks[i].hook = (uintptr_t)(hooks[i].own ? *hooks[i].own : dlsym(handle, hooks[i].name));
        hooks[i].canonical = hooks[i].real = (uintptr_t)dlsym(RTLD_DEFAULT, hooks[i].name);
        if (!hooks[i].hook || hooks[i].hook == hooks[i].real)
            hooks[i].real = hooks[i].canonical = 0;
    }
    dlclose(handle);   /* only the reference RTLD_NOLOAD took */
    loader_base = (uintptr_t)getauxval(AT_BASE);
    struct pass p = {.action = FIND, .which = ALL, .self = (uintptr_t)&visit_module,
                     .writer = {.page = (size_t)sysconf(_SC_PAGESIZE)}};
    dl_iterate_phdr(visit_module, &p);
    /* C++'s operators only where the allocator defines its own (jemalloc's
     * bypass malloc); libstdc++'s call the hooks already. */
    struct hook *new = hook_named("_Znwm"), *malloc_hook = hook_named("malloc");
    bool own = new && malloc_hook && new->real && malloc_hook->real &&
               hd_same_module((void *)new->real, (void *)malloc_hook->real);
    bool jemalloc = hd_jemalloc_api_wanted();
    bool ok = true;
    for (int i = 0; i < HOOK_COUNT; i++) {
        if ((hooks[i].family == CXX_OPERATOR && !own) || (hooks[i].family == JEMALLOC_API && !jemalloc) ||
            (hooks[i].family != JEMALLOC_API && !hd_late_load))   /* preloaded, the rest are interposed */
            hooks[i].real = 0;
        if (!hooks[i].real)
            hooks[i].canonical = 0;   /* unusable: leave every entry of this name alone */
        else if (hooks[i].called)
            memcpy(hooks[i].called, &hooks[i].real, sizeof(void *));
        if (!hooks[i].real && hooks[i].required)
            ok = false;   /* the hooks could not pass these on */
    }
    if (own)
        hd_cxx_operators_take_over();
    return ok;
}

struct hd_got_counts hd_got_patch(bool restore, bool keep_sized) {
    unsigned long long counters[2] = {0, 0};
    dl_iterate_phdr(first_module_counters, counters);   /* before the pass: a module loaded during it is seen next time */
    seen_adds = counters[0];
    seen_subs = counters[1];
    struct pass p = {.action = restore ? RESTORE : PATCH, .keep_sized = keep_sized,
                     .self = (uintptr_t)&visit_module, .writer = {.page = (size_t)sysconf(_SC_PAGESIZE)}};
    if (restore) {
        p.which = ALL;
        p.last = true;
        dl_iterate_phdr(visit_module, &p);
    } else {
        p.which = RELEASES;
        dl_iterate_phdr(visit_module, &p);
        unsigned changed = p.counts.changed;
        p.counts = (struct hd_got_counts){0};
        p.which = ALL;   /* a module that was still loading in the first pass switches its frees now */
        p.last = true;
        dl_iterate_phdr(visit_module, &p);
        p.counts.changed += changed;
    }
    hd_got_writer_done(&p.writer);
    return p.counts;
}
