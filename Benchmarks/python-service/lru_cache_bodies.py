"""An lru_cache on a method keyed by `self` keeps every request's handler,
and with it the request body, alive: 700 calls, then a snapshot."""
import ctypes
import functools
import json
import sys


class Handler:
    def __init__(self, body):
        self.body = body

    @functools.lru_cache(maxsize=None)
    def summary(self):
        return json.loads(self.body)["user"]


for i in range(int(sys.argv[1]) if len(sys.argv) > 1 else 700):
    Handler(json.dumps({"user": i, "items": list(range(i % 50)), "text": "x" * 4096})).summary()
snapshot = getattr(ctypes.CDLL(None), "heapdiff_snapshot", None)
if snapshot:
    snapshot(b"after the requests")
