/* snapshot_writer.c's entry point (its internals: snapshot_writer.h). */
#ifndef HEAPDIFF_SNAPSHOT_H
#define HEAPDIFF_SNAPSHOT_H

#include "common.h"

/* Writes one snapshot file into the output directory, or its helpers
 * subfolder; the caller holds the writer lock (not hd_lock) and the guard.
 * Returns 0 with the file's path in text, or -1 (after one warning, and a
 * notice to `heapdiff run`) with the reason in text. */
int hd_snapshot_write(bool to_helpers, uint32_t seq, uint32_t trigger, const char *label, char *text,
                      size_t text_cap) HD_HIDDEN;
extern uint64_t hd_start_monotonic_ns HD_HIDDEN;
extern char hd_program_name[256] HD_HIDDEN;
/* Sets hd_program_name once, before main() when preloaded (program_name.c). */
void hd_program_name_init(void) HD_HIDDEN;

#endif
