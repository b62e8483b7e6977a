/* A loaded module's GOT relocations, read from its dynamic section in
 * memory, and a GOT entry written with the page's protection kept: the
 * mechanism under got_hooks.c's passes. Nothing here calls malloc or takes the
 * loader's lock: it runs inside dl_iterate_phdr's callback. */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include "recorder.h"
#include "loaded_module.h"

bool hd_module_contains(const struct dl_phdr_info *info, uintptr_t address) {
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && address >= start && address < start + ph->p_memsz)
            return true;
    }
    return false;
}

static uintptr_t dynamic_address(const struct dl_phdr_info *info, ElfW(Addr) value) {
    /* glibc relocates these in place, unless the dynamic section is read-only */
    return value < info->dlpi_addr ? info->dlpi_addr + value : value;
}

bool hd_module_read(const struct dl_phdr_info *info, size_t page, struct hd_module *m) {
    *m = (struct hd_module){.info = info, .ready = -1};
    const ElfW(Dyn) *dynamic = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_DYNAMIC)
            dynamic = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
        else if (ph->p_type == PT_GNU_RELRO) {
            uintptr_t start = info->dlpi_addr + ph->p_vaddr;
            m->relro_start = start & ~(uintptr_t)(page - 1);   /* as the loader rounds them */
            m->relro_end = (start + ph->p_memsz) & ~(uintptr_t)(page - 1);
        }
    }
    if (!dynamic)
        return false;
    bool plt_is_rela = true;
    for (const ElfW(Dyn) *d = dynamic; d->d_tag != DT_NULL; d++) {
        switch (d->d_tag) {
        case DT_SYMTAB: m->symbols = (const ElfW(Sym) *)dynamic_address(info, d->d_un.d_ptr); break;
        case DT_STRTAB: m->strings = (const char *)dynamic_address(info, d->d_un.d_ptr); break;
        case DT_STRSZ: m->strings_size = d->d_un.d_val; break;
        case DT_JMPREL: m->tables[0] = (const ElfW(Rela) *)dynamic_address(info, d->d_un.d_ptr); break;
        case DT_PLTRELSZ: m->table_bytes[0] = d->d_un.d_val; break;
        case DT_PLTREL: plt_is_rela = d->d_un.d_val == DT_RELA; break;
        case DT_RELA: m->tables[1] = (const ElfW(Rela) *)dynamic_address(info, d->d_un.d_ptr); break;
        case DT_RELASZ: m->table_bytes[1] = d->d_un.d_val; break;
        default: break;
        }
    }
    if (!plt_is_rela)
        m->tables[0] = NULL;
    return m->symbols && m->strings;
}

const char *hd_module_symbol(const struct hd_module *m, const ElfW(Rela) *r, const ElfW(Sym) **symbol,
                             unsigned *type) {
    *type = (unsigned)ELF64_R_TYPE(r->r_info);
    *symbol = &m->symbols[ELF64_R_SYM(r->r_info)];
    return (*symbol)->st_name < m->strings_size ? m->strings + (*symbol)->st_name : NULL;
}

bool hd_module_ready(struct hd_module *m, struct hd_got_writer *w) {
    if (m->ready < 0) {
        if (m->relro_start >= m->relro_end)
            m->ready = 1;
        else if (!w->maps.text && !hd_maps_load(&w->maps))
            m->ready = 0;
        else
            m->ready = !(hd_maps_protection(&w->maps, m->relro_start) & PROT_WRITE);
    }
    return m->ready;
}

bool hd_got_store(struct hd_got_writer *w, uintptr_t slot, uintptr_t value) {
    if (!w->maps.text && !hd_maps_load(&w->maps))
        return false;
    int prot = hd_maps_protection(&w->maps, slot);
    if (prot < 0)
        return false;
    if (prot & PROT_WRITE) {
        __atomic_store_n((uintptr_t *)slot, value, __ATOMIC_RELEASE);
        return true;
    }
    void *page = (void *)(slot & ~(uintptr_t)(w->page - 1));
    if (mprotect(page, w->page, prot | PROT_WRITE) != 0)
        return false;
    __atomic_store_n((uintptr_t *)slot, value, __ATOMIC_RELEASE);
    mprotect(page, w->page, prot);
    return true;
}

void hd_got_writer_done(struct hd_got_writer *w) {
    if (w->maps.text)
        hd_pages_free(w->maps.text, w->maps.capacity);
    w->maps = (struct hd_maps){0};
}
