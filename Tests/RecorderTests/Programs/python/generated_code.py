"""Objects built by generated code: a dataclass's __init__ and a
namedtuple's __new__ are compiled from strings (file "<string>"), so the
line that constructs them is where the memory is charged."""
import sys
from collections import namedtuple
from dataclasses import dataclass, field

from heapdiff_phase import snapshot


@dataclass
class Session:
    user: int
    tags: list = field(default_factory=list)
    history: dict = field(default_factory=dict)


Point = namedtuple("Point", "x y label")
sessions, points = [], []


def serve(first, count):
    for i in range(first, first + count):
        sessions.append(Session(i))  # @site dataclass
        points.append(Point(i, -i, f"p{i}"))  # @site namedtuple


warmup, requests = int(sys.argv[1]), int(sys.argv[2])
serve(0, warmup)
snapshot("before")
serve(warmup, requests)
snapshot("after")
