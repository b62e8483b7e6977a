# Run by loads_libpython.c, whose interpreter heapdiff finds only after it
# has started: the recorder looks once a second, then the main thread wraps
# the allocator domains at its next pending-call check (this loop), or when
# the script runs on another thread, a thread of the recorder's does, 3 s
# later, when this loop lets go of the GIL.
import time

deadline = time.monotonic() + 6
while time.monotonic() < deadline:
    time.sleep(0.01)

small = [("%05d" % i) * 4 for i in range(1000)]  # @site small
large = [bytearray(5000) for i in range(40)]  # @site large
print(len(small), len(large))
