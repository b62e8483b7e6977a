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
 * the return address at CFA-8, RBP unsaved or at CFA+offset. Everything
 * else (signal frames, expressions, registers saved in registers, an
 * opcode or encoding libunwind reads differently from the standard, no
 * FDE) is HD_RULE_OTHER, and the walker hands the whole stack to
 * unw_backtrace. Written here because libunwind does not export its rules
 * and the recorder may depend on nothing else. */
#define _GNU_SOURCE
#include <link.h>
#include <string.h>
#include <libunwind.h>
#include "native_unwind.h"

unw_word_t _U_dyn_info_list_addr(void);   /* exported by libunwind, declared by no header */

#if defined(__x86_64__)

/* DWARF register numbers on x86-64 (libunwind keeps 0..16). */
enum { DW_RBP = 6, DW_RSP = 7, DW_RA = 16, DW_REGS = 17 };

enum where { SAME, UNDEF, CFAREL, IN_REG, EXPR };

struct regs {
    uint8_t where[DW_REGS];
    int64_t offset[DW_REGS];
    uint8_t cfa_where;           /* IN_REG or EXPR */
    uint64_t cfa_reg;
    int64_t cfa_offset;
};

/* Reads stay inside the loaded segment that holds the unwind tables; a
 * read past it makes the rule OTHER (libunwind would read it unchecked). */
struct cursor {
    const uint8_t *p, *end;
    const uint8_t *lo, *hi;      /* the segment */
    bool bad;
};

static bool inside(struct cursor *c, size_t n) {
    if (c->bad || c->p < c->lo || c->p > c->end || (size_t)(c->end - c->p) < n || c->end > c->hi)
        return !(c->bad = true);
    return true;
}

static uint64_t u8(struct cursor *c) {
    return inside(c, 1) ? *c->p++ : 0;
}

static uint64_t fixed(struct cursor *c, size_t n, bool is_signed) {
    if (!inside(c, n))
        return 0;
    uint64_t v = 0;
    memcpy(&v, c->p, n);   /* little-endian */
    c->p += n;
    if (is_signed && n < 8 && (v >> (n * 8 - 1)) & 1)
        v |= ~0ull << (n * 8);
    return v;
}

static uint64_t uleb(struct cursor *c) {
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        uint64_t byte = u8(c);
        if (c->bad || shift > 63)
            return !(c->bad = true);
        v |= (byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return v;
    }
}

static int64_t sleb(struct cursor *c) {
    uint64_t v = 0;
    unsigned shift = 0;
    uint64_t byte;
    do {
        byte = u8(c);
        if (c->bad || shift > 63)
            return !(c->bad = true);
        v |= (byte & 0x7f) << shift;
        shift += 7;
    } while (byte & 0x80);
    if (shift < 64 && (byte & 0x40))
        v |= ~0ull << shift;
    return (int64_t)v;
}

/* An encoded pointer as libunwind decodes it (a raw 0 stays 0), for the
 * encodings it decodes as the standard says: absolute or PC-relative,
 * 2/4/8-byte or ULEB128 values. Anything else marks the cursor bad. */
static uint64_t pointer(struct cursor *c, uint8_t encoding) {
    if (encoding == 0xff)   /* DW_EH_PE_omit */
        return 0;
    const uint8_t *at = c->p;
    uint64_t v;
    switch (encoding & 0x0f) {
    case 0x00: v = fixed(c, 8, false); break;
    case 0x01: v = uleb(c); break;
    case 0x02: v = fixed(c, 2, false); break;
    case 0x03: v = fixed(c, 4, false); break;
    case 0x04: v = fixed(c, 8, false); break;
    case 0x0a: v = fixed(c, 2, true); break;
    case 0x0b: v = fixed(c, 4, true); break;
    case 0x0c: v = fixed(c, 8, true); break;
    default: c->bad = true; return 0;   /* sleb128 (libunwind reads it as uleb128), aligned, unknown */
    }
    if (v == 0)
        return 0;
    switch (encoding & 0x70) {
    case 0x00: break;
    case 0x10: v += (uint64_t)(uintptr_t)at; break;
    default: c->bad = true; return 0;   /* datarel, textrel, funcrel: not for us */
    }
    return v;
}

struct cie {
    uint64_t code_align;
    int64_t data_align;
    uint8_t fde_encoding, lsda_encoding;
    bool augmented;              /* 'z' */
    const uint8_t *instructions, *end;
};

/* Reads the CIE at P; false when libunwind might read it differently. */
static bool read_cie(const uint8_t *p, const uint8_t *lo, const uint8_t *hi, struct cie *cie) {
    struct cursor c = {p, hi, lo, hi, false};
    uint64_t length = fixed(&c, 4, false);
    if (c.bad || length == 0 || length >= 0xfffffff0u || (size_t)(hi - c.p) < length)
        return false;
    c.end = c.p + length;
    cie->end = c.end;
    if (fixed(&c, 4, false) != 0)   /* .eh_frame CIE id */
        return false;
    uint64_t version = u8(&c);
    if (version != 1 && version != 3)
        return false;
    char aug[8];
    size_t n = 0;
    for (uint64_t ch; (ch = u8(&c)) != 0 && !c.bad;) {
        if (n == sizeof aug - 1)
            return false;   /* libunwind keeps only the first four characters */
        aug[n++] = (char)ch;
    }
    aug[n] = '\0';
    if (n > 4)
        return false;
    cie->code_align = uleb(&c);
    cie->data_align = sleb(&c);
    uint64_t ra_column = version == 1 ? u8(&c) : uleb(&c);
    if (ra_column != DW_RA)
        return false;
    cie->fde_encoding = 0x04;   /* udata8: the default for 64-bit addresses */
    cie->lsda_encoding = 0xff;
    cie->augmented = n > 0;
    if (n > 0) {
        if (aug[0] != 'z')
            return false;
        uint64_t size = uleb(&c);
        const uint8_t *data = c.p;
        for (size_t i = 1; i < n; i++) {
            switch (aug[i]) {
            case 'L': cie->lsda_encoding = (uint8_t)u8(&c); break;
            case 'R': cie->fde_encoding = (uint8_t)u8(&c); break;
            case 'P': {
                uint8_t encoding = (uint8_t)u8(&c);
                (void)pointer(&c, (uint8_t)(encoding & 0x7f));   /* not dereferenced: only skipped */
                break;
            }
            default: return false;   /* 'S' (signal frame) and anything else */
            }
        }
        /* libunwind starts the instructions after the fields it read, not
         * after the declared size: the two must agree. */
        if (c.p != data + size)
            return false;
    }
    cie->instructions = c.p;
    return !c.bad && c.p <= c.end;
}

/* Runs CFA instructions on R up to location TARGET (libunwind's
 * run_cfi_program). *LOC is the current location. */
static bool run(struct cursor *c, const struct cie *cie, const struct regs *initial, struct regs *r,
                uint64_t *loc, uint64_t target) {
    enum { STACK = 8 };
    struct regs saved[STACK];
    int depth = 0;
    while (*loc <= target && c->p < c->end && !c->bad) {
        uint64_t op = u8(c), operand = op & 0x3f, reg, value;
        if (op & 0xc0)
            op &= 0xc0;
        switch (op) {
        case 0x40: *loc += operand * cie->code_align; break;                     /* advance_loc */
        case 0x02: *loc += u8(c) * cie->code_align; break;                       /* advance_loc1 */
        case 0x03: *loc += fixed(c, 2, false) * cie->code_align; break;          /* advance_loc2 */
        case 0x04: *loc += fixed(c, 4, false) * cie->code_align; break;          /* advance_loc4 */
        case 0x01: *loc = pointer(c, cie->fde_encoding); break;                  /* set_loc */
        case 0x80:                                                               /* offset */
            value = uleb(c);
            if (operand >= DW_REGS)
                return false;
            r->where[operand] = CFAREL;
            r->offset[operand] = (int64_t)value * cie->data_align;
            break;
        case 0x05: case 0x11:                                                    /* offset_extended(_sf) */
            reg = uleb(c);
            value = op == 0x05 ? uleb(c) : (uint64_t)sleb(c);
            if (reg >= DW_REGS)
                return false;
            r->where[reg] = CFAREL;
            r->offset[reg] = (int64_t)value * cie->data_align;
            break;
        case 0x2f:                                                               /* GNU_negative_offset_extended */
            reg = uleb(c);
            value = uleb(c);
            if (reg >= DW_REGS)
                return false;
            r->where[reg] = CFAREL;
            r->offset[reg] = -((int64_t)value * cie->data_align);
            break;
        case 0xc0: case 0x06:                                                    /* restore(_extended) */
            reg = op == 0xc0 ? operand : uleb(c);
            if (reg >= DW_REGS)
                return false;
            r->where[reg] = initial->where[reg];
            r->offset[reg] = initial->offset[reg];
            break;
        case 0x00: break;                                                        /* nop */
        case 0x07: case 0x08: case 0x09:                                         /* undefined, same_value, register */
            reg = uleb(c);
            if (op == 0x09)
                (void)uleb(c);
            if (reg >= DW_REGS)
                return false;
            r->where[reg] = op == 0x07 ? UNDEF : op == 0x08 ? SAME : IN_REG;
            r->offset[reg] = 0;
            break;
        case 0x0a:                                                               /* remember_state */
            if (depth == STACK)
                return false;
            saved[depth++] = *r;
            break;
        case 0x0b:                                                               /* restore_state */
            if (depth == 0)
                return false;
            *r = saved[--depth];
            break;
        case 0x0c: case 0x12:                                                    /* def_cfa(_sf) */
            reg = uleb(c);
            value = op == 0x0c ? uleb(c) : (uint64_t)(sleb(c) * cie->data_align);
            if (reg >= DW_REGS)
                return false;
            r->cfa_where = IN_REG;
            r->cfa_reg = reg;
            r->cfa_offset = (int64_t)value;
            break;
        case 0x0d:                                                               /* def_cfa_register */
            reg = uleb(c);
            if (reg >= DW_REGS)
                return false;
            r->cfa_where = IN_REG;
            r->cfa_reg = reg;
            break;
        case 0x0e: r->cfa_offset = (int64_t)uleb(c); break;                      /* def_cfa_offset */
        case 0x13: r->cfa_offset = sleb(c) * cie->data_align; break;             /* def_cfa_offset_sf */
        case 0x0f:                                                               /* def_cfa_expression */
            r->cfa_where = EXPR;
            value = uleb(c);
            if (!inside(c, value))
                return false;
            c->p += value;
            break;
        case 0x10: case 0x16:                                                    /* (val_)expression */
            reg = uleb(c);
            if (reg >= DW_REGS)
                return false;
            r->where[reg] = EXPR;
            value = uleb(c);
            if (!inside(c, value))
                return false;
            c->p += value;
            break;
        case 0x2e: (void)uleb(c); break;                                         /* GNU_args_size */
        default: return false;   /* libunwind skips an unknown opcode but not its operands */
        }
    }
    return !c->bad;
}

static struct hd_unwind_rule rule_of(unsigned kind, const struct regs *r) {
    struct hd_unwind_rule rule = {.cfa_offset = (int32_t)r->cfa_offset, .kind = (uint8_t)kind};
    if (r->cfa_reg == DW_RBP)
        rule.flags |= HD_RULE_CFA_RBP;
    if (r->where[DW_RBP] == CFAREL) {
        rule.flags |= HD_RULE_RBP_SAVED;
        rule.rbp_offset = (int16_t)r->offset[DW_RBP];
    }
    return rule;
}

static bool small_cfa_offset(int64_t offset, int64_t limit) {
    return offset > -limit && offset < limit && offset != -1;
}

/* What libunwind's trace would do with a frame in this register state. */
static struct hd_unwind_rule classify(const struct regs *r) {
    const struct hd_unwind_rule other = {.kind = HD_RULE_OTHER};
    /* The CFA from RSP or RBP, no register libunwind would have to find
     * through an expression or another register. */
    if (r->cfa_where != IN_REG || (r->cfa_reg != DW_RSP && r->cfa_reg != DW_RBP))
        return other;
    for (int i = 0; i < DW_REGS; i++)
        if (r->where[i] == EXPR || r->where[i] == IN_REG)
            return other;
    if (r->cfa_offset <= -(1 << 28) || r->cfa_offset >= (1 << 28))
        return other;
    /* The end of the stack: an undefined return address or RBP. */
    if (r->where[DW_RA] == UNDEF)
        return (struct hd_unwind_rule){.kind = HD_RULE_LAST};
    if (r->where[DW_RA] != CFAREL)
        return other;
    if (r->where[DW_RBP] == UNDEF)
        return rule_of(HD_RULE_LAST_AFTER_CFA, r);
    if (r->offset[DW_RA] != -8)
        return other;
    if (r->where[DW_RBP] == CFAREL && !small_cfa_offset(r->offset[DW_RBP], 1 << 14))
        return other;
    if (r->where[DW_RSP] == CFAREL && !small_cfa_offset(r->offset[DW_RSP], 1 << 14))
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

struct hd_unwind_rule hd_eh_frame_rule(uintptr_t return_address) {
    const struct hd_unwind_rule other = {.kind = HD_RULE_OTHER};
    /* Unwind info registered with libunwind at run time overrides .eh_frame. */
    const unw_dyn_info_list_t *dynamic = (const unw_dyn_info_list_t *)_U_dyn_info_list_addr();
    if (dynamic && dynamic->first)
        return other;
    uintptr_t ip = return_address - 1;   /* inside the call, as libunwind looks it up */
    struct object o = {.ip = ip};
    dl_iterate_phdr(find_object, &o);
    if (!o.hdr || !o.seg_lo)
        return other;
    /* .eh_frame_hdr: version 1, then a binary search table of
     * (start, FDE) pairs relative to the header, sdata4. */
    struct cursor c = {o.hdr, o.seg_hi, o.seg_lo, o.seg_hi, false};
    uint64_t version = u8(&c);
    uint8_t frame_encoding = (uint8_t)u8(&c), count_encoding = (uint8_t)u8(&c), table_encoding = (uint8_t)u8(&c);
    if (c.bad || version != 1 || table_encoding != 0x3b || count_encoding == 0xff)
        return other;
    (void)pointer(&c, frame_encoding);
    uint64_t count = pointer(&c, count_encoding);
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
    c = (struct cursor){fde, o.seg_hi, o.seg_lo, o.seg_hi, false};
    uint64_t length = fixed(&c, 4, false);
    if (c.bad || length == 0 || length >= 0xfffffff0u || (size_t)(o.seg_hi - c.p) < length)
        return other;
    c.end = c.p + length;
    const uint8_t *cie_pointer_at = c.p;
    uint64_t cie_offset = fixed(&c, 4, true);
    if (c.bad || cie_offset == 0)
        return other;
    struct cie cie;
    if (!read_cie(cie_pointer_at - (int64_t)cie_offset, o.seg_lo, o.seg_hi, &cie))
        return other;
    uint64_t start = pointer(&c, cie.fde_encoding);
    uint64_t range = pointer(&c, cie.fde_encoding & 0x0f);
    if (c.bad || (cie.fde_encoding & 0x80) || ip < start || ip - start >= range)
        return other;
    if (cie.augmented) {
        uint64_t size = uleb(&c);
        if (!inside(&c, size))
            return other;
        c.p += size;
    } else if (cie.lsda_encoding != 0xff) {
        return other;
    }
    /* Initial state, the CIE's instructions, then the FDE's up to ip. */
    struct regs initial;
    memset(&initial, 0, sizeof initial);   /* every register SAME, no CFA rule yet */
    struct cursor cie_code = {cie.instructions, cie.end, o.seg_lo, o.seg_hi, false};
    uint64_t loc = 0;
    if (!run(&cie_code, &cie, &initial, &initial, &loc, ~0ull))
        return other;
    struct regs r = initial;
    loc = start;
    if (!run(&c, &cie, &initial, &r, &loc, ip))
        return other;
    return classify(&r);
}

#else

struct hd_unwind_rule hd_eh_frame_rule(uintptr_t return_address) {
    (void)return_address;
    return (struct hd_unwind_rule){.kind = HD_RULE_OTHER};
}

#endif
