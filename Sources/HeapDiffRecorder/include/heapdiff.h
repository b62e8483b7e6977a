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

/*
 * Until the matching heapdiff_resume, the calling thread's new blocks go
 * unrecorded, while its frees and reallocs still forget the blocks the
 * recorder knows: for work in the process that is not the program's, such
 * as a test harness reading snapshots of the process it measures
 * (HeapDiffTesting's judge). A block made while paused is unknown, as one
 * made before the recorder started. Pauses nest: heapdiff_pause returns
 * what heapdiff_resume takes back; other threads go on being recorded.
 * Not for signal handlers, whose pause could be lost.
 */
int heapdiff_pause(void);
void heapdiff_resume(int was_paused);

#ifdef __cplusplus
}
#endif

/* Header-only helpers. Define HEAPDIFF_NO_HELPERS to leave them out (they
 * need <dlfcn.h> and <stdio.h>). */
#ifndef HEAPDIFF_NO_HELPERS
#include <dlfcn.h>
#include <stdio.h>

/* Calls heapdiff_snapshot when the recorder is loaded. Returns 1 when there
 * is no recorder, else heapdiff_snapshot's result. */
static inline int heapdiff_snapshot_if_traced(const char *label) {
    int (*fn)(const char *) = (int (*)(const char *))dlsym(RTLD_DEFAULT, "heapdiff_snapshot");
    return fn ? fn(label) : 1;
}

/* heapdiff_pause and heapdiff_resume when the recorder is loaded; without
 * it the pause returns 0 and the resume does nothing. */
static inline int heapdiff_pause_if_traced(void) {
    int (*fn)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "heapdiff_pause");
    return fn ? fn() : 0;
}
static inline void heapdiff_resume_if_traced(int was_paused) {
    void (*fn)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "heapdiff_resume");
    if (fn)
        fn(was_paused);
}

/* The body of a leak test: runs WORKLOAD(CONTEXT) ITERATIONS times per
 * phase, PHASES times, with a snapshot labelled "phase N" after each phase.
 * Under `heapdiff check -- ./test`, a call site that keeps growing from
 * phase to phase fails the test; the first phase is the warm-up. */
static inline void heapdiff_run_phases(int phases, int iterations, void (*workload)(void *), void *context) {
    for (int phase = 0; phase < phases; phase++) {
        for (int i = 0; i < iterations; i++)
            workload(context);
        char label[32];
        snprintf(label, sizeof label, "phase %d", phase);
        heapdiff_snapshot_if_traced(label);
    }
}

#ifdef __cplusplus
namespace heapdiff {
/* C++: heapdiff::run_phases(5, 1000, [&] { cache.get(key()); }); */
template <typename Workload>
inline void run_phases(int phases, int iterations, Workload &&workload) {
    heapdiff_run_phases(phases, iterations, [](void *w) { (*static_cast<Workload *>(w))(); },
                        static_cast<void *>(&workload));
}
}  // namespace heapdiff
#endif
#endif

#endif /* HEAPDIFF_H */
