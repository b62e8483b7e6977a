"""A leak test: run under `heapdiff check -- python3 -m pytest`, it fails
naming the line that keeps growing; run plainly, it just passes."""
import ctypes
import gc

from session_store import SessionStore

_snapshot = getattr(ctypes.CDLL(None), "heapdiff_snapshot", None)


def snapshot(label):
    """A heapdiff snapshot after collecting cyclic garbage; no-op untraced."""
    if _snapshot is not None:
        gc.collect()
        _snapshot(label.encode())


def test_store_memory_is_bounded():
    store = SessionStore()
    for phase in range(4):  # phase 0 warms up: `heapdiff check` drops its snapshot
        for i in range(500):
            store.handle(f"user{i % 80}", b"x" * 1000)
        snapshot(f"phase {phase}")
