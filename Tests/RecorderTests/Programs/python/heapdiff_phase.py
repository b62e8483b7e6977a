"""The pattern for marking phases from Python: heapdiff_snapshot() is
exported by the preloaded recorder, so ctypes finds it in the process's
own symbols; without heapdiff the calls do nothing. Cyclic garbage is
collected first, so what the collector has not reached yet is not counted
as growth."""
import ctypes
import gc

_snapshot = getattr(ctypes.CDLL(None), "heapdiff_snapshot", None)


def snapshot(label):
    if _snapshot is not None:
        gc.collect()
        _snapshot(label.encode())
