"""A dict that one line creates and drops, and the next line takes back from
CPython's dict free list and keeps: the kept dicts are the leak, and belong
to the keeping line (3.13+, where a reference tracer reports reuse; before,
they stay with the line that first allocated their memory)."""
import sys

from heapdiff_phase import snapshot


def churn(keep, first, count):
    for i in range(first, first + count):
        scratch = {"id": i, "kind": "scratch"}  # @site scratch
        keep[i] = {}  # @site keep


warmup, requests = int(sys.argv[1]), int(sys.argv[2])
kept = [None] * (warmup + requests)
churn(kept, 0, warmup)
snapshot("before")
churn(kept, warmup, requests)
snapshot("after")
