# A Python service that runs without heapdiff until `heapdiff attach` joins
# it: three threads serve REQUESTS requests each (argument 1, default 4000),
# one every 2 ms. Each request keeps a response in a dict that is never
# drained (the leak), builds a scratch buffer it drops, and remembers its
# key in a bounded deque. The objects are larger than 512 bytes, so pymalloc
# passes them to malloc, where an attached recorder sees them.
import collections
import sys
import threading
import time

REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
lock = threading.Lock()
table = {}
recent = collections.deque(maxlen=64)


def serve(worker, request):
    scratch = bytearray(4096)  # @site scratch
    scratch[0] = request % 256
    key = "/item/%d/%05d" % (worker, request)
    response = bytes([97 + request % 26]) * (600 + request % 64)  # @site response
    with lock:
        table[key] = response
        recent.append(key.encode() * 40)  # @site recent


def work(worker):
    for request in range(REQUESTS):
        serve(worker, request)
        time.sleep(0.002)


threads = [threading.Thread(target=work, args=(worker,)) for worker in range(3)]
for thread in threads:
    thread.start()
print("ready", flush=True)
for thread in threads:
    thread.join()
kept = sum(len(value) for value in table.values())
print("served %d requests: %d bytes kept, %d recent" % (len(table), kept, len(recent)))
