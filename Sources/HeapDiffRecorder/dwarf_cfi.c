/* Reading .eh_frame's call-frame information as libunwind 1.6 does
 * (dwarf/Gfde.c, dwarf/Gparser.c): the value encodings, a CIE, and the CFA
 * program. Only what eh_frame.c needs for x86-64, and every case where
 * libunwind's reading departs from the standard is refused, not guessed. */
#define _GNU_SOURCE
#include <string.h>
#include "dwarf_cfi.h"

#if defined(__x86_64__)

bool hd_cfi_inside(struct hd_cfi_cursor *c, size_t n) {
    if (c->bad || c->p < c->lo || c->p > c->end || (size_t)(c->end - c->p) < n || c->end > c->hi)
        return !(c->bad = true);
    return true;
}

uint64_t hd_cfi_u8(struct hd_cfi_cursor *c) {
    return hd_cfi_inside(c, 1) ? *c->p++ : 0;
}

uint64_t hd_cfi_fixed(struct hd_cfi_cursor *c, size_t n, bool is_signed) {
    if (!hd_cfi_inside(c, n))
        return 0;
    uint64_t v = 0;
    memcpy(&v, c->p, n);   /* little-endian */
    c->p += n;
    if (is_signed && n < 8 && (v >> (n * 8 - 1)) & 1)
        v |= ~0ull << (n * 8);
    return v;
}

uint64_t hd_cfi_uleb(struct hd_cfi_cursor *c) {
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        uint64_t byte = hd_cfi_u8(c);
        if (c->bad || shift > 63)
            return !(c->bad = true);
        v |= (byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return v;
    }
}

static int64_t hd_cfi_sleb(struct hd_cfi_cursor *c) {
    uint64_t v = 0;
    unsigned shift = 0;
    uint64_t byte;
    do {
        byte = hd_cfi_u8(c);
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
uint64_t hd_cfi_pointer(struct hd_cfi_cursor *c, uint8_t encoding) {
    if (encoding == 0xff)   /* DW_EH_PE_omit */
        return 0;
    const uint8_t *at = c->p;
    uint64_t v;
    switch (encoding & 0x0f) {
    case 0x00: v = hd_cfi_fixed(c, 8, false); break;
    case 0x01: v = hd_cfi_uleb(c); break;
    case 0x02: v = hd_cfi_fixed(c, 2, false); break;
    case 0x03: v = hd_cfi_fixed(c, 4, false); break;
    case 0x04: v = hd_cfi_fixed(c, 8, false); break;
    case 0x0a: v = hd_cfi_fixed(c, 2, true); break;
    case 0x0b: v = hd_cfi_fixed(c, 4, true); break;
    case 0x0c: v = hd_cfi_fixed(c, 8, true); break;
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

/* Reads the CIE at P; false when libunwind might read it differently. */
bool hd_cfi_read_cie(const uint8_t *p, const uint8_t *lo, const uint8_t *hi, struct hd_cfi_cie *cie) {
    struct hd_cfi_cursor c = {p, hi, lo, hi, false};
    uint64_t length = hd_cfi_fixed(&c, 4, false);
    if (c.bad || length == 0 || length >= 0xfffffff0u || (size_t)(hi - c.p) < length)
        return false;
    c.end = c.p + length;
    cie->end = c.end;
    if (hd_cfi_fixed(&c, 4, false) != 0)   /* .eh_frame CIE id */
        return false;
    uint64_t version = hd_cfi_u8(&c);
    if (version != 1 && version != 3)
        return false;
    char aug[8];
    size_t n = 0;
    for (uint64_t ch; (ch = hd_cfi_u8(&c)) != 0 && !c.bad;) {
        if (n == sizeof aug - 1)
            return false;   /* libunwind keeps only the first four characters */
        aug[n++] = (char)ch;
    }
    aug[n] = '\0';
    if (n > 4)
        return false;
    cie->code_align = hd_cfi_uleb(&c);
    cie->data_align = hd_cfi_sleb(&c);
    uint64_t ra_column = version == 1 ? hd_cfi_u8(&c) : hd_cfi_uleb(&c);
    if (ra_column != DW_RA)
        return false;
    cie->fde_encoding = 0x04;   /* udata8: the default for 64-bit addresses */
    cie->lsda_encoding = 0xff;
    cie->augmented = n > 0;
    cie->signal_frame = false;
    if (n > 0) {
        if (aug[0] != 'z')
            return false;
        uint64_t size = hd_cfi_uleb(&c);
        const uint8_t *data = c.p;
        for (size_t i = 1; i < n; i++) {
            switch (aug[i]) {
            case 'L': cie->lsda_encoding = (uint8_t)hd_cfi_u8(&c); break;
            case 'R': cie->fde_encoding = (uint8_t)hd_cfi_u8(&c); break;
            case 'P': {
                uint8_t encoding = (uint8_t)hd_cfi_u8(&c);
                (void)hd_cfi_pointer(&c, (uint8_t)(encoding & 0x7f));   /* not dereferenced: only skipped */
                break;
            }
            case 'S': cie->signal_frame = true; break;
            default: return false;
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
bool hd_cfi_run(struct hd_cfi_cursor *c, const struct hd_cfi_cie *cie, const struct hd_cfi_regs *initial,
                struct hd_cfi_regs *r, uint64_t *loc, uint64_t target) {
    /* Compilers nest remember_state one deep (an epilogue in mid-function);
     * deeper is left to unw_backtrace. Kept small: rules are learned on the
     * program's stack, which may be a signal handler's alternate one. */
    enum { STACK = 3 };
    struct hd_cfi_regs saved[STACK];
    int depth = 0;
    while (*loc <= target && c->p < c->end && !c->bad) {
        uint64_t op = hd_cfi_u8(c), operand = op & 0x3f, reg, value;
        if (op & 0xc0)
            op &= 0xc0;
        switch (op) {
        case 0x40: *loc += operand * cie->code_align; break;                     /* advance_loc */
        case 0x02: *loc += hd_cfi_u8(c) * cie->code_align; break;                       /* advance_loc1 */
        case 0x03: *loc += hd_cfi_fixed(c, 2, false) * cie->code_align; break;          /* advance_loc2 */
        case 0x04: *loc += hd_cfi_fixed(c, 4, false) * cie->code_align; break;          /* advance_loc4 */
        case 0x01: *loc = hd_cfi_pointer(c, cie->fde_encoding); break;                  /* set_loc */
        case 0x80:                                                               /* offset */
            value = hd_cfi_uleb(c);
            if (operand >= DW_REGS)
                return false;
            r->where[operand] = HD_CFI_CFAREL;
            r->offset[operand] = (int64_t)value * cie->data_align;
            break;
        case 0x05: case 0x11:                                                    /* offset_extended(_sf) */
            reg = hd_cfi_uleb(c);
            value = op == 0x05 ? hd_cfi_uleb(c) : (uint64_t)hd_cfi_sleb(c);
            if (reg >= DW_REGS)
                return false;
            r->where[reg] = HD_CFI_CFAREL;
            r->offset[reg] = (int64_t)value * cie->data_align;
            break;
        case 0x2f:                                                               /* GNU_negative_offset_extended */
            reg = hd_cfi_uleb(c);
            value = hd_cfi_uleb(c);
            if (reg >= DW_REGS)
                return false;
            r->where[reg] = HD_CFI_CFAREL;
            r->offset[reg] = -((int64_t)value * cie->data_align);
            break;
        case 0xc0: case 0x06:                                                    /* restore(_extended) */
            reg = op == 0xc0 ? operand : hd_cfi_uleb(c);
            if (reg >= DW_REGS)
                return false;
            r->where[reg] = initial->where[reg];
            r->offset[reg] = initial->offset[reg];
            break;
        case 0x00: break;                                                        /* nop */
        case 0x07: case 0x08: case 0x09:                                         /* undefined, same_value, register */
            reg = hd_cfi_uleb(c);
            if (op == 0x09)
                (void)hd_cfi_uleb(c);
            if (reg >= DW_REGS)
                return false;
            r->where[reg] = op == 0x07 ? HD_CFI_UNDEF : op == 0x08 ? HD_CFI_SAME : HD_CFI_IN_REG;
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
            reg = hd_cfi_uleb(c);
            value = op == 0x0c ? hd_cfi_uleb(c) : (uint64_t)(hd_cfi_sleb(c) * cie->data_align);
            if (reg >= DW_REGS)
                return false;
            r->cfa_where = HD_CFI_IN_REG;
            r->cfa_reg = reg;
            r->cfa_offset = (int64_t)value;
            break;
        case 0x0d:                                                               /* def_cfa_register */
            reg = hd_cfi_uleb(c);
            if (reg >= DW_REGS)
                return false;
            r->cfa_where = HD_CFI_IN_REG;
            r->cfa_reg = reg;
            break;
        case 0x0e: r->cfa_offset = (int64_t)hd_cfi_uleb(c); break;                      /* def_cfa_offset */
        case 0x13: r->cfa_offset = hd_cfi_sleb(c) * cie->data_align; break;             /* def_cfa_offset_sf */
        case 0x0f:                                                               /* def_cfa_expression */
            r->cfa_where = HD_CFI_EXPR;
            value = hd_cfi_uleb(c);
            if (!hd_cfi_inside(c, value))
                return false;
            c->p += value;
            break;
        case 0x10: case 0x16:                                                    /* (val_)expression */
            reg = hd_cfi_uleb(c);
            if (reg >= DW_REGS)
                return false;
            r->where[reg] = HD_CFI_EXPR;
            value = hd_cfi_uleb(c);
            if (!hd_cfi_inside(c, value))
                return false;
            c->p += value;
            break;
        case 0x2e: (void)hd_cfi_uleb(c); break;                                         /* GNU_args_size */
        default: return false;   /* libunwind skips an unknown opcode but not its operands */
        }
    }
    return !c->bad;
}

#endif
