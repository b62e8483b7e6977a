"""The plain leak test in Python: one snapshot after warm-up, one after the
load, then exit (whose snapshot comes from the interpreter's teardown).
Each request keeps a 1000-byte body (a 1033-byte bytes object) forever.
"fixed" keeps the last 64 (the fix); "one" takes only the snapshot after the
load; "phases" takes one after warm-up and after each of 4 loads."""
import ctypes
import gc
import sys

_snapshot = getattr(ctypes.CDLL(None), "heapdiff_snapshot", None)
mode = sys.argv[1] if len(sys.argv) > 1 else "leak"
bodies = [None] * 5000
recent = [None] * 64


def snapshot(label):
    if _snapshot:
        gc.collect()
        _snapshot(label.encode())


def handle(request):
    body = bytes(1000)  # @site body
    if mode == "fixed":
        recent[request % 64] = body
    else:
        bodies[request] = body


for request in range(100):
    handle(request)
if mode != "one":
    snapshot("warm")
loads = 4 if mode == "phases" else 1
for load in range(loads):
    for request in range(100 + 1000 * load, 1100 + 1000 * load):
        handle(request)
    snapshot("loaded" if loads == 1 else f"loaded {load}")
