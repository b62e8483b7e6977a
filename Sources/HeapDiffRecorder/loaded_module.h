/* loaded_module.c: a module as dl_iterate_phdr gives it, read for its GOT
 * relocations, and one GOT entry written (got_hooks.c decides which). */
#ifndef HEAPDIFF_LOADED_MODULE_H
#define HEAPDIFF_LOADED_MODULE_H

#include <elf.h>
#include <link.h>
#include <stdint.h>
#include "common.h"
#include "proc_self.h"

#if defined(__x86_64__)
enum { HD_R_JUMP_SLOT = R_X86_64_JUMP_SLOT, HD_R_GLOB_DAT = R_X86_64_GLOB_DAT };
#elif defined(__aarch64__)
enum { HD_R_JUMP_SLOT = R_AARCH64_JUMP_SLOT, HD_R_GLOB_DAT = R_AARCH64_GLOB_DAT };
#else
#error "heapdiff attach knows the GOT relocations of x86_64 and aarch64"
#endif

struct hd_module {
    const struct dl_phdr_info *info;
    uintptr_t relro_start, relro_end;   /* whole pages the loader makes read-only */
    int ready;                          /* -1 not known yet */
    const ElfW(Sym) *symbols;
    const char *strings;
    size_t strings_size;
    const ElfW(Rela) *tables[2];        /* the PLT's relocations (when RELA), then .rela.dyn */
    size_t table_bytes[2];
};

/* /proc/self/maps read once for a pass's stores, and the page size. */
struct hd_got_writer {
    size_t page;
    struct hd_maps maps;
};

bool hd_module_contains(const struct dl_phdr_info *info, uintptr_t address) HD_HIDDEN;
/* The module's dynamic symbols and relocation tables; false when it has none. */
bool hd_module_read(const struct dl_phdr_info *info, size_t page, struct hd_module *m) HD_HIDDEN;
/* The name of relocation r's symbol, NULL when it has none; *type its type. */
const char *hd_module_symbol(const struct hd_module *m, const ElfW(Rela) *r, const ElfW(Sym) **symbol,
                             unsigned *type) HD_HIDDEN;
/* Whether the loader has finished relocating the module (its RELRO is
 * read-only): until then another thread's dlopen may still write entries. */
bool hd_module_ready(struct hd_module *m, struct hd_got_writer *w) HD_HIDDEN;
/* One aligned store into a GOT entry, its page made writable for it and
 * put back; false when the page cannot be written. */
bool hd_got_store(struct hd_got_writer *w, uintptr_t slot, uintptr_t value) HD_HIDDEN;
void hd_got_writer_done(struct hd_got_writer *w) HD_HIDDEN;

#endif
