/* proc_maps.c: /proc/self/maps, for the protection of a page. */
#ifndef HEAPDIFF_PROC_MAPS_H
#define HEAPDIFF_PROC_MAPS_H

#include <stddef.h>
#include <stdint.h>
#include "common.h"

/* The text, in pages of the recorder's own (hd_pages_free gives them back). */
struct hd_maps {
    char *text;
    size_t length, capacity;
};
/* Reads the file (again); false when it cannot be read. */
bool hd_maps_load(struct hd_maps *m) HD_HIDDEN;
/* PROT_* of the mapping that holds address, -1 when none does. */
int hd_maps_protection(const struct hd_maps *m, uintptr_t address) HD_HIDDEN;

#endif
