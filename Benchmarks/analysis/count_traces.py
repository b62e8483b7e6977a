#!/usr/bin/env python3
"""Prints the number of TRACE records in a snapshot file (docs/FORMAT.md)."""
import struct
import sys

data = open(sys.argv[1], "rb").read()
assert data[:8] == b"HEAPSNAP", "not a snapshot"
offset = struct.unpack_from("<I", data, 12)[0]
traces = 0
while offset + 8 <= len(data):
    kind, length = struct.unpack_from("<II", data, offset)
    traces += kind == 3
    offset += 8 + length
print(traces)
