"""Two worker threads, each with its own growing list, and the main thread
waiting: every allocation must carry the Python stack of the thread that
made it."""
import sys
import threading

from heapdiff_phase import snapshot

ingest_log, render_cache = [], []


def ingest(count):
    for i in range(count):
        ingest_log.append(f"ingest-{i:08d}" * 4)  # @site ingest


def render(count):
    for i in range(count):
        render_cache.append(bytearray(300))  # @site render


def run(count):
    workers = [threading.Thread(target=ingest, args=(count,)), threading.Thread(target=render, args=(count,))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


run(int(sys.argv[1]))
snapshot("before")
run(int(sys.argv[2]))
snapshot("after")
