"""Paths built to break a cache of whole Python stacks: one allocating line
reached from two lines of the same caller in turn, through recursion whose
depth changes every round, from a generator, and from code compiled again
and again with other line numbers. Every call keeps one 1000-byte bytes
object, so each path's count is known exactly."""
import sys

from heapdiff_phase import snapshot

SIZE = 1000
kept = []


def make():
    kept.append(bytes(SIZE))  # @site make


def alternate(i):
    if i % 2:
        make()  # @site odd
    else:
        make()  # @site even


def recurse(depth):
    if depth:
        recurse(depth - 1)  # @site recurse
    else:
        make()  # @site bottom


def producer():
    while True:
        make()  # @site generator
        yield


codes = []


def compiled(k):
    # Line k + 1 of a code object made for this call alone. Kept alive: a
    # code object that takes a dead one's address with a line table at the
    # dead one's address is not told apart (python_code.c).
    code = compile("\n" * k + "make()", "<compiled>", "exec")
    exec(code, {"make": make})  # @site exec
    codes.append(code)


def rounds(first, count, generator):
    for i in range(first, first + count):
        # Back to back, so that each follows a stack that differs only
        # in outer frames.
        alternate(i)  # @site alternate
        alternate(i + 1)  # @site alternate_next
        recurse(i % 5)  # @site recurse_top
        recurse((i + 2) % 5)  # @site recurse_next
        next(generator)  # @site next
        compiled(i % 3)  # @site compiled


generator = producer()
warmup, requests = int(sys.argv[1]), int(sys.argv[2])
rounds(0, warmup, generator)
snapshot("before")
rounds(warmup, requests, generator)  # @site rounds_after
snapshot("after")
