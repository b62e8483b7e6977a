/* Rules per return address: one table for all threads, read without a
 * lock, grown under hd_lock as .eh_frame's rules are learned. */
#define _GNU_SOURCE
#include <errno.h>
#include "unwind_rules.h"

struct hd_rule_table *hd_rule_table_now;
static uint64_t rules_learned;

static inline struct hd_unwind_rule rule_find(const struct hd_rule_table *t, uintptr_t ip) {
    for (size_t i = hd_rule_home(t->shift, ip);; i = (i + 1) & t->mask) {
        uintptr_t key = __atomic_load_n(&t->slots[i].ip, __ATOMIC_ACQUIRE);
        if (key == ip)
            return t->slots[i].rule;
        if (key == 0)
            return (struct hd_unwind_rule){.kind = HD_RULE_UNKNOWN};
    }
}

static struct hd_rule_table *rule_table_new(unsigned log2) {
    size_t count = (size_t)1 << log2;
    struct hd_rule_table *t = hd_pages_alloc(sizeof *t + count * sizeof t->slots[0]);
    if (t) {
        t->mask = count - 1;
        t->shift = 64 - log2;
    }
    return t;
}

static void rule_put(struct hd_rule_table *t, uintptr_t ip, struct hd_unwind_rule rule) {
    size_t i = hd_rule_home(t->shift, ip);
    while (t->slots[i].ip && t->slots[i].ip != ip)
        i = (i + 1) & t->mask;
    if (t->slots[i].ip)
        return;
    t->slots[i].rule = rule;
    __atomic_store_n(&t->slots[i].ip, ip, __ATOMIC_RELEASE);
    t->used++;
}

/* The rule for a key (a return address, or an address | AT_ADDRESS) not in
 * the table yet. */
static __attribute__((noinline)) struct hd_unwind_rule learn(uintptr_t ip) {
    int saved = errno;   /* reading .eh_frame, the lock's wait and mmap may set it */
    struct hd_unwind_rule rule = hd_eh_frame_rule(ip & ~HD_RULE_AT_ADDRESS, (ip & HD_RULE_AT_ADDRESS) != 0);
    hd_lock();
    struct hd_rule_table *t = hd_rule_table_now;
    if (t && (t->used + 1) * 2 > t->mask + 1) {
        unsigned log2 = 64 - t->shift + 2;
        struct hd_rule_table *bigger = rule_table_new(log2);
        if (bigger) {
            for (size_t i = 0; i <= t->mask; i++)
                if (t->slots[i].ip)
                    rule_put(bigger, t->slots[i].ip, t->slots[i].rule);
            __atomic_store_n(&hd_rule_table_now, bigger, __ATOMIC_RELEASE);
            t = bigger;
        }
    }
    if (t && (t->used + 1) * 4 <= (t->mask + 1) * 3)
        rule_put(t, ip, rule);
    rules_learned++;
    hd_unlock();
    errno = saved;
    return rule;
}

struct hd_unwind_rule hd_rule_slow(uintptr_t key) {
    const struct hd_rule_table *t = hd_rules_now();
    struct hd_unwind_rule rule = t ? rule_find(t, key) : (struct hd_unwind_rule){.kind = HD_RULE_UNKNOWN};
    return rule.kind != HD_RULE_UNKNOWN ? rule : learn(key);
}

void hd_rules_init(unsigned log2) {
    hd_rule_table_now = rule_table_new(log2);
}

uint64_t hd_rules_learned(void) {
    return rules_learned;
}
