/* dwarf_cfi.c: DWARF call-frame information read the way libunwind 1.6
 * reads it, for eh_frame.c (x86-64 only): encoded values, a CIE, and a CFA
 * program run up to one location. Anything libunwind might read otherwise
 * marks the cursor bad or makes a function return false, and eh_frame.c
 * then leaves the frame to unw_backtrace. */
#ifndef HEAPDIFF_DWARF_CFI_H
#define HEAPDIFF_DWARF_CFI_H

#include "common.h"

#if defined(__x86_64__)

/* DWARF register numbers on x86-64 (libunwind keeps 0..16). */
enum { DW_RBP = 6, DW_RSP = 7, DW_RA = 16, DW_REGS = 17 };

enum hd_cfi_where { HD_CFI_SAME, HD_CFI_UNDEF, HD_CFI_CFAREL, HD_CFI_IN_REG, HD_CFI_EXPR };

struct hd_cfi_regs {
    uint8_t where[DW_REGS];
    int64_t offset[DW_REGS];
    uint8_t cfa_where;           /* HD_CFI_IN_REG or HD_CFI_EXPR */
    uint64_t cfa_reg;
    int64_t cfa_offset;
};

/* Reads stay inside the loaded segment that holds the unwind tables; a
 * read past it makes the rule OTHER (libunwind would read it unchecked). */
struct hd_cfi_cursor {
    const uint8_t *p, *end;
    const uint8_t *lo, *hi;      /* the segment */
    bool bad;
};

struct hd_cfi_cie {
    uint64_t code_align;
    int64_t data_align;
    uint8_t fde_encoding, lsda_encoding;
    bool augmented;              /* 'z' */
    bool signal_frame;           /* 'S': a signal trampoline's */
    const uint8_t *instructions, *end;
};

/* Whether N more bytes may be read; marks the cursor bad if not. */
bool hd_cfi_inside(struct hd_cfi_cursor *c, size_t n) HD_HIDDEN;
/* Fixed-size and LEB128 values; 0 and a bad cursor past the segment. */
uint64_t hd_cfi_u8(struct hd_cfi_cursor *c) HD_HIDDEN;
uint64_t hd_cfi_fixed(struct hd_cfi_cursor *c, size_t n, bool is_signed) HD_HIDDEN;
uint64_t hd_cfi_uleb(struct hd_cfi_cursor *c) HD_HIDDEN;
/* An encoded pointer (DW_EH_PE_*) as libunwind decodes it. */
uint64_t hd_cfi_pointer(struct hd_cfi_cursor *c, uint8_t encoding) HD_HIDDEN;
/* Reads the CIE at P, within [LO, HI); false when libunwind might read it differently. */
bool hd_cfi_read_cie(const uint8_t *p, const uint8_t *lo, const uint8_t *hi, struct hd_cfi_cie *cie) HD_HIDDEN;
/* Runs CFA instructions on R up to location TARGET (*LOC: the current location). */
bool hd_cfi_run(struct hd_cfi_cursor *c, const struct hd_cfi_cie *cie, const struct hd_cfi_regs *initial,
                struct hd_cfi_regs *r, uint64_t *loc, uint64_t target) HD_HIDDEN;

#endif
#endif
