"""A handler whose functools.lru_cache on a method is keyed by `self`, so
each request's handler, and with it its 1 MiB body, stays alive; plus a
list of zlib-compressed payloads that only grows (a C extension allocating
for a Python line). Controls: a whole file read and released, and an LRU
cache with a TTL that stays bounded."""
import functools
import os
import sys
import tempfile
import time
import zlib
from collections import OrderedDict

from heapdiff_phase import snapshot

BODY_SIZE = 1 << 20
archive = []


class Handler:
    def __init__(self, body):
        self.body = body

    @functools.lru_cache(maxsize=None)
    def checksum(self):
        return zlib.crc32(self.body)


class TTLCache:
    def __init__(self, capacity, ttl):
        self.capacity, self.ttl, self.items = capacity, ttl, OrderedDict()

    def put(self, key, value):
        self.items[key] = (time.monotonic() + self.ttl, value)
        self.items.move_to_end(key)
        while len(self.items) > self.capacity:
            self.items.popitem(last=False)


def read_whole_file(path):
    with open(path, "rb") as f:
        data = f.read()
    return zlib.crc32(data)


def serve(request_id, sessions, path):
    body = bytes(BODY_SIZE)  # @site request_body
    handler = Handler(body)
    handler.checksum()
    archive.append(zlib.compress(os.urandom(2048)))  # @site compressed
    sessions.put(request_id % 64, {"id": request_id, "token": os.urandom(16).hex()})
    return read_whole_file(path)


def main(warmup, requests):
    sessions = TTLCache(32, 60.0)
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(os.urandom(256 * 1024))
    for i in range(warmup):
        serve(i, sessions, f.name)
    snapshot("before")
    for i in range(warmup, warmup + requests):
        serve(i, sessions, f.name)
    snapshot("after")
    os.unlink(f.name)


main(int(sys.argv[1]), int(sys.argv[2]))
