/*
 * heapdiff's C API for traced programs.
 *
 * A program run under heapdiff (LD_PRELOAD=libheapdiff.so) can take a
 * snapshot of its live heap at a moment of its choosing, for example once per
 * iteration of a workload in a leak test. It need not link against heapdiff:
 * heapdiff_snapshot_if_traced() below finds the function at run time and does
 * nothing when the program runs without the recorder.
 */
#ifndef HEAPDIFF_H
#define HEAPDIFF_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Writes a snapshot of the live heap, labelled LABEL (may be NULL), into
 * HEAPDIFF_OUTPUT. Synchronous: returns 0 once the file is complete and
 * renamed into place, -1 if it could not be written (the reason is printed
 * on stderr once).
 */
int heapdiff_snapshot(const char *label);

#ifdef __cplusplus
}
#endif

/* Header-only helper: calls heapdiff_snapshot when the recorder is loaded.
 * Returns 1 when there is no recorder, else heapdiff_snapshot's result.
 * Define HEAPDIFF_NO_HELPERS to leave it out (it needs <dlfcn.h>). */
#ifndef HEAPDIFF_NO_HELPERS
#include <dlfcn.h>
static inline int heapdiff_snapshot_if_traced(const char *label) {
    int (*fn)(const char *) = (int (*)(const char *))dlsym(RTLD_DEFAULT, "heapdiff_snapshot");
    return fn ? fn(label) : 1;
}
#endif

#endif /* HEAPDIFF_H */
