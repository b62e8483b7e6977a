"""Blocks that reach their size by realloc, for sampled recording at 64 KiB.
Each bytearray starts as 2 bytes from pymalloc and is extended past the rate
in one step: CPython then reallocates to exactly the size asked plus one,
1 MiB + 2 bytes, a realloc of a block sampling never recorded. Half of them
grow once more, to 2 MiB + 2: a realloc of a block it did record."""
import sys

from heapdiff_phase import snapshot

MIB = 1 << 20


def grow(count):
    kept = []
    for _ in range(count):
        block = bytearray(b"x")
        block.extend(bytes(MIB))  # @site grown
        kept.append(block)
    for block in kept[: count // 2]:
        block.extend(bytes(MIB))  # @site grown_again
    return kept


snapshot("before")
kept = grow(int(sys.argv[1]))
snapshot("after")
