"""120,000 bytes objects of 100 bytes kept, so that the live-block table
grows and frees are noted before they are removed (pointer_table.c); then
half of them replaced by objects of 200 bytes and a quarter by objects of
100 bytes (pymalloc hands the block just freed straight back). Each line's
blocks are known exactly: a bytes object is one block of 33 + its length
bytes."""
import sys

from heapdiff_phase import snapshot

count = int(sys.argv[1])
kept = [None] * count
for i in range(count):
    kept[i] = bytes(100)  # @site fill
snapshot("before")
for i in range(0, count, 2):
    kept[i] = bytes(200)  # @site larger
for i in range(1, count, 4):
    kept[i] = bytes(100)  # @site same
snapshot("after")
