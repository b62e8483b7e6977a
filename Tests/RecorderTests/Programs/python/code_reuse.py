"""One-line functions compiled afresh every round from two sites in turn,
each under a file name of its own, each keeping one bytearray. The code
objects are dropped at once, so the next one takes a dead one's address
(pymalloc hands the freed block back); before 3.11 every one of them shares
the empty line table, from 3.11 its line table takes the dead one's too.
With "keep-names", the file names are kept alive, so that a code object
must be told from a dead one at its address by its line table, file name
and qualified name objects and first line (python_code.c); without it the
names die with their code objects and a new name can take a dead one's
address too, so that only the code object's death tells them apart. Prints
how many code objects, and how many file names, took an address seen
before."""
import sys

from heapdiff_phase import snapshot

kept, names, addresses, name_addresses = [], [], set(), set()
reused = names_reused = 0
keep_names = sys.argv[2:] == ["keep-names"]


def run(site, size, i):
    global reused, names_reused
    name = f"{site}_{i}.py"  # same size class each round: pymalloc can hand a dead name's block back
    if keep_names:
        names.append(name)
    namespace = {}
    exec(compile(f"def f(): return bytearray({size})", name, "exec"), namespace)
    del name
    f = namespace.pop("f")
    reused += id(f.__code__) in addresses
    addresses.add(id(f.__code__))
    names_reused += id(f.__code__.co_filename) in name_addresses
    name_addresses.add(id(f.__code__.co_filename))
    kept.append(f())


rounds = int(sys.argv[1])
snapshot("before")
for i in range(rounds):
    run("a", 1000, i)  # @site a
    run("bb", 3000, i)  # @site bb
snapshot("after")
print(reused, names_reused)
