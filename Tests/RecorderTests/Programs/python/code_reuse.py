"""One-line functions compiled afresh every round from two sites in turn,
each under a file name of its own, each keeping one bytearray. The code
objects are dropped at once, so the next one takes a dead one's address
(pymalloc hands the freed block back); before 3.11 every one of them shares
the empty line table, from 3.11 its line table takes the dead one's too.
The file names are kept alive: a code object is told from a dead one at its
address by its line table, file name and qualified name objects and first
line (python_code.c), not by the names' text. Prints how many code objects
took an address seen before."""
import sys

from heapdiff_phase import snapshot

kept, names, addresses = [], [], set()
reused = 0


def run(site, size, i):
    global reused
    names.append(f"{site}_{i}.py")
    namespace = {}
    exec(compile(f"def f(): return bytearray({size})", names[-1], "exec"), namespace)
    f = namespace.pop("f")
    reused += id(f.__code__) in addresses
    addresses.add(id(f.__code__))
    kept.append(f())


rounds = int(sys.argv[1])
snapshot("before")
for i in range(rounds):
    run("a", 1000, i)  # @site a
    run("bb", 3000, i)  # @site bb
snapshot("after")
print(reused)
