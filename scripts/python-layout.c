/* Prints the offsets libheapdiff.so reads in a CPython version's private
 * structures (struct hd_py_layout in Sources/HeapDiffRecorder/recorder.h),
 * as `field value` lines, from that version's own headers:
 *
 *   cc -I PREFIX/include/python3.X -o python-layout scripts/python-layout.c && ./python-layout
 *
 * The layouts in python_stack.c were written from this output, and a test
 * compares them with it for every interpreter whose headers are installed. */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <internal/pycore_runtime.h>
#include <internal/pycore_interp.h>
#include <internal/pycore_frame.h>
#include <internal/pycore_code.h>
#include <stddef.h>
#include <stdio.h>
#if PY_VERSION_HEX >= 0x030C0000
#include <internal/pycore_gil.h>
#endif

#define FIELD(name, value) printf("%s %zu\n", name, (size_t)(value))

int main(void) {
    printf("version %d.%d\n", PY_MAJOR_VERSION, PY_MINOR_VERSION);
#if PY_VERSION_HEX >= 0x030C0000
    FIELD("runtime_main_interpreter", offsetof(_PyRuntimeState, interpreters.main));
    FIELD("interpreter_gil", offsetof(PyInterpreterState, ceval.gil));
    FIELD("gil_locked", offsetof(struct _gil_runtime_state, locked));
    FIELD("gil_last_holder", offsetof(struct _gil_runtime_state, last_holder));
    FIELD("runtime_tss_initialized", offsetof(_PyRuntimeState, autoTSSkey._is_initialized));
    FIELD("runtime_tss_key", offsetof(_PyRuntimeState, autoTSSkey._key));
    FIELD("owner_cstack", FRAME_OWNED_BY_CSTACK);
#else
    FIELD("runtime_tstate_current", offsetof(_PyRuntimeState, gilstate.tstate_current));
    FIELD("runtime_tss_initialized", offsetof(_PyRuntimeState, gilstate.autoTSSkey._is_initialized));
    FIELD("runtime_tss_key", offsetof(_PyRuntimeState, gilstate.autoTSSkey._key));
    FIELD("frame_is_entry", offsetof(_PyInterpreterFrame, is_entry));
#endif
    FIELD("runtime_finalizing", offsetof(_PyRuntimeState, _finalizing));
    FIELD("tstate_cframe", offsetof(PyThreadState, cframe));
    FIELD("cframe_current_frame", offsetof(_PyCFrame, current_frame));
    FIELD("frame_code", offsetof(_PyInterpreterFrame, f_code));
    FIELD("frame_previous", offsetof(_PyInterpreterFrame, previous));
    FIELD("frame_prev_instr", offsetof(_PyInterpreterFrame, prev_instr));
    FIELD("frame_owner", offsetof(_PyInterpreterFrame, owner));
    FIELD("owner_generator", FRAME_OWNED_BY_GENERATOR);
    FIELD("code_filename", offsetof(PyCodeObject, co_filename));
    FIELD("code_qualname", offsetof(PyCodeObject, co_qualname));
    FIELD("code_linetable", offsetof(PyCodeObject, co_linetable));
    FIELD("code_firstlineno", offsetof(PyCodeObject, co_firstlineno));
    FIELD("code_firsttraceable", offsetof(PyCodeObject, _co_firsttraceable));
    FIELD("code_code", offsetof(PyCodeObject, co_code_adaptive));
    FIELD("str_state", offsetof(PyASCIIObject, state));
    FIELD("str_length", offsetof(PyASCIIObject, length));
    FIELD("ascii_size", sizeof(PyASCIIObject));
    FIELD("compact_utf8", offsetof(PyCompactUnicodeObject, utf8));
    FIELD("compact_utf8_length", offsetof(PyCompactUnicodeObject, utf8_length));
    FIELD("compact_size", sizeof(PyCompactUnicodeObject));
    FIELD("bytes_size", offsetof(PyBytesObject, ob_base.ob_size));
    FIELD("bytes_data", offsetof(PyBytesObject, ob_sval));
    return 0;
}
