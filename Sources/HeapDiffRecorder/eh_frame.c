/* The unwind rule of one return address, read once from the .eh_frame of
 * the object that holds it.
 *
 * native_unwind.c walks stacks with these rules instead of calling
 * unw_backtrace, and must give exactly what unw_backtrace gives. So this
 * file does not implement DWARF call-frame information in general: it
 * follows libunwind 1.6's own reading (dwarf/Gfde.c, dwarf/Gparser.c,
 * dwarf/Gfind_proc_info-lsb.c) and its fast trace's classification of a
 * frame (x86_64/Gstash_frame.c, x86_64/Gtrace.c), and it accepts only the
 * cases where both readings agree beyond doubt: CFA = RSP or RBP + offset,
 * the return address at CFA-8, RBP unsaved or at CFA+offset; and signal
 * trampolines (a CIE with 'S'), whose frame libunwind's trace steps by the
 * ucontext the kernel left at RSP, whatever their CFA program. Everything
 * else (expressions, registers saved in registers, an
 * opcode or encoding libunwind reads differently from the standard, no
 * FDE) is HD_RULE_OTHER, and the walker hands the whole stack to
 * unw_backtrace. Written here because libunwind does not export its rules
 * and the recorder may depend on nothing else. This file finds the FDE and
 * classifies the register state; dwarf_cfi.c reads the CIE and runs the
 * CFA program. */
#define _GNU_SOURCE
#include <link.h>
#include <string.h>
#include <libunwind.h>
#include "dwarf_cfi.h"
#include "native_unwind.h"

unw_word_t _U_dyn_info_list_addr(void);   /* exported by libunwind, declared by no header */

#if defined(__x86_64__)

static struct hd_unwind_rule rule_of(unsigned kind, const struct hd_cfi_regs *r) {
    struct hd_unwind_rule rule = {.cfa_offset = (int32_t)r->cfa_offset, .kind = (uint8_t)kind};
    if (r->cfa_reg == DW_RBP)
        rule.flags |= HD_RULE_CFA_RBP;
    if (r->where[DW_RBP] == HD_CFI_CFAREL) {
        rule.flags |= HD_RULE_RBP_SAVED;
        rule.rbp_offset = (int16_t)r->offset[DW_RBP];
    }
    return rule;
}

static bool small_cfa_offset(int64_t offset, int64_t limit) {
    return offset > -limit && offset < limit && offset != -1;
}

/* What libunwind's trace would do with a frame in this register state. */
static struct hd_unwind_rule classify(const struct hd_cfi_regs *r) {
    const struct hd_unwind_rule other = {.kind = HD_RULE_OTHER};
    /* The CFA from RSP or RBP, no register libunwind would have to find
     * through an expression or another register. */
    if (r->cfa_where != HD_CFI_IN_REG || (r->cfa_reg != DW_RSP && r->cfa_reg != DW_RBP))
        return other;
    for (int i = 0; i < DW_REGS; i++)
        if (r->where[i] == HD_CFI_EXPR || r->where[i] == HD_CFI_IN_REG)
            return other;
    if (r->cfa_offset <= -(1 << 28) || r->cfa_offset >= (1 << 28))
        return other;
    /* The end of the stack: an undefined return address or RBP. */
    if (r->where[DW_RA] == HD_CFI_UNDEF)
        return (struct hd_unwind_rule){.kind = HD_RULE_LAST};
    if (r->where[DW_RA] != HD_CFI_CFAREL)
        return other;
    if (r->where[DW_RBP] == HD_CFI_UNDEF)
        return rule_of(HD_RULE_LAST_AFTER_CFA, r);
    if (r->offset[DW_RA] != -8)
        return other;
    if (r->where[DW_RBP] == HD_CFI_CFAREL && !small_cfa_offset(r->offset[DW_RBP], 1 << 14))
        return other;
    if (r->where[DW_RSP] == HD_CFI_CFAREL && !small_cfa_offset(r->offset[DW_RSP], 1 << 14))
        return other;
    return rule_of(HD_RULE_STANDARD, r);
}

struct object {
    uintptr_t ip;
    const uint8_t *hdr, *seg_lo, *seg_hi;
    bool found;
};

static int find_object(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct object *o = data;
    const ElfW(Phdr) *text = NULL, *eh = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && o->ip >= start && o->ip < start + ph->p_memsz)
            text = ph;
        else if (ph->p_type == PT_GNU_EH_FRAME)
            eh = ph;
    }
    if (!text)
        return 0;
    o->found = true;
    if (!eh)
        return 1;
    o->hdr = (const uint8_t *)(info->dlpi_addr + eh->p_vaddr);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        const uint8_t *start = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        if (ph->p_type == PT_LOAD && o->hdr >= start && o->hdr < start + ph->p_filesz) {
            o->seg_lo = start;
            o->seg_hi = start + ph->p_filesz;
        }
    }
    return 1;
}

struct hd_unwind_rule hd_eh_frame_rule(uintptr_t address, bool at_address) {
    const struct hd_unwind_rule other = {.kind = HD_RULE_OTHER};
    /* Unwind info registered with libunwind at run time overrides .eh_frame. */
    const unw_dyn_info_list_t *dynamic = (const unw_dyn_info_list_t *)_U_dyn_info_list_addr();
    if (dynamic && dynamic->first)
        return other;
    /* A return address is looked up inside the call before it, as
     * libunwind does; an interrupted instruction, where it is. */
    uintptr_t ip = at_address ? address : address - 1;
    struct object o = {.ip = ip};
    dl_iterate_phdr(find_object, &o);
    if (!o.hdr || !o.seg_lo)
        return other;
    /* .eh_frame_hdr: version 1, then a binary search table of
     * (start, FDE) pairs relative to the header, sdata4. */
    struct hd_cfi_cursor c = {o.hdr, o.seg_hi, o.seg_lo, o.seg_hi, false};
    uint64_t version = hd_cfi_u8(&c);
    uint8_t frame_encoding = (uint8_t)hd_cfi_u8(&c), count_encoding = (uint8_t)hd_cfi_u8(&c);
    uint8_t table_encoding = (uint8_t)hd_cfi_u8(&c);
    if (c.bad || version != 1 || table_encoding != 0x3b || count_encoding == 0xff)
        return other;
    (void)hd_cfi_pointer(&c, frame_encoding);
    uint64_t count = hd_cfi_pointer(&c, count_encoding);
    if (c.bad || count == 0 || count > (uint64_t)(o.seg_hi - c.p) / 8)
        return other;
    int64_t rel = (int64_t)(ip - (uintptr_t)o.hdr);
    if (rel != (int32_t)rel)
        return other;
    const uint8_t *table = c.p;
    size_t lo = 0, hi = (size_t)count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int32_t start;
        memcpy(&start, table + mid * 8, 4);
        if ((int32_t)rel < start)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (hi == 0)
        return other;
    int32_t fde_offset;
    memcpy(&fde_offset, table + (hi - 1) * 8 + 4, 4);
    /* The FDE. */
    const uint8_t *fde = o.hdr + fde_offset;
    c = (struct hd_cfi_cursor){fde, o.seg_hi, o.seg_lo, o.seg_hi, false};
    uint64_t length = hd_cfi_fixed(&c, 4, false);
    if (c.bad || length == 0 || length >= 0xfffffff0u || (size_t)(o.seg_hi - c.p) < length)
        return other;
    c.end = c.p + length;
    const uint8_t *cie_pointer_at = c.p;
    uint64_t cie_offset = hd_cfi_fixed(&c, 4, true);
    if (c.bad || cie_offset == 0)
        return other;
    struct hd_cfi_cie cie;
    if (!hd_cfi_read_cie(cie_pointer_at - (int64_t)cie_offset, o.seg_lo, o.seg_hi, &cie))
        return other;
    uint64_t start = hd_cfi_pointer(&c, cie.fde_encoding);
    uint64_t range = hd_cfi_pointer(&c, cie.fde_encoding & 0x0f);
    if (c.bad || (cie.fde_encoding & 0x80) || ip < start || ip - start >= range)
        return other;
    if (cie.augmented) {
        uint64_t size = hd_cfi_uleb(&c);
        if (!hd_cfi_inside(&c, size))
            return other;
        c.p += size;
    } else if (cie.lsda_encoding != 0xff) {
        return other;
    }
    if (cie.signal_frame)
        return (struct hd_unwind_rule){.kind = HD_RULE_SIGNAL};
    /* Initial state, the CIE's instructions, then the FDE's up to ip. */
    struct hd_cfi_regs initial;
    memset(&initial, 0, sizeof initial);   /* every register HD_CFI_SAME, no CFA rule yet */
    struct hd_cfi_cursor cie_code = {cie.instructions, cie.end, o.seg_lo, o.seg_hi, false};
    uint64_t loc = 0;
    if (!hd_cfi_run(&cie_code, &cie, &initial, &initial, &loc, ~0ull))
        return other;
    struct hd_cfi_regs r = initial;
    loc = start;
    if (!hd_cfi_run(&c, &cie, &initial, &r, &loc, ip))
        return other;
    return classify(&r);
}

#else

struct hd_unwind_rule hd_eh_frame_rule(uintptr_t address, bool at_address) {
    (void)address, (void)at_address;
    return (struct hd_unwind_rule){.kind = HD_RULE_OTHER};
}

#endif
