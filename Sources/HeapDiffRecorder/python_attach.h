/* python_attach.c: heapdiff attach wraps CPython's allocator domains
 * holding the interpreter's GIL, and gives them back at detach. */
#ifndef HEAPDIFF_PYTHON_ATTACH_H
#define HEAPDIFF_PYTHON_ATTACH_H

#include "common.h"

/* What became of the domains, as the session reports it. */
enum hd_py_domains {
    HD_PY_DOMAINS_NONE,         /* not a CPython whose frames are read */
    HD_PY_DOMAINS_WRAPPED,
    HD_PY_DOMAINS_GIVEN_BACK,
    HD_PY_DOMAINS_KEPT,         /* given back, but one stays under another wrapper */
    HD_PY_DOMAINS_NOT_RUNNING,  /* not initialized, or finalizing */
    HD_PY_DOMAINS_GIL_BUSY,     /* the GIL was not free within the wait */
};
/* Wraps (wrap) or gives back the domains holding the interpreter's GIL,
 * taken with PyGILState_Ensure by a thread of ours; waits at most
 * wait_ms for it. A thread still waiting when the time is up does what
 * the last request wanted once it gets the GIL: wrapping is then off. */
enum hd_py_domains hd_python_domains(bool wrap, unsigned wait_ms) HD_HIDDEN;
/* Asks a thread of ours to wrap the domains whenever it gets the GIL, and
 * returns at once (python_late.c); false when none was started. */
bool hd_python_domains_unwatched(void) HD_HIDDEN;
/* The word for the session's status line. */
const char *hd_python_domains_word(enum hd_py_domains d) HD_HIDDEN;
void hd_python_domains_forked(void) HD_HIDDEN;

#endif
