# A Python service whose leak is made of small objects, the ones pymalloc
# serves (512 bytes or less): three threads serve a request every 2 ms
# until stdin closes (or, with argument 1, that many requests each), and
# each request keeps a short log line in its worker's list, never drained
# (the leak). A scratch list is dropped, and the last 64 keys are kept in
# a bounded deque. At the end every log line is checked, and the size of
# one line's block is printed (sys.getsizeof of a str is its block's size),
# which the test expects as the row's average.
import collections
import sys
import threading
import time

REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else None
logs = [[], [], []]
lock = threading.Lock()
recent = collections.deque(maxlen=64)
stop = threading.Event()


def expected(worker, request):
    return "GET /item/%d/%05d HTTP/1.1 %03d" % (worker, request, 200 + request % 5)


def serve(worker, request):
    key = "/item/%d/%05d" % (worker, request)
    scratch = [key] * 20  # @site scratch
    line = "GET %s HTTP/1.1 %03d" % (key, 200 + request % 5)  # @site line
    logs[worker].append(line)  # @site append
    with lock:
        recent.append(key + "!")  # @site recent
    return len(scratch)


def work(worker):
    request = 0
    while not stop.is_set() and request != REQUESTS:
        serve(worker, request)
        request += 1
        time.sleep(0.002)


threads = [threading.Thread(target=work, args=(worker,)) for worker in range(3)]
for thread in threads:
    thread.start()
print("ready", flush=True)
if REQUESTS is None:
    sys.stdin.read()
    stop.set()
for thread in threads:
    thread.join()
intact = all(line == expected(worker, request) for worker, log in enumerate(logs) for request, line in enumerate(log))
print("served: log lines intact: %s, %d bytes each, %d recent" % (intact, sys.getsizeof(logs[0][0]), len(recent)))
