#!/usr/bin/env python3
"""Prints the number of stacks in a snapshot file (docs/FORMAT.md): TRACE
records in format 1, STACKS entries in format 2."""
import struct
import sys


def varint(data, offset):
    value = shift = 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, offset


data = open(sys.argv[1], "rb").read()
assert data[:8] == b"HEAPSNAP", "not a snapshot"
version, offset = struct.unpack_from("<II", data, 8)
traces = 0
while offset + 8 <= len(data):
    kind, length = struct.unpack_from("<II", data, offset)
    if version == 1 and kind == 3:
        traces += 1
    elif version >= 2 and kind == 9:
        traces += varint(data, offset + 8)[0]
    offset += 8 + length
print(traces)
