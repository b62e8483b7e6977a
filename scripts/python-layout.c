/* Prints the offsets libheapdiff.so reads in a CPython version's private
 * structures (struct hd_py_layout in Sources/HeapDiffRecorder/recorder.h),
 * as `field value` lines, from that version's own headers:
 *
 *   cc -I PREFIX/include/python3.X -o python-layout scripts/python-layout.c && ./python-layout
 *
 * The layouts in python_layout.c were written from this output, and a test
 * compares them with it for every interpreter whose headers are installed.
 * From 3.13 on the recorder reads most offsets from the interpreter's own
 * _Py_DebugOffsets at run time; only what that table does not publish is
 * printed (and kept by hand) for those versions. */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <stdio.h>
#if PY_VERSION_HEX >= 0x03090000
#include <internal/pycore_runtime.h>
#else
#include <internal/pycore_pystate.h>
#endif
#if PY_VERSION_HEX >= 0x030B0000
#include <internal/pycore_interp.h>
#include <internal/pycore_frame.h>
#include <internal/pycore_code.h>
#else
#include <frameobject.h>
#endif
#if PY_VERSION_HEX >= 0x030C0000
#include <internal/pycore_gil.h>
#endif

#define FIELD(name, value) printf("%s %zu\n", name, (size_t)(value))

int main(void) {
    printf("version %d.%d\n", PY_MAJOR_VERSION, PY_MINOR_VERSION);
#if PY_VERSION_HEX >= 0x030D0000
    /* Not in _Py_DebugOffsets. */
    FIELD("code_firsttraceable", offsetof(PyCodeObject, _co_firsttraceable));
    FIELD("owner_generator", FRAME_OWNED_BY_GENERATOR);
    FIELD("owner_cstack", FRAME_OWNED_BY_CSTACK);
    FIELD("gc_head_size", sizeof(PyGC_Head));
    return 0;
#else
    /* Who holds the GIL, and this thread's own thread state. */
#if PY_VERSION_HEX >= 0x030C0000
    FIELD("runtime_main_interpreter", offsetof(_PyRuntimeState, interpreters.main));
    FIELD("interpreter_gil", offsetof(PyInterpreterState, ceval.gil));
    FIELD("gil_locked", offsetof(struct _gil_runtime_state, locked));
    FIELD("gil_last_holder", offsetof(struct _gil_runtime_state, last_holder));
    FIELD("runtime_tss_initialized", offsetof(_PyRuntimeState, autoTSSkey._is_initialized));
    FIELD("runtime_tss_key", offsetof(_PyRuntimeState, autoTSSkey._key));
#else
    FIELD("runtime_tstate_current", offsetof(_PyRuntimeState, gilstate.tstate_current));
    FIELD("runtime_tss_initialized", offsetof(_PyRuntimeState, gilstate.autoTSSkey._is_initialized));
    FIELD("runtime_tss_key", offsetof(_PyRuntimeState, gilstate.autoTSSkey._key));
#endif
#if PY_VERSION_HEX >= 0x03090000
    FIELD("runtime_finalizing", offsetof(_PyRuntimeState, _finalizing));
#else
    FIELD("runtime_finalizing", offsetof(_PyRuntimeState, finalizing));
#endif

    /* Frames. */
#if PY_VERSION_HEX >= 0x030B0000
    /* The innermost frame is tstate->cframe->current_frame. */
    FIELD("tstate_frame", offsetof(PyThreadState, cframe));
    FIELD("cframe_current_frame", offsetof(_PyCFrame, current_frame));
    FIELD("frame_code", offsetof(_PyInterpreterFrame, f_code));
    FIELD("frame_previous", offsetof(_PyInterpreterFrame, previous));
    FIELD("frame_prev_instr", offsetof(_PyInterpreterFrame, prev_instr));
    FIELD("frame_owner", offsetof(_PyInterpreterFrame, owner));
    FIELD("owner_generator", FRAME_OWNED_BY_GENERATOR);
#if PY_VERSION_HEX >= 0x030C0000
    FIELD("owner_cstack", FRAME_OWNED_BY_CSTACK);
#else
    FIELD("frame_is_entry", offsetof(_PyInterpreterFrame, is_entry));
#endif
    FIELD("code_firsttraceable", offsetof(PyCodeObject, _co_firsttraceable));
    FIELD("code_code", offsetof(PyCodeObject, co_code_adaptive));
    FIELD("code_qualname", offsetof(PyCodeObject, co_qualname));
    FIELD("code_linetable", offsetof(PyCodeObject, co_linetable));
#else
    /* PyFrameObjects, each run by its own call of the eval loop; f_lasti
     * counts bytes before 3.10, code units from 3.10. */
    FIELD("tstate_frame", offsetof(PyThreadState, frame));
    FIELD("frame_code", offsetof(PyFrameObject, f_code));
    FIELD("frame_previous", offsetof(PyFrameObject, f_back));
    FIELD("frame_lasti", offsetof(PyFrameObject, f_lasti));
    /* No co_qualname before 3.11: the frame shows co_name. */
    FIELD("code_qualname", offsetof(PyCodeObject, co_name));
#if PY_VERSION_HEX >= 0x030A0000
    FIELD("code_linetable", offsetof(PyCodeObject, co_linetable));
#else
    FIELD("code_linetable", offsetof(PyCodeObject, co_lnotab));
#endif
#endif
    FIELD("code_filename", offsetof(PyCodeObject, co_filename));
    FIELD("code_firstlineno", offsetof(PyCodeObject, co_firstlineno));

    /* The str and bytes objects a code object names itself with. */
    FIELD("str_state", offsetof(PyASCIIObject, state));
    FIELD("str_length", offsetof(PyASCIIObject, length));
    FIELD("ascii_size", sizeof(PyASCIIObject));
    FIELD("compact_size", sizeof(PyCompactUnicodeObject));
    FIELD("bytes_size", offsetof(PyBytesObject, ob_base.ob_size));
    FIELD("bytes_data", offsetof(PyBytesObject, ob_sval));
    return 0;
#endif
}
