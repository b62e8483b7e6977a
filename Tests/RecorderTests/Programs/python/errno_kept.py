"""errno across CPython's allocator domains under the recorder: each call
into PyMem_Malloc, PyMem_Calloc, PyObject_Malloc, PyObject_Calloc,
PyObject_Realloc and PyObject_Free is made with errno set to a marker
(ctypes' private copy, swapped in and out around the call), which the call
must leave as it was: the recorder's wrappers record without touching it. Sizes run across pymalloc's small
blocks and the large ones it hands to the raw domain. Exits 3 on the first
change, naming the call."""
import ctypes
import sys

MARKER = 1234
api = ctypes.PyDLL(None, use_errno=True)   # the GIL held, as the domains' callers hold it
for name in ("PyMem_Malloc", "PyObject_Malloc"):
    getattr(api, name).restype = ctypes.c_void_p
    getattr(api, name).argtypes = [ctypes.c_size_t]
for name in ("PyMem_Calloc", "PyObject_Calloc"):
    getattr(api, name).restype = ctypes.c_void_p
    getattr(api, name).argtypes = [ctypes.c_size_t, ctypes.c_size_t]
api.PyObject_Realloc.restype = ctypes.c_void_p
api.PyObject_Realloc.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
for name in ("PyMem_Free", "PyObject_Free"):
    getattr(api, name).restype = None
    getattr(api, name).argtypes = [ctypes.c_void_p]


def call(name, *arguments):
    ctypes.set_errno(MARKER)
    result = getattr(api, name)(*arguments)
    if ctypes.get_errno() != MARKER:
        print(f"{name}{arguments}: errno {ctypes.get_errno()}", file=sys.stderr)
        sys.exit(3)
    return result


def main(rounds):
    for i in range(rounds):
        size = 8 + (i * 37) % 2000
        block = call("PyObject_Malloc", size)
        block = call("PyObject_Realloc", block, size * 2)
        call("PyObject_Free", block)
        block = call("PyMem_Malloc", size)
        call("PyMem_Free", block)
        block = call("PyObject_Calloc", 1 + i % 7, size)
        call("PyObject_Free", block)
        block = call("PyMem_Calloc", 1 + i % 5, size)
        call("PyMem_Free", block)
    print("ok")


main(int(sys.argv[1]))
