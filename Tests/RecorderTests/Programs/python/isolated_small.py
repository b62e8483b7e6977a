"""Run with -I (isolated: no PYTHON* variables, no script directory on
sys.path): 20,000 small bytes objects, which pymalloc serves from its
arenas, kept on one line. Prints what the program itself sees of its
allocator: PYTHONMALLOC in its environment, whether pymalloc serves blocks,
and the size of one object."""
import ctypes
import gc
import os
import sys

_snapshot = getattr(ctypes.CDLL(None), "heapdiff_snapshot", None)


def snapshot(label):
    if _snapshot is not None:
        gc.collect()
        _snapshot(label.encode())


count = int(sys.argv[1])
kept = [None] * count
snapshot("before")
for i in range(count):
    kept[i] = bytes(40)  # @site small
snapshot("after")
print(os.environ.get("PYTHONMALLOC", "unset"), sys.getallocatedblocks() > 0, sys.getsizeof(kept[0]), sys.flags.isolated)
