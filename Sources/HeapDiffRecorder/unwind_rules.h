/* The unwind rule of each return address seen, read once from .eh_frame
 * (eh_frame.c) and kept in one table for all threads (unwind_rules.c);
 * native_unwind.c's walk probes it inline. */
#ifndef HEAPDIFF_UNWIND_RULES_H
#define HEAPDIFF_UNWIND_RULES_H

#include "native_unwind.h"

/* The key of the rule at an interrupted instruction (after a signal frame),
 * apart from a return address's: no user-space address has this bit. */
#define HD_RULE_AT_ADDRESS ((uintptr_t)1 << 63)

/* Open addressing; a reader needs no lock (an entry's rule is written
 * before its address is published, and entries never change). Writers
 * hold hd_lock, which fork already handles. Outgrown tables are kept:
 * a reader may still be probing one. */
struct hd_rule_slot { uintptr_t ip; union { struct hd_unwind_rule rule; uint64_t word; }; };
struct hd_rule_table { size_t mask, used; unsigned shift; struct hd_rule_slot slots[]; };

/* The table now (NULL before hd_rules_init, or when it could not be mapped). */
extern struct hd_rule_table *hd_rule_table_now HD_HIDDEN;

static inline const struct hd_rule_table *hd_rules_now(void) {
    return __atomic_load_n(&hd_rule_table_now, __ATOMIC_ACQUIRE);
}

/* The slot where KEY's probe starts. */
static inline size_t hd_rule_home(unsigned shift, uintptr_t key) {
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> shift);
}

/* KEY's rule from the table, or read from .eh_frame and added; rare
 * enough to stay out of line. */
struct hd_unwind_rule hd_rule_slow(uintptr_t key) HD_HIDDEN __attribute__((noinline));

/* A table of 2^LOG2 slots, at start-up. */
void hd_rules_init(unsigned log2) HD_HIDDEN;

/* How many rules were read from .eh_frame so far (HEAPDIFF_STATS). */
uint64_t hd_rules_learned(void) HD_HIDDEN;

#endif
