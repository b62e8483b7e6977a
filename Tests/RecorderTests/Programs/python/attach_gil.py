# Holds the GIL in C code on request: "hold N" on stdin makes the main
# thread call libc's sleep(N) through ctypes.PyDLL, which does not release
# the GIL, so no other thread (heapdiff attach's among them) gets it for N
# seconds. A worker thread keeps small objects meanwhile.
import ctypes
import sys
import threading
import time

libc = ctypes.PyDLL(None)
kept = []
stop = threading.Event()


def work():
    while not stop.is_set():
        kept.append("entry %05d" % len(kept))  # @site kept
        time.sleep(0.002)


worker = threading.Thread(target=work)
worker.start()
print("ready", flush=True)
for command in sys.stdin:
    print("holding", flush=True)  # the test attaches once it reads this
    libc.sleep(int(command.split()[1]))
    print("held", flush=True)
stop.set()
worker.join()
print("done: %s" % all(entry == "entry %05d" % index for index, entry in enumerate(kept)))
